"""Landmark metrics of §6.2 / Fig. 4: relative localisation error and its cumulative curve.

  RLE    relative localisation error of one keypoint: || predicted - target ||_2 / IOD(target),
         IOD the inter-ocular distance of the ground truth (distance between the eye centres,
         means of points 36-41 and 42-47; `pgi_tf.data.landmarks.inter_ocular_distance`). Scale
         free, so faces of any size and any coordinate frame (pixels or box units) compare.
  curve  Fig. 4: the percentage of keypoints whose RLE is <= each threshold (the paper quotes
         "RLE <= 5%"), pooled over all keypoints of all faces.

A baseline for the refiner: `fill_from_mean_shape` keeps the visible points and takes the hidden
ones from the mean shape after a least-squares similarity alignment (scale, rotation, translation)
of the mean shape onto the visible points.

Everything is numpy (float64 inside); inputs are [..., N_K, 2] arrays of (x, y).
"""

from __future__ import annotations

import numpy as np

from pgi_tf.data.landmarks import inter_ocular_distance
from pgi_tf.errors import InputError

# Fig. 4's x axis: RLE thresholds from 0 to 20% of the inter-ocular distance in steps of 0.5%.
DEFAULT_RLE_THRESHOLDS = np.round(np.arange(0.0, 0.2 + 1e-9, 0.005), 4)


def relative_localization_error(*, predicted, target) -> np.ndarray:
  """RLE (§6.2): per-keypoint L2 error / the ground truth's inter-ocular distance, [..., N_K].

  Args:
    predicted: [..., 68, 2] predicted keypoints.
    target: [..., 68, 2] ground truth, same frame (the IOD is measured on it).
  """
  predicted = np.asarray(predicted, np.float64)
  target = np.asarray(target, np.float64)
  if predicted.shape != target.shape:
    raise InputError(f"predicted: shape {list(predicted.shape)} differs from target "
                     f"{list(target.shape)}")
  iod = inter_ocular_distance(target)
  if np.any(iod <= 0):
    raise InputError("target: inter-ocular distance is 0 (the two eye centres coincide)")
  return np.linalg.norm(predicted - target, axis=-1) / iod[..., None]


def cumulative_error_curve(rle, *, thresholds=DEFAULT_RLE_THRESHOLDS) -> np.ndarray:
  """Fig. 4: % of keypoints (pooled over all faces) with RLE <= each threshold.

  Returns float64 [T] in [0, 100], one value per threshold.
  """
  rle = np.asarray(rle, np.float64).reshape(-1)
  thresholds = np.asarray(thresholds, np.float64).reshape(-1)
  if rle.size == 0:
    raise InputError("rle: no keypoints to measure")
  return 100.0 * np.mean(rle[None, :] <= thresholds[:, None], axis=1)


def curve_area(percent_below, *, thresholds=DEFAULT_RLE_THRESHOLDS) -> float:
  """Area under a cumulative curve, normalised to [0, 1] (1: every keypoint at RLE 0)."""
  thresholds = np.asarray(thresholds, np.float64)
  percent_below = np.asarray(percent_below, np.float64)
  width = thresholds[-1] - thresholds[0]
  if width <= 0:
    raise InputError("thresholds: need an increasing range")
  trapezoids = 0.5 * (percent_below[1:] + percent_below[:-1]) * np.diff(thresholds)
  return float(np.sum(trapezoids) / (100.0 * width))


def align_similarity(source, target, *, weights) -> np.ndarray:
  """Least-squares similarity alignment of `source` onto `target` over the weighted points.

  Finds scale s, rotation R (no reflection) and translation t minimising
  sum_i w_i || s R source_i + t - target_i ||^2 (Umeyama, 1991), written with complex numbers:
  a point is x + iy, the transform is a * p + b with a = s e^{i theta}, and the optimum is
  a = sum w (q - q_bar) conj(p - p_bar) / sum w |p - p_bar|^2, b = q_bar - a p_bar (bars are
  weighted means). With one weighted point only the translation is fitted; with none, source
  is returned unchanged.

  Args:
    source: [..., N_K, 2] points to move (e.g. a mean shape, broadcast over the batch).
    target: [..., N_K, 2] points to match.
    weights: [..., N_K] non-negative (switches: 1 = use the point).

  Returns:
    float64 [..., N_K, 2]: the transformed source.
  """
  source = np.asarray(source, np.float64)
  target = np.asarray(target, np.float64)
  weights = np.asarray(weights, np.float64)
  source, target = np.broadcast_arrays(source, target)
  weights = np.broadcast_to(weights, source.shape[:-1])
  p = source[..., 0] + 1j * source[..., 1]
  q = target[..., 0] + 1j * target[..., 1]
  total = weights.sum(axis=-1, keepdims=True)
  safe_total = np.where(total > 0, total, 1.0)
  p_bar = (weights * p).sum(axis=-1, keepdims=True) / safe_total
  q_bar = (weights * q).sum(axis=-1, keepdims=True) / safe_total
  p_centred, q_centred = p - p_bar, q - q_bar
  spread = (weights * np.abs(p_centred) ** 2).sum(axis=-1, keepdims=True)
  # spread ~ 0 means one point (or coincident points): rotation and scale are undetermined.
  fit_rotation = spread > 1e-12
  a = np.where(fit_rotation,
               (weights * q_centred * np.conj(p_centred)).sum(axis=-1, keepdims=True)
               / np.where(fit_rotation, spread, 1.0),
               1.0 + 0j)
  b = np.where(total > 0, q_bar - a * p_bar, 0j)
  moved = a * p + b
  return np.stack([moved.real, moved.imag], axis=-1)


def fill_from_mean_shape(points, switches, mean_shape) -> np.ndarray:
  """Baseline completion: visible points as given, hidden ones from the aligned mean shape.

  The mean shape is aligned to the visible points (d = 1) by `align_similarity`; hidden points
  (d = 0) are replaced by the aligned mean shape's. No visible point: the mean shape itself.

  Args:
    points: [..., N_K, 2] keypoints (hidden ones may hold anything, e.g. 0).
    switches: [..., N_K] switches d in {0, 1}.
    mean_shape: [N_K, 2] in the same frame (e.g. MEAN_FACE_SHAPE for box coordinates).

  Returns:
    float32 [..., N_K, 2].
  """
  points = np.asarray(points, np.float64)
  switches = np.asarray(switches, np.float64)
  mean_shape = np.asarray(mean_shape, np.float64)
  if switches.shape != points.shape[:-1] or mean_shape.shape != points.shape[-2:]:
    raise InputError(f"fill_from_mean_shape: points {list(points.shape)}, switches "
                     f"{list(switches.shape)} and mean_shape {list(mean_shape.shape)} do not match")
  aligned = align_similarity(mean_shape, points, weights=switches)
  return np.where(switches[..., None] > 0.5, points, aligned).astype(np.float32)
