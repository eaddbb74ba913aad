"""Fashion-MNIST from its IDX files (the real data available offline on this machine).

The Debian package `dataset-fashion-mnist` installs the four gzipped IDX files under
`/usr/share/datasets/fashion-mnist`: 60,000 train and 10,000 test 28x28 grey images with
labels 0..9 (`CLASS_NAMES`). Uncompressed copies (the same names without `.gz`) are read too.

IDX layout (big-endian): magic = 0x0000 | type 0x08 (uint8) | ndim, then ndim uint32 sizes,
then the data. Images: magic 2051 (ndim 3: N, 28, 28); labels: magic 2049 (ndim 1: N).
Every field is checked, so a truncated or wrong file gives an InputError naming it.
"""

import functools
import gzip
import os
import struct

import numpy as np

from pgi_tf.errors import InputError

DEFAULT_DATA_DIR = "/usr/share/datasets/fashion-mnist"
IMAGE_SIZE = 28
NUM_CLASSES = 10
CLASS_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot")
IMAGES_MAGIC = 0x00000803  # 2051: uint8 data, 3 dimensions.
LABELS_MAGIC = 0x00000801  # 2049: uint8 data, 1 dimension.
_FILE_PREFIX = {"train": "train", "val": "train", "test": "t10k"}
# The last 5,000 images of the training file are held out as "val" (for choosing λ1, λ2 of
# Eq. 7 and other hyperparameters); "train" is the first 55,000. "test" is the 10,000 of t10k.
VALIDATION_SIZE = 5000


def validation_size(train_file_count: int) -> int:
  """5,000 for the real 60,000-image file; 1/12 of smaller (test fixture) files."""
  return min(VALIDATION_SIZE, train_file_count // 12)


def idx_paths(*, data_dir: str | None, split: str) -> tuple[str, str]:
  """(images file, labels file) of a split; prefers `.gz`, falls back to uncompressed.

  Raises:
    InputError: naming `split` if it is not train/test, or the missing file.
  """
  if split not in _FILE_PREFIX:
    raise InputError(f"split={split!r}: fashion_mnist has only the splits train, val, test")
  data_dir = DEFAULT_DATA_DIR if data_dir is None else data_dir
  if not os.path.isdir(data_dir):
    raise InputError(
        f"{data_dir}: Fashion-MNIST directory does not exist (Debian package "
        f"dataset-fashion-mnist installs it at {DEFAULT_DATA_DIR})")
  paths = []
  for kind in ("images-idx3", "labels-idx1"):
    base = os.path.join(data_dir, f"{_FILE_PREFIX[split]}-{kind}-ubyte")
    if os.path.isfile(base + ".gz"):
      paths.append(base + ".gz")
    elif os.path.isfile(base):
      paths.append(base)
    else:
      raise InputError(f"{base}.gz: Fashion-MNIST file not found")
  return paths[0], paths[1]


def _open_idx(path: str):
  return gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")


def _parse_header(path: str, header: bytes, *, expected_magic: int) -> tuple[int, ...]:
  """Validates the magic number and returns the dimension sizes."""
  ndim = expected_magic & 0xFF
  if len(header) < 4:
    raise InputError(f"{path}: truncated IDX file (header has {len(header)} bytes)")
  (magic,) = struct.unpack(">I", header[:4])
  if magic != expected_magic:
    raise InputError(
        f"{path}: wrong IDX magic number {magic:#010x}, expected {expected_magic:#010x}")
  if len(header) < 4 + 4 * ndim:
    raise InputError(f"{path}: truncated IDX file (header has {len(header)} bytes)")
  return struct.unpack(f">{ndim}I", header[4:4 + 4 * ndim])


def read_idx_count(path: str, *, expected_magic: int) -> int:
  """Number of items an IDX file declares (reads only its header)."""
  ndim = expected_magic & 0xFF
  try:
    with _open_idx(path) as stream:
      header = stream.read(4 + 4 * ndim)
  except (OSError, EOFError) as error:
    raise InputError(f"{path}: cannot read IDX file ({' '.join(str(error).split())})") from None
  return _parse_header(path, header, expected_magic=expected_magic)[0]


def read_idx(path: str, *, expected_magic: int) -> np.ndarray:
  """Reads and validates a whole uint8 IDX file; returns the array of the declared shape.

  Raises:
    InputError: naming the file, if it cannot be decompressed, has the wrong magic number,
      or its data size does not match its header (truncated or padded).
  """
  try:
    with _open_idx(path) as stream:
      contents = stream.read()
  except (OSError, EOFError) as error:  # gzip.BadGzipFile is an OSError.
    raise InputError(f"{path}: cannot read IDX file ({' '.join(str(error).split())})") from None
  shape = _parse_header(path, contents, expected_magic=expected_magic)
  offset = 4 + 4 * len(shape)
  expected_bytes = int(np.prod(shape))
  if len(contents) - offset != expected_bytes:
    raise InputError(
        f"{path}: IDX header declares shape {tuple(shape)} = {expected_bytes} bytes of data, "
        f"file has {len(contents) - offset}")
  return np.frombuffer(contents, dtype=np.uint8, offset=offset).reshape(shape)


@functools.lru_cache(maxsize=4)
def _load_cached(images_path: str, labels_path: str, _stamp) -> tuple[np.ndarray, np.ndarray]:
  images = read_idx(images_path, expected_magic=IMAGES_MAGIC)
  if images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
    raise InputError(f"{images_path}: images are {images.shape[1]}x{images.shape[2]}, "
                     f"Fashion-MNIST is {IMAGE_SIZE}x{IMAGE_SIZE}")
  labels = read_idx(labels_path, expected_magic=LABELS_MAGIC)
  if labels.shape[0] != images.shape[0]:
    raise InputError(f"{labels_path}: has {labels.shape[0]} labels for {images.shape[0]} "
                     f"images in {os.path.basename(images_path)}")
  if labels.size and labels.max() >= NUM_CLASSES:
    raise InputError(f"{labels_path}: label {int(labels.max())} outside 0..{NUM_CLASSES - 1}")
  images.setflags(write=False)
  labels.setflags(write=False)
  return images, labels


def load_fashion_mnist(*, data_dir: str | None = None,
                       split: str) -> tuple[np.ndarray, np.ndarray]:
  """Fashion-MNIST split as (uint8 images [N, 28, 28], uint8 labels [N] in 0..9).

  Cached per (files, modification times): the read-only arrays are shared between callers.
  """
  images_path, labels_path = idx_paths(data_dir=data_dir, split=split)
  stamp = tuple((os.path.getmtime(p), os.path.getsize(p)) for p in (images_path, labels_path))
  images, labels = _load_cached(images_path, labels_path, stamp)
  if split == "test":
    return images, labels
  first_val = len(images) - validation_size(len(images))
  if split == "train":
    return images[:first_val], labels[:first_val]
  return images[first_val:], labels[first_val:]


def count_fashion_mnist(*, data_dir: str | None = None, split: str) -> int:
  """Number of images in a split, from the IDX header (does not read the data)."""
  images_path, _ = idx_paths(data_dir=data_dir, split=split)
  count = read_idx_count(images_path, expected_magic=IMAGES_MAGIC)
  if split == "val":
    return validation_size(count)
  return count - validation_size(count) if split == "train" else count
