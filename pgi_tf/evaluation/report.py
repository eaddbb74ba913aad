"""RESULTS.md, rendered from the results JSONs that the binaries write, and from nothing else.

Every section names one JSON under results/ (written by `binaries/evaluate.py`,
`binaries/benchmark.py`, `binaries/sweep_lambdas.py` or `binaries/sweep_refiner.py`), renders
its tables with the same code the binary used for its own table.md, and prints the JSON's provenance: the exact command, git
revision, machine and wall time. A JSON without provenance (written before binaries recorded
it) is not rendered; its section is listed as waiting to be regenerated. The prose here holds
no measured number: every number comes from a JSON, so the report test can regenerate
RESULTS.md and require it to be byte-identical.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Callable

from pgi_tf.evaluation import benchmarks
from pgi_tf.evaluation import images as image_evaluation
from pgi_tf.evaluation import tables
from pgi_tf.evaluation import video as video_evaluation

RESULTS_FILE = "RESULTS.md"


@dataclasses.dataclass(frozen=True)
class Section:
  """One section: a title, prose without numbers, the JSON it renders and how."""
  title: str
  path: str  # relative to the repository root
  render: Callable[[dict], str]
  prose: str = ""


def _strip_title(markdown: str) -> str:
  """Drops the '# title' line a table renderer starts with (the section has its own title)."""
  lines = markdown.splitlines()
  return "\n".join(lines[2:] if lines and lines[0].startswith("# ") else lines).strip()


def _image_table(data: dict) -> str:
  return _strip_title(image_evaluation.to_markdown(data["rows"], title="", notes=data.get("notes", ())))


def _sequence_table(data: dict) -> str:
  return _strip_title(video_evaluation.to_markdown(data["rows"], title="", notes=data.get("notes", ())))


def _benchmark_table(data: dict) -> str:
  return _strip_title(benchmarks.to_markdown(data["rows"], title=""))


def _landmark_curves(data: dict) -> str:
  """One row per setting and method: mean RLE over all points and over the hidden ones, and the
  area under the cumulative error curve where the experiment computed it."""
  lines = ["| setting | method | mean RLE ↓ | mean RLE, hidden points ↓ | curve area ↑ |", "|---|---|---|---|---|"]
  held_out, astronaut = data["held_out"], data["astronaut"]
  settings = [(f"held-out synthetic faces ({held_out['num_shapes']}), "
               f"{100 * (1 - held_out['keep_probability']):.0f}% of points hidden", held_out),
              (f"astronaut, {astronaut['mask_side']} half masked, {68 - astronaut['num_visible']} of 68 points hidden",
               astronaut)]
  for label, part in settings:
    for name, value in part["mean_rle"].items():
      hidden = part["mean_rle_hidden"].get(name)
      area = part["curve_area"].get(name)
      lines.append(f"| {label} | {name} | {value:.3f} | {'-' if hidden is None else f'{hidden:.3f}'} | "
                   f"{'-' if area is None else f'{area:.3f}'} |")
  return "\n".join(lines)


def _lambda_sweep(data: dict) -> str:
  return tables.lambda_sweep_markdown(data["rows"], steps=data["steps"], num_images=data["num_images"],
                                      split=data["split"])


def _refiner_sweep(data: dict) -> str:
  return tables.refiner_sweep_markdown(data)


def _hole_motions(title: str, path: str, *, prose: str = "", first: str = "fixed") -> tuple[Section, Section]:
  """The two sections of a Table 3 layout run at both hole motions (`evaluate --sequences
  --mask_motion=fixed|moving`): `title` and `path` hold "{motion}"; the prose goes with the first."""
  motions = (first, "moving" if first == "fixed" else "fixed")
  # str.replace, not str.format: titles hold LaTeX-ish braces such as M_{z+L}.
  return tuple(Section(title=title.replace("{motion}", motion), path=path.replace("{motion}", motion),
                       render=_sequence_table,
                       prose=prose if index == 0 else "") for index, motion in enumerate(motions))


SECTIONS = (
    Section(
        title="Table 1 on Fashion-MNIST (32 px): every method on the same 1,000 test images",
        path="results/table1_fashion_mnist32_test1000/results.json", render=_image_table,
        prose="The bundled M_z (`hub_modules/fashion_mnist32`), the first 1,000 images of the test split and "
              "the same seeded masks for every method. `single` is the shipped one pass (Eq. 8, no blending) "
              "with the P chosen on val (section below); `single [paper]` and `hybrid [paper]` use the "
              "paper-faithful P (`prior_predictor_paper`). `iterative+poisson` is Yeh et al. as they ran it "
              "(their search ends with Poisson blending); `iterative` is the same search unblended, the "
              "like-for-like row. `regression` is the other school's peer: a U-Net trained on the hole with "
              "L1 + an adversarial term (`configs/fashion_mnist32_regression.py`), same data and training "
              "holes, pasted with Eq. 8."),
    Section(
        title="One-pass variants on the validation split (beyond the paper): which P ships",
        path="results/prior_variants_val/results.json", render=_image_table,
        prose="Every P here starts from the paper-faithful P (`hub_modules/fashion_mnist32/prior_predictor_paper`, "
              "`single` below) and trains the same number of further steps with one change "
              "(`configs/fashion_mnist32_prior_*.py`): `continued` changes nothing (the control), `candidates` "
              "has 8 heads trained best-of-K and pastes the head with the lowest Eq. 4, `latent` adds the "
              "latent-consistency term on G's own samples, `latent_candidates` both. Chosen on these validation images: the lowest Fréchet distance at 40% holes, "
              "provided PSNR stays within 0.5 dB of `single`. The chosen P is the bundled default."),
    Section(
        title="The latent-consistency term with a fresh z per step, on the validation split (issue 14)",
        path="results/latent_term_fix_val/results.json", render=_image_table,
        prose="Until issue 14 the latent-consistency term drew its z statelessly with no step in the seed, so "
              "every training step saw the same 64 z; the bundled P (`latent_bundled`, the choice above) was "
              "trained so. `latent_fresh_z` is the same preset, `configs/fashion_mnist32_prior_latent.py`, "
              "trained again with the fix (a fresh batch per step, from (seed, replica, step)). On these "
              "validation images the two tie (Fréchet distance at 40% holes within 0.03, PSNR within 0.1 dB), "
              "so the bundled P and the test rows above stay as measured; retraining the preset now gives "
              "`latent_fresh_z`."),
    Section(
        title="Table 1 on Fashion-MNIST (32 px): the whole test split",
        path="results/table1_fashion_mnist32_test10000/results.json", render=_image_table,
        prose="The same models and protocol on all 10,000 test images, for the fast methods (the search's "
              "rows are on the 1,000-image subset above)."),
    Section(
        title="Table 1, M_z and M_{z+S} (silhouette prior) on the same test images",
        path="results/table1_structural_fashion_mnist32/results.json", render=_image_table,
        prose="M_z is the bundled `hub_modules/fashion_mnist32` with its default P (the latent-consistency P chosen "
              "on val); M_{z+S} is the default M_{z+S}, `hub_modules/fashion_mnist32_silhouette_retrained`: G(z, S), "
              "D(x, S), the refiner and P retrained on the train split with today's presets and chosen on val over "
              "the older `hub_modules/fashion_mnist32_silhouette` (sections below). Issue 13's target (M_{z+S} at "
              "least as good as M_z in Fréchet distance at 40% holes, PSNR within 0.3 dB) is not reached."),
    Section(
        title="M_{z+S} with latent consistency on the validation split (beyond the paper)",
        path="results/structural_variants_val/results.json", render=_image_table,
        prose="The older M_{z+S} P (`hub_modules/fashion_mnist32_silhouette`, `single`) and the same P trained 4,000 steps more with the latent-"
              "consistency term that the shipped M_z uses (`configs/fashion_mnist32_silhouette_prior_latent.py`, "
              "`single [latent]`). The M_{z+S} G, D and refiner predate the validation split (their G saw "
              "these images), so this only compares the two P's; that P stays as it is."),
    Section(
        title="M_{z+S} retrained on the train split, validation images (issue 13)",
        path="results/structural_retrained_val/results.json", render=_image_table,
        prose="The whole M_{z+S} stack trained again with the presets as they stand, on the 55,000-image train "
              "split only (`hub_modules/fashion_mnist32_silhouette_retrained`, "
              "`configs/fashion_mnist32_silhouette_retrained_prior.py` says how): G(z, S) and D(x, S) 8,000 steps, "
              "the refiner with hole-shaped drops (chosen on val), P 14,000 steps with the latent-consistency term. "
              "Compare with the older M_{z+S} on the same images (section above: `single`, Fréchet distance "
              "0.376 / 5.916) and with M_z (`latent` in the one-pass variants: 0.179 / 2.833). Better than the "
              "older M_{z+S} at 40% holes (so it became the default M_{z+S}; its test rows are in \"Table 1, M_z "
              "and M_{z+S}\" above), still far behind M_z: issue 13's structural target is not reached."),
    Section(title="Fig. 4: the face keypoint refiner", path="results/landmark_curves/landmark_curves.json",
            render=_landmark_curves),
    *_hole_motions("Table 3 pattern on moving Fashion-MNIST, {motion} holes",
                  "results/table3_moving_fashion_mnist32_{motion}/results.json"),
    *_hole_motions("Table 3 pattern with a G of the clip frames (a fair §4.3 test), {motion} holes",
                  "results/table3_moving_generator_{motion}/results.json",
                  prose="G and D are `hub_modules/moving_fashion_mnist32` (`configs/moving_fashion_mnist32.py`), trained on "
                       "the frames of the very training clips the two models use, so G can draw the moving, off-centre "
                       "garments. `per-frame` and `M_{z+L}` are the same network trained on the same clips, steps and "
                       "seed (`configs/moving_fashion_mnist32_sequence_prior.py`; M_{z+L} is the paper-faithful "
                       "`sequence_prior_paper`), the per-frame one with the LSTM state reset every frame. `+ z smoothing x1` rows (beyond the paper, a temporal-consistency "
                       "option) smooth each clip's z once along time with [1/4, 1/2, 1/4] and draw G again; k = 1 "
                       "was chosen on validation clips (section below). Held-out clips of the test split."),
    Section(title="Latent smoothing on validation clips: how many passes (beyond the paper)",
            path="results/latent_smoothing_val/results.json", render=_sequence_table,
            prose="The clip-frame G's two models with z smoothed k = 1, 2, 4 times, on validation clips with "
                  "moving holes. Chosen: the k with the lowest flicker whose per-frame PSNR is not below the "
                  "unsmoothed model's, which is what the test-split rows above use."),
    *_hole_motions("Temporal options for M_{z+L} on validation clips, {motion} holes (beyond the paper, issue 13)",
                  "results/temporal_options_val_{motion}/results.json",
                  prose="Every row uses the clip-frame G. `per-frame` and `M_{z+L}` are the bundled pair (3,000 steps from "
                       "scratch). `temporal_λ` is M_{z+L} trained the same way with λ_t · L_smooth added to Eq. 10 "
                       "(`configs/moving_fashion_mnist32_sequence_prior_temporal.py`, the mean squared step of z along "
                       "the window; λ_t = 1 and 10). `from_per-frame` starts the whole LSTM model from the per-frame "
                       "model and trains 1,500 more steps with λ_t = 10; `per-frame_continued` is its control, the "
                       "per-frame model trained the same 1,500 steps with nothing changed "
                       "(`configs/moving_fashion_mnist32_sequence_prior_from_per_frame.py`). λ_t = 10 was chosen here "
                       "(less flicker and more PSNR than 1 at both hole motions), and `temporal_10` ships as "
                       "`hub_modules/moving_fashion_mnist32/sequence_prior` (the LSTM row with the lowest flicker whose "
                       "PSNR is not below M_{z+L}'s at both motions; the paper-faithful M_{z+L} is `sequence_prior_paper`). "
                       "No LSTM row reaches the per-frame model's PSNR.", first="moving"),
    *_hole_motions("Table 3 with the clip-frame G: the temporal options on 200 test clips, {motion} holes (issue 13)",
                  "results/table3_temporal_options_{motion}/results.json",
                  prose="The rows of the validation sections, on held-out test clips. Issue 13's target (at least 10% "
                       "less flicker than the same-data per-frame model at equal or better per-frame PSNR) is not "
                       "reached: the best LSTM row has about 3% less flicker at about 0.6-0.8 dB less PSNR, and the "
                       "per-frame model trained as long gets the same flicker drop with more PSNR. On this data the "
                       "LSTM adds nothing that more training of the per-frame model does not. The shipped `temporal_10` "
                       "(chosen on val) has about 7% less flicker than the paper-faithful M_{z+L} here, at 0.13 dB "
                       "(moving holes) and 0.41 dB (fixed holes) less PSNR, where on val it had slightly more."),
    *_hole_motions("Table 3 pattern, structural rows (M_{z+S} per frame vs M_{z+S+L}), {motion} holes",
                  "results/table3_structural_moving_fashion_mnist32_{motion}/results.json"),
    Section(title="Speed (`binaries/benchmark.py`: Table 4, and GAN training throughput where the JSON holds it)",
            path="results/benchmark/benchmark.json",
            render=_benchmark_table),
    Section(title="Speed of the one-pass variants at 64 px: one z (shipped P) vs K = 8 candidates",
            path="results/benchmark_candidates/benchmark.json", render=_benchmark_table,
            prose="Table 4's timing at 64 px for a P with one head (the shipped latent-consistency P and the "
                  "paper's P share this network) and with 8 candidate heads (all 8 through G in one batch), "
                  "each against the iterative search in the same run."),
    Section(title="Serving backends: one pass of the bundled M_z through the library, XLA, the SavedModel and TFLite",
            path="results/serving_backends/benchmark.json", render=_benchmark_table,
            prose="`binaries/benchmark.py --suites=serving_backends`: the bundled model's one pass at 32 px through "
                  "the tf.function (`tf`), XLA, the exported SavedModel's signature and the exported .tflite "
                  "(XNNPACK on 1 and on all threads), batch 1 and 64; FLOPs counted from the graph, the share of "
                  "the machine's fp32 matmul peak measured in the same run, the peak resident memory while the row "
                  "ran, and the speedup over Yeh et al.'s search timed in the same run. `inpaint --backend=auto` "
                  "takes TFLite up to batch 4 on models up to 64 px and tf otherwise (pgi_tf/inference/backends.py)."),
    Section(title="Serving backends at Table 4's 64 and 128 px (untrained DCGAN presets)",
            path="results/serving_backends_64_128/benchmark.json", render=_benchmark_table,
            prose="The same suite on untrained G, D and P of the 64 and 128 px presets (speed does not depend on "
                  "training); searches longer than the time cap are timed on fewer steps and scaled "
                  "(`iterative_timed_steps`)."),
    Section(title="Training speed: our GAN and stage-2 steps vs a plain Keras fit() of the same networks",
            path="results/training_vs_fit/benchmark.json", render=_benchmark_table,
            prose="`binaries/benchmark.py --suites=gan_training,prior_training`: our step and keras-io's "
                  "custom-train_step `fit()` of the same networks, losses, optimizers and batch, timed alternately "
                  "(median step), with and without XLA, each with its FLOPs, share of the fp32 matmul peak and "
                  "per-pass times (the `*_ms` columns: where XLA loses)."),
    Section(title="Where the one pass's time goes at 64 px, batch 64: per layer of P and G",
            path="results/layer_profile/benchmark.json", render=_benchmark_table,
            prose="`binaries/benchmark.py --suites=layer_profile`: each layer of the 64 px presets' P and G run alone "
                  "in inference mode on the batch it sees in the one pass, with its FLOPs from its graph and its "
                  "share of the fp32 matmul peak measured in the same run."),
    Section(title="λ1, λ2 of Eq. 7 on the validation split", path="results/sweep_lambdas/results.json",
            render=_lambda_sweep,
            prose="P trained against the bundled G and D (which never saw the validation images) once per grid "
                  "point and seed; one-pass inpainting measured on the first images of the validation split. "
                  "The chosen point is what `configs/fashion_mnist32_prior.py` uses (a test checks it)."),
    Section(title="Silhouette keypoint refiner: hole-shaped drops chosen on the validation split",
            path="results/sweep_refiner_silhouette/results.json", render=_refiner_sweep,
            prose="f of the silhouette prior trained once per value and seed; its completed keypoints compared "
                  "with the true silhouette where a Table 1 hole hides it, on validation images (G and P play no "
                  "part). The chosen value is what `configs/keypoint_refiner_fashion_mnist32.py` uses."),
    Section(title="Face keypoint refiner: share of real shapes chosen on validation faces",
            path="results/sweep_refiner_faces/results.json", render=_refiner_sweep,
            prose="f trained once per value and seed on synthetic faces plus dlib's landmarks of the LFW "
                  "subset's faces 0-69; measured on faces 70-99 with each half of the face box masked in turn "
                  "(the astronaut of Fig. 4 only reports). The chosen value is what "
                  "`configs/keypoint_refiner_faces.py` uses."),
)

HEADER = """# Results

