"""Rectangular holes for clips, the FaceForensics protocol (§6.4), float32 [T, H, W, 1], M = 1 on
the hole, one mask per frame.

`rectangle_clip_masks`: "random rectangular masks in range [0.35 l, 0.5 l], where l = 128": a
rectangle whose height is an integer in [ceil(0.35 H), floor(0.5 H)] and width in
[ceil(0.35 W), floor(0.5 W)] (l is the side of the image along each axis). The size is fixed for
the clip. motion="fixed": the same rectangle in every frame. motion="moving": it drifts by a
random integer step in [-max_step, max_step] per axis and frame, reflected at the image borders so
it stays inside -- the block-shaped packet loss of coded video (§1: "packet error manifests as
rectangular holes on frames") moving with the damaged blocks.

The tf.data stream of these masks is `pgi_tf.data.sequences.make_clip_mask_dataset`.
"""

from __future__ import annotations

import math

import numpy as np

from pgi_tf.data import bounce
from pgi_tf.errors import InputError

MASK_MOTIONS = ("fixed", "moving")
MIN_SIDE_FRACTION = 0.35           # §6.4: rectangles with sides in [0.35 l, 0.5 l]
MAX_SIDE_FRACTION = 0.5


def rectangle_side_range(side: int, *, min_side_fraction: float = MIN_SIDE_FRACTION,
                         max_side_fraction: float = MAX_SIDE_FRACTION) -> tuple[int, int]:
  """Integer rectangle sides [low, high] inside [min_fraction * side, max_fraction * side].

  Raises:
    InputError: naming the fraction, if the fractions are not 0 < min <= max <= 1 or no
      integer lies between the bounds.
  """
  if not 0.0 < min_side_fraction <= max_side_fraction <= 1.0:
    raise InputError(f"min_side_fraction={min_side_fraction}, max_side_fraction="
                     f"{max_side_fraction}: need 0 < min <= max <= 1")
  low = max(1, math.ceil(min_side_fraction * side - 1e-9))
  high = math.floor(max_side_fraction * side + 1e-9)
  if low > high:
    raise InputError(f"min_side_fraction={min_side_fraction}: no integer side between "
                     f"{min_side_fraction}*{side} and {max_side_fraction}*{side} px")
  return low, high


def default_max_step(height: int, width: int) -> int:
  """Drift bound of moving holes: 5% of the shorter side, at least 1 px (6 px at 128, 2 at 32)."""
  return max(1, round(0.05 * min(height, width)))


def rectangle_clip_masks(rng: np.random.Generator, *, num_frames: int, height: int, width: int,
                         min_side_fraction: float = MIN_SIDE_FRACTION,
                         max_side_fraction: float = MAX_SIDE_FRACTION,
                         motion: str = "fixed", max_step: int | None = None) -> np.ndarray:
  """Rectangular holes for one clip (§6.4 protocol, module docstring), float32 [T, H, W, 1].

  Args:
    rng: numpy Generator; the masks are a function of its state.
    num_frames: T.
    height, width: frame size; sides are drawn in [min, max] fraction of each.
    min_side_fraction, max_side_fraction: 0.35 and 0.5 in the paper.
    motion: "fixed" (same hole in every frame) or "moving" (random drift, reflected at the
      borders).
    max_step: largest drift per frame and axis for "moving" (default `default_max_step`).

  Returns:
    M = 1 on the hole, 0 elsewhere; the rectangle's size is the same in every frame.
  """
  if motion not in MASK_MOTIONS:
    raise InputError(f"motion={motion!r}: choose one of {', '.join(MASK_MOTIONS)}")
  if num_frames < 1:
    raise InputError(f"num_frames={num_frames}: must be >= 1")
  low_h, high_h = rectangle_side_range(height, min_side_fraction=min_side_fraction,
                                       max_side_fraction=max_side_fraction)
  low_w, high_w = rectangle_side_range(width, min_side_fraction=min_side_fraction,
                                       max_side_fraction=max_side_fraction)
  if max_step is None:
    max_step = default_max_step(height, width)
  if max_step < 0:
    raise InputError(f"max_step={max_step}: must be >= 0")
  rect_h = int(rng.integers(low_h, high_h + 1))
  rect_w = int(rng.integers(low_w, high_w + 1))
  limit_y, limit_x = height - rect_h, width - rect_w
  top, left = int(rng.integers(0, limit_y + 1)), int(rng.integers(0, limit_x + 1))
  masks = np.zeros((num_frames, height, width, 1), np.float32)
  for t in range(num_frames):
    if t > 0 and motion == "moving":
      # One reflection suffices only for steps no longer than the free range.
      step_y = int(rng.integers(-max_step, max_step + 1))
      step_x = int(rng.integers(-max_step, max_step + 1))
      top, _ = bounce.reflect(top, int(np.clip(step_y, -limit_y, limit_y)), limit_y)
      left, _ = bounce.reflect(left, int(np.clip(step_x, -limit_x, limit_x)), limit_x)
    masks[t, top:top + rect_h, left:left + rect_w] = 1.0
  return masks
