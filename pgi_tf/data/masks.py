"""Hole masks for training and evaluation, with M = 1 on the hole (white in a PNG).

The paper uses several mask families:
  * "square":    32x32 holes at random locations at 64 px (§6.3, SVHN / Cars / CelebA).
  * "ratio":     holes of a given hole-to-image ratio, 10% and 40% (Table 1).
  * "central":   central holes (ImageNet, §6.3), e.g. 96x96 or 128x128 at 256 px (Table 2).
  * "rectangle": random rectangles with sides in 96-128 px at 256 px (§6.3) or in
                 [0.35 l, 0.5 l] with l = 128 (FaceForensics, §6.4).
  * "free_form": random brush strokes as in DeepFill v2 (Yu et al. 2019) and LaMa, for
                 "random shaped holes" (§6.2) and irregular-mask experiments.
  * "file":      masks read from a folder of PNG files, so evaluation masks can be fixed.

Every generator is driven by a `numpy.random.Generator`, one mask at a time, so the same
seed gives the same masks whatever the batch size (`sample_masks(count=10)` equals two
calls with `count=5` on the same generator), and `make_mask_dataset(seed=...)` is
reproducible across iterations and runs, and can start at any mask (training resumes).
The masked image is I_d = (1 - M) * I (Eq. 2).
"""

from __future__ import annotations

import dataclasses
import math
import os
from typing import Any, Iterator, Sequence

import numpy as np
from PIL import Image
import tensorflow as tf

from pgi_tf.data import brush_strokes
from pgi_tf.errors import InputError

MASK_KINDS = ("square", "ratio", "central", "rectangle", "free_form", "file")



# ---------------------------------------------------------------------------
# Specification
# ---------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class MaskSpec:
  """Which masks to draw. Fields not used by `kind` are ignored.

  Build from a config with `MaskSpec.from_config(config.mask)`; invalid values raise
  `InputError("mask.<field>=<value>: ...")`. Checks that need the image size (e.g. a hole
  larger than the image) happen when masks are drawn.
  """
  kind: str = "square"  # one of MASK_KINDS
  # "square" / "central": hole side in px; 0 -> min(H, W) // 2 (32x32 at 64 px, §6.3).
  size: int = 0
  # "ratio" (and "central" when > 0): hole area / image area, e.g. 0.1 or 0.4 (Table 1).
  hole_ratio: float = 0.0
  # "rectangle": inclusive side range in px, e.g. 96-128 at 256 px (§6.3) ...
  min_side: int = 0
  max_side: int = 0
  # ... or as fractions of the image side, e.g. [0.35 l, 0.5 l] (§6.4). Give one or the other.
  min_side_fraction: float = 0.0
  max_side_fraction: float = 0.0
  # "free_form": DeepFill v2 defaults (1-3 strokes of 4-12 vertices, brush 12-40 px at 256 px,
  # here as fractions of min(H, W) so the same spec works at every resolution).
  min_strokes: int = 1
  max_strokes: int = 3
  min_vertices: int = 4
  max_vertices: int = 12
  min_brush_width_fraction: float = 12.0 / 256.0
  max_brush_width_fraction: float = 40.0 / 256.0
  # "free_form": strokes that would take the hole ratio above this are redrawn; 0 = no cap.
  max_hole_ratio: float = 0.0
  # "file": folder of PNG masks, used in sorted file-name order (cycled) ...
  directory: str = ""
  # ... or drawn uniformly at random with the generator (training on a fixed mask set).
  shuffle_files: bool = False
  # "file": resize masks of another size with nearest neighbour; default: size mismatch is an error.
  resize_files: bool = False

  def __post_init__(self):
    if self.kind not in MASK_KINDS:
      raise InputError(f"mask.kind={self.kind!r}: unknown mask kind, choose one of "
                       f"{', '.join(MASK_KINDS)}")
    _check(self.size >= 0, "size", self.size, "must be >= 0")
    _check(0.0 <= self.hole_ratio < 1.0, "hole_ratio", self.hole_ratio, "must be in [0, 1)")
    if self.kind == "ratio":
      _check(self.hole_ratio > 0.0, "hole_ratio", self.hole_ratio,
             "must be > 0 for ratio masks, e.g. 0.1 or 0.4")
    if self.kind == "rectangle":
      use_pixels = self.min_side > 0 or self.max_side > 0
      use_fractions = self.min_side_fraction > 0 or self.max_side_fraction > 0
      if use_pixels == use_fractions:
        raise InputError("mask.min_side/mask.min_side_fraction: rectangle masks need either "
                         "min_side and max_side (px) or min_side_fraction and "
                         "max_side_fraction, not both and not neither")
      if use_pixels:
        _check(self.min_side >= 1, "min_side", self.min_side, "must be >= 1")
        _check(self.max_side >= self.min_side, "max_side", self.max_side,
               f"must be >= mask.min_side={self.min_side}")
      else:
        _check(0.0 < self.min_side_fraction <= 1.0, "min_side_fraction",
               self.min_side_fraction, "must be in (0, 1]")
        _check(self.min_side_fraction <= self.max_side_fraction <= 1.0, "max_side_fraction",
               self.max_side_fraction,
               f"must be in [mask.min_side_fraction={self.min_side_fraction}, 1]")
    if self.kind == "free_form":
      _check(self.min_strokes >= 1, "min_strokes", self.min_strokes, "must be >= 1")
      _check(self.max_strokes >= self.min_strokes, "max_strokes", self.max_strokes,
             f"must be >= mask.min_strokes={self.min_strokes}")
      _check(self.min_vertices >= 1, "min_vertices", self.min_vertices, "must be >= 1")
      _check(self.max_vertices >= self.min_vertices, "max_vertices", self.max_vertices,
             f"must be >= mask.min_vertices={self.min_vertices}")
      _check(0.0 < self.min_brush_width_fraction <= 1.0, "min_brush_width_fraction",
             self.min_brush_width_fraction, "must be in (0, 1]")
      _check(self.min_brush_width_fraction <= self.max_brush_width_fraction <= 1.0,
             "max_brush_width_fraction", self.max_brush_width_fraction,
             f"must be in [mask.min_brush_width_fraction={self.min_brush_width_fraction}, 1]")
      _check(0.0 <= self.max_hole_ratio < 1.0, "max_hole_ratio", self.max_hole_ratio,
             "must be in [0, 1), 0 = no cap")
    if self.kind == "file":
      _check(bool(self.directory), "directory", self.directory,
             "file masks need a folder of PNG masks")

  @classmethod
  def from_config(cls, config: Any) -> "MaskSpec":
    """Builds a spec from an `ml_collections.ConfigDict` or a plain mapping.

    Unknown keys raise `InputError("mask.<key>: unknown mask field ...")`, so a typo in a
    config or a `--config.mask.*` flag is not silently ignored.
    """
    values = config.to_dict() if hasattr(config, "to_dict") else dict(config)
    known = {field.name for field in dataclasses.fields(cls)}
    for key in values:
      if key not in known:
        raise InputError(f"mask.{key}: unknown mask field, known fields are "
                         f"{', '.join(sorted(known))}")
    return cls(**values)

  def to_dict(self) -> dict[str, Any]:
    """All fields as a plain dict (for configs, JSON reports and `from_config`)."""
    return dataclasses.asdict(self)


