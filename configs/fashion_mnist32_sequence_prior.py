"""Grouped noise priors for sequences on moving Fashion-MNIST at 32 px: M_{z+L} (§4.3, Fig. 3, Table 3 pattern).

Paper: a shared CNN with P's architecture -> LSTM -> feed-forward head predicts z for each of W
frames, trained with Eq. 10 (Eq. 7 averaged over the window) against the frozen G and D; Table 3
compares it with the per-frame model M_z on FaceForensics (video-FID).
Run:     python -m binaries.train_sequence_prior --config=configs/fashion_mnist32_sequence_prior.py \
             --workdir=runs/fmnist32_seq
Ablation M_z (same layers, LSTM state reset every frame):
         python -m binaries.train_sequence_prior --config=configs/fashion_mnist32_sequence_prior.py \
             --config.sequence.per_frame=True --workdir=runs/fmnist32_seq_per_frame
Smoke:   python -m binaries.train_sequence_prior --config=configs/fashion_mnist32_sequence_prior.py:smoke \
             --workdir=/tmp/s
Expect:  the target: on held-out moving clips M_{z+L} has >= 20% lower flicker than M_z with
         per-frame PSNR at most 0.3 dB lower (binaries/evaluate.py). Not yet run: numbers go to RESULTS.md.
Differs from the paper: Fashion-MNIST items moving on a 32 px canvas instead of FaceForensics at
128 px; the frozen G and D are the bundled 32 px DCGAN; λ1, λ2 are P's (configs/fashion_mnist32_prior.py,
chosen on val); the paper gives neither W nor the LSTM size (W = 8, 256 units here); the per-frame CNN
starts from the bundled P (warm start), the LSTM and head from scratch.
"""

import ml_collections

from configs import prior_defaults


def get_config(arg: str | None = None):
  config = prior_defaults.prior_config()
  config.unlock()  # this preset adds fields of its own; locked again before it is returned
  config.name = "fashion_mnist32_sequence_prior"
  config.generator = "hub_modules/fashion_mnist32/generator"
  config.discriminator = "hub_modules/fashion_mnist32/discriminator"

  config.data.source = "moving_fashion_mnist"  # pgi_tf.data.sequences; or "folder" (a folder of frames per clip)
  config.data.resolution = 32
  config.data.channels = 1
  config.data.num_clips = 20000  # distinct training clips (moving_fashion_mnist); train/test images disjoint

  config.masks = ml_collections.ConfigDict()  # pgi_tf.data.sequences.make_clip_mask_dataset
  config.masks.kind = "rectangle"  # FaceForensics protocol: sides in [0.35, 0.5] of the side (block packet loss)
  config.masks.motion = "fixed"    # the same hole in every frame of a clip; "moving": it drifts

  config.sequence = ml_collections.ConfigDict()
  config.sequence.window = 8        # W: frames predicted jointly (8 at 32 px: enough motion to see, cheap)
  config.sequence.lstm_units = 256  # h^t size (not given in the paper)
  config.sequence.head_units = 0    # > 0: a hidden layer in the feed-forward head
  config.sequence.per_frame = False  # True: ablation M_z, the LSTM state reset every frame

  config.prior.base_channels = 64   # the shared CNN is P: same widths as the bundled P (warm start)
  config.prior.dense_units = 0
  config.loss.lambda_realism = 0.0   # λ1, as configs/fashion_mnist32_prior.py (chosen on val)
  config.loss.lambda_gradient = 0.0  # λ2, as configs/fashion_mnist32_prior.py (chosen on val)
  config.loss.lambda_temporal = 0.0  # beyond the paper: λ_t of losses.latent_smoothness_loss (0 = Eq. 10 alone)

  config.train.num_steps = 10000
  config.train.batch_size = 16      # clips: 16 x 8 = 128 frames through G and D per step
  config.train.warm_start = "hub_modules/fashion_mnist32/prior_predictor_paper"  # P export or checkpoint; "" = scratch
  config.train.sample_clips = 4     # clips in the sample grid (4 rows of W frames each)
  if arg == "smoke":
    config = prior_defaults.make_smoke(config)
    config.data.num_clips = 64
    config.sequence.window = 4
    config.sequence.lstm_units = 16
    config.train.batch_size = 4
    config.train.warm_start = ""    # the smoke CNN is narrower than the bundled P
    config.train.sample_clips = 2
  config.lock()
  return config
