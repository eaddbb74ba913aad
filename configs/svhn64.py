"""SVHN (cropped digits) at 64 px: Table 1, SVHN columns (§6.3 "Dataset Setup").

Paper: SVHN crops resized to 64x64, the provider's train/test split. Expected (paper,
Yeh et al. / ours M_z): PSNR 21.3 / 21.1 at 10% holes, 16.5 / 17.0 at 40%.
Run:   python -m binaries.train_gan --config=configs/svhn64.py --config.data.data_dir=/data/svhn --workdir=runs/svhn64
Smoke: python -m binaries.train_gan --config=configs/svhn64.py:smoke ...
Data:  <data_dir>/train_32x32.mat and test_32x32.mat (format 2 of the SVHN site).
Expect: not run here (no SVHN offline); the paper's Table 1 numbers above are the target of
       stage 2 (configs/svhn64_prior.py) on this G.
Differs from the paper: DCGAN widths not given there; Radford et al.'s 64 px DCGAN.
"""

from configs import gan_defaults


def get_config(arg: str | None = None):
  config = gan_defaults.gan_config()
  config.name = "svhn64"
  config.data.source = "svhn"
  config.data.resolution = 64
  config.data.channels = 3
  config.train.num_steps = 30000
  if arg == "smoke":
    config = gan_defaults.make_smoke(config)
  return config
