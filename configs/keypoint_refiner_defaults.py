"""Defaults shared by the keypoint refiner presets (§4.2, Eq. 9); not a preset itself."""

import inspect

import ml_collections

from pgi_tf.data import landmarks


def _synthetic_face_defaults() -> ml_collections.ConfigDict:
  """landmarks.synthetic_face_shapes' variation keywords and defaults, so flags can set any."""
  parameters = inspect.signature(landmarks.synthetic_face_shapes).parameters.values()
  return ml_collections.ConfigDict({p.name: p.default for p in parameters
                                    if p.kind is p.KEYWORD_ONLY and p.name != "return_parameters"})


def keypoint_refiner_config() -> ml_collections.ConfigDict:
  config = ml_collections.ConfigDict()
  config.name = ""
  config.seed = 0

  config.data = ml_collections.ConfigDict()
  config.data.kind = "synthetic_faces"  # or "landmark_files", "silhouette" (pgi_tf.train.keypoint_refiner)
  config.data.num_shapes = 20000        # training shapes (synthetic: drawn; silhouette: images used)
  config.data.num_held_out = 1000       # for the report written into the export's metadata
  # synthetic_faces: keyword arguments of landmarks.synthetic_face_shapes (its defaults here).
  config.data.synthetic = _synthetic_face_defaults()
  config.data.lfw_dlib_fraction = 0.0   # share of dlib-on-LFW real faces in the pool (needs dlib)
  # landmark_files
  config.data.landmark_dir = ""
  config.data.num_keypoints = 68
  config.data.landmark_margin = 0.0     # LS3D-W has no face boxes: tight landmark box, grown by this
  # silhouette (pgi_tf.structural.silhouette on pgi_tf.data.datasets images)
  config.data.source = "fashion_mnist"
  config.data.data_dir = ""
  config.data.split = "train"
  config.data.resolution = 32
  config.data.channels = 1
  config.data.num_rays = 16
  config.data.samples_per_ray = 0       # 0: one sample per pixel of the resolution

  config.refiner = ml_collections.ConfigDict()  # models.keypoint_refiner.KeypointRefinerConfig
  config.refiner.hidden_units = (256, 256, 256)  # three hidden layers (§4.2); 256 keeps the export < 1 MiB
  config.refiner.activation = "relu"
  config.refiner.use_switches = True

  config.train = ml_collections.ConfigDict()
  config.train.num_steps = 3000
  config.train.batch_size = 128
  config.train.learning_rate = 1e-3
  config.train.lr_schedule = "constant"  # or "cosine" (per chunk) to lr * lr_final_fraction
  config.train.lr_final_fraction = 0.1
  config.train.keep_probability = 0.3    # §4.2: switch-on probability 0.3, 70% of points hidden
  config.train.hole_drop_fraction = 0.0  # silhouettes: share of batches hidden by real holes, not Eq. 9 drops
  config.train.input_noise_std = 0.0     # jitter of the visible inputs (targets stay clean)
  config.train.checkpoint_every = 500    # also the chunk length (a fresh Adam per chunk)
  config.train.keep_checkpoints = 3
  config.train.distribution = "default"  # default | mirrored | multi_worker (pgi_tf/train/runtime.py)
  # Locked: a key a preset or a config file misspells (c.train.num_step = 5) is an error, not a new
  # field that nothing reads; presets that add fields do so under config.unlocked().
  config.lock()
  return config


def make_smoke(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """Seconds on 2 CPU cores: tiny f, few shapes and steps, no dlib."""
  config.name += "_smoke"
  config.data.num_shapes = 256
  config.data.num_held_out = 64
  config.data.lfw_dlib_fraction = 0.0
  config.refiner.hidden_units = (16, 16, 16)
  config.train.num_steps = 6
  config.train.batch_size = 16
  config.train.checkpoint_every = 3
  return config
