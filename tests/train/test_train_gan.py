"""Stage-1 trainer: one step changes G and D, MirroredStrategy, resume after a kill, export."""

import json
import os
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
import tensorflow as tf

from configs import fashion_mnist32
from tests import fixtures_data as fx
from pgi_tf import hub
from pgi_tf.errors import InputError
from pgi_tf.models import dcgan
from pgi_tf.train import gan
from pgi_tf.train import runtime

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TINY = dcgan.DCGANConfig(resolution=16, channels=1, z_dim=8, generator_base_channels=8,
                         discriminator_base_channels=8)


def _step_fn(strategy, loss_kind="non_saturating", batch=8):
  with strategy.scope():
    generator, discriminator = dcgan.build_gan(TINY)
    g_opt, d_opt = keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3)
    g_opt.build(generator.trainable_variables)
    d_opt.build(discriminator.trainable_variables)
    step = tf.Variable(0, dtype=tf.int64)
    noise = tf.random.Generator.from_seed(1)
  train_step = gan.make_train_step(
      strategy=strategy, generator=generator, discriminator=discriminator, generator_optimizer=g_opt,
      discriminator_optimizer=d_opt, noise=noise, step=step, loss_kind=loss_kind, z_dim=8,
      global_batch_size=batch)
  return train_step, generator, discriminator, step


@pytest.mark.parametrize("loss_kind", ["non_saturating", "hinge", "wgan_gp"])
def test_one_step_changes_generator_and_discriminator(loss_kind):
  keras.utils.set_random_seed(0)
  train_step, generator, discriminator, step = _step_fn(tf.distribute.get_strategy(), loss_kind)
  g_before = [w.copy() for w in generator.get_weights()]
  d_before = [w.copy() for w in discriminator.get_weights()]
  d_loss, g_loss = train_step(tf.random.uniform([8, 16, 16, 1], -1, 1, seed=2))
  assert np.isfinite(float(d_loss)) and np.isfinite(float(g_loss))
  assert int(step.numpy()) == 1
  assert any(not np.array_equal(a, b) for a, b in zip(g_before, generator.get_weights()))
  assert any(not np.array_equal(a, b) for a, b in zip(d_before, discriminator.get_weights()))


def test_mirrored_strategy_on_two_logical_cpus():
  strategy = runtime.make_strategy("mirrored")
  assert strategy.num_replicas_in_sync == 2
  train_step, generator, _, step = _step_fn(strategy)
  before = [w.copy() for w in generator.get_weights()]
  dataset = tf.data.Dataset.from_tensor_slices(
      tf.random.uniform([24, 16, 16, 1], -1, 1, seed=3)).batch(8)
  for batch in strategy.experimental_distribute_dataset(dataset):
    d_loss, g_loss = train_step(batch)
    assert np.isfinite(float(d_loss)) and np.isfinite(float(g_loss))
  assert int(step.numpy()) == 3
  # Mirrored variables stay identical on both replicas after the all-reduce.
  kernel = generator.trainable_variables[0]._value  # the tf.Variable behind the Keras 3 variable
  values = [v.numpy() for v in strategy.experimental_local_results(kernel)]
  assert len(values) == 2 and np.array_equal(values[0], values[1])
  assert not np.array_equal(before[0], values[0])


def _smoke_config(**train_overrides):
  config = fashion_mnist32.get_config("smoke")
  config.data.resolution = 16  # Fashion-MNIST is padded to 32 then resized: keeps the test quick
  for key, value in train_overrides.items():
    setattr(config.train, key, value)
  return config


