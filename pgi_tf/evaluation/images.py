"""Table 1 style evaluation: PSNR, SSIM, L1 and a Fréchet distance per method and hole ratio.

Every method sees the same held-out images and the same seeded masks. Methods:
  single, iterative, hybrid   pgi_tf.inference.inpainting (Eq. 8 / Eq. 2 / both), same frozen G
  <learned>+poisson           the same G(z), Poisson-blended into the hole before Eq. 8
                              (`inpainting.poisson_blend`); "iterative+poisson" is Yeh et al.'s
                              full method as they ran it (their search ends with Poisson blending)
  telea, navier_stokes        OpenCV's classical inpainting (cv2.inpaint), radius 3
  regression                  the other school's peer (issue 13): a U-Net trained on the hole with
                              L1 + an adversarial term (`pgi_tf.hub.load_regression_inpainter`),
                              its output pasted with Eq. 8; given to `evaluate` as a peer

A blended variant reuses its method's z (the search runs once), so "iterative" and
"iterative+poisson" differ only by the blending: the like-for-like pair beside the paper's
comparison (Yeh et al. blended vs one pass by Eq. 8, unblended: the point of Eq. 3).

PSNR / SSIM / L1 are over the whole image (known pixels are identical for every method, so
differences come from the hole; absolute values depend on the hole ratio). The Fréchet
distance compares features of the inpainted set with features of the same images
uncorrupted, and is labelled with the extractor that produced it: a number from a
Fashion-MNIST classifier is not an Inception FID and must not be compared with one.
"""

from __future__ import annotations

import time
from typing import Sequence

import numpy as np

from pgi_tf.inference import inpainting
from pgi_tf import visualize
from pgi_tf.data import masks as masks_lib
from pgi_tf.errors import InputError
from pgi_tf.metrics import frechet
from pgi_tf.metrics import image_quality
from pgi_tf.metrics import extractors

LEARNED_METHODS = ("single", "iterative", "hybrid")
CLASSICAL_METHODS = ("telea", "navier_stokes")
BLEND_SUFFIX = "+poisson"
BLENDED_METHODS = tuple(m + BLEND_SUFFIX for m in LEARNED_METHODS)
# Peers that need a network of their own, passed to `evaluate(peers={name: fn})`; fn(I_d, M) -> images.
PEER_METHODS = ("regression",)
METHODS = LEARNED_METHODS + BLENDED_METHODS + CLASSICAL_METHODS + PEER_METHODS
# What `binaries/evaluate.py` compares by default: Table 1's methods, Yeh et al. both as they ran
# it (blended) and like-for-like (unblended).
DEFAULT_METHODS = ("single", "iterative+poisson", "iterative", "hybrid", "telea", "navier_stokes")


def base_method(method: str) -> str:
  """"iterative+poisson" -> "iterative"; other names unchanged."""
  return method[:-len(BLEND_SUFFIX)] if method.endswith(BLEND_SUFFIX) else method


def is_learned(method: str) -> bool:
  return base_method(method) in LEARNED_METHODS


def classical_inpaint(*, images: np.ndarray, masks: np.ndarray, method: str, radius: int = 3) -> np.ndarray:
  """cv2.inpaint (Telea 2004 or Navier-Stokes, Bertalmio 2001) on [-1, 1] images, Eq. 8 applied."""
  import cv2  # lazy: OpenCV is needed only for the classical peers

  flag = {"telea": cv2.INPAINT_TELEA, "navier_stokes": cv2.INPAINT_NS}[method]
  outputs = np.empty_like(images)
  for i in range(len(images)):
    image_u8 = visualize.to_uint8(images[i] * (1.0 - masks[i]))
    mask_u8 = (masks[i, ..., 0] > 0.5).astype(np.uint8) * 255
    filled = cv2.inpaint(image_u8, mask_u8, radius, flag)
    filled = filled.reshape(images.shape[1:]).astype(np.float32) / 127.5 - 1.0
    outputs[i] = filled
  return np.asarray(inpainting.compose(images=images, masks=masks, generated_images=outputs))


def evaluation_masks(*, count: int, resolution: int, hole_ratio: float | str, seed: int,
                     mask_kind: str = "ratio") -> np.ndarray:
  """The seeded evaluation masks.

  Table 1: hole_ratio a float, holes of that fraction of the image at random places.
  Table 2: hole_ratio "96x96" / "128x128" (a column label `hole_column(size)`), square holes
  of that side, at random places (mask_kind "square", CelebA-HQ) or in the centre
  (mask_kind "central", ImageNet).
  """
  if isinstance(hole_ratio, str):
    side = int(hole_ratio.split("x")[0])
    if side > resolution:
      raise InputError(f"--hole_sizes={side}: larger than the {resolution}-px images")
    spec = masks_lib.MaskSpec(kind="central" if mask_kind == "central" else "square", size=side)
  else:
    spec = masks_lib.MaskSpec(kind="ratio", hole_ratio=hole_ratio)
  return masks_lib.sample_masks(spec, count=count, height=resolution, width=resolution,
                                rng=np.random.default_rng(seed))


