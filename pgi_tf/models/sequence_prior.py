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

import keras

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


