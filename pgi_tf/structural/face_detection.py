"""dlib's 68 facial landmarks on a (masked) image: the detections K and switches d of §4.2.

The paper detects landmarks with Bulat & Tzimiropoulos' FAN [7]; offline we use dlib (same iBUG
68-point scheme, `pgi_tf.data.landmarks`): the HOG frontal face detector finds the face box and
the 68-point shape predictor (`shape_predictor_68_face_landmarks.dat`, shipped by the pip
package face-recognition-models) places the points. Both are loaded once per process.

Conventions
  image   uint8 [H, W, 3] RGB or [H, W] grey, or float [H, W, 3] / [H, W] / [H, W, 1] in
          [-1, 1] (the project's range; converted with round((x + 1) * 127.5)).
  mask    [H, W] or [H, W, 1], M = 1 on the hole (> 0.5 counts as hole).
  masked  detection runs on the masked image I_d = (1 - M) * I of the project, i.e. hole
          pixels are 0 in [-1, 1] = mid grey, 128 in uint8 (not white, not black).
  points  dlib's (x, y), 0-based pixels, pixel centres at integers.
  box     (left, top, right, bottom) as dlib gives it (right/bottom inclusive), the box the
          points are normalised in (§4.2: "normalized between 0 and 1 based on the face
          bounding box"). dlib's points may lie a little outside its box (chin, brows):
          their normalised coordinates then fall outside [0, 1].

Several faces: the largest box (ties: the higher detector score) is used. dlib's detector often
misses a face when half of it is hidden; pass `box=` (e.g. the box found on the unmasked image,
or a box drawn by the user) and detection is skipped, only the shape predictor runs.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from pgi_tf.data import landmarks
from pgi_tf.errors import InputError
from PIL import Image

INSTALL_HINT = "pip install dlib-bin face-recognition-models"
HOLE_GREY_UINT8 = 128  # 0 in [-1, 1] (I_d = (1 - M) * I) is 127.5 -> 128 in uint8


@dataclasses.dataclass(frozen=True)
class FaceLandmarks:
  """One face's landmarks.

  Attributes:
    points_px: float32 [68, 2] dlib's points in pixels, as dlib gives them (also in the hole).
    box: float32 [4] (left, top, right, bottom) in pixels.
    points: float32 [68, 2] the refiner's input K: `points_px` in [0, 1] box coordinates, with
      x = y = 0 where the point falls in the hole (§4.2).
    switches: float32 [68] d: 1 = the point is on a known pixel, 0 = in the hole (or outside
      the image).
    box_source: "detector" (found by dlib) or "given" (the `box=` argument).
    num_faces: faces the detector found (0 when the box was given).
  """
  points_px: np.ndarray
  box: np.ndarray
  points: np.ndarray
  switches: np.ndarray
  box_source: str
  num_faces: int


@functools.lru_cache(maxsize=4)
def _dlib_models(predictor_path: str | None):
  """(dlib module, frontal face detector, shape predictor), loaded once per predictor file."""
  try:
    import dlib  # lazy: optional (faces only), heavy; pylint: disable=import-outside-toplevel
  except ImportError:
    raise InputError(f"dlib: not installed; facial landmarks need it ({INSTALL_HINT})") from None
  if predictor_path is None:
    try:
      import face_recognition_models  # lazy: optional 126 MB model package; pylint: disable=import-outside-toplevel
    except ImportError:
      raise InputError("face_recognition_models: not installed; it ships dlib's 68-point "
                       f"predictor ({INSTALL_HINT})") from None
    predictor_path = face_recognition_models.pose_predictor_model_location()
  try:
    predictor = dlib.shape_predictor(predictor_path)
  except RuntimeError as error:
    raise InputError(f"{predictor_path}: not a dlib shape predictor ({error})") from None
  return dlib, dlib.get_frontal_face_detector(), predictor


def _to_uint8(image, *, name: str) -> np.ndarray:
  """uint8 [H, W, 3] or [H, W] from the accepted image forms (module docstring)."""
  image = np.asarray(image)
  if image.ndim == 3 and image.shape[-1] == 1:
    image = image[..., 0]
  if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[-1] != 3):
    raise InputError(f"{name}: expected an image [H, W], [H, W, 1] or [H, W, 3], "
                     f"got shape {list(image.shape)}")
  if min(image.shape[:2]) < 1:
    raise InputError(f"{name}: empty image of shape {list(image.shape)}")
  if image.dtype == np.uint8:
    return np.ascontiguousarray(image)
  if not np.issubdtype(image.dtype, np.floating):
    raise InputError(f"{name}: expected uint8 or float in [-1, 1], got dtype {image.dtype}")
  if not np.all(np.isfinite(image)) or image.min() < -1.0 - 1e-3 or image.max() > 1.0 + 1e-3:
    raise InputError(f"{name}: float images must be in [-1, 1], got values in "
                     f"[{np.nanmin(image):.3g}, {np.nanmax(image):.3g}]")
  return np.clip(np.round((image.astype(np.float64) + 1.0) * 127.5), 0, 255).astype(np.uint8)


def _hole(mask, shape, *, name: str) -> np.ndarray:
  mask = np.asarray(mask, np.float32)
  if mask.ndim == 3 and mask.shape[-1] == 1:
    mask = mask[..., 0]
  if mask.shape != tuple(shape):
    raise InputError(f"{name}: mask of shape {list(np.shape(mask))} does not match the image's "
                     f"{list(shape)}")
  return mask > 0.5


def masked_image_uint8(image, mask, *, name: str = "image") -> np.ndarray:
  """The project's I_d = (1 - M) * I as uint8: hole pixels mid grey (128), others unchanged."""
  pixels = _to_uint8(image, name=name).copy()
  pixels[_hole(mask, pixels.shape[:2], name=name)] = HOLE_GREY_UINT8
  return pixels


