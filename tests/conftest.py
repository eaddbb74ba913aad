"""Shared pytest set-up: quiet TensorFlow, two logical CPU devices for distribution tests."""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
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