def _check(condition: bool, field: str, value: Any, what: str) -> None:
  if not condition:
    raise InputError(f"mask.{field}={value!r}: {what}")


# ---------------------------------------------------------------------------
# Utilities on mask arrays
# ---------------------------------------------------------------------------
def hole_ratio(masks: Any) -> np.ndarray:
  """Fraction of hole pixels (M = 1) per mask.

  Args:
    masks: [N, H, W, 1] (returns shape [N]), or a single [H, W, 1] or [H, W] mask
      (returns a 0-d array). Values are taken as hole where > 0.5.
  """
  masks = np.asarray(masks)
  if masks.ndim == 4:
    return np.mean(masks > 0.5, axis=(1, 2, 3))
  if masks.ndim in (2, 3):
    return np.asarray(np.mean(masks > 0.5))
  raise ValueError(f"masks must be [N, H, W, 1], [H, W, 1] or [H, W], got shape {masks.shape}")


def validate_mask(mask: Any, *, name: str) -> None:
  """Raises `InputError` if a mask has no hole pixel or no known pixel.

  Args:
    mask: [H, W, 1] or [H, W] (one mask) or [N, H, W, 1] (each is checked; the message
      then names the index, e.g. "masks[3]: ...").
    name: the file or flag the mask came from, used as the start of the message.
  """
  mask = np.asarray(mask)
  if mask.ndim == 4:
    for index in range(mask.shape[0]):
      validate_mask(mask[index], name=f"{name}[{index}]")
    return
  holes = mask > 0.5
  if not holes.any():
    raise InputError(f"{name}: mask has no hole pixels")
  if holes.all():
    raise InputError(f"{name}: mask covers the whole image, no known pixels are left")


