"""Grouped prior model for sequences (§4.3, Fig. 3, Eq. 10): the loss by hand, the LSTM's memory,
warm start from P, export round trip, the trainer (frozen G and D, resume) and its binary."""

import math
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from configs import fashion_mnist32_prior
from configs import fashion_mnist32_sequence_prior
from pgi_tf import hub
from pgi_tf import losses
from pgi_tf.errors import InputError
from pgi_tf.models import prior_predictor as prior_lib
from pgi_tf.train import sequence_prior as sequence_training
from pgi_tf.models import sequence_prior as sequence_lib
from tests import fixtures_data
from tests import tiny_models

R, C, Z = tiny_models.RESOLUTION, tiny_models.CHANNELS, tiny_models.Z_DIM


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
  return tiny_models.shared_model_dirs(tmp_path_factory)


@pytest.fixture(scope="module", autouse=True)
def binary_runs(tiny, tmp_path_factory):
  """binaries/train_sequence_prior.py with two bad flags, started in the background when this
  module begins so the subprocess overlaps with the in-process tests. (The trainer itself runs
  in-process below; a full binary run costs a second training graph, over the time budget.)"""
  root = tmp_path_factory.mktemp("train_sequence_prior_binary")
  common = ["--config=configs/fashion_mnist32_sequence_prior.py:smoke", f"--config.generator={tiny.generator}",
            "--config.data.resolution=16", f"--workdir={root / 'run'}"]
  pending = tiny_models.start_binary_cases("binaries.train_sequence_prior", [
      [*common, "--distribution=nowhere"],
      [*common, "--config.sequence.lstm_units=0"],
  ], workdir=str(root / "runner"))
  yield pending
  pending.stop()


def _config(*, resolution=R, channels=C, z_dim=Z, lstm_units=16, per_frame=False, **frame):
  frame_config = prior_lib.PriorPredictorConfig(resolution=resolution, channels=channels, z_dim=z_dim,
                                                base_channels=8, **frame)
  return sequence_lib.SequencePriorConfig(frame=frame_config, lstm_units=lstm_units, per_frame=per_frame)


def _clip(batch, frames, *, seed=0, resolution=R, channels=C):
  rng = np.random.default_rng(seed)
  images = rng.uniform(-1, 1, (batch, frames, resolution, resolution, channels)).astype(np.float32)
  masks = np.zeros((batch, frames, resolution, resolution, 1), np.float32)
  masks[:, :, 4:12, 3:10] = 1.0
  return (1.0 - masks) * images, masks


# --------------------------------------------------------------------------- Eq. 10

def test_eq10_by_hand_two_frames_4x4():
  # Frame 1: I = 0, hole = top-left 2x2, G = 0.5 everywhere, D logit 0.
  #   L_c = 12 known pixels * |0 - 0.5| / 12 known = 0.5;  L_g = 0 (both flat);  L_r = -softplus(0) = -ln 2.
  # Frame 2: I(h, w) = 0.25 w, no hole, G = 0, D logit 2.
  #   L_c = mean(0, .25, .5, .75) = 0.375;  L_g = |0.25 - 0| along x (12 positions) + 0 along y = 0.25;
  #   L_r = -softplus(2) = -ln(1 + e^2).
  images = np.zeros((1, 2, 4, 4, 1), np.float32)
  images[0, 1, :, :, 0] = 0.25 * np.arange(4)[None, :]
  masks = np.zeros((1, 2, 4, 4, 1), np.float32)
  masks[0, 0, :2, :2] = 1.0
  generated = np.zeros((1, 2, 4, 4, 1), np.float32)
  generated[0, 0] = 0.5
  weights = 1.0 - masks  # explicit W of Eq. 3 with weight 1 everywhere outside the hole: by-hand sums
  parts = losses.grouped_prior_loss(frames_or_masked=images, generated_frames=generated, masks=masks,
                                    fake_logits=np.array([[0.0, 2.0]], np.float32), weights=weights,
                                    lambda_realism=0.1, lambda_gradient=1.0)
  frame1 = 0.5 - 0.1 * math.log(2.0)
  frame2 = 0.375 - 0.1 * math.log(1.0 + math.e ** 2) + 0.25
  np.testing.assert_allclose(parts["total"].numpy(), [(frame1 + frame2) / 2], rtol=1e-6)
  np.testing.assert_allclose(parts["contextual"].numpy(), [(0.5 + 0.375) / 2], rtol=1e-6)
  np.testing.assert_allclose(parts["gradient_difference"].numpy(), [0.125], rtol=1e-6)
  np.testing.assert_allclose(parts["photo_realism"].numpy(),
                             [-(math.log(2.0) + math.log(1.0 + math.e ** 2)) / 2], rtol=1e-6)


