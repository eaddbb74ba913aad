"""SVHN cropped digits (train_32x32.mat / test_32x32.mat), read into memory."""

from __future__ import annotations

import os

import numpy as np
import scipy.io

from pgi_tf.errors import InputError


def svhn_path(*, data_dir: str, split: str) -> str:
  """`<data_dir>/<split>_32x32.mat`; InputError naming it when it does not exist."""
  path = os.path.join(data_dir, f"{split}_32x32.mat")
  if not os.path.isfile(path):
    raise InputError(f"{path}: SVHN file not found")
  return path


def load_svhn(*, data_dir: str, split: str) -> tuple[np.ndarray, np.ndarray]:
  """SVHN cropped digits as (uint8 [N, 32, 32, 3], int32 digits [N] in 0..9).

  The .mat holds X [32, 32, 3, N] uint8 and y [N, 1] in 1..10, label 10 standing for the
  digit 0 (it is mapped to 0).
  """
  path = svhn_path(data_dir=data_dir, split=split)
  try:
    contents = scipy.io.loadmat(path)
  except Exception as error:
    raise InputError(f"{path}: cannot read .mat file ({' '.join(str(error).split())})") from None
  if "X" not in contents or "y" not in contents:
    raise InputError(f"{path}: expected variables X and y")
  pixels, digits = contents["X"], np.asarray(contents["y"]).reshape(-1)
  if pixels.ndim != 4 or pixels.shape[:3] != (32, 32, 3):
    raise InputError(f"{path}: X has shape {pixels.shape}, expected [32, 32, 3, N]")
  if pixels.dtype != np.uint8:
    raise InputError(f"{path}: X is {pixels.dtype}, expected uint8")
  if digits.shape[0] != pixels.shape[3]:
    raise InputError(f"{path}: y has {digits.shape[0]} labels for {pixels.shape[3]} images")
  if digits.size and (digits.min() < 1 or digits.max() > 10):
    raise InputError(f"{path}: y has values outside 1..10")
  images = np.ascontiguousarray(np.transpose(pixels, (3, 0, 1, 2)))
  return images, (digits.astype(np.int32) % 10)


def count_svhn(*, data_dir: str, split: str) -> int:
  """Number of SVHN digits in a split, from the .mat header (no data read)."""
  path = svhn_path(data_dir=data_dir, split=split)
  try:
    variables = {name: shape for name, shape, _ in scipy.io.whosmat(path)}
  except Exception as error:
    raise InputError(f"{path}: cannot read .mat file ({' '.join(str(error).split())})") from None
  if "X" not in variables or len(variables["X"]) != 4:
    raise InputError(f"{path}: expected X of shape [32, 32, 3, N]")
  return int(variables["X"][3])
