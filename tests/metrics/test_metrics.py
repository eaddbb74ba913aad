"""Metrics: Frechet maths vs scipy, PSNR/SSIM/L1 vs hand values and skimage, extractor loading."""

import os
import urllib.error

import keras
import numpy as np
import pytest
import scipy.linalg
import skimage.metrics
import tensorflow as tf

from pgi_tf.errors import InputError
from pgi_tf.metrics import extractors
from pgi_tf.metrics import frechet
from pgi_tf.metrics import image_quality


def _random_covariance(rng, dim, samples=None):
  features = rng.normal(size=(samples or 3 * dim + 5, dim)) @ rng.normal(size=(dim, dim))
  return np.cov(features, rowvar=False)


# --------------------------------------------------------------------------- Frechet maths

@pytest.mark.parametrize("dim", [1, 3, 8, 32])
def test_sqrtm_psd_matches_scipy(dim):
  rng = np.random.default_rng(dim)
  matrix = np.atleast_2d(_random_covariance(rng, dim))
  root = frechet.sqrtm_psd(matrix)
  np.testing.assert_allclose(root, np.real(scipy.linalg.sqrtm(matrix)), rtol=1e-6, atol=1e-9)
  np.testing.assert_allclose(root @ root, matrix, rtol=1e-8, atol=1e-10)
  np.testing.assert_array_equal(root, root.T)


@pytest.mark.parametrize("dim", [2, 10, 64])
def test_frechet_distance_matches_scipy_formula(dim):
  rng = np.random.default_rng(100 + dim)
  mean1, mean2 = rng.normal(size=dim), rng.normal(size=dim)
  cov1, cov2 = _random_covariance(rng, dim), _random_covariance(rng, dim)
  direct = (np.sum((mean1 - mean2) ** 2) + np.trace(cov1) + np.trace(cov2)
            - 2 * np.trace(np.real(scipy.linalg.sqrtm(cov1 @ cov2))))
  value = frechet.frechet_distance(mean1=mean1, cov1=cov1, mean2=mean2, cov2=cov2)
  assert isinstance(value, float)
  np.testing.assert_allclose(value, direct, rtol=1e-5)


def test_frechet_distance_singular_covariances_matches_scipy():
  # Fewer samples than dimensions: rank-deficient covariances (pytorch-fid's epsilon case).
  rng = np.random.default_rng(7)
  cov1, cov2 = _random_covariance(rng, 20, samples=8), _random_covariance(rng, 20, samples=12)
  zeros = np.zeros(20)
  direct = np.trace(cov1) + np.trace(cov2) - 2 * np.trace(np.real(scipy.linalg.sqrtm(cov1 @ cov2)))
  value = frechet.frechet_distance(mean1=zeros, cov1=cov1, mean2=zeros, cov2=cov2)
  np.testing.assert_allclose(value, direct, rtol=1e-4)


def test_frechet_distance_identical_statistics_is_zero():
  rng = np.random.default_rng(3)
  mean, cov = rng.normal(size=64), _random_covariance(rng, 64)
  assert frechet.frechet_distance(mean1=mean, cov1=cov, mean2=mean, cov2=cov) == pytest.approx(
      0.0, abs=1e-6)


def test_frechet_distance_diagonal_closed_form():
  # Diagonal covariances: (C1 C2)^{1/2} = diag(sqrt(a b)), so
  # FD = |mu diff|^2 + sum (sqrt a - sqrt b)^2.
  a, b = np.array([1.0, 4.0, 9.0, 0.25]), np.array([4.0, 1.0, 9.0, 1.0])
  mean1, mean2 = np.array([0.0, 1.0, 2.0, 3.0]), np.array([1.0, 1.0, 0.0, 3.0])
  expected = 1.0 + 4.0 + (1 + 1 + 0 + 0.25)
  value = frechet.frechet_distance(mean1=mean1, cov1=np.diag(a), mean2=mean2, cov2=np.diag(b))
  assert value == pytest.approx(expected, rel=1e-12)