def test_eq10_is_frame_mean_of_eq7_with_eq3_weights():
  rng = np.random.default_rng(1)
  frames, masks = _clip(3, 4, seed=1, resolution=8)
  generated = rng.uniform(-1, 1, frames.shape).astype(np.float32)
  logits = rng.normal(size=(3, 4)).astype(np.float32)
  grouped = losses.grouped_prior_loss(frames_or_masked=frames, generated_frames=generated, masks=masks,
                                     fake_logits=logits, lambda_realism=0.01, lambda_gradient=0.5)
  for clip in range(3):  # Eq. 7 frame by frame, each frame alone
    per_frame = losses.prior_losses(images_or_masked=frames[clip], generated_images=generated[clip],
                                    masks=masks[clip], fake_logits=logits[clip], lambda_realism=0.01,
                                    lambda_gradient=0.5)
    for name in ("contextual", "photo_realism", "gradient_difference", "total"):
      np.testing.assert_allclose(grouped[name][clip].numpy(), per_frame[name].numpy().mean(), rtol=1e-5)
  no_d = losses.grouped_prior_loss(frames_or_masked=frames, generated_frames=generated, masks=masks,
                                   fake_logits=None, lambda_realism=0.01, lambda_gradient=0.5)
  np.testing.assert_array_equal(no_d["photo_realism"].numpy(), np.zeros(3))
  with pytest.raises(InputError, match=r"grouped_prior_loss\(masks\): expected shape \[N, W, H, Wd, C\]"):
    losses.grouped_prior_loss(frames_or_masked=frames, generated_frames=generated, masks=masks[:, 0],
                              fake_logits=None, lambda_realism=0.0, lambda_gradient=0.0)


# --------------------------------------------------------------------------- the model

@pytest.mark.parametrize("resolution,channels,frames", [(16, 1, 1), (32, 3, 3)])
def test_shapes_and_z_in_the_uniform_support(resolution, channels, frames):
  model = sequence_lib.build_sequence_prior(_config(resolution=resolution, channels=channels))
  masked, masks = _clip(2, frames, resolution=resolution, channels=channels)
  z = model([masked * 50.0, masks]).numpy()  # large inputs: the head must still bound z
  assert z.shape == (2, frames, Z) and np.all(np.abs(z) <= 1.0)
  # The shared CNN is P's network up to z_logits: same layers and weight shapes as P.
  p = prior_lib.build_prior_predictor(_config(resolution=resolution, channels=channels).frame)
  encoder = sequence_lib.frame_encoder_of(model)
  assert [w.shape for w in encoder.weights] == [w.shape for w in p.weights]


def test_condition_input_for_structural_priors():
  model = sequence_lib.build_sequence_prior(_config(condition_dim=6))
  masked, masks = _clip(2, 3)
  z = model([masked, masks, np.zeros((2, 3, 6), np.float32)])
  assert z.shape == (2, 3, Z)


def test_lstm_state_carries_frame_0_to_later_frames_and_per_frame_mode_does_not():
  # Frame 0 fully visible; frames 1-3 fully masked except a 2 px border that is identical in both
  # clips. Only frame 0 differs between the clips, so later z can differ only through the state.
  lstm_model = sequence_lib.build_sequence_prior(_config())
  per_frame_model = sequence_lib.build_sequence_prior(_config(per_frame=True))
  per_frame_model.set_weights(lstm_model.get_weights())  # same variables: only the memory differs
  rng = np.random.default_rng(2)
  frames = np.repeat(rng.uniform(-1, 1, (1, 1, R, R, C)).astype(np.float32), 4, axis=1)
  masks = np.ones((1, 4, R, R, 1), np.float32)
  masks[:, :, :2] = masks[:, :, -2:] = masks[:, :, :, :2] = masks[:, :, :, -2:] = 0.0
  masks[:, 0] = 0.0
  other = frames.copy()
  other[:, 0] = rng.uniform(-1, 1, (1, R, R, C))
  inputs_a = [(1.0 - masks) * frames, masks]
  inputs_b = [(1.0 - masks) * other, masks]
  lstm_a, lstm_b = lstm_model(inputs_a).numpy(), lstm_model(inputs_b).numpy()
  assert np.all(np.abs(lstm_a[:, 1:] - lstm_b[:, 1:]).max(axis=-1) > 1e-4)  # every later frame moves
  per_a, per_b = per_frame_model(inputs_a).numpy(), per_frame_model(inputs_b).numpy()
  np.testing.assert_array_equal(per_a[:, 1:], per_b[:, 1:])
  assert np.abs(per_a[:, 0] - per_b[:, 0]).max() > 1e-4  # frame 0 itself does reach its own z
  np.testing.assert_allclose(lstm_a[:, 0], per_a[:, 0], atol=1e-6)  # same weights, same first step


