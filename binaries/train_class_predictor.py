r"""§6.3.3: fine-tune the masked-image class predictor (for `--label=auto`) and export it.

  python -m binaries.train_class_predictor --config=configs/class_predictor_imagenet256.py \
      --config.data.data_dir=/data/imagenet --workdir=runs/class_predictor_imagenet256
  python -m binaries.train_class_predictor --config=configs/class_predictor_imagenet256.py:smoke \
      --config.data.data_dir=<tiny ImageNet> --workdir=/tmp/c

Writes into --workdir: checkpoints/ (resumed automatically), tensorboard/, samples/ (masked
inputs as PNG, predicted and true classes in the JSON beside each), and
export/class_predictor/ (SavedModel serving_default(masked_images, masks) -> {logits, labels}
plus pgi_tf_metadata.json). Prints a JSON line: step, losses, held-out top-1, export_dir.
Interrupt and rerun to resume.
"""

from binaries import _main  # noqa: F401
from binaries import _train_flags


from absl import flags
from ml_collections import config_flags

from pgi_tf.train import class_predictor

_CONFIG = config_flags.DEFINE_config_file("config", None,
                                          "Preset, e.g. configs/class_predictor_imagenet256.py[:smoke].")
_WORKDIR = flags.DEFINE_string("workdir", None, "Output directory.")
flags.mark_flags_as_required(["config", "workdir"])


def main(argv):
  del argv
  config = _CONFIG.value
  _train_flags.apply(config.train)
  print(_main.json_line(class_predictor.train(config, workdir=_WORKDIR.value)))


if __name__ == "__main__":
  _main.run(main)
