"""MODEL_CARD.md of every bundled model, rendered like RESULTS.md: facts from the modules' own
metadata, numbers from the results JSONs (rows picked by their labels), prose without numbers.

`binaries/report.py` writes them next to RESULTS.md and `--check` says whether they are current.
"""

from __future__ import annotations

import dataclasses
import json
import os

from pgi_tf import hub
from pgi_tf.evaluation import report


@dataclasses.dataclass(frozen=True)
class Metrics:
  """Rows of one results JSON: those whose `match` fields equal the given values."""
  path: str                      # relative to the repository root
  match: dict                    # e.g. {"method": "single"}
  columns: tuple[str, ...]       # fields shown, e.g. ("hole_ratio", "psnr_db", "frechet_distance")


@dataclasses.dataclass(frozen=True)
class Card:
  model_dir: str                 # e.g. hub_modules/fashion_mnist32
  title: str
  parts: tuple[str, ...]         # sub-folders whose metadata is listed (generator, prior_predictor, ...)
  data: str
  intended_use: str
  limitations: str
  metrics: tuple[Metrics, ...] = ()


_FASHION_DATA = ("Fashion-MNIST (Debian's dataset-fashion-mnist), 28 px grey garments brought to 32 px; "
                 "G, D and P trained on the training split less the last 5,000 images (the val split, used "
                 "for every choice); metrics on the 10,000-image test split, which chose nothing.")
_FASHION_LIMITS = ("32 x 32 grey garments only. Any other image is resized to 32 px and filled with a "
                   "garment (the inpaint command warns when an input is far from this domain). One pass is "
                   "behind the iterative search in Fréchet distance at large holes (RESULTS.md). Not a "
                   "photo, face or scene inpainter; train your own G and P for those.")

CARDS = (
    Card(model_dir="hub_modules/fashion_mnist32", title="M_z on Fashion-MNIST, 32 px (the default model)",
         parts=("generator", "discriminator", "prior_predictor", "inpainter"),
         data=_FASHION_DATA,
         intended_use=("Reproducing the paper's one-pass inpainting (Eq. 8) and its comparison with Yeh et al.'s "
                       "search on a small grey data set; the default of `inpaint`, the demo page and the "
                       "serving export (`inpainter/`, `inpainter/inpainter.tflite`: any image size)."),
         limitations=_FASHION_LIMITS,
         metrics=(Metrics("results/table1_fashion_mnist32_test10000/results.json", {"method": "single"},
                          ("hole_ratio", "psnr_db", "ssim", "frechet_distance", "ms_per_image")),)),
    Card(model_dir="hub_modules/fashion_mnist32_silhouette_retrained",
         title="M_{z+S}: silhouette structural prior on Fashion-MNIST, 32 px (the default M_{z+S})",
         parts=("generator", "discriminator", "prior_predictor", "keypoint_refiner"),
         data=_FASHION_DATA,
         intended_use="The §4.2 structural prior (a silhouette S refined by f conditions P and G): "
                      "`inpaint --structural_prior=silhouette`, the M_{z+S} rows of RESULTS.md.",
         limitations=_FASHION_LIMITS + " On this data the structural prior does not beat M_z (RESULTS.md).",
         metrics=(Metrics("results/table1_structural_fashion_mnist32/results.json",
                          {"model": "M_z+S (silhouette)"}, ("method", "hole_ratio", "psnr_db", "frechet_distance")),)),
    Card(model_dir="hub_modules/fashion_mnist32_silhouette",
         title="M_{z+S} (older, with the M_{z+S+L} sequence prior) on Fashion-MNIST, 32 px",
         parts=("generator", "discriminator", "prior_predictor", "keypoint_refiner", "sequence_prior"),
         data=_FASHION_DATA,
         intended_use="Kept for its sequence prior (M_{z+S+L}, Table 3's structural rows) and for comparison.",
         limitations=_FASHION_LIMITS + " Superseded for still images by fashion_mnist32_silhouette_retrained.",
         metrics=(Metrics("results/table3_structural_moving_fashion_mnist32_fixed/results.json", {},
                          ("model", "temporal", "psnr_db", "flicker")),)),
    Card(model_dir="hub_modules/moving_fashion_mnist32",
         title="Grouped priors (§4.3) on moving Fashion-MNIST clips, 32 px",
         parts=("generator", "discriminator", "sequence_prior", "sequence_prior_paper", "sequence_prior_per_frame"),
         data=("Clips of 16 frames: Fashion-MNIST garments moving on a 32 px canvas, made offline from the "
               "training split (val clips from the val split, test clips from the test split)."),
         intended_use="`inpaint --video`, Table 3: the LSTM grouped prior (Eq. 10) against per-frame P.",
         limitations=("Synthetic motion of 32 px grey garments. On the test clips no LSTM model reaches the "
                      "same-data per-frame model's PSNR (RESULTS.md)."),
         metrics=(Metrics("results/table3_temporal_options_fixed/results.json", {},
                          ("model", "temporal", "psnr_db", "flicker")),)),
    Card(model_dir="hub_modules/face_landmarks", title="Keypoint refiner f for 68 face landmarks (§4.2, Eq. 9)",
         parts=("keypoint_refiner",),
         data=("Face shapes from dlib's 68-point detector (`pip install .[faces]`) on scikit-image's and "
               "synthetic faces, offline; 70% of the points hidden per step as in the paper."),
         intended_use="Completing hidden landmarks for M_{z+S} on faces with your own face G and P.",
         limitations="Refines landmarks only; no face G or P ships (no face data set offline)."),
)