def test_gaussian_statistics_and_features_distance():
  rng = np.random.default_rng(11)
  features = rng.normal(size=(50, 6))
  mean, cov = frechet.gaussian_statistics(features)
  np.testing.assert_allclose(mean, features.mean(axis=0))
  np.testing.assert_allclose(cov, np.cov(features.T, ddof=1))
  assert frechet.frechet_distance_from_features(features, features) == pytest.approx(0, abs=1e-9)
  # A constant shift moves only the mean: FD = |shift|^2 exactly.
  shift = np.array([1.0, -2.0, 0.0, 0.5, 0.0, 3.0])
  assert frechet.frechet_distance_from_features(features, features + shift) == pytest.approx(
      np.sum(shift ** 2), rel=1e-9)


def test_frechet_rejects_bad_shapes():
  with pytest.raises(ValueError, match="at least 2 samples"):
    frechet.gaussian_statistics(np.zeros((1, 4)))
  with pytest.raises(ValueError, match="different dimensions"):
    frechet.frechet_distance(mean1=np.zeros(2), cov1=np.eye(2), mean2=np.zeros(3), cov2=np.eye(3))
  with pytest.raises(ValueError, match="one D-dimensional"):
    frechet.frechet_distance(mean1=np.zeros(2), cov1=np.eye(3), mean2=np.zeros(2), cov2=np.eye(2))


# --------------------------------------------------------------------------- PSNR, SSIM, L1

def test_psnr_by_hand():
  rng = np.random.default_rng(0)
  references = rng.uniform(-0.5, 0.5, size=(3, 8, 8, 3)).astype(np.float32)
  images = references + 0.2   # 0.1 in [0, 1] units -> MSE 0.01 -> 20 dB
  np.testing.assert_allclose(image_quality.psnr(images=images, references=references), 20.0,
                             rtol=1e-5)
  identical = image_quality.psnr(images=references, references=references)
  np.testing.assert_array_equal(identical, image_quality.PSNR_CAP_DB)


def test_psnr_matches_skimage():
  rng = np.random.default_rng(1)
  images, references = rng.uniform(-1, 1, size=(2, 2, 16, 16, 1))
  expected = [skimage.metrics.peak_signal_noise_ratio((r + 1) / 2, (i + 1) / 2, data_range=1)
              for i, r in zip(images, references)]
  np.testing.assert_allclose(image_quality.psnr(images=images, references=references), expected,
                             rtol=1e-10)


def _smooth_pair(rng, size, channels):
  """A structured reference (blurred noise) and a noisy copy, in [-1, 1]."""
  reference = rng.uniform(-1, 1, size=(2, size, size, channels)).astype(np.float32)
  reference = tf.nn.avg_pool2d(reference, 3, 1, "SAME").numpy()
  noisy = np.clip(reference + rng.normal(0, 0.2, size=reference.shape), -1, 1).astype(np.float32)
  return noisy, reference


@pytest.mark.parametrize("size,channels", [(64, 1), (32, 3), (16, 1), (48, 3)])
def test_ssim_matches_skimage(size, channels):
  rng = np.random.default_rng(size + channels)
  images, references = _smooth_pair(rng, size, channels)
  settings = image_quality.ssim_settings(size, size)
  expected = [skimage.metrics.structural_similarity(
      (i.astype(np.float64) + 1) / 2, (r.astype(np.float64) + 1) / 2, gaussian_weights=True,
      sigma=settings["filter_sigma"], use_sample_covariance=False, data_range=1, channel_axis=-1)
      for i, r in zip(images, references)]
  values = image_quality.ssim(images=images, references=references)
  assert values.shape == (2,)
  np.testing.assert_allclose(values, expected, atol=2e-5)
  np.testing.assert_allclose(image_quality.ssim(images=references, references=references), 1.0,
                             atol=1e-5)


def test_ssim_filter_size_rule():
  assert image_quality.ssim_filter_size(64, 128) == 11
  assert image_quality.ssim_filter_size(32, 32) == 7
  assert image_quality.ssim_filter_size(16, 16) == 5
  assert image_quality.ssim_settings(64, 64)["filter_sigma"] == pytest.approx(1.5)
  with pytest.raises(ValueError, match="filter_size"):
    image_quality.ssim(images=np.zeros((1, 8, 8, 1)), references=np.zeros((1, 8, 8, 1)),
                       filter_size=11)


