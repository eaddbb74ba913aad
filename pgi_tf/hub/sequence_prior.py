"""§4.3's grouped prior (the LSTM sequence model) as a hub module.

  default(masked_frames float32 [N, T, R, R, C], masks float32 [N, T, R, R, 1] (+ condition
          float32 [N, T, c] for M_{z+S+L})) -> {"default": z float32 [N, T, z_dim]}

T is free (the model was trained on windows of `metadata["window"]` frames; inference slides
windows of that length). The metadata ties the export to its generator like P's does.
"""

from __future__ import annotations

import os
from typing import Any, Mapping

import keras
import tensorflow as tf

from pgi_tf.errors import InputError
from pgi_tf.hub.modules import HubModuleLayer, METADATA_FILENAME, check_trained_for, read_metadata, save_module
from pgi_tf.hub.prior_predictor import prior_predictor_metadata

KIND = "sequence_prior"


def sequence_prior_metadata(*, generator_path: str, generator_metadata: Mapping[str, Any], window: int,
                            per_frame: bool, extra: Mapping[str, Any] | None = None) -> dict:
  """P's metadata (generator, its fingerprint and z prior) with kind "sequence_prior" and the window."""
  metadata = prior_predictor_metadata(generator_path=generator_path, generator_metadata=generator_metadata)
  metadata.update(kind=KIND, window=int(window), temporal="per_frame" if per_frame else "lstm",
                  input_names=["masked_frames", "masks"] + (["condition"] if metadata["condition_dim"] else []))
  metadata.update(extra or {})
  return metadata


class _SequencePriorModule(tf.Module):

  def __init__(self, model: keras.Model, resolution: int, channels: int, condition_dim: int):
    super().__init__(name="sequence_prior_module")
    self.sequence_prior = model
    specs = [tf.TensorSpec([None, None, resolution, resolution, channels], tf.float32, name="masked_frames"),
             tf.TensorSpec([None, None, resolution, resolution, 1], tf.float32, name="masks")]
    if condition_dim:
      @tf.function(input_signature=specs + [tf.TensorSpec([None, None, condition_dim], tf.float32,
                                                          name="condition")])
      def default(masked_frames, masks, condition):
        return {"default": tf.cast(self.sequence_prior([masked_frames, masks, condition], training=False),
                                   tf.float32)}
    else:
      @tf.function(input_signature=specs)
      def default(masked_frames, masks):
        return {"default": tf.cast(self.sequence_prior([masked_frames, masks], training=False), tf.float32)}
    self.default = default


def export_sequence_prior(model: keras.Model, path: str, *, metadata: Mapping[str, Any]) -> None:
  """Exports the model: (masked_frames, masks) -> {"default": z [N, T, z_dim]}, atomically."""
  module = _SequencePriorModule(model, metadata["resolution"], metadata["channels"],
                                metadata.get("condition_dim", 0))
  save_module(module, path, dict(metadata))


def load_sequence_prior(path: str, *, generator_path: str | None = None,
                        flag: str = "--sequence_prior") -> HubModuleLayer:
  """The exported model as a frozen layer ([masked_frames, masks] -> z [N, T, z_dim]).

  `.metadata["window"]` is the training window. Refuses a module trained for another generator.
  """
  metadata = read_metadata(path) if os.path.isdir(path) else None
  if metadata is None or metadata.get("kind") != KIND:
    raise InputError(f"{flag}={path}: not a sequence prior exported by pgi_tf (no {METADATA_FILENAME} "
                     f"with kind {KIND!r})")
  layer = HubModuleLayer(path, flag=flag, input_names=metadata["input_names"], name=KIND)
  if generator_path is not None:
    check_trained_for(metadata, generator_path, path=path, flag=flag)
  return layer