CARD_FILENAME = "MODEL_CARD.md"


def _format(value) -> str:
  if isinstance(value, float):
    return f"{value:.4g}" if abs(value) < 1000 else f"{value:.0f}"
  return str(value)


def _metrics_table(repo: str, metrics: Metrics) -> tuple[str, str]:
  if not os.path.isfile(os.path.join(repo, metrics.path)):
    return "(no results yet)", f"`{metrics.path}` is missing: run the command in scripts/reproduce_results.sh."
  with open(os.path.join(repo, metrics.path)) as f:
    data = json.load(f)
  rows = [r for r in data["rows"] if all(r.get(k) == v for k, v in metrics.match.items())]
  lines = ["| " + " | ".join(metrics.columns) + " |", "|" + "---|" * len(metrics.columns)]
  lines += ["| " + " | ".join(_format(row.get(c, "")) for c in metrics.columns) + " |" for row in rows]
  size = data.get("num_images") or data.get("num_clips")
  source = f"From `{metrics.path}` (split {data.get('split', '?')}, n = {size}). " + report.provenance_line(data["provenance"])
  return "\n".join(lines), source


def _part_line(repo: str, card: Card, part: str) -> str:
  metadata = hub.read_metadata(os.path.join(repo, card.model_dir, part)) or {}
  facts = [f"{key} {metadata[key]}" for key in ("kind", "config_name", "resolution", "channels", "z_dim",
                                                "trained_steps", "structural_prior") if metadata.get(key) not in (None, "")]
  return f"- `{part}/`: " + (", ".join(facts) if facts else "(no metadata)")


def render(repo: str, card: Card) -> str:
  lines = [f"# {card.title}", "", f"`{card.model_dir}`, bundled with pgi_tf (Apache-2.0). Generated by "
           "`python -m binaries.report` from the modules' metadata and the results JSONs; do not edit.", "",
           "## Parts", ""]
  lines += [_part_line(repo, card, part) for part in card.parts]
  lines += ["", "## Data", "", card.data, "", "## Intended use", "", card.intended_use, "",
            "## Limitations", "", card.limitations]
  for metrics in card.metrics:
    table, source = _metrics_table(repo, metrics)
    lines += ["", "## Metrics", "", table, "", source]
  return "\n".join(lines) + "\n"


def render_all(repo: str) -> dict[str, str]:
  """{path relative to repo: text} of the card of every bundled model present in `repo`."""
  return {os.path.join(card.model_dir, CARD_FILENAME): render(repo, card) for card in CARDS
          if os.path.isdir(os.path.join(repo, card.model_dir))}
