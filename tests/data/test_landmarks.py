"""Tests for landmark files, box normalisation, switches, synthetic shapes (pgi_tf.data.landmarks)
and the landmark metrics RLE / cumulative curve / mean-shape baseline (pgi_tf.metrics.landmarks)."""

import sys
import types

import numpy as np
import pytest
import skimage.transform

from pgi_tf.data import landmark_files

from pgi_tf.data import landmarks
from pgi_tf.errors import InputError
from pgi_tf.metrics import landmarks as landmark_metrics

# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------

# A hand-written .pts file in the 300-W layout (CRLF line ends, as many 300-W files have).
HAND_WRITTEN_PTS = ("version: 1\r\nn_points:  68\r\n{\r\n"
                    + "".join(f"{10 + i}.5 {200 - 2 * i}\r\n" for i in range(68))
                    + "}\r\n")


def test_read_pts_hand_written_file(tmp_path):
  path = tmp_path / "face.pts"
  path.write_bytes(HAND_WRITTEN_PTS.encode())
  points = landmark_files.read_pts(path)
  assert points.shape == (68, 2) and points.dtype == np.float32
  np.testing.assert_array_equal(points[0], [10.5, 200.0])
  np.testing.assert_array_equal(points[67], [77.5, 66.0])
  np.testing.assert_array_equal(landmark_files.read_landmarks(path), points)  # dispatch by suffix


def test_pts_round_trip(tmp_path):
  points = np.random.default_rng(0).uniform(0, 500, size=(68, 2)).astype(np.float32)
  path = tmp_path / "round_trip.pts"
  landmark_files.write_pts(path, points)
  assert path.read_text().startswith("version: 1\nn_points:  68\n{\n")
  np.testing.assert_allclose(landmark_files.read_pts(path), points, atol=1e-4)


def test_pts_wrong_point_count_names_the_file(tmp_path):
  path = tmp_path / "short.pts"
  landmark_files.write_pts(path, np.zeros((67, 2)))
  with pytest.raises(InputError, match=r"short\.pts: has 67 points, expected 68$"):
    landmark_files.read_pts(path)


def test_pts_header_disagreeing_with_body(tmp_path):
  path = tmp_path / "liar.pts"
  path.write_text(HAND_WRITTEN_PTS.replace("n_points:  68", "n_points:  70"))
  with pytest.raises(InputError, match=r"liar\.pts: header says n_points: 70 but the file lists 68"):
    landmark_files.read_pts(path)


def test_pts_malformed_and_missing(tmp_path):
  path = tmp_path / "broken.pts"
  path.write_text("version: 1\nn_points: 68\n1 2\n")
  with pytest.raises(InputError, match=r"broken\.pts: not an iBUG \.pts file"):
    landmark_files.read_pts(path)
  with pytest.raises(InputError, match=r"absent\.pts: no such file"):
    landmark_files.read_pts(tmp_path / "absent.pts")


def test_npy_single_and_batched(tmp_path):
  single = np.arange(136, dtype=np.float64).reshape(68, 2)
  np.save(tmp_path / "one.npy", single)
  np.save(tmp_path / "many.npy", np.stack([single, single + 1]))
  np.testing.assert_array_equal(landmark_files.read_npy(tmp_path / "one.npy"), single)
  batched = landmark_files.read_landmarks(tmp_path / "many.npy")
  assert batched.shape == (2, 68, 2) and batched.dtype == np.float32
  np.save(tmp_path / "bad.npy", np.zeros((3, 67, 2)))
  with pytest.raises(InputError, match=r"bad\.npy: has 67 points, expected 68"):
    landmark_files.read_npy(tmp_path / "bad.npy")


def test_t7_without_torchfile_is_a_clear_error(tmp_path, monkeypatch):
  path = tmp_path / "image_001.t7"
  path.write_bytes(b"\x04\x00\x00\x00")
  monkeypatch.setitem(sys.modules, "torchfile", None)  # makes `import torchfile` raise ImportError
  with pytest.raises(InputError, match=r"image_001\.t7: .*needs the optional package 'torchfile'"):
    landmark_files.read_landmarks(path)