def _check_box(box, *, name: str) -> np.ndarray:
  given = np.asarray(box).tolist()
  try:
    box = np.asarray(box, np.float64).reshape(-1)
  except (TypeError, ValueError):
    box = np.full(1, np.nan)  # not numbers: reported below
  if box.shape != (4,) or not np.all(np.isfinite(box)) or box[2] <= box[0] or box[3] <= box[1]:
    raise InputError(f"{name}: box={given} must be (left, top, right, bottom) "
                     "with right > left and bottom > top")
  return box


def detect_face_landmarks(image, *, mask=None, box=None, upsample: int = 1, name: str = "image",
                          predictor_path: str | None = None) -> FaceLandmarks:
  """dlib's 68 landmarks of the largest face, with §4.2's switches for the hole.

  Args:
    image: uint8 [H, W, 3] / [H, W], or float in [-1, 1] (module docstring).
    mask: optional [H, W(, 1)], 1 on the hole. Detection and landmarks run on the masked
      image (hole = mid grey, the project's I_d); points in the hole get switch 0.
    box: optional (left, top, right, bottom) in pixels: skip face detection and place the
      points in this box (for masked faces the detector misses: pass the unmasked image's box).
    upsample: times dlib's detector upsamples the image (finds faces down to ~40 px at 1).
    name: how error messages name the image (e.g. its file name).
    predictor_path: a dlib 68-point shape predictor file; default face_recognition_models'.

  Returns:
    FaceLandmarks.

  Raises:
    InputError: "<name>: no face found ..." when the detector finds nothing; bad image, mask
      or box; dlib not installed.
  """
  pixels = _to_uint8(image, name=name)
  if mask is not None:
    hole = _hole(mask, pixels.shape[:2], name=name)
    pixels = pixels.copy()
    pixels[hole] = HOLE_GREY_UINT8
  if upsample < 0:
    raise InputError(f"upsample={upsample}: must be >= 0")
  dlib, detector, predictor = _dlib_models(predictor_path)
  if box is None:
    rectangles, scores, _ = detector.run(pixels, int(upsample), 0.0)
    if not len(rectangles):
      hint = "; pass box= (e.g. the box found on the unmasked image)" if mask is not None else ""
      raise InputError(f"{name}: no face found by dlib's frontal face detector "
                       f"(upsample={upsample}){hint}")
    # The largest face is the subject; equal areas: the more confident detection.
    best = max(range(len(rectangles)), key=lambda i: (rectangles[i].area(), scores[i]))
    rectangle, num_faces, box_source = rectangles[best], len(rectangles), "detector"
  else:
    left, top, right, bottom = np.round(_check_box(box, name=name)).astype(int)
    rectangle, num_faces, box_source = dlib.rectangle(left, top, right, bottom), 0, "given"
  shape = predictor(pixels, rectangle)
  points_px = np.array([[p.x, p.y] for p in shape.parts()], np.float32)
  if len(points_px) != landmarks.NUM_FACE_LANDMARKS:
    raise InputError(f"{predictor_path or 'predictor'}: gives {len(points_px)} points, the iBUG scheme "
                     f"needs {landmarks.NUM_FACE_LANDMARKS}")
  face_box = np.array([rectangle.left(), rectangle.top(), rectangle.right(), rectangle.bottom()],
                      np.float32)
  if mask is None:
    hole = np.zeros(pixels.shape[:2], bool)
  # Points off the image count as hidden too (keypoints_visible): their pixels are unknown.
  visible = landmarks.keypoints_visible(points_px, hole.astype(np.float32))
  points, switches = landmarks.apply_switches(landmarks.normalize_to_box(points_px, face_box), visible)
  return FaceLandmarks(points_px=points_px, box=face_box, points=points, switches=switches,
                       box_source=box_source, num_faces=num_faces)


