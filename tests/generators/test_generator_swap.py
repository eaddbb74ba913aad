"""Every registry generator end to end on its offline stand-in (the high-resolution pipeline):
train_prior (smoke), inpaint (library and binary), export (one SavedModel), and gradients
reaching P through each adapter. Also the photo-realism policy and --label.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from configs import prior_defaults
from pgi_tf import generators
from pgi_tf import hub
from pgi_tf.inference import loading
from pgi_tf.inference import folders
from pgi_tf.generators import photo_realism
from pgi_tf.generators import standins
from pgi_tf.data import masks as masks_lib
from pgi_tf.errors import InputError
from pgi_tf.models import prior_predictor as prior_lib
from pgi_tf.train import prior

RESOLUTION = 16
PUBLIC_NAMES = [n for n, s in generators.GENERATORS.items() if s.family != "ours"]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def standin_dirs(tmp_path_factory):
  root = tmp_path_factory.mktemp("swap_standins")
  return {name: standins.export_standin(name, str(root / name), resolution=RESOLUTION)
          for name in PUBLIC_NAMES}


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
  """A labelled folder of RGB photographs (scikit-image), two classes, and one hole mask."""
  from skimage import data
  root = tmp_path_factory.mktemp("photos")
  sources = {"class_a": [data.astronaut(), data.coffee()], "class_b": [data.chelsea(), data.rocket()]}
  for folder, arrays in sources.items():
    os.makedirs(root / "images" / folder)
    for index, array in enumerate(arrays * 2):
      Image.fromarray(array).resize((RESOLUTION, RESOLUTION)).save(root / "images" / folder / f"{index}.png")
  mask = np.zeros((RESOLUTION, RESOLUTION), np.uint8)
  mask[4:12, 4:12] = 255
  Image.fromarray(mask).save(root / "mask.png")
  return {"images": str(root / "images"), "mask": str(root / "mask.png")}


def _config(generator: str, photos_dir: str, *, photo_realism_policy: str = "auto"):
  config = prior_defaults.make_smoke(prior_defaults.prior_config())
  config.name = "standin"
  config.generator = generator
  config.discriminator = ""
  config.photo_realism = photo_realism_policy
  config.data.source = "folder"
  config.data.data_dir = photos_dir
  config.data.resolution = RESOLUTION
  config.data.channels = 3
  config.masks.kind = "square"
  config.masks.size = 8
  config.train.num_steps = 2
  config.train.batch_size = 4
  config.train.checkpoint_every = 2
  config.train.summary_every = 1
  config.train.sample_every = 100
  config.train.sample_grid_size = 4
  config.train.sample_upscale = 1
  return config


def _policy(name: str) -> str:
  return "auto" if GENERATOR_HAS_D[name] else "off"


GENERATOR_HAS_D = {name: generators.GENERATORS[name].discriminator_signature is not None for name in PUBLIC_NAMES}


@pytest.mark.parametrize("name", PUBLIC_NAMES)
def test_train_inpaint_export_on_standin(standin_dirs, photos, tmp_path, name):
  spec = generators.GENERATORS[name]
  workdir = str(tmp_path / "run")
  result = prior.train(_config(standin_dirs[name], photos["images"], photo_realism_policy=_policy(name)),
                       workdir=workdir)
  assert result["step"] == 2 and np.isfinite(result["losses"]["total"])
  export_dir = result["export_dir"]
  p_metadata = hub.read_metadata(os.path.join(export_dir, "prior_predictor"))
  assert p_metadata["generator_name"] == name and p_metadata["standin"] is True
  assert p_metadata["generator_family"] == spec.family and p_metadata["z_dim"] == spec.z_dim
  assert p_metadata["z_distribution"] == spec.z_distribution
  assert p_metadata["photo_realism"] == ("discriminator" if GENERATOR_HAS_D[name] else "off")
  biggan = spec.family == "biggan"
  assert p_metadata["class_conditional"] is biggan
  assert p_metadata["condition_dim"] == (1000 if biggan else 0)
  if GENERATOR_HAS_D[name]:
    assert p_metadata["discriminator"] == "module:discriminator"
    assert result["losses"]["photo_realism"] != 0.0  # Eq. 5 through compare_gan's own D

  # Inpaint: the train_prior export directory is a model directory (G from P's metadata).
  models = loading.load_models(model_dir=export_dir, photo_realism_policy="off")
  assert models.metadata["generator"] == name and models.resolution == RESOLUTION
  out_dir = str(tmp_path / "inpainted")
  summary = folders.inpaint_files(models=models, input_path=os.path.join(photos["images"], "class_b"),
                                        output_dir=out_dir, mask_path=photos["mask"],
                                        label="1" if biggan else "auto")
  assert summary["generator"] == name and summary["standin"] is True and summary["photo_realism"] == "off"
  assert summary["images"] == 4 and os.path.isfile(os.path.join(out_dir, "grid.png"))
  if biggan:
    assert summary["label_source"] == "given" and set(summary["labels"].values()) == {1}
  original = np.asarray(Image.open(os.path.join(photos["images"], "class_b", "0.png")))
  written = np.asarray(Image.open(os.path.join(out_dir, "0.png")))
  known = np.asarray(Image.open(photos["mask"])) < 128
  np.testing.assert_array_equal(written[known], original[known])  # Eq. 8 keeps known pixels
  assert np.abs(written[~known].astype(int) - original[~known]).mean() > 0  # the hole was filled

  # Export: the one-SavedModel inpainter gives what the library gives.
  images = tf.constant(np.stack([original.astype(np.float32) / 127.5 - 1.0] * 2))
  masks = tf.constant(np.stack([(~known)[..., None].astype(np.float32)] * 2))
  labels = np.array([1, 0], np.int32)
  expected = loading.make_inpainter(models).inpaint(images, masks, labels=labels if biggan else None)
  exported = tf.saved_model.load(os.path.join(export_dir, "inpainter"))
  inputs = {"images": images, "masks": masks, **({"labels": tf.constant(labels)} if biggan else {})}
  served = exported.signatures["serving_default"](**inputs)
  np.testing.assert_allclose(served["inpainted"].numpy(), expected["inpainted"].numpy(), atol=2e-4)
  np.testing.assert_allclose(served["z"].numpy(), expected["z"].numpy(), atol=2e-4)
  inpainter_metadata = hub.read_metadata(os.path.join(export_dir, "inpainter"))
  assert inpainter_metadata["input_names"] == ["images", "masks"] + (["labels"] if biggan else [])


@pytest.mark.parametrize("name", PUBLIC_NAMES)
def test_gradients_reach_p_through_each_adapter(standin_dirs, name):
  generator, metadata = generators.resolve_generator(standin_dirs[name])
  conditional = generators.class_conditional(metadata)
  p = prior_lib.build_prior_predictor(prior_lib.PriorPredictorConfig(
      resolution=RESOLUTION, channels=3, z_dim=metadata["z_dim"], base_channels=8,
      z_distribution=metadata["z_distribution"], z_support=tuple(metadata["z_support"]),
      condition_dim=metadata["condition_dim"] if conditional else 0))
  images = tf.random.stateless_uniform([2, RESOLUTION, RESOLUTION, 3], seed=[1, 2], minval=-1.0, maxval=1.0)
  masks = tf.constant(masks_lib.sample_masks(masks_lib.MaskSpec(kind="square", size=8), count=2,
                                             height=RESOLUTION, width=RESOLUTION,
                                             rng=np.random.default_rng(0)))
  with tf.GradientTape() as tape:
    if conditional:
      y = tf.one_hot([3, 7], 1000)
      generated = generator([p([(1 - masks) * images, masks, y]), y])
    else:
      generated = generator(p([(1 - masks) * images, masks]))
    loss = tf.reduce_mean(tf.abs((1 - masks) * (generated - images)))
  grads = tape.gradient(loss, p.trainable_variables)
  assert all(g is not None for g in grads)
  assert all(float(tf.reduce_sum(tf.abs(g))) > 0 for g in grads if g.shape.rank == 2)  # every dense/conv kernel
  assert generator.trainable_weights == []


def test_photo_realism_policy(standin_dirs, tmp_path):
  _, progan = generators.resolve_generator(standin_dirs["progan-128"])
  with pytest.raises(InputError, match=r"--photo_realism=auto: progan-128 ships no discriminator and none was "
                                       r"given; choose --photo_realism=off, or --photo_realism=critic"):
    photo_realism.load("auto", discriminator="", generator_metadata=progan, required=True)
  assert photo_realism.load("auto", discriminator="", generator_metadata=progan)[1]["photo_realism"] == "off"
  with pytest.raises(InputError, match="--photo_realism=discriminator: progan-128 ships no discriminator"):
    photo_realism.load("discriminator", discriminator="", generator_metadata=progan)
  with pytest.raises(InputError, match="--photo_realism=critic: give the critic with --discriminator=PATH"):
    photo_realism.load("critic", discriminator="", generator_metadata=progan)
  with pytest.raises(InputError, match="--discriminator=none: contradicts --photo_realism=critic"):
    photo_realism.load("critic", discriminator="none", generator_metadata=progan)
  with pytest.raises(InputError, match="--photo_realism=sometimes: choose one of auto, discriminator"):
    photo_realism.load("sometimes", discriminator="", generator_metadata=progan)
  _, compare = generators.resolve_generator(standin_dirs["compare_gan-celebahq-128"])
  layer, record = photo_realism.load("discriminator", discriminator="", generator_metadata=compare)
  assert record == {"photo_realism": "discriminator", "discriminator": "module:discriminator"}
  assert layer(tf.zeros([2, RESOLUTION, RESOLUTION, 3])).shape == (2,)


def test_output_resolution_resizes_public_modules(standin_dirs):
  base, _ = generators.resolve_generator(standin_dirs["progan-128"])
  resized, metadata = generators.resolve_generator(standin_dirs["progan-128"], output_resolution=32)
  assert metadata["resolution"] == 32 and metadata["module_resolution"] == RESOLUTION
  z = tf.random.stateless_normal([2, 512], seed=[4, 5])
  expected = tf.clip_by_value(tf.image.resize(base(z), [32, 32], method="bicubic"), -1.0, 1.0)
  np.testing.assert_allclose(resized(z).numpy(), expected.numpy(), atol=1e-6)
  # The module's own D sees images at its own size again.
  _, compare = generators.resolve_generator(standin_dirs["compare_gan-celebahq-128"], output_resolution=32)
  discriminator = generators.load_module_discriminator(compare)
  big = tf.random.stateless_uniform([2, 32, 32, 3], seed=[6, 7], minval=-1.0, maxval=1.0)
  small = tf.image.resize(big, [RESOLUTION, RESOLUTION], method="area", antialias=True)
  direct = tf.saved_model.load(standin_dirs["compare_gan-celebahq-128"]).signatures["discriminator"](
      default=(small + 1.0) / 2.0)["default"]
  np.testing.assert_allclose(discriminator(big).numpy(), direct.numpy()[:, 0], atol=1e-5)


def test_inpaint_binary_swaps_generator_and_checks_labels(standin_dirs, photos, tmp_path):
  """The CLI: --generator=<stand-in> with --mode=iterative (no P), --label, one-line errors."""
  base = [sys.executable, "-m", "binaries.inpaint", f"--input={photos['images']}/class_a",
          f"--masks={photos['mask']}", "--mode=iterative", "--iterations=3", "--photo_realism=off"]

  def run(*extra):
    return subprocess.run(base + list(extra), cwd=ROOT, capture_output=True, text=True, timeout=300)

  out_dir = str(tmp_path / "out")
  done = run(f"--generator={standin_dirs['biggan-deep-128']}", "--label=5", f"--output_dir={out_dir}",
             "--truncation=0.4")
  assert done.returncode == 0, done.stderr[-2000:]
  results = json.load(open(os.path.join(out_dir, "results.json")))
  assert results["generator"] == "biggan-deep-128" and results["standin"] is True
  assert results["truncation"] == 0.4 and results["label_source"] == "given"
  assert set(results["labels"].values()) == {5} and results["photo_realism"] == "off"
  assert len([f for f in os.listdir(out_dir) if f[0].isdigit()]) == 4
  bad = run(f"--generator={standin_dirs['biggan-128']}", "--label=1000", f"--output_dir={tmp_path / 'x'}")
  assert bad.returncode == 2
  assert bad.stderr.strip().splitlines()[-1] == "error: --label=1000: biggan-128 has 1000 classes (0..999)"
  bad = run(f"--generator={standin_dirs['biggan-128']}", "--label=auto", f"--output_dir={tmp_path / 'x'}")
  assert bad.returncode == 2 and "--label=auto: biggan-128 is class-conditional; pass --class_predictor" in bad.stderr
  bad = run(f"--generator={standin_dirs['progan-128']}", "--label=3", f"--output_dir={tmp_path / 'x'}")
  assert bad.returncode == 2 and "--label=3: progan-128 is not class-conditional" in bad.stderr
  bad = run("--generator=stylegan2", f"--output_dir={tmp_path / 'x'}")
  assert bad.returncode == 2
  assert bad.stderr.strip().splitlines()[-1].startswith("error: --generator=stylegan2: unknown generator")
  assert "Traceback" not in bad.stderr


def test_train_prior_with_a_critic_for_a_module_without_d(standin_dirs, photos, tmp_path):
  """PG-GAN publishes no D: train a critic against the frozen G, then P with Eq. 5 from it."""
  from configs import critic_defaults
  from pgi_tf.train import critic
  critic_config = critic_defaults.make_smoke(critic_defaults.critic_config())
  critic_config.generator = standin_dirs["progan-128"]
  critic_config.data.data_dir = photos["images"]
  critic_config.train.num_steps = 2
  critic_config.train.batch_size = 4
  critic_path = critic.train(critic_config, workdir=str(tmp_path / "critic"))["export_dir"]

  config = _config(standin_dirs["progan-128"], photos["images"], photo_realism_policy="critic")
  config.discriminator = critic_path
  result = prior.train(config, workdir=str(tmp_path / "p"))
  metadata = hub.read_metadata(os.path.join(result["export_dir"], "prior_predictor"))
  assert metadata["photo_realism"] == "critic" and metadata["discriminator"] == critic_path
  assert result["losses"]["photo_realism"] != 0.0
  # auto recognises a critic by its metadata; a critic of another G is refused.
  models = loading.load_models(model_dir=result["export_dir"], discriminator=critic_path)
  assert models.photo_realism == {"photo_realism": "critic", "discriminator": critic_path}
  config = _config(standin_dirs["biggan-128"], photos["images"], photo_realism_policy="critic")
  config.discriminator = critic_path
  with pytest.raises(InputError, match=r"--config.discriminator=.*critic"):
    prior.train(config, workdir=str(tmp_path / "p2"))
  with pytest.raises(InputError, match="a critic trained by binaries/train_critic.py; pass --photo_realism=critic"):
    photo_realism.load("discriminator", discriminator=critic_path,
                       generator_metadata=generators.resolve_generator(standin_dirs["progan-128"])[1])


def test_benchmark_times_a_registry_generator():
  from pgi_tf.evaluation import benchmarks
  rows = benchmarks.inference_speed(generator="standin:biggan-128@16", batch_sizes=(2,), single_repeats=2,
                                    max_iterative_seconds=0.05)
  (row,) = rows
  assert row["generator"] == "biggan-128" and row["standin"] is True and row["resolution"] == 16
  assert row["iterative_steps"] == 1000 and 10 <= row["iterative_timed_steps"] <= 1000  # scaled when slow
  assert row["single_ms_per_image"] > 0 and row["speedup"] == pytest.approx(
      row["iterative_ms_per_image"] / row["single_ms_per_image"], rel=0.05)


def test_train_prior_binary_swaps_generator_and_policy_by_flag(tmp_path):
  """--generator / --photo_realism on a trainer (no --config. prefix): compare_gan's own D for Eq. 5."""
  workdir = tmp_path / "run"
  done = subprocess.run(
      [sys.executable, "-m", "binaries.train_prior", "--config=configs/table2_celebahq256_progan.py:smoke",
       "--generator=standin:compare_gan-celebahq-128@16", "--photo_realism=discriminator",
       "--config.output_resolution=0", "--config.data.resolution=16", "--config.masks.min_side=6",
       "--config.masks.max_side=8", "--config.train.num_steps=2", f"--workdir={workdir}"],
      cwd=ROOT, capture_output=True, text=True, timeout=300)
  assert done.returncode == 0, done.stderr[-2000:]
  metadata = hub.read_metadata(str(workdir / "export" / "prior_predictor"))
  assert metadata["generator_name"] == "compare_gan-celebahq-128" and metadata["z_distribution"] == "uniform"
  assert metadata["photo_realism"] == "discriminator" and metadata["discriminator"] == "module:discriminator"
  assert json.loads(done.stdout.strip().splitlines()[-1])["losses"]["photo_realism"] != 0.0
