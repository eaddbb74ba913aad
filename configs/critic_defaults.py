"""Defaults shared by the critic presets (Eq. 5 for generators without a D); not a preset itself."""

import ml_collections


def critic_config() -> ml_collections.ConfigDict:
  config = ml_collections.ConfigDict()
  config.name = ""
  config.seed = 0
  config.generator = ""     # registry name (progan-128, biggan-256, ...), TF-Hub handle or module dir
  config.class_index = -1   # BigGAN: -1 = fakes of uniformly random classes; k = class k only
  config.truncation = 0.0   # BigGAN: 0 = module default (0.5); use the t the inpainter will use
  config.output_resolution = 0  # 0 = G's own size; else G's images are resized (e.g. 128 -> 256 px)

  config.data = ml_collections.ConfigDict()  # real images; must match G's resolution and channels
  config.data.source = "folder"
  config.data.data_dir = ""
  config.data.split = "train"
  config.data.split_file = ""
  config.data.resolution = 128  # must equal the generator's output size
  config.data.channels = 3      # every public generator is RGB

  config.model = ml_collections.ConfigDict()
  config.model.base_channels = 64  # DCGAN D width at 64-128 px (Radford et al.)
  config.model.resolution = 0      # critic's input: 0 = G's, capped at 128 (larger is average-pooled)

  config.train = ml_collections.ConfigDict()
  config.train.num_steps = 20000
  config.train.batch_size = 64
  config.train.learning_rate = 2e-4  # DCGAN's D learning rate and betas
  config.train.beta1 = 0.5
  config.train.beta2 = 0.999
  config.train.loss = "non_saturating"  # or "hinge"; non_saturating makes D(x) = sigmoid(logit), as Eq. 5 reads it
  config.train.r1_gamma = 0.0  # > 0: + gamma/2 ||grad D(x_real)||^2 (Mescheder et al. 2018)
  config.train.distribution = "default"
  config.train.jit_compile = False
  config.train.checkpoint_every = 1000
  config.train.keep_checkpoints = 3
  config.train.summary_every = 100
  config.train.sample_every = 1000
  config.train.sample_grid_size = 16
  config.train.sample_upscale = 1
  # Locked: a key a preset or a config file misspells (c.train.num_step = 5) is an error, not a new
  # field that nothing reads; presets that add fields do so under config.unlocked().
  config.lock()
  return config


def make_smoke(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """Seconds on a CPU: a 16 px stand-in G (given with --config.generator) and a PNG folder."""
  config.name += "_smoke"
  config.generator = ""  # give a stand-in: pgi_tf.standins.export_standin(name, path, resolution=16)
  config.data.source = "folder"
  config.data.resolution = 16
  config.model.base_channels = 8
  config.model.resolution = 0
  config.train.num_steps = 10
  config.train.batch_size = 8
  config.train.checkpoint_every = 5
  config.train.summary_every = 5
  config.train.sample_every = 5
  config.train.sample_grid_size = 8
  config.train.sample_upscale = 3
  return config
