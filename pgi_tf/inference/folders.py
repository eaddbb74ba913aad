"""Folder in, folder out: what binaries/inpaint.py does, as a library.

Conventions (as in LaMa and DeepFill):
  * masks are PNG files, white (>= 128 of 255) = hole, black = known; a mask is matched to
    its image by relative path without extension (`cat.jpg` <-> `cat.png`), or one mask
    file serves every image;
  * an image of another size than the model's is resized (area) to the model's square
    resolution, inpainted there, the generated pixels upsampled (bicubic) back, and
    Eq. 8 applied at full resolution with the full-resolution mask, so every known pixel
    of the output equals the input exactly;
  * outputs: <output_dir>/<relative path>.png (the inpainted image), and grid.png (one row
    per image: masked input | inpainted | G(ẑ) ), and results.json.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time

import numpy as np
import tensorflow as tf
from PIL import Image

from pgi_tf import files
from pgi_tf import visualize
from pgi_tf.data import images as images_lib
from pgi_tf.data import masks as masks_lib
from pgi_tf.errors import InputError
from pgi_tf.inference import backends
from pgi_tf.inference import domain
from pgi_tf.inference import inpainting
from pgi_tf.inference import loading
from pgi_tf.inference import resampling


# --------------------------------------------------------------------------- inputs

def list_inputs(path: str) -> tuple[str, list[str]]:
  """(root, relative image paths) for a folder or a single image file."""
  if os.path.isfile(path):
    return os.path.dirname(os.path.abspath(path)), [os.path.basename(path)]
  if not os.path.isdir(path):
    raise InputError(f"--input={path}: no such file or directory")
  files = images_lib.list_image_files(path)
  return path, [os.path.relpath(f, path) for f in files]


def match_masks(mask_path: str, relative_images: list[str]) -> list[str]:
  """One mask file per image (same relative path, .png), or a single mask for all."""
  if os.path.isfile(mask_path):
    return [mask_path] * len(relative_images)
  if not os.path.isdir(mask_path):
    raise InputError(f"--masks={mask_path}: no such file or directory")
  matched = []
  for rel in relative_images:
    candidate = os.path.join(mask_path, os.path.splitext(rel)[0] + ".png")
    if not os.path.isfile(candidate):
      raise InputError(f"--masks={mask_path}: no mask {os.path.splitext(rel)[0]}.png for image {rel}")
    matched.append(candidate)
  return matched


def _resize(array: np.ndarray, size: int) -> np.ndarray:
  """[H, W, C] -> [size, size, C], area averaging (the exported inpainter's own resize)."""
  return resampling.resize_area(array[None], size)[0].numpy()


def _mask_for(index: int, rel: str, height: int, width: int, *, mask_files: list[str] | None,
              mask_spec: masks_lib.MaskSpec | None, seed: int) -> np.ndarray:
  """The full-resolution mask of image `index`, checked. Generated masks use their own stream per
  image (seed, index), so a resumed run draws the same hole for every image it has not done yet."""
  if mask_files is not None:
    mask = masks_lib.load_mask_png(mask_files[index], height=height, width=width)
    name = mask_files[index]
  else:
    rng = np.random.default_rng([seed, index])
    mask = masks_lib.sample_masks(mask_spec, count=1, height=height, width=width, rng=rng)[0]
    name = f"generated mask for {rel}"
  masks_lib.validate_mask(mask, name=name)
  return mask


def model_inputs(image: np.ndarray, mask: np.ndarray, resolution: int) -> tuple[np.ndarray, np.ndarray]:
  """A full-resolution image ([-1, 1]) and mask (1 = hole) at the model's square resolution: area
  resize, and any hole under a model pixel makes it a hole (resampling.py)."""
  if image.shape[:2] == (resolution, resolution):
    return image, mask
  return _resize(image, resolution), resampling.hole_at_model_size(mask[None], resolution)[0].numpy()


def full_resolution_result(*, original: np.ndarray, image: np.ndarray, mask: np.ndarray,
                           fill: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  """Eq. 8 at the image's own size: G(ẑ) (`fill`, model resolution) upsampled (bicubic), composited
  with the full-resolution mask, known pixels copied from the original bytes so no rounding can
  touch them. Returns (uint8 result, float result). The one copy the CLI and the demo page use."""
  if fill.shape[:2] != image.shape[:2]:
    fill = resampling.resize_bicubic(fill[None], *image.shape[:2])[0].numpy()
  result = np.asarray(inpainting.compose(images=image[None], masks=mask[None], generated_images=fill[None]))[0]
  result_u8 = visualize.to_uint8(result)
  known = mask[..., 0] < 0.5
  result_u8[known] = original[known]
  return result_u8, result


def _write_candidate_row(output_dir: str, rel: str, alternatives: np.ndarray) -> str:
  """candidates/<name>.png: the alternatives side by side, best first."""
  out_path = os.path.join(output_dir, "candidates", os.path.splitext(rel)[0] + ".png")
  visualize.save_png(out_path, visualize.to_uint8(np.concatenate(list(alternatives), axis=1)))
  return out_path


# --------------------------------------------------------------------------- run

GRID_ROWS = 32  # images shown in grid.png / candidates.png: the first ones, so the grid stays small
RESULTS_FILENAME = "results.json"


def read_image(path: str, *, channels: int, grayscale: bool) -> np.ndarray:
  """uint8 [H, W, C] as the model takes it; with grayscale, colour files become grey (PIL "L")."""
  pixels = images_lib.load_image(path, channels=None if grayscale else channels)
  if grayscale and pixels.shape[-1] == 3:
    pixels = np.asarray(Image.fromarray(pixels).convert("L"))[..., None]
  return pixels


def _settings(*, models: loading.Models, input_path: str, mask_path: str, mask_spec, mode: str, iterations,
              refine_steps: int, poisson_blend: bool, seed: int, label: str, num_candidates: int,
              grayscale: bool, backend: str) -> dict:
  """What decides every output image: a run is resumed only when these are the same."""
  return {"input": os.path.abspath(input_path), "masks": os.path.abspath(mask_path) if mask_path else "",
          "mask_spec": None if mask_spec is None else repr(mask_spec), "mode": mode, "iterations": iterations,
          "refine_steps": refine_steps, "poisson_blend": poisson_blend, "seed": seed, "label": label,
          "num_candidates": num_candidates, "grayscale": grayscale, "backend": backend, "models": models.record()}


def _previous_run(output_dir: str) -> dict:
  path = os.path.join(output_dir, RESULTS_FILENAME)
  try:
    with open(path) as f:
      previous = json.load(f)
  except (OSError, ValueError):
    return {}
  return previous if isinstance(previous, dict) else {}


def _check_not_over_inputs(output_dir: str, planned: list[str], inputs: list[str]) -> None:
  """No output file may be an input or mask file (through any path or symlink)."""
  real_inputs = {os.path.realpath(p) for p in inputs}
  for path in planned:
    if os.path.realpath(path) in real_inputs:
      raise InputError(f"--output_dir={output_dir}: would overwrite the input {path}; choose another folder")


def inpaint_files(*, models: loading.Models, input_path: str, output_dir: str, mask_path: str = "",
                  mask_spec: masks_lib.MaskSpec | None = None, mode: str = "single",
                  iterations: int | None = None, refine_steps: int = 100, poisson_blend: bool = False,
                  batch_size: int = 16, seed: int = 0, grid_upscale: int = 4, label: str = "auto",
                  num_candidates: int = 1, grayscale: bool = False, backend: str = "tf") -> dict:
  """Inpaints every image under input_path; writes results, grid.png and results.json.

  grayscale: a 1-channel model also takes colour images, converted to grey first (PIL's "L",
  ITU-R 601 luma); the outputs are then grey, and their known pixels equal the converted input.

  Streams: images are read, inpainted and written one batch at a time, so memory does not grow
  with the folder. results.json is written first with "status": "running" and completed at the
  end ("complete"); a rerun of the same command over a "running" folder (a killed run) skips the
  images whose output is already there (outputs are written atomically, so one that exists is
  whole) and removes the killed run's temporary files.
  num_candidates > 1 (single mode, a P with K >= num_candidates candidate heads): also the best
  num_candidates alternatives per image, best first by Eq. 4, as candidates/<name>.png (one row,
  model resolution) and candidates.png (masked | alternatives per row): pluralistic completion.
  label: class-conditional BigGAN models: "auto" (the class predictor's class of each masked
  image) or a class index for every image.
  backend: what runs the one pass (`backends.py`: auto, tf, xla, tflite); the search modes run on tf."""
  if mode not in inpainting.MODES:
    raise InputError(f"--mode={mode}: choose one of {', '.join(inpainting.MODES)}")
  if mode in ("single", "hybrid") and models.prior_predictor is None:
    raise InputError(f"--mode={mode}: needs a prior predictor (--prior_predictor or --model_dir)")
  if batch_size < 1:
    raise InputError(f"--batch_size={batch_size}: must be >= 1")
  fixed_label = loading.parse_label(label, models)
  if num_candidates > 1:
    heads = int(((models.prior_predictor.metadata or {}) if models.prior_predictor is not None else {}).get(
        "num_candidates", 1))
    if mode != "single" or heads < num_candidates:
      raise InputError(f"--num_candidates={num_candidates}: needs --mode=single and a P with at least that many "
                       f"candidate heads (this P has {heads}; configs/fashion_mnist32_prior_candidates.py trains one)")
  backend = backends.choose(backend, models=models, mode=mode, batch_size=batch_size, num_candidates=num_candidates)
  if not mask_path and mask_spec is None:
    raise InputError("--masks: give a mask file or folder, or --mask_kind to generate masks")
  root, relative = list_inputs(input_path)
  first_with_stem: dict[str, str] = {}
  for rel in relative:  # cat.jpg and cat.png would both be written to cat.png (and share cat.png's mask)
    stem = os.path.splitext(rel)[0]
    if stem in first_with_stem:
      raise InputError(f"--input={input_path}: {first_with_stem[stem]} and {rel} would both be "
                       f"written to {stem}.png; rename one of them")
    first_with_stem[stem] = rel
  mask_files = match_masks(mask_path, relative) if mask_path else None
  if grayscale and models.channels != 1:
    raise InputError(f"--grayscale: the model has {models.channels} channels; it converts colour inputs for "
                     "grey (1-channel) models only")
  channels = None if grayscale else models.channels  # any file: converted at read time
  # Pre-flight every file so a bad image or mask ends the run before any output: image headers
  # (cheap), and each mask loaded, checked against its image's size and dropped (memory stays flat).
  sizes = images_lib.check_image_files([os.path.join(root, rel) for rel in relative], channels=channels)
  for index, (rel, (height, width)) in enumerate(zip(relative, sizes)):
    _mask_for(index, rel, height, width, mask_files=mask_files, mask_spec=mask_spec, seed=seed)
  planned = [os.path.join(output_dir, os.path.splitext(rel)[0] + ".png") for rel in relative]
  _check_not_over_inputs(output_dir, planned + [os.path.join(output_dir, n) for n in ("grid.png", RESULTS_FILENAME)],
                         [os.path.join(root, rel) for rel in relative] + list(mask_files or []))

  settings = _settings(models=models, input_path=input_path, mask_path=mask_path, mask_spec=mask_spec, mode=mode,
                       iterations=iterations, refine_steps=refine_steps, poisson_blend=poisson_blend, seed=seed,
                       label=label, num_candidates=num_candidates, grayscale=grayscale, backend=backend)
  previous = _previous_run(output_dir)
  resuming = previous.get("status") == "running" and previous.get("settings") == settings
  os.makedirs(output_dir, exist_ok=True)
  files.remove_temporaries(output_dir, recursive=True)  # a killed run's half-written files
  results_path = os.path.join(output_dir, RESULTS_FILENAME)
  files.write_json(results_path, {"status": "running", "settings": settings, "images": len(relative)})

  resolution = models.resolution
  inpainter = loading.make_inpainter(models)
  one_pass = None if backend == "tf" else backends.one_pass(backend, models)
  # Out-of-domain warning (domain.py): one pass's known-pixel error against P's val threshold.
  domain_check = domain.load(models.prior_predictor.handle) if models.prior_predictor is not None else None
  out_of_domain: dict[str, float] = {}
  written, labels_used, skipped = [], {}, 0
  grid_rows, candidate_tiles = [], []
  bar = files.progress_bar(total=len(relative), initial=0, description=f"inpaint ({mode})", unit="image")
  seconds = 0.0
  for first in range(0, len(relative), batch_size):
    indices = range(first, min(first + batch_size, len(relative)))
    todo = [i for i in indices if not (resuming and os.path.isfile(planned[i]))]
    skipped += len(indices) - len(todo)
    written.extend(planned[i] for i in indices if i not in todo)
    if not todo:
      bar.update(len(indices))
      continue
    originals = [read_image(os.path.join(root, relative[i]), channels=models.channels, grayscale=grayscale)
                 for i in todo]
    full_masks = [_mask_for(i, relative[i], *o.shape[:2], mask_files=mask_files, mask_spec=mask_spec, seed=seed)
                  for i, o in zip(todo, originals)]
    full_images = [images_lib.to_model_range(o).astype(np.float32) for o in originals]
    model_images, model_masks = (np.stack(a) for a in zip(*(model_inputs(img, m, resolution)
                                                             for img, m in zip(full_images, full_masks))))
    chunk_labels = None if fixed_label is None else np.full([len(todo)], fixed_label, np.int32)
    start = time.perf_counter()
    if one_pass is not None:
      out = {"generated": one_pass.run(model_images, model_masks)}
    else:
      out = inpainter.inpaint(model_images, model_masks, mode=mode, iterations=iterations,
                              refine_steps=refine_steps, seed=seed + first, labels=chunk_labels,
                              progress=lambda done, steps, loss: bar.set_postfix_str(
                                  f"search step {done}/{steps}, loss {loss:.4g}", refresh=sys.stderr.isatty()))
    generated = np.asarray(out["generated"])
    seconds += time.perf_counter() - start
    if domain_check is not None and mode != "iterative":
      scores = domain.known_pixel_error(model_images, model_masks, generated)
      for row in np.flatnonzero(domain_check.flag(scores)):
        out_of_domain[relative[todo[row]]] = round(float(scores[row]), 4)
        files.warn(f"{os.path.join(root, relative[todo[row]])}: {domain_check.warning(scores[row])}")
    if poisson_blend:
      generated = np.asarray(inpainting.poisson_blend(images=model_images, generated_images=generated,
                                                      masks=model_masks))
    if "labels" in out:
      labels_used.update({relative[i]: int(v) for i, v in zip(todo, np.asarray(out["labels"]))})
    for row, i in enumerate(todo):
      result_u8, result = full_resolution_result(original=originals[row], image=full_images[row],
                                                 mask=full_masks[row], fill=generated[row])
      path = os.path.join(output_dir, os.path.splitext(relative[i])[0] + ".png")
      visualize.save_png(path, result_u8)
      written.append(path)
      if len(grid_rows) < GRID_ROWS:
        masked_view = np.where(full_masks[row] > 0.5, 1.0, full_images[row])  # holes shown white
        grid_rows.append([t if t.shape[:2] == generated[row].shape[:2] else _resize(t, resolution)
                          for t in (masked_view, result)] + [generated[row]])
    if num_candidates > 1:
      alternatives = out["candidates"].numpy()[:, :num_candidates]
      for row, i in enumerate(todo):
        _write_candidate_row(output_dir, relative[i], alternatives[row])
        if len(candidate_tiles) < GRID_ROWS * (1 + num_candidates):
          candidate_tiles += [np.where(model_masks[row] > 0.5, 1.0, model_images[row]), *alternatives[row]]
    bar.update(len(indices))
  bar.close()

  grid_path = os.path.join(output_dir, "grid.png")
  if grid_rows:
    visualize.save_grid(grid_path, np.stack([t for row in grid_rows for t in row]), columns=3, upscale=grid_upscale)
  done = len(relative) - skipped
  summary = {"status": "complete", "settings": settings, "mode": mode, "images": len(relative),
             "resumed_skipped": skipped, "seconds": round(seconds, 4),
             "ms_per_image": round(1000 * seconds / max(done, 1), 3), "resolution": resolution,
             "outputs": sorted(written), "grid": grid_path, "grid_images": len(grid_rows),
             "poisson_blend": poisson_blend, "backend": backend, "peak_memory_mb": peak_memory_mb(), **models.record(),
             "domain_check": (dict(domain_check.record(), out_of_domain=out_of_domain, checked=mode != "iterative")
                              if domain_check is not None else None)}
  if num_candidates > 1:
    summary["num_candidates"] = num_candidates
    summary["candidates"] = [os.path.join(output_dir, "candidates", os.path.splitext(rel)[0] + ".png")
                             for rel in relative]
    summary["candidates_grid"] = os.path.join(output_dir, "candidates.png")
    if candidate_tiles:
      visualize.save_grid(summary["candidates_grid"], np.stack(candidate_tiles), columns=1 + num_candidates,
                          upscale=grid_upscale)
  if models.class_conditional:
    summary["label_source"] = "given" if fixed_label is not None else "predicted"
    summary["labels"] = labels_used
  files.write_json(results_path, summary)
  return summary


def peak_memory_mb() -> float:
  """This process's peak resident memory so far (ru_maxrss: KiB on Linux)."""
  return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)
