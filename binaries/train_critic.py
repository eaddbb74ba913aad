r"""Train a critic against a frozen pretrained G (Eq. 5 when the module ships no discriminator).

  python -m binaries.train_critic --config=configs/critic_celebahq256_progan.py \
      --config.data.data_dir=/data/celeba_hq --workdir=runs/critic_celebahq_progan
  python -m binaries.train_critic --config=configs/critic_celebahq256_progan.py:smoke \
      --config.generator=/tmp/progan16 --config.data.data_dir=/tmp/pngs --workdir=/tmp/c

Writes into --workdir: checkpoints/ (resumed automatically), tensorboard/ (loss/critic,
loss/real_logit, loss/fake_logit, loss/accuracy, ...), samples/ (rows of reals | fakes) and
export/critic/ (a discriminator module, metadata critic=true, tied to G's weights).
"""

from binaries import _main  # noqa: F401
from binaries import _train_flags


from absl import flags
from ml_collections import config_flags

from pgi_tf.train import critic

_CONFIG = config_flags.DEFINE_config_file("config", None, "Preset, e.g. configs/critic_celebahq256_progan.py[:smoke].")
_WORKDIR = flags.DEFINE_string("workdir", None, "Output directory.")
_GAN_FLAGS = _main.define_gan_flags(("generator",))
flags.mark_flags_as_required(["config", "workdir"])


def main(argv):
  del argv
  config = _CONFIG.value
  _train_flags.apply(config.train)
  _main.apply_gan_flags(config, _GAN_FLAGS)
  print(_main.json_line(critic.train(config, workdir=_WORKDIR.value)))


if __name__ == "__main__":
  _main.run(main)