def test_l1_by_hand_and_shape_check():
  references = np.zeros((2, 4, 4, 1), np.float32)
  images = references.copy()
  images[0, :2] = 1.0          # half the pixels off by 0.5 in [0, 1] units -> 0.25
  images[1] = -0.4             # every pixel off by 0.2 in [0, 1] units -> 0.2
  np.testing.assert_allclose(image_quality.l1(images=images, references=references), [0.25, 0.2],
                             rtol=1e-6)
  with pytest.raises(ValueError, match="differ in shape"):
    image_quality.l1(images=images, references=references[:, :3])


# --------------------------------------------------------------------------- extractors

def _tiny_conv_net(resolution=16, channels=1):
  keras.utils.set_random_seed(0)
  inputs = keras.Input((resolution, resolution, channels))
  x = keras.layers.Conv2D(4, 3, strides=2, activation="relu")(inputs)
  x = keras.layers.GlobalAveragePooling2D()(x)
  features = keras.layers.Dense(5, name="embedding")(x)
  logits = keras.layers.Dense(3)(features)
  return keras.Model(inputs, logits), keras.Model(inputs, features)


def test_savedmodel_extractor_round_trip(tmp_path):
  model, feature_model = _tiny_conv_net()
  path = str(tmp_path / "extractor")
  extractors.export_feature_extractor(model, path, feature_layer_name="embedding")
  assert not [p for p in os.listdir(tmp_path) if ".tmp-" in p]   # atomic: no leftovers
  extractor = extractors.load_extractor(f"savedmodel:{path}")
  assert isinstance(extractor, extractors.FeatureExtractor)
  assert extractor.name == f"savedmodel:{path}"
  assert extractor.metadata["feature_dim"] == 5
  images = tf.random.uniform([10, 16, 16, 1], -1, 1, seed=1).numpy()
  expected = feature_model(images).numpy()
  np.testing.assert_allclose(extractor(images), expected, rtol=1e-5, atol=1e-6)
  # Batched arrays and a tf.data dataset of (images, labels) give the same features.
  np.testing.assert_allclose(extractors.compute_features(extractor, images, batch_size=3),
                             expected, rtol=1e-5, atol=1e-6)
  dataset = tf.data.Dataset.from_tensor_slices((images, np.zeros(10, np.int32))).batch(4)
  np.testing.assert_allclose(extractors.compute_features(extractor, dataset), expected,
                             rtol=1e-5, atol=1e-6)
  # Larger RGB images are resized and converted to the network's 16x16 grey input.
  assert extractor(np.zeros((2, 32, 32, 3), np.float32)).shape == (2, 5)


def test_frechet_result_is_labelled(tmp_path):
  model, _ = _tiny_conv_net()
  path = str(tmp_path / "extractor")
  extractors.export_feature_extractor(model, path, feature_layer_name="embedding")
  extractor = extractors.load_extractor(f"savedmodel:{path}")
  images = tf.random.uniform([12, 16, 16, 1], -1, 1, seed=2).numpy()
  same = frechet.frechet_result(extractor=extractor, images=images, reference_images=images)
  assert same.value == pytest.approx(0.0, abs=1e-6)
  assert same.extractor == extractor.name and same.num_samples == 12
  assert extractor.name in same.label()
  different = frechet.frechet_result(extractor=extractor, images=images[:8] * 0.1,
                                     reference_images=images)
  assert different.value > 0 and different.num_samples == 8


class _StandInInception(tf.Module):
  """Same signature layout as TF-GAN's module: "default", images [N, 299, 299, 3] -> pool_3."""

  def __init__(self, input_name):
    super().__init__()
    self.projection = tf.Variable(tf.random.stateless_normal([3, 8], seed=[1, 2]))

    @tf.function(input_signature=[tf.TensorSpec([None, 299, 299, 3], tf.float32, name=input_name)])
    def default(images):
      pooled = tf.reduce_mean(images, axis=[1, 2]) @ self.projection  # [N, 8]
      contrast = tf.math.reduce_std(images, axis=[1, 2, 3])[:, None]
      pool_3 = tf.concat([pooled, contrast], axis=-1)[:, None, None, :]  # [N, 1, 1, 9]
      return {"pool_3": pool_3, "logits": tf.reduce_sum(pool_3, axis=[1, 2])}

    self.default = default

  def reference(self, images):
    return self.default(images)["pool_3"].numpy().reshape(len(images), -1)


