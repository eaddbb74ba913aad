r"""§4.2: train the keypoint refiner f (Eq. 9) on face or silhouette keypoints; export it.

  python -m binaries.train_keypoint_refiner --config=configs/keypoint_refiner_faces.py \
      --workdir=runs/keypoint_refiner_faces --export_dir=hub_modules/face_landmarks/keypoint_refiner
  python -m binaries.train_keypoint_refiner --config=configs/keypoint_refiner_fashion_mnist32.py:smoke --workdir=/tmp/kr

Writes into --workdir: checkpoints/ (resumed automatically), tensorboard/, and the SavedModel
export/keypoint_refiner/ (or --export_dir) with pgi_tf_metadata.json. Prints a JSON summary
(steps, last Eq. 9 loss, held-out errors of f vs the aligned mean shape). Interrupt and rerun
to resume.
"""

from binaries import _main  # noqa: F401
from binaries import _train_flags


from absl import flags
from ml_collections import config_flags

from pgi_tf.train import keypoint_refiner

_CONFIG = config_flags.DEFINE_config_file("config", None, "Preset, e.g. configs/keypoint_refiner_faces.py[:smoke].")
_WORKDIR = flags.DEFINE_string("workdir", None, "Output directory (checkpoints, tensorboard, export).")
_EXPORT_DIR = flags.DEFINE_string("export_dir", None,
                                  "Where to write the SavedModel; default <workdir>/export/keypoint_refiner.")
flags.mark_flags_as_required(["config", "workdir"])


def main(argv):
  del argv
  config = _CONFIG.value
  _train_flags.apply(config.train)
  print(_main.json_line(keypoint_refiner.train(config, workdir=_WORKDIR.value, export_dir=_EXPORT_DIR.value)))


if __name__ == "__main__":
  _main.run(main)