def test_get_config_round_trip_keeps_the_mode():
  model = sequence_lib.build_sequence_prior(
      sequence_lib.SequencePriorConfig(frame=_config().frame, lstm_units=16, head_units=4, per_frame=True))
  clone = keras.Model.from_config(model.get_config())
  clone.set_weights(model.get_weights())
  assert clone.get_layer("temporal").reset_every_frame
  masked, masks = _clip(1, 3)
  np.testing.assert_array_equal(clone([masked, masks]).numpy(), model([masked, masks]).numpy())


def test_per_frame_mode_is_each_frame_alone_and_lstm_mode_is_causal():
  masked, masks = _clip(2, 3, seed=3)
  per_frame_model = sequence_lib.build_sequence_prior(_config(per_frame=True))
  lstm_model = sequence_lib.build_sequence_prior(_config())
  lstm_model.set_weights(per_frame_model.get_weights())
  per_frame_z, lstm_z = per_frame_model([masked, masks]).numpy(), lstm_model([masked, masks]).numpy()
  for t in range(3):
    alone = per_frame_model([masked[:, t:t + 1], masks[:, t:t + 1]]).numpy()[:, 0]
    np.testing.assert_allclose(per_frame_z[:, t], alone, atol=1e-6)
    prefix = lstm_model([masked[:, :t + 1], masks[:, :t + 1]]).numpy()  # the future cannot matter
    np.testing.assert_allclose(lstm_z[:, :t + 1], prefix, atol=1e-6)


def test_bad_model_config_is_input_error():
  with pytest.raises(InputError, match=r"sequence\.lstm_units=0: must be >= 1"):
    sequence_lib.build_sequence_prior(_config(lstm_units=0))


# --------------------------------------------------------------------------- warm start and export

def test_warm_start_from_p_export_and_checkpoint(tiny, tmp_path):
  config = _config()
  exported_p = hub.load_prior_predictor(tiny.prior_predictor)
  masked, masks = _clip(1, 2, seed=4)
  expected = exported_p([masked[0], masks[0]]).numpy()
  head = prior_lib.PriorHead(config.frame.z_distribution, config.frame.z_support)

  model = sequence_lib.build_sequence_prior(config)
  lstm_before = model.get_layer("temporal").get_weights()
  sequence_training.warm_start_frame_encoder(model, config.frame, tiny.prior_predictor, generator_path=tiny.generator)
  encoder = sequence_lib.frame_encoder_of(model)
  np.testing.assert_allclose(head(encoder([masked[0], masks[0]])).numpy(), expected, atol=1e-6)
  for before, after in zip(lstm_before, model.get_layer("temporal").get_weights()):
    np.testing.assert_array_equal(before, after)  # only the CNN is initialised from P

  # A stage-2 checkpoint (the layout of pgi_tf.train.prior: P under "prior_predictor").
  p = tiny_models.build_tiny_prior_predictor(seed=7)
  prefix = tf.train.Checkpoint(prior_predictor=p).save(str(tmp_path / "checkpoints" / "ckpt"))
  model = sequence_lib.build_sequence_prior(config)
  assert sequence_training.warm_start_frame_encoder(model, config.frame, str(tmp_path / "checkpoints")) == prefix
  np.testing.assert_allclose(head(sequence_lib.frame_encoder_of(model)([masked[0], masks[0]])).numpy(),
                             p([masked[0], masks[0]]).numpy(), atol=1e-6)

  with pytest.raises(InputError, match=r"--config\.train\.warm_start=.*trained for another generator"):
    sequence_training.warm_start_frame_encoder(model, config.frame, tiny.other_prior_predictor,
                                          generator_path=tiny.generator)
  wider = sequence_lib.SequencePriorConfig(frame=prior_lib.PriorPredictorConfig(
      resolution=R, channels=C, z_dim=Z, base_channels=16), lstm_units=16)
  with pytest.raises(InputError, match=r"--config\.train\.warm_start=.*not a P of this architecture"):
    sequence_training.warm_start_frame_encoder(sequence_lib.build_sequence_prior(wider), wider.frame,
                                          tiny.prior_predictor)


