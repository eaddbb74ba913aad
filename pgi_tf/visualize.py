"""Image grids people can look at: PNG files written atomically, and TensorBoard images."""

from __future__ import annotations


import numpy as np
from PIL import Image

from pgi_tf import files


def to_uint8(images: np.ndarray) -> np.ndarray:
  """[-1, 1] floats -> uint8 [0, 255] (rounded, clipped)."""
  images = np.asarray(images, dtype=np.float32)
  return np.clip(np.round((images + 1.0) * 127.5), 0, 255).astype(np.uint8)


def make_grid(images: np.ndarray, *, columns: int | None = None, padding: int = 2,
              pad_value: int = 255) -> np.ndarray:
  """Tiles uint8 or [-1, 1] images [N, H, W, C] into one uint8 [rows*H', cols*W', C] image."""
  images = np.asarray(images)
  if images.dtype != np.uint8:
    images = to_uint8(images)
  if images.ndim == 3:
    images = images[..., None]
  n, h, w, c = images.shape
  columns = columns or int(np.ceil(np.sqrt(n)))
  rows = int(np.ceil(n / columns))
  grid = np.full((rows * (h + padding) + padding, columns * (w + padding) + padding, c),
                 pad_value, dtype=np.uint8)
  for index in range(n):
    r, col = divmod(index, columns)
    top, left = padding + r * (h + padding), padding + col * (w + padding)
    grid[top:top + h, left:left + w] = images[index]
  return grid


def save_png(path: str, image: np.ndarray, *, upscale: int = 1) -> None:
  """Writes a uint8 (or [-1, 1]) HxW(xC) image as PNG, atomically (temp file + rename)."""
  image = np.asarray(image)
  if image.dtype != np.uint8:
    image = to_uint8(image)
  if image.ndim == 3 and image.shape[-1] == 1:
    image = image[..., 0]
  pil = Image.fromarray(image)
  if upscale > 1:  # small images (32 px) are hard to see; nearest keeps pixels honest
    pil = pil.resize((pil.width * upscale, pil.height * upscale), Image.NEAREST)
  with files.atomic_path(path, suffix=".png") as tmp:
    pil.save(tmp, format="PNG")


def save_grid(path: str, images: np.ndarray, *, columns: int | None = None, upscale: int = 1) -> np.ndarray:
  """make_grid + save_png; returns the grid."""
  grid = make_grid(images, columns=columns)
  save_png(path, grid, upscale=upscale)
  return grid
