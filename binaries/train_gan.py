r"""Stage 1: train a DCGAN (Eq. 1) and export G and D as hub modules.

  python -m binaries.train_gan --config=configs/fashion_mnist32.py --workdir=runs/fmnist32
  python -m binaries.train_gan --config=configs/fashion_mnist32.py:smoke --workdir=/tmp/smoke

Writes into --workdir: checkpoints/ (resumed automatically when present), tensorboard/,
samples/*.png and samples_latest.png, export/{generator,discriminator}/ (hub modules).
Interrupt at any time and run the same command again to resume.
"""

from binaries import _main  # noqa: F401  (sets TF log level before TensorFlow loads)
from binaries import _train_flags


from absl import flags
from absl import logging
from ml_collections import config_flags

from pgi_tf.train import gan

_CONFIG = config_flags.DEFINE_config_file("config", None, "Preset file, e.g. configs/fashion_mnist32.py[:smoke].")
_WORKDIR = flags.DEFINE_string("workdir", None, "Output directory (checkpoints, summaries, samples, export).")
flags.mark_flags_as_required(["config", "workdir"])


def main(argv):
  del argv
  config = _CONFIG.value
  _train_flags.apply(config.train)
  result = gan.train(config, workdir=_WORKDIR.value)
  logging.info("done: %s", _main.json_line(result))
  print(_main.json_line(result))


if __name__ == "__main__":
  _main.run(main)
