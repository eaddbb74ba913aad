"""The training benchmark's plain-Keras baseline: the same networks, the same updates, counted."""

import math

import keras
import numpy as np
import tensorflow as tf

from pgi_tf.evaluation import training_benchmarks
from pgi_tf.models import dcgan
from pgi_tf.train import gan


def _tiny_config():
  return dcgan.preset(16, channels=3, generator_base_channels=8, discriminator_base_channels=8)


def test_gan_training_rows_carry_the_fit_baseline_of_the_same_networks():
  rows = training_benchmarks.gan_training_throughput(resolutions=(16,), batch_size=4, steps=2, warmup=1, width_scale=0.25,
                                            rounds=1, peak_gflops=1000.0)
  assert [r["xla"] for r in rows] == [False, True]
  # By hand, 16 px at width 8: G = Dense 100 -> 4x4x16 (25600) + BN 16 (32) + 4x4 transpose 16 -> 8
  # (2048) + BN 8 (16) + 4x4 transpose 8 -> 3 with bias (387); D = 4x4 conv 3 -> 8 (392) + 4x4
  # conv 8 -> 16 (2064) + Dense 256 -> 1 (257).
  assert 25600 + 32 + 2048 + 16 + 387 + 392 + 2064 + 257 == 30796
  for row in rows:
    assert row["parameters"] == row["fit_parameters"] == 30796
    assert row["steps"] == row["fit_discriminator_updates"] == row["fit_generator_updates"] == 1 + 2
    assert row["traces"] == 1  # the timed steps reuse one graph (and one XLA compilation)
    assert all(row[f"{name}_ms"] > 0 for name in ("g_forward", "d_forward", "d_input_gradient", "g_weight_gradients"))
    assert math.isfinite(row["fit_discriminator_loss"]) and math.isfinite(row["fit_generator_loss"])
    assert row["fit_xla"] is False  # plain fit(): Keras' "auto" jit_compile is off on a CPU-only machine
    assert row["fit_images_per_second"] > 0 and row["images_per_second"] > 0
    np.testing.assert_allclose(row["speedup_vs_fit"], row["fit_ms_per_step"] / row["ms_per_step"], rtol=0.02)
    np.testing.assert_allclose(row["fit_images_per_second"], 4 / row["fit_ms_per_step"] * 1000, rtol=0.02)
    assert 0 < row["fraction_of_peak"] < 1 and row["gflops_per_image"] > 0
  assert rows[0]["fit_ms_per_step"] == rows[1]["fit_ms_per_step"]  # one baseline per resolution


def test_step_flops_count_three_passes_per_weight_gradient():
  # 16 px at width 8, by hand (multiply-adds x 2): G's transposes 4x4x16x8 over 4x4 inputs
  # (32768) and 4x4x8x3 over 8x8 (24576) plus the Dense 100 x 256 (25600); D's convs 4x4x3x8 over
  # 8x8 outputs (24576) and 4x4x8x16 over 4x4 (32768) plus the Dense 256 x 1.
  forward_g = 2 * (32768 + 24576 + 25600)
  forward_d = 2 * (24576 + 32768 + 256)
  flops = training_benchmarks._gan_step_flops_per_image(_tiny_config())
  # tf.profiler also counts the element-wise ops (bias, batch norm, activations): a few percent.
  assert 4 * forward_g + 8 * forward_d <= flops <= 1.1 * (4 * forward_g + 8 * forward_d)


class _SharedNoiseBaseline(training_benchmarks.KerasFitDCGAN):
  """The baseline drawing z as our trainer does (a tf.random.Generator), to compare updates."""

  def __init__(self, *, noise, **kwargs):
    super().__init__(**kwargs)
    self._noise = [noise]  # in a list: not tracked by Keras

  def sample_z(self, batch):
    return gan.sample_z(self._noise[0], batch, self.z_dim)


def test_fit_baseline_makes_the_same_updates_as_our_step():
  config = _tiny_config()
  keras.utils.set_random_seed(0)
  generator, discriminator = dcgan.build_gan(config)
  fit_generator, fit_discriminator = dcgan.build_gan(config)
  for ours, theirs in ((generator, fit_generator), (discriminator, fit_discriminator)):
    theirs.set_weights(ours.get_weights())
  real = tf.random.uniform([4, 16, 16, 3], -1, 1, seed=3)

  optimizers = [keras.optimizers.Adam(2e-4, beta_1=0.5) for _ in range(4)]
  optimizers[0].build(generator.trainable_variables)
  optimizers[1].build(discriminator.trainable_variables)
  step = tf.Variable(0, dtype=tf.int64)
  train_step = gan.make_train_step(
      strategy=tf.distribute.get_strategy(), generator=generator, discriminator=discriminator,
      generator_optimizer=optimizers[0], discriminator_optimizer=optimizers[1],
      noise=tf.random.Generator.from_seed(7), step=step, loss_kind="non_saturating", z_dim=config.z_dim,
      global_batch_size=4)
  baseline = _SharedNoiseBaseline(noise=tf.random.Generator.from_seed(7), generator=fit_generator,
                                  discriminator=fit_discriminator, z_dim=config.z_dim, loss_kind="non_saturating")
  baseline.compile(generator_optimizer=optimizers[2], discriminator_optimizer=optimizers[3])
  before = [w.copy() for w in generator.get_weights() + discriminator.get_weights()]
  dataset = tf.data.Dataset.from_tensors(real).repeat()
  d_loss, g_loss = None, None
  for _ in range(2):
    d_loss, g_loss = train_step(real)
  history = baseline.fit(dataset, epochs=1, steps_per_epoch=2, verbose=0, shuffle=False)

  ours = generator.get_weights() + discriminator.get_weights()
  theirs = fit_generator.get_weights() + fit_discriminator.get_weights()
  for a, b, start in zip(ours, theirs, before):
    assert not np.array_equal(a, start)  # every weight (and G's batch-norm statistics) moved
    np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-7)
  assert int(step.numpy()) == int(optimizers[3].iterations.numpy()) == int(optimizers[2].iterations.numpy()) == 2
  # fit() logs the mean of its steps' losses (Keras' Mean trackers), ours the last step's: both finite
  assert np.isfinite(history.history["discriminator_loss"][-1]) and np.isfinite(float(d_loss) + float(g_loss))


def test_prior_training_rows_carry_the_fit_baseline_of_the_same_predictor():
  rows = training_benchmarks.prior_training_throughput(resolutions=(16,), batch_size=4, steps=1, warmup=1, rounds=1)
  assert [(r["suite"], r["xla"]) for r in rows] == [("prior_training", False), ("prior_training", True)]
  for row in rows:
    assert row["trainable_parameters"] == row["fit_trainable_parameters"] > 0
    assert row["steps"] == row["fit_updates"] == 1 + 1
    assert math.isfinite(row["fit_loss"]) and row["fit_loss"] > 0
    np.testing.assert_allclose(row["speedup_vs_fit"], row["fit_ms_per_step"] / row["ms_per_step"], rtol=0.02)
