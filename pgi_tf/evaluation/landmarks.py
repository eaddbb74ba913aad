"""Fig. 4 and §6.2 offline: the keypoint refiner f against raw detections and a mean-shape fill.

Two measurements (RLE = L2 error / the reference's inter-ocular distance, §6.2,
`pgi_tf.metrics.landmarks`):

  astronaut_experiment  a real face (scikit-image's astronaut). dlib on the unmasked image is
      the reference; half of the face box is then masked (hole = mid grey, the project's I_d)
      and dlib run again in the same box (its detector misses half faces): "raw" is dlib's
      output on the masked face as dlib gives it, all 68 points (the paper's initial
      detection, Fig. 4a). Points of that detection in the hole get switch d = 0 and
      x = y = 0 (§4.2); f's output K_f = f(K, d) is "refined". Also reported: f's output with
      the visible detections kept ("refined_keep_visible") and the visible detections with the
      hidden ones from the similarity-aligned mean shape ("mean_shape_fill"). Fig. 4's curves
      for this face: raw vs refined.
  refiner_curve  Fig. 4b's comparison on held-out shapes (synthetic faces offline; LS3D-W
      in the paper) with 70% of the points hidden at random: f vs the aligned mean shape. The
      hidden-point detections are exact here, so the curve compared with the baseline is f
      with the visible points kept ("refined_keep_visible": both methods keep them, only the
      prediction of hidden points differs); f's own output everywhere ("refined") is reported
      too (it smooths even exact points, so its curve starts lower).

`landmark_curves` runs both; `write_curves` writes landmark_curves.json and a PNG plot.
"""

from __future__ import annotations

import os
from typing import Any, Callable

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from pgi_tf import files
from pgi_tf import hub
from pgi_tf.data import landmarks
from pgi_tf.errors import InputError
from pgi_tf.metrics import landmarks as landmark_metrics
from pgi_tf.models import keypoint_refiner as refiner_model
from pgi_tf.structural import face_detection

MASK_SIDES = ("right", "left", "bottom", "top")
DEFAULT_REFINER = "hub_modules/face_landmarks/keypoint_refiner"
CURVES_JSON = "landmark_curves.json"
CURVES_PNG = "landmark_curves.png"


def _refine_function(refiner) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
  """numpy (keypoints, switches) -> refined, from a path, a Keras model or a callable."""
  if isinstance(refiner, (str, os.PathLike)):
    refiner = hub.load_keypoint_refiner(str(refiner))
  if hasattr(refiner, "predict") and hasattr(refiner, "inputs"):  # a Keras model of f
    model = refiner
    return lambda k, d: refiner_model.refine_keypoints(model, k, d)
  if not callable(refiner):
    raise InputError(f"refiner: expected a path, a Keras model or a callable, got {type(refiner).__name__}")
  return lambda k, d: np.asarray(refiner(np.asarray(k, np.float32), np.asarray(d, np.float32)), np.float32)


def half_face_mask(image_shape, box, *, side: str = "right") -> np.ndarray:
  """float32 [H, W] mask, 1 on one half of the face box (inclusive dlib box), 0 elsewhere.

  side: which half of the box is hidden, as seen in the image ("right" = image right, the
  subject's left). The hole is half the box's area: 50% of the face masked (Fig. 4).
  """
  if side not in MASK_SIDES:
    raise InputError(f"mask_side={side!r}: choose one of {', '.join(MASK_SIDES)}")
  height, width = image_shape[:2]
  left, top, right, bottom = (int(round(v)) for v in box)
  middle_x, middle_y = (left + right + 1) // 2, (top + bottom + 1) // 2
  rows = {"bottom": (middle_y, bottom + 1), "top": (top, middle_y)}.get(side, (top, bottom + 1))
  columns = {"right": (middle_x, right + 1), "left": (left, middle_x)}.get(side, (left, right + 1))
  mask = np.zeros((height, width), np.float32)
  mask[max(rows[0], 0):max(rows[1], 0), max(columns[0], 0):max(columns[1], 0)] = 1.0
  return mask


