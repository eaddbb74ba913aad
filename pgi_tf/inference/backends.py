"""How the one pass (Eq. 8's ẑ = P(I_d), G(ẑ)) is run: a registry of backends, chosen by measurement.

  tf      the library's Inpainter (a tf.function): every mode, every model
  xla     the same compiled with XLA (jit_compile)
  tflite  the exported inpainter's .tflite (TensorFlow Lite builtins, XNNPACK), one pass only
  auto    the measured winner for the model's resolution and the batch size (binaries/benchmark.py
          --suites=serving_backends)

Every backend returns G(ẑ) at the model's resolution; Eq. 8 at full resolution stays with the
caller (folders.py), so known pixels are exact whatever runs the networks. tf and xla give the same
pixels as each other to float rounding; tflite's XNNPACK kernels round differently (within 1/255
of tf on the uint8 outputs, tests/inference/test_backends.py).
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from typing import Callable

import numpy as np

from pgi_tf import files
from pgi_tf import hub
from pgi_tf.errors import InputError
from pgi_tf.inference import export
from pgi_tf.inference import loading

BACKENDS = ("auto", "tf", "xla", "tflite")
# auto, from results/serving_backends and results/serving_backends_64_128 (2 cores, the one pass's
# ms per image): TensorFlow Lite wins at small batches on small models (32 px batch 1: 0.82 ms on one
# thread vs 2.30 ms tf; 64 px batch 1: 6.80 ms on two threads vs 7.87 ms tf); the tf.function wins at
# batch 64 and at 128 px (its oneDNN kernels use both cores better on large convolutions).
AUTO_TFLITE_MAX_BATCH = 4
AUTO_TFLITE_MAX_RESOLUTION = 64


def tflite_threads(resolution: int) -> int:
  """TensorFlow Lite's threads for the tflite backend: one on the smallest models (a second thread
  costs more in hand-offs than it saves), every core from 64 px on (the same JSONs)."""
  return 1 if resolution <= 32 else (os.cpu_count() or 1)


@dataclasses.dataclass(frozen=True)
class OnePass:
  """generated = run(model_images, model_masks); `name` is the backend that runs it."""
  name: str
  run: Callable[[np.ndarray, np.ndarray], np.ndarray]


def tflite_supported(models: loading.Models) -> str:
  """"" when the model converts to TFLite builtins, else why not."""
  metadata = models.prior_predictor.metadata if models.prior_predictor is not None else {}
  if models.prior_predictor is None:
    return "no prior predictor"
  if int((metadata or {}).get("num_candidates", 1)) > 1:
    return "a P with candidate heads"
  if models.class_conditional:
    return "a class-conditional generator (labels)"
  if models.structural_prior is not None:
    return "a structural prior (M_{z+S})"
  return ""


def choose(requested: str, *, models: loading.Models, mode: str, batch_size: int, num_candidates: int = 1) -> str:
  """The backend a run uses: requested, checked, or auto's pick."""
  if requested not in BACKENDS:
    raise InputError(f"--backend={requested}: choose one of {', '.join(BACKENDS)}")
  unsupported = tflite_supported(models) or ("--mode=" + mode if mode != "single" else "") or (
      "--num_candidates" if num_candidates > 1 else "")
  if requested == "tflite" and unsupported:
    raise InputError(f"--backend=tflite: runs the one pass only; not with {unsupported} (use --backend=tf)")
  if requested == "auto":
    small = batch_size <= AUTO_TFLITE_MAX_BATCH and models.resolution <= AUTO_TFLITE_MAX_RESOLUTION
    return "tflite" if not unsupported and small else "tf"
  return requested


def tflite_file(models: loading.Models) -> str:
  """The .tflite of this P and G: the model directory's shipped inpainter/ when it was exported from
  exactly these weights (its metadata's fingerprints), else one exported once into
  $PGI_TF_CACHE/tflite/<P>_<G>/ (default ~/.cache/pgi_tf)."""
  p_path, g_path = models.prior_predictor.handle, models.generator.handle
  weights = export.weights_fingerprints(p_path, g_path)
  shipped = os.path.join(os.path.dirname(os.path.abspath(p_path)), "inpainter")
  metadata = hub.read_metadata(shipped) or {}
  if metadata.get("tflite") and metadata.get("weights") == weights:
    return os.path.join(shipped, metadata["tflite"])
  directory = files.cache_dir("tflite", f"{weights['prior_predictor']}_{weights['generator']}")
  path = os.path.join(directory, export.TFLITE_FILENAME)
  if not os.path.isfile(path):  # exported once; atomic, so concurrent runs are safe
    export.export_inpainter(directory, prior_predictor_path=p_path, generator_path=g_path, tflite=True)
  return path


def tflite_runner(path: str, signature: str = "serving_default", *, num_threads: int | None = None):
  """A TensorFlow Lite signature runner (XNNPACK) on num_threads threads (default: every core)."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  with warnings.catch_warnings():  # tf.lite.Interpreter's notice that LiteRT (ai_edge_litert) succeeds it
    warnings.simplefilter("ignore")
    interpreter = tf.lite.Interpreter(model_path=path, num_threads=num_threads or os.cpu_count())
  return interpreter.get_signature_runner(signature)


def one_pass(backend: str, models: loading.Models, *, num_threads: int | None = None) -> OnePass:
  """The one pass of a chosen (not auto) backend; tflite on num_threads (default tflite_threads)."""
  if backend == "tflite":
    runner = tflite_runner(tflite_file(models), num_threads=num_threads or tflite_threads(models.resolution))
    return OnePass("tflite", lambda images, masks: runner(images=np.asarray(images, np.float32),
                                                          masks=np.asarray(masks, np.float32))["generated"])
  inpainter = loading.make_inpainter(models, jit_compile=backend == "xla")
  return OnePass(backend, lambda images, masks: inpainter.inpaint(images, masks, mode="single")["generated"].numpy())
