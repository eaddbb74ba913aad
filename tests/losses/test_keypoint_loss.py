"""Tests for Eq. 9, `pgi_tf.losses.keypoint_refinement_loss`, on numbers worked out by hand."""

import numpy as np
import pytest
import tensorflow as tf

from pgi_tf import losses
from pgi_tf.errors import InputError

# 2 images x 3 keypoints. Squared L2 distance per keypoint, by hand:
#   image 1: (0,0)->(0,0): 0   (1,1)->(1,2): 1          (2,2)->(4,2): 4   -> mean 5/3
#   image 2: (.5,.5)->(.5,1.5): 1   (0,1)->(3,5): 9+16=25   (1,0)->(1,0): 0 -> mean 26/3
TARGETS = np.array([[[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]],
                    [[0.5, 0.5], [0.0, 1.0], [1.0, 0.0]]], np.float32)
REFINED = np.array([[[0.0, 0.0], [1.0, 2.0], [4.0, 2.0]],
                    [[0.5, 1.5], [3.0, 5.0], [1.0, 0.0]]], np.float32)


def test_eq9_hand_example_per_example_and_batch_mean():
  per_example = losses.keypoint_refinement_loss(target_keypoints=TARGETS, refined_keypoints=REFINED)
  np.testing.assert_allclose(per_example.numpy(), [5.0 / 3.0, 26.0 / 3.0], rtol=1e-6)
  # Eq. 9: 1 / (N * N_K) * sum over images and keypoints = (0 + 1 + 4 + 1 + 25 + 0) / (2 * 3).
  assert float(tf.reduce_mean(per_example)) == pytest.approx(31.0 / 6.0, rel=1e-6)


def test_eq9_is_symmetric_zero_on_equal_inputs_and_float32():
  forward = losses.keypoint_refinement_loss(target_keypoints=TARGETS, refined_keypoints=REFINED)
  backward = losses.keypoint_refinement_loss(target_keypoints=REFINED, refined_keypoints=TARGETS)
  np.testing.assert_array_equal(forward.numpy(), backward.numpy())
  same = losses.keypoint_refinement_loss(target_keypoints=TARGETS, refined_keypoints=TARGETS)
  np.testing.assert_array_equal(same.numpy(), [0.0, 0.0])
  half = losses.keypoint_refinement_loss(target_keypoints=TARGETS.astype(np.float16),
                                         refined_keypoints=REFINED.astype(np.float16))
  assert half.dtype == tf.float32


def test_eq9_in_tf_function_with_unknown_batch_size():
  spec = tf.TensorSpec([None, 3, 2], tf.float32)
  graph_loss = tf.function(
      lambda t, r: losses.keypoint_refinement_loss(target_keypoints=t, refined_keypoints=r),
      input_signature=[spec, spec])
  np.testing.assert_allclose(graph_loss(TARGETS, REFINED).numpy(), [5.0 / 3.0, 26.0 / 3.0], rtol=1e-6)


def test_eq9_rejects_flat_keypoints():
  with pytest.raises(InputError, match=r"keypoint_refinement_loss\(target_keypoints\)"):
    losses.keypoint_refinement_loss(target_keypoints=TARGETS.reshape(2, 6),
                                    refined_keypoints=REFINED.reshape(2, 6))
