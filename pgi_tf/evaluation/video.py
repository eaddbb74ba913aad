"""Table 3 style ablation on held-out moving clips: per-frame PSNR, flicker, video Fréchet distance.

Every model inpaints the same clips with the same masks through `video_inference.VideoInpainter`
on the same frozen G; rows differ only in where z comes from:

  M_z        P of the model directory applied to each frame alone (no temporal guidance)
  M_{z+S}    the same with a structural prior (a model directory trained with one, §4.2)
  M_{z+L}    a grouped prior (§4.3, Fig. 3): LSTM over sliding windows (`--sequence_models`)
  M_{z+S+L}  a grouped prior with a structural prior per frame

Clips: `sequences.moving_fashion_mnist` (split "test" by default: garments never seen in training),
N clips of T frames at the model's resolution, with §6.4 rectangles (sides in [0.35, 0.5] of the
frame) fixed or moving per clip, all seeded.

Metrics (`pgi_tf.metrics.temporal`):
  psnr_db      per-frame PSNR averaged over every frame of every clip (whole frame, [0, 1] range).
  flicker      mean |(O_{t+1} - O_t) - (G_{t+1} - G_t)| inside the pair holes, per clip, then
               np.nanmean over clips (a clip without holes would be NaN). Lower is steadier.
  video_fd     Fréchet distance between video features of the inpainted and the original clips,
               only with --video_fd_extractor: the paper's video-FID uses I3D (Kinetics-400),
               whose weights cannot be downloaded here, so the default '' skips it; numbers from
               another extractor are labelled with it and are not comparable with I3D's.
  Changes relative to the first row (M_z when present) are given as flicker_change (fraction,
  negative = less flicker) and psnr_change_db, the two numbers Table 3 compares.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from typing import Sequence

import numpy as np

from pgi_tf import hub
from pgi_tf import files
from pgi_tf.inference import loading
from pgi_tf.inference import video as video_inference
from pgi_tf import visualize
from pgi_tf.data import sequences
from pgi_tf.errors import InputError
from pgi_tf.metrics import temporal
from pgi_tf.metrics import frechet

LABELS = ("M_z", "M_{z+S}", "M_{z+L}", "M_{z+S+L}")  # Table 3's ablation rows
_MASK_TAG = 7877  # keeps the evaluation masks' seed stream apart from the clips'


@dataclasses.dataclass
class SequenceModel:
  """One row of the table: a label, what predicts z, and the inpainter."""
  label: str
  z_from: str
  inpainter: video_inference.VideoInpainter


def model_label(*, temporal_kind: str, structural_prior: str) -> str:
  """Table 3's names: M_z / M_{z+S} per frame, M_{z+L} / M_{z+S+L} with the LSTM."""
  structural = structural_prior not in ("", "none")
  if temporal_kind == "lstm":
    return "M_{z+S+L}" if structural else "M_{z+L}"
  return "M_{z+S}" if structural else "M_z"


def parse_sequence_models(entries: Sequence[str], *, flag: str = "--sequence_models") -> list[tuple[str, str]]:
  """["name=path", "path", ...] -> [(name or '', path)]; a bare path is labelled from its metadata."""
  parsed, names = [], set()
  for entry in entries:
    entry = entry.strip()
    if not entry:
      continue
    name, sep, path = entry.partition("=")
    if not sep:
      name, path = "", entry
    name, path = name.strip(), path.strip()
    if not path:
      raise InputError(f"{flag}={entry}: give name=<sequence prior export dir> or the dir alone")
    if name and name in names:
      raise InputError(f"{flag}: the name {name!r} is used twice")
    names.add(name)
    parsed.append((name, path))
  return parsed


