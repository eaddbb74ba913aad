"""The keypoint refiner trainer (pgi_tf.train.keypoint_refiner) and binaries/train_keypoint_refiner.py:
resume, export round trip, the three data kinds, one-line errors."""

import json
import math
import os

import numpy as np
import pytest
import tensorflow as tf

from configs import keypoint_refiner_faces
from configs import keypoint_refiner_fashion_mnist32
from pgi_tf import hub
from pgi_tf.data import landmark_files
from pgi_tf.data import landmarks
from pgi_tf.errors import InputError
from pgi_tf.models import keypoint_refiner as model_lib
from pgi_tf.train import keypoint_refiner
from tests import tiny_models


def _smoke(**train):
  config = keypoint_refiner_faces.get_config("smoke")
  config.data.num_shapes = 64
  config.data.num_held_out = 16
  for key, value in train.items():
    config.train[key] = value
  return config


@pytest.fixture(scope="module", autouse=True)
def binary_runs(tmp_path_factory):
  """binaries/train_keypoint_refiner.py: a smoke run and a bad flag, started in the background
  when this module begins so they overlap with the in-process tests."""
  root = tmp_path_factory.mktemp("train_keypoint_refiner_binary")
  workdir = str(root / "run")
  pending = tiny_models.start_binary_cases("binaries.train_keypoint_refiner", [
      ["--config=configs/keypoint_refiner_faces.py:smoke", f"--workdir={workdir}",
       "--config.train.num_steps=4", "--config.train.checkpoint_every=2"],
      ["--config=configs/keypoint_refiner_faces.py:smoke", f"--workdir={root / 'bad'}",
       "--config.data.kind=faces_please"],
  ], workdir=str(root / "runner"), parallel=1)  # one at a time: the in-process tests need a core
  yield pending, workdir
  pending.stop()


def test_resume_continues_the_step_count_and_matches_an_uninterrupted_run(tmp_path):
  points, switches = landmarks.drop_keypoints(np.random.default_rng(0),
                                              landmarks.synthetic_face_shapes(np.random.default_rng(1), 8))
  whole = keypoint_refiner.train(_smoke(num_steps=2, checkpoint_every=1), workdir=str(tmp_path / "whole"))
  assert whole["step"] == 2 and whole["resumed_from_step"] == 0
  # "Interrupted" after the first checkpoint: a run that stops at step 1, then the same
  # command with the full step count.
  first = keypoint_refiner.train(_smoke(num_steps=1, checkpoint_every=1), workdir=str(tmp_path / "split"))
  assert first["step"] == 1
  after_one_step = hub.load_keypoint_refiner(first["export_dir"])(points, switches)
  resumed = keypoint_refiner.train(_smoke(num_steps=2, checkpoint_every=1), workdir=str(tmp_path / "split"))
  assert resumed["resumed_from_step"] == 1 and resumed["step"] == 2
  assert os.path.isfile(tmp_path / "split" / "checkpoints" / "ckpt-2.index")
  resumed_refiner = hub.load_keypoint_refiner(resumed["export_dir"])
  after_resume = resumed_refiner(points, switches)
  assert resumed_refiner.metadata["trained_steps"] == 2
  assert np.abs(after_resume - after_one_step).max() > 1e-6  # the resumed run trained
  # Same batches, same weights: the resumed run ends exactly where the uninterrupted one does.
  np.testing.assert_array_equal(after_resume, hub.load_keypoint_refiner(whole["export_dir"])(
      points, switches))