# ---------------------------------------------------------------------------
# PNG input / output
# ---------------------------------------------------------------------------
def load_mask_png(path: str, *, height: int | None = None, width: int | None = None,
                  resize: bool = False) -> np.ndarray:
  """Reads a PNG mask as float32 [H, W, 1] in {0, 1}, white (hole) -> 1.

  Grey values are thresholded at half of the file's value range (> 127.5 for 8-bit,
  > 32767.5 for 16-bit), RGB is converted to luminance first (ITU-R 601-2, PIL's "L").

  Args:
    path: PNG file.
    height, width: expected image size. A mask of another size is an `InputError`
      ("mask.png: mask is 30x32, image is 32x32") unless `resize`.
    resize: resize a mask of another size to height x width with nearest neighbour
      (after thresholding, so the result stays binary).

  Raises:
    InputError: unreadable file or size mismatch; the message names the file.
  """
  try:
    with Image.open(path) as image:
      image.load()
      if image.mode == "1":
        holes = np.array(image, dtype=bool)
      elif image.mode.startswith("I;16"):
        holes = np.array(image).astype(np.float64) / 65535.0 > 0.5
      elif image.mode == "I":  # 32-bit integer mode, as PIL opens some 16-bit PNGs
        holes = np.array(image).astype(np.float64) / 65535.0 > 0.5
      else:  # L, LA, P, RGB, RGBA: 8-bit luminance (alpha ignored).
        holes = np.array(image.convert("L")).astype(np.float64) / 255.0 > 0.5
  except (OSError, ValueError, SyntaxError) as error:
    reason = " ".join(str(error).split())  # one-line message
    raise InputError(f"{path}: cannot read mask PNG ({reason})") from None
  mask_height, mask_width = holes.shape
  target_height = mask_height if height is None else height
  target_width = mask_width if width is None else width
  if (mask_height, mask_width) != (target_height, target_width):
    if not resize:
      raise InputError(f"{path}: mask is {mask_height}x{mask_width}, image is "
                       f"{target_height}x{target_width}")
    resized = Image.fromarray(holes.astype(np.uint8) * 255).resize(
        (target_width, target_height), resample=Image.Resampling.NEAREST)
    holes = np.array(resized) > 127
  return holes.astype(np.float32)[:, :, None]


def save_mask_png(path: str, mask: Any) -> None:
  """Writes a [H, W, 1] or [H, W] mask as an 8-bit grey PNG: hole (> 0.5) white, known black."""
  mask = np.asarray(mask)
  if mask.ndim == 3 and mask.shape[-1] == 1:
    mask = mask[:, :, 0]
  if mask.ndim != 2:
    raise ValueError(f"mask must be [H, W, 1] or [H, W], got shape {mask.shape}")
  Image.fromarray((mask > 0.5).astype(np.uint8) * 255, mode="L").save(path, format="PNG")


def list_mask_files(directory: str) -> list[str]:
  """PNG files of a folder in sorted name order; `InputError` if there are none."""
  if not os.path.isdir(directory):
    raise InputError(f"{directory}: mask directory does not exist")
  names = sorted(name for name in os.listdir(directory) if name.lower().endswith(".png"))
  if not names:
    raise InputError(f"{directory}: mask directory has no PNG files")
  return [os.path.join(directory, name) for name in names]


# ---------------------------------------------------------------------------
# Generators: one mask per call, [H, W] uint8 in {0, 1}
# ---------------------------------------------------------------------------
def _default_side(spec: MaskSpec, height: int, width: int) -> int:
  side = spec.size if spec.size > 0 else min(height, width) // 2
  if side > min(height, width) or side * side >= height * width:
    raise InputError(f"mask.size={spec.size}: a {side}x{side} hole does not fit inside "
                     f"the {height}x{width} image with known pixels left")
  return side


def _ratio_area(spec: MaskSpec, height: int, width: int) -> int:
  area = int(round(spec.hole_ratio * height * width))
  if not 1 <= area < height * width:
    raise InputError(f"mask.hole_ratio={spec.hole_ratio}: gives {area} hole pixels in a "
                     f"{height}x{width} image, need between 1 and {height * width - 1}")
  return area


