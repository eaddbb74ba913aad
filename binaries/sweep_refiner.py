r"""Chooses the silhouette refiner's hole-shaped drops (config.train.hole_drop_fraction) on val.

f (Eq. 9) is trained on Eq. 9's independent 70% drops, mixed with drops shaped like Table 1's
holes (contiguous rays hidden) for a fraction of the batches. For each fraction and seed this
trains f with the preset, then measures on the validation split how far f's completed keypoints
lie from the true silhouette where a 10% / 40% Table 1 hole hides them (no G or P involved).
Writes table.md and results.json (with the chosen fraction) into --output_dir.

  python -m binaries.sweep_refiner --config=configs/keypoint_refiner_fashion_mnist32.py \
      --output_dir=results/sweep_refiner --workdir=runs/sweep_refiner
"""

from binaries import _main  # noqa: F401

import itertools
import os

from absl import flags
from ml_collections import config_flags

from pgi_tf import hub
from pgi_tf.data import datasets
from pgi_tf.errors import InputError
from pgi_tf.evaluation import images as image_evaluation
from pgi_tf.evaluation import provenance
from pgi_tf.evaluation import silhouette_completion
from pgi_tf.evaluation import tables
from pgi_tf.train import keypoint_refiner

_CONFIG = config_flags.DEFINE_config_file("config", None, "Silhouette refiner preset.")
_OUTPUT_DIR = flags.DEFINE_string("output_dir", "runs/sweep_refiner", "Where table.md and results.json go.")
_WORKDIR = flags.DEFINE_string("workdir", "", "Where each variant's f is trained ('' = the output directory).")
_FRACTIONS = flags.DEFINE_list("hole_drop_fraction", ["0", "0.25", "0.5", "0.75"],
                               "Share of batches with Table 1 hole-shaped drops, one f per value.")
_SEEDS = flags.DEFINE_list("seeds", ["0", "1"], "One f per value and seed.")
_NUM_IMAGES = flags.DEFINE_integer("num_images", 1000, "Validation images.")
_SPLIT = flags.DEFINE_string("split", "val", "Validation split (never the test split).")
_HOLE_RATIOS = flags.DEFINE_list("hole_ratios", ["0.1", "0.4"], "Table 1 hole ratios.")
_MASK_SEED = flags.DEFINE_integer("mask_seed", 0, "Seed of the evaluation masks.")
flags.mark_flags_as_required(["config"])


def _numbers(flag, values: list[str], cast, *, low: float, high: float) -> list:
  try:
    numbers = [cast(v) for v in values]
  except ValueError:
    raise InputError(f"--{flag}={','.join(values)}: expected a comma-separated list of numbers") from None
  if not numbers or any(not low <= n <= high for n in numbers) or len(set(numbers)) != len(numbers):
    raise InputError(f"--{flag}={','.join(values)}: expected distinct values in [{low}, {high}]")
  return numbers


def main(argv):
  del argv
  run = provenance.start()
  if _SPLIT.value == "test":
    raise InputError("--split=test: choices are made on the validation split; the test split only reports")
  base = _CONFIG.value
  if base.data.kind != "silhouette":
    raise InputError(f"--config: data.kind is {base.data.kind!r}; this sweep is for silhouette refiners")
  fractions = _numbers("hole_drop_fraction", _FRACTIONS.value, float, low=0.0, high=1.0)
  seeds = _numbers("seeds", _SEEDS.value, int, low=0, high=2**31 - 1)
  ratios = _numbers("hole_ratios", _HOLE_RATIOS.value, float, low=0.01, high=0.9)
  if _NUM_IMAGES.value < 1:
    raise InputError(f"--num_images={_NUM_IMAGES.value}: must be at least 1")
  resolution, num_rays = int(base.data.resolution), int(base.data.num_rays)
  images = next(iter(datasets.make_image_dataset(
      source=base.data.source, data_dir=base.data.data_dir or None, split=_SPLIT.value,
      resolution=resolution, channels=int(base.data.channels), batch_size=_NUM_IMAGES.value,
      shuffle=False, repeat=False, drop_remainder=False))).numpy()
  mean_shape = silhouette_completion.mean_silhouette(images, num_rays=num_rays)
  masks = {ratio: image_evaluation.evaluation_masks(count=len(images), resolution=resolution, hole_ratio=ratio,
                                                    seed=_MASK_SEED.value) for ratio in ratios}
  rows = []
  for seed, fraction in itertools.product(seeds, fractions):
    config = base.copy_and_resolve_references()
    config.seed = seed
    config.train.hole_drop_fraction = fraction
    workdir = os.path.join(_WORKDIR.value or _OUTPUT_DIR.value, f"seed={seed}_hole_drop_fraction={fraction}")
    summary = keypoint_refiner.train(config, workdir=workdir)
    refine = hub.load_keypoint_refiner(os.path.join(workdir, "export", "keypoint_refiner"))
    for ratio in ratios:
      errors = silhouette_completion.completion_errors(refine, images, masks[ratio], num_rays=num_rays,
                                                       mean_shape=mean_shape)
      rows.append({"seed": seed, "hole_drop_fraction": fraction, "hole_ratio": ratio, **errors,
                   "held_out_eq9": summary.get("held_out", {})})
  os.makedirs(_OUTPUT_DIR.value, exist_ok=True)
  print(tables.refiner_sweep_table(rows, num_images=len(images), split=_SPLIT.value,
                                   steps=int(base.train.num_steps), output_dir=_OUTPUT_DIR.value, run=run))


if __name__ == "__main__":
  _main.run(main)
