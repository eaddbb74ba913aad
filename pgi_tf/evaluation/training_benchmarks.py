"""Training-speed suites of binaries/benchmark.py: our GAN step (Eq. 1) and stage 2's step (Eq. 7)
against a plain Keras `model.fit()` of the same networks, losses, optimizers and batch (keras-io's
custom train_step pattern), timed alternately in the same run, with and without XLA.

Why ours is not faster than fit() on CPU, and why XLA is slower for the DCGANs, is measured in the
rows (per-pass times, FLOPs, share of the matmul peak) and summarised in RESULTS.md / the README.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from typing import Callable

import keras
import tensorflow as tf

from pgi_tf import hub
from pgi_tf import losses
from pgi_tf.evaluation import benchmarks
from pgi_tf.evaluation import hardware
from pgi_tf.inference import conditioning
from pgi_tf.models import dcgan
from pgi_tf.models import prior_predictor as prior_lib
from pgi_tf.train import gan
from pgi_tf.train import runtime

class KerasFitDCGAN(keras.Model):
  """The plain-Keras baseline of our GAN step: keras-io's DCGAN pattern
  (examples/generative/dcgan_overriding_train_step.py), a keras.Model whose train_step makes
  the same D and G updates of Eq. 1 as `pgi_tf.train.gan.make_train_step` (same networks, losses
  from `pgi_tf.losses`, z ~ U[-1, 1], Adam), trained with `model.fit()`."""

  def __init__(self, *, generator: keras.Model, discriminator: keras.Model, z_dim: int, loss_kind: str):
    super().__init__()
    self.generator, self.discriminator = generator, discriminator
    self.z_dim, self.loss_kind = z_dim, loss_kind
    self.seed_generator = keras.random.SeedGenerator(0)

  def compile(self, *, generator_optimizer, discriminator_optimizer, **kwargs):
    super().compile(**kwargs)
    self.generator_optimizer, self.discriminator_optimizer = generator_optimizer, discriminator_optimizer
    self.d_loss_tracker = keras.metrics.Mean(name="discriminator_loss")
    self.g_loss_tracker = keras.metrics.Mean(name="generator_loss")

  @property
  def metrics(self):
    return [self.d_loss_tracker, self.g_loss_tracker]

  def sample_z(self, batch):
    """z ~ U[-1, 1]^d (§3.1), from Keras' seeded generator."""
    return keras.random.uniform((batch, self.z_dim), -1.0, 1.0, seed=self.seed_generator)

  def train_step(self, real_images):
    batch = tf.shape(real_images)[0]
    z = self.sample_z(batch)
    with tf.GradientTape() as tape:
      fake_images = self.generator(z, training=True)
      real_logits = self.discriminator(real_images, training=True)
      fake_logits = self.discriminator(fake_images, training=True)
      d_loss = tf.reduce_mean(losses.discriminator_loss(kind=self.loss_kind, real_logits=real_logits,
                                                        fake_logits=fake_logits))
    grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
    self.discriminator_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))
    z = self.sample_z(batch)
    with tf.GradientTape() as tape:
      fake_logits = self.discriminator(self.generator(z, training=True), training=True)
      g_loss = tf.reduce_mean(losses.generator_loss(kind=self.loss_kind, fake_logits=fake_logits))
    grads = tape.gradient(g_loss, self.generator.trainable_weights)
    self.generator_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))
    self.d_loss_tracker.update_state(d_loss)
    self.g_loss_tracker.update_state(g_loss)
    return {m.name: m.result() for m in self.metrics}


def _parameter_count(*models: keras.Model) -> int:
  return int(sum(v.shape.num_elements() for m in models for v in m.trainable_weights))


def _adam_pair():
  return keras.optimizers.Adam(2e-4, beta_1=0.5), keras.optimizers.Adam(2e-4, beta_1=0.5)


