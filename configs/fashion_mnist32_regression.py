"""Table 1, the regression peer (beyond the paper, issue 13): a U-Net inpainter on Fashion-MNIST at 32 px.

Paper: §2 and §6.3 set the GAN-prior school (P + frozen G) against methods that regress the hole
from its context in one network (Context Encoders, GLCIC); the argument is that regression wins
on PSNR and the GAN prior on realism. This is that peer: F(I_d, M) trained with L1 on the hole
plus a non-saturating adversarial term from its own DCGAN discriminator (the GLCIC / DeepFill /
LaMa recipe at the smallest size), on P's data split and training masks.
Run:     python -m binaries.train_regression_inpainter --config=configs/fashion_mnist32_regression.py --workdir=runs/fmnist32_regression
Smoke:   python -m binaries.train_regression_inpainter --config=configs/fashion_mnist32_regression.py:smoke --workdir=/tmp/r
Expect:  the "regression" row of Table 1 in RESULTS.md (binaries/evaluate.py --methods=...,regression).
         The bundled hub_modules/fashion_mnist32/regression_inpainter is this preset.
Differs from the paper: not in the paper (its Table 1 has no regression row); λ_adv = 0.01 is
LaMa-scale and not tuned; no perceptual or feature-matching loss, no dilated or gated convs.
"""

import ml_collections

from configs import fashion_mnist32_prior
from configs import prior_defaults


def get_config(arg: str | None = None):
  prior = fashion_mnist32_prior.get_config()
  config = ml_collections.ConfigDict()
  config.name = "fashion_mnist32_regression"
  config.seed = 0
  config.data = prior.data          # the train split: the first 55,000 training images
  config.masks = prior.masks        # P's training holes: 10%, 25%, 40% "ratio" holes
  config.model = ml_collections.ConfigDict()
  config.model.base_channels = 16
  config.model.max_channels = 256
  config.model.discriminator_base_channels = 64
  config.loss = ml_collections.ConfigDict()
  config.loss.lambda_adversarial = 0.01
  config.train = prior_defaults.prior_config().train
  config.train.num_steps = 4000
  config.train.learning_rate = 2e-4
  config.train.beta1 = 0.5
  if arg == "smoke":
    config.name += "_smoke"
    config.model.base_channels = 8
    config.model.discriminator_base_channels = 8
    config.train.num_steps = 4
    config.train.batch_size = 8
    config.train.checkpoint_every = 2
    config.train.summary_every = 2
    config.train.sample_every = 2
    config.train.sample_grid_size = 8
  config.lock()  # a misspelt key in a config file that builds on this preset is an error
  return config
