r"""Grouped noise priors for sequences (§4.3, Fig. 3): train the CNN -> LSTM -> head model with Eq. 10
against a frozen G and D, and export it.

  python -m binaries.train_sequence_prior --config=configs/fashion_mnist32_sequence_prior.py --workdir=runs/fmnist32_seq
  python -m binaries.train_sequence_prior --config=configs/fashion_mnist32_sequence_prior.py \
      --config.sequence.per_frame=True --workdir=runs/fmnist32_seq_per_frame      # ablation M_z

Writes into --workdir: checkpoints/ (resumed automatically), tensorboard/, samples/ (per clip, rows
of W frames: masked | G(z_p^t) | inpainted | original) and export/sequence_prior/ (SavedModel:
(masked_frames [N,T,R,R,C], masks [N,T,R,R,1]) -> z [N,T,z_dim]). Interrupt and rerun to resume.
"""

from binaries import _main  # noqa: F401
from binaries import _train_flags


from absl import flags
from ml_collections import config_flags

from pgi_tf.train import sequence_prior

_CONFIG = config_flags.DEFINE_config_file(
    "config", None, "Preset, e.g. configs/fashion_mnist32_sequence_prior.py[:smoke].")
_WORKDIR = flags.DEFINE_string("workdir", None, "Output directory.")
_GAN_FLAGS = _main.define_gan_flags()
flags.mark_flags_as_required(["config", "workdir"])


def main(argv):
  del argv
  config = _CONFIG.value
  _train_flags.apply(config.train)
  _main.apply_gan_flags(config, _GAN_FLAGS)
  print(_main.json_line(sequence_prior.train(config, workdir=_WORKDIR.value)))


if __name__ == "__main__":
  _main.run(main)
