"""Assembling and writing the evaluation reports the binaries print: Table 1 / Table 2 (images),
Table 3 (sequences) notes, and the λ sweep (Eq. 7) table. The binaries only parse flags."""

from __future__ import annotations

import json
import os
import platform
from typing import Sequence

import numpy as np

from pgi_tf import files
from pgi_tf import visualize
from pgi_tf.errors import InputError
from pgi_tf.evaluation import classification
from pgi_tf.evaluation import images as image_evaluation
from pgi_tf.evaluation import provenance
from pgi_tf.inference import loading


def _machine() -> str:
  return f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores."


def check_label_rows(models: loading.Models, label_rows: Sequence[str]) -> list[str]:
  """Which label rows a class-conditional model gets ([] for every other model)."""
  if not models.class_conditional:
    return []
  rows = list(label_rows)
  unknown = [r for r in rows if r not in ("actual", "predicted")]
  if unknown or not rows:
    raise InputError(f"--label_rows={','.join(rows)}: choose from actual, predicted")
  if "predicted" in rows and models.class_predictor is None:
    raise InputError("--label_rows=predicted: needs --class_predictor (binaries/train_class_predictor.py); "
                     "or --label_rows=actual")
  return rows


def class_accuracy(models: loading.Models, images, labels, columns, *, seed: int, mask_kind: str) -> dict:
  """Top-1 of the class predictor on the masked and unmasked images, per mask column (§6.3.3)."""
  accuracy = {}
  for index, column in enumerate(columns):
    masks = image_evaluation.evaluation_masks(count=len(images), resolution=models.resolution, hole_ratio=column,
                                              seed=seed + 1000 * index, mask_kind=mask_kind)
    accuracy[str(column)] = classification.top1_accuracy(models.class_predictor, images=images,
                                                         labels=labels, masks=masks)
  return accuracy


