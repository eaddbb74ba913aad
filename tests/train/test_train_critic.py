"""Critic against a frozen pretrained G (pgi_tf.train.critic, binaries/train_critic.py): Eq. 5's D
for TF-Hub modules that ship none. Offline stand-ins of PG-GAN and BigGAN play the public G."""

import json
import os

import numpy as np
import pytest
import scipy.stats
import tensorflow as tf
from PIL import Image

from configs import critic_celebahq256_progan
from configs import critic_imagenet256_biggan
from pgi_tf.generators import photo_realism
from pgi_tf import generators
from pgi_tf import hub
from pgi_tf import losses
from pgi_tf.generators import standins
from pgi_tf.errors import InputError
from pgi_tf.train import critic
from tests import tiny_models

RESOLUTION = 16  # stand-ins reduced from 128/256 px to keep the tests fast
NUM_REALS = 8    # = the smoke batch: every step sees the same real images (overfit one batch)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
  root = tmp_path_factory.mktemp("critic")
  reals = root / "reals"
  reals.mkdir()
  rng = np.random.default_rng(0)
  for i in range(NUM_REALS):  # high-frequency noise: nothing like the stand-ins' smooth images
    Image.fromarray(rng.integers(0, 256, (RESOLUTION, RESOLUTION, 3), dtype=np.uint8)).save(reals / f"{i}.png")
  export = lambda name, seed=0: standins.export_standin(name, str(root / f"{name}_{seed}"),
                                                         resolution=RESOLUTION, seed=seed)
  return {"root": root, "reals": str(reals), "progan": export("progan-128"),
          "progan_other": export("progan-128", seed=1), "biggan": export("biggan-128")}


@pytest.fixture(scope="module", autouse=True)
def binary_run(files):
  """binaries/train_critic.py on the :smoke preset, started when this module begins so it
  overlaps with the in-process tests."""
  workdir = str(files["root"] / "binary")
  pending = tiny_models.start_binary_cases("binaries.train_critic", [[
      "--config=configs/critic_celebahq256_progan.py:smoke", "--config.train.num_steps=2",
      f"--workdir={workdir}"]], workdir=str(files["root"] / "runner"))
  yield pending, workdir
  pending.stop()


def _config(preset, files, generator: str, **train):
  config = preset.get_config("smoke")
  config.generator = files[generator]
  config.output_resolution = 0  # the smoke presets' own stand-ins and photographs are replaced here
  config.data.source = "folder"
  config.data.resolution = 16
  config.data.data_dir = files["reals"]
  config.train.update(train)
  return config


# --------------------------------------------------------------------------- pure parts

def test_critic_losses_by_hand():
  real, fake = tf.constant([2.0, 0.0, -1.0]), tf.constant([-1.0, 0.5, 3.0])
  assert set(critic.CRITIC_LOSSES) <= set(losses.GAN_LOSSES)
  # softplus(-real) + softplus(fake) = -log D(x) - log(1 - D(G(z))), log(1 + e^x) by hand.
  ns = losses.discriminator_loss(kind="non_saturating", real_logits=real, fake_logits=fake)
  np.testing.assert_allclose(ns, [0.126928 + 0.313262, 0.693147 + 0.974077, 1.313262 + 3.048587], atol=1e-5)
  # relu(1 - real) + relu(1 + fake): (0 + 0), (1 + 1.5), (2 + 4).
  hinge = losses.discriminator_loss(kind="hinge", real_logits=real, fake_logits=fake)
  np.testing.assert_allclose(hinge, [0.0, 2.5, 6.0], atol=1e-6)


