"""DCGAN generator and discriminator family at 16-128 px, 1 or 3 channels (§3.1, §6.3).

Stage 1 of the paper: a GAN is trained and then frozen. The paper's 64 px models follow
DCGAN (Radford et al., 2016), as do Yeh et al.'s. z ~ U[-1, 1]^d, d = 100 by default.

The conditional variant (G(z, c), D(x, c)) takes an extra conditioning vector c: the structural
priors of §4.2 (landmarks, silhouettes) go through it, and one-hot class labels. G
concatenates c to z; D uses a projection head (Miyato & Koyama, 2018):
logit = w.h + <embed(c), h>, which conditions D without changing its conv trunk.

Both networks are functional Keras models built by factories, so they serialise with
`get_config` and load back without custom objects.
"""

from __future__ import annotations

import dataclasses
import math

import keras
import tensorflow as tf

from pgi_tf.errors import InputError
from pgi_tf.structural import silhouette

SUPPORTED_RESOLUTIONS = (16, 32, 64, 128)
SUPPORTED_CHANNELS = (1, 3)
NORMALIZATIONS = ("batch", "layer", "none")
CONDITION_MAPS = ("silhouette",)


class ConditionMap(keras.layers.Layer):
  """c [N, condition_dim] -> a pixel-aligned map [N, R, R, 1] of the prior it encodes.

  "silhouette": `pgi_tf.structural.silhouette.SilhouetteMap` (c = 2K silhouette keypoints).
  No weights: a fixed rendering, so G and D can compare the prior with pixels by convolution.
  """

  def __init__(self, kind: str, resolution: int, condition_dim: int, **kwargs):
    super().__init__(**kwargs)
    self.kind, self.resolution, self.condition_dim = kind, resolution, condition_dim
    self.render = silhouette.SilhouetteMap(resolution, condition_dim // 2)

  def call(self, condition):
    return self.render(condition)

  def compute_output_shape(self, input_shape):
    return (input_shape[0], self.resolution, self.resolution, 1)

  def get_config(self):
    return dict(super().get_config(), kind=self.kind, resolution=self.resolution,
                condition_dim=self.condition_dim)


@dataclasses.dataclass(frozen=True)
class DCGANConfig:
  """Hyperparameters shared by G and D. Defaults are DCGAN's at 64 px."""
  resolution: int = 64          # image side in px; one of SUPPORTED_RESOLUTIONS
  channels: int = 3             # 1 (grey, Fashion-MNIST) or 3 (RGB)
  z_dim: int = 100              # d of z ~ U[-1, 1]^d (§3.1)
  condition_dim: int = 0        # length of the conditioning vector c; 0 = unconditional
  generator_base_channels: int = 64      # width of G's last hidden layer; doubles per level down to 4x4
  discriminator_base_channels: int = 64  # width of D's first conv; doubles per level down to 4x4
  generator_norm: str = "batch"          # DCGAN uses batch norm in G
  discriminator_norm: str = "none"       # none: batch statistics in D break WGAN-GP's per-example penalty
  max_channels: int = 512                # caps the width at the 4x4 end (DCGAN: 512 at 64 px)
  condition_map: str = ""                # "silhouette": c is also rendered as a shape map (CONDITION_MAPS)

  def validate(self) -> None:
    if self.resolution not in SUPPORTED_RESOLUTIONS:
      raise InputError(f"model.resolution={self.resolution}: unsupported resolution, "
                       f"choose one of {', '.join(map(str, SUPPORTED_RESOLUTIONS))}")
    if self.channels not in SUPPORTED_CHANNELS:
      raise InputError(f"model.channels={self.channels}: unsupported channel count, choose 1 or 3")
    for name in ("generator_norm", "discriminator_norm"):
      if getattr(self, name) not in NORMALIZATIONS:
        raise InputError(f"model.{name}={getattr(self, name)!r}: choose one of {NORMALIZATIONS}")
    if self.condition_map and (self.condition_map not in CONDITION_MAPS or not self.condition_dim):
      raise InputError(f"model.condition_map={self.condition_map!r}: choose one of {CONDITION_MAPS} "
                       "with condition_dim > 0")
    if self.z_dim < 1 or self.condition_dim < 0:
      raise InputError(f"model.z_dim={self.z_dim}, model.condition_dim={self.condition_dim}: "
                       "z_dim must be >= 1 and condition_dim >= 0")

  @property
  def num_levels(self) -> int:
    """Number of 2x resolution changes between 4x4 and the image."""
    return int(math.log2(self.resolution // 4))

  def width_at_level(self, base_channels: int, level: int) -> int:
    """Channels at `level` steps away from full resolution (level 0 = full resolution)."""
    return min(base_channels * 2 ** level, self.max_channels)


def _normalization(kind: str, name: str) -> keras.layers.Layer:
  if kind == "batch":
    # momentum 0.9 (not Keras' 0.99): G's inference-mode statistics must track a
    # generator that keeps changing, or exported samples drift from training samples.
    # synchronized when built under a strategy with several replicas: the batch statistics (and so
    # the moving mean / variance) are those of the global batch on every replica and worker, as on
    # one device; with one replica the plain (unsynchronized) moments keep single-device numerics.
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    return keras.layers.BatchNormalization(momentum=0.9, name=name, synchronized=replicas > 1)
  if kind == "layer":
    return keras.layers.LayerNormalization(name=name)
  return keras.layers.Identity(name=name)


def build_generator(config: DCGANConfig, *, name: str = "generator") -> keras.Model:
  """G: z [N, z_dim] (+ condition [N, condition_dim]) -> images [N, R, R, C] in [-1, 1]."""
  config.validate()
  z = keras.Input((config.z_dim,), name="z")
  inputs = [z]
  x = z
  if config.condition_dim:
    condition = keras.Input((config.condition_dim,), name="condition")
    inputs.append(condition)
    x = keras.layers.Concatenate(name="z_and_condition")([z, condition])
  condition_map = None
  if config.condition_map:  # the rendered prior joins G's features at every scale
    condition_map = ConditionMap(config.condition_map, config.resolution, config.condition_dim,
                                 name="condition_map")(condition)

  def with_map(features, side):
    if condition_map is None:
      return features
    pooled = keras.layers.AveragePooling2D(config.resolution // side, name=f"condition_map_{side}")(condition_map)
    return keras.layers.Concatenate(name=f"with_condition_map_{side}")([features, pooled])

  top_width = config.width_at_level(config.generator_base_channels, config.num_levels - 1)
  x = keras.layers.Dense(4 * 4 * top_width, use_bias=False, name="project")(x)
  x = keras.layers.Reshape((4, 4, top_width), name="to_4x4")(x)
  x = _normalization(config.generator_norm, "project_norm")(x)
  x = keras.layers.ReLU(name="project_relu")(x)
  x = with_map(x, 4)
  # A feature map of side R >> L has width base * 2^(L-1), as in DCGAN (512 at 4x4 for 64 px).
  for level in range(config.num_levels - 1, 0, -1):
    side = config.resolution >> level
    width = config.width_at_level(config.generator_base_channels, level - 1)
    x = keras.layers.Conv2DTranspose(width, 4, strides=2, padding="same", use_bias=False,
                                     name=f"up_{side}")(x)
    x = _normalization(config.generator_norm, f"norm_{side}")(x)
    x = keras.layers.ReLU(name=f"relu_{side}")(x)
    x = with_map(x, side)
  # The last upsampling emits the image itself, as in DCGAN.
  x = keras.layers.Conv2DTranspose(config.channels, 4, strides=2, padding="same",
                                   name=f"to_image_{config.resolution}")(x)
  images = keras.layers.Activation("tanh", name="images", dtype="float32")(x)
  return keras.Model(inputs, images, name=name)


def build_discriminator(config: DCGANConfig, *, name: str = "discriminator") -> keras.Model:
  """D: images [N, R, R, C] (+ condition) -> logits [N] (real > 0)."""
  config.validate()
  images = keras.Input((config.resolution, config.resolution, config.channels), name="images")
  inputs = [images]
  x = images
  if config.condition_map:  # D sees the rendered prior next to the image (a pix2pix-style pair)
    condition = keras.Input((config.condition_dim,), name="condition")
    inputs.append(condition)
    condition_map = ConditionMap(config.condition_map, config.resolution, config.condition_dim,
                                 name="condition_map")(condition)
    x = keras.layers.Concatenate(name="image_and_condition_map")([images, condition_map])
  for level in range(config.num_levels):
    side = config.resolution >> (level + 1)
    width = config.width_at_level(config.discriminator_base_channels, level)
    x = keras.layers.Conv2D(width, 4, strides=2, padding="same", name=f"down_{side}")(x)
    if level > 0:  # DCGAN: no normalisation on the first layer
      x = _normalization(config.discriminator_norm, f"norm_{side}")(x)
    x = keras.layers.LeakyReLU(0.2, name=f"lrelu_{side}")(x)
  features = keras.layers.Flatten(name="features")(x)
  logits = keras.layers.Dense(1, name="logit")(features)
  if config.condition_dim and not config.condition_map:
    condition = keras.Input((config.condition_dim,), name="condition")
    inputs.append(condition)
    embedded = keras.layers.Dense(features.shape[-1], use_bias=False, name="embed_condition")(condition)
    projection = keras.layers.Dot(axes=1, name="projection")([embedded, features])
    logits = keras.layers.Add(name="projected_logit")([logits, projection])
  logits = keras.layers.Reshape((), name="logits", dtype="float32")(logits)
  return keras.Model(inputs, logits, name=name)


def build_gan(config: DCGANConfig) -> tuple[keras.Model, keras.Model]:
  """Factory for the pair (G, D) at config.resolution."""
  return build_generator(config), build_discriminator(config)


def preset(resolution: int, *, channels: int = 3, **overrides) -> DCGANConfig:
  """DCGAN sizes per resolution (Radford et al. 2016 at 64 px; halved / doubled depth around it)."""
  widths = {16: 32, 32: 64, 64: 64, 128: 64}
  if resolution not in widths:
    DCGANConfig(resolution=resolution).validate()
  fields = dict(resolution=resolution, channels=channels,
                generator_base_channels=widths[resolution],
                discriminator_base_channels=widths[resolution])
  fields.update(overrides)
  return DCGANConfig(**fields)