def _interleaved_seconds_per_step(runners: dict[str, Callable[[int], list[float]]], *, warmup: int, steps: int,
                                  rounds: int) -> dict[str, float]:
  """Each runner's median seconds per step; runner(n) runs n steps and returns each one's seconds.
  After `warmup` steps each (tracing, XLA compilation), every round runs each runner for `steps`
  steps in turn, so a load that comes and goes on a shared machine weighs on all of them alike,
  and the median of the single steps leaves out the steps a burst of load hit."""
  for run in runners.values():
    run(warmup)
  seconds: dict[str, list[float]] = {name: [] for name in runners}
  for _ in range(rounds):
    for name, run in runners.items():
      seconds[name] += run(steps)
  return {name: statistics.median(values) for name, values in seconds.items()}


class _StepTimes(keras.callbacks.Callback):
  """Seconds of each fit() step, end to end: from one step's end (or the first step's start) to
  the next step's end, so fit's own work between steps (iterator, callbacks) is counted."""

  def __init__(self):
    super().__init__()
    self.seconds: list[float] = []
    self._last = 0.0

  def on_train_batch_begin(self, batch, logs=None):
    if batch == 0:
      self._last = time.perf_counter()

  def on_train_batch_end(self, batch, logs=None):
    now = time.perf_counter()
    self.seconds.append(now - self._last)
    self._last = now


def _fit_runner(model: keras.Model, dataset: tf.data.Dataset, logs: dict) -> Callable[[int], list[float]]:
  """runner(n): one model.fit() of n steps (fit keeps its traced train_function between calls),
  timed per step by a callback (Keras fetches the step's logs to host before calling a callback
  that is not async_safe, so each time ends on a host sync, as ours do); its last logs go into `logs`."""
  def run(steps: int) -> list[float]:
    timer = _StepTimes()
    history = model.fit(dataset, epochs=1, steps_per_epoch=steps, verbose=0, shuffle=False, callbacks=[timer])
    logs.update({k: float(v[-1]) for k, v in history.history.items()})
    return timer.seconds
  return run


def _step_runner(train_step: Callable, dataset: tf.data.Dataset) -> Callable[[int], list[float]]:
  """runner(n): n calls of our tf.function step on the dataset's batches, each timed from taking
  the batch to its losses fetched to host."""
  iterator = iter(dataset)

  def run(steps: int) -> list[float]:
    seconds = []
    for _ in range(steps):
      start = time.perf_counter()
      benchmarks.sync(train_step(next(iterator)))
      seconds.append(time.perf_counter() - start)
    return seconds
  return run


def _fit_gan_baseline(config: dcgan.DCGANConfig, *, loss_kind: str) -> KerasFitDCGAN:
  """The plain-Keras fit() baseline of fresh G and D of `config`, compiled with fit's default
  jit_compile="auto" (which Keras resolves to no XLA on a CPU-only machine)."""
  keras.utils.set_random_seed(0)
  generator, discriminator = dcgan.build_gan(config)
  baseline = KerasFitDCGAN(generator=generator, discriminator=discriminator, z_dim=config.z_dim,
                           loss_kind=loss_kind)
  g_opt, d_opt = _adam_pair()
  baseline.compile(generator_optimizer=g_opt, discriminator_optimizer=d_opt)
  return baseline


def _gan_step_flops_per_image(config: dcgan.DCGANConfig) -> int:
  """Float operations per image of one Eq. 1 step, from G's and D's forward graphs: a pass
  with weight gradients costs about 3 forward passes, one with input gradients only 2. The D
  update runs G once and D with weight gradients on the real and fake halves (G_f + 2 * 3 D_f);
  the G update runs G with weight gradients through D's input gradients (3 G_f + 2 D_f)."""
  generator, discriminator = dcgan.build_gan(config)
  forward_g = hardware.graph_flops(lambda z: generator(z, training=False), tf.TensorSpec([1, config.z_dim]))
  forward_d = hardware.graph_flops(lambda x: discriminator(x, training=False), tf.TensorSpec(
      [1, config.resolution, config.resolution, config.channels]))
  return 4 * forward_g + 8 * forward_d


