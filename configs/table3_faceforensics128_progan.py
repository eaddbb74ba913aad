r"""Table 3's 128-px face model: grouped priors M_{z+L}^H with PG-GAN on FaceForensics (§4.3, §6.4).

Paper: FaceForensics videos, faces centre-cropped to 128x128; random rectangular holes with
sides in [0.35 l, 0.5 l], l = 128 (block packet loss); 150 test videos; the generator is a
PG-GAN fine-tuned on FaceForensics frames; a CNN -> LSTM -> head predicts z for each frame of
a window (Eq. 10); Table 3 reports video-FID (I3D).
Run (GPU machine; step by step in README "On a GPU machine with network", step 6):
         python -m binaries.train_critic --config=configs/critic_celebahq256_progan.py \
             --config.output_resolution=0 --config.data.resolution=128 \
             --config.data.data_dir=/data/faceforensics_frames_flat --workdir=runs/critic_ff128
         python -m binaries.train_sequence_prior --config=configs/table3_faceforensics128_progan.py \
             --config.data.data_dir=/data/faceforensics --workdir=runs/table3_ff128
Smoke:   python -m binaries.train_sequence_prior --config=configs/table3_faceforensics128_progan.py:smoke \
             --workdir=/tmp/t3   (a 16-px progan-128 stand-in on RGB moving Fashion-MNIST clips; no D)
Expect:  not run here (no PG-GAN weights or FaceForensics offline).
Differs from the paper: the public progan-128 module is CelebA-HQ's, not fine-tuned on
FaceForensics (fine-tune it elsewhere and pass its directory as --config.generator); W = 8 and
256 LSTM units are ours (the paper gives neither); Eq. 5 uses a critic (no D on TF-Hub).
"""

import ml_collections

from configs import prior_defaults


def get_config(arg: str | None = None):
  config = prior_defaults.prior_config()
  config.unlock()  # this preset adds fields of its own; locked again before it is returned
  config.name = "table3_faceforensics128_progan"
  config.generator = "progan-128"
  config.photo_realism = "critic"
  config.discriminator = "runs/critic_ff128/export/critic"
  config.data.source = "folder"  # pgi_tf.data.sequences: one folder of frames (or a video) per clip
  config.data.resolution = 128
  config.data.channels = 3
  config.data.num_clips = None   # every clip of the folder

  config.masks = ml_collections.ConfigDict()
  config.masks.kind = "rectangle"  # sides in [0.35, 0.5] of the side (§6.4)
  config.masks.motion = "fixed"

  config.sequence = ml_collections.ConfigDict()
  config.sequence.window = 8
  config.sequence.lstm_units = 256
  config.sequence.head_units = 1024  # 512-d z
  config.sequence.per_frame = False

  config.prior.base_channels = 64  # pgi_tf.models.prior_predictor.preset(128)
  config.prior.dense_units = 0
  config.loss.lambda_realism = 0.003
  config.loss.lambda_gradient = 1.0
  config.train.num_steps = 50000
  config.train.batch_size = 8      # clips: 64 frames through G per step
  config.train.distribution = "mirrored"
  config.train.sample_clips = 4
  config.train.sample_upscale = 1
  if arg == "smoke":
    config = prior_defaults.make_smoke(config)
    config.generator = "standin:progan-128@16"
    config.photo_realism = "off"
    config.discriminator = ""
    config.data.source = "moving_fashion_mnist"  # grey clips repeated to RGB
    config.data.resolution = 16
    config.data.num_clips = 32
    config.sequence.window = 4
    config.sequence.lstm_units = 16
    config.sequence.head_units = 0
    config.train.batch_size = 4
    config.train.distribution = "default"
    config.train.sample_clips = 2
  config.lock()
  return config