def test_t7_through_the_optional_reader(tmp_path, monkeypatch):
  path = tmp_path / "image_002.t7"
  path.write_bytes(b"t7")
  expected = np.random.default_rng(1).uniform(0, 300, size=(68, 2))
  loaded_paths = []
  fake = types.SimpleNamespace(load=lambda p: loaded_paths.append(p) or expected.copy())
  monkeypatch.setitem(sys.modules, "torchfile", fake)
  np.testing.assert_allclose(landmark_files.read_t7(path), expected, rtol=1e-6)
  assert loaded_paths == [path]
  fake.load = lambda p: expected[:67]
  with pytest.raises(InputError, match=r"image_002\.t7: has 67 points, expected 68"):
    landmark_files.read_t7(path)


def test_unknown_landmark_suffix(tmp_path):
  with pytest.raises(InputError, match=r"face\.json: unknown landmark file type '\.json'"):
    landmark_files.read_landmarks(tmp_path / "face.json")


# The first rows of CelebA's list_landmarks_align_celeba.txt, with the count set to 3.
CELEBA_LIST = """3
lefteye_x lefteye_y righteye_x righteye_y nose_x nose_y leftmouth_x leftmouth_y rightmouth_x rightmouth_y
000001.jpg 69  109  106  113   77  142   73  152  108  154
000002.jpg 69  110  107  112   81  135   70  151  108  153
000003.jpg 76  112  104  106  108  128   74  156   98  158
"""


def test_celeba_landmark_list(tmp_path):
  path = tmp_path / "list_landmarks_align_celeba.txt"
  path.write_text(CELEBA_LIST)
  names, points = landmark_files.read_celeba_landmarks(path)
  assert names == ["000001.jpg", "000002.jpg", "000003.jpg"]
  assert points.shape == (3, 5, 2) and points.dtype == np.float32
  np.testing.assert_array_equal(points[0], [[69, 109], [106, 113], [77, 142], [73, 152], [108, 154]])
  np.testing.assert_array_equal(points[2, 2], [108, 128])  # nose of 000003.jpg


def test_celeba_landmark_list_errors(tmp_path):
  path = tmp_path / "list.txt"
  path.write_text(CELEBA_LIST.replace("3\n", "4\n", 1))
  with pytest.raises(InputError, match=r"list\.txt: header says 4 images but the file lists 3"):
    landmark_files.read_celeba_landmarks(path)
  path.write_text(CELEBA_LIST.replace("  77  142", ""))
  with pytest.raises(InputError, match=r"list\.txt:3: expected an image name and 10 coordinates, got 9"):
    landmark_files.read_celeba_landmarks(path)
  path.write_text(CELEBA_LIST.replace("nose_x nose_y ", ""))
  with pytest.raises(InputError, match=r"list\.txt:2: expected the columns"):
    landmark_files.read_celeba_landmarks(path)


# --------------------------------------------------------------------------------------------
# Box normalisation and switches
# --------------------------------------------------------------------------------------------


def test_normalize_to_box_by_hand_and_round_trip():
  box = (10.0, 20.0, 110.0, 220.0)  # 100 wide, 200 high
  points = np.array([[10.0, 20.0], [60.0, 120.0], [110.0, 220.0], [0.0, 320.0]])
  normalised = landmarks.normalize_to_box(points, box)
  np.testing.assert_allclose(normalised, [[0, 0], [0.5, 0.5], [1, 1], [-0.1, 1.5]], atol=1e-7)
  np.testing.assert_allclose(landmarks.denormalize(normalised, box), points, atol=1e-4)
  # One box per face in a batch.
  batch = landmarks.normalize_to_box(np.stack([points, points]), np.array([box, (0, 0, 10, 10)]))
  np.testing.assert_allclose(batch[1, 1], [6.0, 12.0])
  with pytest.raises(InputError, match="box: right > left"):
    landmarks.normalize_to_box(points, (5, 5, 5, 10))