def load_sequence_models(*, models: loading.Models, entries: Sequence[str], window: int | None = None,
                         overlap: int | None = None, per_frame_row: bool = True,
                         flag: str = "--sequence_models", latent_smoothing: Sequence[int] = ()) -> list[SequenceModel]:
  """The rows: per-frame P of the model directory first (if it has one), then each sequence prior;
  for every k > 0 of latent_smoothing, then each of them again with z smoothed k times ("<label> +
  z smoothing xk", beyond the paper: `pgi_tf.inference.video.smooth_latents`)."""
  structural = models.metadata.get("structural_prior", "none")
  rows = []
  if per_frame_row and models.prior_predictor is not None:
    rows.append(SequenceModel(
        label=model_label(temporal_kind="per_frame", structural_prior=structural),
        z_from=f"P per frame ({models.prior_predictor.handle})",
        inpainter=video_inference.VideoInpainter(
            generator=models.generator, z_dim=models.metadata["z_dim"], prior_predictor=models.prior_predictor,
            window=window, overlap=overlap, structural_prior=models.structural_prior)))
  for name, path in parse_sequence_models(entries, flag=flag):
    layer = hub.load_sequence_prior(path, generator_path=models.generator.handle, flag=flag)
    inpainter = video_inference.VideoInpainter(
        generator=models.generator, z_dim=models.metadata["z_dim"], sequence_prior=layer, window=window,
        overlap=overlap, structural_prior=models.structural_prior)
    temporal_kind = layer.metadata.get("temporal", "lstm")
    label = name or model_label(temporal_kind=temporal_kind, structural_prior=structural)
    if temporal_kind != "lstm" and not name:
      label += " (LSTM reset every frame)"
    rows.append(SequenceModel(label=label, z_from=f"sequence prior ({path})", inpainter=inpainter))
  plain_rows = list(rows)
  for passes in latent_smoothing:
    rows += [SequenceModel(label=f"{row.label} + z smoothing x{passes}", z_from=f"{row.z_from}, z smoothed x{passes}",
                           inpainter=row.inpainter.with_latent_smoothing(passes))
             for row in plain_rows if passes > 0]
  labels = [row.label for row in rows]
  duplicate = next((label for label in labels if labels.count(label) > 1), None)
  if duplicate is not None:
    raise InputError(f"{flag}: two rows would be labelled {duplicate}; name them, e.g. {flag}=a=<dir>,b=<dir>")
  if not rows:
    raise InputError(f"{flag}: nothing to evaluate (the model has no prior_predictor/ and no sequence "
                     "prior was given)")
  return rows


def evaluation_clips(*, num_clips: int, num_frames: int, resolution: int, seed: int, motion: str,
                     split: str = "test", data_dir: str | None = None) -> tuple[np.ndarray, np.ndarray]:
  """Held-out moving Fashion-MNIST clips [N, T, R, R, 1] and §6.4 rectangle masks [N, T, R, R, 1]."""
  if num_clips < 1:
    raise InputError(f"--num_clips={num_clips}: must be >= 1")
  if num_frames < 2:
    raise InputError(f"--num_frames={num_frames}: flicker needs at least 2 frames")
  clips = sequences.moving_fashion_mnist(split=split, num_clips=num_clips, num_frames=num_frames,
                                         resolution=resolution, seed=seed, data_dir=data_dir)
  masks = np.stack([sequences.rectangle_clip_masks(np.random.default_rng([seed, _MASK_TAG, i]),
                                                   num_frames=num_frames, height=resolution, width=resolution,
                                                   motion=motion) for i in range(num_clips)])
  return clips, masks


def evaluate_sequences(*, sequence_models: Sequence[SequenceModel], clips: np.ndarray, masks: np.ndarray,
                       extractor=None, batch_size: int = 16, progress=None) -> tuple[list[dict], dict]:
  """One row per model, plus the inpainted clips {label: [N, T, R, R, C]}."""
  rows, outputs = [], {}
  reference_features = None
  if extractor is not None:
    if len(clips) < 2:
      raise InputError(f"--num_clips={len(clips)}: a video Fréchet distance needs at least 2 clips")
    reference_features = temporal.compute_video_features(extractor, clips, batch_size=batch_size)
  for model in sequence_models:
    start = time.perf_counter()
    result = model.inpainter.inpaint(clips, masks, batch_size=batch_size, progress=progress)
    seconds = time.perf_counter() - start
    inpainted = result["inpainted"]
    known = masks < 0.5
    assert np.array_equal(np.broadcast_to(known, inpainted.shape) * inpainted,
                          np.broadcast_to(known, clips.shape) * clips), f"{model.label}: Eq. 8 violated"
    row = {"model": model.label, "z_from": model.z_from, "temporal": model.inpainter.temporal,
           "window": model.inpainter.window, "overlap": model.inpainter.overlap,
           "num_clips": int(clips.shape[0]), "num_frames": int(clips.shape[1]),
           "hole_ratio": float(np.mean(masks)),
           "psnr_db": float(np.mean(temporal.per_frame_psnr(inpainted, clips))),
           "flicker": float(np.nanmean(temporal.flicker(inpainted, clips, masks))),
           "ms_per_frame": 1000.0 * seconds / clips.shape[0] / clips.shape[1]}
    if extractor is not None:
      features = temporal.compute_video_features(extractor, inpainted, batch_size=batch_size)
      row["video_fd"] = float(frechet.frechet_distance_from_features(features, reference_features))
      row["video_fd_extractor"] = extractor.name
    rows.append(row)
    outputs[model.label] = inpainted
  reference = rows[0]
  for row in rows:
    row["flicker_change"] = (row["flicker"] / reference["flicker"] - 1.0) if reference["flicker"] > 0 else None
    row["psnr_change_db"] = row["psnr_db"] - reference["psnr_db"]
    row["reference"] = reference["model"]
  return rows, outputs


