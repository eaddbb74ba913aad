"""Stage-2 trainer (pgi_tf.train.prior) and binaries/train_prior.py: the frozen G and D stay
bit-identical while P learns, files written, resume, MirroredStrategy, D switched off."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from configs import fashion_mnist32_prior
from pgi_tf import hub
from pgi_tf.errors import InputError
from pgi_tf.train import prior
from pgi_tf.train import runtime
from tests import tiny_models


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
  return tiny_models.shared_model_dirs(tmp_path_factory)


def _smoke_config(tiny, **train_overrides):
  config = fashion_mnist32_prior.get_config("smoke")
  config.generator = tiny.generator
  config.discriminator = tiny.discriminator
  config.data.resolution = 16  # Fashion-MNIST is padded to 32 and resized to the tiny G's 16 px
  for key, value in train_overrides.items():
    setattr(config.train, key, value)
  return config


def _checkpoint_tensors(prefix: str, *, under: str = "") -> dict[str, np.ndarray]:
  """name -> value of every variable of a checkpoint (or a SavedModel's variables/variables)."""
  reader = tf.train.load_checkpoint(prefix)
  return {name[len(under):]: reader.get_tensor(name) for name, _ in tf.train.list_variables(prefix)
          if name.startswith(under) and name != "_CHECKPOINTABLE_OBJECT_GRAPH"}


def _assert_same_tensors(a: dict, b: dict):
  assert a and sorted(a) == sorted(b)
  for name in a:
    np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def test_train_freezes_gan_trains_p_writes_files_and_resumes_mirrored(tiny, tmp_path, monkeypatch):
  # Keep hold of the frozen layers the trainer loads, with their values at load time.
  loaded = {}

  def capturing(loader, key):
    def load(*args, **kwargs):
      layer = loader(*args, **kwargs)
      loaded[key] = (layer, [v.numpy().copy() for v in layer.module_variables])
      return layer
    return load

  monkeypatch.setattr(hub, "load_generator", capturing(hub.load_generator, "generator"))
  monkeypatch.setattr(hub, "load_discriminator", capturing(hub.load_discriminator, "discriminator"))
  strategies = []
  make_strategy = runtime.make_strategy

  def recording_make_strategy(name):
    strategies.append(make_strategy(name))
    return strategies[-1]

  monkeypatch.setattr(runtime, "make_strategy", recording_make_strategy)
  g_on_disk = _checkpoint_tensors(os.path.join(tiny.generator, "variables", "variables"))
  d_on_disk = _checkpoint_tensors(os.path.join(tiny.discriminator, "variables", "variables"))

  workdir = str(tmp_path / "run")
  config = _smoke_config(tiny, num_steps=4, checkpoint_every=2, sample_every=2, summary_every=2)
  result = prior.train(config, workdir=workdir)
  assert result["step"] == 4 and result["resumed_from_step"] == 0
  assert set(result["losses"]) >= {"contextual", "photo_realism", "gradient_difference", "total"}
  assert all(np.isfinite(v) for v in result["losses"].values())
  assert result["losses"]["photo_realism"] < 0  # D is on: log(1 - D(G(z))) < 0

  # Frozen G and D: in memory after 4 steps, bit-identical to what was loaded ...
  for key in ("generator", "discriminator"):
    layer, at_load = loaded[key]
    assert layer.trainable_weights == [] and len(at_load) > 0
    for before, after in zip(at_load, layer.module_variables):
      np.testing.assert_array_equal(before, after.numpy())
  # ... on disk, untouched ...
  _assert_same_tensors(_checkpoint_tensors(os.path.join(tiny.generator, "variables", "variables")), g_on_disk)
  _assert_same_tensors(_checkpoint_tensors(os.path.join(tiny.discriminator, "variables", "variables")), d_on_disk)
  # ... and the G inside the exported inpainter is the original G, bit for bit.
  inpainter_variables = os.path.join(workdir, "export", "inpainter", "variables", "variables")
  _assert_same_tensors(_checkpoint_tensors(inpainter_variables, under="generator/"), g_on_disk)

  # P learned: every one of its variables moved between the step-2 and step-4 checkpoints,
  # and the exported P (and the P inside the inpainter) is the step-4 one. (The checkpoint
  # reaches P's variables first through the optimizer, so that is where they are named.)
  checkpoints = os.path.join(workdir, "checkpoints")
  assert sorted(f for f in os.listdir(checkpoints) if f.endswith(".index")) == ["ckpt-2.index", "ckpt-4.index"]
  p_at_2 = _checkpoint_tensors(os.path.join(checkpoints, "ckpt-2"), under="optimizer/_trainable_variables/")
  p_at_4 = _checkpoint_tensors(os.path.join(checkpoints, "ckpt-4"), under="optimizer/_trainable_variables/")
  assert len(p_at_2) == 8 and sorted(p_at_2) == sorted(p_at_4)  # 3 convs, 1 layer norm, the head
  assert all(not np.array_equal(p_at_2[name], p_at_4[name]) for name in p_at_2)
  assert not any("generator" in name or "discriminator" in name
                 for name, _ in tf.train.list_variables(os.path.join(checkpoints, "ckpt-4")))
  exported_p = _checkpoint_tensors(os.path.join(workdir, "export", "prior_predictor", "variables", "variables"))
  in_inpainter = _checkpoint_tensors(inpainter_variables, under="prior_predictor/")
  _assert_same_tensors(exported_p, in_inpainter)
  assert sorted(np.concatenate([v.ravel() for v in exported_p.values()])) == sorted(
      np.concatenate([v.ravel() for v in p_at_4.values() if v.dtype == np.float32]))

  # Files.
  for name in ("samples/samples_0000002.png", "samples/samples_0000004.png", "samples_latest.png",
               "export/prior_predictor/saved_model.pb", "export/inpainter/saved_model.pb"):
    assert os.path.isfile(os.path.join(workdir, name)), name
  assert any(f.startswith("events.out") for f in os.listdir(os.path.join(workdir, "tensorboard")))
  p_metadata = hub.read_metadata(os.path.join(workdir, "export", "prior_predictor"))
  assert p_metadata["kind"] == "prior_predictor" and p_metadata["trained_steps"] == 4
  assert p_metadata["generator_fingerprint"] == hub.module_fingerprint(tiny.generator)
  assert p_metadata["photo_realism"] == "discriminator" and p_metadata["z_dim"] == tiny_models.Z_DIM
  assert hub.read_metadata(os.path.join(workdir, "export", "inpainter"))["kind"] == "inpainter"
  p_layer = hub.load_prior_predictor(os.path.join(workdir, "export", "prior_predictor"),
                                     generator_path=tiny.generator)
  z = p_layer([tf.zeros([2, 16, 16, 1]), tf.ones([2, 16, 16, 1])]).numpy()
  assert z.shape == (2, tiny_models.Z_DIM) and np.all(np.abs(z) <= 1.0)

  # Resume: a second call with more steps continues from step 4. It runs under
  # MirroredStrategy on the 2 logical CPUs of conftest.py (one call tests both: a checkpoint
  # does not depend on the strategy that wrote it, and a train() call costs seconds).
  config = _smoke_config(tiny, num_steps=6, checkpoint_every=2, sample_every=100, summary_every=1,
                         distribution="mirrored")
  result = prior.train(config, workdir=workdir)
  assert result["step"] == 6 and result["resumed_from_step"] == 4
  assert [s.num_replicas_in_sync for s in strategies] == [1, 2]
  assert np.isfinite(result["losses"]["total"])
  assert os.path.isfile(os.path.join(checkpoints, "ckpt-6.index"))
  p_at_6 = _checkpoint_tensors(os.path.join(checkpoints, "ckpt-6"), under="optimizer/_trainable_variables/")
  assert all(not np.array_equal(p_at_4[name], p_at_6[name]) for name in p_at_4)
  assert hub.read_metadata(os.path.join(workdir, "export", "prior_predictor"))["trained_steps"] == 6
  for before, after in zip(loaded["generator"][1], loaded["generator"][0].module_variables):
    np.testing.assert_array_equal(before, after.numpy())  # the mirrored run's G: frozen too


def test_bad_config_is_refused_before_training(tiny, tmp_path):
  config = _smoke_config(tiny)
  config.data.resolution = 32
  with pytest.raises(InputError, match=r"--config\.data\.resolution=32: the generator .* has resolution 16"):
    prior.train(config, workdir=str(tmp_path / "a"))
  config = _smoke_config(tiny, batch_size=15, distribution="mirrored")
  with pytest.raises(InputError, match=r"--config\.train\.batch_size=15"):
    prior.train(config, workdir=str(tmp_path / "b"))
  config = _smoke_config(tiny)
  config.generator = str(tmp_path / "nowhere")
  with pytest.raises(InputError, match=r"--config\.generator=.*nowhere"):
    prior.train(config, workdir=str(tmp_path / "c"))


@pytest.fixture(scope="module", autouse=True)
def binary_runs(tiny, tmp_path_factory):
  """binaries/train_prior.py with and without D, started in the background when this module
  begins, so the two subprocess trainings overlap with the in-process tests."""
  root = tmp_path_factory.mktemp("train_prior_binary")
  common = ["--config=configs/fashion_mnist32_prior.py:smoke", f"--config.generator={tiny.generator}",
            "--config.data.resolution=16", "--config.train.num_steps=2",
            "--config.train.checkpoint_every=2", "--config.train.sample_every=2",
            "--config.train.summary_every=1"]
  with_d, without_d = str(root / "with_d"), str(root / "without_d")
  pending = tiny_models.start_binary_cases("binaries.train_prior", [
      [*common, f"--config.discriminator={tiny.discriminator}", f"--workdir={with_d}"],
      [*common, "--config.discriminator=none", f"--workdir={without_d}"],
  ], workdir=str(root / "runner"))
  yield pending, with_d, without_d
  pending.stop()  # if a test failed before waiting, do not leave the runs going


def test_binary_writes_files_and_runs_without_discriminator(binary_runs):
  pending, with_d, without_d = binary_runs
  runs = pending.results()
  for run, workdir, realism in ((runs[0], with_d, "discriminator"), (runs[1], without_d, "off")):
    assert run.returncode == 0, run.stderr[-3000:]
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    assert summary["step"] == 2 and summary["resumed_from_step"] == 0
    for name in ("checkpoints/ckpt-2.index", "samples/samples_0000002.png", "samples_latest.png",
                 "export/prior_predictor/saved_model.pb", "export/inpainter/saved_model.pb"):
      assert os.path.isfile(os.path.join(workdir, name)), (workdir, name)
    metadata = hub.read_metadata(os.path.join(workdir, "export", "prior_predictor"))
    assert metadata["photo_realism"] == realism and metadata["trained_steps"] == 2
    assert metadata["config_name"] == "fashion_mnist32_prior_smoke"
  assert summary["losses"]["photo_realism"] == 0.0  # Eq. 5 is off without D
  assert metadata["lambda_realism"] == 0.0 and metadata["discriminator"] == "none"
  assert "Eq. 5 (photo-realism) is off" in runs[1].stderr
