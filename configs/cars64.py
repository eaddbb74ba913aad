"""Stanford Cars at 64 px: Table 1, Cars columns (§6.3 "Dataset Setup").

Paper: cars cut out with the devkit's bounding boxes and resized to 64x64; provider's
train/test split. Expected (paper, Yeh et al. / ours M_z): PSNR 15.1 / 14.8 at 10%,
12.2 / 12.5 at 40%.
Run:   python -m binaries.train_gan --config=configs/cars64.py --config.data.data_dir=/data/stanford_cars --workdir=runs/cars64
Smoke: python -m binaries.train_gan --config=configs/cars64.py:smoke ...
Data:  <data_dir>/cars_train/, cars_test/, devkit/cars_train_annos.mat, cars_test_annos_withlabels.mat.
Expect: not run here (no Stanford Cars offline); the paper's Table 1 numbers above are the target
       of stage 2 (configs/cars64_prior.py) on this G.
Differs from the paper: DCGAN widths not given there; Radford et al.'s 64 px DCGAN.
"""

from configs import gan_defaults


def get_config(arg: str | None = None):
  config = gan_defaults.gan_config()
  config.name = "cars64"
  config.data.source = "cars"
  config.data.resolution = 64
  config.data.channels = 3
  config.train.num_steps = 30000
  if arg == "smoke":
    config = gan_defaults.make_smoke(config)
  return config