def test_train_writes_everything_and_export_gives_gradients(tmp_path):
  workdir = str(tmp_path / "run")
  result = gan.train(_smoke_config(num_steps=6, checkpoint_every=3, sample_every=3), workdir=workdir)
  assert result["step"] == 6
  assert sorted(f for f in os.listdir(os.path.join(workdir, "checkpoints")) if f.endswith(".index")) == [
      "ckpt-3.index", "ckpt-6.index"]
  assert os.path.isfile(os.path.join(workdir, "samples", "samples_0000006.png"))
  assert os.path.isfile(os.path.join(workdir, "samples_latest.png"))
  assert any(f.startswith("events.out") for f in os.listdir(os.path.join(workdir, "tensorboard")))
  generator = hub.load_generator(os.path.join(workdir, "export", "generator"))
  discriminator = hub.load_discriminator(os.path.join(workdir, "export", "discriminator"))
  assert generator.metadata["trained_steps"] == 6 and generator.metadata["channels"] == 1
  z = tf.Variable(tf.random.uniform([2, 100], -1, 1, seed=4))
  with tf.GradientTape() as tape:
    images = generator(z)
    score = tf.reduce_sum(discriminator(images))
  assert images.shape == (2, 16, 16, 1)
  assert float(tf.reduce_sum(tf.abs(tape.gradient(score, z)))) > 0
  # Running again with more steps resumes from step 6 rather than starting over.
  result = gan.train(_smoke_config(num_steps=8, checkpoint_every=3, sample_every=3), workdir=workdir)
  assert result["step"] == 8 and result["resumed_from_step"] == 6


def test_resume_refuses_a_checkpoint_of_another_config(tmp_path):
  workdir = str(tmp_path / "run")
  gan.train(_smoke_config(num_steps=2, checkpoint_every=2), workdir=workdir)
  other = _smoke_config(num_steps=4)
  other.model.generator_base_channels = 16
  with pytest.raises(InputError, match=r"--workdir=.*another config.*generator_base_channels"):
    gan.train(other, workdir=workdir)


def _run_binary(args, **kwargs):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
  return subprocess.run([sys.executable, "-m", "binaries.train_gan", *args], cwd=REPO, env=env,
                        capture_output=True, text=True, **kwargs)