def image_table(*, all_models: list[loading.Models], several_priors: bool, images, labels, label_rows: list[str],
                ratios: list[float], methods: Sequence[str], extractor, batch_size: int, iterations: int | None,
                refine_steps: int, seed: int, mask_kind: str, hole_sizes: bool, source: str, split: str,
                output_dir: str, run: provenance.Run | None = None,
                extra_prior_predictors: Sequence[tuple[str, loading.Models]] = (), peers=None) -> str:
  """Table 1 (hole ratios) or Table 2 (hole sizes): every method for every model entry on the same
  images and masks; writes table.md, results.json (with `run`'s provenance) and grid.png;
  returns the Markdown.

  extra_prior_predictors: (label, Models) pairs that differ from all_models[0] by P alone (the
  one-pass variants of issue 13): their P's methods (single, hybrid) get rows "<method> [label]".
  peers: {name: fn(I_d, M) -> images} for `images.PEER_METHODS` (the regression peer)."""
  models = all_models[0]
  learned = any(image_evaluation.is_learned(m) for m in methods)
  learned_methods = [m for m in methods if image_evaluation.is_learned(m)]
  # One model entry per (structural prior) or, for a class-conditional BigGAN, per label source.
  entries = [(kind_models, image_evaluation.model_label(kind_models.metadata) if several_priors else None, None)
             for kind_models in all_models]
  if label_rows:
    entries = [(models, f"{row} label", labels if row == "actual" else None) for row in label_rows]
  p_methods = [m for m in learned_methods if image_evaluation.base_method(m) in ("single", "hybrid")]
  variant_entries = [(variant_models, label, None) for label, variant_models in extra_prior_predictors]
  total = len(images) * len(ratios) * (len(methods) + len(learned_methods) * (len(entries) - 1)
                                       + len(p_methods) * len(variant_entries))
  bar = files.progress_bar(total=total, initial=0, description="evaluate")
  rows, examples, shown_methods = [], {}, []
  for index, (entry_models, label, entry_labels) in enumerate(entries + variant_entries):
    # Classical peers once; the learned methods once per entry, labelled when there are several;
    # a P variant only with the methods that use P.
    entry_methods = list(methods) if index == 0 else learned_methods if index < len(entries) else p_methods
    entry_rows, entry_examples = image_evaluation.evaluate(
        inpainter=loading.make_inpainter(entry_models) if learned else None, images=images,
        hole_ratios=ratios, methods=entry_methods, extractor=extractor, batch_size=batch_size,
        iterations=iterations, refine_steps=refine_steps, seed=seed, progress=bar,
        labels=entry_labels, mask_kind=mask_kind, peers=peers)
    rows, examples, shown_methods = image_evaluation.merge_labelled(
        (rows, examples, shown_methods), (entry_rows, entry_examples, entry_methods), label=label)
  accuracy = (class_accuracy(models, images, labels, ratios, seed=seed, mask_kind=mask_kind)
              if models.class_predictor is not None else {})
  bar.close()
  notes = [f"{len(images)} images of {source}/{split} (never seen in training), "
           f"{models.resolution} px; masks: one hole of the given ratio at a random place, seed {seed}.",
           f"generator: {models.metadata.get('generator', 'ours')} "
           f"({', '.join(m.generator.handle for m in all_models)})"
           f"{' -- an offline STAND-IN with random weights, not the real module' if models.metadata.get('standin') else ''}"
           f"; photo-realism term: {models.photo_realism['photo_realism']}; {_machine()}"]
  if hole_sizes:
    notes[0] = (f"{len(images)} images of {source}/{split}, {models.resolution} px; masks: one square "
                f"hole per column size, {'central' if mask_kind == 'central' else 'at a random place'}, "
                f"seed {seed}.")
  for column, values in accuracy.items():
    notes.append(f"class predictor top-1 at {column}: masked {100 * values['top1_masked']:.1f}%, "
                 f"unmasked {100 * values['top1_unmasked']:.1f}% (paper, ImageNet 256: 75.3% vs 77%)")
  os.makedirs(output_dir, exist_ok=True)
  title = "Inpainting evaluation (Table 2 layout)" if hole_sizes else "Inpainting evaluation (Table 1 layout)"
  markdown = image_evaluation.to_markdown(rows, title=title, notes=notes)
  files.write_text(os.path.join(output_dir, "table.md"), markdown)
  files.write_text(os.path.join(output_dir, "results.json"), json.dumps(
      {"rows": rows, "notes": notes, "models": models.record(), "class_predictor_top1": accuracy,
       "source": source, "split": split, "num_images": len(images), "seed": seed, "mask_kind": mask_kind,
       "prior_predictor_variants": {label: variant.prior_predictor.handle for label, variant in extra_prior_predictors},
       "peers": {name: getattr(fn, "path", "") for name, fn in (peers or {}).items()},
       "provenance": run.record() if run is not None else {}}, indent=2))
  grid = image_evaluation.examples_grid(examples, hole_ratios=ratios, methods=shown_methods)
  visualize.save_png(os.path.join(output_dir, "grid.png"), grid, upscale=3)
  for label, variant in [(None, models), *extra_prior_predictors]:
    inpainter = loading.make_inpainter(variant) if variant.prior_predictor is not None else None
    if inpainter is not None and inpainter.num_candidates > 1 and not hole_sizes:
      # The K alternatives at the largest hole ratio, on the grid's first 8 images and masks.
      masks = image_evaluation.evaluation_masks(count=8, resolution=models.resolution, hole_ratio=ratios[-1],
                                                seed=seed + 1000 * (len(ratios) - 1), mask_kind=mask_kind)
      name = "candidates.png" if label is None else f"candidates_{label}.png"
      visualize.save_png(os.path.join(output_dir, name), image_evaluation.candidates_grid(
          inpainter, images=images[:8], masks=masks), upscale=3)
  return markdown


def sequence_notes(*, rows: list[dict], clips: np.ndarray, masks: np.ndarray, models: loading.Models, split: str,
                   seed: int, mask_motion: str) -> list[str]:
  """The notes under Table 3: data, masks, window merging, metric definitions, G and machine."""
  return [f"{len(clips)} moving Fashion-MNIST clips of {clips.shape[1]} frames, split {split} "
          f"(garments never seen in training), {models.resolution} px, seed {seed}; masks: one §6.4 "
          f"rectangle per clip (sides in [0.35, 0.5] of the frame), {mask_motion}, "
          f"{100 * float(np.mean(masks)):.1f}% of the pixels.",
          "z from sliding windows merged causally (each frame from the earliest window containing it; the "
          "first `overlap` frames of later windows only warm the LSTM up): "
          + ", ".join(f"{r['model']} W={r['window']} overlap={r['overlap']}" for r in rows) + ".",
          "flicker: mean |(O_{t+1} - O_t) - (G_{t+1} - G_t)| inside the holes of each frame pair, [0, 1] units, "
          "averaged over clips (np.nanmean); PSNR per frame, averaged over all frames.",
          f"generator: {models.generator.handle} (frozen, the same for every row); {_machine()}"]


def _grid_points(rows: list[dict]) -> list[tuple[float, float]]:
  return list(dict.fromkeys((r["lambda_realism"], r["lambda_gradient"]) for r in rows))


