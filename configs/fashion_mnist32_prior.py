"""Stage 2 on Fashion-MNIST at 32 px: P for the bundled default (Table 1 pattern, §4.1, §6.3).

Paper: P trained with Eq. 7 against the frozen DCGAN of Table 1; holes of 32x32 at 64 px
(a quarter of the image) for training, 10% and 40% hole ratios for Table 1.
Run:     python -m binaries.train_prior --config=configs/fashion_mnist32_prior.py --workdir=runs/fmnist32_prior
Smoke:   python -m binaries.train_prior --config=configs/fashion_mnist32_prior.py:smoke --workdir=/tmp/p
Expect:  see README "Results" (binaries/evaluate.py on the test split).
Differs from the paper: training holes are a uniform mixture of 10%, 25% and 40% square-ish
holes (the paper trains on 32x32 at 64 px = 25%); λ1, λ2 are not given in the paper: they
come from the sweep recorded in the README.
"""


from configs import prior_defaults


def get_config(arg: str | None = None):
  config = prior_defaults.prior_config()
  config.name = "fashion_mnist32_prior"
  config.generator = "hub_modules/fashion_mnist32/generator"
  config.discriminator = "hub_modules/fashion_mnist32/discriminator"
  config.data.source = "fashion_mnist"
  config.data.resolution = 32
  config.data.channels = 1
  config.masks.mixture_hole_ratios = (0.1, 0.25, 0.4)
  if arg == "smoke":
    config = prior_defaults.make_smoke(config)
  return config
