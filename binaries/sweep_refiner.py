r"""Chooses a keypoint refiner setting (Eq. 9, §4.2) on validation data, never on test.

For each value of the swept setting and each seed this trains f with the preset, then measures
f on validation data (`pgi_tf.evaluation.refiner_selection`, one entry per kind of f):
  silhouette f       config.train.hole_drop_fraction (Table 1 hole-shaped drops next to Eq. 9's
                     independent ones); error where a 10% / 40% hole hides the silhouette, val images.
  face f             config.data.lfw_dlib_fraction (share of real dlib-on-LFW shapes); RLE with
                     each half of the face masked, the LFW subset's validation faces.
Writes table.md and results.json (rows, the chosen value, provenance) into --output_dir.

  python -m binaries.sweep_refiner --config=configs/keypoint_refiner_fashion_mnist32.py \
      --output_dir=results/sweep_refiner_silhouette --workdir=runs/sweep_refiner_silhouette
  python -m binaries.sweep_refiner --config=configs/keypoint_refiner_faces.py \
      --output_dir=results/sweep_refiner_faces --workdir=runs/sweep_refiner_faces
"""

from binaries import _main  # noqa: F401

import itertools
import os

from absl import flags
from ml_collections import config_flags

from pgi_tf import hub
from pgi_tf.errors import InputError
from pgi_tf.evaluation import provenance
from pgi_tf.evaluation import refiner_selection
from pgi_tf.evaluation import tables
from pgi_tf.train import keypoint_refiner

_CONFIG = config_flags.DEFINE_config_file("config", None, "Keypoint refiner preset.")
_OUTPUT_DIR = flags.DEFINE_string("output_dir", "runs/sweep_refiner", "Where table.md and results.json go.")
_WORKDIR = flags.DEFINE_string("workdir", "", "Where each variant's f is trained ('' = the output directory).")
_VALUES = flags.DEFINE_list("values", [], "Values of the swept setting ([] = the kind's defaults).")
_SEEDS = flags.DEFINE_list("seeds", ["0", "1"], "One f per value and seed.")
_NUM_IMAGES = flags.DEFINE_integer("num_images", 1000, "Validation images (faces: at most the 30 LFW val faces).", lower_bound=1)
_SPLIT = flags.DEFINE_string("split", "val", "Validation split (never the test split).")
_MASK_SEED = flags.DEFINE_integer("mask_seed", 0, "Seed of the evaluation masks.", lower_bound=0)
flags.mark_flags_as_required(["config"])


def main(argv):
  del argv
  run = provenance.start()
  _main.refuse_test_split(_SPLIT.value)
  base = _CONFIG.value
  selection = refiner_selection.get_selection(base.data.kind)
  values = (_main.number_list("values", _VALUES.value, float, low=0.0, high=selection.max_value) if _VALUES.value
            else list(selection.default_values))
  seeds = _main.number_list("seeds", _SEEDS.value, int, low=0, high=2**31 - 1)
  if _NUM_IMAGES.value < 1:
    raise InputError(f"--num_images={_NUM_IMAGES.value}: must be at least 1")
  measure, sample = selection.prepare(base, split=_SPLIT.value, num_images=_NUM_IMAGES.value, seed=_MASK_SEED.value)
  section, field = selection.parameter.split(".")
  rows = []
  for seed, value in itertools.product(seeds, values):
    config = base.copy_and_resolve_references()
    config.seed = seed
    config[section][field] = value
    workdir = os.path.join(_WORKDIR.value or _OUTPUT_DIR.value, f"seed={seed}_{field}={value}")
    keypoint_refiner.train(config, workdir=workdir)
    refine = hub.load_keypoint_refiner(os.path.join(workdir, "export", "keypoint_refiner"))
    rows += [{"seed": seed, "value": value, **row} for row in measure(refine)]
  os.makedirs(_OUTPUT_DIR.value, exist_ok=True)
  data = {"title": selection.title, "parameter": selection.parameter, "choose_by": selection.choose_by,
          "baseline": selection.baseline, "error": selection.error, "sample": sample, "split": _SPLIT.value,
          "steps": int(base.train.num_steps), "rows": rows}
  print(tables.refiner_sweep_table(data, output_dir=_OUTPUT_DIR.value, run=run))


if __name__ == "__main__":
  _main.run(main)
