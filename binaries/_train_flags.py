"""--distribution and --cpu_replicas: defined once here, for every trainer binary.

  --distribution=mirrored      all local GPUs, or the CPU's logical devices (--cpu_replicas)
  --distribution=multi_worker  MultiWorkerMirroredStrategy, cluster from TF_CONFIG
  --cpu_replicas=N             split the CPU into N logical devices first, so `mirrored` on a
                               machine without GPUs runs N replicas

Call `apply(config.train)` first thing in main (a trainer without a --config passes its own
small train config): logical devices must be set before TensorFlow runs any op.
"""

from __future__ import annotations

from absl import flags
from absl import logging

from pgi_tf.train import runtime

_DISTRIBUTION = flags.DEFINE_enum(
    "distribution", None, list(runtime.STRATEGIES),
    "Overrides config.train.distribution: default (one device), mirrored (all local GPUs, or the "
    "--cpu_replicas logical CPUs), multi_worker (MultiWorkerMirroredStrategy, cluster from TF_CONFIG; "
    "only the chief keeps checkpoints, exports, samples and summaries).")
_CPU_REPLICAS = flags.DEFINE_integer(
    "cpu_replicas", None, "Split the CPU into this many logical devices before TensorFlow starts, so "
    "--distribution=mirrored on a machine without GPUs runs that many replicas (batch_size must divide).")


def apply(train_config) -> None:
  """Writes --distribution into train_config.distribution and splits the CPU for --cpu_replicas."""
  if _DISTRIBUTION.value:
    train_config.distribution = _DISTRIBUTION.value
  if _CPU_REPLICAS.value is not None:
    runtime.split_cpu(_CPU_REPLICAS.value)
    if train_config.distribution != "mirrored" and _CPU_REPLICAS.value > 1:
      logging.warning("--cpu_replicas=%d: only --distribution=mirrored uses the logical CPUs (distribution is %s)",
                      _CPU_REPLICAS.value, train_config.distribution)
