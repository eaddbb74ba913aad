"""Table 3 pattern, a fair §4.3 test (issue 13): M_{z+L} and its per-frame ablation against a G of the clip frames.

Paper: §4.3's grouped prior (shared CNN -> LSTM -> head, Eq. 10) against the frozen G of the
video's own frames; Table 3 compares it with the per-frame model on FaceForensics. Here G is
configs/moving_fashion_mnist32.py (trained on the frames of these very clips), so G can draw what
the clips show, and the per-frame ablation is the same network with the LSTM state reset every
frame, trained on the same clips, steps and seed:
  python -m binaries.train_sequence_prior --config=configs/moving_fashion_mnist32_sequence_prior.py \
      --config.sequence.per_frame=True --workdir=runs/moving_fmnist32_seq_per_frame
Run:     python -m binaries.train_sequence_prior --config=configs/moving_fashion_mnist32_sequence_prior.py --workdir=runs/moving_fmnist32_seq
Smoke:   python -m binaries.train_sequence_prior --config=configs/moving_fashion_mnist32_sequence_prior.py:smoke --workdir=/tmp/s
Expect:  RESULTS.md, Table 3 pattern with the frames' G: flicker and per-frame PSNR of both on 200
         held-out clips, fixed and moving holes (binaries/evaluate.py --sequences).
Differs from the paper: as configs/fashion_mnist32_sequence_prior.py, except that G and D are the
clip-frame DCGAN (hub_modules/moving_fashion_mnist32), both models start from scratch (no P exists
for this G) and train 3,000 steps each.
"""

from configs import fashion_mnist32_sequence_prior


def get_config(arg: str | None = None):
  config = fashion_mnist32_sequence_prior.get_config(arg)
  config.name = "moving_fashion_mnist32_sequence_prior" + ("_smoke" if arg == "smoke" else "")
  config.generator = "hub_modules/moving_fashion_mnist32/generator"
  config.discriminator = "hub_modules/moving_fashion_mnist32/discriminator"
  config.train.warm_start = ""
  if arg != "smoke":
    config.train.num_steps = 3000
  return config
