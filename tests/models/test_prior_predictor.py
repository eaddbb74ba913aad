"""The prior predictor P (§4.1): shapes, the z-support head, config round trip, and that P
overfits one batch under Eq. 7 against a frozen hub G and D."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from pgi_tf import hub
from pgi_tf import losses
from pgi_tf.errors import InputError
from pgi_tf.models import prior_predictor as prior_lib
from tests import tiny_models


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
  return tiny_models.shared_model_dirs(tmp_path_factory)


def _inputs(batch, resolution, channels, *, scale=1.0, seed=0):
  rng = np.random.default_rng(seed)
  images = (scale * rng.uniform(-1, 1, (batch, resolution, resolution, channels))).astype(np.float32)
  masks = np.zeros((batch, resolution, resolution, 1), np.float32)
  masks[:, resolution // 4: resolution // 2, resolution // 4: resolution // 2] = 1.0
  return (1.0 - masks) * images, masks


@pytest.mark.parametrize("resolution", [16, 32, 64])
@pytest.mark.parametrize("channels", [1, 3])
def test_output_shape(resolution, channels):
  config = prior_lib.PriorPredictorConfig(resolution=resolution, channels=channels, z_dim=7,
                                          base_channels=4, max_channels=16)
  predictor = prior_lib.build_prior_predictor(config)
  masked, masks = _inputs(3, resolution, channels)
  z = predictor([masked, masks])
  assert z.shape == (3, 7)
  assert predictor.inputs[0].shape == (None, resolution, resolution, channels)
  assert predictor.inputs[1].shape == (None, resolution, resolution, 1)
  # log2(R / 4) stride-2 convs take the input down to 4x4; widths 4, 8, 16 (capped at 16).
  last_width = min(4 * 2 ** (int(np.log2(resolution // 4)) - 1), 16)
  assert predictor.get_layer("features").output.shape[-1] == 4 * 4 * last_width


def test_preset_follows_discriminator_widths():
  assert prior_lib.preset(64, channels=3, z_dim=100).base_channels == 64
  assert prior_lib.preset(16, channels=1, z_dim=8, base_channels=8).base_channels == 8


@pytest.mark.parametrize("support", [(-1.0, 1.0), (0.0, 3.0)])
def test_uniform_head_stays_in_support_for_huge_inputs(support):
  head = prior_lib.PriorHead("uniform", support)
  h = tf.constant([[-1e30, -1e4, -3.0, 0.0, 3.0, 1e4, 1e30]])
  z = head(h).numpy()
  low, high = support
  assert np.all(z >= low) and np.all(z <= high)
  assert z[0, 0] == low and z[0, -1] == high          # saturates exactly at the ends
  assert z[0, 3] == pytest.approx((low + high) / 2)    # h = 0 -> middle of the support
  assert np.all(np.diff(z[0]) >= 0)                    # monotone


def test_truncated_normal_head_is_bounded_by_truncation():
  head = prior_lib.PriorHead("truncated_normal", (-0.5, 0.5))
  z = head(tf.constant([[-1e30, -2.0, 0.0, 2.0, 1e30]])).numpy()
  assert np.all(np.abs(z) <= 0.5) and z[0, 0] == -0.5 and z[0, -1] == 0.5 and z[0, 2] == 0.0


def test_normal_head_is_unbounded_identity():
  h = tf.constant([[-1e4, -3.0, 0.0, 2.5, 1e4]])
  np.testing.assert_array_equal(prior_lib.PriorHead("normal", (-1.0, 1.0))(h).numpy(), h.numpy())


@pytest.mark.parametrize("distribution,bound", [("uniform", 1.0), ("truncated_normal", 0.7),
                                                 ("normal", None)])
def test_whole_model_keeps_z_in_support(distribution, bound):
  support = (-1.0, 1.0) if bound is None else (-bound, bound)
  config = prior_lib.PriorPredictorConfig(resolution=16, channels=1, z_dim=32, base_channels=4,
                                          z_distribution=distribution, z_support=support)
  keras.utils.set_random_seed(1)
  predictor = prior_lib.build_prior_predictor(config)
  masked, masks = _inputs(4, 16, 1, scale=1e6)  # far outside [-1, 1]: the logits are huge
  z = predictor([masked, masks]).numpy()
  assert np.all(np.isfinite(z))
  if bound is None:
    assert np.abs(z).max() > 1.0  # N(0, I) support is unbounded: the head does not squash
  else:
    assert np.abs(z).max() <= bound


def test_get_config_round_trip():
  config = prior_lib.PriorPredictorConfig(resolution=16, channels=3, z_dim=5, base_channels=4,
                                          dense_units=6, z_distribution="truncated_normal",
                                          z_support=(-0.5, 0.5))
  keras.utils.set_random_seed(2)
  predictor = prior_lib.build_prior_predictor(config)
  rebuilt = keras.Model.from_config(predictor.get_config())
  assert [l.name for l in rebuilt.layers] == [l.name for l in predictor.layers]
  head = rebuilt.get_layer("z")
  assert head.z_distribution == "truncated_normal" and head.z_support == (-0.5, 0.5)
  rebuilt.set_weights(predictor.get_weights())
  masked, masks = _inputs(2, 16, 3, seed=3)
  np.testing.assert_array_equal(rebuilt([masked, masks]).numpy(), predictor([masked, masks]).numpy())


def test_condition_input():
  config = prior_lib.PriorPredictorConfig(resolution=16, channels=1, z_dim=5, base_channels=4,
                                          condition_dim=3)
  predictor = prior_lib.build_prior_predictor(config)
  masked, masks = _inputs(2, 16, 1)
  assert predictor([masked, masks, np.ones((2, 3), np.float32)]).shape == (2, 5)


@pytest.mark.parametrize("fields,needle", [
    (dict(resolution=48), r"prior\.resolution=48: unsupported"),
    (dict(resolution=16, channels=2), r"prior\.channels=2"),
    (dict(resolution=16, z_distribution="cauchy"), r"prior\.z_distribution='cauchy'"),
])
def test_bad_config_is_input_error(fields, needle):
  with pytest.raises(InputError, match=needle):
    prior_lib.build_prior_predictor(prior_lib.PriorPredictorConfig(**fields))


def test_preset_bad_resolution_is_input_error():
  with pytest.raises(InputError, match=r"prior\.resolution=48"):
    prior_lib.preset(48, channels=1, z_dim=8)


def test_overfits_one_batch_eq7_falls_5x(tiny):
  """P fits one fixed batch of G's own images (a perfect z exists) through the frozen G and D."""
  generator = hub.load_generator(tiny.generator)
  discriminator = hub.load_discriminator(tiny.discriminator)
  z_true = tf.random.stateless_uniform([8, tiny_models.Z_DIM], [1, 2], -1.0, 1.0)
  images = generator(z_true)
  masks = np.zeros((8, 16, 16, 1), np.float32)
  for i in range(8):  # a different 8x6 hole per example
    masks[i, i % 5: i % 5 + 8, (2 * i) % 9: (2 * i) % 9 + 6] = 1.0
  masks = tf.constant(masks)
  masked_images = (1.0 - masks) * images
  weights = losses.contextual_weights(masks)
  predictor = tiny_models.build_tiny_prior_predictor(seed=3)
  optimizer = keras.optimizers.Adam(3e-3)
  g_before = [v.numpy().copy() for v in generator.module_variables]

  @tf.function
  def step():
    with tf.GradientTape() as tape:
      generated = generator(predictor([masked_images, masks], training=True))
      parts = losses.prior_losses(images_or_masked=masked_images, generated_images=generated,
                                  masks=masks, fake_logits=discriminator(generated), weights=weights,
                                  lambda_realism=0.003, lambda_gradient=1.0)
      loss = tf.reduce_mean(parts["total"])
    grads = tape.gradient(loss, predictor.trainable_variables)
    optimizer.apply_gradients(zip(grads, predictor.trainable_variables))
    return loss

  history = [float(step()) for _ in range(80)]
  assert np.all(np.isfinite(history))
  assert history[-1] <= history[0] / 5, (history[0], history[-1])
  for before, after in zip(g_before, generator.module_variables):
    np.testing.assert_array_equal(before, after.numpy())
