r"""Chooses λ1 (photo-realism, Eq. 5) and λ2 (gradient difference, Eq. 6) of Eq. 7 on a validation split.

The paper does not give their values. For each (λ1, λ2) on the grid this trains P for
--steps against the frozen G and D of the preset, then measures one-pass inpainting on the
validation split (PSNR and the Fréchet distance, 10% and 40% holes). Writes table.md and
results.json into --output_dir; the chosen values go into the preset file by hand.

  python -m binaries.sweep_lambdas --config=configs/fashion_mnist32_prior.py --output_dir=runs/sweep
"""

from binaries import _main  # noqa: F401

import itertools
import os

import keras
from absl import flags
from ml_collections import config_flags

from pgi_tf.evaluation import images as image_evaluation
from pgi_tf.errors import InputError
from pgi_tf.evaluation import provenance
from pgi_tf.evaluation import tables
from pgi_tf.inference import loading
from pgi_tf.data import datasets
from pgi_tf.train import prior
from pgi_tf.metrics import extractors

_CONFIG = config_flags.DEFINE_config_file("config", None, "Stage-2 preset.")
_OUTPUT_DIR = flags.DEFINE_string("output_dir", "runs/sweep_lambdas", "Where table.md and results.json go.")
_WORKDIR = flags.DEFINE_string("workdir", "", "Where each grid point's P is trained ('' = the output directory); "
                               "keep checkpoints out of results/.")
_LAMBDA_REALISM = flags.DEFINE_list("lambda_realism", ["0", "0.003", "0.03"], "λ1 grid.")
_LAMBDA_GRADIENT = flags.DEFINE_list("lambda_gradient", ["0", "0.3", "1"], "λ2 grid.")
_STEPS = flags.DEFINE_integer("steps", 1500, "Training steps per grid point.", lower_bound=1)
_NUM_IMAGES = flags.DEFINE_integer("num_images", 500, "Validation images.", lower_bound=1)
_SPLIT = flags.DEFINE_string("split", "val", "Validation split (never the test split).")
_SEEDS = flags.DEFINE_list("seeds", ["0"], "One training run per grid point and seed (seeds the weights, "
                           "data order and masks); two or more show whether the ranking is stable.")
_FD_EXTRACTOR = flags.DEFINE_string("fd_extractor", "savedmodel:hub_modules/fashion_mnist32/fid_classifier",
                                    "Extractor for the Fréchet distance ('' to skip).")
_GAN_FLAGS = _main.define_gan_flags()
flags.mark_flags_as_required(["config"])


def main(argv):
  del argv
  run = provenance.start()
  _main.refuse_test_split(_SPLIT.value)
  base = _CONFIG.value
  _main.apply_gan_flags(base, _GAN_FLAGS)
  extractor = None
  if _FD_EXTRACTOR.value:
    extractor = extractors.load_extractor(_FD_EXTRACTOR.value)
  seeds = _main.number_list("seeds", _SEEDS.value, int, low=0, high=2**31 - 1)
  rows = []
  for seed, l1, l2 in itertools.product(seeds, map(float, _LAMBDA_REALISM.value),
                                        map(float, _LAMBDA_GRADIENT.value)):
    config = base.copy_and_resolve_references()
    config.loss.lambda_realism, config.loss.lambda_gradient = l1, l2
    config.seed = seed
    config.train.num_steps = _STEPS.value
    config.train.sample_every = _STEPS.value
    workdir = os.path.join(_WORKDIR.value or _OUTPUT_DIR.value,
                           f"seed={seed}_lambda_realism={l1}_lambda_gradient={l2}")
    keras.utils.set_random_seed(seed)  # P's initial weights: the seed is the whole run's
    prior.train(config, workdir=workdir)
    models = loading.load_models(generator=config.generator, discriminator=config.discriminator,
                                       photo_realism_policy=config.photo_realism,
                                       prior_predictor=os.path.join(workdir, "export", "prior_predictor"))
    images = next(iter(datasets.make_image_dataset(
        source=config.data.source, data_dir=config.data.data_dir or None, split=_SPLIT.value,
        resolution=models.resolution, channels=models.channels, batch_size=_NUM_IMAGES.value,
        shuffle=False, repeat=False, drop_remainder=False))).numpy()
    results, _ = image_evaluation.evaluate(inpainter=loading.make_inpainter(models), images=images,
                                     hole_ratios=(0.1, 0.4), methods=("single",), extractor=extractor)
    for r in results:
      rows.append({"seed": seed, "lambda_realism": l1, "lambda_gradient": l2, **r})
  os.makedirs(_OUTPUT_DIR.value, exist_ok=True)
  print(tables.lambda_sweep_table(rows, steps=_STEPS.value, num_images=len(images), split=_SPLIT.value,
                                  output_dir=_OUTPUT_DIR.value,
                                  run=run))

if __name__ == "__main__":
  _main.run(main)
