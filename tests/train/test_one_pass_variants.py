"""Issue 13's one-pass variants and the regression peer: the K-candidate and latent-consistency
trainers on a tiny frozen G, the U-Net peer (overfits one batch, trains, resumes, exports, loads
in a fresh process) and evaluate's rows for both."""

import dataclasses
import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from configs import fashion_mnist32_prior_candidates
from configs import fashion_mnist32_prior_latent
from pgi_tf import hub
from pgi_tf import losses
from pgi_tf.evaluation import images as image_evaluation
from pgi_tf.inference import inpainting
from pgi_tf.models import regression_inpainter as regression_lib
from pgi_tf.train import prior
from tests import tiny_models

REPO = tiny_models.REPO


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
  return tiny_models.shared_model_dirs(tmp_path_factory)


def _on_tiny(config, tiny, **train):
  config.generator, config.discriminator = tiny.generator, tiny.discriminator
  config.data.resolution = 16
  config.prior.base_channels = tiny_models.PRIOR_CONFIG.base_channels
  config.train.warm_start = tiny.prior_predictor
  config.train.update(train)
  return config


def test_k_candidate_p_trains_from_a_one_head_p_and_exports_k_heads(tiny, tmp_path):
  config = _on_tiny(fashion_mnist32_prior_candidates.get_config("smoke"), tiny, num_steps=3)
  config.prior.num_candidates = 3
  result = prior.train(config, workdir=str(tmp_path / "k3"))
  assert set(result["losses"]) >= {"total", "contextual", "candidate_spread"}
  # The relaxed minimum is at most the mean and at least the minimum of the reported winner's total.
  assert result["losses"]["candidate_spread"] > 0.0
  export = os.path.join(result["export_dir"], "prior_predictor")
  metadata = hub.read_metadata(export)
  assert metadata["num_candidates"] == 3 and metadata["candidate_relaxation"] == 0.05
  z = hub.load_prior_predictor(export)([np.zeros((2, 16, 16, 1), np.float32), np.ones((2, 16, 16, 1), np.float32)])
  assert z.shape == (2, 3, tiny_models.Z_DIM)
  # A one-head P cannot resume a K-head run's checkpoints: the fingerprint says so.
  config.prior.num_candidates = 1
  with pytest.raises(Exception, match="num_candidates"):
    prior.train(config, workdir=str(tmp_path / "k3"))


def test_latent_consistency_teaches_p_to_invert_g(tiny, tmp_path):
  """P trained on the latent term alone (Eq. 7 weighted ~0) must get closer to G's z than it started."""
  config = _on_tiny(fashion_mnist32_prior_latent.get_config("smoke"), tiny, num_steps=60, batch_size=16,
                    summary_every=60, learning_rate=3e-3)
  config.loss.lambda_latent = 1000.0
  result = prior.train(config, workdir=str(tmp_path / "latent"))
  trained = hub.load_prior_predictor(os.path.join(result["export_dir"], "prior_predictor"))
  start = hub.load_prior_predictor(tiny.prior_predictor)
  generator = hub.load_generator(tiny.generator)
  rng = np.random.default_rng(0)
  z = rng.uniform(-1, 1, (64, tiny_models.Z_DIM)).astype(np.float32)
  masks = np.zeros((64, 16, 16, 1), np.float32)
  masks[:, 4:8, 4:12] = 1.0
  masked = (1 - masks) * generator(z).numpy()
  error = lambda p: float(np.mean(losses.latent_consistency_loss(predicted_z=p([masked, masks]), z=z)))
  assert error(trained) < 0.6 * error(start), (error(trained), error(start))
  assert hub.read_metadata(os.path.join(result["export_dir"], "prior_predictor"))["lambda_latent"] == 1000.0


def test_unet_overfits_one_batch_on_the_hole():
  keras.utils.set_random_seed(0)
  model = regression_lib.build_regression_inpainter(
      regression_lib.RegressionInpainterConfig(resolution=16, channels=1, base_channels=8))
  rng = np.random.default_rng(0)
  images = np.tanh(rng.normal(size=(4, 16, 16, 1))).astype(np.float32)
  masks = np.zeros((4, 16, 16, 1), np.float32)
  masks[:, 5:11, 3:9] = 1.0
  optimizer = keras.optimizers.Adam(3e-3)
  losses_seen = []
  for _ in range(150):
    with tf.GradientTape() as tape:
      loss = tf.reduce_mean(losses.hole_l1_loss(images=images, outputs=model([(1 - masks) * images, masks]),
                                                masks=masks))
    optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
    losses_seen.append(float(loss))
  assert losses_seen[-1] < 0.3 * losses_seen[0], losses_seen[::30]


def _run(module, args):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
  return subprocess.run([sys.executable, "-m", module, *args], cwd=REPO, env=env, capture_output=True,
                        text=True, timeout=300)