def hole_column(size: int) -> str:
  """Table 2's column label for square holes of `size` px."""
  return f"{int(size)}x{int(size)}"


def run_method(*, method: str, inpainter: inpainting.Inpainter | None, images: np.ndarray, masks: np.ndarray,
               batch_size: int, iterations: int | None, refine_steps: int, seed: int,
               progress=None, labels: np.ndarray | None = None,
               peers=None) -> tuple[np.ndarray, np.ndarray | None, float]:
  """(inpainted images, G(z) for learned methods (None for classical ones), seconds) for one
  method over all images, in batches.

  labels: class-conditional G: the class of each image (None: the inpainter's class predictor).
  peers: {name: fn(masked_images, masks) -> images} for PEER_METHODS."""
  start = time.perf_counter()
  if method in CLASSICAL_METHODS:
    outputs = classical_inpaint(images=images, masks=masks, method=method)
    if progress is not None:
      progress.update(len(images))
    return outputs, None, time.perf_counter() - start
  if method in PEER_METHODS:
    outputs = np.empty_like(images)
    for first in range(0, len(images), batch_size):
      chunk = slice(first, first + batch_size)
      filled = np.asarray(peers[method]((1.0 - masks[chunk]) * images[chunk], masks[chunk]))
      outputs[chunk] = np.asarray(inpainting.compose(images=images[chunk], masks=masks[chunk],
                                                     generated_images=filled))
      if progress is not None:
        progress.update(len(images[chunk]))
    return outputs, None, time.perf_counter() - start
  outputs, generated = np.empty_like(images), np.empty_like(images)
  for first in range(0, len(images), batch_size):
    chunk = slice(first, first + batch_size)
    result = inpainter.inpaint(images[chunk], masks[chunk], mode=method, iterations=iterations,
                               refine_steps=refine_steps, seed=seed + first,
                               labels=None if labels is None else labels[chunk])
    outputs[chunk] = result["inpainted"].numpy()
    generated[chunk] = result["generated"].numpy()
    if progress is not None:
      progress.update(len(images[chunk]))
  return outputs, generated, time.perf_counter() - start


def _features(extractor, images: np.ndarray) -> np.ndarray:
  return extractors.compute_features(extractor, images, batch_size=256)


def _row(method: str, *, ratio, images, masks, outputs, seconds: float, extractor, reference_features,
         inpainter, iterations: int | None, refine_steps: int) -> dict:
  """One table row: PSNR, SSIM, L1 (and the Fréchet distance) of `outputs` against `images`."""
  known = masks < 0.5
  assert np.array_equal(np.broadcast_to(known, outputs.shape) * outputs,
                        np.broadcast_to(known, images.shape) * images), f"{method}: Eq. 8 violated"
  row = {"hole_ratio": ratio, "method": method, "num_images": len(images),
         "psnr_db": float(np.mean(image_quality.psnr(images=outputs, references=images))),
         "ssim": float(np.mean(image_quality.ssim(images=outputs, references=images))),
         "l1": float(np.mean(image_quality.l1(images=outputs, references=images))),
         "ms_per_image": 1000.0 * seconds / len(images), "poisson_blend": method.endswith(BLEND_SUFFIX)}
  if extractor is not None:
    row["frechet_distance"] = frechet.frechet_distance_from_features(_features(extractor, outputs),
                                                                     reference_features)
    row["fd_extractor"] = extractor.name
  if base_method(method) == "iterative":
    row["iterations"] = iterations if iterations is not None else inpainter.iterations_for(images.shape[1])
  if base_method(method) == "hybrid":
    row["refine_steps"] = refine_steps
  return row


def evaluate(*, inpainter: inpainting.Inpainter | None, images: np.ndarray, hole_ratios: Sequence[float],
             methods: Sequence[str], extractor, batch_size: int = 64, iterations: int | None = None,
             refine_steps: int = 100, seed: int = 0, progress=None, labels: np.ndarray | None = None,
             mask_kind: str = "ratio", peers=None) -> tuple[list[dict], dict]:
  """Rows of metrics per (hole ratio, method), plus example outputs for a grid.

  hole_ratios: floats (Table 1) or `hole_column` labels like "96x96" (Table 2, holes placed
  by mask_kind: "square" at random, "central"). labels, peers: see `run_method`.

  Returns (rows, examples) where examples[(ratio, method)] holds the first 8 outputs and
  examples[(ratio, "masked")] the masked inputs.
  """
  unknown = [m for m in methods if m not in METHODS]
  if unknown:
    raise InputError(f"--methods: unknown method {unknown[0]!r}, choose from {', '.join(METHODS)}")
  if inpainter is None and any(is_learned(m) for m in methods):
    raise InputError("--methods: learned methods need a model (--model_dir)")
  missing = [m for m in methods if m in PEER_METHODS and m not in (peers or {})]
  if missing:
    raise InputError(f"--methods={missing[0]}: needs --{missing[0]}_inpainter (a module of "
                     f"binaries/train_{missing[0]}_inpainter.py)")
  reference_features = _features(extractor, images) if extractor is not None else None
  rows, examples = [], {}
  resolution = images.shape[1]
  for ratio_index, ratio in enumerate(hole_ratios):
    masks = evaluation_masks(count=len(images), resolution=resolution, hole_ratio=ratio,
                             seed=seed + 1000 * ratio_index, mask_kind=mask_kind)
    examples[(ratio, "masked")] = np.where(masks[:8] > 0.5, 1.0, images[:8])
    examples[(ratio, "original")] = images[:8]
    computed: dict[str, tuple[np.ndarray, np.ndarray | None, float]] = {}
    for method in methods:
      base = base_method(method)
      if base not in computed:  # a blended variant reuses its method's search
        computed[base] = run_method(method=base, inpainter=inpainter, images=images, masks=masks,
                                    batch_size=batch_size, iterations=iterations, refine_steps=refine_steps,
                                    seed=seed, progress=progress,
                                    labels=labels if base in LEARNED_METHODS else None, peers=peers)
      outputs, generated, seconds = computed[base]
      if method != base:
        start = time.perf_counter()
        outputs = inpainting.poisson_blend(images=images, generated_images=generated, masks=masks)
        seconds += time.perf_counter() - start
      rows.append(_row(method, ratio=ratio, images=images, masks=masks, outputs=outputs, seconds=seconds,
                       extractor=extractor, reference_features=reference_features, inpainter=inpainter,
                       iterations=iterations, refine_steps=refine_steps))
      examples[(ratio, method)] = outputs[:8]
  return rows, examples