def test_export_round_trip_and_generator_check(tiny, tmp_path):
  model = sequence_lib.build_sequence_prior(_config())
  metadata = hub.sequence_prior_metadata(
      generator_path=tiny.generator, generator_metadata=hub.read_metadata(tiny.generator), window=4,
      per_frame=False, extra={"trained_steps": 0})
  path = str(tmp_path / "sequence_prior")
  hub.export_sequence_prior(model, path, metadata=metadata)
  layer = hub.load_sequence_prior(path, generator_path=tiny.generator)
  assert layer.metadata["kind"] == "sequence_prior" and layer.metadata["window"] == 4
  assert layer.metadata["temporal"] == "lstm" and layer.metadata["z_dim"] == Z
  assert layer.metadata["generator_fingerprint"] == hub.module_fingerprint(tiny.generator)
  for frames in (4, 6):  # any clip length goes through the signature
    masked, masks = _clip(2, frames, seed=frames)
    np.testing.assert_allclose(layer([masked, masks]).numpy(), model([masked, masks]).numpy(), atol=1e-5)
  with pytest.raises(InputError, match=r"--sequence_prior=.*trained for another generator"):
    hub.load_sequence_prior(path, generator_path=tiny.other_generator)
  with pytest.raises(InputError, match=r"--sequence_prior=.*not a sequence prior"):
    hub.load_sequence_prior(tiny.prior_predictor)


# --------------------------------------------------------------------------- the trainer

def _checkpoint_tensors(prefix: str, *, under: str = "") -> dict:
  reader = tf.train.load_checkpoint(prefix)
  return {name[len(under):]: reader.get_tensor(name) for name, _ in tf.train.list_variables(prefix)
          if name.startswith(under) and name != "_CHECKPOINTABLE_OBJECT_GRAPH"}


def _smoke_config(tiny, data_dir, **train_overrides):
  config = fashion_mnist32_sequence_prior.get_config("smoke")
  config.generator, config.discriminator = tiny.generator, tiny.discriminator
  config.data.resolution = 16  # the tiny G's size
  config.data.data_dir = data_dir  # 24 garments in the real IDX format: no 60,000-image read
  config.train.update(train_overrides)
  return config