def _block_with_partial_row(area: int, height: int, width: int) -> tuple[int, int, int]:
  """Shape of a hole of exactly `area` pixels: `rows` full rows of `cols`, plus `rest` pixels.

  The block is as close to square as the image allows (cols ~ sqrt(area)), and its
  bounding box (rows + (rest > 0)) x cols fits in height x width.
  """
  min_cols = -(-area // height)  # ceil: enough columns that the rows fit in the height
  cols = int(min(max(round(math.sqrt(area)), min_cols), width))
  rows, rest = divmod(area, cols)
  return rows, cols, rest


def _compact_hole(area: int, height: int, width: int, rng: np.random.Generator | None,
                  ) -> np.ndarray:
  """A near-square hole of exactly `area` pixels; random place if `rng`, else centred."""
  transpose = rng is not None and rng.random() < 0.5  # vertical or horizontal partial row
  if transpose:
    height, width = width, height
  rows, cols, rest = _block_with_partial_row(area, height, width)
  patch = np.zeros((rows + (rest > 0), cols), np.uint8)
  if rest > 0:
    rest_first = rng is not None and rng.random() < 0.5  # partial row above or below
    rest_col = (int(rng.integers(0, cols - rest + 1)) if rng is not None
                else (cols - rest) // 2)
    block_rows = slice(1, None) if rest_first else slice(0, rows)
    patch[block_rows] = 1
    patch[0 if rest_first else rows, rest_col:rest_col + rest] = 1
  else:
    patch[:] = 1
  mask = _place(patch, height, width, rng)
  return mask.T if transpose else mask


def _place(patch: np.ndarray, height: int, width: int, rng: np.random.Generator | None,
           ) -> np.ndarray:
  """Puts a patch fully inside a height x width mask, at a uniform random or centred offset."""
  patch_height, patch_width = patch.shape
  if rng is None:
    top, left = (height - patch_height) // 2, (width - patch_width) // 2
  else:
    top = int(rng.integers(0, height - patch_height + 1))
    left = int(rng.integers(0, width - patch_width + 1))
  mask = np.zeros((height, width), np.uint8)
  mask[top:top + patch_height, left:left + patch_width] = patch
  return mask


def _rectangle_side_range(spec: MaskSpec, image_side: int, axis: str) -> tuple[int, int]:
  if spec.min_side > 0:
    low, high = spec.min_side, spec.max_side
    field, value = "max_side", spec.max_side
  else:  # fractions: the integer sides inside [min_fraction * l, max_fraction * l]
    low = max(1, math.ceil(spec.min_side_fraction * image_side - 1e-9))
    high = math.floor(spec.max_side_fraction * image_side + 1e-9)
    field, value = "min_side_fraction", spec.min_side_fraction
    if low > high:
      raise InputError(f"mask.{field}={value}: no integer side between "
                       f"{spec.min_side_fraction}*{image_side} and "
                       f"{spec.max_side_fraction}*{image_side} px")
  if high > image_side:
    raise InputError(f"mask.{field}={value}: rectangle side up to {high} px does not fit "
                     f"the image {axis} of {image_side} px")
  return low, high


def _rectangle(spec: MaskSpec, height: int, width: int, rng: np.random.Generator) -> np.ndarray:
  low_h, high_h = _rectangle_side_range(spec, height, "height")
  low_w, high_w = _rectangle_side_range(spec, width, "width")
  if low_h * low_w >= height * width:
    raise InputError(f"mask.min_side={spec.min_side}: rectangles cover the whole "
                     f"{height}x{width} image")
  while True:  # redraw only the (rare) rectangle that covers the whole image
    rect_height = int(rng.integers(low_h, high_h + 1))
    rect_width = int(rng.integers(low_w, high_w + 1))
    if rect_height * rect_width < height * width:
      break
  return _place(np.ones((rect_height, rect_width), np.uint8), height, width, rng)


def _one_mask(spec: MaskSpec, height: int, width: int, rng: np.random.Generator) -> np.ndarray:
  if spec.kind == "square":
    side = _default_side(spec, height, width)
    return _place(np.ones((side, side), np.uint8), height, width, rng)
  if spec.kind == "ratio":
    return _compact_hole(_ratio_area(spec, height, width), height, width, rng)
  if spec.kind == "central":
    if spec.hole_ratio > 0:
      return _compact_hole(_ratio_area(spec, height, width), height, width, None)
    side = _default_side(spec, height, width)
    return _place(np.ones((side, side), np.uint8), height, width, None)
  if spec.kind == "rectangle":
    return _rectangle(spec, height, width, rng)
  if spec.kind == "free_form":
    return brush_strokes.free_form(spec, height, width, rng)
  raise AssertionError(f"unhandled mask kind {spec.kind!r}")


def _load_file_mask(spec: MaskSpec, path: str, height: int, width: int) -> np.ndarray:
  mask = load_mask_png(path, height=height, width=width, resize=spec.resize_files)
  validate_mask(mask, name=path)
  return mask


# ---------------------------------------------------------------------------
# Public samplers
# ---------------------------------------------------------------------------
def sample_masks(spec: MaskSpec, *, count: int, height: int, width: int,
                 rng: np.random.Generator, first_index: int = 0) -> np.ndarray:
  """Draws `count` masks as float32 [count, H, W, 1] in {0, 1} (1 = hole).

  Masks are drawn one after another from `rng`, so the result does not depend on how
  a sequence is split into calls. Every mask has at least one hole and one known pixel.

  Args:
    spec: which masks (see `MaskSpec`).
    count: number of masks.
    height, width: image size in px.
    rng: source of randomness, e.g. `np.random.default_rng(seed)`.
    first_index: "file" masks without `shuffle_files` only: index (in sorted file order,
      cycled) of the first file, so consecutive calls can walk through the folder.
  """
  if count < 0 or height < 1 or width < 1:
    raise ValueError(f"need count >= 0 and a positive size, got count={count}, "
                     f"{height}x{width}")
  masks = np.zeros((count, height, width, 1), np.float32)
  if spec.kind == "file":
    paths = list_mask_files(spec.directory)
    for index in range(count):
      if spec.shuffle_files:
        path = paths[int(rng.integers(0, len(paths)))]
      else:
        path = paths[(first_index + index) % len(paths)]
      masks[index] = _load_file_mask(spec, path, height, width)
    return masks
  for index in range(count):
    masks[index, :, :, 0] = _one_mask(spec, height, width, rng)
  return masks


# Masks per numpy generator in `make_mask_dataset`: block b is drawn by
# default_rng(seed + b * 2**32), so mask i is reached by drawing at most MASK_BLOCK - 1 others
# (a resumed trainer starts the stream at step * batch), and block 0's generator is
# default_rng(seed), so short streams (sample grids, evaluation draws) are `sample_masks`' own.
MASK_BLOCK = 1024
_BLOCK_SEED_STRIDE = 2 ** 32


def make_mask_dataset(spec: MaskSpec | Sequence[MaskSpec], *, height: int, width: int, seed: int,
                      chunk_size: int = 64, start: int = 0) -> tf.data.Dataset:
  """An infinite `tf.data.Dataset` of float32 [H, W, 1] masks, deterministic by `seed`.

  Element i (i < MASK_BLOCK) equals `sample_masks(spec, count=i + 1, ...,
  rng=np.random.default_rng(seed))[i]`; later masks come in blocks of MASK_BLOCK, block b drawn
  by `default_rng(seed + b * 2**32)`. Every iteration of the dataset restarts the stream, so
  evaluation masks are reproducible. "file" masks cycle through the folder in sorted order (or
  are drawn with the seed when `spec.shuffle_files`).

  Args:
    spec: which masks; a sequence of specs is a uniform mixture (each mask first draws which
      spec, with the same generator).
    height, width: image size in px.
    seed: seed of the numpy generators (>= 0).
    chunk_size: masks drawn per Python call (speed only; does not change the masks).
    start: the stream begins at mask `start` (a resumed trainer passes step * batch): the
      masks are those the stream from 0 yields from there, at the cost of < MASK_BLOCK draws.
  """
  specs = [spec] if isinstance(spec, MaskSpec) else list(spec)
  if not specs or start < 0:
    raise ValueError(f"need at least one spec and start >= 0, got {len(specs)} specs, start={start}")
  # Fail now, with the user's message, rather than inside a tf.data iterator.
  for one in specs:
    sample_masks(one, count=1, height=height, width=width, rng=np.random.default_rng(seed))

  def draw(count: int, rng: np.random.Generator, first_index: int) -> np.ndarray:
    if len(specs) == 1:
      return sample_masks(specs[0], count=count, height=height, width=width, rng=rng, first_index=first_index)
    masks = np.zeros((count, height, width, 1), np.float32)
    for index in range(count):
      chosen = specs[int(rng.integers(len(specs)))]
      masks[index] = sample_masks(chosen, count=1, height=height, width=width, rng=rng,
                                  first_index=first_index + index)[0]
    return masks

  def generate() -> Iterator[np.ndarray]:
    block, skip = divmod(start, MASK_BLOCK)
    while True:
      rng = np.random.default_rng(seed + block * _BLOCK_SEED_STRIDE)
      first = block * MASK_BLOCK
      draw(skip, rng, first)  # the masks before `start` in its block: drawn to move the generator on
      for index in range(first + skip, first + MASK_BLOCK, chunk_size):
        yield from draw(min(chunk_size, first + MASK_BLOCK - index), rng, index)
      block, skip = block + 1, 0

  return tf.data.Dataset.from_generator(
      generate, output_signature=tf.TensorSpec([height, width, 1], tf.float32))
