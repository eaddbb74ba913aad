"""§4.2's keypoint refiner f as a SavedModel (trained by `pgi_tf.train.keypoint_refiner`).

  SavedModel, signature "serving_default":
      keypoints float32 [N, K, 2] (hidden ones 0), switches float32 [N, K] (1 = detected)
      -> {"refined": float32 [N, K, 2]}
  + pgi_tf_metadata.json: kind "keypoint_refiner", keypoints (what the K points are),
    num_keypoints, training details and the held-out report.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import tensorflow as tf

from pgi_tf.errors import InputError
from pgi_tf.hub.modules import FORMAT_VERSION, load_saved_model_of_kind, save_module

SIGNATURE = "serving_default"
OUTPUT_KEY = "refined"
KIND = "keypoint_refiner"


class _RefinerModule(tf.Module):

  def __init__(self, model, num_keypoints: int):
    super().__init__(name="keypoint_refiner_module")
    self.model = model

    @tf.function(input_signature=[tf.TensorSpec([None, num_keypoints, 2], tf.float32, name="keypoints"),
                                  tf.TensorSpec([None, num_keypoints], tf.float32, name="switches")])
    def serving_default(keypoints, switches):
      return {OUTPUT_KEY: tf.cast(self.model([keypoints, switches], training=False), tf.float32)}

    self.serving_default = serving_default


def export_keypoint_refiner(model, path: str, *, metadata: dict[str, Any]) -> None:
  """Writes f as a SavedModel (format in the module docstring) with its metadata, atomically."""
  num_keypoints = int(model.inputs[1].shape[-1])
  module = _RefinerModule(model, num_keypoints)
  metadata = dict(metadata, format_version=FORMAT_VERSION, kind=KIND, num_keypoints=num_keypoints,
                  signature=SIGNATURE, input_names=["keypoints", "switches"], output_key=OUTPUT_KEY,
                  coordinates="[0, 1] box coordinates, x right, y down; hidden points x = y = 0")
  save_module(module, path, metadata, signatures={SIGNATURE: module.serving_default})


class LoadedKeypointRefiner(tf.Module):
  """f loaded from an export: refiner(keypoints [N, K, 2], switches [N, K]) -> refined [N, K, 2].

  numpy in, numpy out; tensors in (eager or inside a tf.function), a tensor out. Being a
  tf.Module, it is tracked by modules that hold it, so their SavedModels include f.
  """

  def __init__(self, path: str, loaded, metadata: dict[str, Any]):
    super().__init__(name="loaded_keypoint_refiner")
    self.path = path
    self.loaded = loaded
    self.metadata = metadata
    self.num_keypoints = int(metadata["num_keypoints"])

  def __call__(self, keypoints, switches):
    as_tensor = tf.is_tensor(keypoints) or tf.is_tensor(switches)
    if not as_tensor:
      keypoints = np.asarray(keypoints, np.float32)
      switches = np.asarray(switches, np.float32)
      if keypoints.shape[1:] != (self.num_keypoints, 2) or switches.shape != keypoints.shape[:-1]:
        raise InputError(f"{self.path}: expects keypoints [N, {self.num_keypoints}, 2] and switches "
                         f"[N, {self.num_keypoints}], got {list(keypoints.shape)} and {list(switches.shape)}")
    function = self.loaded.signatures[SIGNATURE]
    refined = function(keypoints=tf.cast(keypoints, tf.float32), switches=tf.cast(switches, tf.float32))
    return refined[OUTPUT_KEY] if as_tensor else refined[OUTPUT_KEY].numpy()


def load_keypoint_refiner(path: str, *, flag: str = "--keypoint_refiner") -> LoadedKeypointRefiner:
  """Loads an exported f; refuses directories that are not keypoint refiners, naming `flag`."""
  if not os.path.isfile(os.path.join(path, "saved_model.pb")):
    raise InputError(f"{flag}={path}: not a SavedModel directory (no saved_model.pb)")
  loaded, metadata = load_saved_model_of_kind(path, kind=KIND, signature=SIGNATURE, flag=flag, noun="keypoint refiner")
  return LoadedKeypointRefiner(path, loaded, metadata)