def test_trainer_freezes_gan_learns_exports_and_resumes_mirrored(tiny, tmp_path, monkeypatch):
  from pgi_tf.train import runtime
  from pgi_tf.train import sequence_prior as sequence_training

  loaded = {}

  def capturing(loader, key):
    def load(*args, **kwargs):
      layer = loader(*args, **kwargs)
      loaded[key] = (layer, [v.numpy().copy() for v in layer.module_variables])
      return layer
    return load

  monkeypatch.setattr(hub, "load_generator", capturing(hub.load_generator, "generator"))
  monkeypatch.setattr(hub, "load_discriminator", capturing(hub.load_discriminator, "discriminator"))
  g_on_disk = _checkpoint_tensors(os.path.join(tiny.generator, "variables", "variables"))
  d_on_disk = _checkpoint_tensors(os.path.join(tiny.discriminator, "variables", "variables"))

  workdir = str(tmp_path / "run")
  data_dir = fixtures_data.make_fashion_mnist(tmp_path / "fashion_mnist", train_count=24, test_count=4)
  result = sequence_training.train(_smoke_config(tiny, data_dir, num_steps=2, checkpoint_every=1, sample_every=2,
                                                 summary_every=1), workdir=workdir)
  assert result["step"] == 2 and result["resumed_from_step"] == 0
  assert all(np.isfinite(v) for v in result["losses"].values())
  assert result["losses"]["photo_realism"] < 0  # D is on

  # Frozen G and D: bit-identical in memory after the steps, and untouched on disk.
  for key, on_disk in (("generator", g_on_disk), ("discriminator", d_on_disk)):
    layer, at_load = loaded[key]
    assert layer.trainable_weights == [] and len(at_load) > 0
    for before, after in zip(at_load, layer.module_variables):
      np.testing.assert_array_equal(before, after.numpy())
    now = _checkpoint_tensors(os.path.join(getattr(tiny, key), "variables", "variables"))
    assert sorted(now) == sorted(on_disk) and all(np.array_equal(now[k], on_disk[k]) for k in now)

  # The model learned: every trainable variable (CNN, LSTM, head) moved from step 1 to step 2,
  # and no G or D variable is in the checkpoints.
  checkpoints = os.path.join(workdir, "checkpoints")
  at_1 = _checkpoint_tensors(os.path.join(checkpoints, "ckpt-1"), under="optimizer/_trainable_variables/")
  at_2 = _checkpoint_tensors(os.path.join(checkpoints, "ckpt-2"), under="optimizer/_trainable_variables/")
  assert len(at_1) == 13 and sorted(at_1) == sorted(at_2)  # CNN 8 (P's), LSTM 3, head 2
  assert all(not np.array_equal(at_1[name], at_2[name]) for name in at_1)
  assert not any("generator" in name or "discriminator" in name
                 for name, _ in tf.train.list_variables(os.path.join(checkpoints, "ckpt-2")))

  # Files and the export.
  for name in ("samples/samples_0000002.png", "samples_latest.png", "export/sequence_prior/saved_model.pb"):
    assert os.path.isfile(os.path.join(workdir, name)), name
  assert any(f.startswith("events.out") for f in os.listdir(os.path.join(workdir, "tensorboard")))
  export = os.path.join(workdir, "export", "sequence_prior")
  layer = hub.load_sequence_prior(export, generator_path=tiny.generator)
  assert layer.metadata["window"] == 4 and layer.metadata["trained_steps"] == 2
  assert layer.metadata["temporal"] == "lstm" and layer.metadata["photo_realism"] == "discriminator"
  masked, masks = _clip(1, 4)
  assert layer([masked, masks]).shape == (1, 4, Z)

  # Resume under MirroredStrategy (2 logical CPUs, conftest.py), with D switched off: continues
  # from step 2 (the discriminator does not change the model's variables, so the resume is allowed).
  strategies = []
  make_strategy = runtime.make_strategy
  monkeypatch.setattr(runtime, "make_strategy", lambda name: strategies.append(make_strategy(name)) or strategies[-1])
  config = _smoke_config(tiny, data_dir, num_steps=3, checkpoint_every=1, sample_every=100, summary_every=1,
                         distribution="mirrored")
  config.discriminator = "none"
  result = sequence_training.train(config, workdir=workdir)
  assert result["step"] == 3 and result["resumed_from_step"] == 2
  assert strategies[0].num_replicas_in_sync == 2 and np.isfinite(result["losses"]["total"])
  assert result["losses"]["photo_realism"] == 0.0  # Eq. 5 is off without D
  assert os.path.isfile(os.path.join(checkpoints, "ckpt-3.index"))
  metadata = hub.read_metadata(export)
  assert metadata["trained_steps"] == 3 and metadata["photo_realism"] == "off"
  assert metadata["lambda_realism"] == 0.0 and metadata["discriminator"] == "none"
  for before, after in zip(loaded["generator"][1], loaded["generator"][0].module_variables):
    np.testing.assert_array_equal(before, after.numpy())

  # Another model config in the same workdir is refused, not silently resumed.
  config = _smoke_config(tiny, data_dir, num_steps=4)
  config.sequence.per_frame = True
  with pytest.raises(InputError, match=r"--workdir=.*sequence\.per_frame"):
    sequence_training.train(config, workdir=workdir)


# --------------------------------------------------------------------------- config and binary

def test_config_matches_prior_preset():
  config = fashion_mnist32_sequence_prior.get_config()
  p_config = fashion_mnist32_prior.get_config()
  assert config.sequence.window == 8 and config.sequence.lstm_units == 256 and config.data.resolution == 32
  assert (config.loss.lambda_realism, config.loss.lambda_gradient) == (
      p_config.loss.lambda_realism, p_config.loss.lambda_gradient)
  assert config.generator == "hub_modules/fashion_mnist32/generator"
  assert config.discriminator == "hub_modules/fashion_mnist32/discriminator"
  # The warm-start P is the bundled one, trained for this very generator, with this CNN's widths.
  p_metadata = hub.read_metadata(config.train.warm_start)
  assert p_metadata["generator_fingerprint"] == hub.module_fingerprint(config.generator)
  smoke = fashion_mnist32_sequence_prior.get_config("smoke")
  assert smoke.name.endswith("_smoke") and smoke.train.num_steps <= 10 and smoke.train.warm_start == ""