def _network_pass_ms(generator: keras.Model, discriminator: keras.Model, *, z, real, jit: bool,
                     repeats: int = 5) -> dict[str, float]:
  """Median ms of the passes a GAN step is made of, compiled as the step is (jit: XLA), to show
  where XLA loses: G's forward is all transposed convolutions, which XLA on CPU lowers to
  convolutions over the zero-dilated input (lhs_dilate=2x2 in its HLO); D's input gradient is
  the same kind; D's forward is plain strided convolutions."""

  def input_gradient(network, inputs):
    with tf.GradientTape() as tape:
      tape.watch(inputs)
      total = tf.reduce_sum(network(inputs, training=True))
    return tape.gradient(total, inputs)

  def weight_gradients(network, inputs):
    with tf.GradientTape() as tape:
      total = tf.reduce_sum(network(inputs, training=True))
    return tape.gradient(total, network.trainable_variables)

  passes = {"g_forward_ms": lambda: generator(z, training=True),
            "d_forward_ms": lambda: discriminator(real, training=True),
            "d_input_gradient_ms": lambda: input_gradient(discriminator, real),
            "g_weight_gradients_ms": lambda: weight_gradients(generator, z)}
  result = {}
  for name, one_pass in passes.items():
    compiled = tf.function(one_pass, jit_compile=jit)
    times = []
    for i in range(2 + repeats):
      start = time.perf_counter()
      benchmarks.sync(compiled())
      if i >= 2:  # after tracing and compilation
        times.append(time.perf_counter() - start)
    result[name] = round(1000 * statistics.median(times), 2)
  return result


def gan_training_throughput(*, resolutions=(32, 64), batch_size: int = 64, steps: int = 10,
                            warmup: int = 2, channels: int = 3, width_scale: float = 1.0,
                            rounds: int = 3, peak_gflops: float | None = None) -> list[dict]:
  """Images/s of one Eq. 1 training step (1 D + 1 G update), with and without XLA, and of the
  plain-Keras `model.fit()` of the same networks and batch (`KerasFitDCGAN`), same run: the
  median step of `rounds` interleaved rounds of `steps` steps each (`_interleaved_seconds_per_step`).

  All read the same tf.data pipeline (one fixed batch, repeated), so none pays for decoding.
  Each row also gives the step's FLOPs per image (`_gan_step_flops_per_image`), the achieved
  GFLOP/s and its share of the machine's matmul peak (`peak_gflops`, measured here when None):
  how far any faster step could still go.
  """
  rows = []
  loss_kind = "non_saturating"
  peak = hardware.matmul_peak_gflops() if peak_gflops is None else peak_gflops
  for resolution in resolutions:
    preset = dcgan.preset(resolution, channels=channels)
    config = dcgan.DCGANConfig(**{
        **preset.__dict__,
        "generator_base_channels": max(1, int(preset.generator_base_channels * width_scale)),
        "discriminator_base_channels": max(1, int(preset.discriminator_base_channels * width_scale))})
    real = tf.random.uniform([batch_size, resolution, resolution, channels], -1, 1, seed=0)
    dataset = tf.data.Dataset.from_tensors(real).repeat().prefetch(tf.data.AUTOTUNE)
    baseline, fit_logs = _fit_gan_baseline(config, loss_kind=loss_kind), {}
    runners, counters = {"fit": _fit_runner(baseline, dataset, fit_logs)}, {}
    for jit in (False, True):
      keras.utils.set_random_seed(0)
      generator, discriminator = dcgan.build_gan(config)
      g_opt, d_opt = _adam_pair()
      g_opt.build(generator.trainable_variables)
      d_opt.build(discriminator.trainable_variables)
      z = tf.random.uniform([batch_size, config.z_dim], -1, 1, seed=1)
      counters[jit] = [tf.Variable(0, dtype=tf.int64), _parameter_count(generator, discriminator),
                       _network_pass_ms(generator, discriminator, z=z, real=real, jit=jit)]
      train_step = gan.make_train_step(
          strategy=tf.distribute.get_strategy(), generator=generator, discriminator=discriminator,
          generator_optimizer=g_opt, discriminator_optimizer=d_opt,
          noise=tf.random.Generator.from_seed(0), step=counters[jit][0], loss_kind=loss_kind,
          z_dim=config.z_dim, global_batch_size=batch_size, jit_compile=jit)
      runners[jit] = _step_runner(train_step, dataset)
      counters[jit].append(train_step)
    seconds = _interleaved_seconds_per_step(runners, warmup=warmup, steps=steps, rounds=rounds)
    flops_per_image = _gan_step_flops_per_image(config)
    fit = {"fit_ms_per_step": round(seconds["fit"] * 1000, 2), "fit_xla": bool(baseline.jit_compile),
           "fit_parameters": _parameter_count(baseline.generator, baseline.discriminator),
           "fit_discriminator_updates": int(baseline.discriminator_optimizer.iterations.numpy()),
           "fit_generator_updates": int(baseline.generator_optimizer.iterations.numpy()),
           "fit_discriminator_loss": round(fit_logs["discriminator_loss"], 4),
           "fit_generator_loss": round(fit_logs["generator_loss"], 4)}
    for jit in (False, True):
      step, parameters, passes, train_step = counters[jit]
      rows.append({"suite": "gan_training", "resolution": resolution, "channels": channels,
                   "batch_size": batch_size, "xla": jit, "generator_base_channels": config.generator_base_channels,
                   "parameters": parameters, "steps": int(step.numpy()), "rounds": rounds,
                   "traces": train_step.experimental_get_tracing_count(),  # 1: no step was retraced
                   "ms_per_step": round(seconds[jit] * 1000, 2),
                   "images_per_second": round(batch_size / seconds[jit], 1),
                   "fit_images_per_second": round(batch_size / seconds["fit"], 1),
                   "speedup_vs_fit": round(seconds["fit"] / seconds[jit], 2),
                   **hardware.efficiency(flops_per_image=flops_per_image,
                                         ms_per_image=1000 * seconds[jit] / batch_size, peak_gflops=peak),
                   "peak_gflops": round(peak, 1), **passes, **fit})
  # Speedup of XLA over plain graph mode, per resolution, from the rows of this same run.
  for resolution in resolutions:
    plain, xla = [r for r in rows if r["resolution"] == resolution]
    xla["xla_speedup"] = round(xla["images_per_second"] / plain["images_per_second"], 2)
  return rows


