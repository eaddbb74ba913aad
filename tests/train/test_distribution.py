"""--distribution and --cpu_replicas on every trainer (binaries/_train_flags.py), and the trainers
that gained a strategy: the keypoint refiner, the regression inpainter, the FID classifier.
The pytest process already has two logical CPUs (tests/conftest.py)."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from configs import fashion_mnist32_regression
from configs import keypoint_refiner_faces
from pgi_tf.data import landmarks
from pgi_tf.errors import InputError
from pgi_tf.models import keypoint_refiner as refiner_lib
from pgi_tf.train import keypoint_refiner
from pgi_tf.train import regression_inpainter
from pgi_tf.train import runtime
from tests import tiny_models

TRAINERS = ("train_gan", "train_prior", "train_sequence_prior", "train_critic", "train_class_predictor",
            "train_keypoint_refiner", "train_regression_inpainter", "train_fid_classifier")


def test_every_trainer_binary_takes_the_two_flags_from_one_module():
  for name in TRAINERS:
    with open(os.path.join(tiny_models.REPO, "binaries", f"{name}.py")) as f:
      source = f.read()
    assert "_train_flags.apply(" in source and "DEFINE_enum(\"distribution\"" not in source, name


def test_split_cpu_refuses_zero_and_a_started_runtime():
  with pytest.raises(InputError, match=r"--cpu_replicas=0: must be >= 1"):
    runtime.split_cpu(0)
  tf.constant(1.0)  # the runtime runs
  current = len(tf.config.list_logical_devices("CPU"))
  runtime.split_cpu(current)  # what it already is: fine
  with pytest.raises(InputError, match=r"--cpu_replicas=5: TensorFlow's runtime is already initialised"):
    runtime.split_cpu(5)


def test_keypoint_refiner_steps_on_two_replicas_equal_one_device_steps():
  """Each replica takes half the batch and the loss is averaged over the global batch, so the
  mirrored update is the single-device update (up to float summation order)."""
  assert len(tf.config.list_logical_devices("CPU")) == 2
  shapes = landmarks.synthetic_face_shapes(np.random.default_rng(0), 64).astype(np.float32)
  config = refiner_lib.KeypointRefinerConfig(hidden_units=(16, 16, 16))
  weights, losses = [], []
  for strategy in (tf.distribute.get_strategy(), runtime.make_strategy("mirrored")):
    model, history = keypoint_refiner.train_keypoint_refiner(shapes_train=shapes, steps=3, batch_size=8, seed=1,
                                                             config=config, strategy=strategy)
    weights.append([v.numpy() for v in model.trainable_variables])
    losses.append(history)
  np.testing.assert_allclose(losses[0], losses[1], rtol=1e-5)
  assert losses[0][0] != losses[0][-1]  # it trained
  for single, mirrored in zip(*weights):
    np.testing.assert_allclose(single, mirrored, rtol=1e-4, atol=1e-6)


def test_keypoint_refiner_trains_mirrored_and_regression_inpainter_checks_the_replicas(tmp_path):
  config = keypoint_refiner_faces.get_config("smoke")
  config.train.distribution = "mirrored"
  result = keypoint_refiner.train(config, workdir=str(tmp_path / "refiner"))
  assert result["step"] == config.train.num_steps and np.isfinite(result["loss_eq9"])
  assert os.path.isfile(os.path.join(result["export_dir"], "saved_model.pb"))

  # (A mirrored regression run: tests/train/test_training_feedback.py.) Its strategy comes from
  # runtime.start_run, whose check of the two replicas it now gets like the other trainers.
  config = fashion_mnist32_regression.get_config("smoke")
  config.train.update(distribution="mirrored", batch_size=7)
  with pytest.raises(InputError, match="batch_size=7: must be divisible by the 2 replicas"):
    regression_inpainter.train(config, workdir=str(tmp_path / "odd"))


def test_binaries_split_the_cpu_for_mirrored(tmp_path):
  fid = str(tmp_path / "fid")
  runs = tiny_models.run_binary_cases("binaries.train_fid_classifier", [
      [f"--output={fid}", "--distribution=mirrored", "--cpu_replicas=2", "--epochs=1", "--steps_per_epoch=2",
       "--batch_size=8", "--resolution=16"],
      [f"--output={tmp_path / 'fid3'}", "--distribution=mirrored", "--cpu_replicas=3", "--batch_size=8"],
      [f"--output={tmp_path / 'fid0'}", "--cpu_replicas=0"],
  ], workdir=str(tmp_path / "cases"), timeout=240)
  assert runs[0].returncode == 0, runs[0].stderr[-2000:]
  result = json.loads(runs[0].stdout.strip().splitlines()[-1])
  assert result["replicas"] == 2 and result["output"] == fid
  assert os.path.isfile(os.path.join(fid, "saved_model.pb"))
  # Three logical CPUs really are three replicas: a batch of 8 does not split over them.
  assert runs[1].returncode == 2 and runs[1].stderr.strip().splitlines()[-1] == (
      "error: --batch_size=8: must be divisible by the 3 replicas")
  assert runs[2].returncode == 2 and runs[2].stderr.strip().splitlines()[-1] == (
      "error: --cpu_replicas=0: must be >= 1")
