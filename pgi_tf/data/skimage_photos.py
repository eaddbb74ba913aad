"""scikit-image's RGB sample photographs as a tiny labelled dataset (source "skimage").

Real photographs that exist on every machine with scikit-image installed (no download), so
the RGB presets (PG-GAN / BigGAN / compare_gan, Table 2) have smoke variants that run
offline end to end. Nine images, each its own class (label = index in PHOTOS); the centred
square is resized to R (area). Every split holds all nine: it is a smoke-test source, never
a benchmark.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry", "retina",
          "colorwheel", "stereo_motorcycle")


def _photo(name: str) -> np.ndarray:
  from skimage import data  # lazy: scikit-image is optional, only this source needs it
  image = getattr(data, name)()
  return image[0] if isinstance(image, tuple) else image  # stereo_motorcycle: (left, right, disparity)


def load_photos(*, resolution: int, channels: int) -> tuple[np.ndarray, np.ndarray]:
  """(uint8 [9, R, R, C] centre crops resized to R, int32 labels 0..8)."""
  images = []
  for name in PHOTOS:
    photo = _photo(name)[..., :3]
    side = min(photo.shape[:2])
    top, left = (photo.shape[0] - side) // 2, (photo.shape[1] - side) // 2
    square = photo[top:top + side, left:left + side].astype(np.float32)
    resized = tf.image.resize(square[None], [resolution, resolution], method="area", antialias=True)[0].numpy()
    if channels == 1:  # ITU-R BT.601 luma, as PIL's convert("L")
      resized = resized @ np.array([[0.299], [0.587], [0.114]], np.float32)
    images.append(np.clip(np.round(resized), 0, 255).astype(np.uint8))
  return np.stack(images), np.arange(len(PHOTOS), dtype=np.int32)
