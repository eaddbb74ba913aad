"""Beyond-the-paper stage-2 terms (pgi_tf.losses.candidates, .regression) against hand-computed values."""

import numpy as np
import pytest
import tensorflow as tf

from pgi_tf import losses
from pgi_tf.errors import InputError


def test_best_of_candidates_is_the_relaxed_minimum_by_hand():
  per_candidate = np.array([[0.4, 0.1, 0.7], [2.0, 3.0, 1.0]], np.float32)
  # ε = 0.1: 0.9 * min + 0.1 * mean.  Row 0: 0.9 * 0.1 + 0.1 * 0.4 = 0.13; row 1: 0.9 + 0.2 = 1.1.
  np.testing.assert_allclose(losses.best_of_candidates(per_candidate, relaxation=0.1), [0.13, 1.1], rtol=1e-6)
  np.testing.assert_allclose(losses.best_of_candidates(per_candidate, relaxation=0.0), [0.1, 1.0], rtol=1e-6)
  np.testing.assert_allclose(losses.best_of_candidates(per_candidate, relaxation=1.0), [0.4, 2.0], rtol=1e-6)
  with pytest.raises(InputError, match="relaxation"):
    losses.best_of_candidates(per_candidate, relaxation=1.5)


def test_best_of_candidates_sends_the_gradient_to_the_winner():
  values = tf.Variable([[0.4, 0.1, 0.7]])
  with tf.GradientTape() as tape:
    loss = losses.best_of_candidates(values, relaxation=0.3)
  # d/dL_k: 0.7 for the winner (+ 0.3 / 3 for everyone).
  np.testing.assert_allclose(tape.gradient(loss, values), [[0.1, 0.8, 0.1]], rtol=1e-6)


def test_latent_consistency_by_hand_and_with_candidates():
  z = np.array([[0.0, 1.0], [0.5, -0.5]], np.float32)
  predicted = np.array([[1.0, 1.0], [0.5, 0.5]], np.float32)
  # Row 0: ((1)^2 + 0) / 2 = 0.5; row 1: (0 + 1^2) / 2 = 0.5.
  np.testing.assert_allclose(losses.latent_consistency_loss(predicted_z=predicted, z=z), [0.5, 0.5])
  candidates = np.stack([predicted, z + 0.2], axis=1)  # the second candidate is closer: 0.04
  np.testing.assert_allclose(losses.latent_consistency_loss(predicted_z=candidates, z=z), [0.04, 0.04], rtol=1e-5)


def test_hole_l1_is_the_mean_over_hole_pixels_by_hand():
  images = np.zeros((2, 2, 2, 1), np.float32)
  outputs = np.array([[[1.0], [0.5]], [[9.0], [9.0]]], np.float32)[np.newaxis].repeat(2, 0)
  masks = np.zeros((2, 2, 2, 1), np.float32)
  masks[0, 0, :] = 1.0     # hole = the first row: |1| and |0.5| -> 0.75 (the 9s are known pixels)
  masks[1, 0, 0] = 1.0     # one-pixel hole: 1.0
  np.testing.assert_allclose(losses.hole_l1_loss(images=images, outputs=outputs, masks=masks), [0.75, 1.0])
  np.testing.assert_allclose(losses.hole_l1_loss(images=images, outputs=outputs, masks=np.zeros_like(masks)),
                             [0.0, 0.0])