def model_label(generator_metadata: dict) -> str:
  """M_z, or M_{z+S} with the prior's name (Table 1's row labels)."""
  kind = generator_metadata.get("structural_prior", "none")
  return "M_z" if kind == "none" else f"M_z+S ({kind})"


def merge_labelled(merged: tuple[list, dict, list], new: tuple[list, dict, list], *,
                   label: str | None) -> tuple[list, dict, list]:
  """Adds one model's (rows, examples, methods) to the table, learned methods labelled
  "<method> [<label>]" when several models share it; classical rows keep their names."""
  rows, examples, methods = merged
  new_rows, new_examples, new_methods = new
  rename = lambda m: f"{m} [{label}]" if label and is_learned(m) else m
  for row in new_rows:
    rows.append(dict(row, method=rename(row["method"]), **({"model": label} if label else {})))
  for (ratio, method), value in new_examples.items():
    examples[(ratio, rename(method))] = value
  return rows, examples, methods + [rename(m) for m in new_methods]


def to_markdown(rows: list[dict], *, title: str, notes: Sequence[str] = ()) -> str:
  """Table 1 layout: one row per method and metric, one column per hole ratio."""
  ratios = list(dict.fromkeys(r["hole_ratio"] for r in rows))
  methods = list(dict.fromkeys(r["method"] for r in rows))
  metrics = [("psnr_db", "PSNR (dB) ↑", "{:.2f}"), ("ssim", "SSIM ↑", "{:.4f}"), ("l1", "L1 ↓", "{:.4f}"),
             ("frechet_distance", "Fréchet distance ↓", "{:.3f}"), ("ms_per_image", "ms / image", "{:.2f}")]
  column = lambda r: f"{r} holes" if isinstance(r, str) else f"{int(round(100 * r))}% holes"
  lines = [f"# {title}", "", "| method → metric | " + " | ".join(column(r) for r in ratios) + " |",
           "|---|" + "---|" * len(ratios)]
  by_key = {(r["hole_ratio"], r["method"]): r for r in rows}
  for key, label, fmt in metrics:
    if not any(key in r for r in rows):
      continue
    for method in methods:
      cells = [fmt.format(by_key[(ratio, method)][key]) if key in by_key.get((ratio, method), {}) else "-"
               for ratio in ratios]
      lines.append(f"| {method} → {label} | " + " | ".join(cells) + " |")
  extractors = sorted({r["fd_extractor"] for r in rows if "fd_extractor" in r})
  if extractors:
    lines += ["", f"Fréchet distances computed with: {', '.join(extractors)}."]
  lines += [""] + [f"- {note}" for note in notes]
  return "\n".join(lines) + "\n"


def examples_grid(examples: dict, *, hole_ratios: Sequence[float], methods: Sequence[str]) -> np.ndarray:
  """Rows: for each ratio, masked | each method | original, 8 examples per row."""
  tiles = []
  for ratio in hole_ratios:
    for key in ("masked", *methods, "original"):
      tiles.extend(list(examples[(ratio, key)]))
  return visualize.make_grid(np.stack(tiles), columns=len(examples[(hole_ratios[0], "masked")]))


def candidates_grid(inpainter: inpainting.Inpainter, *, images: np.ndarray, masks: np.ndarray) -> np.ndarray:
  """Pluralistic completion of a K-candidate P: per row masked | its K candidates, best first by
  Eq. 4 | original."""
  candidates = inpainter.inpaint(images, masks, mode="single")["candidates"].numpy()
  masked = np.where(masks > 0.5, 1.0, images)
  tiles = [tile for i in range(len(images)) for tile in (masked[i], *candidates[i], images[i])]
  return visualize.make_grid(np.stack(tiles), columns=candidates.shape[1] + 2)
