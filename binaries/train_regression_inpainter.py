r"""The regression peer (issue 13): train a U-Net inpainter on the hole with L1 + an adversarial term; export it.

  python -m binaries.train_regression_inpainter --config=configs/fashion_mnist32_regression.py \
      --workdir=runs/fmnist32_regression

Writes into --workdir: checkpoints/ (resumed automatically), tensorboard/, samples/ (rows of
masked | output | inpainted | original) and export/regression_inpainter/, which
`binaries/evaluate.py --regression_inpainter=... --methods=...,regression` compares with P.
"""

from binaries import _main  # noqa: F401
from binaries import _train_flags


from absl import flags
from ml_collections import config_flags

from pgi_tf.train import regression_inpainter

_CONFIG = config_flags.DEFINE_config_file("config", None, "Preset, e.g. configs/fashion_mnist32_regression.py[:smoke].")
_WORKDIR = flags.DEFINE_string("workdir", None, "Output directory.")
flags.mark_flags_as_required(["config", "workdir"])


def main(argv):
  del argv
  config = _CONFIG.value
  _train_flags.apply(config.train)
  print(_main.json_line(regression_inpainter.train(config, workdir=_WORKDIR.value)))


if __name__ == "__main__":
  _main.run(main)