def test_binary_rejects_bad_flags_with_one_line(binary_runs):
  runs = binary_runs.results()
  for run, needle in zip(runs, ("--distribution", "--config.sequence.lstm_units=0: must be > 0")):
    assert run.returncode == 2, run.stderr[-2000:]
    lines = run.stderr.strip().splitlines()
    assert lines[-1].startswith("error: ") and needle in lines[-1], run.stderr[-2000:]
    assert "Traceback" not in run.stderr


def test_structural_sequence_prior_m_z_s_l_trains_exports_and_inpaints(tmp_path):
  """M_{z+S+L}: S^t per frame conditions the CNN, G and D in training; the export takes it; the
  video inpainter computes it and feeds it to the exported model and to G."""
  from configs import fashion_mnist32_silhouette_sequence_prior
  from pgi_tf.inference import loading
  from pgi_tf.inference import video as video_inference
  from pgi_tf.train import sequence_prior as trainer

  config = fashion_mnist32_silhouette_sequence_prior.get_config("smoke")
  config.data.data_dir = fixtures_data.make_fashion_mnist(tmp_path / "fashion_mnist", train_count=12, test_count=4)
  config.data.num_clips = 8
  config.sequence.window = 2
  config.train.update(num_steps=2, batch_size=2, sample_clips=1, summary_every=1, checkpoint_every=2)
  result = trainer.train(config, workdir=str(tmp_path / "run"))
  assert result["step"] == 2 and np.isfinite(result["losses"]["total"])
  assert result["losses"]["photo_realism"] != 0.0  # D(x, S) scored the frames
  metadata = hub.read_metadata(result["export_dir"])
  models = loading.load_models(model_dir="hub_modules/fashion_mnist32_silhouette")
  assert metadata["structural_prior"] == "silhouette" and metadata["temporal"] == "lstm"
  assert metadata["input_names"] == ["masked_frames", "masks", "condition"]
  assert metadata["condition_dim"] == models.metadata["condition_dim"] > 0

  video = video_inference.make_video_inpainter(models, sequence_prior_path=result["export_dir"])
  masked, masks = _clip(2, 3, resolution=32, channels=1)
  frames = masked + masks * 0.5  # any content in the holes: Eq. 8 must keep only the known pixels
  inpainted, generated, z = (t.numpy() for t in video.run_windows(frames, masks))
  np.testing.assert_allclose(inpainted * (1 - masks), frames * (1 - masks), atol=1e-6)
  # The z it used is the exported model's on (I_d, M, S) with S from the masked frames.
  flat = lambda x: x.reshape((-1, *x.shape[2:]))  # noqa: E731
  conditions = models.structural_prior(flat(masked), flat(masks)).numpy().reshape(2, 3, -1)
  exported = hub.load_sequence_prior(result["export_dir"], generator_path=models.generator.handle)
  np.testing.assert_allclose(z, exported([masked, masks, conditions]).numpy(), atol=1e-5)


def test_moving_preset_pairs_lstm_and_per_frame_on_the_frames_generator(tiny, tmp_path):
  """configs/moving_fashion_mnist32_sequence_prior.py: the frames' G, no warm start; its per-frame
  ablation trains from the same preset."""
  from configs import moving_fashion_mnist32_sequence_prior
  from pgi_tf.train import sequence_prior as sequence_training
  full = moving_fashion_mnist32_sequence_prior.get_config()
  assert full.generator == "hub_modules/moving_fashion_mnist32/generator" and full.train.warm_start == ""
  data_dir = fixtures_data.make_fashion_mnist(tmp_path / "fashion_mnist", train_count=24, test_count=4)
  config = moving_fashion_mnist32_sequence_prior.get_config("smoke")
  config.generator, config.discriminator = tiny.generator, tiny.discriminator
  config.data.resolution, config.data.data_dir = 16, data_dir
  config.sequence.per_frame = True  # the ablation of the pair (the LSTM run is the preset as is)
  config.train.update(num_steps=1, checkpoint_every=1, sample_every=1, summary_every=1)
  result = sequence_training.train(config, workdir=str(tmp_path / "per_frame"))
  assert hub.read_metadata(result["export_dir"])["temporal"] == "per_frame"


