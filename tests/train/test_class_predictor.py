"""The masked-image class predictor (§6.3.3): top-1 by hand, ResNet preprocessing against Keras,
overfitting one batch, weights (offline ImageNet error, keras-applications .h5, .weights.h5),
the smoke preset on a tiny ImageNet (train, resume, export round trip) and the binary."""

import json
import os
import subprocess
import sys

import h5py
import keras
import numpy as np
import pytest
import tensorflow as tf
from keras.src.legacy.saving import legacy_h5_format

from configs import class_predictor_imagenet256
from pgi_tf.evaluation import classification
from pgi_tf import hub
from pgi_tf.errors import InputError
from pgi_tf.models import class_predictor as class_lib
from pgi_tf.train import class_predictor
from tests import fixtures_imagenet

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def tiny_imagenet(tmp_path_factory):
  return fixtures_imagenet.make_imagenet(tmp_path_factory.mktemp("imagenet"))


# --------------------------------------------------------------------------- top-1


class ChannelMeanPredictor:
  """Logits = per-channel mean of the masked image: the class is the brightest channel."""

  def __call__(self, masked_images, masks):
    return tf.reduce_mean(tf.convert_to_tensor(masked_images), axis=(1, 2))


def test_top1_accuracy_by_hand():
  images = np.zeros((4, 2, 2, 3), np.float32)
  masks = np.zeros((4, 2, 2, 1), np.float32)
  # 0: left column red 1.0, right column green 0.6. Unmasked: red (0.5 > 0.3); the left column
  #    masked: green. Label 0 -> unmasked right, masked wrong.
  images[0, :, 0, 0], images[0, :, 1, 1] = 1.0, 0.6
  masks[0, :, 0] = 1.0
  # 1: blue everywhere, hole at one pixel: blue either way. Label 2 -> both right.
  images[1, ..., 2] = 0.5
  masks[1, 0, 0] = 1.0
  # 2: same layout as 0 with label 1 -> unmasked wrong, masked right.
  images[2], masks[2] = images[0], masks[0]
  # 3: green, label 0 -> both wrong.
  images[3, ..., 1] = 0.5
  masks[3, 1, 1] = 1.0
  labels = np.array([0, 2, 1, 0])
  for batch_size in (64, 3, 1):  # the batching must not change the counts
    top1 = classification.top1_accuracy(ChannelMeanPredictor(), images=images, labels=labels,
                                         masks=masks, batch_size=batch_size)
    assert top1 == {"top1_masked": 0.5, "top1_unmasked": 0.5}
  top1 = classification.top1_accuracy(ChannelMeanPredictor(), images=images[:2], labels=labels[:2],
                                       masks=masks[:2])
  assert top1 == {"top1_masked": 0.5, "top1_unmasked": 1.0}


# --------------------------------------------------------------------------- preprocessing


def test_resnet_input_equals_keras_preprocess_input_on_0_255():
  rng = np.random.default_rng(0)
  pixels = rng.integers(0, 256, size=(2, 16, 16, 3)).astype(np.uint8)
  pixels[0, 0, 0] = (255, 0, 0)
  images = pixels.astype(np.float32) / 127.5 - 1.0  # the project's [-1, 1]
  masks = np.zeros((2, 16, 16, 1), np.float32)
  masks[1, 4:8, 4:8] = 1.0
  masked = (1.0 - masks) * images
  got = class_lib.ResNetInput(16)([masked, masks]).numpy()
  expected_pixels = pixels.astype(np.float32)
  expected_pixels[1, 4:8, 4:8] = 127.5  # a hole is 0 in [-1, 1]: mid grey
  expected = keras.applications.resnet.preprocess_input(expected_pixels.copy())
  np.testing.assert_allclose(got, expected, atol=2e-4)
  # By hand: caffe mode is BGR minus the ImageNet means (B 103.939, G 116.779, R 123.68).
  np.testing.assert_allclose(got[0, 0, 0], [0 - 103.939, 0 - 116.779, 255 - 123.68], atol=2e-4)
  np.testing.assert_allclose(got[1, 5, 5], [127.5 - 103.939, 127.5 - 116.779, 127.5 - 123.68], atol=2e-4)
  # Resized to the ResNet's input size: bilinear with antialias on [0, 255], then preprocessed.
  resized = class_lib.ResNetInput(24)([masked, masks]).numpy()
  reference = tf.image.resize(expected_pixels, (24, 24), method="bilinear", antialias=True).numpy()
  np.testing.assert_allclose(resized, keras.applications.resnet.preprocess_input(reference), atol=1e-3)


# --------------------------------------------------------------------------- training