def test_regression_binary_trains_resumes_and_its_export_is_scored_by_evaluate(tiny, tmp_path):
  workdir = tmp_path / "regression"
  common = ["--config=configs/fashion_mnist32_regression.py:smoke", "--config.data.resolution=16",
            f"--workdir={workdir}"]
  first = _run("binaries.train_regression_inpainter", [*common, "--config.train.num_steps=2"])
  assert first.returncode == 0, first.stderr[-2000:]
  second = _run("binaries.train_regression_inpainter", [*common, "--config.train.num_steps=4"])
  assert second.returncode == 0, second.stderr[-2000:]
  summary = json.loads(second.stdout.strip().splitlines()[-1])
  assert (summary["step"], summary["resumed_from_step"]) == (4, 2)
  export = workdir / "export" / "regression_inpainter"
  for name in ("saved_model.pb", "pgi_tf_metadata.json"):
    assert (export / name).is_file()
  assert (workdir / "samples" / "samples_0000004.png").is_file()

  out = tmp_path / "eval"
  completed = _run("binaries.evaluate", [
      f"--model_dir={tiny.model_dir}", "--num_images=6", "--methods=single,regression", "--fd_extractor=",
      f"--regression_inpainter={export}", f"--prior_predictors=again={tiny.prior_predictor}",
      f"--output_dir={out}", "--batch_size=4", "--split=val"])
  assert completed.returncode == 0, completed.stderr[-2000:]
  results = json.loads((out / "results.json").read_text())
  rows = {(r["hole_ratio"], r["method"]): r for r in results["rows"]}
  assert set(m for _, m in rows) == {"single", "regression", "single [again]"}
  # The same P under another name gives the same numbers.
  for ratio in (0.1, 0.4):
    assert rows[(ratio, "single [again]")]["psnr_db"] == pytest.approx(rows[(ratio, "single")]["psnr_db"], abs=1e-4)
  # The regression row by hand: the module loaded here, Eq. 8 on the evaluation's own masks.
  from pgi_tf.data import datasets
  images = next(iter(datasets.make_image_dataset(source="fashion_mnist", data_dir=None, split="val", resolution=16,
                                                 channels=1, batch_size=6, shuffle=False, repeat=False,
                                                 drop_remainder=False))).numpy()
  module = hub.load_regression_inpainter(str(export))
  for index, ratio in enumerate((0.1, 0.4)):
    masks = image_evaluation.evaluation_masks(count=6, resolution=16, hole_ratio=ratio, seed=1000 * index,
                                              mask_kind="square")
    outputs = inpainting.compose(images=images, masks=masks, generated_images=module((1 - masks) * images, masks))
    assert rows[(ratio, "regression")]["l1"] == pytest.approx(float(np.mean(np.abs(outputs - images))) / 2, rel=1e-4)  # [0, 1] units
  assert results["peers"] == {"regression": str(export)}

  missing = _run("binaries.evaluate", [f"--model_dir={tiny.model_dir}", "--methods=regression", "--fd_extractor=",
                                       f"--regression_inpainter={tmp_path / 'nowhere'}", f"--output_dir={out}"])
  assert missing.returncode == 2 and "error: --regression_inpainter=" in missing.stderr


def _flat(config):
  flat = {}
  for section, values in config.to_dict().items():
    if isinstance(values, dict):
      flat.update({f"{section}.{k}": v for k, v in values.items()})
    else:
      flat[section] = values
  return flat


def test_each_variant_differs_from_the_control_only_by_its_change():
  """The val table compares variants with fashion_mnist32_prior_continued: same start, steps, data."""
  from configs import fashion_mnist32_prior
  from configs import fashion_mnist32_prior_continued
  from configs import fashion_mnist32_prior_latent_candidates
  control = _flat(fashion_mnist32_prior_continued.get_config())
  paper = _flat(fashion_mnist32_prior.get_config())
  assert {k for k in control if control[k] != paper.get(k)} == {"name", "train.warm_start", "train.num_steps"}
  assert control["train.warm_start"] == "hub_modules/fashion_mnist32/prior_predictor_paper"
  expected = {
      fashion_mnist32_prior_candidates: {"prior.num_candidates", "train.batch_size"},
      fashion_mnist32_prior_latent: {"loss.lambda_latent"},
      fashion_mnist32_prior_latent_candidates: {"prior.num_candidates", "train.batch_size", "loss.lambda_latent"},
  }
  for module, changed in expected.items():
    variant = _flat(module.get_config())
    assert {k for k in variant if variant[k] != control[k]} == changed | {"name"}, module.__name__
  assert _flat(fashion_mnist32_prior_continued.get_config("smoke"))["train.num_steps"] < control["train.num_steps"]


def test_latent_candidates_smoke_trains_both_terms(tiny, tmp_path):
  from configs import fashion_mnist32_prior_latent_candidates
  config = _on_tiny(fashion_mnist32_prior_latent_candidates.get_config("smoke"), tiny, num_steps=2)
  result = prior.train(config, workdir=str(tmp_path / "both"))
  assert {"latent_consistency", "candidate_spread"} <= set(result["losses"])
  metadata = hub.read_metadata(os.path.join(result["export_dir"], "prior_predictor"))
  assert (metadata["num_candidates"], metadata["lambda_latent"], metadata["contextual_decay"]) == (8, 1.0, 0.99)
