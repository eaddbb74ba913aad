r"""Table 2, CelebA-HQ column: M_z^H with the PG-GAN generator at 256 px (§5, §6.3.3).

Paper: P trained with Eq. 7 against a frozen pretrained PG-GAN (generator and its D) on
CelebA-HQ resized to 256x256; training holes are random rectangles whose smaller side is
96-128 px, at random places; 10,000 test images; Table 2 reports FID with 96x96 and 128x128
holes (PIC, GIP, MC-CNN as peers).
Run (GPU machine, real module; step by step in README "On a GPU machine with network"):
         python -m binaries.train_critic --config=configs/critic_celebahq256_progan.py \
             --config.data.data_dir=/data/celeba_hq --workdir=runs/critic_celebahq256
         python -m binaries.train_prior --config=configs/table2_celebahq256_progan.py \
             --config.data.data_dir=/data/celeba_hq --workdir=runs/table2_celebahq256
Smoke:   python -m binaries.train_prior --config=configs/table2_celebahq256_progan.py:smoke --workdir=/tmp/t2c
         (an offline stand-in of progan-128 at 16 px resized to 32, scikit-image photographs; no D)
Expect:  not run here (no PG-GAN weights or CelebA-HQ offline). Paper: Table 2 (FID).
         Evaluate with binaries/evaluate.py --hole_sizes=96,128 --mask_kind=square.
Differs from the paper: the only public TF-Hub PG-GAN (progan-128) draws 128x128 faces, so G's
output is upsampled (bicubic) to 256 (`output_resolution`); pass --config.generator=/path/to/a
256-px PG-GAN module with the same `default` signature and --config.output_resolution=0 to match
the paper exactly. Eq. 5 uses a critic trained against the frozen G (the module ships no D);
λ1, λ2 are the untuned defaults (the paper gives none; sweep them on val); the number of steps is ours.
"""

from configs import prior_defaults


def get_config(arg: str | None = None):
  config = prior_defaults.prior_config()
  config.unlock()  # this preset adds fields of its own; locked again before it is returned
  config.name = "table2_celebahq256_progan"
  config.generator = "progan-128"         # z 512 ~ N(0, I): P's head is unbounded (identity)
  config.output_resolution = 256          # 128-px module upsampled to the paper's 256
  config.photo_realism = "critic"
  config.discriminator = "runs/critic_celebahq256/export/critic"  # configs/critic_celebahq256_progan.py
  config.data.source = "folder"           # CelebA-HQ images (data1024x1024/*.jpg or CelebA-HQ-img/*.jpg)
  config.data.resolution = 256
  config.data.channels = 3
  config.masks.kind = "rectangle"         # §6.3: random rectangles, sides 96-128 px, random places
  config.masks.min_side = 96
  config.masks.max_side = 128
  config.prior.base_channels = 32         # pgi_tf.models.prior_predictor.preset(256)
  config.prior.dense_units = 1024         # 512-d z from 8x8x512 features: one hidden layer
  config.loss.lambda_realism = 0.003
  config.loss.lambda_gradient = 1.0
  config.train.num_steps = 100000
  config.train.batch_size = 32
  config.train.distribution = "mirrored"  # all local GPUs
  config.train.sample_upscale = 1
  if arg == "smoke":
    config = prior_defaults.make_smoke(config)
    config.generator = "standin:progan-128@16"
    config.output_resolution = 32
    config.photo_realism = "off"
    config.discriminator = ""
    config.data.source = "skimage"
    config.data.resolution = 32
    config.masks.min_side, config.masks.max_side = 12, 16  # 96-128 at 256, scaled to 32 px
    config.prior.dense_units = 32
    config.train.batch_size = 8
    config.train.distribution = "default"
  config.lock()
  return config
