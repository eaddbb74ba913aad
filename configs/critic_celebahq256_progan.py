"""Critic for PG-GAN on CelebA-HQ: Eq. 5's D for the Table 2 CelebA-HQ column (§5, §6.3.3).

Paper: M_z^H on CelebA-HQ uses the pretrained PG-GAN generator AND its discriminator for
Eq. 5. The TF-Hub module progan-128 ships no discriminator, so this preset trains a critic
against the frozen G on real CelebA-HQ images (pgi_tf/train/critic.py).
Run:     python -m binaries.train_critic --config=configs/critic_celebahq256_progan.py \
             --config.data.data_dir=/data/celeba_hq --workdir=runs/critic_celebahq256
         (configs/table2_celebahq256_progan.py reads runs/critic_celebahq256/export/critic)
Smoke:   python -m binaries.train_critic --config=configs/critic_celebahq256_progan.py:smoke --workdir=/tmp/c
         (a 16-px progan-128 stand-in resized to 32 px and scikit-image's photographs, offline)
Data:    a folder of CelebA-HQ images (source "folder": every .png/.jpg under data_dir, or
         data_dir/train), resized to 256x256.
Expect:  not run here (no PG-GAN weights or CelebA-HQ offline); loss/accuracy near 1 means
         the critic separates G's samples from real faces.
Differs from the paper: the public progan-128 module outputs 128x128 images; as in
configs/table2_celebahq256_progan.py they are upsampled to 256 (output_resolution), and the
critic (a DCGAN D, which stops at 128 px) average-pools them back to 128 before its
convolutions; it is trained against the fixed G, not PG-GAN's own D (unreleased on TF-Hub).
"""

from configs import critic_defaults


def get_config(arg: str | None = None):
  config = critic_defaults.critic_config()
  config.name = "critic_celebahq256_progan"
  config.generator = "progan-128"
  config.data.source = "folder"
  config.output_resolution = 256  # = configs/table2_celebahq256_progan.py's (128-px module upsampled)
  config.data.resolution = 256
  config.model.resolution = 128   # pooled 256 -> 128 inside the critic
  if arg == "smoke":
    config = critic_defaults.make_smoke(config)
    config.generator = "standin:progan-128@16"  # offline stand-in, as table2_celebahq256_progan:smoke
    config.output_resolution = 32
    config.data.source = "skimage"
    config.data.resolution = 32
  return config
