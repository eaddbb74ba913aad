"""The one P -> G path under every conditioning, used by the Inpainter, the end-to-end export
and the stage-2 trainer (its loss and its sample grids).

  M_z                       z = P(I_d, M),     G(z)
  M_{z+S} (§4.2)            z = P(I_d, M, S),  G(z, S),  D(x, S)
  class-conditional (§6.3.3) z = P(I_d, M, y), G(z, y),  D(x)   (y one-hot; D never sees y:
                                                                critics and compare_gan's D
                                                                are unconditional)

`conditions` is S or y ([N, c]) or None for M_z. A P with K candidate heads (z [N, K, d],
`pgi_tf.inference.candidates`) sends all K through G as one batch and keeps the best-scoring one.
"""

from __future__ import annotations

from typing import Callable

import tensorflow as tf

from pgi_tf.inference import candidates


def predict_z(prior_predictor: Callable, masked_images, masks, conditions=None, *, training: bool = False):
  """z = P(I_d, M) or P(I_d, M, c)."""
  inputs = [masked_images, masks] if conditions is None else [masked_images, masks, conditions]
  return prior_predictor(inputs, training=training) if training else prior_predictor(inputs)


def generate(generator: Callable, z, conditions=None) -> tf.Tensor:
  """G(z) or G(z, c)."""
  return generator(z) if conditions is None else generator([z, conditions])


def discriminate(discriminator: Callable, images, conditions=None, *, class_conditional: bool = False):
  """D's logits: D(x, S) under a structural prior, D(x) otherwise (never the class)."""
  if conditions is None or class_conditional:
    return discriminator(images)
  return discriminator([images, conditions])


def fill(prior_predictor: Callable, generator: Callable, masked_images, masks, conditions=None, *,
         training: bool = False, discriminator: Callable | None = None, lambda_realism: float = 0.0,
         class_conditional: bool = False, decay: float | None = None) -> tuple[tf.Tensor, tf.Tensor]:
  """(G(P(I_d, M[, c])[, c]), z): what Eq. 8 pastes into the hole.

  P with K candidates: G draws all K in one batch and the one with the lowest Eq. 4 (+ λ1 Eq. 5
  when `discriminator` and `lambda_realism` are given; Eq. 3's decay from P's metadata unless
  `decay` is given) is returned, with its z [N, d]."""
  z = predict_z(prior_predictor, masked_images, masks, conditions, training=training)
  if z.shape.rank == 2:
    return generate(generator, z, conditions), z
  generated, z, candidate_scores = fill_candidates(
      generator, z, masked_images, masks, conditions, discriminator=discriminator,
      lambda_realism=lambda_realism, class_conditional=class_conditional,
      decay=training_decay(prior_predictor) if decay is None else decay)
  return candidates.choose(generated, candidate_scores), candidates.choose(z, candidate_scores)


def fill_candidates(generator: Callable, z, masked_images, masks, conditions=None, *,
                    discriminator: Callable | None = None, lambda_realism: float = 0.0,
                    class_conditional: bool = False, decay: float = 0.99) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
  """All K candidates of z [N, K, d]: (G(z) [N, K, H, W, C], z, scores [N, K]; lower is better)."""
  k = candidates.count(z)
  repeated_conditions = candidates.repeat(conditions, k)
  generated = generate(generator, candidates.flatten(z), repeated_conditions)
  fake_logits = None
  if discriminator is not None and lambda_realism:
    fake_logits = discriminate(discriminator, generated, repeated_conditions, class_conditional=class_conditional)
  candidate_scores = candidates.scores(masked_images=masked_images, masks=masks, generated_images=generated, k=k,
                                       fake_logits=fake_logits, lambda_realism=lambda_realism, decay=decay)
  return candidates.unflatten(generated, k), z, candidate_scores


def training_decay(prior_predictor) -> float:
  """Eq. 3's decay a loaded P was trained with (0.99, the paper's, when its metadata has none)."""
  metadata = getattr(prior_predictor, "metadata", None) or {}
  return float(metadata.get("contextual_decay") or 0.99)


def class_conditions(labels, num_classes: int) -> tf.Tensor:
  """y: one-hot [N, num_classes] of int class indices."""
  return tf.one_hot(labels, num_classes)
