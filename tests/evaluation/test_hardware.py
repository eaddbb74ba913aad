"""What the benchmark measures beside time (pgi_tf/evaluation/hardware.py): FLOPs counted from a
graph against hand counts, the peak-memory sampler against a known allocation, the efficiency
arithmetic, and the serving_backends rows of the bundled model."""

import os

import numpy as np
import pytest
import tensorflow as tf

from pgi_tf.evaluation import hardware
from pgi_tf.evaluation import serving_benchmarks


def test_matmul_and_conv_flops_by_hand():
  weights = tf.constant(np.ones((8, 4), np.float32))
  assert hardware.graph_flops(lambda x: tf.matmul(x, weights), tf.TensorSpec([2, 8])) == 2 * 2 * 8 * 4
  kernel = tf.Variable(tf.ones([3, 3, 2, 4]))  # a variable: frozen into the graph before counting
  conv = lambda x: tf.nn.conv2d(x, kernel, strides=1, padding="SAME")
  assert hardware.graph_flops(conv, tf.TensorSpec([1, 8, 8, 2])) == 2 * 8 * 8 * 3 * 3 * 2 * 4


def test_peak_memory_sees_a_temporary_allocation():
  with hardware.PeakMemory() as memory:
    start = memory.peak_mb
    block = np.ones(300 * 2 ** 20 // 8)  # 300 MB, touched
    block.sum()
    del block
  assert memory.peak_mb >= start + 250


def test_efficiency_arithmetic():
  row = hardware.efficiency(flops_per_image=2e9, ms_per_image=10.0, peak_gflops=400.0)
  assert row == {"gflops_per_image": 2.0, "achieved_gflops": 200.0, "fraction_of_peak": 0.5}


def test_serving_backends_rows_of_the_bundled_model():
  rows = serving_benchmarks.serving_backends(batch_sizes=(1,), single_repeats=3, iterative_steps=20)
  backends = [r["backend"] for r in rows]
  assert backends[:3] == ["tf", "xla", "savedmodel"] and "tflite_1_threads" in backends
  flops = {r["gflops_per_image"] for r in rows}
  assert len(flops) == 1 and 0.01 < flops.pop() < 1.0  # P + G at 32 px: tens of MFLOP, the same for every backend
  for row in rows:
    assert row["achieved_gflops"] == pytest.approx(row["gflops_per_image"] / (row["ms_per_image"] / 1000), rel=0.02)
    assert row["peak_rss_mb"] > 100 and row["speedup_vs_iterative"] > 0 and row["iterative_steps"] == 20


def test_layer_profile_counts_each_layer_by_hand():
  import keras  # pylint: disable=import-outside-toplevel
  inputs = keras.Input([100])
  hidden = keras.layers.Dense(50, name="dense")(inputs)
  outputs = keras.layers.ReLU(name="relu")(hidden)
  model = keras.Model(inputs, outputs)
  rows = hardware.layer_profile(model, np.ones((10, 100), np.float32), peak_gflops=100.0, repeats=2)
  assert [r["layer"] for r in rows] == ["dense", "relu"]
  assert rows[0]["mflops"] == pytest.approx(2 * 10 * 100 * 50 / 1e6, abs=0.002)  # the matmul (+ the bias add)
  assert rows[0]["output_shape"] == [10, 50] and rows[1]["mflops"] < 0.01
  assert rows[0]["fraction_of_peak"] == pytest.approx(rows[0]["achieved_gflops"] / 100.0, abs=1e-3)
