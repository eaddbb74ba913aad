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

import os
import time

import numpy as np
import tensorflow as tf

from pgi_tf import files
from pgi_tf import visualize
from pgi_tf.data import images as images_lib
from pgi_tf.data import masks as masks_lib
from pgi_tf.errors import InputError
from pgi_tf.inference import inpainting
from pgi_tf.inference import loading


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


def _resize(array: np.ndarray, size: int, method: str) -> np.ndarray:
  return tf.image.resize(array[None], [size, size], method=method, antialias=(method == "area"))[0].numpy()


def _load_inputs(root: str, relative: list[str], *, channels: int, mask_path: str,
                 mask_spec: masks_lib.MaskSpec | None, seed: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
  """(original images as read, full-resolution masks), every one checked."""
  originals = [images_lib.load_image(os.path.join(root, rel), channels=channels) for rel in relative]
  if mask_path:
    mask_files = match_masks(mask_path, relative)
    full_masks = [masks_lib.load_mask_png(m, height=o.shape[0], width=o.shape[1])
                  for m, o in zip(mask_files, originals)]
    names = mask_files
  elif mask_spec is not None:
    rng = np.random.default_rng(seed)
    full_masks = [masks_lib.sample_masks(mask_spec, count=1, height=o.shape[0], width=o.shape[1], rng=rng)[0]
                  for o in originals]
    names = [f"generated mask for {rel}" for rel in relative]
  else:
    raise InputError("--masks: give a mask file or folder, or --mask_kind to generate masks")
  for mask, name in zip(full_masks, names):
    masks_lib.validate_mask(mask, name=name)
  return originals, full_masks


def _write_outputs(output_dir: str, *, relative, originals, full_images, full_masks, generated, resolution: int,
                   grid_upscale: int) -> tuple[list[str], str]:
  """Eq. 8 at full resolution per image (known pixels copied from the original bytes) and the
  grid (masked | inpainted | G(z) per row); returns (written image paths, grid path)."""
  os.makedirs(output_dir, exist_ok=True)
  rows, written = [], []
  for index, rel in enumerate(relative):
    image, mask = full_images[index], full_masks[index]
    fill = generated[index]
    if fill.shape[:2] != image.shape[:2]:
      fill = tf.image.resize(fill[None], image.shape[:2], method="bicubic")[0].numpy()
    result = np.asarray(inpainting.compose(images=image[None], masks=mask[None], generated_images=fill[None]))[0]
    result_u8 = visualize.to_uint8(result)
    # Eq. 8 keeps known pixels; also copy them from the original bytes so no rounding can touch them.
    known = mask[..., 0] < 0.5
    result_u8[known] = originals[index][known]
    out_path = os.path.join(output_dir, os.path.splitext(rel)[0] + ".png")
    visualize.save_png(out_path, result_u8)
    written.append(out_path)
    masked_view = np.where(mask > 0.5, 1.0, image)  # holes shown white
    rows.append([masked_view, result, generated[index]])
  # Grid at model resolution when sizes differ, so rows line up.
  tiles = []
  for masked_view, result, gen in rows:
    for tile in (masked_view, result):
      tiles.append(tile if tile.shape[:2] == gen.shape[:2] else _resize(tile, resolution, "area"))
    tiles.append(gen)
  grid_path = os.path.join(output_dir, "grid.png")
  visualize.save_grid(grid_path, np.stack(tiles), columns=3, upscale=grid_upscale)
  return written, grid_path


def _write_candidates(output_dir: str, *, relative, model_images, model_masks, alternatives,
                      grid_upscale: int) -> tuple[list[str], str]:
  """candidates/<name>.png (the alternatives side by side) and candidates.png (masked | alternatives)."""
  written, tiles = [], []
  for index, rel in enumerate(relative):
    out_path = os.path.join(output_dir, "candidates", os.path.splitext(rel)[0] + ".png")
    visualize.save_png(out_path, visualize.to_uint8(np.concatenate(list(alternatives[index]), axis=1)))
    written.append(out_path)
    tiles.append(np.where(model_masks[index] > 0.5, 1.0, model_images[index]))
    tiles.extend(alternatives[index])
  grid_path = os.path.join(output_dir, "candidates.png")
  visualize.save_grid(grid_path, np.stack(tiles), columns=1 + alternatives.shape[1], upscale=grid_upscale)
  return written, grid_path


# --------------------------------------------------------------------------- run

def inpaint_files(*, models: loading.Models, input_path: str, output_dir: str, mask_path: str = "",
                  mask_spec: masks_lib.MaskSpec | None = None, mode: str = "single",
                  iterations: int | None = None, refine_steps: int = 100, poisson_blend: bool = False,
                  batch_size: int = 16, seed: int = 0, grid_upscale: int = 4, label: str = "auto",
                  num_candidates: int = 1) -> dict:
  """Inpaints every image under input_path; writes results, grid.png and results.json.

  num_candidates > 1 (single mode, a P with K >= num_candidates candidate heads): also the best
  num_candidates alternatives per image, best first by Eq. 4, as candidates/<name>.png (one row,
  model resolution) and candidates.png (masked | alternatives per row): pluralistic completion.
  label: class-conditional BigGAN models: "auto" (the class predictor's class of each masked
  image) or a class index for every image."""
  if mode not in inpainting.MODES:
    raise InputError(f"--mode={mode}: choose one of {', '.join(inpainting.MODES)}")
  if mode in ("single", "hybrid") and models.prior_predictor is None:
    raise InputError(f"--mode={mode}: needs a prior predictor (--prior_predictor or --model_dir)")
  fixed_label = loading.parse_label(label, models)
  if num_candidates > 1:
    heads = int(((models.prior_predictor.metadata or {}) if models.prior_predictor is not None else {}).get(
        "num_candidates", 1))
    if mode != "single" or heads < num_candidates:
      raise InputError(f"--num_candidates={num_candidates}: needs --mode=single and a P with at least that many "
                       f"candidate heads (this P has {heads}; configs/fashion_mnist32_prior_candidates.py trains one)")
  root, relative = list_inputs(input_path)
  first_with_stem: dict[str, str] = {}
  for rel in relative:  # cat.jpg and cat.png would both be written to cat.png (and share cat.png's mask)
    stem = os.path.splitext(rel)[0]
    if stem in first_with_stem:
      raise InputError(f"--input={input_path}: {first_with_stem[stem]} and {rel} would both be "
                       f"written to {stem}.png; rename one of them")
    first_with_stem[stem] = rel
  resolution = models.resolution
  # Load and check everything before any output is written.
  originals, full_masks = _load_inputs(root, relative, channels=models.channels, mask_path=mask_path,
                                       mask_spec=mask_spec, seed=seed)
  inpainter = loading.make_inpainter(models)
  full_images = [images_lib.to_model_range(o).astype(np.float32) for o in originals]
  model_images = np.stack([img if img.shape[:2] == (resolution, resolution) else _resize(img, resolution, "area")
                           for img in full_images])
  model_masks = np.stack([m if m.shape[:2] == (resolution, resolution) else
                          (_resize(m, resolution, "area") > 0.0).astype(np.float32)  # any hole -> hole
                          for m in full_masks])
  generated = np.zeros_like(model_images)
  alternatives = np.zeros((len(model_images), num_candidates, *model_images.shape[1:]), np.float32)
  labels_used: list[int] = []
  bar = files.progress_bar(total=len(relative), initial=0, description=f"inpaint ({mode})")
  start = time.perf_counter()
  for first in range(0, len(relative), batch_size):
    chunk = slice(first, first + batch_size)
    chunk_labels = None if fixed_label is None else np.full([len(model_images[chunk])], fixed_label, np.int32)
    out = inpainter.inpaint(model_images[chunk], model_masks[chunk], mode=mode, iterations=iterations,
                            refine_steps=refine_steps, seed=seed + first, labels=chunk_labels)
    generated[chunk] = out["generated"].numpy()
    if num_candidates > 1:
      alternatives[chunk] = out["candidates"].numpy()[:, :num_candidates]
    if "labels" in out:
      labels_used.extend(int(v) for v in np.asarray(out["labels"]))
    bar.update(len(model_images[chunk]))
  bar.close()
  seconds = time.perf_counter() - start
  if poisson_blend:
    generated = inpainting.poisson_blend(images=model_images, generated_images=generated, masks=model_masks)

  written, grid_path = _write_outputs(output_dir, relative=relative, originals=originals, full_images=full_images,
                                      full_masks=full_masks, generated=generated, resolution=resolution,
                                      grid_upscale=grid_upscale)
  if num_candidates > 1:
    summary_candidates = _write_candidates(output_dir, relative=relative, model_images=model_images,
                                           model_masks=model_masks, alternatives=alternatives,
                                           grid_upscale=grid_upscale)
  summary = {"mode": mode, "images": len(relative), "seconds": round(seconds, 4),
             "ms_per_image": round(1000 * seconds / max(len(relative), 1), 3),
             "resolution": resolution, "outputs": written, "grid": grid_path,
             "poisson_blend": poisson_blend, **models.record()}
  if num_candidates > 1:
    summary["num_candidates"] = num_candidates
    summary["candidates"], summary["candidates_grid"] = summary_candidates
  if models.class_conditional:
    summary["label_source"] = "given" if fixed_label is not None else "predicted"
    summary["labels"] = dict(zip(relative, labels_used))
  files.write_json(os.path.join(output_dir, "results.json"), summary)
  return summary