class KerasFitPrior(keras.Model):
  """The plain-Keras baseline of stage 2's step: a keras.Model wrapping P whose train_step
  minimizes Eq. 7 (`pgi_tf.losses.prior_losses`) of G(P(I_d, M)) against the frozen G and D,
  with `compile(optimizer=Adam)` and `model.fit()` (keras-io's custom train_step guide)."""

  def __init__(self, *, prior_predictor: keras.Model, generator, discriminator, lambda_realism: float,
               lambda_gradient: float, decay: float):
    super().__init__()
    self.prior_predictor, self.generator, self.discriminator = prior_predictor, generator, discriminator
    self.lambda_realism, self.lambda_gradient, self.decay = lambda_realism, lambda_gradient, decay
    self.loss_tracker = keras.metrics.Mean(name="loss")

  @property
  def metrics(self):
    return [self.loss_tracker]

  def train_step(self, data):
    images, masks = data
    with tf.GradientTape() as tape:
      loss = tf.reduce_mean(_prior_loss_parts(self.prior_predictor, self.generator, self.discriminator, images,
                                              masks, lambda_realism=self.lambda_realism,
                                              lambda_gradient=self.lambda_gradient, decay=self.decay)["total"])
    grads = tape.gradient(loss, self.prior_predictor.trainable_weights)
    self.optimizer.apply_gradients(zip(grads, self.prior_predictor.trainable_weights))
    self.loss_tracker.update_state(loss)
    return {"loss": self.loss_tracker.result()}


def _prior_loss_parts(predictor, generator, discriminator, images, masks, *, lambda_realism: float,
                      lambda_gradient: float, decay: float) -> dict:
  """Eq. 7's per-example parts for M_z, as `pgi_tf.train.prior`'s step computes them."""
  masked_images = (1.0 - masks) * images
  generated, _ = conditioning.fill(predictor, generator, masked_images, masks, training=True, decay=decay)
  return losses.prior_losses(images_or_masked=masked_images, generated_images=generated, masks=masks,
                             fake_logits=conditioning.discriminate(discriminator, generated),
                             weights=losses.contextual_weights(masks, decay=decay),
                             lambda_realism=lambda_realism, lambda_gradient=lambda_gradient)


