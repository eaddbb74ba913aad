r"""Table 2, ImageNet column: class-conditional M_z^H with BigGAN at 256 px (§5, §6.3.3).

Paper: BigGAN (one generator for all 1000 classes, class-conditional batch norm) is frozen; P
predicts z for the image's class (given at training; at test time either the actual label or
the one a ResNet-101 fine-tuned on masked images predicts: configs/class_predictor_imagenet256.py,
75.3% top-1 on masked vs 77% unmasked); ImageNet resized to 256x256, CENTRAL holes (objects
are mostly centred), smaller side 96-128 px; 10,000 test images sampled equally across the
validation classes; Table 2 reports FID for 96x96 and 128x128 holes, with actual and predicted labels.
Run (GPU machine, real modules; step by step in README "On a GPU machine with network"):
         python -m binaries.train_critic --config=configs/critic_imagenet256_biggan.py \
             --config.data.data_dir=/data/imagenet --workdir=runs/critic_imagenet256
         python -m binaries.train_prior --config=configs/table2_imagenet256_biggan.py \
             --config.data.data_dir=/data/imagenet --workdir=runs/table2_imagenet256
Smoke:   python -m binaries.train_prior --config=configs/table2_imagenet256_biggan.py:smoke --workdir=/tmp/t2i
         (an offline stand-in of biggan-256 at 16 px, scikit-image photographs as 9 classes; no D)
Expect:  not run here (no BigGAN weights or ImageNet offline).
Differs from the paper: holes are central squares of 96, 112 or 128 px (the paper: central
rectangles with smaller side 96-128); truncation t = 0.5 (not given in the paper; z then lies in
[-1, 1], P's head is 2t tanh); Eq. 5 uses a critic trained against the frozen G (BigGAN's D is
unreleased); λ1, λ2 are the untuned defaults (sweep them on val); the number of steps is ours.
"""

from configs import prior_defaults


def get_config(arg: str | None = None):
  config = prior_defaults.prior_config()
  config.name = "table2_imagenet256_biggan"
  config.generator = "biggan-256"         # z 140, y one-hot 1000, truncation t
  config.class_index = -1                 # P and G take each image's label (§6.3.3)
  config.truncation = 0.5
  config.photo_realism = "critic"
  config.discriminator = "runs/critic_imagenet256/export/critic"  # configs/critic_imagenet256_biggan.py
  config.data.source = "imagenet"         # data_dir/train/<wnid>/*.JPEG, labels in sorted-wnid order
  config.data.resolution = 256
  config.data.channels = 3
  config.masks.kind = "central"
  config.masks.mixture_sizes = (96, 112, 128)
  config.prior.base_channels = 32
  config.prior.dense_units = 1024
  config.loss.lambda_realism = 0.003
  config.loss.lambda_gradient = 1.0
  config.train.num_steps = 200000
  config.train.batch_size = 32
  config.train.distribution = "mirrored"
  config.train.sample_upscale = 1
  if arg == "smoke":
    config = prior_defaults.make_smoke(config)
    config.generator = "standin:biggan-256@16"
    config.photo_realism = "off"
    config.discriminator = ""
    config.data.source = "skimage"        # 9 photographs, labels 0..8
    config.data.resolution = 16
    config.masks.mixture_sizes = (6, 7, 8)  # 96-128 at 256, scaled to 16 px
    config.prior.dense_units = 32
    config.train.batch_size = 8
    config.train.distribution = "default"
  return config