def _curves(errors: dict[str, np.ndarray], thresholds) -> tuple[dict, dict]:
  curves = {name: landmark_metrics.cumulative_error_curve(rle, thresholds=thresholds).tolist()
            for name, rle in errors.items()}
  areas = {name: landmark_metrics.curve_area(curve, thresholds=thresholds) for name, curve in curves.items()}
  return curves, areas


def astronaut_experiment(*, refiner, mask_side: str = "right", image=None, name: str = "astronaut",
                         thresholds=landmark_metrics.DEFAULT_RLE_THRESHOLDS) -> dict[str, Any]:
  """Raw dlib vs refined landmarks on a half-masked real face (module docstring).

  Args:
    refiner: exported f (path), `load_keypoint_refiner` result, Keras model or callable
      (keypoints [N, 68, 2], switches [N, 68]) -> refined [N, 68, 2] in box coordinates.
    mask_side: which half of the face box is hidden (`half_face_mask`).
    image: uint8 RGB face image; default `skimage.data.astronaut()`.
    name: the image's name in messages and the result.
    thresholds: RLE thresholds of the cumulative curves.

  Returns:
    dict: mean_rle / mean_rle_visible / mean_rle_hidden per method (raw, refined,
    refined_keep_visible, mean_shape_fill), curves and curve_area (raw, refined), the box,
    the switches and all point sets in pixels.
  """
  if image is None:
    import skimage.data  # lazy: the astronaut photo only for this experiment; pylint: disable=import-outside-toplevel
    image = skimage.data.astronaut()
  refine = _refine_function(refiner)
  reference = face_detection.detect_face_landmarks(image, name=name)
  mask = half_face_mask(np.shape(image), reference.box, side=mask_side)
  # dlib's detector misses half-hidden faces: the shape predictor runs in the unmasked box.
  masked = face_detection.detect_face_landmarks(image, mask=mask, box=reference.box, name=name)
  refined_box = refine(masked.points[None], masked.switches[None])[0]
  refined = landmarks.denormalize(refined_box, masked.box)
  visible = masked.switches > 0.5
  refined_keep_visible = np.where(visible[:, None], masked.points_px, refined)
  filled_box = landmark_metrics.fill_from_mean_shape(masked.points, masked.switches, landmarks.MEAN_FACE_SHAPE)
  mean_shape_fill = landmarks.denormalize(filled_box, masked.box)
  predictions = {"raw": masked.points_px, "refined": refined,
                 "refined_keep_visible": refined_keep_visible, "mean_shape_fill": mean_shape_fill}
  errors = {method: landmark_metrics.relative_localization_error(predicted=points, target=reference.points_px)
            for method, points in predictions.items()}
  curves, areas = _curves({m: errors[m] for m in ("raw", "refined")}, thresholds)
  return {
      "image": name, "mask_side": mask_side, "hole_fraction_of_box": 0.5,
      "box": reference.box.tolist(), "num_visible": int(visible.sum()),
      "inter_ocular_distance_px": float(landmarks.inter_ocular_distance(reference.points_px)),
      "mean_rle": {m: float(e.mean()) for m, e in errors.items()},
      "mean_rle_visible": {m: float(e[visible].mean()) if visible.any() else None for m, e in errors.items()},
      "mean_rle_hidden": {m: float(e[~visible].mean()) if (~visible).any() else None for m, e in errors.items()},
      "thresholds": np.asarray(thresholds, np.float64).tolist(), "curves": curves, "curve_area": areas,
      "switches": masked.switches.tolist(),
      "points_px": {"reference": reference.points_px.tolist(),
                    **{m: np.asarray(p, np.float64).tolist() for m, p in predictions.items()}},
  }