def test_latent_smoothness_by_hand():
  """L_smooth = 1/(W-1) sum_t 1/d ||z^{t+1} - z^t||^2, per clip."""
  z = np.zeros((2, 3, 2), np.float32)
  z[0, 1] = [1.0, 0.0]   # steps: (1, 0) then (-1, 0): squares 1 and 1 over d = 2 -> 0.5, 0.5
  z[1] = [[0.0, 0.0], [0.0, 0.0], [0.0, 2.0]]  # steps: 0, then (0, 2): 0 and 4 / 2 = 2 -> mean 1
  np.testing.assert_allclose(losses.latent_smoothness_loss(z), [0.5, 1.0])
  with pytest.raises(InputError, match=r"latent_smoothness_loss\(z\)"):
    losses.latent_smoothness_loss(np.zeros((2, 3), np.float32))


def test_temporal_preset_is_the_control_plus_the_term_and_trains_it(tiny, tmp_path):
  """configs/moving_fashion_mnist32_sequence_prior_temporal.py differs from its control only by
  λ_t, and its smoke run reports the term and records λ_t in the export."""
  from configs import moving_fashion_mnist32_sequence_prior, moving_fashion_mnist32_sequence_prior_temporal
  from pgi_tf.train import sequence_prior as sequence_training
  control = moving_fashion_mnist32_sequence_prior.get_config().to_dict()
  variant = moving_fashion_mnist32_sequence_prior_temporal.get_config().to_dict()
  assert variant["loss"].pop("lambda_temporal") > 0 and control["loss"].pop("lambda_temporal") == 0
  del control["name"], variant["name"]
  assert variant == control
  data_dir = fixtures_data.make_fashion_mnist(tmp_path / "fashion_mnist", train_count=24, test_count=4)
  config = moving_fashion_mnist32_sequence_prior_temporal.get_config("smoke")
  config.generator, config.discriminator = tiny.generator, tiny.discriminator
  config.data.resolution, config.data.data_dir = 16, data_dir
  config.train.update(num_steps=2, checkpoint_every=2, sample_every=2, summary_every=1)
  result = sequence_training.train(config, workdir=str(tmp_path / "temporal"))
  assert result["losses"]["latent_smoothness"] > 0
  assert hub.read_metadata(result["export_dir"])["lambda_temporal"] == config.loss.lambda_temporal


def test_whole_model_warm_start_from_the_per_frame_ablation(tiny, tmp_path):
  """A sequence prior export as warm_start initialises every layer (CNN, LSTM, head): with a zero
  learning rate the LSTM-mode export equals the per-frame export it started from, variable by
  variable; the preset pairs it with its per-frame control."""
  from configs import moving_fashion_mnist32_sequence_prior_from_per_frame
  preset = moving_fashion_mnist32_sequence_prior_from_per_frame
  from pgi_tf.train import sequence_prior as sequence_training
  full, control = preset.get_config(), preset.get_config("control")
  assert full.train.warm_start == control.train.warm_start == preset.PER_FRAME_MODEL
  assert (full.sequence.per_frame, control.sequence.per_frame) == (False, True)
  assert full.train.num_steps == control.train.num_steps
  data_dir = fixtures_data.make_fashion_mnist(tmp_path / "fashion_mnist", train_count=24, test_count=4)

  def smoke(per_frame, **train):
    config = moving_fashion_mnist32_sequence_prior_from_per_frame.get_config("smoke")
    config.generator, config.discriminator = tiny.generator, tiny.discriminator
    config.data.resolution, config.data.data_dir = 16, data_dir
    config.sequence.per_frame = per_frame
    config.train.update(num_steps=1, checkpoint_every=1, sample_every=1, summary_every=1, **train)
    return config

  source = sequence_training.train(smoke(True), workdir=str(tmp_path / "per_frame"))["export_dir"]
  started = sequence_training.train(smoke(False, warm_start=source, learning_rate=0.0),
                                    workdir=str(tmp_path / "lstm"))["export_dir"]
  read = lambda path: tf.train.load_checkpoint(os.path.join(path, "variables", "variables"))  # noqa: E731
  a, b = read(source), read(started)
  names = [n for n in a.get_variable_to_shape_map() if n.startswith("sequence_prior/")]
  assert len(names) > 6
  for name in names:
    np.testing.assert_array_equal(a.get_tensor(name), b.get_tensor(name), err_msg=name)
