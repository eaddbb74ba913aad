"""Helpers shared by the loss modules (float32 at the boundary, per-example reductions)."""

from __future__ import annotations

import tensorflow as tf

from pgi_tf.errors import InputError


def _as_float32(x) -> tf.Tensor:
  x = tf.convert_to_tensor(x)
  return x if x.dtype == tf.float32 else tf.cast(x, tf.float32)


def _per_example_logits(logits) -> tf.Tensor:
  """[N], [N, 1] or [N, ...] (e.g. a PatchGAN map) -> [N] float32, averaging any extra axes."""
  logits = _as_float32(logits)
  return tf.reduce_mean(tf.reshape(logits, [tf.shape(logits)[0], -1]), axis=1)


def _check_mask_shape(masks: tf.Tensor, *, caller: str) -> None:
  rank = masks.shape.rank
  if rank not in (3, 4) or (masks.shape[-1] is not None and masks.shape[-1] != 1):
    raise InputError(f"{caller}(masks): expected shape [N, H, W, 1] or [H, W, 1], "
                     f"got {masks.shape}")


def _known_mean(values: tf.Tensor, known: tf.Tensor) -> tf.Tensor:
  """Per-example sum of `values` over the entries where `known` is 1, divided by their count.

  `values` must already be 0 where `known` is 0. An example with no such entry gives 0."""
  total = tf.reduce_sum(tf.reshape(values, [tf.shape(values)[0], -1]), axis=1)
  count = tf.reduce_sum(tf.reshape(known, [tf.shape(known)[0], -1]), axis=1)
  return total / tf.maximum(count, 1.0)
