"""Shared pytest set-up: quiet TensorFlow, two logical CPU devices for distribution tests."""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# "standin:<name>" generators (the high-resolution presets' smoke variants) are exported into
# this session's own cache, inherited by the binaries the tests start, not into ~/.cache.
import tempfile  # noqa: E402
os.environ["PGI_TF_CACHE"] = tempfile.mkdtemp(prefix="pgi_tf_cache-")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tensorflow as tf  # noqa: E402

# MirroredStrategy tests need two devices; logical devices must be configured before
# TensorFlow initialises its runtime, so it is done once here for the whole session.
_cpus = tf.config.list_physical_devices("CPU")
try:
  tf.config.set_logical_device_configuration(
      _cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2)
except RuntimeError:
  pass
