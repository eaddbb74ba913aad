"""Defaults shared by the stage-1 GAN presets (not a preset itself).

Every preset file calls `gan_config()` and overrides what its paper setting changes, so a
reader sees in one place what differs between presets.
"""

import ml_collections


def gan_config() -> ml_collections.ConfigDict:
  config = ml_collections.ConfigDict()
  config.name = ""
  config.seed = 0

  config.data = ml_collections.ConfigDict()
  config.data.source = "fashion_mnist"  # fashion_mnist | folder | celeba | cars | svhn | tfds:<name>
  config.data.data_dir = ""             # "" -> the source's default location
  config.data.split = "train"
  config.data.split_file = ""           # folder source: optional list of relative paths
  config.data.resolution = 64
  config.data.channels = 3

  config.model = ml_collections.ConfigDict()
  config.model.z_dim = 100                     # z ~ U[-1, 1]^100 (§3.1)
  config.model.structural_prior = "none"       # "silhouette": G(z, S), D(x, S) on silhouette keypoints (§4.2)
  config.model.num_rays = 16                   # silhouette keypoints K (condition_dim = 2K)
  config.model.condition_map = ""              # "silhouette": also feed the prior as a rendered shape map
  config.model.condition_dim = 0               # > 0: conditional G and D (§4.2 landmarks, §6.3.3 class labels)
  config.model.generator_base_channels = 64    # DCGAN at 64 px
  config.model.discriminator_base_channels = 64
  config.model.generator_norm = "batch"
  config.model.discriminator_norm = "none"

  config.train = ml_collections.ConfigDict()
  config.train.loss = "non_saturating"   # Eq. 1 with the non-saturating G loss; or hinge, wgan_gp
  config.train.num_steps = 20000
  config.train.batch_size = 64           # global batch, split over replicas
  config.train.generator_learning_rate = 2e-4   # DCGAN's Adam settings
  config.train.discriminator_learning_rate = 2e-4
  config.train.beta1 = 0.5
  config.train.beta2 = 0.999
  config.train.discriminator_steps = 1   # 5 is usual for wgan_gp
  config.train.gradient_penalty_weight = 10.0  # WGAN-GP's lambda
  config.train.distribution = "default"  # default | mirrored | multi_worker
  config.train.jit_compile = False       # XLA; see binaries/benchmark.py for when it pays on CPU
  config.train.checkpoint_every = 1000
  config.train.keep_checkpoints = 3
  config.train.summary_every = 100
  config.train.sample_every = 1000
  config.train.sample_grid_size = 64
  config.train.sample_upscale = 2
  # Locked: a key a preset or a config file misspells (c.train.num_step = 5) is an error, not a new
  # field that nothing reads; presets that add fields do so under config.unlocked().
  config.lock()
  return config


def make_smoke(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """Shrinks a preset to seconds on 2 CPU cores: width 8, a few steps, frequent checkpoints."""
  config.name += "_smoke"
  config.model.generator_base_channels = 8
  config.model.discriminator_base_channels = 8
  config.train.num_steps = 20
  config.train.batch_size = 16
  config.train.checkpoint_every = 10
  config.train.summary_every = 5
  config.train.sample_every = 10
  config.train.sample_grid_size = 16
  return config
