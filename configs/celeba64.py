"""CelebA at 64 px: Table 1, CelebA columns (§6.3 "Dataset Setup").

Paper: detected faces centre-cropped to 64x64, DCGAN, holes of 32x32 at random locations;
10,000 test images. Expected (paper, Yeh et al. row / ours M_z): PSNR 23.8 / 23.4 at 10%.
Run:   python -m binaries.train_gan --config=configs/celeba64.py --config.data.data_dir=/data/celeba --workdir=runs/celeba64
Smoke: python -m binaries.train_gan --config=configs/celeba64.py:smoke ...
Data:  <data_dir>/img_align_celeba/*.jpg and list_eval_partition.txt (see pgi_tf/data/images.py for the crop).
Expect: not run here (no CelebA offline); the paper's Table 1 numbers above are the target of
       stage 2 (configs/celeba64_prior.py) on this G.
Differs from the paper: nothing known in stage 1; the paper does not give its DCGAN widths,
we use Radford et al.'s 64 px DCGAN.
"""

from configs import gan_defaults


def get_config(arg: str | None = None):
  config = gan_defaults.gan_config()
  config.name = "celeba64"
  config.data.source = "celeba"
  config.data.resolution = 64
  config.data.channels = 3
  config.train.num_steps = 50000
  if arg == "smoke":
    config = gan_defaults.make_smoke(config)
  return config
