"""A regression inpainter: the other school's peer of the GAN-prior method (issue 13, beyond the paper).

GLCIC (Iizuka et al. 2017), DeepFill (Yu et al. 2018) and LaMa (Suvorov et al. 2022) map the
masked image straight to the filled image with one encoder-decoder, trained on the hole pixels
with a reconstruction loss plus an adversarial term. This is the smallest member of that family:
a U-Net (stride-2 convs down to 4x4, transposed convs back up, skip connections) whose input is
I_d with the mask as an extra channel, as for P (`prior_predictor`). Its output is pasted with
Eq. 8 like every other method, so it is compared on the hole alone.
"""

from __future__ import annotations

import dataclasses
import math

import keras

from pgi_tf.errors import InputError


@dataclasses.dataclass(frozen=True)
class RegressionInpainterConfig:
  resolution: int = 32
  channels: int = 1
  base_channels: int = 32   # width at the first level; doubles per level down to 4x4
  max_channels: int = 256

  def validate(self) -> None:
    if self.resolution < 8 or self.resolution & (self.resolution - 1):
      raise InputError(f"regression.resolution={self.resolution}: must be a power of two >= 8")
    if self.channels not in (1, 3):
      raise InputError(f"regression.channels={self.channels}: choose 1 or 3")


def build_regression_inpainter(config: RegressionInpainterConfig, *,
                               name: str = "regression_inpainter") -> keras.Model:
  """(masked_images [N,R,R,C], masks [N,R,R,1]) -> images [N,R,R,C] in [-1, 1]."""
  config.validate()
  masked_images = keras.Input((config.resolution, config.resolution, config.channels), name="masked_images")
  masks = keras.Input((config.resolution, config.resolution, 1), name="masks")
  x = keras.layers.Concatenate(name="image_and_mask")([masked_images, masks])
  x = keras.layers.Conv2D(config.base_channels, 3, padding="same", name="stem")(x)
  x = keras.layers.LeakyReLU(0.2, name="stem_lrelu")(x)
  skips = []
  levels = int(math.log2(config.resolution // 4))
  width = lambda level: min(config.base_channels * 2 ** level, config.max_channels)
  for level in range(levels):
    skips.append(x)
    side = config.resolution >> (level + 1)
    x = keras.layers.Conv2D(width(level + 1), 4, strides=2, padding="same", name=f"down_{side}")(x)
    x = keras.layers.LayerNormalization(name=f"down_norm_{side}")(x)
    x = keras.layers.LeakyReLU(0.2, name=f"down_lrelu_{side}")(x)
  # At 4x4 every output pixel sees the whole image: a hole is filled from all of its context.
  x = keras.layers.Conv2D(width(levels), 3, padding="same", name="bottleneck")(x)
  x = keras.layers.LeakyReLU(0.2, name="bottleneck_lrelu")(x)
  for level in reversed(range(levels)):
    side = config.resolution >> level
    x = keras.layers.Conv2DTranspose(width(level), 4, strides=2, padding="same", name=f"up_{side}")(x)
    x = keras.layers.LayerNormalization(name=f"up_norm_{side}")(x)
    x = keras.layers.ReLU(name=f"up_relu_{side}")(x)
    x = keras.layers.Concatenate(name=f"skip_{side}")([x, skips[level]])
    x = keras.layers.Conv2D(width(level), 3, padding="same", name=f"merge_{side}")(x)
    x = keras.layers.LeakyReLU(0.2, name=f"merge_lrelu_{side}")(x)
  images = keras.layers.Conv2D(config.channels, 3, padding="same", activation="tanh", name="images",
                               dtype="float32")(x)
  return keras.Model([masked_images, masks], images, name=name)