def test_tiny_overfits_one_batch():
  keras.utils.set_random_seed(0)
  model = class_lib.build_class_predictor(architecture="tiny", resolution=16, num_classes=4)
  rng = np.random.default_rng(1)
  images = rng.uniform(-1, 1, size=(8, 16, 16, 3)).astype(np.float32)
  labels = rng.integers(0, 4, size=8).astype(np.int32)
  masks = np.zeros((8, 16, 16, 1), np.float32)
  masks[:, 4:12, 4:12] = 1.0
  masked = (1.0 - masks) * images
  optimizer = keras.optimizers.Adam(1e-2)

  @tf.function
  def step():
    with tf.GradientTape() as tape:
      loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
          labels=labels, logits=model([masked, masks], training=True)))
    optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
    return loss

  first = float(step())
  for _ in range(150):
    last = float(step())
  assert last < first / 10
  top1 = classification.top1_accuracy(model, images=images, labels=labels, masks=masks)
  assert top1["top1_masked"] == 1.0


def test_resnet101_builds_and_one_fine_tune_step_changes_weights():
  model = class_lib.build_class_predictor(architecture="resnet101", resolution=32, num_classes=1000,
                                          input_size=32)
  assert model.output.shape == (None, 1000)
  assert [layer.name for layer in model.layers] == ["masked_images", "masks", "resnet_input", "resnet101", "logits"]
  assert model.get_layer("resnet101").count_params() == 42_658_176  # ResNet-101 without its top
  assert class_lib.freeze_batch_norm(model) == 104
  assert not any("bn" in v.path for v in model.trainable_variables)
  before = {v.path: v.numpy().copy() for v in model.trainable_variables}
  frozen_before = [v.numpy().copy() for v in model.non_trainable_variables]
  images = np.random.default_rng(0).uniform(-1, 1, size=(2, 32, 32, 3)).astype(np.float32)
  masks = np.zeros((2, 32, 32, 1), np.float32)
  masks[:, 8:24, 8:24] = 1.0
  optimizer = keras.optimizers.Adam(1e-3)
  with tf.GradientTape() as tape:
    logits = model([(1 - masks) * images, masks], training=True)
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[3, 7], logits=logits))
  optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
  assert np.isfinite(float(loss))
  changed = [path for path, value in before.items()
             if not np.array_equal(value, next(v for v in model.trainable_variables if v.path == path).numpy())]
  assert len(changed) == len(before)
  for value, variable in zip(frozen_before, model.non_trainable_variables):  # BN statistics kept
    np.testing.assert_array_equal(value, variable.numpy())


# --------------------------------------------------------------------------- weights


def test_imagenet_weights_without_network_is_one_line(tmp_path, monkeypatch):
  monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))  # no cached file can hide it
  for num_classes, name in ((1000, "resnet101_weights_tf_dim_ordering_tf_kernels.h5"),
                            (10, "resnet101_weights_tf_dim_ordering_tf_kernels_notop.h5")):
    with pytest.raises(InputError) as error:
      class_lib.build_class_predictor(architecture="resnet101", resolution=32, num_classes=num_classes,
                                      weights="imagenet", input_size=32)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(f"--config.model.weights=imagenet: cannot download {name}")
    assert message.endswith(f"download {name} from https://storage.googleapis.com/tensorflow/keras-"
                            "applications/resnet/ on a machine with network and pass its path")
  with pytest.raises(InputError, match=r"weights=imagenet: the tiny architecture has no ImageNet weights"):
    class_lib.build_class_predictor(architecture="tiny", resolution=32, num_classes=10, weights="imagenet")


def test_weights_h5_round_trip_and_errors(tmp_path):
  model = class_lib.build_class_predictor(architecture="tiny", resolution=16, num_classes=5)
  path = str(tmp_path / "tiny.weights.h5")
  model.save_weights(path)
  loaded = class_lib.build_class_predictor(architecture="tiny", resolution=16, num_classes=5, weights=path)
  inputs = [np.random.default_rng(0).uniform(-1, 1, (3, 16, 16, 3)).astype(np.float32),
            np.zeros((3, 16, 16, 1), np.float32)]
  np.testing.assert_array_equal(model(inputs), loaded(inputs))
  fresh = class_lib.build_class_predictor(architecture="tiny", resolution=16, num_classes=5)
  assert not np.allclose(model(inputs), fresh(inputs))
  with pytest.raises(InputError, match=r"^--config.model.weights=.*tiny.weights.h5: cannot load into a tiny "
                                       r"class predictor with 7 classes"):
    class_lib.build_class_predictor(architecture="tiny", resolution=16, num_classes=7, weights=path)
  with pytest.raises(InputError, match=r"^--config.model.weights=.*missing.weights.h5: no such weights file$"):
    class_lib.build_class_predictor(architecture="tiny", resolution=16, num_classes=5,
                                    weights=str(tmp_path / "missing.weights.h5"))
  with pytest.raises(InputError, match=r"^--config.model.weights=.*missing.h5: no such weights file$"):
    class_lib.build_class_predictor(architecture="resnet50", resolution=32, num_classes=5,
                                    weights=str(tmp_path / "missing.h5"))
  with pytest.raises(InputError, match=r"weights=.*model.pt: expected imagenet"):
    class_lib.build_class_predictor(architecture="resnet50", resolution=32, num_classes=5, weights="model.pt")
  (tmp_path / "broken.h5").write_bytes(b"not hdf5")
  with pytest.raises(InputError, match=r"broken.h5: unreadable weights file"):
    class_lib.build_class_predictor(architecture="resnet50", resolution=32, num_classes=5, input_size=32,
                                    weights=str(tmp_path / "broken.h5"))


