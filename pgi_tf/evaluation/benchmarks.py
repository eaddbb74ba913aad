"""Inference-speed measurements behind binaries/benchmark.py (Table 4) and the timing helpers every
suite shares; training suites: training_benchmarks.py; serving and per-layer: serving_benchmarks.py.
Figures come from here, never from tests.

Each suite returns a list of flat dict rows; the binary writes them as JSON + Markdown.
Timings exclude warm-up (tracing, XLA compilation) and end on a host sync.
"""

from __future__ import annotations

import statistics
import time
from typing import Callable

import keras
import tensorflow as tf

import os
import tempfile

from pgi_tf import generators
from pgi_tf import hub
from pgi_tf.errors import InputError
from pgi_tf.evaluation import hardware
from pgi_tf.inference import inpainting
from pgi_tf.models import dcgan
from pgi_tf.models import prior_predictor as prior_lib


def time_calls(fn: Callable[[], object], *, warmup: int, repeats: int) -> float:
  """Seconds per call, after `warmup` calls; the result is fetched to host each call."""
  for _ in range(warmup):
    sync(fn())
  start = time.perf_counter()
  for _ in range(repeats):
    sync(fn())
  return (time.perf_counter() - start) / repeats


def sync(result) -> None:
  for tensor in tf.nest.flatten(result):
    if hasattr(tensor, "numpy"):
      tensor.numpy()


def export_untrained_models(directory: str, *, resolution: int, channels: int, num_candidates: int = 1):
  """Exports DCGAN-sized G, D and P (with K candidate heads) as hub modules: speed does not
  depend on training."""


  config = dcgan.preset(resolution, channels=channels)
  generator, discriminator = dcgan.build_gan(config)
  metadata = hub.gan_metadata(resolution=resolution, channels=channels, z_dim=config.z_dim)
  g_path, d_path = os.path.join(directory, "generator"), os.path.join(directory, "discriminator")
  hub.export_generator(generator, g_path, metadata=metadata)
  hub.export_discriminator(discriminator, d_path, metadata=metadata)
  predictor = prior_lib.build_prior_predictor(
      prior_lib.preset(resolution, channels=channels, z_dim=config.z_dim, num_candidates=num_candidates))
  p_path = os.path.join(directory, "prior_predictor")
  hub.export_prior_predictor(predictor, p_path, metadata=hub.prior_predictor_metadata(
      generator_path=g_path, generator_metadata=metadata, extra={"num_candidates": num_candidates}))
  return g_path, d_path, p_path


def inference_speed(*, resolutions=(32, 64, 128), batch_sizes=(1, 64), channels: int = 3,
                    single_repeats: int = 20, max_iterative_seconds: float = 600.0,
                    xla: bool = False, generator: str = "", num_candidates: int = 1) -> list[dict]:
  """Table 4: ms per image of one pass (Eq. 8) and the iterative baseline (Eq. 2), same run.

  num_candidates: K > 1 times a P with K candidate heads (all K through G in one batch, the
  best pasted; `pgi_tf.inference.candidates`) for the DCGAN presets.

  Models are the DCGAN presets at each resolution, loaded through the real hub path; or, with
  `generator` (a registry name, handle, directory or "standin:NAME"), that frozen generator at
  its own resolution (Table 4's 256-px row "refers to the BigGAN generator"; BigGAN runs with a
  fixed class, no D) with an untrained P of the preset size. The iterative search runs 1000
  (64 px and below) or 1500 (128 px and above) Adam steps (§6.3.1). When a full search would
  take longer than `max_iterative_seconds`, its time is measured on a timed run of fewer steps
  and scaled linearly (the loop's steps cost the same); the row says so in `iterative_timed_steps`.
  """

  rows = []
  peak = hardware.matmul_peak_gflops()
  if generator:
    layer, metadata = generators.resolve_generator(generator)
    if generators.class_conditional(metadata):  # timing does not depend on the class: fix class 0
      layer, metadata = generators.resolve_generator(generator, class_index=0)
    if metadata.get("condition_dim"):
      raise InputError(f"--generator={generator}: conditioned generators are not benchmarked")
    keras.utils.set_random_seed(0)
    predictor = prior_lib.build_prior_predictor(prior_lib.preset(
        metadata["resolution"], channels=metadata["channels"], z_dim=metadata["z_dim"],
        z_distribution=metadata["z_distribution"], z_support=tuple(metadata["z_support"])))
    inpainter = inpainting.Inpainter(generator=layer, prior_predictor=predictor, z_dim=metadata["z_dim"],
                                  z_distribution=metadata["z_distribution"], z_support=metadata["z_support"],
                                  jit_compile=xla)
    extra = {"generator": metadata.get("generator", generator), "standin": metadata.get("standin", False)}
    return _time_inpainter(inpainter, resolution=metadata["resolution"], channels=metadata["channels"],
                           batch_sizes=batch_sizes, single_repeats=single_repeats,
                           max_iterative_seconds=max_iterative_seconds, xla=xla, extra=extra, peak_gflops=peak)
  for resolution in resolutions:
    with tempfile.TemporaryDirectory() as directory:
      keras.utils.set_random_seed(0)
      g_path, d_path, p_path = export_untrained_models(directory, resolution=resolution, channels=channels,
                                                        num_candidates=num_candidates)
      inpainter = inpainting.Inpainter(
          generator=hub.load_generator(g_path), discriminator=hub.load_discriminator(d_path),
          prior_predictor=hub.load_prior_predictor(p_path, generator_path=g_path), z_dim=100,
          jit_compile=xla)
      rows += _time_inpainter(inpainter, resolution=resolution, channels=channels, batch_sizes=batch_sizes,
                              single_repeats=single_repeats, max_iterative_seconds=max_iterative_seconds,
                              xla=xla, extra={"generator": "dcgan", "num_candidates": num_candidates}, peak_gflops=peak)
  return rows


