"""A generic structural prior: keypoints on the object's silhouette (beyond the paper).

§4.2 says a structural prior can be any representation of an object's pose and size; the paper
uses 68 facial landmarks. Faces are not available offline, so this prior can be computed on
any object-centred image (Fashion-MNIST, cars on plain backgrounds):

  K rays leave the image centre at equal angles (ray k at angle 2πk/K, counter-clockwise from
  the +x axis, y pointing down in the image). Along each ray, T samples run from the centre to
  the image border (nearest pixel). The keypoint of ray k is the OUTERMOST foreground sample:
  the object's extent in that direction. A pixel is foreground when it differs from the
  background colour by more than `threshold` in some channel (background: the mean of the
  known border pixels, or a fixed value). A ray with no foreground sample puts its point at
  the centre (the object has no extent there).

Keypoints are (x, y) in [0, 1] image coordinates (the "box" of §4.2 is the whole image),
x = column / (R - 1), y = row / (R - 1), like the face landmarks (`pgi_tf.data.landmarks`).

Switches on a masked image (M = 1 on the hole), as §4.2's d for landmarks: a point is visible
(d = 1) only when no hole sample lies on its ray from the point outwards to the border: then
the point is the true outermost foreground sample whatever the hole hides. Otherwise d = 0 and
x = y = 0. Everything is TF ops on fixed gather indices, so the prior can be computed inside a
tf.function and a SavedModel (the M_{z+S} export) on any batch.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import tensorflow as tf

from pgi_tf.errors import InputError
from pgi_tf.structural.protocol import StructuralKind

DEFAULT_NUM_RAYS = 16
DEFAULT_THRESHOLD = 0.2   # in [-1, 1] units: 10% of the value range


def ray_sample_pixels(resolution: int, *, num_rays: int = DEFAULT_NUM_RAYS,
                      samples_per_ray: int | None = None) -> np.ndarray:
  """int32 [K, T, 2] (row, col) of the samples of each ray, centre first, border last."""
  if resolution < 2 or num_rays < 1:
    raise InputError(f"silhouette: resolution={resolution}, num_rays={num_rays}: need >= 2 and >= 1")
  samples = samples_per_ray or resolution  # ~2 samples per pixel along the longest ray
  centre = (resolution - 1) / 2.0
  angles = 2.0 * np.pi * np.arange(num_rays) / num_rays
  dx, dy = np.cos(angles), -np.sin(angles)  # counter-clockwise as seen on screen (y down)
  # Distance from the centre to the border along each ray (the nearer of the two walls it hits).
  with np.errstate(divide="ignore"):
    to_x_wall = np.where(np.abs(dx) > 1e-9, centre / np.abs(dx), np.inf)
    to_y_wall = np.where(np.abs(dy) > 1e-9, centre / np.abs(dy), np.inf)
  length = np.minimum(to_x_wall, to_y_wall)
  t = np.linspace(0.0, 1.0, samples)[None, :] * length[:, None]
  cols = np.clip(np.rint(centre + t * dx[:, None]), 0, resolution - 1)
  rows = np.clip(np.rint(centre + t * dy[:, None]), 0, resolution - 1)
  return np.stack([rows, cols], axis=-1).astype(np.int32)


def _background(images: tf.Tensor, known: tf.Tensor) -> tf.Tensor:
  """[N, 1, 1, C] mean of the known border pixels (the image's frame)."""
  frame = np.ones(images.shape[1:3], np.float32)
  frame[1:-1, 1:-1] = 0.0
  weights = known * frame[None, :, :, None]
  total = tf.reduce_sum(weights, axis=[1, 2], keepdims=True)
  return tf.reduce_sum(images * weights, axis=[1, 2], keepdims=True) / tf.maximum(total, 1.0)


def silhouette_keypoints(images, masks=None, *, num_rays: int = DEFAULT_NUM_RAYS,
                         samples_per_ray: int | None = None, threshold: float = DEFAULT_THRESHOLD,
                         background: float | None = None) -> tuple[tf.Tensor, tf.Tensor]:
  """Silhouette keypoints and switches of (masked) images.

  Args:
    images: float [N, R, R, C] in [-1, 1] (square). Pixels under the hole are ignored.
    masks: float [N, R, R, 1], 1 on the hole; None = nothing hidden (all switches 1).
    num_rays: K, the number of keypoints.
    samples_per_ray: T (default R).
    threshold: a pixel is foreground when |pixel - background| > threshold in some channel.
    background: a fixed background value in [-1, 1]; None = mean of the known border pixels.

  Returns:
    (points float32 [N, K, 2] (x, y) in [0, 1], x = y = 0 where hidden;
     switches float32 [N, K], 1 = visible, 0 = hidden by the hole).
  """
  images = tf.convert_to_tensor(images, tf.float32)
  if images.shape.rank != 4 or images.shape[1] != images.shape[2]:
    raise InputError(f"silhouette: images must be [N, R, R, C], got {images.shape}")
  resolution = int(images.shape[1])
  if masks is None:
    masks = tf.zeros_like(images[..., :1])
  hole = tf.cast(tf.convert_to_tensor(masks, tf.float32) > 0.5, tf.float32)
  known = 1.0 - hole
  level = tf.constant(background, tf.float32) if background is not None else _background(images, known)
  foreground = tf.reduce_max(tf.abs(images - level), axis=-1) > threshold          # [N, R, R]
  pixels = ray_sample_pixels(resolution, num_rays=num_rays, samples_per_ray=samples_per_ray)
  flat_index = tf.constant(pixels[..., 0] * resolution + pixels[..., 1])            # [K, T]
  batch = tf.shape(images)[0]
  ray_foreground = tf.gather(tf.reshape(foreground, [batch, -1]), flat_index, axis=1)  # [N, K, T]
  ray_hole = tf.gather(tf.reshape(hole[..., 0] > 0.5, [batch, -1]), flat_index, axis=1)
  seen_foreground = tf.logical_and(ray_foreground, tf.logical_not(ray_hole))
  samples = int(pixels.shape[1])
  # Outermost seen foreground sample: the first True counted from the border end.
  from_border = tf.argmax(tf.cast(tf.reverse(seen_foreground, axis=[-1]), tf.int32), axis=-1,
                          output_type=tf.int32)
  any_foreground = tf.reduce_any(seen_foreground, axis=-1)
  outermost = tf.where(any_foreground, samples - 1 - from_border, 0)               # [N, K]
  # Hidden samples at or beyond the point: cumulative count from the border end.
  holes_outwards = tf.reverse(tf.cumsum(tf.cast(tf.reverse(ray_hole, axis=[-1]), tf.int32), axis=-1),
                              axis=[-1])                                           # [N, K, T]
  holes_beyond = tf.gather(holes_outwards, outermost, axis=2, batch_dims=2)
  switches = tf.cast(holes_beyond == 0, tf.float32)
  ray_pixels = tf.constant(pixels.astype(np.float32))                              # [K, T, 2]
  rows_cols = tf.gather(tf.broadcast_to(ray_pixels[None], [batch, *ray_pixels.shape]), outermost,
                        axis=2, batch_dims=2)                                      # [N, K, 2]
  points = tf.reverse(rows_cols, axis=[-1]) / float(resolution - 1)               # (x, y)
  return points * switches[..., None], switches


def flatten(points) -> tf.Tensor:
  """[N, K, 2] -> [N, 2K] (x0, y0, x1, y1, ...): the condition vector of G(z, S) and P."""
  points = tf.convert_to_tensor(points, tf.float32)
  return tf.reshape(points, [-1, points.shape[-2] * 2])


def unflatten(vectors, num_rays: int) -> tf.Tensor:
  return tf.reshape(tf.convert_to_tensor(vectors, tf.float32), [-1, num_rays, 2])


class SilhouetteMap:
  """Renders silhouette keypoints as a shape map: the star-shaped polygon they span.

  [N, 2K] flattened keypoints -> float32 [N, R, R, 1], +1 inside the silhouette, -1 outside,
  with a soft edge about a pixel wide. The polygon is star-shaped around the image centre (each
  keypoint lies on its own ray), so a pixel at angle θ and radius ρ from the centre is inside
  when ρ is below the radius interpolated between the two keypoints whose rays enclose θ.
  The conditioned DCGAN (`pgi_tf.models.dcgan`, condition_map="silhouette") feeds this map to
  D next to the image and to G at every scale: a pixel-aligned prior that a convolution can
  compare with the image directly, which a bare 2K-vector is not.
  """

  def __init__(self, resolution: int, num_rays: int):
    self.resolution = resolution
    self.num_rays = num_rays
    coords = np.arange(resolution, dtype=np.float32) / (resolution - 1) - 0.5
    u, v = np.meshgrid(coords, coords)                       # u: x (column), v: y (row, down)
    self.pixel_radius = tf.constant(np.hypot(u, v))          # [R, R]
    angle = np.mod(np.arctan2(-v, u), 2.0 * np.pi) / (2.0 * np.pi / num_rays)  # in ray units
    lower = np.floor(angle).astype(np.int32) % num_rays
    self.lower = tf.constant(lower)
    self.upper = tf.constant((lower + 1) % num_rays)
    self.fraction = tf.constant((angle - np.floor(angle)).astype(np.float32))

  def __call__(self, vectors) -> tf.Tensor:
    points = unflatten(vectors, self.num_rays) - 0.5                       # [N, K, 2] from the centre
    radius = tf.norm(points + 1e-12, axis=-1)                              # [N, K]
    at_lower = tf.gather(radius, self.lower, axis=1)                       # [N, R, R]
    at_upper = tf.gather(radius, self.upper, axis=1)
    boundary = (1.0 - self.fraction) * at_lower + self.fraction * at_upper
    # Half a pixel of slack so a keypoint's own pixel is inside; edge width ~1 px.
    inside = tf.sigmoid((boundary - self.pixel_radius) * (self.resolution - 1) * 4.0 + 2.0)
    return (2.0 * inside - 1.0)[..., None]


def hole_switches(points, masks, *, num_rays: int = DEFAULT_NUM_RAYS,
                  samples_per_ray: int | None = None) -> np.ndarray:
  """The switches `silhouette_keypoints` would give the image of `points` under `masks` (numpy).

  points: [N, K, 2] silhouette keypoints of unmasked images (each lies on a ray sample);
  masks: [N, R, R, 1], 1 on the hole. A point is visible when no hole sample lies on its ray
  at or beyond it -- the rule of `silhouette_keypoints`, which needs only the point's position
  along its ray, not the image. Lets the refiner train on hole-shaped drops (contiguous rays
  hidden) next to Eq. 9's independent drops, without the images.
  """
  points = np.asarray(points, np.float32)
  masks = np.asarray(masks, np.float32)
  resolution = masks.shape[1]
  pixels = ray_sample_pixels(resolution, num_rays=num_rays, samples_per_ray=samples_per_ray)  # [K, T, 2]
  as_pixels = np.rint(points[..., ::-1] * (resolution - 1))                                    # (row, col)
  # Index along its ray of each point: the (last) sample at the point's pixel.
  matches = np.all(pixels[None] == as_pixels[:, :, None, :], axis=-1)                         # [N, K, T]
  samples = pixels.shape[1]
  position = np.where(matches.any(-1), samples - 1 - np.argmax(matches[..., ::-1], axis=-1), 0)
  hole = masks[..., 0] > 0.5
  ray_hole = hole[:, pixels[..., 0], pixels[..., 1]]                                           # [N, K, T]
  beyond = np.arange(samples)[None, None, :] >= position[..., None]
  return (~np.any(ray_hole & beyond, axis=-1)).astype(np.float32)


# --------------------------------------------------------------------------- the prior

class SilhouettePrior:
  """(masked images, masks) -> S [N, 2K], in graph.

  Args:
    refiner: callable (keypoints [N, K, 2], switches [N, K]) -> refined [N, K, 2] (frozen f).
    num_rays: K.
    keep_visible: use the detected point where d = 1 and f's prediction only where d = 0.
      Silhouette detections are exact (no detector noise), so f's job is completion; the
      paper's landmark pipeline uses f's output everywhere (dlib's points are noisy).
  """

  kind = "silhouette"

  def __init__(self, *, refiner: Callable, num_rays: int, keep_visible: bool = True):
    self.refiner = refiner
    self.num_rays = num_rays
    self.keep_visible = keep_visible

  def keypoints(self, masked_images, masks) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """(detected, switches, refined) keypoints."""
    detected, switches = silhouette_keypoints(masked_images, masks, num_rays=self.num_rays)
    refined = tf.convert_to_tensor(self.refiner(detected, switches), tf.float32)
    if self.keep_visible:
      refined = tf.where(switches[..., None] > 0.5, detected, refined)
    return detected, switches, refined

  def __call__(self, masked_images, masks) -> tf.Tensor:
    return flatten(self.keypoints(masked_images, masks)[2])

  def graph_input_specs(self) -> list[tf.TensorSpec]:
    return []  # TF ops only: S is computed in the graph from the masked image

  def condition_in_graph(self, masked_images, masks) -> tf.Tensor:
    return self(masked_images, masks)


def _real_condition_fn(model_config) -> Callable[[tf.Tensor], tf.Tensor]:
  """G(z, S) and D(x, S) see the silhouette keypoints of the real image, flattened."""
  num_rays = model_config.num_rays
  return lambda images: flatten(silhouette_keypoints(images, num_rays=num_rays)[0])


def _build(refiner: Callable, *, num_rays: int, keep_visible: bool | None = None, upsample: int = 1):
  del upsample  # a detector setting of the landmark prior
  return SilhouettePrior(refiner=refiner, num_rays=num_rays, keep_visible=True if keep_visible is None else keep_visible)


KIND = StructuralKind(
    name="silhouette", condition_dim=lambda num_rays: 2 * num_rays, build=_build,
    real_condition_fn=_real_condition_fn, xla_compatible=True, refiner_keypoints=None,
    # The default M_{z+S}: the stack retrained on the train split, chosen on val over the older
    # hub_modules/fashion_mnist32_silhouette (kept: it holds M_{z+S+L}, tied to its G). RESULTS.md.
    refiner_hint="binaries/train_keypoint_refiner.py",
    bundled_model_dir="hub_modules/fashion_mnist32_silhouette_retrained",
    description="silhouette prior", image_coordinates=True,
    gan_metadata=lambda model_config: {"num_rays": model_config.get("num_rays", 0)})
