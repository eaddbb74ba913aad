"""Landmark files (§6.2): iBUG .pts (300-W), .npy and .t7 (LS3D-W), CelebA's 5-point list.

Coordinates are kept as the file stores them. iBUG .pts files come from MATLAB tools and are
1-based in pixels (the image's top-left pixel centre is (1, 1)); dlib and CelebA are 0-based.
Subtract 1 from .pts coordinates before mixing them with dlib detections on the same image.
"""

from __future__ import annotations

import os

import numpy as np
from numpy.typing import ArrayLike

from pgi_tf.data.landmarks import NUM_FACE_LANDMARKS
from pgi_tf.errors import InputError

CELEBA_LANDMARK_NAMES = ("lefteye", "righteye", "nose", "leftmouth", "rightmouth")
PathLike = str | os.PathLike


def _check_point_count(points: np.ndarray, path: PathLike, num_points: int) -> np.ndarray:
  if points.ndim < 2 or points.shape[-1] != 2:
    raise InputError(f"{path}: expected points of shape [{num_points}, 2] or [N, {num_points}, 2], "
                     f"got {list(points.shape)}")
  if points.shape[-2] != num_points:
    raise InputError(f"{path}: has {points.shape[-2]} points, expected {num_points}")
  if not np.all(np.isfinite(points)):
    raise InputError(f"{path}: contains non-finite coordinates")
  return points.astype(np.float32)


def _read_text(path: PathLike) -> str:
  try:
    with open(path, "r", encoding="utf-8") as f:
      return f.read()
  except FileNotFoundError:
    raise InputError(f"{path}: no such file") from None
  except UnicodeDecodeError:
    raise InputError(f"{path}: not a text file") from None


def read_pts(path: PathLike, *, num_points: int = NUM_FACE_LANDMARKS) -> np.ndarray:
  """Reads an iBUG `.pts` file -> float32 [num_points, 2], coordinates as stored (1-based).

  Format (300-W, LS3D-W):
      version: 1
      n_points:  68
      {
      x y
      ...
      }

  Raises:
    InputError: missing file, malformed file, or a point count (in the header or between the
      braces) other than `num_points`: "<file>: has 67 points, expected 68".
  """
  text = _read_text(path)
  header, brace, rest = text.partition("{")
  body, closing, _ = rest.partition("}")
  if not brace or not closing:
    raise InputError(f"{path}: not an iBUG .pts file (expected the points between '{{' and '}}')")
  declared = None
  for line in header.splitlines():
    key, _, value = line.partition(":")
    if key.strip() == "n_points":
      try:
        declared = int(value)
      except ValueError:
        raise InputError(f"{path}: n_points is not an integer: {value.strip()!r}") from None
  rows = []
  for line in body.splitlines():
    if not line.strip():
      continue
    fields = line.split()
    if len(fields) != 2:
      raise InputError(f"{path}: expected 'x y' per point line, got {line.strip()!r}")
    try:
      rows.append([float(fields[0]), float(fields[1])])
    except ValueError:
      raise InputError(f"{path}: non-numeric point line {line.strip()!r}") from None
  if declared is not None and declared != len(rows):
    raise InputError(f"{path}: header says n_points: {declared} but the file lists {len(rows)} points")
  return _check_point_count(np.array(rows, np.float64).reshape(-1, 2), path, num_points)


def write_pts(path: PathLike, points: ArrayLike) -> None:
  """Writes [N_K, 2] points as an iBUG `.pts` file (the inverse of `read_pts`)."""
  points = np.asarray(points, np.float64)
  if points.ndim != 2 or points.shape[1] != 2:
    raise InputError(f"{path}: write_pts needs points of shape [N_K, 2], got {list(points.shape)}")
  lines = ["version: 1", f"n_points:  {len(points)}", "{"]
  lines += [f"{x:.6f} {y:.6f}" for x, y in points]  # 6 decimals: < 1e-6 px round-trip error
  lines.append("}")
  with open(path, "w", encoding="utf-8") as f:
    f.write("\n".join(lines) + "\n")