def refiner_curve(*, refiner, shapes, seed: int, keep_probability: float = 0.3,
                  thresholds=landmark_metrics.DEFAULT_RLE_THRESHOLDS) -> dict[str, Any]:
  """Fig. 4b's comparison on held-out 68-point shapes with 1 - keep_probability of them hidden.

  Args:
    refiner: as in `astronaut_experiment`.
    shapes: [S, 68, 2] ground-truth shapes in box coordinates (not seen in training).
    seed: seeds which points are hidden (`landmarks.drop_keypoints`).
    keep_probability: switch-on probability (0.3: 70% hidden, as in training, §4.2).
    thresholds: RLE thresholds.

  Returns:
    dict: mean_rle and mean_rle_hidden per method (refined, refined_keep_visible,
    mean_shape_fill), curves and curve_area for all three, the measured switch-on rate.
  """
  shapes = np.asarray(shapes, np.float32)
  if shapes.ndim != 3 or shapes.shape[1:] != (landmarks.NUM_FACE_LANDMARKS, 2):
    raise InputError(f"shapes: expected [S, 68, 2] face shapes, got {list(shapes.shape)}")
  refine = _refine_function(refiner)
  points, switches = landmarks.drop_keypoints(np.random.default_rng(seed), shapes,
                                              keep_probability=keep_probability)
  refined = refine(points, switches)
  visible = switches > 0.5
  predictions = {"refined": refined,
                 "refined_keep_visible": np.where(visible[..., None], points, refined),
                 "mean_shape_fill": landmark_metrics.fill_from_mean_shape(points, switches,
                                                                          landmarks.MEAN_FACE_SHAPE)}
  errors = {m: landmark_metrics.relative_localization_error(predicted=p, target=shapes)
            for m, p in predictions.items()}
  curves, areas = _curves(errors, thresholds)
  return {"num_shapes": int(len(shapes)), "keep_probability": keep_probability,
          "switch_on_rate": float(switches.mean()),
          "mean_rle": {m: float(e.mean()) for m, e in errors.items()},
          "mean_rle_hidden": {m: float(e[~visible].mean()) for m, e in errors.items()},
          "thresholds": np.asarray(thresholds, np.float64).tolist(), "curves": curves, "curve_area": areas}


def landmark_curves(*, refiner, shapes=None, seed: int = 0, num_shapes: int = 500,
                    mask_side: str = "right", keep_probability: float = 0.3) -> dict[str, Any]:
  """Both measurements: {"held_out": refiner_curve(...), "astronaut": astronaut_experiment(...)}.

  shapes: held-out face shapes; default `num_shapes` synthetic faces drawn with seed
  1_000_003 + seed (the trainers draw theirs from small seeds, so these are unseen).
  """
  refine = _refine_function(refiner)
  if shapes is None:
    shapes = landmarks.synthetic_face_shapes(np.random.default_rng(1_000_003 + seed), num_shapes)
  return {"held_out": refiner_curve(refiner=refine, shapes=shapes, seed=seed, keep_probability=keep_probability),
          "astronaut": astronaut_experiment(refiner=refine, mask_side=mask_side)}


# --------------------------------------------------------------------------- files

_COLOURS = {"refined": (31, 119, 180), "refined_keep_visible": (44, 160, 44),
            "mean_shape_fill": (255, 127, 14), "raw": (214, 39, 40)}
_LABELS = {"refined": "refined f(K)", "refined_keep_visible": "refined, visible kept",
           "mean_shape_fill": "aligned mean shape fill", "raw": "raw dlib (masked)"}


def _font(size: int):
  try:
    return ImageFont.load_default(size=size)
  except TypeError:  # Pillow < 10.1 has one bitmap size
    return ImageFont.load_default()