# scikit-image's LFW subset: faces 0-69 train f, faces 70-99 are the validation faces its
# settings are chosen on (binaries/sweep_refiner.py); the astronaut only reports.
LFW_SPLITS = {"train": range(0, 70), "val": range(70, 100), "all": range(0, 100)}


def lfw_subset_faces(*, split: str = "all", upscale: int = 4) -> list[tuple[int, np.ndarray]]:
  """(index, uint8 grey image) of the LFW subset's face crops of `split`, upscaled bicubically
  `upscale` times so dlib's detector sees ~100 px (`lfw_subset_landmarks`)."""
  import skimage.data  # lazy: only the LFW subset needs it; pylint: disable=import-outside-toplevel

  if split not in LFW_SPLITS:
    raise InputError(f"split={split!r}: the LFW subset has the splits {', '.join(LFW_SPLITS)}")
  faces = skimage.data.lfw_subset()[:100]
  result = []
  for index in LFW_SPLITS[split]:
    grey = Image.fromarray(np.round(faces[index] * 255).astype(np.uint8))
    result.append((index, np.asarray(grey.resize((grey.width * upscale, grey.height * upscale), Image.BICUBIC))))
  return result


def lfw_subset_landmarks(*, upscale: int = 4, mirror: bool = True, split: str = "train") -> np.ndarray:
  """dlib's landmarks of the real faces in scikit-image's LFW subset, in box coordinates.

  `skimage.data.lfw_subset()` holds 100 Labeled-Faces-in-the-Wild face crops (25 x 25 grey;
  the other 100 images are not faces). Each face of `split` (LFW_SPLITS: "train" = the first 70,
  the ones f may train on) is upscaled `upscale` times (bicubic) so dlib's detector sees ~100 px,
  detected (largest box; dlib finds 92 of the 100 at upscale 4) and its 68 points normalised to
  dlib's box -- the same frame `detect_face_landmarks` gives the refiner. With `mirror`, each
  shape also appears mirrored (x -> 1 - x, points renumbered by FLIP_PERMUTATION). Real shapes in
  dlib's own box convention, offline: the stand-in for LS3D-W's training shapes that pure
  synthetic faces cannot be.

  Returns:
    float32 [S, 68, 2].
  """
  shapes = []
  for _, pixels in lfw_subset_faces(split=split, upscale=upscale):
    try:
      found = detect_face_landmarks(pixels, upsample=1, name="lfw_subset")
    except InputError as error:
      if "no face found" not in str(error):
        raise
      continue
    shapes.append(landmarks.normalize_to_box(found.points_px, found.box))
  shapes = np.stack(shapes).astype(np.float32)
  if mirror:
    flipped = shapes[:, landmarks.FLIP_PERMUTATION] * np.float32([-1.0, 1.0]) + np.float32([1.0, 0.0])
    shapes = np.concatenate([shapes, flipped.astype(np.float32)])
  return shapes
