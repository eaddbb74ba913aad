"""The regression peer's reconstruction loss (GLCIC / DeepFill / LaMa school; issue 13)."""

from __future__ import annotations

import tensorflow as tf

from pgi_tf.losses._common import _as_float32, _known_mean


def hole_l1_loss(*, images, outputs, masks) -> tf.Tensor:
  """Mean absolute error over the hole's pixels, per example [N].

    L_hole = Σ M ⊙ |I - F(I_d, M)| / (C · Σ M)

  Only the hole is scored: Eq. 8 pastes the known pixels back, so what the network draws there
  never reaches the output. Divided by each example's own hole size (as Eq. 4 by its known
  pixels), so small and large holes weigh the same. An example without a hole gives 0.

  Args:
    images: I, [N, H, W, C]; outputs: F(I_d, M), [N, H, W, C]; masks: M, [N, H, W, 1], 1 on the hole.
  """
  hole = tf.cast(_as_float32(masks) > 0.5, tf.float32)
  difference = tf.abs(_as_float32(images) - _as_float32(outputs))
  return _known_mean(hole * difference, hole * tf.ones_like(difference))
