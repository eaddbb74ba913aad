"""The keypoint refiner's loss (Eq. 9, §4.2)."""

from __future__ import annotations


import tensorflow as tf

from pgi_tf.errors import InputError
from pgi_tf.losses._common import _as_float32

# --------------------------------------------------------------------------------------------
# Eq. 9 (§4.2): the keypoint refiner's loss
# --------------------------------------------------------------------------------------------


def keypoint_refinement_loss(*, target_keypoints, refined_keypoints) -> tf.Tensor:
  """Eq. 9, the keypoint refiner f's training loss, per example [N].

    Eq. 9:  theta_f* = argmin 1 / (N * N_K) sum_j sum_i || t_i^j - k^_i^j ||_2^2

  Per example j this returns (1 / N_K) sum_i ||t_i^j - k^_i^j||_2^2 (squared L2 over (x, y),
  averaged over the N_K keypoints), so the batch mean of the result is exactly Eq. 9's
  1 / (N * N_K) double sum. Every keypoint counts, dropped (switch d = 0) or not: f must predict
  the dropped ones and refine the others.

  Args:
    target_keypoints: t, ground-truth keypoints [N, N_K, 2] in [0, 1] face box coordinates.
    refined_keypoints: k^ = f(K, d), the refiner's output [N, N_K, 2].

  Returns:
    float32 [N].
  """
  target = _as_float32(target_keypoints)
  refined = _as_float32(refined_keypoints)
  for name, tensor in (("target_keypoints", target), ("refined_keypoints", refined)):
    if tensor.shape.rank != 3 or (tensor.shape[-1] is not None and tensor.shape[-1] != 2):
      raise InputError(f"keypoint_refinement_loss({name}): expected shape [N, N_K, 2], "
                       f"got {tensor.shape}")
  squared_distance = tf.reduce_sum(tf.square(refined - target), axis=-1)  # [N, N_K]
  return tf.reduce_mean(squared_distance, axis=-1)