def test_apply_switches_zeroes_hidden_points():
  points = np.array([[[0.2, 0.3], [0.4, 0.5], [0.6, 0.7]]], np.float32)
  dropped, switches = landmarks.apply_switches(points, np.array([[True, False, True]]))
  np.testing.assert_array_equal(dropped, np.array([[[0.2, 0.3], [0.0, 0.0], [0.6, 0.7]]], np.float32))
  np.testing.assert_array_equal(switches, [[1.0, 0.0, 1.0]])
  assert switches.dtype == np.float32
  with pytest.raises(InputError, match="visible: shape"):
    landmarks.apply_switches(points, np.ones((1, 2)))


def test_keypoints_visible_from_a_mask():
  mask = np.zeros((8, 10, 1), np.float32)
  mask[2:5, 3:7] = 1.0  # the hole: rows 2-4, columns 3-6
  points = np.array([[3.0, 2.0],    # in the hole
                     [6.4, 4.4],    # rounds to (6, 4): in the hole
                     [6.6, 4.0],    # rounds to column 7: known pixel
                     [0.0, 0.0],    # known corner
                     [9.6, 1.0],    # rounds to column 10: outside the image
                     [-3.0, 5.0]])  # outside
  np.testing.assert_array_equal(landmarks.keypoints_visible(points, mask),
                                [False, False, True, True, False, False])
  batched = landmarks.keypoints_visible(np.stack([points, points]), np.stack([mask, 0 * mask]))
  np.testing.assert_array_equal(batched[1], [True, True, True, True, False, False])


def test_drop_keypoints_switch_on_rate_is_0_3_within_2_percent():
  shapes = np.broadcast_to(landmarks.MEAN_FACE_SHAPE, (20000, 68, 2))
  dropped, switches = landmarks.drop_keypoints(np.random.default_rng(7), shapes, keep_probability=0.3)
  rate = switches.mean()  # over 1.36 million draws: standard error 0.0004
  assert abs(rate - 0.3) <= 0.02 * 0.3, rate
  per_keypoint = switches.mean(axis=0)  # 20,000 draws each: standard error 0.0032
  assert np.all(np.abs(per_keypoint - 0.3) < 0.02), per_keypoint
  visible = switches.astype(bool)
  np.testing.assert_array_equal(dropped[~visible], 0.0)
  np.testing.assert_array_equal(dropped[visible], shapes[visible])
  # Same generator state -> same draws.
  _, again = landmarks.drop_keypoints(np.random.default_rng(7), shapes[:10])
  np.testing.assert_array_equal(again, switches[:10])
  with pytest.raises(InputError, match="keep_probability=1.5"):
    landmarks.drop_keypoints(np.random.default_rng(0), shapes[:1], keep_probability=1.5)


# --------------------------------------------------------------------------------------------
# Mean shape and synthetic shapes
# --------------------------------------------------------------------------------------------


def test_mean_shape_is_mirror_symmetric_and_iod_by_hand():
  mean = landmarks.MEAN_FACE_SHAPE
  mirrored = mean[landmarks.FLIP_PERMUTATION] * [-1.0, 1.0] + [1.0, 0.0]
  np.testing.assert_allclose(mirrored, mean, atol=1e-6)
  np.testing.assert_array_equal(np.sort(landmarks.FLIP_PERMUTATION), np.arange(68))
  depth = landmarks.MEAN_FACE_DEPTH
  np.testing.assert_allclose(depth, depth[landmarks.FLIP_PERMUTATION])
  # Eye centres by hand: x = (0.190 + 0.235 + 0.292 + 0.340 + 0.292 + 0.235) / 6 = 0.264,
  # mirrored at 1 - 0.264 = 0.736, same height -> IOD = 0.472.
  assert landmarks.inter_ocular_distance(mean) == pytest.approx(0.472, abs=1e-6)