def prior_training_throughput(*, resolutions=(32, 64), batch_size: int = 64, steps: int = 10, warmup: int = 2,
                              channels: int = 3, rounds: int = 3, lambda_realism: float = 0.003,
                              lambda_gradient: float = 1.0, decay: float = 0.99) -> list[dict]:
  """Images/s of one stage 2 step (Eq. 7, P against frozen G and D loaded as hub modules),
  with and without XLA, and of the plain-Keras `fit()` of the same P, G, D and batch
  (`KerasFitPrior`), same run, interleaved as in `gan_training_throughput`.

  Our step is the trainer's M_z step rebuilt from the pieces `pgi_tf.train.prior` composes
  (`runtime.distributed_step` over `runtime.minimize` of the same loss parts), since the
  trainer builds it as a closure inside train(). Lambdas and decay: configs/prior_defaults.py.
  """
  rows = []
  hyper = {"lambda_realism": lambda_realism, "lambda_gradient": lambda_gradient, "decay": decay}
  for resolution in resolutions:
    with tempfile.TemporaryDirectory() as directory:
      keras.utils.set_random_seed(0)
      g_path, d_path, _ = benchmarks.export_untrained_models(directory, resolution=resolution, channels=channels)
      generator, discriminator = hub.load_generator(g_path), hub.load_discriminator(d_path)
      p_config = prior_lib.preset(resolution, channels=channels, z_dim=100)
      images = tf.random.uniform([batch_size, resolution, resolution, channels], -1, 1, seed=0)
      side = resolution // 2  # the paper's central square hole (§6.3)
      masks = tf.pad(tf.ones([batch_size, side, side, 1]), [[0, 0], [side // 2] * 2, [side // 2] * 2, [0, 0]])
      dataset = tf.data.Dataset.from_tensors((images, masks)).repeat().prefetch(tf.data.AUTOTUNE)

      keras.utils.set_random_seed(0)
      baseline = KerasFitPrior(prior_predictor=prior_lib.build_prior_predictor(p_config), generator=generator,
                               discriminator=discriminator, **hyper)
      baseline.compile(optimizer=keras.optimizers.Adam(1e-3))
      fit_logs = {}
      runners, counters = {"fit": _fit_runner(baseline, dataset, fit_logs)}, {}
      for jit in (False, True):
        keras.utils.set_random_seed(0)
        predictor = prior_lib.build_prior_predictor(p_config)
        optimizer = keras.optimizers.Adam(1e-3)
        optimizer.build(predictor.trainable_variables)
        counters[jit] = (tf.Variable(0, dtype=tf.int64), _parameter_count(predictor))

        def replica_step(real_images, hole_masks, predictor=predictor, optimizer=optimizer):
          return runtime.minimize(
              lambda: _prior_loss_parts(predictor, generator, discriminator, real_images, hole_masks, **hyper),
              model=predictor, optimizer=optimizer, global_batch_size=batch_size)

        runners[jit] = _step_runner(runtime.distributed_step(tf.distribute.get_strategy(), replica_step,
                                                             step=counters[jit][0], jit_compile=jit), dataset)
      seconds = _interleaved_seconds_per_step(runners, warmup=warmup, steps=steps, rounds=rounds)
      fit = {"fit_ms_per_step": round(seconds["fit"] * 1000, 2), "fit_xla": bool(baseline.jit_compile),
             "fit_trainable_parameters": _parameter_count(baseline.prior_predictor),
             "fit_updates": int(baseline.optimizer.iterations.numpy()), "fit_loss": round(fit_logs["loss"], 4)}
      for jit in (False, True):
        step, parameters = counters[jit]
        rows.append({"suite": "prior_training", "resolution": resolution, "channels": channels,
                     "batch_size": batch_size, "xla": jit, "trainable_parameters": parameters,
                     "steps": int(step.numpy()), "rounds": rounds, "ms_per_step": round(seconds[jit] * 1000, 2),
                     "images_per_second": round(batch_size / seconds[jit], 1),
                     "fit_images_per_second": round(batch_size / seconds["fit"], 1),
                     "speedup_vs_fit": round(seconds["fit"] / seconds[jit], 2), **fit})
  return rows


SUITES: dict[str, Callable[..., list[dict]]] = {
    "gan_training": gan_training_throughput,
    "prior_training": prior_training_throughput,
}
