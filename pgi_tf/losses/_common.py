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