@pytest.mark.parametrize("input_name", ["images", "default"])
def test_hub_inception_extractor_on_local_stand_in(tmp_path, input_name):
  module = _StandInInception(input_name)
  path = str(tmp_path / "inception")
  tf.saved_model.save(module, path, signatures={"default": module.default})
  extractor = extractors.load_extractor(f"inception:{path}")
  assert isinstance(extractor, extractors.HubInceptionExtractor)
  assert extractor.name == f"inception_pool3:{path}"
  grey = tf.random.uniform([3, 16, 16, 1], -1, 1, seed=3)
  features = extractor(grey.numpy())
  assert features.shape == (3, 9)
  resized = tf.image.grayscale_to_rgb(tf.image.resize(grey, [299, 299], method="bilinear"))
  np.testing.assert_allclose(features, module.reference(resized), rtol=1e-5, atol=1e-6)
  # The contrast feature proves resizing happened: nearest-neighbour resizing would differ.
  nearest = tf.image.grayscale_to_rgb(tf.image.resize(grey, [299, 299], method="nearest"))
  assert not np.allclose(features, module.reference(nearest), atol=1e-4)


def test_hub_inception_extractor_missing_output(tmp_path):
  module = _StandInInception("images")
  path = str(tmp_path / "inception")
  tf.saved_model.save(module, path, signatures={"default": module.default})
  extractor = extractors.HubInceptionExtractor(path, output_key="pool_4")
  with pytest.raises(InputError, match="no output 'pool_4'.*pool_3"):
    extractor(np.zeros((1, 8, 8, 3), np.float32))


def test_remote_inception_handle_offline_gives_input_error(monkeypatch):
  import tensorflow_hub

  calls = []

  def offline_load(handle, *args, **kwargs):
    calls.append(handle)
    raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

  monkeypatch.setattr(tensorflow_hub, "load", offline_load)
  extractor = extractors.load_extractor("inception")
  assert calls == []   # lazy: nothing is loaded until features are needed
  assert extractor.name == f"inception_pool3:{extractors.INCEPTION_HANDLE}"
  with pytest.raises(InputError) as error:
    extractor(np.zeros((1, 8, 8, 3), np.float32))
  message = str(error.value)
  assert calls == [extractors.INCEPTION_HANDLE]
  assert "\n" not in message
  assert message.startswith("--fd_extractor=inception:https://tfhub.dev/")
  assert "cannot be downloaded here" in message and "URLError" in message
  assert "pass the local path" in message


@pytest.mark.parametrize("spec,match", [
    ("vgg16", "unknown extractor"),
    ("savedmodel:/no/such/dir", "no such SavedModel directory"),
    ("savedmodel:", "give the SavedModel directory"),
    ("inception:/no/such/dir", "no such module directory"),
])
def test_load_extractor_errors(spec, match):
  with pytest.raises(InputError, match=match) as error:
    extractors.load_extractor(spec)
  assert str(error.value).startswith(f"--fd_extractor={spec}:")


def test_savedmodel_without_features_output(tmp_path):
  module = _StandInInception("images")
  path = str(tmp_path / "not_an_extractor")
  tf.saved_model.save(module, path, signatures={"default": module.default})
  with pytest.raises(InputError, match="no output 'features'"):
    extractors.load_extractor(f"savedmodel:{path}")


def test_train_fashion_classifier_and_export(tmp_path):
  keras.utils.set_random_seed(0)
  rng = np.random.default_rng(0)
  images = rng.uniform(-1, 1, size=(256, 32, 32, 1)).astype(np.float32)
  labels = rng.integers(0, 10, size=256).astype(np.int32)
  dataset = tf.data.Dataset.from_tensor_slices((images, labels)).batch(64)
  model = extractors.train_fashion_classifier(train_dataset=dataset, epochs=1, feature_dim=16)
  assert model.output_shape == (None, 10)
  assert model.get_layer(extractors.FEATURE_LAYER_NAME).output.shape[-1] == 16
  path = str(tmp_path / "fashion_extractor")
  extractors.export_feature_extractor(model, path)
  extractor = extractors.load_extractor(f"savedmodel:{path}")
  features = extractors.compute_features(extractor, images[:40], batch_size=16)
  assert features.shape == (40, 16) and np.all(np.isfinite(features))
  # Fashion-MNIST's native 28 px images are resized to the classifier's 32 px.
  assert extractor(images[:2, :28, :28]).shape == (2, 16)
