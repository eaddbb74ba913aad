"""Resizing between an image's own size and the model's, as two matrix products.

An image of any size is inpainted at the model's R x R (area downsampling, as `tf.image.resize`
method "area") and the generated pixels are brought back with bicubic interpolation (Keys'
a = -0.5, half-pixel centres: `tf.image.resize` method "bicubic"), then Eq. 8 is
applied at full resolution. Both resizes are separable, so each is  A_h @ image @ A_w^T  with a
weight matrix per axis built from the sizes inside the graph.

Why not tf.image.resize: ResizeArea and ResizeBicubic are not TensorFlow Lite builtins, and the
exported inpainter must convert to a builtin-only .tflite file that takes any image size. Matrix
products (Range, Floor, OneHot, BatchMatMul) are builtins. The command line (`folders.py`), the
demo page and the exported SavedModel call these same functions, so their outputs agree bit for
bit. The results match tf.image.resize to float rounding (tests/inference/test_resampling.py).
"""

from __future__ import annotations

import tensorflow as tf


def area_weights(out_size, in_size) -> tf.Tensor:
  """[out, in] float32: output pixel i averages input pixels over [i s, (i+1) s), s = in / out, each
  input pixel weighted by its overlap with that interval (ResizeArea's definition)."""
  out_size, in_size = tf.cast(out_size, tf.float32), tf.cast(in_size, tf.float32)
  scale = in_size / out_size
  starts = tf.range(out_size)[:, None] * scale                       # [out, 1]
  ends = starts + scale
  pixels = tf.range(in_size)[None, :]                                 # [1, in]
  overlap = tf.maximum(tf.minimum(pixels + 1.0, ends) - tf.maximum(pixels, starts), 0.0)
  return overlap / scale


_KERNEL_TABLE_SIZE = 1024  # TensorFlow tabulates the kernel at 1/1024 steps (resize_bicubic_op.cc)


def _keys_cubic(distance: tf.Tensor, a: float = -0.5) -> tf.Tensor:
  """Keys' cubic convolution kernel for 0 <= distance <= 2 (a = -0.5: TensorFlow's half-pixel bicubic)."""
  near = ((a + 2.0) * distance - (a + 3.0)) * distance * distance + 1.0
  far = ((a * distance - 5.0 * a) * distance + 8.0 * a) * distance - 4.0 * a
  return tf.where(distance <= 1.0, near, far)


def bicubic_weights(out_size, in_size) -> tf.Tensor:
  """[out, in] float32, as ResizeBicubic with half_pixel_centers (what tf.image.resize(method=
  "bicubic") runs): four taps around (i + 0.5) * in / out - 0.5 with the fractional offset rounded
  to 1/1024 (TensorFlow's kernel table); taps outside the image get weight 0 and the others are
  renormalised to sum to 1."""
  in_count = tf.cast(in_size, tf.int32)
  scale = tf.cast(in_size, tf.float32) / tf.cast(out_size, tf.float32)
  centres = (tf.range(tf.cast(out_size, tf.float32)) + 0.5) * scale - 0.5  # [out]
  base = tf.floor(centres)
  offset = tf.round((centres - base) * _KERNEL_TABLE_SIZE) / _KERNEL_TABLE_SIZE
  taps = []
  for tap, distance in ((-1, 1.0 + offset), (0, offset), (1, 1.0 - offset), (2, 2.0 - offset)):
    index = tf.cast(base, tf.int32) + tap
    inside = tf.cast((index >= 0) & (index < in_count), tf.float32)
    taps.append((tf.clip_by_value(index, 0, in_count - 1), _keys_cubic(distance) * inside))
  total = tf.add_n([weight for _, weight in taps])
  return tf.add_n([(weight / total)[:, None] * tf.one_hot(index, in_count, dtype=tf.float32)
                   for index, weight in taps])


def _left_multiply(weights: tf.Tensor, images: tf.Tensor) -> tf.Tensor:
  """weights [R, H] applied along axis 0 of [H, ...] as one 2-D matmul: [R, ...]."""
  shape = tf.shape(images)
  flat = tf.reshape(images, tf.stack([shape[0], -1]))
  return tf.reshape(tf.matmul(weights, flat), tf.concat([tf.shape(weights)[:1], shape[1:]], axis=0))


def _apply(images: tf.Tensor, rows: tf.Tensor, columns: tf.Tensor) -> tf.Tensor:
  """rows @ image @ columns^T per image and channel: [N, H, W, C] -> [N, rows, columns, C].

  Only 2-D matmuls: on TF 2.21 (CPU) a matmul broadcasting a 2-D matrix against a 4-D batch
  returned garbage for 32 x 32 operands (found while writing this module)."""
  height_first = tf.transpose(tf.cast(images, tf.float32), [1, 0, 2, 3])       # [H, N, W, C]
  resized_rows = _left_multiply(rows, height_first)                            # [R, N, W, C]
  width_first = tf.transpose(resized_rows, [2, 1, 0, 3])                       # [W, N, R, C]
  resized = _left_multiply(columns, width_first)                               # [S, N, R, C]
  return tf.transpose(resized, [1, 2, 0, 3])                                   # [N, R, S, C]


def resize_area(images, size) -> tf.Tensor:
  """[N, H, W, C] -> [N, size, size, C] by area averaging (any H, W; identity when H = W = size)."""
  images = tf.convert_to_tensor(images, tf.float32)
  shape = tf.shape(images)
  return _apply(images, area_weights(size, shape[1]), area_weights(size, shape[2]))


def resize_bicubic(images, height, width) -> tf.Tensor:
  """[N, h, w, C] -> [N, height, width, C] by bicubic interpolation (identity at the same size)."""
  images = tf.convert_to_tensor(images, tf.float32)
  shape = tf.shape(images)
  return _apply(images, bicubic_weights(height, shape[1]), bicubic_weights(width, shape[2]))


def hole_at_model_size(masks, size) -> tf.Tensor:
  """A full-resolution mask (1 = hole) at the model's size: any hole under an output pixel makes it
  a hole, so no hole pixel is ever treated as known."""
  return tf.cast(resize_area(masks, size) > 0.0, tf.float32)
