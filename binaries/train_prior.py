r"""Stage 2: train the noise-prior predictor P (Eq. 7) against a frozen G and D; export P and P+G.

  python -m binaries.train_prior --config=configs/fashion_mnist32_prior.py --workdir=runs/fmnist32_prior
  python -m binaries.train_prior --config=configs/fashion_mnist32_prior.py:smoke --workdir=/tmp/p \
      --config.generator=runs/fmnist32/export/generator --config.discriminator=none

Writes into --workdir: checkpoints/ (resumed automatically), tensorboard/, samples/ (rows of
masked | G(P(I_d)) | inpainted | original), export/prior_predictor/ and export/inpainter/
(one SavedModel: (image, mask) -> inpainted). Interrupt and rerun to resume.
"""

from binaries import _main  # noqa: F401
from binaries import _train_flags


from absl import flags
from ml_collections import config_flags

from pgi_tf.train import prior

_CONFIG = config_flags.DEFINE_config_file("config", None, "Preset, e.g. configs/fashion_mnist32_prior.py[:smoke].")
_WORKDIR = flags.DEFINE_string("workdir", None, "Output directory.")
_GAN_FLAGS = _main.define_gan_flags()
flags.mark_flags_as_required(["config", "workdir"])


def main(argv):
  del argv
  config = _CONFIG.value
  _train_flags.apply(config.train)
  _main.apply_gan_flags(config, _GAN_FLAGS)
  print(_main.json_line(prior.train(config, workdir=_WORKDIR.value)))


if __name__ == "__main__":
  _main.run(main)