def _draw_panel(draw: ImageDraw.ImageDraw, origin: tuple[int, int], size: tuple[int, int], *, title: str,
                thresholds, curves: dict[str, list[float]], areas: dict[str, float],
                mean_rle: dict[str, float]) -> None:
  """One cumulative-RLE plot: axes with ticks, one polyline per method, a legend with the
  curve areas and mean RLEs (the area stops at the last threshold; the mean counts every error)."""
  font, small = _font(15), _font(12)
  x0, y0 = origin
  width, height = size
  left, right, top, bottom = x0 + 55, x0 + width - 30, y0 + 50, y0 + height - 45
  draw.text((x0 + width // 2, y0 + 8), title, fill="black", font=font, anchor="mt")
  draw.rectangle([left, top, right, bottom], outline="black")
  thresholds = np.asarray(thresholds, np.float64)
  t_min, t_max = thresholds[0], thresholds[-1]
  to_x = lambda t: left + (t - t_min) / max(t_max - t_min, 1e-12) * (right - left)  # noqa: E731
  to_y = lambda p: bottom - p / 100.0 * (bottom - top)  # noqa: E731
  for percent in range(0, 101, 20):
    y = to_y(percent)
    draw.line([left - 4, y, left, y], fill="black")
    draw.line([left + 1, y, right - 1, y], fill=(225, 225, 225))
    draw.text((left - 7, y), f"{percent}", fill="black", font=small, anchor="rm")
  for tick in np.linspace(t_min, t_max, 5):
    x = to_x(tick)
    draw.line([x, bottom, x, bottom + 4], fill="black")
    draw.text((x, bottom + 7), f"{100 * tick:g}%", fill="black", font=small, anchor="mt")
  draw.text(((left + right) // 2, bottom + 24), "RLE threshold (fraction of inter-ocular distance)",
            fill="black", font=small, anchor="mt")
  draw.text((x0 + 8, top - 20), "% of keypoints with RLE <= threshold", fill="black", font=small)
  for index, (method, curve) in enumerate(curves.items()):
    colour = _COLOURS.get(method, (0, 0, 0))
    draw.line([(to_x(t), to_y(p)) for t, p in zip(thresholds, curve)], fill=colour, width=3)
    legend_y = bottom - 18 - 18 * (len(curves) - 1 - index)
    draw.line([right - 320, legend_y, right - 295, legend_y], fill=colour, width=3)
    draw.text((right - 290, legend_y), f"{_LABELS.get(method, method)} (area {areas[method]:.3f}, "
              f"mean {mean_rle[method]:.3f})", fill="black", font=small, anchor="lm")


def write_curves(result: dict[str, Any], output_dir: str) -> list[str]:
  """Writes landmark_curves.json and landmark_curves.png (one panel per measurement).

  result: `landmark_curves(...)`, or a single `refiner_curve` / `astronaut_experiment` result.
  Returns the written paths. Files are replaced atomically.
  """
  if "curves" in result:  # a single measurement
    result = {"astronaut" if "mask_side" in result else "held_out": result}
  panels = []
  if "held_out" in result:
    held = result["held_out"]
    panels.append((f"Held-out shapes, {100 * (1 - held['keep_probability']):.0f}% of points hidden",
                   held))
  if "astronaut" in result:
    astro = result["astronaut"]
    panels.append((f"{astro['image']}: {astro['mask_side']} half of the face masked", astro))
  if not panels:
    raise InputError("result: expected landmark_curves(), refiner_curve() or astronaut_experiment() output")
  os.makedirs(output_dir, exist_ok=True)
  panel_size = (560, 420)
  canvas = Image.new("RGB", (panel_size[0] * len(panels), panel_size[1]), "white")
  draw = ImageDraw.Draw(canvas)
  for index, (title, part) in enumerate(panels):
    _draw_panel(draw, (index * panel_size[0], 0), panel_size, title=title, thresholds=part["thresholds"],
                curves=part["curves"], areas=part["curve_area"], mean_rle=part["mean_rle"])
  json_path, png_path = os.path.join(output_dir, CURVES_JSON), os.path.join(output_dir, CURVES_PNG)
  files.write_json(json_path, result, indent=1, sort_keys=True)
  with files.atomic_path(png_path, suffix=".png") as tmp:
    canvas.save(tmp, format="PNG")
  return [json_path, png_path]