def test_export_round_trip_numpy_and_tf_function(tmp_path):
  model = model_lib.build_keypoint_refiner(model_lib.KeypointRefinerConfig(hidden_units=(8, 8, 8)),
                                           keypoint_mean=landmarks.MEAN_FACE_SHAPE + 0.01,
                                           keypoint_scale=0.2, seed=3)
  path = str(tmp_path / "refiner")
  hub.export_keypoint_refiner(model, path, metadata={"keypoints": "face_ibug68"})
  metadata = hub.read_metadata(path)
  assert metadata["kind"] == "keypoint_refiner" and metadata["num_keypoints"] == 68
  assert metadata["input_names"] == ["keypoints", "switches"] and metadata["output_key"] == "refined"
  loaded = hub.load_keypoint_refiner(path)
  points, switches = landmarks.drop_keypoints(np.random.default_rng(4),
                                              landmarks.synthetic_face_shapes(np.random.default_rng(5), 5))
  expected = model([points, switches]).numpy()
  out = loaded(points, switches)
  assert isinstance(out, np.ndarray) and out.shape == (5, 68, 2)
  np.testing.assert_allclose(out, expected, atol=1e-6)
  in_graph = tf.function(lambda k, d: loaded(k, d) * 1.0)(tf.constant(points), tf.constant(switches))
  assert tf.is_tensor(in_graph)
  np.testing.assert_allclose(in_graph.numpy(), expected, atol=1e-6)
  with pytest.raises(InputError, match=r"expects keypoints \[N, 68, 2\]"):
    loaded(points[:, :10], switches[:, :10])


def test_loader_refuses_other_directories(tmp_path):
  with pytest.raises(InputError, match=r"^--keypoint_refiner=.*nowhere: not a SavedModel directory"):
    hub.load_keypoint_refiner(str(tmp_path / "nowhere"))
  generator_dir = str(tmp_path / "other")
  os.makedirs(generator_dir)
  with open(os.path.join(generator_dir, "saved_model.pb"), "wb"):
    pass
  with open(os.path.join(generator_dir, hub.METADATA_FILENAME), "w") as f:
    json.dump({"kind": "generator"}, f)
  with pytest.raises(InputError, match=r"--refiner=.*other: not a keypoint refiner"):
    hub.load_keypoint_refiner(generator_dir, flag="--refiner")


def test_landmark_files_train_and_a_wrong_point_count_names_the_file(tmp_path):
  shapes = landmarks.synthetic_face_shapes(np.random.default_rng(6), 12)
  folder = tmp_path / "pts"
  os.makedirs(folder / "sub")
  for index, shape in enumerate(shapes[:10]):  # pixels of a 200 px face at (40, 30)
    landmark_files.write_pts(str(folder / f"face{index:02d}.pts"), shape * 200 + [40, 30])
  np.save(folder / "sub" / "two.npy", shapes[10:] * 100)
  config = _smoke(num_steps=2, checkpoint_every=2)
  config.data.kind = "landmark_files"
  config.data.landmark_dir = str(folder)
  config.data.num_held_out = 2
  result = keypoint_refiner.train(config, workdir=str(tmp_path / "run"))
  assert result["step"] == 2 and result["held_out"]["num_shapes"] == 2
  assert hub.read_metadata(result["export_dir"])["keypoints"] == "face_ibug68"
  # Own-box normalisation: every training shape spans [0, 1] in x and y.
  train, held_out = keypoint_refiner.training_shapes(config)
  assert len(train) + len(held_out) == 12
  np.testing.assert_allclose(train.min(axis=1), 0.0, atol=1e-6)
  np.testing.assert_allclose(train.max(axis=1), 1.0, atol=1e-6)
  landmark_files.write_pts(str(folder / "zz_short.pts"), shapes[0][:67] * 200)
  with pytest.raises(InputError, match=r"zz_short\.pts: has 67 points, expected 68"):
    keypoint_refiner.train(config, workdir=str(tmp_path / "run2"))
  config.data.landmark_dir = str(tmp_path / "empty")
  with pytest.raises(InputError, match=r"--config\.data\.landmark_dir=.*empty: no such directory"):
    keypoint_refiner.training_shapes(config)