def test_r1_penalty_by_hand():
  x = tf.reshape(tf.range(3 * 2 * 2 * 1, dtype=tf.float32) / 10.0, [3, 2, 2, 1])
  w = tf.constant([1.0, -2.0, 0.5, 3.0], shape=[1, 2, 2, 1])
  linear = losses.r1_penalty(discriminator_fn=lambda v: tf.reduce_sum(w * v, axis=[1, 2, 3]), real_images=x)
  np.testing.assert_allclose(linear, [1 + 4 + 0.25 + 9] * 3, rtol=1e-6)  # grad = w
  square = losses.r1_penalty(discriminator_fn=lambda v: tf.reduce_sum(v * v, axis=[1, 2, 3]), real_images=x)
  per_example = np.square(np.arange(12.0).reshape(3, 4) / 10.0).sum(axis=1)
  np.testing.assert_allclose(square, 4.0 * per_example, rtol=1e-5)  # grad = 2x


def test_z_sampler_supports():
  noise = tf.random.Generator.from_seed(3)
  sample = lambda kind, support: critic.sample_z(noise, batch_size=1000, z_dim=10, z_distribution=kind,
                                                 z_support=support).numpy()
  uniform = sample("uniform", (-0.5, 1.5))
  assert uniform.min() >= -0.5 and uniform.max() < 1.5 and abs(uniform.mean() - 0.5) < 0.02
  assert uniform.min() < -0.49 and uniform.max() > 1.49  # fills the support
  normal = sample("normal", (float("-inf"), float("inf")))
  assert abs(normal.std() - 1.0) < 0.02 and np.abs(normal).max() > 3.0  # unbounded
  t = 0.3
  truncated = sample("truncated_normal", (-2 * t, 2 * t))
  assert np.abs(truncated).max() <= 2 * t and np.abs(truncated).max() > 0.95 * 2 * t
  np.testing.assert_allclose(truncated.std(), t * scipy.stats.truncnorm(-2, 2).std(), rtol=0.02)
  with pytest.raises(InputError, match="z_distribution='laplace'"):
    sample("laplace", (-1, 1))


# --------------------------------------------------------------------------- training

def _gap_and_accuracy(export_dir, generator_layer, metadata, reals, *, seed):
  """Mean D(real) - mean D(fake) and accuracy, with the exported critic on fresh fakes."""
  d = hub.load_discriminator(export_dir)
  noise = tf.random.Generator.from_seed(seed)
  z = critic.sample_z(noise, batch_size=32, z_dim=metadata["z_dim"], z_distribution=metadata["z_distribution"],
                      z_support=metadata["z_support"])
  condition_dim = metadata["condition_dim"]
  fakes = generator_layer(z) if not condition_dim else generator_layer(
      [z, tf.one_hot(noise.uniform([32], 0, condition_dim, dtype=tf.int32), condition_dim)])
  real_logits, fake_logits = d(reals).numpy(), d(fakes).numpy()
  accuracy = (np.mean(real_logits > 0) + np.mean(fake_logits < 0)) / 2
  return real_logits.mean() - fake_logits.mean(), accuracy