def test_keras_applications_h5_files_full_and_notop(tmp_path):
  """Files in the official legacy format (layer_names, by layer order), written here."""
  keras.utils.set_random_seed(1)
  official = keras.applications.ResNet50(include_top=True, weights=None, input_shape=(32, 32, 3),
                                         classifier_activation=None)
  full_path = str(tmp_path / "resnet50_weights_tf_dim_ordering_tf_kernels.h5")
  with h5py.File(full_path, "w") as stream:
    legacy_h5_format.save_weights_to_hdf5_group(stream, official)
  model = class_lib.build_class_predictor(architecture="resnet50", resolution=32, num_classes=1000,
                                          input_size=32, weights=full_path)
  conv = official.get_layer("conv5_block3_3_conv").get_weights()[0]
  np.testing.assert_array_equal(model.get_layer("resnet50").get_layer("conv5_block3_3_conv").get_weights()[0], conv)
  for got, want in zip(model.get_layer("logits").get_weights(), official.get_layer("predictions").get_weights()):
    np.testing.assert_array_equal(got, want)
  images = np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)
  masks = np.zeros((2, 32, 32, 1), np.float32)
  expected = official(keras.applications.resnet.preprocess_input((images + 1) * 127.5))
  np.testing.assert_allclose(model([images, masks]), expected, rtol=1e-4, atol=1e-4)

  # The _notop file into a 10-class predictor: backbone loaded, new head.
  notop_path = str(tmp_path / "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5")
  backbone = keras.Model(official.input, official.get_layer("conv5_block3_out").output)
  with h5py.File(notop_path, "w") as stream:
    legacy_h5_format.save_weights_to_hdf5_group(stream, backbone)
  model = class_lib.build_class_predictor(architecture="resnet50", resolution=32, num_classes=10,
                                          input_size=32, weights=notop_path)
  np.testing.assert_array_equal(model.get_layer("resnet50").get_layer("conv5_block3_3_conv").get_weights()[0], conv)
  assert model.get_layer("logits").get_weights()[0].shape == (2048, 10)
  # A ResNet-50 file is not ResNet-101 weights.
  with pytest.raises(InputError, match=r"notop.h5: not resnet101 weights \(Layer count mismatch"):
    class_lib.build_class_predictor(architecture="resnet101", resolution=32, num_classes=10, input_size=32,
                                    weights=notop_path)


# --------------------------------------------------------------------------- the trainer


def _smoke_config(data_dir, **train_overrides):
  config = class_predictor_imagenet256.get_config("smoke")
  config.data.source = "imagenet"  # the smoke preset's default is scikit-image's photographs at 16 px
  config.data.data_dir = data_dir
  config.data.resolution = 32
  config.masks.central_sizes = (12, 16)
  for key, value in train_overrides.items():
    setattr(config.train, key, value)
  return config


def test_central_training_masks():
  config = class_predictor_imagenet256.get_config("smoke")
  masks = next(iter(class_predictor.make_training_masks(config, resolution=16, seed=0).batch(40))).numpy()
  sides = {int(np.sqrt(mask.sum())) for mask in masks}
  assert sides == {6, 8}
  for mask in masks:
    side = int(np.sqrt(mask.sum()))
    start = (16 - side) // 2
    assert mask[start:start + side, start:start + side].all()


