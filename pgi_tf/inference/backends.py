"""How the one pass (Eq. 8's ẑ = P(I_d), G(ẑ)) is run: a registry of backends, chosen by measurement.

  tf      the library's Inpainter (a tf.function): every mode, every model
  xla     the same compiled with XLA (jit_compile)
  tflite  the exported inpainter's .tflite (TensorFlow Lite builtins, XNNPACK), one pass only
  auto    the measured winner for the batch size (AUTO_RULE; binaries/benchmark.py --suites=serving_backends)

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

from pgi_tf import hub
from pgi_tf.errors import InputError
from pgi_tf.inference import export
from pgi_tf.inference import loading

BACKENDS = ("auto", "tf", "xla", "tflite")
# auto: TensorFlow Lite where its per-call cost wins (small batches), the tf.function beyond. From
# results/serving_backends (bundled M_z, 2 cores): batch 1 tflite < tf; batch 64 tf < tflite.
AUTO_TFLITE_MAX_BATCH = 4
# TensorFlow Lite's threads for the tflite backend: one (at batch 1 a second thread costs more in
# hand-offs than it saves: results/serving_backends, tflite_1_threads vs tflite_2_threads).
TFLITE_THREADS = 1


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
    return "tflite" if not unsupported and batch_size <= AUTO_TFLITE_MAX_BATCH else "tf"
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
  root = os.environ.get("PGI_TF_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "pgi_tf")
  directory = os.path.join(root, "tflite", f"{weights['prior_predictor']}_{weights['generator']}")
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


def one_pass(backend: str, models: loading.Models, *, num_threads: int = TFLITE_THREADS) -> OnePass:
  """The one pass of a chosen (not auto) backend."""
  if backend == "tflite":
    runner = tflite_runner(tflite_file(models), num_threads=num_threads)
    return OnePass("tflite", lambda images, masks: runner(images=np.asarray(images, np.float32),
                                                          masks=np.asarray(masks, np.float32))["generated"])
  inpainter = loading.make_inpainter(models, jit_compile=backend == "xla")
  return OnePass(backend, lambda images, masks: inpainter.inpaint(images, masks, mode="single")["generated"].numpy())
