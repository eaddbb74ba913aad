"""Fig. 6 for a GAN conditioned on a structural prior, and a number for "samples follow their prior".

§6.3.2 (Fig. 6): "Left: faces sampled with same z vector but different structural priors.
Right: faces sampled with different z vectors for a given structural prior." `fig6_grids`
draws both for any G(z, S); `prior_following` measures what the figure shows by eye, with the
silhouette prior (`pgi_tf.structural.silhouette`) measured back on the samples.

A generator is either a Keras model called as G([z, S]) (the trainer's G) or a
`pgi_tf.hub.HubModuleLayer` of an exported conditional G (its inputs are named z and
condition, so it takes the same list), or any callable [z, S] -> images in [-1, 1].
"""

from __future__ import annotations

from typing import Any, Callable, Union

import keras
import numpy as np
import tensorflow as tf

from pgi_tf import visualize
from pgi_tf.errors import InputError
from pgi_tf.structural import silhouette

Generator = Union[keras.Model, keras.layers.Layer, Callable[[list], Any]]

# Overlay colour of the prior's keypoints, RGB in [-1, 1]: pure red stands out on grey images.
KEYPOINT_COLOUR = (1.0, -1.0, -1.0)


def generate(generator: Generator, *, z, conditions) -> np.ndarray:
  """G(z_i, S_i) for each row i: float32 [N, R, R, C] in [-1, 1] (inference mode)."""
  inputs = [tf.convert_to_tensor(z, tf.float32), tf.convert_to_tensor(conditions, tf.float32)]
  if isinstance(generator, keras.Model):  # batch norm must use its moving statistics
    images = generator(inputs, training=False)
  else:
    images = generator(inputs)
  return np.asarray(images, np.float32)


def overlay_keypoints(images, points, *, colour=KEYPOINT_COLOUR) -> np.ndarray:
  """An RGB copy of images [N, R, R, 1 or 3] with each keypoint painted as one pixel.

  points: [N, K, 2] (x, y) in [0, 1] (x = col / (R - 1), y = row / (R - 1)), as
  `silhouette.silhouette_keypoints` returns them; every point is drawn.
  """
  images = np.asarray(images, np.float32)
  rgb = np.repeat(images, 3, axis=-1) if images.shape[-1] == 1 else images.copy()
  resolution = images.shape[1]
  pixels = np.clip(np.rint(np.asarray(points) * (resolution - 1)), 0, resolution - 1).astype(int)
  rows, cols = pixels[..., 1], pixels[..., 0]
  batch = np.broadcast_to(np.arange(len(images))[:, None], rows.shape)
  rgb[batch, rows, cols] = colour
  return rgb


def fig6_grids(generator: Generator, *, conditions, z, num_rays: int,
               overlay: bool = True) -> tuple[np.ndarray, np.ndarray]:
  """The two panels of Fig. 6 for Z noise vectors and P structural priors.

  Args:
    generator: G(z, S) (see the module docstring).
    conditions: [P, 2K] flattened priors (`silhouette.flatten`), e.g. of P real images.
    z: [Z, z_dim] noise vectors.
    num_rays: K, to draw the priors' keypoints.
    overlay: paint each sample's prior keypoints on it (red), so a reader sees which prior
      a sample was given and how well its silhouette follows it.

  Returns:
    (same_z_grid, same_prior_grid), uint8 [H, W, 3] images from `visualize.make_grid`:
    same_z_grid has Z rows (one z each) x P columns (the priors); same_prior_grid has
    P rows (one prior each) x Z columns (the z's). Cell size R + 2 px (padding 2), so
    H = rows * (R + 2) + 2, W = columns * (R + 2) + 2.
  """
  conditions = np.asarray(conditions, np.float32)
  z = np.asarray(z, np.float32)
  num_priors, num_z = len(conditions), len(z)
  # Every pair (z_i, S_j) in one batch: row-major over z, so images[i, j] = G(z_i, S_j).
  images = generate(generator, z=np.repeat(z, num_priors, axis=0),
                    conditions=np.tile(conditions, (num_z, 1)))
  if overlay:
    points = silhouette.unflatten(np.tile(conditions, (num_z, 1)), num_rays).numpy()
    images = overlay_keypoints(images, points)
  images = images.reshape(num_z, num_priors, *images.shape[1:])
  same_z = visualize.make_grid(images.reshape(-1, *images.shape[2:]), columns=num_priors)
  same_prior = visualize.make_grid(images.transpose(1, 0, 2, 3, 4).reshape(-1, *images.shape[2:]),
                                   columns=num_z)
  return same_z, same_prior


def prior_distances(measured, priors) -> np.ndarray:
  """D[i, j] = mean over the K keypoints of the Euclidean distance |q_i,k - p_j,k| ([0, 1] units).

  measured, priors: [N, K, 2] (x, y) in [0, 1]. Returns float64 [N, N].
  """
  measured = np.asarray(measured, np.float64)
  priors = np.asarray(priors, np.float64)
  return np.linalg.norm(measured[:, None] - priors[None, :], axis=-1).mean(axis=-1)


def prior_following(generator: Generator, *, conditions, z, num_rays: int,
                    threshold: float = silhouette.DEFAULT_THRESHOLD) -> dict[str, float | int]:
  """Do samples follow their structural prior? Fig. 6 left, as numbers.

  For each i, the sample x_i = G(z_i, p_i) is generated under prior p_i (row i of
  `conditions`, e.g. the silhouette prior of a real image), and its own silhouette prior
  q_i = silhouette_keypoints(x_i) is measured the same way the trainer measured p_i (K rays,
  background = mean of the border, `threshold`). Distances are D[i, j] =
  mean_k ||q_i,k - p_j,k||_2: the mean Euclidean distance over the K keypoints, in [0, 1]
  image units (1 = the image side).

  Returns (plain floats, JSON-ready):
    distance_to_own_prior:      mean_i D[i, i].
    distance_to_other_priors:   mean over i != j of D[i, j].
    fraction_closest:           fraction of i with D[i, i] < D[i, j] for every j != i
                                (strictly; chance = 1 / N for a G that ignores its prior).
    fraction_closer_than_median: fraction of i with D[i, i] < median_{j != i} D[i, j]
                                (chance = 0.5).
    chance_closest:             1 / N.
    num_priors:                 N.
  """
  conditions = np.asarray(conditions, np.float32)
  z = np.asarray(z, np.float32)
  count = len(conditions)
  if count < 2 or len(z) != count:
    raise InputError(f"prior_following: need >= 2 priors and one z per prior, got {count} and {len(z)}")
  samples = generate(generator, z=z, conditions=conditions)
  measured, _ = silhouette.silhouette_keypoints(samples, num_rays=num_rays, threshold=threshold)
  distances = prior_distances(measured.numpy(), silhouette.unflatten(conditions, num_rays).numpy())
  own = np.diag(distances)
  others = distances[~np.eye(count, dtype=bool)].reshape(count, count - 1)
  return {
      "distance_to_own_prior": float(own.mean()),
      "distance_to_other_priors": float(others.mean()),
      "fraction_closest": float(np.mean(own < others.min(axis=1))),
      "fraction_closer_than_median": float(np.mean(own < np.median(others, axis=1))),
      "chance_closest": 1.0 / count,
      "num_priors": count,
  }
