"""DCGAN family: shapes at every resolution and channel count, conditioning, bad sizes."""

import numpy as np
import pytest
import tensorflow as tf

from pgi_tf.errors import InputError
from pgi_tf.models import dcgan


@pytest.mark.parametrize("resolution", [16, 32, 64, 128])
@pytest.mark.parametrize("channels", [1, 3])
def test_shapes_and_range(resolution, channels):
  config = dcgan.DCGANConfig(resolution=resolution, channels=channels, z_dim=12,
                             generator_base_channels=8, discriminator_base_channels=8)
  generator, discriminator = dcgan.build_gan(config)
  z = tf.random.uniform([3, 12], -1, 1, seed=1)
  images = generator(z, training=False)
  assert images.shape == (3, resolution, resolution, channels)
  assert float(tf.reduce_min(images)) >= -1.0 and float(tf.reduce_max(images)) <= 1.0
  logits = discriminator(images, training=False)
  assert logits.shape == (3,)


def test_width_schedule_matches_dcgan_at_64px():
  # Radford et al.: 4x4x512 -> 8x8x256 -> 16x16x128 -> 32x32x64 -> 64x64x3.
  generator = dcgan.build_generator(dcgan.preset(64))
  widths = [generator.get_layer(n).output.shape[-1] for n in ("to_4x4", "up_8", "up_16", "up_32")]
  assert widths == [512, 256, 128, 64]
  assert generator.output.shape[1:] == (64, 64, 3)


def test_conditional_variant_uses_condition():
  config = dcgan.DCGANConfig(resolution=16, channels=3, z_dim=8, condition_dim=5,
                             generator_base_channels=8, discriminator_base_channels=8)
  generator, discriminator = dcgan.build_gan(config)
  z = tf.random.uniform([2, 8], -1, 1, seed=2)
  c1, c2 = tf.zeros([2, 5]), tf.ones([2, 5])
  images1, images2 = generator([z, c1], training=False), generator([z, c2], training=False)
  assert images1.shape == (2, 16, 16, 3)
  assert not np.allclose(images1.numpy(), images2.numpy())
  logits1, logits2 = discriminator([images1, c1]), discriminator([images1, c2])
  assert logits1.shape == (2,) and not np.allclose(logits1.numpy(), logits2.numpy())


def test_models_round_trip_through_get_config():
  generator = dcgan.build_generator(dcgan.DCGANConfig(resolution=32, channels=1, z_dim=4,
                                                      generator_base_channels=8))
  clone = generator.__class__.from_config(generator.get_config())
  clone.set_weights(generator.get_weights())
  z = tf.random.uniform([2, 4], -1, 1, seed=3)
  np.testing.assert_allclose(clone(z).numpy(), generator(z).numpy(), atol=1e-6)


@pytest.mark.parametrize("field,value,needle", [
    ("resolution", 48, "model.resolution=48"),
    ("channels", 2, "model.channels=2"),
    ("generator_norm", "spectral", "model.generator_norm"),
])
def test_bad_hyperparameters(field, value, needle):
  with pytest.raises(InputError, match=needle):
    dcgan.build_generator(dcgan.DCGANConfig(**{field: value}))
