"""The structural prior S of M_{z+S} (§4.2): masked image -> detect -> refine -> condition vector.

    S = flatten(f(K, d)),   (K, d) = detect(I_d, M)

detect gives keypoints K in [0, 1] box coordinates and switches d (0 for keypoints hidden by
the hole, with x = y = 0); f is the frozen keypoint refiner (Eq. 9) that predicts the hidden
keypoints and refines the visible ones. S conditions both P (P(I_d, M, S) -> z) and the
conditioned generator (G(z, S)).

Kinds:
  silhouette  `pgi_tf.structural.silhouette`: TF ops, so S is computed inside tf.functions
              and SavedModels (the M_{z+S} export is one graph).
  landmarks   dlib's 68 points (`pgi_tf.structural.face_detection`): Python, so S is computed
              before the graph, from uint8 images; the export then takes S as an input.
"""

from __future__ import annotations

from typing import Callable

import tensorflow as tf

from pgi_tf.errors import InputError
from pgi_tf.structural import silhouette

KINDS = ("none", "silhouette", "landmarks")


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
    detected, switches = silhouette.silhouette_keypoints(masked_images, masks, num_rays=self.num_rays)
    refined = tf.convert_to_tensor(self.refiner(detected, switches), tf.float32)
    if self.keep_visible:
      refined = tf.where(switches[..., None] > 0.5, detected, refined)
    return detected, switches, refined

  def __call__(self, masked_images, masks) -> tf.Tensor:
    return silhouette.flatten(self.keypoints(masked_images, masks)[2])


def condition_dim(kind: str, *, num_rays: int = silhouette.DEFAULT_NUM_RAYS) -> int:
  if kind == "silhouette":
    return 2 * num_rays
  if kind == "landmarks":
    return 2 * 68
  return 0


def check_kind(kind: str, *, flag: str) -> str:
  if kind not in KINDS:
    raise InputError(f"{flag}={kind}: choose one of {', '.join(KINDS)}")
  return kind


def load_structural_prior(kind: str, *, refiner_path: str, num_rays: int = silhouette.DEFAULT_NUM_RAYS,
                          flag: str = "--keypoint_refiner"):
  """The in-graph structural prior of a kind, with its frozen refiner loaded from `refiner_path`."""
  if kind == "none":
    return None
  if kind != "silhouette":
    raise InputError(f"--structural_prior={kind}: is computed outside the graph (dlib); "
                     "use pgi_tf.structural.face_detection and pass S as the condition")
  if not refiner_path:
    raise InputError(f"{flag}: the silhouette prior needs a trained keypoint refiner "
                     "(binaries/train_keypoint_refiner.py)")
  from pgi_tf.train import keypoint_refiner as refiner_lib  # heavy: only when a prior is used
  refiner = refiner_lib.load_keypoint_refiner(refiner_path)
  return SilhouettePrior(refiner=refiner, num_rays=num_rays)