def read_npy(path: PathLike, *, num_points: int = NUM_FACE_LANDMARKS) -> np.ndarray:
  """Reads landmarks saved with `np.save`: [num_points, 2] or [N, num_points, 2] -> float32."""
  try:
    points = np.load(path, allow_pickle=False)
  except FileNotFoundError:
    raise InputError(f"{path}: no such file") from None
  except ValueError as error:
    raise InputError(f"{path}: not a plain .npy array ({error})") from None
  if points.ndim not in (2, 3):
    raise InputError(f"{path}: expected shape [{num_points}, 2] or [N, {num_points}, 2], "
                     f"got {list(points.shape)}")
  return _check_point_count(np.asarray(points, np.float64), path, num_points)


def read_t7(path: PathLike, *, num_points: int = NUM_FACE_LANDMARKS) -> np.ndarray:
  """Reads an LS3D-W Torch7 `.t7` annotation (a [68, 2] tensor) -> float32 [num_points, 2].

  Needs the optional package `torchfile` (pip install torchfile), imported only here.
  """
  if not os.path.exists(path):
    raise InputError(f"{path}: no such file")
  try:
    import torchfile  # lazy: optional, only for LS3D-W .t7 files; pylint: disable=import-outside-toplevel
  except ImportError:
    raise InputError(f"{path}: reading .t7 landmark files needs the optional package "
                     "'torchfile' (pip install torchfile), or convert them to .pts/.npy") from None
  try:
    points = np.asarray(torchfile.load(path), np.float64)
  except Exception as error:  # torchfile raises bare Exceptions/TypeErrors on bad files
    raise InputError(f"{path}: not a readable Torch7 file ({type(error).__name__}: {error})") from None
  return _check_point_count(points, path, num_points)


_READERS = {".pts": read_pts, ".npy": read_npy, ".t7": read_t7}


def read_landmarks(path: PathLike, *, num_points: int = NUM_FACE_LANDMARKS) -> np.ndarray:
  """Reads a landmark file by its suffix: `.pts` (iBUG/LS3D-W), `.npy` or `.t7` (LS3D-W)."""
  suffix = os.path.splitext(str(path))[1].lower()
  if suffix not in _READERS:
    raise InputError(f"{path}: unknown landmark file type {suffix!r}, use one of {', '.join(_READERS)}")
  return _READERS[suffix](path, num_points=num_points)


def read_celeba_landmarks(path: PathLike) -> tuple[list[str], np.ndarray]:
  """Reads CelebA's `list_landmarks_align_celeba.txt` (or `list_landmarks_celeba.txt`).

  Format: a line with the image count, a line with the 10 column names
  (lefteye_x lefteye_y righteye_x ... rightmouth_y), then `<image> x1 y1 ... x5 y5` per image,
  0-based pixel coordinates in the image. "lefteye" is the eye on the image's left.

  Returns:
    (image names, float32 [N, 5, 2] points in the order of CELEBA_LANDMARK_NAMES).
  """
  lines = [line for line in _read_text(path).splitlines() if line.strip()]
  if len(lines) < 2:
    raise InputError(f"{path}: expected an image count line and a column names line")
  try:
    declared = int(lines[0].split()[0])
  except ValueError:
    raise InputError(f"{path}:1: expected the image count, got {lines[0].strip()!r}") from None
  expected_columns = [f"{name}_{axis}" for name in CELEBA_LANDMARK_NAMES for axis in "xy"]
  if lines[1].split() != expected_columns:
    raise InputError(f"{path}:2: expected the columns {' '.join(expected_columns)}, "
                     f"got {lines[1].strip()!r}")
  names, rows = [], []
  for line_number, line in enumerate(lines[2:], start=3):
    fields = line.split()
    if len(fields) != 11:
      raise InputError(f"{path}:{line_number}: expected an image name and 10 coordinates, "
                       f"got {len(fields)} fields")
    try:
      rows.append([float(v) for v in fields[1:]])
    except ValueError:
      raise InputError(f"{path}:{line_number}: non-numeric coordinate in {line.strip()!r}") from None
    names.append(fields[0])
  if declared != len(names):
    raise InputError(f"{path}: header says {declared} images but the file lists {len(names)}")
  return names, np.array(rows, np.float32).reshape(-1, len(CELEBA_LANDMARK_NAMES), 2)