def test_killed_training_resumes_from_last_checkpoint(tmp_path):
  workdir = tmp_path / "run"
  args = ["--config=configs/fashion_mnist32.py:smoke", f"--workdir={workdir}",
          "--config.data.resolution=16", "--config.train.num_steps=100000",
          "--config.train.checkpoint_every=4", "--config.train.sample_every=100000"]
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
  process = subprocess.Popen([sys.executable, "-m", "binaries.train_gan", *args], cwd=REPO, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  state = workdir / "checkpoints" / "checkpoint"
  deadline = time.time() + 120
  try:
    while time.time() < deadline:  # wait for at least the third checkpoint, then kill mid-run
      if state.exists() and "ckpt-12" in state.read_text():
        break
      time.sleep(0.2)
  finally:
    process.send_signal(signal.SIGKILL)
    process.wait()
  latest = tf.train.latest_checkpoint(str(workdir / "checkpoints"))
  assert latest is not None
  killed_at = int(latest.rsplit("-", 1)[1])
  assert killed_at >= 12
  reader = tf.train.load_checkpoint(latest)  # the newest checkpoint is complete and readable
  assert reader.get_tensor("step/.ATTRIBUTES/VARIABLE_VALUE") == killed_at
  resumed = _run_binary([*args[:3], f"--config.train.num_steps={killed_at + 4}",
                         "--config.train.checkpoint_every=4", "--config.train.sample_every=100000"],
                        timeout=300)
  assert resumed.returncode == 0, resumed.stderr[-2000:]
  result = json.loads(resumed.stdout.strip().splitlines()[-1])
  assert result["resumed_from_step"] == killed_at and result["step"] == killed_at + 4


@pytest.mark.parametrize("args,needle", [
    (["--config=configs/no_such_preset.py", "--workdir=/tmp/x"], "no_such_preset"),
    (["--config=configs/fashion_mnist32.py:smoke", "--workdir={tmp}/w",
      "--config.data.data_dir={tmp}/missing"], "missing"),
    (["--config=configs/fashion_mnist32.py:smoke", "--workdir={tmp}/w",
      "--config.data.resolution=48"], "resolution"),
    (["--config=configs/fashion_mnist32.py:smoke", "--workdir={tmp}/w",
      "--config.train.loss=lsgan"], "config.train.loss=lsgan"),
])
def test_binary_bad_input_is_one_line_exit_2(tmp_path, args, needle):
  completed = _run_binary([a.format(tmp=tmp_path) for a in args], timeout=120)
  assert completed.returncode == 2, completed.stderr[-2000:]
  error_lines = [l for l in completed.stderr.splitlines() if l.startswith("error:")]
  assert len(error_lines) == 1 and needle in error_lines[0], completed.stderr[-2000:]
  assert "Traceback" not in completed.stderr


@pytest.mark.parametrize("preset,make_data", [
    ("celeba64", lambda root: fx.make_celeba_aligned(root, partitions=(0,) * 8)),
    ("svhn64", lambda root: fx.make_svhn(root, digits=(1, 2, 3, 4, 5, 6, 7, 8))),
    ("cars64", lambda root: fx.make_cars(root, count=8)),
])
def test_table1_presets_train_on_fixtures_in_their_real_format(tmp_path, preset, make_data):
  """Each Table 1 preset's smoke variant runs stage 1 end to end on its dataset's real file layout."""
  import importlib
  data_dir = tmp_path / "data"
  make_data(data_dir)
  config = importlib.import_module(f"configs.{preset}").get_config("smoke")
  config.data.data_dir = str(data_dir)
  config.train.batch_size = 4
  config.train.num_steps = 2
  config.train.checkpoint_every = 2
  config.train.sample_grid_size = 4
  result = gan.train(config, workdir=str(tmp_path / "run"))
  assert result["step"] == 2
  generator = hub.load_generator(os.path.join(result["export_dir"], "generator"))
  assert generator.metadata["resolution"] == 64 and generator.metadata["channels"] == 3
  assert generator(tf.zeros([1, 100])).shape == (1, 64, 64, 3)


def test_moving_fashion_mnist_gan_smoke_trains_on_clip_frames(tmp_path, monkeypatch):
  from configs import moving_fashion_mnist32
  from pgi_tf.data import moving_fashion_mnist
  monkeypatch.setitem(moving_fashion_mnist.SEQUENCE_TRAINING_CLIPS, "num_clips", 4)  # 32 frames, not 160,000
  config = moving_fashion_mnist32.get_config("smoke")
  assert config.data.source == "moving_fashion_mnist_frames" and config.name == "moving_fashion_mnist32_smoke"
  config.data.resolution = 16
  config.train.num_steps, config.train.batch_size = 2, 8
  result = gan.train(config, workdir=str(tmp_path / "moving"))
  assert result["step"] == 2
  assert hub.load_generator(os.path.join(str(tmp_path / "moving"), "export", "generator")).metadata["resolution"] == 16


def test_start_run_removes_what_a_killed_run_left_and_nothing_else(tmp_path):
  """A trainer's start (runtime.start_run) deletes files.py's `.tmp-*` leftovers anywhere in the
  workdir and TF's half-written `checkpoints/ckpt-N_temp/`; finished files stay."""
  workdir = tmp_path / "work"
  leftovers = [workdir / "export" / ".tmp-generator.abc" / "saved_model.pb",
               workdir / ".tmp-samples_latest.png.x.png", workdir / "checkpoints" / "ckpt-4_temp" / "part-00000"]
  kept = [workdir / "checkpoints" / "ckpt-2.index", workdir / "checkpoints" / "checkpoint",
          workdir / "export" / "generator" / "saved_model.pb", workdir / "samples_latest.png"]
  for path in leftovers + kept:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
  config = fashion_mnist32.get_config("smoke")
  runtime.start_run(config.train, str(workdir), seed=0)
  assert not any(path.exists() for path in leftovers)
  assert not (workdir / "export" / ".tmp-generator.abc").exists()
  assert not (workdir / "checkpoints" / "ckpt-4_temp").exists()
  assert all(path.read_bytes() == b"x" for path in kept)
