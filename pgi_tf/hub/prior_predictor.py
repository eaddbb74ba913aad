"""Stage 2's export: the prior predictor P as a hub module (§4.1).

  prior_predictor/  signature "default": masked_images float32 [N, R, R, C], masks float32
                    [N, R, R, 1] (+ condition [N, c] for M_{z+S}) -> {"default": z [N, z_dim]}

Its metadata names the generator P was trained against (path and weight fingerprint), so a P
is never paired with another G.
"""

from __future__ import annotations

import os
from typing import Any, Mapping

import keras
import tensorflow as tf

from pgi_tf.errors import InputError
from pgi_tf.hub.modules import (FORMAT_VERSION, METADATA_FILENAME, HubModuleLayer, check_trained_for, is_remote_handle,
                                module_fingerprint, read_metadata, read_weights_into, save_module)


def prior_predictor_metadata(*, generator_path: str, generator_metadata: Mapping[str, Any],
                             extra: Mapping[str, Any] | None = None) -> dict:
  """P's metadata: the generator it was trained against, and that generator's z prior."""
  metadata = {key: generator_metadata[key] for key in
              ("resolution", "channels", "z_dim", "z_distribution", "z_support", "value_range")
              if key in generator_metadata}
  metadata.update(format_version=FORMAT_VERSION, kind="prior_predictor",
                  condition_dim=generator_metadata.get("condition_dim", 0),
                  generator_path=generator_path, generator_fingerprint=module_fingerprint(generator_path),
                  signature="default", output_key="default", input_names=["masked_images", "masks"])
  if generator_metadata.get("condition_dim"):  # M_{z+S}: P(I_d, M, S)
    metadata["input_names"].append("condition")
  metadata.update(extra or {})
  return metadata


class _PriorPredictorModule(tf.Module):

  def __init__(self, predictor: keras.Model, resolution: int, channels: int, condition_dim: int = 0):
    super().__init__(name="prior_predictor_module")
    self.predictor = predictor
    if condition_dim:  # M_{z+S}: P(I_d, M, S)
      @tf.function(input_signature=[
          tf.TensorSpec([None, resolution, resolution, channels], tf.float32, name="masked_images"),
          tf.TensorSpec([None, resolution, resolution, 1], tf.float32, name="masks"),
          tf.TensorSpec([None, condition_dim], tf.float32, name="condition")])
      def default(masked_images, masks, condition):
        return {"default": tf.cast(self.predictor([masked_images, masks, condition], training=False), tf.float32)}

      self.default = default
      return

    @tf.function(input_signature=[
        tf.TensorSpec([None, resolution, resolution, channels], tf.float32, name="masked_images"),
        tf.TensorSpec([None, resolution, resolution, 1], tf.float32, name="masks")])
    def default(masked_images, masks):
      return {"default": tf.cast(self.predictor([masked_images, masks], training=False), tf.float32)}

    self.default = default


def export_prior_predictor(predictor: keras.Model, path: str, *, metadata: Mapping[str, Any]) -> None:
  """Exports P: (masked_images, masks) -> {"default": z}, atomically, with its metadata."""
  module = _PriorPredictorModule(predictor, metadata["resolution"], metadata["channels"],
                                 metadata.get("condition_dim", 0))
  save_module(module, path, dict(metadata))


def load_prior_predictor(path: str, *, generator_path: str | None = None,
                         flag: str = "--prior_predictor") -> HubModuleLayer:
  """P as a frozen layer; refuses a P that was trained against another generator."""
  metadata = read_metadata(path) if not is_remote_handle(path) else None
  input_names = (metadata or {}).get("input_names") or ["masked_images", "masks"]
  layer = HubModuleLayer(path, flag=flag, input_names=input_names, name="prior_predictor")
  if layer.metadata is None or layer.metadata.get("kind") != "prior_predictor":
    raise InputError(f"{flag}={path}: not a prior predictor exported by pgi_tf (no {METADATA_FILENAME})")
  if generator_path is not None:
    check_trained_for(layer.metadata, generator_path, path=path, flag=flag)
  return layer




def read_prior_predictor_weights(predictor: keras.Model, path: str, *, generator_path: str | None = None,
                                 flag: str = "--config.train.warm_start") -> str:
  """Copies the weights of P's export at `path` into `predictor` (same architecture).

  With `generator_path`, an export trained for another generator is refused. Returns the
  variables prefix that was read.
  """
  metadata = read_metadata(path) or {}
  if metadata.get("kind") != "prior_predictor":
    raise InputError(f"{flag}={path}: not a prior predictor exported by pgi_tf")
  if generator_path is not None:
    check_trained_for(metadata, generator_path, path=path, flag=flag)
  # The export's module tracks P as `predictor` (_PriorPredictorModule); checkpoints as `prior_predictor`.
  return read_weights_into(os.path.join(path, "variables", "variables"), flag=flag, path=path, noun="a P",
                           predictor=predictor)
