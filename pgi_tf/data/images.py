"""Image files: listing, checked loading, pre-flight checks and the [-1, 1] model range.

Everything the dataset pipelines (`pgi_tf.data.datasets`) need to turn image files of any
size into float32 [R, R, C] tensors in [-1, 1], and to reject bad files *before* training
starts with a one-line `InputError` that names the file.

Channel policy (`load_image`, `check_image_file`, the folder reader):
  * 1-channel modes: L, 1, I;16*, I, F and LA (grey + alpha: the alpha plane is dropped).
  * 3-channel modes: RGB, RGBA / RGBa / RGBX (alpha dropped), P / PA (palette, expanded to
    RGB), CMYK and YCbCr (converted to RGB).
  * A 1-channel file where the model needs 3 (or the reverse) is an error: silently tiling a
    grey image or throwing colour away would train the model on data it was not meant for.
"""

import concurrent.futures
import os
from typing import Sequence

import numpy as np
import tensorflow as tf
from PIL import Image

from pgi_tf.errors import InputError

SUPPORTED_RESOLUTIONS = (16, 32, 64, 128, 256, 512)
SUPPORTED_CHANNELS = (1, 3)
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")

# PIL modes by how many channels they give once alpha is dropped (see the module docstring).
_ONE_CHANNEL_MODES = frozenset(
    ["1", "L", "LA", "La", "I", "F", "I;16", "I;16L", "I;16B", "I;16N"])
_THREE_CHANNEL_MODES = frozenset(
    ["RGB", "RGBA", "RGBa", "RGBX", "P", "PA", "CMYK", "YCbCr"])
# How many bytes at the end of a JPEG are searched for its end-of-image marker: some
# encoders pad a few bytes after it, a truncated file has none.
_JPEG_TAIL_BYTES = 1024


def _one_line(text: str) -> str:
  """Error text from a library, flattened so InputError messages stay one line."""
  return " ".join(str(text).split())


def check_resolution(resolution: int, *, flag: str = "resolution") -> int:
  """Returns `resolution` if supported, else raises InputError naming `flag`."""
  if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)) or (
      int(resolution) not in SUPPORTED_RESOLUTIONS):
    raise InputError(
        f"{flag}={resolution!r}: unsupported resolution, choose one of "
        f"{', '.join(str(r) for r in SUPPORTED_RESOLUTIONS)}")
  return int(resolution)


def check_channels(channels: int, *, flag: str = "channels") -> int:
  """Returns `channels` if it is 1 or 3, else raises InputError naming `flag`."""
  if isinstance(channels, bool) or not isinstance(channels, (int, np.integer)) or (
      int(channels) not in SUPPORTED_CHANNELS):
    raise InputError(f"{flag}={channels!r}: unsupported channel count, choose 1 or 3")
  return int(channels)


def mode_channels(mode: str) -> int | None:
  """Channels a PIL image mode gives after alpha is dropped; None for unknown modes."""
  if mode in _ONE_CHANNEL_MODES:
    return 1
  if mode in _THREE_CHANNEL_MODES:
    return 3
  return None


def _channel_error(path: str, found: int, needed: int) -> InputError:
  plural = "" if found == 1 else "s"
  hint = " (binaries/inpaint.py --grayscale converts colour images for a grey model)" if (found, needed) == (3, 1) else ""
  return InputError(f"{path}: has {found} channel{plural}, the model needs {needed}{hint}")


# ---------------------------------------------------------------------------------------------
# Value range.
# ---------------------------------------------------------------------------------------------


def to_model_range(images_uint8):
  """uint8 pixels in [0, 255] -> float32 in [-1, 1] (x / 127.5 - 1).

  Accepts a NumPy array (returns NumPy) or a tf.Tensor (returns a tf.Tensor).
  """
  if isinstance(images_uint8, (tf.Tensor, tf.Variable)):
    return tf.cast(images_uint8, tf.float32) / 127.5 - 1.0
  return np.asarray(images_uint8, dtype=np.float32) / np.float32(127.5) - np.float32(1.0)


