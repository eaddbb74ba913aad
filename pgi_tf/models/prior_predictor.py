"""The noise-prior predictor P_θz (§4.1): masked image I_d (+ mask M) -> z.

A conv encoder shaped like the DCGAN discriminator (stride-2 convs, widths doubling down
to 4x4), whose input is the masked image with the mask as an extra channel, so P knows
which zeros are holes and which are black pixels. The output head maps into the support
of the generator's z prior, so every prediction is a z that G was trained on:

  z_distribution   head                          why
  uniform [a, b]   a + (b - a) * (tanh(h) + 1)/2  U[-1, 1]^d of §3.1: tanh covers exactly (-1, 1)
  normal           h (identity)                  N(0, I) has unbounded support (PG-GAN)
  truncated_normal truncation * tanh(h)          BigGAN samples z in [-t, t] (its colab)
"""

from __future__ import annotations

import dataclasses
import math

import keras
import numpy as np

from pgi_tf.errors import InputError

Z_DISTRIBUTIONS = ("uniform", "normal", "truncated_normal")
SUPPORTED_RESOLUTIONS = (16, 32, 64, 128, 256, 512)


@dataclasses.dataclass(frozen=True)
class PriorPredictorConfig:
  """Hyperparameters of P. Sizes per resolution come from `preset`."""
  resolution: int = 64            # side of I_d in px
  channels: int = 3               # channels of I_d (the mask adds one more at the input)
  z_dim: int = 100                # must equal the generator's z size
  base_channels: int = 64         # width of the first conv; doubles per level down to 4x4
  max_channels: int = 512
  dense_units: int = 0            # > 0: a hidden dense layer before the head (more capacity for large z)
  z_distribution: str = "uniform"  # one of Z_DISTRIBUTIONS; sets the output head
  z_support: tuple[float, float] = (-1.0, 1.0)  # uniform: [a, b]; truncated_normal: [-t, t]
  condition_dim: int = 0          # > 0: P also receives a condition vector (a structural prior S, §4.2, or a class)
  num_candidates: int = 1         # K > 1 (beyond the paper): K latents per image, z [N, K, z_dim]

  def validate(self) -> None:
    if self.resolution not in SUPPORTED_RESOLUTIONS:
      raise InputError(f"prior.resolution={self.resolution}: unsupported, choose one of "
                       f"{', '.join(map(str, SUPPORTED_RESOLUTIONS))}")
    if self.channels not in (1, 3):
      raise InputError(f"prior.channels={self.channels}: choose 1 or 3")
    if self.z_distribution not in Z_DISTRIBUTIONS:
      raise InputError(f"prior.z_distribution={self.z_distribution!r}: choose one of {Z_DISTRIBUTIONS}")
    if self.num_candidates < 1:
      raise InputError(f"prior.num_candidates={self.num_candidates}: must be >= 1")


@keras.saving.register_keras_serializable(package="pgi_tf")
class PriorHead(keras.layers.Layer):
  """Maps unconstrained features to the z prior's support (table in the module docstring)."""

  def __init__(self, z_distribution: str = "uniform", z_support=(-1.0, 1.0), **kwargs):
    super().__init__(**kwargs)
    self.z_distribution = z_distribution
    self.z_support = tuple(float(v) for v in z_support)

  def call(self, h):
    low, high = self.z_support
    if self.z_distribution == "uniform":
      return low + (high - low) * (keras.ops.tanh(h) + 1.0) / 2.0
    if self.z_distribution == "truncated_normal":
      return high * keras.ops.tanh(h)
    return h

  def get_config(self):
    return {**super().get_config(), "z_distribution": self.z_distribution,
            "z_support": list(self.z_support)}


def build_prior_predictor(config: PriorPredictorConfig, *, name: str = "prior_predictor") -> keras.Model:
  """P: (masked_images [N,R,R,C], masks [N,R,R,1] (+ condition [N,c])) -> z [N, z_dim].

  With config.num_candidates = K > 1, z is [N, K, z_dim]: K heads on the same features, one
  forward pass (`pgi_tf.inference.candidates` picks one or returns all)."""
  config.validate()
  masked_images = keras.Input((config.resolution, config.resolution, config.channels), name="masked_images")
  masks = keras.Input((config.resolution, config.resolution, 1), name="masks")
  inputs = [masked_images, masks]
  x = keras.layers.Concatenate(name="image_and_mask")([masked_images, masks])
  levels = int(math.log2(config.resolution // 4))
  for level in range(levels):
    side = config.resolution >> (level + 1)
    width = min(config.base_channels * 2 ** level, config.max_channels)
    x = keras.layers.Conv2D(width, 4, strides=2, padding="same", name=f"down_{side}")(x)
    if level > 0:
      # Layer norm, not batch norm: P runs at batch 1 at inference and must not depend on
      # batch statistics; it also keeps per-example losses independent under tf.distribute.
      x = keras.layers.LayerNormalization(name=f"norm_{side}")(x)
    x = keras.layers.LeakyReLU(0.2, name=f"lrelu_{side}")(x)
  x = keras.layers.Flatten(name="features")(x)
  if config.condition_dim:
    condition = keras.Input((config.condition_dim,), name="condition")
    inputs.append(condition)
    x = keras.layers.Concatenate(name="features_and_condition")([x, condition])
  if config.dense_units:
    x = keras.layers.Dense(config.dense_units, name="hidden")(x)
    x = keras.layers.LeakyReLU(0.2, name="hidden_lrelu")(x)
  h = keras.layers.Dense(config.z_dim * config.num_candidates, name="z_logits")(x)
  if config.num_candidates > 1:
    h = keras.layers.Reshape((config.num_candidates, config.z_dim), name="candidate_logits")(h)
  z = PriorHead(config.z_distribution, config.z_support, name="z", dtype="float32")(h)
  return keras.Model(inputs, z, name=name)


def preset(resolution: int, *, channels: int, z_dim: int, **overrides) -> PriorPredictorConfig:
  """P sizes per resolution: as wide as the DCGAN discriminator at the same size."""
  widths = {16: 32, 32: 64, 64: 64, 128: 64, 256: 32, 512: 16}
  if resolution not in widths:
    PriorPredictorConfig(resolution=resolution).validate()
  fields = dict(resolution=resolution, channels=channels, z_dim=z_dim, base_channels=widths[resolution])
  fields.update(overrides)
  return PriorPredictorConfig(**fields)


def spread_heads(one_head: keras.Model, predictor: keras.Model, *, seed: int = 0,
                 bias_spread: float = 0.25) -> None:
  """Starts a K-candidate P from a trained one-head P of the same sizes.

  Every layer is copied; the z head is copied K times. Head 0 stays exactly the trained head,
  so before any step the best of the K candidates fits at least as well as the one-head P; heads
  1..K-1 get N(0, bias_spread²) added to their pre-activation biases, so they start at different z
  and the best-of-K loss can hand them different images (identical heads would stay identical)."""
  rng = np.random.default_rng(seed)
  for layer in one_head.layers:
    weights = layer.get_weights()
    if not weights:
      continue
    target = predictor.get_layer(layer.name)
    if layer.name != "z_logits":
      target.set_weights(weights)
      continue
    kernel, bias = weights
    heads = target.get_weights()[1].shape[0] // bias.shape[0]
    offsets = rng.normal(0.0, bias_spread, (heads, bias.shape[0])).astype(bias.dtype)
    offsets[0] = 0.0
    target.set_weights([np.tile(kernel, (1, heads)), (bias[np.newaxis] + offsets).reshape(-1)])
