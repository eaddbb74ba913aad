"""Facial landmarks for the structural prior (§4.2, §6.2): files, normalisation, switches, shapes.

Points are float32 arrays [..., N_K, 2] of (x, y): x horizontal (column), y vertical (row, down).
The iBUG 68-point scheme (300-W, LS3D-W, dlib) numbers them, 0-based:

  jaw 0-16 | eyebrows 17-21, 22-26 | nose bridge 27-30, nostrils 31-35 |
  eyes 36-41 (subject's right eye, image left), 42-47 | mouth outer 48-59, inner 60-67

Contents
  Files         `pgi_tf.data.landmark_files`: .pts, .npy, .t7 and CelebA's 5-point list
  Face box      normalize_to_box / denormalize: pixels <-> [0, 1] in the face box (§4.2)
  Switches      keypoints_visible (from an image mask), apply_switches, drop_keypoints (§4.2)
  Shapes        MEAN_FACE_SHAPE, MEAN_FACE_DEPTH, FLIP_PERMUTATION, synthetic_face_shapes,
                inter_ocular_distance

Coordinates are kept as the file stores them. iBUG .pts files come from MATLAB tools and are
1-based in pixels (the image's top-left pixel centre is (1, 1)); dlib and CelebA are 0-based.
Subtract 1 from .pts coordinates before mixing them with dlib detections on the same image.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from pgi_tf.errors import InputError

NUM_FACE_LANDMARKS = 68  # iBUG scheme (N_K of §4.2)
JAW = tuple(range(0, 17))
EYEBROWS = tuple(range(17, 27))
NOSE = tuple(range(27, 36))
RIGHT_EYE = tuple(range(36, 42))   # subject's right eye: image left on a frontal face
LEFT_EYE = tuple(range(42, 48))    # subject's left eye: image right
MOUTH = tuple(range(48, 68))

# Index i of a face mirrored left <-> right is FLIP_PERMUTATION[i] (for augmentation and tests).
FLIP_PERMUTATION = np.array(
    list(range(16, -1, -1))                      # jaw 0..16 -> 16..0
    + list(range(26, 16, -1))                    # eyebrows 17..26 -> 26..17
    + [27, 28, 29, 30]                           # nose bridge stays
    + [35, 34, 33, 32, 31]                       # nostrils
    + [45, 44, 43, 42, 47, 46]                   # right eye -> left eye
    + [39, 38, 37, 36, 41, 40]                   # left eye -> right eye
    + [54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55]  # outer lip
    + [64, 63, 62, 61, 60, 67, 66, 65],          # inner lip
    dtype=np.int64)

# A frontal, neutral iBUG 68-point face in [0, 1] box coordinates (x right, y down). Written by
# hand from average facial proportions, exactly mirror-symmetric about x = 0.5: jaw from
# x = 0.05 to 0.95 with the chin at y = 0.97, brows at y ~ 0.12-0.19, eye centres at y ~ 0.29
# (inter-ocular distance 0.47, about half the jaw width), nose tip y = 0.60, mouth y ~ 0.69-0.82.
MEAN_FACE_SHAPE = np.array([
    # jaw 0-16
    [0.050, 0.300], [0.058, 0.420], [0.075, 0.535], [0.103, 0.645], [0.148, 0.748],
    [0.212, 0.836], [0.290, 0.905], [0.386, 0.953], [0.500, 0.970], [0.614, 0.953],
    [0.710, 0.905], [0.788, 0.836], [0.852, 0.748], [0.897, 0.645], [0.925, 0.535],
    [0.942, 0.420], [0.950, 0.300],
    # eyebrows 17-21, 22-26
    [0.135, 0.190], [0.190, 0.135], [0.262, 0.118], [0.337, 0.125], [0.410, 0.150],
    [0.590, 0.150], [0.663, 0.125], [0.738, 0.118], [0.810, 0.135], [0.865, 0.190],
    # nose bridge 27-30, nostrils 31-35
    [0.500, 0.260], [0.500, 0.345], [0.500, 0.430], [0.500, 0.515],
    [0.418, 0.575], [0.457, 0.590], [0.500, 0.600], [0.543, 0.590], [0.582, 0.575],
    # right eye 36-41 (outer corner, upper lid x2, inner corner, lower lid x2)
    [0.190, 0.290], [0.235, 0.262], [0.292, 0.260], [0.340, 0.292], [0.292, 0.305],
    [0.235, 0.305],
    # left eye 42-47 (inner corner, upper lid x2, outer corner, lower lid x2)
    [0.660, 0.292], [0.708, 0.260], [0.765, 0.262], [0.810, 0.290], [0.765, 0.305],
    [0.708, 0.305],
    # outer lip 48-59 (right corner, upper lip, left corner, lower lip)
    [0.340, 0.750], [0.390, 0.712], [0.450, 0.692], [0.500, 0.700], [0.550, 0.692],
    [0.610, 0.712], [0.660, 0.750], [0.612, 0.795], [0.556, 0.818], [0.500, 0.823],
    [0.444, 0.818], [0.388, 0.795],
    # inner lip 60-67
    [0.362, 0.750], [0.447, 0.728], [0.500, 0.732], [0.553, 0.728], [0.638, 0.750],
    [0.553, 0.766], [0.500, 0.770], [0.447, 0.766],
], dtype=np.float32)

# Depth of each point towards the camera, in the same units (face box widths), relative to the
# plane of the eyes: the nose tip stands ~0.2 forward, the jaw ends near the ears ~0.4 back.
# Only used to rotate the face in 3D for pose variation in `synthetic_face_shapes`.
MEAN_FACE_DEPTH = np.array([
    -0.42, -0.40, -0.36, -0.30, -0.22, -0.14, -0.06, -0.01, 0.01,
    -0.01, -0.06, -0.14, -0.22, -0.30, -0.36, -0.40, -0.42,          # jaw
    -0.10, -0.03, 0.01, 0.03, 0.03, 0.03, 0.03, 0.01, -0.03, -0.10,  # eyebrows
    0.02, 0.08, 0.14, 0.20, 0.06, 0.10, 0.12, 0.10, 0.06,            # nose
    -0.08, -0.03, -0.02, -0.02, -0.02, -0.04,                         # right eye
    -0.02, -0.02, -0.03, -0.08, -0.04, -0.02,                         # left eye
    -0.04, 0.03, 0.07, 0.08, 0.07, 0.03, -0.04, 0.03, 0.06, 0.07, 0.06, 0.03,  # outer lip
    -0.02, 0.05, 0.06, 0.05, -0.02, 0.05, 0.06, 0.05,                 # inner lip
], dtype=np.float32)


# --------------------------------------------------------------------------------------------
# Face box normalisation (§4.2: "normalized between 0 and 1 based on the face bounding box")
# --------------------------------------------------------------------------------------------


def _box_origin_size(box: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
  box = np.asarray(box, np.float64)
  if box.shape[-1] != 4:
    raise InputError(f"box: expected (left, top, right, bottom), got shape {list(box.shape)}")
  origin = box[..., None, 0:2]
  size = box[..., None, 2:4] - origin
  if np.any(size <= 0):
    raise InputError(f"box: right > left and bottom > top required, got {box.tolist()}")
  return origin, size


def normalize_to_box(points: ArrayLike, box: ArrayLike) -> np.ndarray:
  """Pixels -> [0, 1] coordinates in the face box: (p - (left, top)) / (width, height).

  Args:
    points: [..., N_K, 2] (x, y) in pixels.
    box: (left, top, right, bottom) in pixels, as a dlib rectangle; [4] or [..., 4] matching
      the leading axes of `points`. Points outside the box map outside [0, 1].

  Returns:
    float32 [..., N_K, 2].
  """
  origin, size = _box_origin_size(box)
  return ((np.asarray(points, np.float64) - origin) / size).astype(np.float32)


def denormalize(points: ArrayLike, box: ArrayLike) -> np.ndarray:
  """The inverse of `normalize_to_box`: [0, 1] box coordinates -> pixels."""
  origin, size = _box_origin_size(box)
  return (np.asarray(points, np.float64) * size + origin).astype(np.float32)


def landmark_box(points: ArrayLike, *, margin: float = 0.0) -> np.ndarray:
  """Tight (left, top, right, bottom) box of [..., N_K, 2] points, grown by `margin` x size per side.

  LS3D-W ships landmarks without detector boxes; this box stands in for the face box there.
  """
  points = np.asarray(points, np.float64)
  low, high = points.min(axis=-2), points.max(axis=-2)
  pad = margin * (high - low)
  return np.concatenate([low - pad, high + pad], axis=-1).astype(np.float32)


# --------------------------------------------------------------------------------------------
# Switches (§4.2): d = 0 and x = y = 0 for a point hidden by the hole
# --------------------------------------------------------------------------------------------


def keypoints_visible(points: ArrayLike, masks: ArrayLike) -> np.ndarray:
  """Which keypoints fall on known pixels of a mask (M = 1 on the hole).

  Args:
    points: [N_K, 2] or [N, N_K, 2] (x, y) in pixels, 0-based, pixel centres at integers
      (dlib's convention).
    masks: [H, W], [H, W, 1] or [N, H, W, 1] matching `points`.

  Returns:
    bool [N_K] or [N, N_K]: True where the nearest pixel is inside the image and not in the hole.
  """
  points = np.asarray(points, np.float64)
  masks = np.asarray(masks)
  unbatched = points.ndim == 2
  if unbatched:
    points = points[None]
    masks = masks[None] if masks.ndim == 2 else masks[None, ..., 0] if masks.ndim == 3 else masks
  if masks.ndim == 4:
    masks = masks[..., 0]
  if masks.ndim != 3 or masks.shape[0] != points.shape[0]:
    raise InputError(f"masks: expected [H, W(, 1)] or [N, H, W, 1] matching {points.shape[0]} "
                     f"point sets, got shape {list(np.shape(masks))}")
  height, width = masks.shape[1:]
  columns = np.floor(points[..., 0] + 0.5).astype(np.int64)
  rows = np.floor(points[..., 1] + 0.5).astype(np.int64)
  inside = (columns >= 0) & (columns < width) & (rows >= 0) & (rows < height)
  batch = np.arange(points.shape[0])[:, None]
  hole = masks[batch, np.clip(rows, 0, height - 1), np.clip(columns, 0, width - 1)] > 0.5
  visible = inside & ~hole
  return visible[0] if unbatched else visible


def apply_switches(points: ArrayLike, visible: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
  """§4.2's input encoding: hidden points become x = y = 0 with switch d = 0, others keep d = 1.

  Args:
    points: [..., N_K, 2].
    visible: bool or {0, 1} [..., N_K].

  Returns:
    (float32 points with hidden ones zeroed [..., N_K, 2], float32 switches d [..., N_K]).
  """
  points = np.asarray(points, np.float32)
  switches = np.asarray(visible).astype(np.float32)
  if switches.shape != points.shape[:-1]:
    raise InputError(f"visible: shape {list(switches.shape)} does not match points "
                     f"{list(points.shape)}")
  return points * switches[..., None], switches


def drop_keypoints(rng: np.random.Generator, points: ArrayLike, *,
                   keep_probability: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
  """Training-time random dropping (§4.2): each switch is on with probability `keep_probability`.

  The paper sets the switch-on probability to 0.3, i.e. 70% of the keypoints are hidden while
  training the refiner. Switches are independent Bernoulli draws per keypoint.

  Returns:
    (dropped points [..., N_K, 2], switches [..., N_K]) as in `apply_switches`.
  """
  if not 0.0 <= keep_probability <= 1.0:
    raise InputError(f"keep_probability={keep_probability}: must be in [0, 1]")
  points = np.asarray(points, np.float32)
  visible = rng.random(points.shape[:-1]) < keep_probability
  return apply_switches(points, visible)


# --------------------------------------------------------------------------------------------
# Shapes: inter-ocular distance and an offline source of realistic 68-point faces
# --------------------------------------------------------------------------------------------


def eye_centres(points: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
  """Centres of the two eyes of [..., 68, 2] points: means of points 36-41 and 42-47."""
  points = np.asarray(points, np.float64)
  if points.shape[-2:] != (NUM_FACE_LANDMARKS, 2):
    raise InputError(f"points: eye centres need [..., 68, 2] iBUG points, got {list(points.shape)}")
  return points[..., 36:42, :].mean(axis=-2), points[..., 42:48, :].mean(axis=-2)


def inter_ocular_distance(points: ArrayLike) -> np.ndarray:
  """IOD (§6.2): distance between the eye centres (means of points 36-41 and 42-47), [...]."""
  right, left = eye_centres(points)
  return np.linalg.norm(left - right, axis=-1)


def _rotation_matrices(yaw: np.ndarray, pitch: np.ndarray, roll: np.ndarray) -> np.ndarray:
  """[count, 3, 3] rotations R = roll @ pitch @ yaw acting on (x right, y down, z to the camera)."""
  count = yaw.shape[0]
  cy, sy, cp, sp, cr, sr = (np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch),
                            np.cos(roll), np.sin(roll))
  zeros, ones = np.zeros(count), np.ones(count)
  # Yaw about the vertical axis: positive yaw turns the face towards the image right, so the
  # nose tip (z > 0) moves right and the image-right side turns away and is foreshortened.
  yaw_matrix = np.stack([np.stack([cy, zeros, sy], -1), np.stack([zeros, ones, zeros], -1),
                         np.stack([-sy, zeros, cy], -1)], -2)
  # Pitch about the horizontal axis: positive pitch looks up, the nose tip moves up (y falls).
  pitch_matrix = np.stack([np.stack([ones, zeros, zeros], -1), np.stack([zeros, cp, -sp], -1),
                           np.stack([zeros, sp, cp], -1)], -2)
  # Roll in the image plane, clockwise on screen for positive angles (y points down).
  roll_matrix = np.stack([np.stack([cr, -sr, zeros], -1), np.stack([sr, cr, zeros], -1),
                          np.stack([zeros, zeros, ones], -1)], -2)
  return roll_matrix @ pitch_matrix @ yaw_matrix


def _tight_box_centre(points: ArrayLike) -> np.ndarray:
  points = np.asarray(points, np.float64)
  return 0.5 * (points.min(axis=-2, keepdims=True) + points.max(axis=-2, keepdims=True))


def synthetic_face_shapes(rng: np.random.Generator, count: int, *,
                          max_yaw_degrees: float = 50.0,
                          max_pitch_degrees: float = 20.0,
                          roll_std_degrees: float = 8.0,
                          scale_range: tuple[float, float] = (0.85, 1.1),
                          max_translation: float = 0.05,
                          max_aspect_change: float = 0.08,
                          max_mouth_opening: float = 0.12,
                          max_smile: float = 0.035,
                          brow_raise_range: tuple[float, float] = (-0.02, 0.05),
                          max_eye_closure: float = 1.0,
                          point_noise_std: float = 0.004,
                          return_parameters: bool = False,
                          ) -> np.ndarray | tuple[np.ndarray, dict[str, np.ndarray]]:
  """Realistic 68-point face shapes in [0, 1] face box coordinates, made offline (no data set).

  Stands in for LS3D-W in tests and benchmarks. How a shape is made, in order:
    1. identity: MEAN_FACE_SHAPE (hand-written frontal face) with its width scaled by
       1 + U(-max_aspect_change, max_aspect_change) about the centre line;
    2. expression, on the frontal shape:
       - mouth opening a = max_mouth_opening * U(0,1)^2: the lower lip (55-59, 65-67) moves down
         by a, the mouth corners by a/2, and the chin (jaw 5-11) by up to a, as a jaw drop does;
       - smile s = max_smile * U(0,1): mouth corners move out by s and up by s/2;
       - eyebrow raise b ~ U(brow_raise_range): points 17-26 move up by b (negative: frown);
       - eye closure c = max_eye_closure * U(0,1)^4 (mostly open): upper lids 37, 38, 43, 44
         move a fraction c of the way to the lower lids;
    3. pose: the points get depths MEAN_FACE_DEPTH and are rotated in 3D about the box centre by
       yaw ~ U(+-max_yaw), pitch ~ U(+-max_pitch), roll ~ N(0, roll_std) clipped to +-3 std, then
       projected orthographically, then shifted so the centre of the points' tight box stays
       where the frontal face has it (a detector centres its box on the visible face). Yaw
       foreshortens the side turned away from the camera and moves the nose over it; like
       LS3D-W's "3D" annotations, points hidden by the face itself keep their projected position;
    4. framing: scaled by U(scale_range) about the box centre and shifted by U(+-max_translation)
       per axis, as a face detector's box jitters around the face;
    5. i.i.d. Gaussian noise of std `point_noise_std` on every coordinate (annotation noise).
  All variation off (zero ranges, scale (1, 1)) gives MEAN_FACE_SHAPE exactly.

  Args:
    rng: numpy Generator; the same seed gives the same shapes.
    count: number of shapes.

  Returns:
    float32 [count, 68, 2]; with `return_parameters`, also a dict of the [count] float64 draws
    (yaw, pitch, roll in radians; scale, translation_x/y, aspect, mouth_opening, smile,
    brow_raise, eye_closure).
  """
  if count < 0:
    raise InputError(f"count={count}: must be >= 0")
  parameters, noise = _draw_face_parameters(
      rng, count, max_yaw_degrees=max_yaw_degrees, max_pitch_degrees=max_pitch_degrees,
      roll_std_degrees=roll_std_degrees, scale_range=scale_range, max_translation=max_translation,
      max_aspect_change=max_aspect_change, max_mouth_opening=max_mouth_opening, max_smile=max_smile,
      brow_raise_range=brow_raise_range, max_eye_closure=max_eye_closure,
      point_noise_std=point_noise_std)
  frontal = _frontal_face_with_expression(parameters)
  shapes = _posed_and_framed(frontal, parameters, noise).astype(np.float32)
  if not return_parameters:
    return shapes
  return shapes, parameters


def _draw_face_parameters(rng: np.random.Generator, count: int, *, max_yaw_degrees: float,
                          max_pitch_degrees: float, roll_std_degrees: float,
                          scale_range: tuple[float, float], max_translation: float,
                          max_aspect_change: float, max_mouth_opening: float, max_smile: float,
                          brow_raise_range: tuple[float, float], max_eye_closure: float,
                          point_noise_std: float) -> tuple[dict[str, np.ndarray], np.ndarray]:
  """The random draws of `synthetic_face_shapes`: ({name: [count]}, noise [count, 68, 2]).

  The draw order is part of the output (the same seed must give the same shapes).
  """
  uniform = lambda low, high: rng.uniform(low, high, size=count)  # noqa: E731
  aspect = 1.0 + uniform(-max_aspect_change, max_aspect_change)
  mouth_opening = max_mouth_opening * uniform(0.0, 1.0) ** 2
  smile = max_smile * uniform(0.0, 1.0)
  brow_raise = uniform(*brow_raise_range)
  eye_closure = max_eye_closure * uniform(0.0, 1.0) ** 4
  yaw = np.radians(uniform(-max_yaw_degrees, max_yaw_degrees))
  pitch = np.radians(uniform(-max_pitch_degrees, max_pitch_degrees))
  roll = np.radians(np.clip(rng.normal(0.0, 1.0, size=count), -3.0, 3.0) * roll_std_degrees)
  scale = uniform(*scale_range)
  translation = np.stack([uniform(-max_translation, max_translation),
                          uniform(-max_translation, max_translation)], -1)
  noise = rng.normal(0.0, point_noise_std, size=(count, NUM_FACE_LANDMARKS, 2))
  parameters = dict(yaw=yaw, pitch=pitch, roll=roll, scale=scale, translation_x=translation[:, 0],
                    translation_y=translation[:, 1], aspect=aspect, mouth_opening=mouth_opening,
                    smile=smile, brow_raise=brow_raise, eye_closure=eye_closure)
  return parameters, noise


def _frontal_face_with_expression(parameters: dict[str, np.ndarray]) -> np.ndarray:
  """Steps 1-2 of `synthetic_face_shapes`: float64 [count, 68, 2], x centred on 0, y in box units."""
  aspect, mouth_opening = parameters["aspect"], parameters["mouth_opening"]
  smile, brow_raise, eye_closure = (parameters["smile"], parameters["brow_raise"],
                                    parameters["eye_closure"])
  count = aspect.shape[0]
  shapes = np.broadcast_to(MEAN_FACE_SHAPE.astype(np.float64), (count, NUM_FACE_LANDMARKS, 2)).copy()
  x, y = shapes[..., 0], shapes[..., 1]  # views into `shapes`
  x -= 0.5
  x *= aspect[:, None]
  # Expression (all displacements in box units, y down).
  lower_lip = [55, 56, 57, 58, 59, 65, 66, 67]
  y[:, lower_lip] += mouth_opening[:, None]
  y[:, [48, 54, 60, 64]] += 0.5 * mouth_opening[:, None]
  chin_weights = np.array([0.3, 0.6, 0.85, 1.0, 0.85, 0.6, 0.3])
  y[:, 5:12] += mouth_opening[:, None] * chin_weights
  x[:, [48, 60]] -= smile[:, None]
  x[:, [54, 64]] += smile[:, None]
  y[:, [48, 54, 60, 64]] -= 0.5 * smile[:, None]
  y[:, 17:27] -= brow_raise[:, None]
  for upper, lower in ((37, 41), (38, 40), (43, 47), (44, 46)):
    y[:, upper] += eye_closure * (y[:, lower] - y[:, upper])
  return shapes


def _posed_and_framed(frontal: np.ndarray, parameters: dict[str, np.ndarray],
                      noise: np.ndarray) -> np.ndarray:
  """Steps 3-5 of `synthetic_face_shapes`: rotate and project, frame, add noise (float64)."""
  x, y = frontal[..., 0], frontal[..., 1]
  # Pose: rotate (x, y - 0.5, depth) about the box centre and project orthographically.
  depth = np.broadcast_to(MEAN_FACE_DEPTH.astype(np.float64) * parameters["aspect"][:, None], x.shape)
  points_3d = np.stack([x, y - 0.5, depth], -1)
  rotations = _rotation_matrices(parameters["yaw"], parameters["pitch"], parameters["roll"])
  rotated = (points_3d @ np.swapaxes(rotations, -1, -2))[..., :2]
  # A face detector centres its box on the face it sees: keep the centre of the points' tight
  # box where the frontal face has it (a turned face would otherwise drift towards one side).
  rotated += _tight_box_centre(MEAN_FACE_SHAPE - [0.5, 0.5]) - _tight_box_centre(rotated)
  translation = np.stack([parameters["translation_x"], parameters["translation_y"]], -1)
  return 0.5 + parameters["scale"][:, None, None] * rotated + translation[:, None, :] + noise


def yaw_proxy(points: ArrayLike) -> np.ndarray:
  """Horizontal offset of the nose tip (30) from the eyes' midpoint, in IODs: ~sin(yaw) * 0.4.

  0 for a frontal face; positive when the face turns so the nose moves to the image right.
  """
  right, left = eye_centres(points)
  nose_tip = np.asarray(points, np.float64)[..., 30, :]
  return (nose_tip[..., 0] - 0.5 * (right[..., 0] + left[..., 0])) / inter_ocular_distance(points)
