"""K candidate latents from one forward pass of P, and the choice among them (beyond the paper).

Why: a P trained with Eq. 7 regresses to the z that is best on average over the completions a
large hole allows, while Yeh et al.'s search commits to one (issue 13). A P with K heads
(`PriorPredictorConfig.num_candidates`) proposes K latents at once; training lets only the best
one per image learn (`pgi_tf.losses.best_of_candidates`), so the heads spread over the
completions; at inference all K go through G as one batch and the candidate with the lowest

    Eq. 4 + λ1 · Eq. 5        (the criterion the search minimises, on P's own scale)

is pasted with Eq. 8. Or all K are returned, ordered by that score (pluralistic completion).

Shapes: z candidates [N, K, d]; per-candidate tensors are flattened example-major to [N * K, ...]
(candidate k of example n at row n * K + k).
"""

from __future__ import annotations

import tensorflow as tf

from pgi_tf import losses


def count(z) -> int:
  """K of P's output: 1 for z [N, d], K for z [N, K, d]."""
  return 1 if z.shape.rank == 2 else int(z.shape[1])


def flatten(values: tf.Tensor) -> tf.Tensor:
  """[N, K, ...] -> [N * K, ...] (example-major); static trailing sizes stay static (G's z_dim)."""
  tail = values.shape[2:]
  if tail.is_fully_defined():
    return tf.reshape(values, [-1, *tail.as_list()])
  return tf.reshape(values, tf.concat([[-1], tf.shape(values)[2:]], axis=0))


def repeat(values, k: int):
  """[N, ...] -> [N * K, ...]: each example repeated K times in a row; None stays None."""
  return None if values is None else tf.repeat(values, k, axis=0)


def unflatten(values: tf.Tensor, k: int) -> tf.Tensor:
  """[N * K, ...] -> [N, K, ...]."""
  return tf.reshape(values, tf.concat([[-1, k], tf.shape(values)[1:]], axis=0))


def scores(*, masked_images, masks, generated_images, k: int, fake_logits=None,
           lambda_realism: float = 0.0, decay: float = 0.99) -> tf.Tensor:
  """Eq. 4 (+ λ1 · Eq. 5) of every candidate, [N, K]; lower is better. `decay` is Eq. 3's base,
  the one P was trained with (its metadata's contextual_decay).

  masked_images, masks: [N, H, W, C], [N, H, W, 1]; generated_images: [N * K, H, W, C];
  fake_logits: D's logits on them [N * K] (only read when lambda_realism != 0)."""
  masks = tf.cast(masks, tf.float32)
  masks_k = repeat(masks, k)
  score = losses.contextual_loss(target_images=repeat(masked_images, k), generated_images=generated_images,
                                 weights=losses.contextual_weights(masks_k, decay=decay), masks=masks_k)
  if fake_logits is not None and lambda_realism:
    score += lambda_realism * losses.photo_realism_loss(fake_logits=fake_logits)
  return unflatten(score, k)


def choose(values: tf.Tensor, candidate_scores: tf.Tensor) -> tf.Tensor:
  """values [N, K, ...] at each example's lowest score -> [N, ...]."""
  best = tf.argmin(candidate_scores, axis=1, output_type=tf.int32)
  return tf.gather(values, best, axis=1, batch_dims=1)


def order(values: tf.Tensor, candidate_scores: tf.Tensor) -> tf.Tensor:
  """values [N, K, ...] sorted per example from the lowest score to the highest."""
  ranks = tf.argsort(candidate_scores, axis=1, stable=True)
  return tf.gather(values, ranks, axis=1, batch_dims=1)