def test_silhouette_kind_trains_a_16_ray_prior_on_fashion_mnist(tmp_path):
  if not os.path.isdir("/usr/share/datasets/fashion-mnist"):
    pytest.skip("Fashion-MNIST (Debian package dataset-fashion-mnist) not installed")
  config = keypoint_refiner_fashion_mnist32.get_config("smoke")
  config.train.num_steps = 2
  config.train.checkpoint_every = 2
  result = keypoint_refiner.train(config, workdir=str(tmp_path / "run"))
  metadata = hub.read_metadata(result["export_dir"])
  assert metadata["num_keypoints"] == 16 and metadata["keypoints"] == "silhouette_rays"
  assert metadata["num_rays"] == 16 and metadata["resolution"] == 32 and metadata["dataset"] == "fashion_mnist"
  assert "mean_rle_refined" not in result["held_out"]  # RLE needs eyes: faces only
  train, _ = keypoint_refiner.training_shapes(config)
  assert train.shape[1:] == (16, 2) and np.all((train >= 0) & (train <= 1))


def test_config_errors_and_cosine_schedule(tmp_path):
  for field, value, message in (("lr_schedule", "linear", r"lr_schedule=linear: choose constant or cosine"),
                                ("keep_probability", 0.0, r"keep_probability=0.0: must be in \(0, 1\]"),
                                ("batch_size", 0, r"batch_size=0: must be >= 1")):
    with pytest.raises(InputError, match=message):
      keypoint_refiner.train(_smoke(**{field: value}), workdir=str(tmp_path / field))
  config = _smoke(num_steps=1000, lr_schedule="cosine", learning_rate=1e-3, lr_final_fraction=0.1)
  assert keypoint_refiner.chunk_learning_rate(config, at_step=0) == pytest.approx(1e-3)
  assert keypoint_refiner.chunk_learning_rate(config, at_step=500) == pytest.approx(1e-3 * (0.1 + 0.9 * 0.5))
  assert keypoint_refiner.chunk_learning_rate(config, at_step=250) == pytest.approx(
      1e-3 * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi / 4))))
  assert keypoint_refiner.chunk_learning_rate(config, at_step=1000) == pytest.approx(1e-4)
  bad = _smoke()
  bad.data.lfw_dlib_fraction = 1.0
  with pytest.raises(InputError, match=r"lfw_dlib_fraction=1.0: must be in \[0, 1\)"):
    keypoint_refiner.training_shapes(bad)


def test_face_preset_mixes_dlib_lfw_faces():
  pytest.importorskip("dlib")
  config = keypoint_refiner_faces.get_config()
  config.data.num_shapes = 368
  config.data.num_held_out = 4
  train, _ = keypoint_refiner.training_shapes(config)
  # 368 synthetic + copies of the ~184 real shapes making up lfw_dlib_fraction = 0.5 of the pool.
  real = len(train) - 368
  assert real > 0 and abs(real / len(train) - config.data.lfw_dlib_fraction) < 0.1


def test_binary_writes_files_and_rejects_a_bad_flag(binary_runs):
  pending, workdir = binary_runs
  good, bad = pending.results()
  assert good.returncode == 0, good.stderr[-3000:]
  summary = json.loads(good.stdout.strip().splitlines()[-1])
  assert summary["step"] == 4 and summary["resumed_from_step"] == 0
  for name in ("checkpoints/ckpt-2.index", "checkpoints/ckpt-4.index", "checkpoints/config_fingerprint.json",
               "export/keypoint_refiner/saved_model.pb", "export/keypoint_refiner/pgi_tf_metadata.json"):
    assert os.path.isfile(os.path.join(workdir, name)), name
  metadata = hub.read_metadata(os.path.join(workdir, "export", "keypoint_refiner"))
  assert metadata["config_name"] == "keypoint_refiner_faces_smoke" and metadata["trained_steps"] == 4
  assert bad.returncode == 2
  assert bad.stderr.strip().splitlines()[-1] == (
      "error: --config.data.kind=faces_please: choose one of synthetic_faces, landmark_files, silhouette")
  assert "Traceback" not in bad.stderr