def one_pass_flops(inpainter, *, resolution: int, channels: int) -> int:
  """FLOPs of one image's one pass (P -> G), counted from its graph (hardware.graph_flops)."""
  return hardware.graph_flops(
      lambda images, masks: inpainter.inpaint(images, masks, mode="single")["generated"],
      tf.TensorSpec([1, resolution, resolution, channels], tf.float32), tf.TensorSpec([1, resolution, resolution, 1]))


def iterative_seconds(inpainter, images, masks, *, steps: int, max_seconds: float) -> tuple[float, int]:
  """Seconds of the full search (Yeh et al.'s steps for the resolution) and the steps timed: when
  the full search would exceed max_seconds, a shorter one is timed and scaled linearly (its steps
  cost the same). A 10-step probe first traces (and compiles) the search loop; the step count is a
  tensor, so the timed call reuses the same graph."""
  probe = 10
  per_step = time_calls(lambda: inpainter.inpaint(images, masks, mode="iterative", iterations=probe)["inpainted"],
                        warmup=1, repeats=1) / probe
  timed = steps if per_step * steps <= max_seconds else max(probe, int(max_seconds / per_step))
  seconds = time_calls(lambda: inpainter.inpaint(images, masks, mode="iterative", iterations=timed)["inpainted"],
                       warmup=0, repeats=1)
  return seconds * steps / timed, timed


def _time_inpainter(inpainter, *, resolution: int, channels: int, batch_sizes, single_repeats: int,
                    max_iterative_seconds: float, xla: bool, extra: dict, peak_gflops: float) -> list[dict]:
  """Rows of one-pass vs iterative ms per image for one inpainter, per batch size, with the one
  pass's FLOPs (from its graph), achieved GFLOP/s, share of the machine's peak and peak memory."""
  rows = []
  steps = inpainting.default_iterations(resolution)
  flops_per_image = one_pass_flops(inpainter, resolution=resolution, channels=channels)
  for batch in batch_sizes:
    images = tf.random.uniform([batch, resolution, resolution, channels], -1, 1, seed=1)
    masks = tf.cast(tf.random.uniform([batch, resolution, resolution, 1], seed=2) < 0.25, tf.float32)
    with hardware.PeakMemory() as memory:
      single = time_calls(lambda: inpainter.inpaint(images, masks, mode="single")["inpainted"],
                           warmup=3, repeats=single_repeats)
    iterative, timed_steps = iterative_seconds(inpainter, images, masks, steps=steps,
                                               max_seconds=max_iterative_seconds)
    rows.append({"suite": "inference_table4", **extra, "resolution": resolution, "batch_size": batch,
                 "xla": xla, "single_ms_per_image": round(1000 * single / batch, 4),
                 **hardware.efficiency(flops_per_image=flops_per_image, ms_per_image=1000 * single / batch,
                                       peak_gflops=peak_gflops),
                 "peak_gflops": round(peak_gflops, 1), "single_peak_rss_mb": memory.peak_mb,
                 "iterative_steps": steps, "iterative_timed_steps": timed_steps,
                 "iterative_ms_per_image": round(1000 * iterative / batch, 2),
                 "speedup": round(iterative / single, 1)})
  return rows


SUITES: dict[str, Callable[..., list[dict]]] = {
    "inference_table4": inference_speed,
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
