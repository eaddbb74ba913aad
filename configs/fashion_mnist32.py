"""Fashion-MNIST at 32 px: the project's offline stand-in for Table 1 (§6.3).

Paper: Table 1 trains DCGANs at 64 px on SVHN, Stanford Cars and CelebA, none of which is
available offline. Fashion-MNIST (28 px, zero-padded to 32) is real data that is, so the
bundled default model and the test suite use it.
Run:     python -m binaries.train_gan --config=configs/fashion_mnist32.py --workdir=runs/fmnist32
Smoke:   python -m binaries.train_gan --config=configs/fashion_mnist32.py:smoke --workdir=/tmp/smoke
Expect:  recognisable garments in runs/fmnist32/samples_latest.png after ~2k steps; the
         bundled hub_modules/fashion_mnist32/{generator,discriminator} are this preset at
         8,000 steps (about 7-12 minutes on 2 CPU cores at batch 64).
Differs from the paper: 32 px, 1 channel, G/D widths 32 (the 32 px DCGAN halves the depth).
Splits: the bundled G and D were trained on the "train" split only, the first 55,000 images of
the training file (7 min 20 s on 2 cores, 1,094 images/s); the last 5,000 ("val", where λ1, λ2
and every other choice are made) and the 10,000 test images were never seen by G, D or P.
"""

from configs import gan_defaults


def get_config(arg: str | None = None):
  config = gan_defaults.gan_config()
  config.name = "fashion_mnist32"
  config.data.source = "fashion_mnist"
  config.data.resolution = 32
  config.data.channels = 1
  config.model.generator_base_channels = 32
  config.model.discriminator_base_channels = 32
  config.train.num_steps = 8000
  config.train.checkpoint_every = 500
  config.train.sample_every = 500
  if arg == "smoke":
    config = gan_defaults.make_smoke(config)
  return config