@pytest.mark.parametrize("preset,generator,train", [
    (critic_celebahq256_progan, "progan", dict(loss="non_saturating", distribution="default")),
    (critic_imagenet256_biggan, "biggan", dict(loss="hinge", r1_gamma=0.1, distribution="mirrored")),
])
def test_critic_separates_reals_from_frozen_g_resumes_and_exports(files, tmp_path, monkeypatch, preset,
                                                                   generator, train):
  loaded = []  # the frozen G the trainer loads, with its module variables at load time
  resolve = generators.resolve_generator

  def recording_resolve(*args, **kwargs):
    layer, metadata = resolve(*args, **kwargs)
    loaded.append((layer, [v.numpy().copy() for v in layer.module_layer.module_variables]))
    return layer, metadata

  monkeypatch.setattr(generators.registry, "resolve_generator", recording_resolve)  # where the trainer resolves G
  workdir = str(tmp_path / "run")
  config = _config(preset, files, generator, learning_rate=2e-3, num_steps=2, **train)
  first = critic.train(config, workdir=workdir)
  g_layer, g_metadata = resolve(files[generator])
  reals = np.stack([np.asarray(Image.open(os.path.join(files["reals"], f"{i}.png")), np.float32) / 127.5 - 1
                    for i in range(NUM_REALS)])
  gap_before, _ = _gap_and_accuracy(first["export_dir"], g_layer, g_metadata, reals, seed=5)

  config.train.num_steps = 50
  second = critic.train(config, workdir=workdir)
  assert (first["step"], second["resumed_from_step"], second["step"]) == (2, 2, 50)
  gap_after, accuracy = _gap_and_accuracy(second["export_dir"], g_layer, g_metadata, reals, seed=5)
  assert gap_after > gap_before + 1.0 and accuracy > 0.9, (gap_before, gap_after, accuracy)
  assert second["losses"]["accuracy"] > 0.9

  assert len(loaded) == 2 and all(values for _, values in loaded)
  for layer, values in loaded:  # G frozen by construction: no Keras weights, module bit-identical
    assert layer.trainable_weights == []
    for variable, value in zip(layer.module_layer.module_variables, values):
      np.testing.assert_array_equal(variable.numpy(), value)

  # The export is the Keras critic: rebuild it, restore the last checkpoint, same logits.
  metadata = photo_realism.check_critic_matches_generator(second["export_dir"], g_metadata, flag="--critic")
  keras_critic = critic.build_critic(config, g_metadata)
  tf.train.Checkpoint(critic=keras_critic).restore(
      tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints"))).expect_partial()
  np.testing.assert_allclose(hub.load_discriminator(second["export_dir"])(reals).numpy(),
                             keras_critic(reals, training=False).numpy(), atol=1e-5)
  assert metadata["critic"] is True and metadata["photo_realism"] == "critic" and metadata["kind"] == "discriminator"
  assert metadata["critic_for"] == files[generator] and metadata["trained_steps"] == 50
  assert metadata["generator_name"] == ("progan-128" if generator == "progan" else "biggan-128")
  assert metadata["loss"] == train["loss"] and metadata["dataset"] == "folder"
  assert metadata["condition_dim"] == 0 and metadata["input_names"] == ["images"]  # scores images only
  assert metadata["generator_condition_dim"] == (1000 if generator == "biggan" else 0)
  assert metadata["truncation"] == g_metadata.get("truncation") and metadata["class_index"] is None
  for name in ("samples/samples_0000050.png", "samples_latest.png", "checkpoints/ckpt-50.index"):
    assert os.path.isfile(os.path.join(workdir, name)), name
  assert os.listdir(os.path.join(workdir, "tensorboard"))


def test_critic_pools_generators_larger_than_dcgan():
  config = critic_imagenet256_biggan.get_config("smoke")
  config.model.resolution = 16
  model = critic.build_critic(config, {"resolution": 32, "channels": 3, "z_dim": 140})
  images = tf.random.stateless_uniform([2, 32, 32, 3], seed=[0, 1], minval=-1, maxval=1)
  pooled = tf.nn.avg_pool2d(images, 2, 2, "VALID")  # 2x2 means: 32 -> 16 px
  inner = model.get_layer("critic_dcgan")
  assert tuple(inner.inputs[0].shape[1:]) == (16, 16, 3)
  np.testing.assert_allclose(model(images).numpy(), inner(pooled).numpy(), atol=1e-5)
  config.model.resolution = 24
  with pytest.raises(InputError, match=r"--config\.model\.resolution=24"):
    critic.build_critic(config, {"resolution": 32, "channels": 3, "z_dim": 140})


def test_check_critic_matches_generator_refuses_other_generators(files, tmp_path):
  # Trained on G's images resized 16 -> 32 px (a 128-px PG-GAN in a 256-px pipeline, scaled down).
  config = _config(critic_celebahq256_progan, files, "progan", num_steps=1)
  config.output_resolution, config.data.resolution = 32, 32
  export_dir = critic.train(config, workdir=str(tmp_path / "run"))["export_dir"]
  _, right = generators.resolve_generator(files["progan"], output_resolution=32)
  metadata = photo_realism.check_critic_matches_generator(export_dir, right, flag="--critic")
  assert metadata["critic"] is True and metadata["resolution"] == 32
  assert metadata["generator_module_resolution"] == RESOLUTION
  _, unresized = generators.resolve_generator(files["progan"])  # same weights, 16 px images
  with pytest.raises(InputError, match=rf"^--critic={export_dir}: scores 32 px images; the generator gives 16 px$"):
    photo_realism.check_critic_matches_generator(export_dir, unresized, flag="--critic")
  _, other = generators.resolve_generator(files["progan_other"], output_resolution=32)  # other weights
  with pytest.raises(InputError) as refused:
    photo_realism.check_critic_matches_generator(export_dir, other, flag="--critic")
  message = str(refused.value)
  assert "\n" not in message and message.startswith(f"--critic={export_dir}: trained against another generator")
  not_a_critic = str(tmp_path / "plain_d")
  metadata = json.load(open(os.path.join(export_dir, hub.METADATA_FILENAME)))
  hub.export_discriminator(critic.build_critic(config, right), not_a_critic,
                           metadata={k: v for k, v in metadata.items() if k != "critic"})
  for path in (not_a_critic, files["progan"]):  # a stage-1 style D; a generator module
    with pytest.raises(InputError, match=rf"^--critic={path}: not a critic"):
      photo_realism.check_critic_matches_generator(path, right, flag="--critic")
  with pytest.raises(InputError, match=r"^--critic=.*nowhere: no such critic directory"):
    photo_realism.check_critic_matches_generator(str(tmp_path / "nowhere"), right, flag="--critic")


def test_bad_config_is_refused_before_training(files, tmp_path):
  cases = [
      (dict(), r"--config\.data\.resolution=32: the generator .* has resolution 16", {"resolution": 32}),
      (dict(), r"--config\.generator: required", {"generator": ""}),
      (dict(), r"--config\.class_index=3: .* not class-conditional", {"class_index": 3}),
      (dict(loss="wgan_gp"), r"--config\.train\.loss=wgan_gp: choose one of non_saturating, hinge", {}),
  ]
  for train, pattern, change in cases:
    config = _config(critic_celebahq256_progan, files, "progan", **train)
    if "resolution" in change:
      config.data.resolution = change["resolution"]
    if "generator" in change:
      config.generator = change["generator"]
    if "class_index" in change:
      config.class_index = change["class_index"]
    with pytest.raises(InputError, match=pattern):
      critic.train(config, workdir=str(tmp_path / "bad"))


def test_presets_name_their_generator_and_data():
  celebahq = critic_celebahq256_progan.get_config()
  assert (celebahq.generator, celebahq.data.source, celebahq.data.resolution) == ("progan-128", "folder", 256)
  assert celebahq.output_resolution == 256 and critic.critic_resolution(celebahq, 256) == 128
  imagenet = critic_imagenet256_biggan.get_config()
  assert (imagenet.generator, imagenet.data.source, imagenet.data.resolution) == ("biggan-256", "imagenet", 256)
  assert critic.critic_resolution(imagenet, 256) == 128  # pooled inside the critic
  for preset in (critic_celebahq256_progan, critic_imagenet256_biggan):
    smoke = preset.get_config("smoke")
    assert smoke.generator.startswith("standin:") and smoke.data.source == "skimage"  # offline as they are
    assert smoke.model.base_channels == 8 and smoke.train.batch_size == 8


def test_binary_writes_its_export(binary_run, files):
  pending, workdir = binary_run
  (run,) = pending.results()
  assert run.returncode == 0, run.stderr[-3000:]
  summary = json.loads(run.stdout.strip().splitlines()[-1])
  assert summary["step"] == 2 and summary["export_dir"] == os.path.join(workdir, "export", "critic")
  metadata = hub.read_metadata(summary["export_dir"])
  assert metadata["critic"] is True and metadata["config_name"] == "critic_celebahq256_progan_smoke"
  assert os.path.isfile(os.path.join(workdir, "samples_latest.png"))