def _seeds(rows: list[dict]) -> list[int]:
  return sorted({r.get("seed", 0) for r in rows})


def _cell(rows: list[dict], point, seed: int, ratio: float, key: str) -> float:
  for r in rows:
    if ((r["lambda_realism"], r["lambda_gradient"]) == point and r.get("seed", 0) == seed
        and r["hole_ratio"] == ratio):
      return float(r.get(key, float("nan")))
  return float("nan")


def _ranks(values: Sequence[float]) -> np.ndarray:
  """1-based ranks, lowest value first (ties by order)."""
  order = np.argsort(np.asarray(values, np.float64), kind="stable")
  ranks = np.empty(len(order), np.int64)
  ranks[order] = np.arange(1, len(order) + 1)
  return ranks


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
  """Spearman's rank correlation of two score lists (no ties expected): 1 = same ranking."""
  ra, rb = _ranks(a).astype(np.float64), _ranks(b).astype(np.float64)
  n = len(ra)
  if n < 2:
    return float("nan")
  return float(1.0 - 6.0 * np.sum((ra - rb) ** 2) / (n * (n * n - 1)))


def _seed_averaged_choice(candidates: list, seeds: list[int], error) -> tuple[int, float, dict]:
  """The one choice rule of the sweeps: the candidate with the lowest error averaged over seeds.

  error(candidate, seed) -> float. Returns (index of the best, its mean error, the record of
  each seed's ranks and, with two or more seeds, the Spearman correlation of the first two)."""
  per_seed = {seed: [error(c, seed) for c in candidates] for seed in seeds}
  mean = np.nanmean(np.asarray([per_seed[s] for s in seeds]), axis=0)
  best = int(np.argmin(mean))
  record = {"ranks_by_seed": {str(s): _ranks(per_seed[s]).tolist() for s in seeds}}
  if len(seeds) >= 2:
    record["spearman_seed_rankings"] = spearman(per_seed[seeds[0]], per_seed[seeds[1]])
  return best, float(mean[best]), record


def lambda_sweep_choice(rows: list[dict]) -> dict:
  """The rule that picks λ1, λ2: the grid point with the lowest Fréchet distance at 40% holes,
  averaged over seeds (the hard case of Table 1, where one pass trails the search); the seeds'
  rankings by that number and their Spearman correlation say how stable the choice is."""
  points = _grid_points(rows)
  best, mean, record = _seed_averaged_choice(
      points, _seeds(rows), lambda p, seed: _cell(rows, p, seed, 0.4, "frechet_distance"))
  return {"lambda_realism": points[best][0], "lambda_gradient": points[best][1],
          "criterion": "lowest mean Fréchet distance at 40% holes over seeds", "mean_fd_40": mean, **record}


def lambda_sweep_markdown(rows: list[dict], *, steps: int, num_images: int, split: str) -> str:
  """The λ1 x λ2 grid of Eq. 7: PSNR and Fréchet distance at 10% and 40% holes per point,
  one value per seed ("a / b"), the rank by FD at 40% per seed, and the chosen point."""
  points, seeds = _grid_points(rows), _seeds(rows)
  choice = lambda_sweep_choice(rows)
  per_seed = lambda p, ratio, key, fmt: " / ".join(format(_cell(rows, p, s, ratio, key), fmt) for s in seeds)
  lines = ["| λ1 (realism) | λ2 (gradient) | PSNR 10% | PSNR 40% | FD 10% | FD 40% | rank (FD 40%) |",
           "|---|---|---|---|---|---|---|"]
  for index, point in enumerate(points):
    ranks = " / ".join(str(choice["ranks_by_seed"][str(s)][index]) for s in seeds)
    chosen = " **chosen**" if point == (choice["lambda_realism"], choice["lambda_gradient"]) else ""
    lines.append(f"| {point[0]} | {point[1]} | {per_seed(point, 0.1, 'psnr_db', '.2f')} | "
                 f"{per_seed(point, 0.4, 'psnr_db', '.2f')} | {per_seed(point, 0.1, 'frechet_distance', '.3f')} | "
                 f"{per_seed(point, 0.4, 'frechet_distance', '.3f')} | {ranks}{chosen} |")
  seed_text = f"seeds {', '.join(map(str, seeds))} (cells: one value per seed)" if len(seeds) > 1 else \
      f"seed {seeds[0]}"
  lines.append(f"\n{steps} steps per point; {num_images} images of split {split}; {seed_text}. "
               f"Chosen: {choice['criterion']} (λ1 = {choice['lambda_realism']}, "
               f"λ2 = {choice['lambda_gradient']}, {choice['mean_fd_40']:.3f}).")
  if "spearman_seed_rankings" in choice:
    lines.append(f"Spearman correlation of the two seeds' rankings by FD 40%: "
                 f"{choice['spearman_seed_rankings']:.2f} (1 = identical).")
  return "\n".join(lines)