Generated by `python -m binaries.report` from the JSON files under `results/`; do not edit by
hand. Each section shows the command that wrote its JSON, the git revision, the machine and the
wall time. Choices (λ, steps, variants) are made on validation splits; test splits only report.
Fréchet distances name their feature extractor and sample size: a number from the Fashion-MNIST
classifier is not an Inception FID.
"""


def provenance_line(record: dict) -> str:
  machine = record.get("machine", {})
  dirty = " (uncommitted changes)" if record.get("git_dirty") else ""
  return (f"Written by `{record['command']}` at git {record['git_revision'][:10]}{dirty}, "
          f"{machine.get('cpu_count')} CPU cores ({machine.get('processor')}), "
          f"{machine.get('gpus', 0)} GPUs, TensorFlow {machine.get('tensorflow')}, "
          f"{record['wall_time_s']:.0f} s wall time, finished {record['finished_utc']}.")


FIGURE_CAPTIONS = {
    "grid.png": "Sample grid: per hole ratio, rows of masked | each method | original (8 images).",
    "examples.png": "Sample clip: input | each model | ground truth.",
    "landmark_curves.png": "Cumulative RLE curves (Fig. 4 layout).",
    "candidates.png": "The K candidates of the bundled P at the largest hole ratio: masked | candidates, best "
                      "first by Eq. 4 | original.",
}


def figure_links(repo: str, json_path: str) -> list[str]:
  """Markdown image links to the PNGs the binary wrote next to the JSON, with captions."""
  directory = os.path.dirname(json_path)
  names = sorted(n for n in os.listdir(os.path.join(repo, directory)) if n.endswith(".png"))
  lines = []
  for name in names:
    caption = FIGURE_CAPTIONS.get(name) or (
        f"The K candidates of P variant {name[len('candidates_'):-4]!r} at the largest hole ratio: masked | "
        "candidates, best first by Eq. 4 | original." if name.startswith("candidates_") else name)
    lines += [f"![{name}]({directory}/{name})", "", caption, ""]
  return lines


def render(repo: str) -> tuple[str, list[str]]:
  """(RESULTS.md text, the JSON paths it used)."""
  parts, used, waiting = [HEADER], [], []
  for section in SECTIONS:
    path = os.path.join(repo, section.path)
    data = json.load(open(path)) if os.path.isfile(path) else None
    if not data or not isinstance(data, dict) or not data.get("provenance"):
      waiting.append(section)
      continue
    used.append(section.path)
    body = [f"## {section.title}", ""]
    if section.prose:
      body += [section.prose, ""]
    body += [provenance_line(data["provenance"]), "", section.render(data), ""]
    body += figure_links(repo, section.path)
    parts.append("\n".join(body))
  if waiting:
    parts.append("\n".join(["## Not regenerated yet", "",
                            "These sections have no JSON with provenance yet; rerun their binary to add them:", ""]
                           + [f"- {s.title} (`{s.path}`)" for s in waiting] + [""]))
  return "\n".join(parts), used
