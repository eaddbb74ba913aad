"""What the benchmark measures beside time: the machine's fp32 peak, a graph's FLOPs, peak memory.

  peak: a large float32 matmul (2 n^3 FLOPs) timed on this machine in the same run, the ceiling
        a convolution network's throughput is compared with (fraction of peak per row);
  FLOPs: counted from the traced graph (tf.profiler's float_operation after inlining the
        restored SavedModel functions and freezing variables), so a row's arithmetic is that of
        the networks it ran, not an estimate from the paper;
  memory: the process's resident set sampled every few ms while a row runs (its peak), since the
        kernel's ru_maxrss only grows over the whole process.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import threading
import time

import tensorflow as tf


@functools.lru_cache(maxsize=None)
def matmul_peak_gflops(*, size: int = 2048, repeats: int = 10) -> float:
  """GFLOP/s of a size x size float32 matmul on this machine (every core TensorFlow uses); measured
  once per process (every suite of one benchmark run compares with the same peak)."""
  a = tf.random.normal([size, size], seed=1)
  b = tf.random.normal([size, size], seed=2)
  multiply = tf.function(lambda: tf.matmul(a, b))
  best = float("inf")
  for _ in range(3):  # best of three rounds: the ceiling, not the average under interference
    multiply().numpy()
    start = time.perf_counter()
    for _ in range(repeats):
      result = multiply()
    result.numpy()
    best = min(best, (time.perf_counter() - start) / repeats)
  return 2.0 * size ** 3 / best / 1e9


def graph_flops(function, *input_specs) -> int:
  """Float operations of one call of `function` on inputs of these (fully defined) specs."""
  from tensorflow.python.framework import convert_to_constants  # pylint: disable=import-outside-toplevel
  from tensorflow.python.profiler import model_analyzer, option_builder  # pylint: disable=import-outside-toplevel
  concrete = tf.function(tf.autograph.experimental.do_not_convert(function)).get_concrete_function(*input_specs)
  frozen = convert_to_constants.convert_variables_to_constants_v2(concrete)  # inlines the SavedModel calls
  options = option_builder.ProfileOptionBuilder.float_operation()
  options["output"] = "none"
  with contextlib.redirect_stdout(io.StringIO()):
    return int(model_analyzer.profile(graph=frozen.graph, options=options).total_float_ops)


def _resident_mb() -> float:
  with open("/proc/self/statm") as f:
    return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


class PeakMemory:
  """with PeakMemory() as memory: ...; memory.peak_mb is the largest resident set seen meanwhile."""

  def __init__(self, interval_s: float = 0.005):
    self.interval_s = interval_s
    self.peak_mb = 0.0
    self._stop = threading.Event()
    self._thread = threading.Thread(target=self._sample, daemon=True)

  def _sample(self) -> None:
    while not self._stop.is_set():
      self.peak_mb = max(self.peak_mb, _resident_mb())
      time.sleep(self.interval_s)

  def __enter__(self) -> "PeakMemory":
    self.peak_mb = _resident_mb()
    self._thread.start()
    return self

  def __exit__(self, *exc) -> None:
    self._stop.set()
    self._thread.join()
    self.peak_mb = round(max(self.peak_mb, _resident_mb()), 1)


def efficiency(*, flops_per_image: float, ms_per_image: float, peak_gflops: float) -> dict:
  """Achieved GFLOP/s and its share of the machine's peak."""
  achieved = flops_per_image / (ms_per_image / 1000.0) / 1e9 if ms_per_image > 0 else 0.0
  return {"gflops_per_image": round(flops_per_image / 1e9, 5), "achieved_gflops": round(achieved, 2),
          "fraction_of_peak": round(achieved / peak_gflops, 4) if peak_gflops else None}


def layer_profile(model, inputs, *, peak_gflops: float, repeats: int = 20) -> list[dict]:
  """Per layer of a functional Keras model on these inputs (inference mode): FLOPs from the layer's
  own graph, ms per call, achieved GFLOP/s and share of peak. Shows which layers keep a network
  below the machine's peak (small late convolutions, normalisation and activations move memory
  and do little arithmetic)."""
  import keras  # pylint: disable=import-outside-toplevel
  inputs = inputs if isinstance(inputs, (list, tuple)) else [inputs]
  rows = []
  for layer in model.layers:
    if isinstance(layer, keras.layers.InputLayer):
      continue
    feed = keras.Model(model.inputs, layer.input)  # what reaches this layer
    value = feed(inputs, training=False)
    call = tf.function(lambda x, layer=layer: layer(x, training=False))
    spec = tf.nest.map_structure(lambda t: tf.TensorSpec(t.shape, t.dtype), value)
    flops = graph_flops(lambda x, layer=layer: layer(x, training=False), spec)
    call(value)
    start = time.perf_counter()
    for _ in range(repeats):
      result = call(value)
    np_result = tf.nest.flatten(result)[0].numpy()  # host sync
    ms = 1000 * (time.perf_counter() - start) / repeats
    rows.append({"layer": layer.name, "kind": type(layer).__name__, "output_shape": list(np_result.shape),
                 "mflops": round(flops / 1e6, 3), "ms": round(ms, 4),
                 "achieved_gflops": round(flops / (ms / 1000) / 1e9, 2) if ms > 0 else 0.0,
                 "fraction_of_peak": round(flops / (ms / 1000) / 1e9 / peak_gflops, 4) if ms > 0 else 0.0})
  return rows
