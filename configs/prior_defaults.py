"""Defaults shared by the stage-2 (prior predictor) presets; not a preset itself."""

import ml_collections


def prior_config() -> ml_collections.ConfigDict:
  config = ml_collections.ConfigDict()
  config.name = ""
  config.seed = 0
  config.generator = ""        # registry name (progan-128, biggan-256, ...), TF-Hub handle or module dir
  config.discriminator = ""    # D or critic module dir; "" = the module's own D (compare_gan); "none" = off
  config.photo_realism = "auto"  # auto | discriminator | critic | off (pgi_tf/generators/photo_realism.py)
  config.class_index = -1      # BigGAN: fixed class (P then takes no label); -1: P and G take each image's label
  config.truncation = 0.0      # BigGAN truncation t in [0.02, 1]; 0 = the registry default (0.5)
  config.output_resolution = 0  # public modules: resize G's images to this side (0 = the module's)
  config.structural_prior = "none"  # M_z; "silhouette": M_{z+S} (§4.2), G and D conditioned on S
  config.keypoint_refiner = ""      # frozen refiner f of S (binaries/train_keypoint_refiner.py)

  config.data = ml_collections.ConfigDict()
  config.data.source = "fashion_mnist"
  config.data.data_dir = ""
  config.data.split = "train"
  config.data.split_file = ""
  config.data.resolution = 64  # must equal the generator's
  config.data.channels = 3

  config.masks = ml_collections.ConfigDict()  # fields of pgi_tf.data.masks.MaskSpec
  config.masks.kind = "square"
  config.masks.size = 0        # 0 -> half the side: 32x32 at 64 px (§6.3)
  config.masks.mixture_hole_ratios = ()  # non-empty: uniform mixture of "ratio" masks instead
  config.masks.mixture_sizes = ()  # non-empty (kind square / central): uniform mixture of these sides in px

  config.prior = ml_collections.ConfigDict()
  config.prior.base_channels = 64   # P is as wide as the DCGAN discriminator
  config.prior.dense_units = 0
  config.prior.num_candidates = 1   # K > 1: K candidate latents per image (beyond the paper, issue 13)

  config.loss = ml_collections.ConfigDict()
  # λ1, λ2 of Eq. 7: not given in the paper. Untuned starting values for a new data set; choose
  # them on its val split with binaries/sweep_lambdas.py (Fashion-MNIST's sweep chose 0, 0 for
  # configs/fashion_mnist32_prior.py at 32 px, which need not carry over).
  config.loss.lambda_realism = 0.003
  config.loss.lambda_gradient = 1.0
  config.loss.contextual_decay = 0.99  # Eq. 3
  # Beyond the paper (pgi_tf.losses.candidates): ε of the relaxed best-of-K rule (K > 1 only), and
  # the weight of P(M̄ ⊙ G(z), M) ≈ z on G's own samples (0 = off, the paper's Eq. 7).
  config.loss.candidate_relaxation = 0.05
  config.loss.lambda_latent = 0.0

  config.train = ml_collections.ConfigDict()
  config.train.num_steps = 10000
  config.train.batch_size = 64
  config.train.learning_rate = 1e-3
  config.train.lr_schedule = "constant"  # or "cosine": decays to learning_rate * lr_final_fraction
  config.train.lr_final_fraction = 0.0
  config.train.warm_start = ""  # checkpoint (dir or prefix) of a P to start from; not a resume
  config.train.beta1 = 0.9
  config.train.beta2 = 0.999
  config.train.distribution = "default"
  config.train.jit_compile = False
  config.train.checkpoint_every = 1000
  config.train.keep_checkpoints = 3
  config.train.summary_every = 100
  config.train.sample_every = 1000
  config.train.sample_grid_size = 16
  config.train.sample_upscale = 3
  # Validation metric during training (pgi_tf/train/prior.py): PSNR on the hole and the whole image
  # (+ a Fréchet distance with eval_fd_extractor, e.g. savedmodel:hub_modules/fashion_mnist32/fid_classifier)
  # of the Eq. 8 output on a fixed batch of the val split, every eval_every steps (0 = off), to TensorBoard
  # as val/* and into the final JSON line. Every checkpoint by default.
  config.train.eval_every = 1000
  config.train.eval_batch_size = 64
  config.train.eval_fd_extractor = ""
  # Locked: a key a preset or a config file misspells (c.train.num_step = 5) is an error, not a new
  # field that nothing reads; presets that add fields do so under config.unlocked().
  config.lock()
  return config


def make_smoke(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  config.name += "_smoke"
  config.prior.base_channels = 8
  config.train.num_steps = 10
  config.train.batch_size = 16
  config.train.checkpoint_every = 5
  config.train.summary_every = 5
  config.train.sample_every = 5
  config.train.sample_grid_size = 8
  config.train.eval_every = 5
  config.train.eval_batch_size = 16
  return config


def table1_64px_prior(*, name: str, source: str, arg: str | None) -> ml_collections.ConfigDict:
  """Table 1's stage 2 at 64 px (SVHN, Stanford Cars, CelebA): P against the frozen DCGAN of
  configs/<name without _prior>.py, on 32x32 training holes at random places (§6.3)."""
  stage1 = name[:-len("_prior")]
  config = prior_config()
  config.name = name
  config.generator = f"runs/{stage1}/export/generator"          # stage 1: configs/<stage1>.py
  config.discriminator = f"runs/{stage1}/export/discriminator"
  config.data.source = source
  config.data.resolution = 64
  config.data.channels = 3
  config.masks.kind = "square"
  config.masks.size = 32       # §6.3: 32x32 training holes at 64 px
  config.train.num_steps = 20000
  if arg == "smoke":
    config = make_smoke(config)
    config.data.resolution = 16  # tiny fixtures and a tiny G
    config.masks.size = 8
  return config


FASHION_MNIST32_VARIANT_STEPS = 4000


def fashion_mnist32_variant(*, name: str, arg: str | None, **fields) -> ml_collections.ConfigDict:
  """A one-pass variant beyond the paper (issue 13): the bundled Fashion-MNIST P fine-tuned for
  FASHION_MNIST32_VARIANT_STEPS more steps with `fields` ("section.name": value) changed. Every
  variant starts from the same P and trains as long, so their val rows differ by the change only;
  fashion_mnist32_prior_continued (no change) is the control."""
  from configs import fashion_mnist32_prior  # pylint: disable=import-outside-toplevel
  config = fashion_mnist32_prior.get_config()
  config.name = name
  config.train.warm_start = "hub_modules/fashion_mnist32/prior_predictor_paper"
  config.train.num_steps = FASHION_MNIST32_VARIANT_STEPS
  for dotted, value in fields.items():
    section, field = dotted.split(".")
    config[section][field] = value
  if arg == "smoke":
    config = make_smoke(config)
    config.prior.base_channels = 64  # the bundled P's width: the smoke run warm-starts from it too
    config.train.num_steps = 4
    config.train.batch_size = 4
  return config
