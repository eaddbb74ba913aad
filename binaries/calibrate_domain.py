r"""Measure how closely a model reproduces the known pixels of its own validation images, and save
the threshold above which `inpaint` warns that an input is far from the model's domain.

  python -m binaries.calibrate_domain            # the bundled M_z: hub_modules/fashion_mnist32/prior_predictor/domain_check.json
  python -m binaries.calibrate_domain --model_dir=runs/celeba64_prior/export --source=celeba --data_dir=...

Writes --domain_file (default: domain_check.json inside P's folder), read by `inpaint` whenever it
loads that P (pgi_tf/inference/domain.py). Validation split only.
"""

from binaries import _main  # noqa: F401

import os

from absl import flags

from pgi_tf.inference import domain
from pgi_tf.inference import loading

_MODEL_DIR = flags.DEFINE_string("model_dir", "", f"Model with a prior_predictor/; '' = {loading.BUNDLED_MODEL_DIR}.")
_SOURCE = flags.DEFINE_string("source", "", "Data source ('' = the one P was trained on, from its metadata).")
_DATA_DIR = flags.DEFINE_string("data_dir", None, "The data set's folder (fashion_mnist: the Debian package's).")
_SPLIT = flags.DEFINE_string("split", "val", "Validation split (the test split is refused).")
_NUM_IMAGES = flags.DEFINE_integer("num_images", 2000, "Validation images.", lower_bound=100)
_BATCH_SIZE = flags.DEFINE_integer("batch_size", 250, "Images per batch.", lower_bound=1)
_HOLE_RATIO = flags.DEFINE_float("hole_ratio", 0.25, "Hole area share of the random holes.")
flags.register_validator("hole_ratio", lambda v: 0 < v < 1, "must be in (0, 1)")
_SEED = flags.DEFINE_integer("seed", 0, "Seeds the holes.", lower_bound=0)
_DOMAIN_FILE = flags.DEFINE_string("domain_file", "", f"Where the JSON goes ('' = <P's folder>/{domain.DOMAIN_CHECK_FILENAME}).")


def main(argv):
  del argv
  _main.refuse_test_split(_SPLIT.value)
  models = loading.load_models(model_dir=_MODEL_DIR.value or loading.default_model_dir("none"), discriminator="none")
  source = _SOURCE.value or models.prior_predictor.metadata.get("dataset", "")
  scores = domain.validation_errors(models, source=source, data_dir=_DATA_DIR.value, split=_SPLIT.value,
                                    num_images=_NUM_IMAGES.value, batch_size=_BATCH_SIZE.value,
                                    hole_ratio=_HOLE_RATIO.value, seed=_SEED.value)
  content = domain.calibrate(scores, source=f"{source} {_SPLIT.value}, {scores.size} images, "
                                            f"{_HOLE_RATIO.value:.0%} holes")
  path = _DOMAIN_FILE.value or os.path.join(models.prior_predictor.handle, domain.DOMAIN_CHECK_FILENAME)
  domain.write(path, content)
  print(_main.json_line({"domain_file": path, **content}))


if __name__ == "__main__":
  _main.run(main)
