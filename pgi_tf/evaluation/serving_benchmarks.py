"""The serving_backends suite of binaries/benchmark.py: one pass (Eq. 8) of a real model through each
way of running it, at the model's resolution, against the iterative baseline, in the same run.

  tf          the library's Inpainter (a tf.function; what `inpaint` runs)
  xla         the same with jit_compile=True
  savedmodel  the exported inpainter's serving_default signature (`binaries/export.py`)
  tflite_N_threads  the exported inpainter.tflite, TensorFlow Lite's interpreter (XNNPACK) on N threads

Timings exclude warm-up and end on a host sync (benchmarks.time_calls).
"""

from __future__ import annotations

import os
import tempfile

import keras
import numpy as np
import tensorflow as tf

from pgi_tf.evaluation import benchmarks
from pgi_tf.evaluation import hardware
from pgi_tf.inference import backends
from pgi_tf.inference import export
from pgi_tf.inference import inpainting
from pgi_tf.inference import loading



def _runners(models, export_dir: str) -> dict:
  """backend -> f(images float32 [-1, 1], masks float32 1 = hole) -> G(ẑ), all at R x R."""
  saved = tf.saved_model.load(export_dir).signatures["serving_default"]
  lite_file = os.path.join(export_dir, export.TFLITE_FILENAME)
  runners = {name: backends.one_pass(name, models).run for name in ("tf", "xla")}
  runners["savedmodel"] = lambda images, masks: saved(images=images, masks=masks)["generated"]
  for threads in sorted({1, os.cpu_count() or 1}):
    lite = backends.tflite_runner(lite_file, num_threads=threads)
    runners[f"tflite_{threads}_threads"] = lambda images, masks, lite=lite: lite(images=images, masks=masks)["generated"]
  return runners


def serving_backends(*, model_dir: str = "", resolutions=(), batch_sizes=(1, 64), single_repeats: int = 50,
                     iterative_steps: int | None = None, max_iterative_seconds: float = 120.0) -> list[dict]:
  """Rows: ms per image of one pass per backend and batch size, FLOPs and share of the machine's
  peak, and the speedup over the iterative search (Yeh et al., the default steps for the
  resolution) timed once per batch size. model_dir: a trained model (default the bundled M_z);
  resolutions: instead, untrained DCGAN-preset G, D and P at each resolution (speed does not depend
  on training; Table 4's 64 and 128 px)."""
  peak = hardware.matmul_peak_gflops()
  if not resolutions:
    model_dir = model_dir or loading.default_model_dir("none")
    return _model_rows(model_dir, label=model_dir, peak=peak, batch_sizes=batch_sizes, single_repeats=single_repeats,
                       iterative_steps=iterative_steps, max_iterative_seconds=max_iterative_seconds)
  rows = []
  for resolution in resolutions:
    with tempfile.TemporaryDirectory() as directory:
      keras.utils.set_random_seed(0)
      benchmarks.export_untrained_models(directory, resolution=resolution, channels=3)
      rows += _model_rows(directory, label=f"dcgan preset {resolution} px (untrained)", peak=peak,
                          batch_sizes=batch_sizes, single_repeats=single_repeats, iterative_steps=iterative_steps,
                          max_iterative_seconds=max_iterative_seconds)
  return rows


def _model_rows(model_dir: str, *, label: str, peak: float, batch_sizes, single_repeats: int,
                iterative_steps: int | None, max_iterative_seconds: float) -> list[dict]:
  models = loading.load_models(model_dir=model_dir)
  resolution, channels = models.resolution, models.channels
  search = loading.make_inpainter(models)  # also the graph whose FLOPs are counted
  flops_per_image = benchmarks.one_pass_flops(search, resolution=resolution, channels=channels)
  steps = iterative_steps or inpainting.default_iterations(resolution)
  rows = []
  # The model's shipped inpainter when it was exported from these weights, else one exported once
  # into $PGI_TF_CACHE (backends.tflite_file): the SavedModel and the .tflite sit together.
  export_dir = os.path.dirname(backends.tflite_file(models))
  runners = _runners(models, export_dir)
  for batch in batch_sizes:
    rng = np.random.default_rng(batch)
    images = rng.uniform(-1, 1, (batch, resolution, resolution, channels)).astype(np.float32)
    masks = (rng.uniform(size=(batch, resolution, resolution, 1)) < 0.25).astype(np.float32)
    iterative, timed_steps = benchmarks.iterative_seconds(search, images, masks, steps=steps,
                                                          max_seconds=max_iterative_seconds)
    for backend in runners:
      with hardware.PeakMemory() as memory:
        seconds = benchmarks.time_calls(
            lambda: runners[backend](images, masks), warmup=3, repeats=max(3, single_repeats // max(1, batch // 8)))
      ms = 1000 * seconds / batch
      rows.append({"suite": "serving_backends", "model": label, "resolution": resolution, "batch_size": batch,
                   "backend": backend, "ms_per_image": round(ms, 4),
                   **hardware.efficiency(flops_per_image=flops_per_image, ms_per_image=ms, peak_gflops=peak),
                   "peak_gflops": round(peak, 1), "peak_rss_mb": memory.peak_mb,
                   "iterative_steps": steps, "iterative_timed_steps": timed_steps,
                   "iterative_ms_per_image": round(1000 * iterative / batch, 2),
                   "speedup_vs_iterative": round(iterative / seconds, 1), "cores": os.cpu_count()})
  return rows


def layer_profiles(*, resolution: int = 64, batch_size: int = 64, repeats: int = 20) -> list[dict]:
  """Suite layer_profile: where the one pass's time goes, per layer of P and G (the DCGAN preset at
  `resolution`, untrained), at `batch_size`, against the fp32 peak measured in the same run."""
  from pgi_tf.models import dcgan  # pylint: disable=import-outside-toplevel
  from pgi_tf.models import prior_predictor as prior_lib  # pylint: disable=import-outside-toplevel
  peak = hardware.matmul_peak_gflops()
  keras.utils.set_random_seed(0)
  config = dcgan.preset(resolution, channels=3)
  generator, _ = dcgan.build_gan(config)
  predictor = prior_lib.build_prior_predictor(prior_lib.preset(resolution, channels=3, z_dim=config.z_dim))
  rng = np.random.default_rng(0)
  images = rng.uniform(-1, 1, (batch_size, resolution, resolution, 3)).astype(np.float32)
  masks = (rng.uniform(size=(batch_size, resolution, resolution, 1)) < 0.25).astype(np.float32)
  z = predictor([images * (1 - masks), masks], training=False)
  rows = []
  for network, model, inputs in (("P", predictor, [images * (1 - masks), masks]), ("G", generator, z)):
    for row in hardware.layer_profile(model, inputs, peak_gflops=peak, repeats=repeats):
      rows.append({"suite": "layer_profile", "network": network, "resolution": resolution, "batch_size": batch_size,
                   **row, "peak_gflops": round(peak, 1)})
  return rows
