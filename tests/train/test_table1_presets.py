"""Table 1's stage-2 presets (SVHN, Stanford Cars, CelebA at 64 px): the paper's settings, and each
:smoke variant trains P for two steps on a fixture in the data set's own format."""

import importlib
import os

import keras
import numpy as np
import pytest

from pgi_tf import hub
from pgi_tf.models import dcgan
from pgi_tf.train import prior as prior_trainer
from tests import fixtures_data as fx

PRESETS = {"svhn64_prior": "svhn", "cars64_prior": "cars", "celeba64_prior": "celeba"}


def _fixture(source, root):
  os.makedirs(root)
  if source == "svhn":
    fx.make_svhn(root, split="train", digits=(1, 10, 3, 10, 9, 2, 4, 5))
  elif source == "cars":
    fx.make_cars(root, split="train", count=6)
  else:
    fx.make_celeba_aligned(root, partitions=(0, 0, 0, 0, 1, 2))
  return str(root)


@pytest.fixture(scope="module")
def rgb_gan(tmp_path_factory):
  """An untrained 16-px RGB DCGAN exported as hub modules (what stage 1 hands stage 2)."""
  keras.utils.set_random_seed(3)
  config = dcgan.DCGANConfig(resolution=16, channels=3, z_dim=8, generator_base_channels=8,
                             discriminator_base_channels=8)
  generator, discriminator = dcgan.build_gan(config)
  root = tmp_path_factory.mktemp("gan16")
  metadata = hub.gan_metadata(resolution=16, channels=3, z_dim=8)
  hub.export_generator(generator, str(root / "generator"), metadata=metadata)
  hub.export_discriminator(discriminator, str(root / "discriminator"), metadata=metadata)
  return str(root)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_preset_has_the_papers_settings(name):
  module = importlib.import_module(f"configs.{name}")
  config = module.get_config()
  assert (config.data.source, config.data.resolution, config.data.channels) == (PRESETS[name], 64, 3)
  assert (config.masks.kind, config.masks.size) == ("square", 32)  # §6.3: 32x32 training holes
  stage1 = name.replace("_prior", "")
  assert config.generator == f"runs/{stage1}/export/generator"
  assert os.path.isfile(os.path.join(os.path.dirname(module.__file__), f"{stage1}.py"))
  for field in ("Paper:", "Run:", "Smoke:", "Expect:", "Differs from the paper:", "Table 1"):
    assert field in module.__doc__


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_smoke_variant_trains_on_a_fixture_of_its_format(name, rgb_gan, tmp_path):
  config = importlib.import_module(f"configs.{name}").get_config("smoke")
  config.data.data_dir = _fixture(PRESETS[name], tmp_path / "data")
  config.generator = os.path.join(rgb_gan, "generator")
  config.discriminator = os.path.join(rgb_gan, "discriminator")
  config.train.num_steps, config.train.batch_size, config.train.sample_grid_size = 2, 2, 2
  config.prior.base_channels = 4
  result = prior_trainer.train(config, workdir=str(tmp_path / "run"))
  assert result["step"] == 2 and np.isfinite(result["losses"]["total"])
  metadata = hub.read_metadata(os.path.join(result["export_dir"], "prior_predictor"))
  assert (metadata["dataset"], metadata["resolution"], metadata["channels"]) == (PRESETS[name], 16, 3)
  assert os.path.isfile(os.path.join(result["export_dir"], "inpainter", "saved_model.pb"))
