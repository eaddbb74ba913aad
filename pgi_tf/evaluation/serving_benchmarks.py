"""The serving_backends suite of binaries/benchmark.py: one pass (Eq. 8) of a real model through each
way of running it, at the model's resolution, against the iterative baseline, in the same run.

  tf          the library's Inpainter (a tf.function; what `inpaint` runs)
  xla         the same with jit_compile=True
  savedmodel  the exported inpainter's serving_default signature (`binaries/export.py`)
  tflite      the exported inpainter.tflite, TensorFlow Lite's interpreter with XNNPACK on all cores

Timings exclude warm-up and end on a host sync (benchmarks._time_calls).
"""

from __future__ import annotations

import os
import tempfile
import warnings

import numpy as np
import tensorflow as tf

from pgi_tf.evaluation import benchmarks
from pgi_tf.inference import export
from pgi_tf.inference import inpainting
from pgi_tf.inference import loading

BACKENDS = ("tf", "xla", "savedmodel", "tflite")


def tflite_runner(path: str, signature: str, *, num_threads: int | None = None):
  """A TensorFlow Lite signature runner on `num_threads` threads (default: every core)."""
  with warnings.catch_warnings():  # tf.lite.Interpreter's notice that LiteRT (ai_edge_litert) is its successor
    warnings.simplefilter("ignore")
    interpreter = tf.lite.Interpreter(model_path=path, num_threads=num_threads or os.cpu_count())
  return interpreter.get_signature_runner(signature)


def _runners(models, export_dir: str, *, resolution: int) -> dict:
  """backend -> f(images float32 [-1, 1], masks float32 1 = hole) -> inpainted, all at R x R."""
  library = loading.make_inpainter(models)
  compiled = loading.make_inpainter(models, jit_compile=True)
  saved = tf.saved_model.load(export_dir).signatures["serving_default"]
  lite = tflite_runner(os.path.join(export_dir, export.TFLITE_FILENAME), "serving_default")
  return {
      "tf": lambda images, masks: library.inpaint(images, masks, mode="single")["inpainted"],
      "xla": lambda images, masks: compiled.inpaint(images, masks, mode="single")["inpainted"],
      "savedmodel": lambda images, masks: saved(images=images, masks=masks)["inpainted"],
      "tflite": lambda images, masks: lite(images=images, masks=masks)["inpainted"],
  }


def serving_backends(*, model_dir: str = "", batch_sizes=(1, 64), single_repeats: int = 50,
                     iterative_steps: int | None = None) -> list[dict]:
  """Rows: ms per image of one pass per backend and batch size, and the speedup over the iterative
  search (Yeh et al., the default steps for the resolution) timed once per batch size."""
  model_dir = model_dir or loading.default_model_dir("none")
  models = loading.load_models(model_dir=model_dir)
  resolution, channels = models.resolution, models.channels
  steps = iterative_steps or inpainting.default_iterations(resolution)
  rows = []
  with tempfile.TemporaryDirectory() as directory:
    export_dir = os.path.join(directory, "inpainter")
    export.export_inpainter(export_dir, tflite=True, **export.inpainter_paths(model_dir))
    runners = _runners(models, export_dir, resolution=resolution)
    search = loading.make_inpainter(models)
    for batch in batch_sizes:
      rng = np.random.default_rng(batch)
      images = rng.uniform(-1, 1, (batch, resolution, resolution, channels)).astype(np.float32)
      masks = (rng.uniform(size=(batch, resolution, resolution, 1)) < 0.25).astype(np.float32)
      iterative = benchmarks._time_calls(  # pylint: disable=protected-access
          lambda: search.inpaint(images, masks, mode="iterative", iterations=steps)["inpainted"], warmup=1, repeats=1)
      for backend in BACKENDS:
        seconds = benchmarks._time_calls(  # pylint: disable=protected-access
            lambda: runners[backend](images, masks), warmup=3, repeats=max(3, single_repeats // max(1, batch // 8)))
        rows.append({"suite": "serving_backends", "model": model_dir, "resolution": resolution, "batch_size": batch,
                     "backend": backend, "ms_per_image": round(1000 * seconds / batch, 4),
                     "iterative_steps": steps, "iterative_ms_per_image": round(1000 * iterative / batch, 2),
                     "speedup_vs_iterative": round(iterative / seconds, 1), "threads": os.cpu_count()})
  return rows