def lambda_sweep_table(rows: list[dict], *, steps: int, num_images: int, split: str, output_dir: str,
                       run: provenance.Run | None = None) -> str:
  """The λ sweep's table.md and results.json (with the run's provenance and the chosen point);
  returns the Markdown."""
  text = "# λ sweep (Eq. 7) on the validation split\n\n" + lambda_sweep_markdown(
      rows, steps=steps, num_images=num_images, split=split)
  files.write_text(os.path.join(output_dir, "table.md"), text + "\n")
  files.write_text(os.path.join(output_dir, "results.json"), json.dumps(
      {"rows": rows, "split": split, "num_images": num_images, "steps": steps,
       "seeds": _seeds(rows), "chosen": lambda_sweep_choice(rows),
       "provenance": run.record() if run is not None else {}},
      indent=2))
  return text


def refiner_sweep_choice(rows: list[dict], *, choose_by: str) -> dict:
  """The rule that picks a refiner setting: the value with the lowest error of f at the
  condition `choose_by` (e.g. "40% holes"), averaged over seeds; each seed's ranking and the
  seeds' Spearman correlation say how stable that is."""
  values = list(dict.fromkeys(r["value"] for r in rows))

  def error(value, seed):
    return next(r["error_refined"] for r in rows if r["value"] == value and r.get("seed", 0) == seed
                and r["condition"] == choose_by)

  best, mean, record = _seed_averaged_choice(values, _seeds(rows), error)
  return {"value": values[best], "criterion": f"lowest mean error of f at {choose_by} over seeds",
          "mean_error": mean, **record}


def refiner_sweep_markdown(data: dict) -> str:
  """f's error and the baseline's per value of the swept setting and condition (one value per
  seed), the rank at the choosing condition, and the choice."""
  rows, parameter, choose_by = data["rows"], data["parameter"], data["choose_by"]
  values = list(dict.fromkeys(r["value"] for r in rows))
  conditions = list(dict.fromkeys(r["condition"] for r in rows))
  seeds = _seeds(rows)
  choice = refiner_sweep_choice(rows, choose_by=choose_by)

  def cells(value, condition, key):
    return " / ".join(f"{r[key]:.4f}" for s in seeds for r in rows if r["value"] == value
                      and r.get("seed", 0) == s and r["condition"] == condition)

  lines = [f"| {parameter} | " + " | ".join(f"f, {c} | {data['baseline']}, {c}" for c in conditions)
           + f" | rank (f, {choose_by}) |", "|---|" + "---|" * (2 * len(conditions) + 1)]
  for index, value in enumerate(values):
    ranks = " / ".join(str(choice["ranks_by_seed"][str(s)][index]) for s in seeds)
    chosen = " **chosen**" if value == choice["value"] else ""
    cols = " | ".join(f"{cells(value, c, 'error_refined')} | {cells(value, c, 'error_baseline')}" for c in conditions)
    lines.append(f"| {value} | {cols} | {ranks}{chosen} |")
  lines.append(f"\n{data['error']}; {data['sample']} of split {data['split']}; f trained {data['steps']} "
               f"steps per row; seeds {', '.join(map(str, seeds))} (cells: one value per seed). "
               f"Chosen: {choice['criterion']} ({parameter} = {choice['value']}, {choice['mean_error']:.4f}).")
  if "spearman_seed_rankings" in choice:
    lines.append(f"Spearman correlation of the two seeds' rankings: {choice['spearman_seed_rankings']:.2f}.")
  return "\n".join(lines)


def refiner_sweep_table(data: dict, *, output_dir: str, run: provenance.Run | None = None) -> str:
  """The refiner sweep's table.md and results.json (provenance and the chosen value).

  `data`: {"title", "parameter", "choose_by", "baseline", "error", "sample", "split", "steps",
  "rows"}, rows {"seed", "value", "condition", "error_refined", "error_baseline", ...}."""
  text = f"# {data['title']}\n\n" + refiner_sweep_markdown(data)
  files.write_text(os.path.join(output_dir, "table.md"), text + "\n")
  files.write_text(os.path.join(output_dir, "results.json"), json.dumps(
      {**data, "seeds": _seeds(data["rows"]), "chosen": refiner_sweep_choice(data["rows"], choose_by=data["choose_by"]),
       "provenance": run.record() if run is not None else {}}, indent=2))
  return text
