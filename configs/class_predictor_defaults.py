"""Defaults shared by the masked-image class predictor presets (§6.3.3); not a preset itself."""

import ml_collections


def class_predictor_config() -> ml_collections.ConfigDict:
  config = ml_collections.ConfigDict()
  config.name = ""
  config.seed = 0

  config.data = ml_collections.ConfigDict()
  config.data.source = "imagenet"    # any labelled RGB source of pgi_tf.data.datasets works
  config.data.data_dir = ""
  config.data.split = "train"
  config.data.split_file = ""        # optional list of paths relative to data_dir
  config.data.eval_split = "val"     # the held-out batch whose top-1 train() reports
  config.data.eval_split_file = ""
  config.data.resolution = 256       # must equal the BigGAN's the predictor will serve
  config.data.preflight = True       # check every file's header before training

  config.masks = ml_collections.ConfigDict()  # fields of pgi_tf.data.masks.MaskSpec, plus:
  config.masks.kind = "central"
  config.masks.size = 0              # 0 -> half the side
  config.masks.mixture_hole_ratios = ()  # non-empty: uniform mixture of "ratio" masks instead
  config.masks.central_sizes = ()    # non-empty: uniform mixture of central squares of these sides

  config.model = ml_collections.ConfigDict()
  config.model.architecture = "resnet101"  # the paper's; resnet50; tiny (smoke tests only)
  config.model.num_classes = 1000          # BigGAN's one-hot size
  config.model.weights = "imagenet"        # "", "imagenet", or a .h5 / .weights.h5 path
  config.model.input_size = 0              # 0 -> 224 for ResNets (the pretrained top's size)
  config.model.freeze_batch_norm = True    # BN in inference mode: small batches keep ImageNet stats

  config.train = ml_collections.ConfigDict()
  config.train.num_steps = 60000
  config.train.batch_size = 64
  config.train.learning_rate = 1e-4   # fine-tuning: well below a from-scratch Adam rate
  config.train.lr_schedule = "cosine"
  config.train.lr_final_fraction = 0.0
  config.train.beta1 = 0.9
  config.train.beta2 = 0.999
  config.train.distribution = "default"
  config.train.jit_compile = False
  config.train.checkpoint_every = 2000
  config.train.keep_checkpoints = 3
  config.train.summary_every = 100
  config.train.sample_every = 2000
  config.train.sample_grid_size = 16
  config.train.sample_upscale = 1
  config.train.eval_batch_size = 256
  # Locked: a key a preset or a config file misspells (c.train.num_step = 5) is an error, not a new
  # field that nothing reads; presets that add fields do so under config.unlocked().
  config.lock()
  return config


def make_smoke(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """Seconds on a CPU: the tiny network at 32 px, random init, a few steps."""
  config.name += "_smoke"
  config.data.resolution = 32
  config.data.preflight = True
  config.model.architecture = "tiny"
  config.model.weights = ""
  config.model.input_size = 0
  config.train.num_steps = 6
  config.train.batch_size = 8
  config.train.learning_rate = 3e-3
  config.train.lr_schedule = "constant"
  config.train.checkpoint_every = 3
  config.train.summary_every = 3
  config.train.sample_every = 3
  config.train.sample_grid_size = 8
  config.train.sample_upscale = 3
  config.train.eval_batch_size = 8
  return config
