"""Free-form masks: DeepFill v2's brush strokes (zig-zag polylines drawn with a round brush)."""

from __future__ import annotations

import math

import numpy as np

from pgi_tf.errors import InputError

# DeepFill v2's free-form stroke geometry (generative_inpainting, `brush_stroke_mask`):
# successive segments turn by about 2*pi/5 +- 2*pi/15 in alternating directions, which
# gives zig-zag strokes rather than straight bars.
_STROKE_MEAN_ANGLE = 2.0 * math.pi / 5.0
_STROKE_ANGLE_RANGE = 2.0 * math.pi / 15.0
# A stroke that would push the hole above the cap is redrawn this many times before the
# generator gives up adding strokes (keeps generation time bounded for small caps).
_MAX_STROKE_TRIES = 20


def free_form(spec, height: int, width: int, rng: np.random.Generator) -> np.ndarray:
  """DeepFill v2 brush strokes: zig-zag polylines drawn with a round brush (cv2).

  spec: a `pgi_tf.data.masks.MaskSpec` (max_hole_ratio and the brush width fractions are used).
  """
  max_holes = (int(math.floor(spec.max_hole_ratio * height * width)) if spec.max_hole_ratio > 0
               else height * width - 1)  # without a cap, still keep a known pixel
  if max_holes < 1:
    raise InputError(f"mask.max_hole_ratio={spec.max_hole_ratio}: allows no hole pixel in a "
                     f"{height}x{width} image")
  average_radius = math.sqrt(height * height + width * width) / 8.0
  min_width = max(1, int(round(spec.min_brush_width_fraction * min(height, width))))
  max_width = max(min_width, int(round(spec.max_brush_width_fraction * min(height, width))))
  mask = np.zeros((height, width), np.uint8)
  num_strokes = int(rng.integers(spec.min_strokes, spec.max_strokes + 1))
  for _ in range(num_strokes):
    for _ in range(_MAX_STROKE_TRIES):
      candidate = mask.copy()
      _draw_stroke(candidate, rng, spec=spec, average_radius=average_radius,
                   min_width=min_width, max_width=max_width)
      if int(candidate.sum()) <= max_holes:
        mask = candidate
        break
    else:
      break  # no stroke fits under the cap any more: keep what we have
  if not mask.any():
    raise InputError(f"mask.max_hole_ratio={spec.max_hole_ratio}: too small for free-form "
                     f"strokes at {height}x{width}, no stroke fit in {_MAX_STROKE_TRIES} tries")
  if rng.random() < 0.5:
    mask = mask[:, ::-1]
  if rng.random() < 0.5:
    mask = mask[::-1, :]
  return np.ascontiguousarray(mask)


def _draw_stroke(mask: np.ndarray, rng: np.random.Generator, *, spec,
                 average_radius: float, min_width: int, max_width: int) -> None:
  height, width = mask.shape
  num_vertices = int(rng.integers(spec.min_vertices, spec.max_vertices + 1))
  angle_min = _STROKE_MEAN_ANGLE - rng.uniform(0.0, _STROKE_ANGLE_RANGE)
  angle_max = _STROKE_MEAN_ANGLE + rng.uniform(0.0, _STROKE_ANGLE_RANGE)
  vertices = [(int(rng.integers(0, width)), int(rng.integers(0, height)))]
  for index in range(num_vertices):
    angle = rng.uniform(angle_min, angle_max)
    if index % 2 == 0:
      angle = 2.0 * math.pi - angle
    radius = float(np.clip(rng.normal(average_radius, average_radius / 2.0),
                           0.0, 2.0 * average_radius))
    x = float(np.clip(vertices[-1][0] + radius * math.cos(angle), 0, width - 1))
    y = float(np.clip(vertices[-1][1] + radius * math.sin(angle), 0, height - 1))
    vertices.append((int(x), int(y)))
  brush_width = int(rng.integers(min_width, max_width + 1))
  import cv2  # lazy: OpenCV is needed only to draw free-form strokes
  for start, end in zip(vertices[:-1], vertices[1:]):
    cv2.line(mask, start, end, color=1, thickness=brush_width, lineType=cv2.LINE_8)
  for vertex in vertices:  # round joints between segments
    cv2.circle(mask, vertex, brush_width // 2, color=1, thickness=-1)
