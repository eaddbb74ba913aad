"""The grouped noise-prior model of §4.3 (Fig. 3): a window of W masked frames -> W latent priors.

    I_d^t, M^t  --shared CNN (P's architecture)-->  z_d^t  --LSTM-->  h^t  --feed-forward-->  z_p^t

The shared per-frame CNN is P's network (`pgi_tf.models.prior_predictor`) up to and including
its `z_logits` layer: the paper's "intermediate representation z_d^t" of P's z size, taken before
P's output head. It is built with P's own builder, so its layers have P's names and shapes and
a trained P can initialise it (`warm_start_frame_encoder`). The LSTM summarises frames 1..t in
its state h^t; the feed-forward head maps h^t through P's output head (`PriorHead`) into the
support of the generator's z prior, so every z_p^t is a z the frozen G was trained on.

`per_frame=True` is the ablation M_z of Table 3: same layers and weights, but the LSTM state is
reset at every frame, so frame t sees only itself. A checkpoint of either mode loads into the
other (same variables), which the tests use to show that the state carries information.

The SavedModel export (`export_sequence_prior`) has one signature:

  default(masked_frames float32 [N, T, R, R, C], masks float32 [N, T, R, R, 1] (+ condition
          float32 [N, T, c] for M_{z+S+L})) -> {"default": z float32 [N, T, z_dim]}

T is free (the model was trained on windows of `metadata["window"]` frames; inference slides
windows of that length). The metadata ties the export to its generator like P's does.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any, Mapping

import keras
import tensorflow as tf

from pgi_tf import hub
from pgi_tf.errors import InputError
from pgi_tf.models import prior_predictor as prior_lib

KIND = "sequence_prior"


@dataclasses.dataclass(frozen=True)
class SequencePriorConfig:
  """Hyperparameters of the grouped prior model; the per-frame CNN is P's (`frame`)."""
  frame: prior_lib.PriorPredictorConfig  # P's architecture for the shared CNN (its head is dropped)
  lstm_units: int = 256        # size of h^t; the paper does not give it (256 at 32 px, our preset)
  head_units: int = 0          # > 0: a hidden layer in the feed-forward head after the LSTM
  per_frame: bool = False      # True: LSTM state reset every frame (ablation M_z vs M_{z+L})

  def validate(self) -> None:
    self.frame.validate()
    if self.lstm_units < 1:
      raise InputError(f"sequence.lstm_units={self.lstm_units}: must be >= 1")
    if self.head_units < 0:
      raise InputError(f"sequence.head_units={self.head_units}: must be >= 0")


# --------------------------------------------------------------------------- layers

@keras.saving.register_keras_serializable(package="pgi_tf")
class FramesAsBatch(keras.layers.Layer):
  """Applies a per-frame model to [N, T, ...] inputs by folding time into the batch.

  Keras 3's TimeDistributed calls its layer once per time step (a Python loop, or vectorized_map
  when T is unknown); folding [N, T, ...] -> [N*T, ...] runs the CNN as one batched call on all
  frames instead, with any N and T. Takes one tensor or a list (e.g. [frames, masks]); every
  input must have the same N and T.
  """

  def __init__(self, frame_model: keras.Model, **kwargs):
    super().__init__(**kwargs)
    self.frame_model = frame_model

  def call(self, inputs):
    inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    shape = keras.ops.shape(inputs[0])
    folded = [keras.ops.reshape(x, (-1, *x.shape[2:])) for x in inputs]
    outputs = self.frame_model(folded if len(folded) > 1 else folded[0])
    return keras.ops.reshape(outputs, (shape[0], shape[1], *outputs.shape[1:]))

  def compute_output_shape(self, input_shape):
    first = input_shape[0] if isinstance(input_shape[0], (list, tuple)) else input_shape
    return (first[0], first[1], *self.frame_model.output.shape[1:])

  def get_config(self):
    return {**super().get_config(), "frame_model": keras.saving.serialize_keras_object(self.frame_model)}

  @classmethod
  def from_config(cls, config):
    config = dict(config)
    config["frame_model"] = keras.saving.deserialize_keras_object(config["frame_model"])
    return cls(**config)


@keras.saving.register_keras_serializable(package="pgi_tf")
class FrameLSTM(keras.layers.Layer):
  """An LSTM over the frame axis, [N, T, F] -> [N, T, units]; optionally reset every frame.

  reset_every_frame=True runs the same LSTM on each frame as a sequence of length one from the
  zero state (frames folded into the batch), so the weights are those of the recurrent mode and
  only the state's memory is removed: M_z of the ablation, with M_{z+L}'s capacity.
  """

  def __init__(self, units: int, *, reset_every_frame: bool = False, **kwargs):
    super().__init__(**kwargs)
    self.units = units
    self.reset_every_frame = reset_every_frame
    self.lstm = keras.layers.LSTM(units, return_sequences=True, name="lstm")

  def build(self, input_shape):
    self.lstm.build((None, None, input_shape[-1]))

  def call(self, features):
    if not self.reset_every_frame:
      return self.lstm(features)
    shape = keras.ops.shape(features)
    single_frames = keras.ops.reshape(features, (-1, 1, features.shape[-1]))
    return keras.ops.reshape(self.lstm(single_frames), (shape[0], shape[1], self.units))

  def compute_output_shape(self, input_shape):
    return (input_shape[0], input_shape[1], self.units)

  def get_config(self):
    return {**super().get_config(), "units": self.units, "reset_every_frame": self.reset_every_frame}


# --------------------------------------------------------------------------- builders

