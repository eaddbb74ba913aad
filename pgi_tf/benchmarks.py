"""Speed measurements behind binaries/benchmark.py. Figures come from here, never from tests.

Each suite returns a list of flat dict rows; the binary writes them as JSON + Markdown.
Timings exclude warm-up (tracing, XLA compilation) and end on a host sync.
"""

from __future__ import annotations

import time
from typing import Callable

import keras
import tensorflow as tf

from pgi_tf.models import dcgan
from pgi_tf.train import gan


def _time_calls(fn: Callable[[], object], *, warmup: int, repeats: int) -> float:
  """Seconds per call, after `warmup` calls; the result is fetched to host each call."""
  for _ in range(warmup):
    _sync(fn())
  start = time.perf_counter()
  for _ in range(repeats):
    _sync(fn())
  return (time.perf_counter() - start) / repeats


def _sync(result) -> None:
  for tensor in tf.nest.flatten(result):
    if hasattr(tensor, "numpy"):
      tensor.numpy()


def gan_training_throughput(*, resolutions=(32, 64), batch_size: int = 64, steps: int = 10,
                            warmup: int = 2, channels: int = 3, width_scale: float = 1.0) -> list[dict]:
  """Images/s of one Eq. 1 training step (1 D + 1 G update), with and without XLA, same run."""
  rows = []
  for resolution in resolutions:
    preset = dcgan.preset(resolution, channels=channels)
    config = dcgan.DCGANConfig(**{
        **preset.__dict__,
        "generator_base_channels": max(1, int(preset.generator_base_channels * width_scale)),
        "discriminator_base_channels": max(1, int(preset.discriminator_base_channels * width_scale))})
    real = tf.random.uniform([batch_size, resolution, resolution, channels], -1, 1, seed=0)
    for jit in (False, True):
      keras.utils.set_random_seed(0)
      strategy = tf.distribute.get_strategy()
      generator, discriminator = dcgan.build_gan(config)
      g_opt, d_opt = keras.optimizers.Adam(2e-4, beta_1=0.5), keras.optimizers.Adam(2e-4, beta_1=0.5)
      g_opt.build(generator.trainable_variables)
      d_opt.build(discriminator.trainable_variables)
      step = tf.Variable(0, dtype=tf.int64)
      train_step = gan.make_train_step(
          strategy=strategy, generator=generator, discriminator=discriminator,
          generator_optimizer=g_opt, discriminator_optimizer=d_opt,
          noise=tf.random.Generator.from_seed(0), step=step, loss_kind="non_saturating",
          z_dim=config.z_dim, global_batch_size=batch_size, jit_compile=jit)
      seconds = _time_calls(lambda: train_step(real), warmup=warmup, repeats=steps)
      rows.append({"suite": "gan_training", "resolution": resolution, "channels": channels,
                   "batch_size": batch_size, "xla": jit,
                   "generator_base_channels": config.generator_base_channels,
                   "ms_per_step": round(seconds * 1000, 2),
                   "images_per_second": round(batch_size / seconds, 1)})
  # Speedup of XLA over plain graph mode, per resolution, from the rows of this same run.
  for resolution in resolutions:
    plain, xla = [r for r in rows if r["resolution"] == resolution]
    xla["xla_speedup"] = round(xla["images_per_second"] / plain["images_per_second"], 2)
  return rows


SUITES: dict[str, Callable[..., list[dict]]] = {
    "gan_training": gan_training_throughput,
}


def to_markdown(rows: list[dict], *, title: str) -> str:
  """Rows of one or more suites as Markdown tables, one per suite."""
  lines = [f"# {title}", ""]
  for suite in dict.fromkeys(r["suite"] for r in rows):
    suite_rows = [r for r in rows if r["suite"] == suite]
    columns = list(dict.fromkeys(k for r in suite_rows for k in r if k != "suite"))
    lines += [f"## {suite}", "", "| " + " | ".join(columns) + " |",
              "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(r.get(c, "")) for c in columns) + " |" for r in suite_rows]
    lines.append("")
  return "\n".join(lines)