def test_synthetic_shapes_deterministic_by_seed():
  first = landmarks.synthetic_face_shapes(np.random.default_rng(3), 50)
  second = landmarks.synthetic_face_shapes(np.random.default_rng(3), 50)
  other = landmarks.synthetic_face_shapes(np.random.default_rng(4), 50)
  assert first.shape == (50, 68, 2) and first.dtype == np.float32
  np.testing.assert_array_equal(first, second)
  assert np.abs(first - other).mean() > 0.01


def test_synthetic_shapes_without_variation_are_the_mean_shape():
  shapes = landmarks.synthetic_face_shapes(
      np.random.default_rng(0), 3, max_yaw_degrees=0, max_pitch_degrees=0, roll_std_degrees=0,
      scale_range=(1, 1), max_translation=0, max_aspect_change=0, max_mouth_opening=0,
      max_smile=0, brow_raise_range=(0, 0), max_eye_closure=0, point_noise_std=0)
  np.testing.assert_allclose(shapes, np.broadcast_to(landmarks.MEAN_FACE_SHAPE, (3, 68, 2)), atol=1e-6)


def test_synthetic_shapes_vary_in_pose_scale_and_expression():
  shapes, parameters = landmarks.synthetic_face_shapes(np.random.default_rng(5), 2000,
                                                       return_parameters=True)
  iod = landmarks.inter_ocular_distance(shapes)
  assert np.all(iod > 0.1)
  assert iod.std() / iod.mean() > 0.05  # scale and yaw change the IOD
  yaw_proxy = landmarks.yaw_proxy(shapes)
  assert yaw_proxy.std() > 0.1
  # The nose moves towards the side the face turns to: the proxy follows the drawn yaw.
  assert np.corrcoef(yaw_proxy, np.sin(parameters["yaw"]))[0, 1] > 0.9
  # The lips part with the drawn mouth opening (the box scale multiplies it).
  lip_gap = shapes[:, 66, 1] - shapes[:, 62, 1]
  assert np.corrcoef(lip_gap, parameters["mouth_opening"])[0, 1] > 0.8
  # Faces stay in (about) the box.
  assert np.percentile(shapes, 0.5) > -0.1 and np.percentile(shapes, 99.5) < 1.1


def test_synthetic_roll_turns_the_eye_line():
  # Without yaw and pitch (which tilt the projected eye line too), the angle of the line between
  # the eye centres is the drawn roll, up to the point noise.
  shapes, parameters = landmarks.synthetic_face_shapes(
      np.random.default_rng(6), 500, max_yaw_degrees=0, max_pitch_degrees=0, return_parameters=True)
  right, left = landmarks.eye_centres(shapes)
  eye_angle = np.arctan2(left[:, 1] - right[:, 1], left[:, 0] - right[:, 0])
  np.testing.assert_allclose(eye_angle, parameters["roll"], atol=np.radians(2.0))
  assert np.degrees(parameters["roll"]).std() > 5.0


# --------------------------------------------------------------------------------------------
# Metrics: RLE, cumulative curve, mean-shape baseline
# --------------------------------------------------------------------------------------------


def _eyes_four_apart() -> np.ndarray:
  """68 points with the eye centres at (0, 0) and (4, 0): IOD = 4."""
  points = np.zeros((68, 2))
  points[42:48] = [4.0, 0.0]
  points[:17, 1] = np.arange(17)  # the other points anywhere
  return points


def test_rle_by_hand():
  target = _eyes_four_apart()
  predicted = target.copy()
  predicted[0] += [3.0, 4.0]   # error 5 -> RLE 5 / 4 = 1.25
  predicted[30] += [0.0, 2.0]  # error 2 -> RLE 0.5
  rle = landmark_metrics.relative_localization_error(predicted=predicted, target=target)
  expected = np.zeros(68)
  expected[0], expected[30] = 1.25, 0.5
  np.testing.assert_allclose(rle, expected)
  # Scale free: the same face 10x larger has the same RLE.
  scaled = landmark_metrics.relative_localization_error(predicted=10 * predicted, target=10 * target)
  np.testing.assert_allclose(scaled, expected)
  curve = landmark_metrics.cumulative_error_curve(rle, thresholds=[0.0, 0.49, 0.5, 1.0, 1.25, 2.0])
  np.testing.assert_allclose(curve, 100 * np.array([66, 66, 67, 67, 68, 68]) / 68)