def test_smoke_preset_trains_resumes_and_export_round_trips(tiny_imagenet, tmp_path, monkeypatch):
  built = []
  build = class_lib.build_class_predictor

  def capturing_build(**kwargs):
    built.append(build(**kwargs))
    return built[-1]

  monkeypatch.setattr(class_lib, "build_class_predictor", capturing_build)
  workdir = str(tmp_path / "run")
  result = class_predictor.train(_smoke_config(tiny_imagenet.root, num_steps=4), workdir=workdir)
  assert result["step"] == 4 and result["resumed_from_step"] == 0
  assert set(result["losses"]) >= {"cross_entropy", "top1_masked", "total"}
  assert os.path.isfile(os.path.join(workdir, "checkpoints", "ckpt-3.index"))
  sidecar = json.load(open(os.path.join(workdir, "samples", "samples_0000003.json")))
  assert sorted(sidecar["true"]) == sorted(label for _, label in tiny_imagenet.val)
  assert set(sidecar["true_wnids"]) == set(fixtures_imagenet.WNIDS)

  # Resume (under MirroredStrategy over two CPUs): the step count continues.
  config = _smoke_config(tiny_imagenet.root, num_steps=6, distribution="mirrored")
  result = class_predictor.train(config, workdir=workdir)
  assert result["step"] == 6 and result["resumed_from_step"] == 4
  assert set(result["top1"]) == {"top1_masked", "top1_unmasked"} and result["heldout_examples"] == 6
  assert os.path.isfile(os.path.join(workdir, "samples", "samples_0000006.png"))

  # The export: metadata, and the same logits as the trained Keras model, eager and in tf.function.
  export_dir = result["export_dir"]
  assert export_dir == os.path.join(workdir, "export", "class_predictor")
  metadata = json.load(open(os.path.join(export_dir, hub.METADATA_FILENAME)))
  assert metadata["kind"] == "class_predictor" and metadata["trained_steps"] == 6
  assert (metadata["resolution"], metadata["num_classes"], metadata["architecture"], metadata["input_size"]) == (
      32, 1000, "tiny", 32)
  assert metadata["base_weights"] == "" and metadata["dataset"] == "imagenet"
  assert metadata["masks"]["central_sizes"] == [12, 16]
  assert metadata["class_names"] == sorted(fixtures_imagenet.WNIDS)
  predictor = hub.load_class_predictor(export_dir)
  assert (predictor.num_classes, predictor.resolution) == (1000, 32)
  images = np.random.default_rng(0).uniform(-1, 1, (3, 32, 32, 3)).astype(np.float32)
  masks = np.zeros((3, 32, 32, 1), np.float32)
  masks[:, 8:24, 8:24] = 1.0
  expected = built[-1]([(1 - masks) * images, masks]).numpy()
  np.testing.assert_allclose(predictor((1 - masks) * images, masks).numpy(), expected, rtol=1e-5, atol=1e-5)
  in_graph = tf.function(lambda x, m: predictor(x, m))
  np.testing.assert_allclose(in_graph((1 - masks) * images, masks).numpy(), expected, rtol=1e-5, atol=1e-5)
  np.testing.assert_array_equal(predictor.labels((1 - masks) * images, masks), np.argmax(expected, axis=-1))
  assert (classification.top1_accuracy(predictor, images=images, labels=[0, 1, 2], masks=masks)
          == classification.top1_accuracy(built[-1], images=images, labels=[0, 1, 2], masks=masks))
  with pytest.raises(AttributeError, match="frozen"):
    predictor.metadata = {}


def test_load_class_predictor_errors(tmp_path):
  with pytest.raises(InputError, match=r"^--label_model=.*nowhere: no such module directory$"):
    hub.load_class_predictor(str(tmp_path / "nowhere"), flag="--label_model")
  with pytest.raises(InputError, match=r"^--class_predictor=.*: not a class predictor exported by pgi_tf "
                                       r"\(no pgi_tf_metadata.json\)$"):
    hub.load_class_predictor(str(tmp_path))
  (tmp_path / hub.METADATA_FILENAME).write_text(json.dumps({"kind": "prior_predictor"}))
  with pytest.raises(InputError, match=r"not a class predictor exported by pgi_tf \(kind 'prior_predictor'\)"):
    hub.load_class_predictor(str(tmp_path))


def test_trainer_refuses_too_few_classes(tiny_imagenet, tmp_path):
  config = _smoke_config(tiny_imagenet.root)
  config.model.num_classes = 2
  with pytest.raises(InputError, match=r"--config.model.num_classes=2: .* has 3 classes"):
    class_predictor.train(config, workdir=str(tmp_path))


def test_binary_writes_export(tiny_imagenet, tmp_path):
  workdir = str(tmp_path / "binary_run")
  command = [sys.executable, "-m", "binaries.train_class_predictor",
             "--config=configs/class_predictor_imagenet256.py:smoke",
             "--config.data.source=imagenet", f"--config.data.data_dir={tiny_imagenet.root}",
             "--config.train.num_steps=2",
             f"--workdir={workdir}"]
  run = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)
  assert run.returncode == 0, run.stderr[-2000:]
  result = json.loads(run.stdout.strip().splitlines()[-1])
  assert result["step"] == 2
  assert hub.read_metadata(result["export_dir"])["kind"] == "class_predictor"
  assert os.path.isfile(os.path.join(result["export_dir"], "saved_model.pb"))