def to_uint8(images_in_minus1_1):
  """float images in [-1, 1] -> uint8 in [0, 255], rounded, values outside the range clipped.

  The inverse of `to_model_range` on its outputs. NumPy in, NumPy out; tf in, tf out.
  """
  if isinstance(images_in_minus1_1, (tf.Tensor, tf.Variable)):
    scaled = (tf.cast(images_in_minus1_1, tf.float32) + 1.0) * 127.5
    return tf.cast(tf.clip_by_value(tf.round(scaled), 0.0, 255.0), tf.uint8)
  scaled = (np.asarray(images_in_minus1_1, dtype=np.float32) + 1.0) * 127.5
  return np.clip(np.round(scaled), 0, 255).astype(np.uint8)


# ---------------------------------------------------------------------------------------------
# Loading and checking files on the host.
# ---------------------------------------------------------------------------------------------


def load_image(path: str, *, channels: int | None = None) -> np.ndarray:
  """Loads an image file fully as uint8 [H, W, C] (C = 1 for grey files, 3 for colour).

  Alpha is dropped (RGBA -> RGB, LA -> L); palette, CMYK and YCbCr images become RGB;
  16-bit grey is scaled to 8 bits (value // 257).

  Args:
    path: a PNG or JPEG file (any format PIL reads works).
    channels: if given (1 or 3), the file must have that many channels.

  Raises:
    InputError: naming the file, if it is missing, unreadable, truncated, or (when
      `channels` is given) has the wrong number of channels.
  """
  if channels is not None:
    check_channels(channels)
  if not os.path.isfile(path):
    raise InputError(f"{path}: no such image file")
  try:
    with Image.open(path) as image:
      image.load()  # Decodes everything: a truncated file raises here.
      if image.format not in (None, "PNG", "JPEG"):
        raise InputError(f"{path}: is a {image.format} file, only PNG and JPEG are supported")
      found = mode_channels(image.mode)
      if found is None:
        raise InputError(f"{path}: unsupported image mode {image.mode!r}")
      if channels is not None and found != channels:
        raise _channel_error(path, found, channels)
      if image.mode.startswith("I;16"):
        pixels = (np.asarray(image, dtype=np.uint16) // 257).astype(np.uint8)
      elif found == 1:
        pixels = np.asarray(image.convert("L"), dtype=np.uint8)
      else:
        pixels = np.asarray(image.convert("RGB"), dtype=np.uint8)
  except InputError:
    raise
  except Exception as error:  # PIL raises OSError, SyntaxError, ValueError, struct.error...
    raise InputError(f"{path}: cannot read image ({_one_line(error)})") from None
  if pixels.ndim == 2:
    pixels = pixels[:, :, None]
  return pixels


def check_image_file(path: str, *, channels: int | None = None) -> tuple[int, int]:
  """Cheap pre-flight check of one image file; returns its (height, width).

  Reads the header (size, mode), runs PIL's `verify()` (for PNG it walks every chunk and
  checks its CRC, so truncation is found) and, for JPEG, looks for the end-of-image marker
  near the end of the file (a truncated JPEG has none). It does not decode pixels, so it
  costs well under a millisecond per file.

  Raises:
    InputError: naming the file, if it cannot be used (or has the wrong channel count when
      `channels` is given).
  """
  try:
    with Image.open(path) as image:
      image_format = image.format
      mode = image.mode
      width, height = image.size
      image.verify()
    if image_format == "JPEG":
      with open(path, "rb") as stream:
        stream.seek(0, os.SEEK_END)
        stream.seek(max(0, stream.tell() - _JPEG_TAIL_BYTES))
        tail = stream.read()
      if b"\xff\xd9" not in tail:
        raise InputError(f"{path}: truncated JPEG (no end-of-image marker)")
  except InputError:
    raise
  except FileNotFoundError:
    raise InputError(f"{path}: no such image file") from None
  except Exception as error:
    raise InputError(f"{path}: cannot read image ({_one_line(error)})") from None
  if image_format not in ("PNG", "JPEG"):
    raise InputError(f"{path}: is {image_format}, only PNG and JPEG are supported")
  found = mode_channels(mode)
  if found is None:
    raise InputError(f"{path}: unsupported image mode {mode!r}")
  if channels is not None and found != channels:
    raise _channel_error(path, found, channels)
  if width < 1 or height < 1:
    raise InputError(f"{path}: empty image ({width}x{height})")
  return height, width


def check_image_files(paths: Sequence[str], *, channels: int | None = None,
                      num_threads: int = 4) -> list[tuple[int, int]]:
  """`check_image_file` over many files (threads: the work is mostly file I/O).

  Returns the (height, width) of each file, in order. The error raised is the one for the
  first bad file in `paths` order, so the message does not depend on thread timing.
  """
  if len(paths) < 64:
    return [check_image_file(path, channels=channels) for path in paths]
  with concurrent.futures.ThreadPoolExecutor(max_workers=num_threads) as pool:
    # map() re-raises the first exception in input order.
    return list(pool.map(lambda path: check_image_file(path, channels=channels), paths,
                         chunksize=64))


def _is_image_name(name: str) -> bool:
  return name.lower().endswith(IMAGE_EXTENSIONS)


def read_split_file(split_file: str, *, directory: str) -> list[str]:
  """Reads a split list: one path per line, relative to `directory`.

  Blank lines and lines starting with '#' are skipped. Each listed file must exist.

  Returns:
    Absolute paths, in file order, without duplicates.

  Raises:
    InputError: naming the split file (and line) if it is missing, empty, or lists a file
      that does not exist or is not a PNG/JPEG.
  """
  if not os.path.isfile(split_file):
    raise InputError(f"{split_file}: split file does not exist")
  paths = []
  seen = set()
  with open(split_file, encoding="utf-8") as stream:
    for line_number, line in enumerate(stream, start=1):
      relative = line.strip()
      if not relative or relative.startswith("#"):
        continue
      path = os.path.abspath(os.path.join(directory, relative))
      if not os.path.isfile(path):
        raise InputError(
            f"{split_file}:{line_number}: {relative} does not exist under {directory}")
      if not _is_image_name(path):
        raise InputError(
            f"{split_file}:{line_number}: {relative} is not a .png/.jpg/.jpeg file")
      if path not in seen:
        seen.add(path)
        paths.append(path)
  if not paths:
    raise InputError(f"{split_file}: split file lists no images")
  return paths


def list_image_files(directory: str, *, split_file: str | None = None) -> list[str]:
  """All .png/.jpg/.jpeg files under `directory` (recursive, case-insensitive), sorted; hidden files and
  folders are skipped, and a folder reached twice through symlinks is read once.

  With `split_file`, only the files it lists (relative to `directory`, see
  `read_split_file`), also sorted.

  Raises:
    InputError: naming the directory if it is missing or holds no images, or naming the
      split file if it is bad.
  """
  if not os.path.isdir(directory):
    raise InputError(f"{directory}: image directory does not exist")
  if split_file is not None:
    return sorted(read_split_file(split_file, directory=directory))
  paths = []
  # Symlinked folders are followed, each real folder visited once: a link to a parent (a loop)
  # would otherwise be walked forever. Hidden names (.git, .tmp-* of a killed writer) are skipped.
  visited = set()
  for root, dirs, files in os.walk(directory, followlinks=True):
    real = os.path.realpath(root)
    if real in visited:
      dirs[:] = []
      continue
    visited.add(real)
    dirs[:] = sorted(d for d in dirs if not d.startswith("."))
    paths.extend(os.path.abspath(os.path.join(root, name)) for name in files
                 if _is_image_name(name) and not name.startswith("."))
  if not paths:
    raise InputError(f"{directory}: no .png/.jpg/.jpeg images found (searched recursively)")
  return sorted(paths)


# ---------------------------------------------------------------------------------------------
# In-graph decode, crop and resize (used inside tf.data map functions).
# ---------------------------------------------------------------------------------------------


def decode_image_file(path: tf.Tensor, *, channels: int) -> tf.Tensor:
  """Reads and decodes a PNG/JPEG file in-graph to uint8 [H, W, channels].

  `tf.io.decode_image` sniffs the content, so a PNG saved as .jpg still decodes; it drops
  alpha and converts grey <-> RGB as asked (the pre-flight check decides whether that is
  allowed).
  """
  contents = tf.io.read_file(path)
  image = tf.io.decode_image(contents, channels=channels, expand_animations=False)
  return tf.ensure_shape(image, [None, None, channels])


def center_square_crop(image: tf.Tensor, *, max_side: int | None = None) -> tf.Tensor:
  """Centred square crop of side min(H, W) (or min(H, W, max_side)) of an [H, W, C] image.

  Offsets are (H - side) // 2 and (W - side) // 2.
  """
  shape = tf.shape(image)
  side = tf.minimum(shape[0], shape[1])
  if max_side is not None:
    side = tf.minimum(side, max_side)
  top = (shape[0] - side) // 2
  left = (shape[1] - side) // 2
  return image[top:top + side, left:left + side]


def resize_to_model(image: tf.Tensor, *, resolution: int) -> tf.Tensor:
  """Pixels [H, W, C] or [B, H, W, C] (uint8, or float in [0, 255]) -> float32 R x R in [-1, 1].

  Bilinear with antialias: when shrinking, the kernel widens to the scale factor (an
  area-like average, no aliasing); when enlarging it is plain bilinear. Its weights are
  non-negative, so no overshoot; the clip only guards float round-off.
  """
  pixels = tf.cast(image, tf.float32)
  static_hw = pixels.shape[-3:-1]
  if static_hw != (resolution, resolution):
    pixels = tf.image.resize(pixels, [resolution, resolution], method="bilinear",
                             antialias=True)
  return tf.clip_by_value(pixels / 127.5 - 1.0, -1.0, 1.0)


# ---------------------------------------------------------------------------------------------
# The paper's dataset crops (§6.3 "Dataset Setup"), shared by the file and TFDS readers.
# ---------------------------------------------------------------------------------------------

# CelebA "detected face ... center cropped": on the aligned 178x218 (W x H) images the face
# sits at a fixed place, and the usual crop (DCGAN-tensorflow, which Yeh et al.'s semantic
# inpainting builds on) is the centred 108x108 box: rows 55..162, columns 35..142 inclusive.
CELEBA_ALIGNED_CROP_SIDE = 108


def celeba_aligned_face_crop(image: tf.Tensor) -> tf.Tensor:
  """Centred CELEBA_ALIGNED_CROP_SIDE square of an aligned CelebA image (or min(H, W))."""
  return center_square_crop(image, max_side=CELEBA_ALIGNED_CROP_SIDE)


def crop_half_open_box(image: tf.Tensor, *, top, left, bottom, right) -> tf.Tensor:
  """Rows [top, bottom) and columns [left, right) of [H, W, C], clamped to the image.

  The box always keeps at least one pixel, so a box outside the image cannot make an
  empty tensor that would fail later in the resize.
  """
  shape = tf.shape(image)
  height, width = shape[0], shape[1]
  top = tf.clip_by_value(tf.cast(top, tf.int32), 0, height - 1)
  left = tf.clip_by_value(tf.cast(left, tf.int32), 0, width - 1)
  bottom = tf.clip_by_value(tf.cast(bottom, tf.int32), top + 1, height)
  right = tf.clip_by_value(tf.cast(right, tf.int32), left + 1, width)
  return image[top:bottom, left:right]


def crop_square_around_box(image: tf.Tensor, *, x, y, box_width, box_height) -> tf.Tensor:
  """Square of side max(box_width, box_height) centred on the box, shifted to lie inside the image.

  Used for CelebA in-the-wild faces (`list_bbox_celeba.txt` boxes, which are taller than
  wide): a square keeps the face's aspect ratio when it is resized to R x R. The side is
  limited to min(H, W).
  """
  shape = tf.shape(image)
  height, width = shape[0], shape[1]
  x, y = tf.cast(x, tf.int32), tf.cast(y, tf.int32)
  box_width, box_height = tf.cast(box_width, tf.int32), tf.cast(box_height, tf.int32)
  side = tf.minimum(tf.maximum(tf.maximum(box_width, box_height), 1),
                    tf.minimum(height, width))
  top = tf.clip_by_value(y + box_height // 2 - side // 2, 0, height - side)
  left = tf.clip_by_value(x + box_width // 2 - side // 2, 0, width - side)
  return image[top:top + side, left:left + side]
