"""How well the frozen keypoint refiner f (Eq. 9, §4.2) completes the silhouette keypoints a
Table 1 hole hides: the number the silhouette refiner's settings are chosen by, on val.

f's job in M_{z+S} is completion: the visible points are kept as detected (they are exact), so
what matters is the error of f's points where the hole hides the silhouette. This measures it
on real images under the evaluation masks of Table 1, without G or P (so the choice does not
depend on a P that was trained with one particular f).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import tensorflow as tf

from pgi_tf.metrics import landmarks as landmark_metrics
from pgi_tf.structural import silhouette


class CompletionCase:
  """Images under one set of masks, with everything that does not depend on f computed once:
  the true keypoints, the masked detections and their switches, the mean-shape fill.

  Args:
    images: [N, R, R, C] in [-1, 1], the whole images (their keypoints are the targets).
    masks: [N, R, R, 1], 1 on the hole.
    num_rays: K.
    mean_shape: [K, 2], the baseline's shape (aligned to the visible points).
  """

  def __init__(self, images: np.ndarray, masks: np.ndarray, *, num_rays: int, mean_shape: np.ndarray):
    images = np.asarray(images, np.float32)
    masks = np.asarray(masks, np.float32)
    targets, _ = silhouette.silhouette_keypoints(images, num_rays=num_rays)
    detected, switches = silhouette.silhouette_keypoints((1.0 - masks) * images, masks, num_rays=num_rays)
    self.targets = targets.numpy()
    self.detected, self.switches = detected, switches
    self.hidden = switches.numpy() < 0.5
    self.filled = landmark_metrics.fill_from_mean_shape(detected.numpy(), switches.numpy(), mean_shape)

  def _hidden_error(self, points) -> float:
    distances = np.linalg.norm(points - self.targets, axis=-1)
    return float(distances[self.hidden].mean()) if self.hidden.any() else 0.0

  def errors(self, refine: Callable) -> dict[str, float]:
    """f's error on the silhouette keypoints the holes hide, and the mean-shape fill's.

    Args:
      refine: (keypoints [N, K, 2], switches [N, K]) -> refined [N, K, 2], the frozen f.

    Returns:
      {"hidden_fraction": share of keypoints the holes hide,
       "mean_hidden_error_refined", "mean_hidden_error_mean_shape_fill": mean L2 distance (in
         fractions of the image side) between the completed and the true keypoint, over hidden
         keypoints only (visible ones are exact for both)}.
    """
    refined = np.asarray(refine(self.detected, self.switches), np.float32)
    return {"hidden_fraction": float(self.hidden.mean()),
            "mean_hidden_error_refined": self._hidden_error(refined),
            "mean_hidden_error_mean_shape_fill": self._hidden_error(self.filled)}


def completion_errors(refine: Callable, images: np.ndarray, masks: np.ndarray, *, num_rays: int,
                      mean_shape: np.ndarray) -> dict[str, float]:
  """`CompletionCase(images, masks, ...).errors(refine)` for a single f."""
  return CompletionCase(images, masks, num_rays=num_rays, mean_shape=mean_shape).errors(refine)


def mean_silhouette(images: np.ndarray, *, num_rays: int) -> np.ndarray:
  """[K, 2] mean silhouette keypoints of whole images (the mean-shape baseline's shape)."""
  points, _ = silhouette.silhouette_keypoints(tf.convert_to_tensor(images, tf.float32), num_rays=num_rays)
  return points.numpy().mean(axis=0)