def test_cumulative_curve_pools_faces_and_area():
  rle = np.array([[0.0, 0.1], [0.2, 0.3]])
  np.testing.assert_allclose(landmark_metrics.cumulative_error_curve(rle, thresholds=[0.05, 0.25]),
                             [25.0, 75.0])
  # Area of a curve at 100% everywhere is 1, a straight 0 -> 100% ramp 0.5.
  thresholds = np.linspace(0, 1, 11)
  assert landmark_metrics.curve_area(np.full(11, 100.0), thresholds=thresholds) == pytest.approx(1.0)
  assert landmark_metrics.curve_area(100 * thresholds, thresholds=thresholds) == pytest.approx(0.5)


def test_align_similarity_matches_scikit_image():
  rng = np.random.default_rng(11)
  source = rng.uniform(0, 1, size=(68, 2))
  target = source @ np.array([[0.9, 0.3], [-0.3, 0.9]]) + [0.2, -0.1] + rng.normal(0, 0.05, (68, 2))
  subset = rng.random(68) < 0.4
  aligned = landmark_metrics.align_similarity(source, target, weights=subset.astype(float))
  if hasattr(skimage.transform.SimilarityTransform, "from_estimate"):  # scikit-image >= 0.26
    reference = skimage.transform.SimilarityTransform.from_estimate(source[subset], target[subset])
  else:
    reference = skimage.transform.SimilarityTransform()
    assert reference.estimate(source[subset], target[subset])
  np.testing.assert_allclose(aligned, reference(source), atol=1e-9)


def test_fill_from_mean_shape_recovers_similar_faces_exactly():
  mean = landmarks.MEAN_FACE_SHAPE.astype(np.float64)
  angle = np.radians(20)
  rotation = np.array([[np.cos(angle), np.sin(angle)], [-np.sin(angle), np.cos(angle)]])
  face = 0.7 * mean @ rotation + [0.1, 0.2]
  rng = np.random.default_rng(2)
  points, switches = landmarks.drop_keypoints(rng, np.stack([face, face, face]), keep_probability=0.3)
  filled = landmark_metrics.fill_from_mean_shape(points, switches, mean)
  np.testing.assert_allclose(filled, np.broadcast_to(face, filled.shape), atol=1e-5)


def test_fill_from_mean_shape_with_no_or_one_visible_point():
  mean = landmarks.MEAN_FACE_SHAPE
  points = np.zeros((2, 68, 2), np.float32)
  switches = np.zeros((2, 68), np.float32)
  points[1, 30], switches[1, 30] = mean[30] + [0.1, -0.05], 1.0
  filled = landmark_metrics.fill_from_mean_shape(points, switches, mean)
  np.testing.assert_allclose(filled[0], mean)                   # nothing visible: the mean shape
  np.testing.assert_allclose(filled[1], mean + [0.1, -0.05], atol=1e-6)  # one point: translated


def test_fill_keeps_visible_points_and_beats_no_fill_on_synthetic_faces():
  faces = landmarks.synthetic_face_shapes(np.random.default_rng(8), 200)
  points, switches = landmarks.drop_keypoints(np.random.default_rng(9), faces)
  filled = landmark_metrics.fill_from_mean_shape(points, switches, landmarks.MEAN_FACE_SHAPE)
  visible = switches.astype(bool)
  np.testing.assert_array_equal(filled[visible], faces[visible])
  aligned_rle = landmark_metrics.relative_localization_error(predicted=filled, target=faces)
  unaligned = np.where(visible[..., None], points, landmarks.MEAN_FACE_SHAPE)
  unaligned_rle = landmark_metrics.relative_localization_error(predicted=unaligned, target=faces)
  assert aligned_rle[~visible].mean() < unaligned_rle[~visible].mean()