def to_markdown(rows: Sequence[dict], *, title: str, notes: Sequence[str] = ()) -> str:
  """One row per model (Table 3's ablation), metrics as columns."""
  with_fd = any("video_fd" in r for r in rows)
  reference = rows[0]["reference"] if rows else ""
  header = ["model", "z from", "PSNR (dB) ↑", "flicker ↓", f"flicker vs {reference}", f"PSNR vs {reference} (dB)"]
  header += ["video FD ↓"] if with_fd else []
  header += ["ms / frame"]
  lines = [f"# {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
  for r in rows:
    change = "-" if r["flicker_change"] is None else f"{100 * r['flicker_change']:+.1f}%"
    cells = [r["model"], r["z_from"], f"{r['psnr_db']:.2f}", f"{r['flicker']:.4f}", change,
             f"{r['psnr_change_db']:+.2f}"]
    cells += [f"{r['video_fd']:.4g}" if "video_fd" in r else "-"] if with_fd else []
    cells += [f"{r['ms_per_frame']:.2f}"]
    lines.append("| " + " | ".join(cells) + " |")
  extractors = sorted({r["video_fd_extractor"] for r in rows if "video_fd_extractor" in r})
  lines += [""]
  if extractors:
    lines += [f"Video Fréchet distances computed with: {', '.join(extractors)}."]
  else:
    lines += ["Video Fréchet distance: skipped (no --video_fd_extractor; the I3D weights of the paper's "
              "video-FID are not available offline)."]
  lines += [""] + [f"- {note}" for note in notes]
  return "\n".join(lines) + "\n"


def example_panels(*, clips: np.ndarray, masks: np.ndarray, outputs: dict, clip_index: int = 0) -> list[np.ndarray]:
  """One clip as panels [T, R, R, C]: input with holes white, each model's output, ground truth."""
  masked = np.where(masks[clip_index] > 0.5, 1.0, clips[clip_index])
  return [masked, *[outputs[label][clip_index] for label in outputs], clips[clip_index]]


def write_report(output_dir: str, *, rows: Sequence[dict], notes: Sequence[str], clips: np.ndarray,
                 masks: np.ndarray, outputs: dict, title: str, record: dict | None = None) -> dict[str, str]:
  """table.md, results.json, examples.png (one row per panel: input | models | truth, T frames
  each) and examples.gif (the same panels side by side, animated). Returns the paths."""
  os.makedirs(output_dir, exist_ok=True)
  paths = {name: os.path.join(output_dir, name) for name in ("table.md", "results.json", "examples.png",
                                                             "examples.gif")}
  payload = {"table.md": to_markdown(rows, title=title, notes=notes),
             "results.json": json.dumps({"rows": list(rows), "notes": list(notes),
                                         "example_rows": ["input (holes white)", *outputs, "ground truth"],
                                         **(record or {})},
                                        indent=2)}
  for name, text in payload.items():
    files.write_text(paths[name], text)
  panels = example_panels(clips=clips, masks=masks, outputs=outputs)
  visualize.save_grid(paths["examples.png"], np.concatenate(panels), columns=clips.shape[1], upscale=3)
  video_inference.write_side_by_side_gif(paths["examples.gif"], panels)
  return paths
