"""Critic for BigGAN-256 on ImageNet: Eq. 5's D for the Table 2 ImageNet column (§5, §6.3.3).

Paper: M_z^H on ImageNet at 256 px uses the pretrained BigGAN generator (class-conditional,
§6.3.3) with a discriminator for Eq. 5; BigGAN's authors released no discriminator, so this
preset trains a critic against the frozen G on real ImageNet images (pgi_tf/train/critic.py).
Fakes are G(z, y) with y uniform over the 1000 classes and z = t * truncnorm(-2, 2).
Run:     python -m binaries.train_critic --config=configs/critic_imagenet256_biggan.py \
             --config.data.data_dir=/data/imagenet --workdir=runs/critic_imagenet256
         (configs/table2_imagenet256_biggan.py reads runs/critic_imagenet256/export/critic)
Smoke:   python -m binaries.train_critic --config=configs/critic_imagenet256_biggan.py:smoke --workdir=/tmp/c
         (a 16-px biggan-256 stand-in and scikit-image's photographs, offline)
Data:    ImageNet through the "imagenet" source of pgi_tf/data/datasets.py, resized to 256x256.
Expect:  not run here (no BigGAN weights or ImageNet offline).
Differs from the paper: a DCGAN critic (unconditional: it scores images only) that average-
pools 256 -> 128 px before its convolutions (dcgan stops at 128 px), trained against the
fixed G at truncation 0.5 -- inpaint with the same truncation (the critic records it).
"""

from configs import critic_defaults


def get_config(arg: str | None = None):
  config = critic_defaults.critic_config()
  config.name = "critic_imagenet256_biggan"
  config.generator = "biggan-256"
  config.class_index = -1  # all classes: the inpainter may be given any label
  config.truncation = 0.5  # = configs/table2_imagenet256_biggan.py's
  config.data.source = "imagenet"
  config.data.resolution = 256  # biggan-256's output size
  config.model.resolution = 128  # pooled 256 -> 128 inside the critic
  if arg == "smoke":
    config = critic_defaults.make_smoke(config)
    config.generator = "standin:biggan-256@16"  # offline stand-in, as table2_imagenet256_biggan:smoke
    config.data.source = "skimage"
  return config