def build_frame_encoder(frame_config: prior_lib.PriorPredictorConfig) -> keras.Model:
  """The shared per-frame CNN: P (same builder, same layer names) cut before its output head.

  (masked_image [N,R,R,C], mask [N,R,R,1] (+ condition [N,c])) -> z_d [N, z_dim], unconstrained.
  """
  predictor = prior_lib.build_prior_predictor(frame_config)
  return keras.Model(predictor.inputs, predictor.get_layer("z_logits").output, name="frame_encoder")


def build_sequence_prior(config: SequencePriorConfig, *, name: str = "sequence_prior") -> keras.Model:
  """(masked_frames [N,T,R,R,C], masks [N,T,R,R,1] (+ condition [N,T,c])) -> z [N, T, z_dim]."""
  config.validate()
  frame = config.frame
  side = frame.resolution
  masked_frames = keras.Input((None, side, side, frame.channels), name="masked_frames")
  masks = keras.Input((None, side, side, 1), name="masks")
  inputs = [masked_frames, masks]
  if frame.condition_dim:  # M_{z+S+L}: a structural prior per frame
    inputs.append(keras.Input((None, frame.condition_dim), name="condition"))
  frame_features = FramesAsBatch(build_frame_encoder(frame), name="frame_encoder")(inputs)
  h = FrameLSTM(config.lstm_units, reset_every_frame=config.per_frame, name="temporal")(frame_features)
  if config.head_units:
    h = keras.layers.Dense(config.head_units, name="head_hidden")(h)
    h = keras.layers.LeakyReLU(0.2, name="head_lrelu")(h)
  # Dense acts on the last axis, i.e. per frame. Not "z_logits": that is the CNN's last layer (P's name).
  h = keras.layers.Dense(frame.z_dim, name="head_z_logits")(h)
  z = prior_lib.PriorHead(frame.z_distribution, frame.z_support, name="z", dtype="float32")(h)
  return keras.Model(inputs, z, name=name)


def frame_encoder_of(model: keras.Model) -> keras.Model:
  """The shared per-frame CNN inside a model from `build_sequence_prior`."""
  return model.get_layer("frame_encoder").frame_model


def warm_start_frame_encoder(model: keras.Model, frame_config: prior_lib.PriorPredictorConfig, path: str, *,
                             generator_path: str | None = None, flag: str = "--config.train.warm_start") -> str:
  """Initialises the shared CNN from a trained P; the LSTM and head keep their initialisation.

  `path`: P's SavedModel export (…/export/prior_predictor) or a stage-2 checkpoint (prefix or
  checkpoints directory). P must have the same architecture (`frame_config`); with
  `generator_path`, an export trained for another generator is refused. Returns what was read.
  """
  from pgi_tf.train import prior as prior_training  # the stage-2 trainer owns its checkpoint layout

  source = prior_lib.build_prior_predictor(frame_config)
  if os.path.isfile(os.path.join(path, "saved_model.pb")):
    metadata = hub.read_metadata(path) or {}
    if metadata.get("kind") != "prior_predictor":
      raise InputError(f"{flag}={path}: not a prior predictor exported by pgi_tf")
    if generator_path is not None and metadata.get("generator_fingerprint") != hub.module_fingerprint(generator_path):
      raise InputError(f"{flag}={path}: P was trained for another generator ({metadata.get('generator_path')}) "
                       f"than {generator_path}")
    read_from = os.path.join(path, "variables", "variables")
    try:
      # read(), not restore(): the export has no save_counter to match.
      tf.train.Checkpoint(predictor=source).read(read_from).assert_existing_objects_matched().expect_partial()
    except (AssertionError, ValueError, tf.errors.OpError) as error:
      raise InputError(f"{flag}={path}: not a P of this architecture ({str(error).splitlines()[0]})") from None
  else:
    read_from = prior_training.warm_start(source, path)
  encoder = frame_encoder_of(model)
  for layer in encoder.layers:
    if layer.weights:
      layer.set_weights(source.get_layer(layer.name).get_weights())
  return read_from


# --------------------------------------------------------------------------- SavedModel export

def sequence_prior_metadata(*, generator_path: str, generator_metadata: Mapping[str, Any], window: int,
                            per_frame: bool, extra: Mapping[str, Any] | None = None) -> dict:
  """P's metadata (generator, its fingerprint and z prior) with kind "sequence_prior" and the window."""
  metadata = hub.prior_predictor_metadata(generator_path=generator_path, generator_metadata=generator_metadata)
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

  def write(tmp_dir):
    tf.saved_model.save(module, tmp_dir, signatures={"default": module.default})
    with open(os.path.join(tmp_dir, hub.METADATA_FILENAME), "w") as f:
      json.dump(dict(metadata), f, indent=2, sort_keys=True)

  hub.atomic_directory_write(path, write)


def load_sequence_prior(path: str, *, generator_path: str | None = None,
                        flag: str = "--sequence_prior") -> hub.HubModuleLayer:
  """The exported model as a frozen layer ([masked_frames, masks] -> z [N, T, z_dim]).

  `.metadata["window"]` is the training window. Refuses a module trained for another generator.
  """
  metadata = hub.read_metadata(path) if os.path.isdir(path) else None
  if metadata is None or metadata.get("kind") != KIND:
    raise InputError(f"{flag}={path}: not a sequence prior exported by pgi_tf (no {hub.METADATA_FILENAME} "
                     f"with kind {KIND!r})")
  layer = hub.HubModuleLayer(path, flag=flag, input_names=metadata["input_names"], name=KIND)
  if generator_path is not None:
    expected, actual = metadata.get("generator_fingerprint"), hub.module_fingerprint(generator_path)
    if expected != actual:
      raise InputError(f"{flag}={path}: was trained for another generator ({metadata.get('generator_path')}, "
                       f"weights {expected}) than {generator_path} (weights {actual})")
  return layer
