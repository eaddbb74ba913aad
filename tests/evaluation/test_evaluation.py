"""Evaluation (Table 1 layout) and benchmark binaries: metrics per method, files written."""

import json
import os
import subprocess
import sys

import cv2
import keras
import numpy as np
import pytest

from tests import tiny_models
from pgi_tf.evaluation import images as image_evaluation
from pgi_tf.inference import loading
from pgi_tf.metrics import extractors

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
  return tiny_models.shared_model_dirs(tmp_path_factory)


@pytest.fixture(scope="session")
def tiny_extractor(tmp_path_factory):
  keras.utils.set_random_seed(0)
  model = extractors.build_fashion_classifier(resolution=16, channels=1, feature_dim=8, base_channels=4)
  path = str(tmp_path_factory.mktemp("extractor") / "fid")
  extractors.export_feature_extractor(model, path, feature_layer_name="features")
  return path


def _images(count=12, size=16, seed=0):
  rng = np.random.default_rng(seed)
  base = np.zeros((count, size, size, 1), np.float32) - 1
  for i in range(count):  # smooth blobs, so classical inpainting has something to propagate
    y, x = np.mgrid[:size, :size]
    cy, cx = rng.uniform(4, size - 4, 2)
    base[i, ..., 0] = np.clip(1.5 - ((y - cy) ** 2 + (x - cx) ** 2) / 20.0, -1, 1)
  return base


def test_classical_inpaint_matches_opencv_and_keeps_known_pixels():
  images = _images(3)
  masks = image_evaluation.evaluation_masks(count=3, resolution=16, hole_ratio=0.25, seed=1)
  out = image_evaluation.classical_inpaint(images=images, masks=masks, method="telea")
  for i in range(3):
    u8 = np.clip(np.round((images[i] * (1 - masks[i]) + 1) * 127.5), 0, 255).astype(np.uint8)
    expected = cv2.inpaint(u8, (masks[i, ..., 0] > 0.5).astype(np.uint8) * 255, 3, cv2.INPAINT_TELEA)
    hole = masks[i, ..., 0] > 0.5
    np.testing.assert_allclose(out[i, ..., 0][hole], expected[hole] / 127.5 - 1, atol=1e-6)
    np.testing.assert_array_equal(out[i][~hole], images[i][~hole])


def test_evaluation_masks_are_seeded_and_have_the_ratio():
  a = image_evaluation.evaluation_masks(count=20, resolution=32, hole_ratio=0.4, seed=3)
  b = image_evaluation.evaluation_masks(count=20, resolution=32, hole_ratio=0.4, seed=3)
  np.testing.assert_array_equal(a, b)
  np.testing.assert_allclose(a.mean(axis=(1, 2, 3)), 0.4, rtol=0.01)


def test_evaluate_rows_and_markdown(tiny, tiny_extractor):
  models = loading.load_models(model_dir=tiny.model_dir)
  images = _images(8)
  extractor = extractors.load_extractor(f"savedmodel:{tiny_extractor}")
  rows, examples = image_evaluation.evaluate(
      inpainter=loading.make_inpainter(models), images=images, hole_ratios=(0.1, 0.4),
      methods=("single", "iterative", "hybrid", "telea"), extractor=extractor, batch_size=4,
      iterations=3, refine_steps=2)
  assert [(r["hole_ratio"], r["method"]) for r in rows] == [
      (ratio, m) for ratio in (0.1, 0.4) for m in ("single", "iterative", "hybrid", "telea")]
  for row in rows:
    assert row["fd_extractor"] == f"savedmodel:{tiny_extractor}"
    assert np.isfinite(row["psnr_db"]) and 0 <= row["l1"] <= 1 and row["frechet_distance"] >= 0
  # Bigger holes, more error: whole-image L1 of every method grows with the hole ratio.
  for method in ("single", "telea"):
    small, large = [r["l1"] for r in rows if r["method"] == method]
    assert large > small
  markdown = image_evaluation.to_markdown(rows, title="t")
  assert "| single → PSNR (dB) ↑ |" in markdown and "10% holes | 40% holes" in markdown
  assert f"savedmodel:{tiny_extractor}" in markdown
  grid = image_evaluation.examples_grid(examples, hole_ratios=(0.1, 0.4), methods=("single", "telea"))
  assert grid.shape[0] > grid.shape[1] / 4


def _run(module, args):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
  return subprocess.run([sys.executable, "-m", module, *args], cwd=REPO, env=env, capture_output=True,
                        text=True, timeout=300)


def test_evaluate_binary_writes_table_json_and_grid(tiny, tiny_extractor, tmp_path):
  out = tmp_path / "eval"
  completed = _run("binaries.evaluate", [
      f"--model_dir={tiny.model_dir}", "--num_images=6", "--iterations=2", "--refine_steps=1",
      "--methods=single,iterative,hybrid,telea,navier_stokes", f"--fd_extractor=savedmodel:{tiny_extractor}",
      f"--output_dir={out}", "--batch_size=3"])
  assert completed.returncode == 0, completed.stderr[-2000:]
  results = json.loads((out / "results.json").read_text())
  assert len(results["rows"]) == 10 and {r["method"] for r in results["rows"]} == {
      "single", "iterative", "hybrid", "telea", "navier_stokes"}
  assert "Fréchet distances computed with: savedmodel:" in (out / "table.md").read_text()
  # Provenance: what wrote the numbers, on which split and how many images.
  assert (results["split"], results["num_images"], results["seed"], results["source"]) == (
      "test", 6, 0, "fashion_mnist")
  record = results["provenance"]
  assert record["command"].startswith("python -m binaries.evaluate --model_dir=")
  assert "--num_images=6" in record["command"]
  assert len(record["git_revision"]) == 40 and record["machine"]["cpu_count"] >= 1
  # Timed at the end of the run: the wall time covers every method's own timing.
  methods_seconds = sum(r["ms_per_image"] * r["num_images"] for r in results["rows"]) / 1000
  assert record["wall_time_s"] >= methods_seconds - 0.1 and record["finished_utc"].endswith("Z")
  assert (out / "grid.png").stat().st_size > 0
  bad = _run("binaries.evaluate", [f"--model_dir={tiny.model_dir}", "--methods=single,magic",
                                   "--fd_extractor=", f"--output_dir={tmp_path / 'bad'}"])
  assert bad.returncode == 2 and "error: --methods: unknown method 'magic'" in bad.stderr


def test_benchmark_binary_writes_json_and_markdown(tmp_path):
  # The training suites' rows are checked in process (test_training_benchmark.py); here the binary's
  # plumbing: suites, K candidates, JSON + Markdown, provenance.
  completed = _run("binaries.benchmark", [
      "--suites=inference_table4", "--resolutions=16", "--inference_batch_sizes=1", "--max_iterative_seconds=0.5",
      "--num_candidates=1,3", f"--output_dir={tmp_path}"])
  assert completed.returncode == 0, completed.stderr[-2000:]
  report = json.loads((tmp_path / "benchmark.json").read_text())
  suites = [r["suite"] for r in report["rows"]]
  assert suites == ["inference_table4", "inference_table4"]
  assert [r["num_candidates"] for r in report["rows"]] == [1, 3]  # one row set per K
  table4 = report["rows"][0]
  assert table4["iterative_steps"] == 1000 and table4["speedup"] > 1
  assert table4["iterative_timed_steps"] <= 1000
  assert table4["achieved_gflops"] == pytest.approx(table4["gflops_per_image"] / (table4["single_ms_per_image"] / 1000),
                                                    rel=0.02)
  assert 0 < table4["fraction_of_peak"] < 1 and table4["single_peak_rss_mb"] > 100
  assert "## inference_table4" in (tmp_path / "benchmark.md").read_text()
  assert report["provenance"]["command"].startswith("python -m binaries.benchmark")
  assert report["provenance"]["machine"] == report["machine"]


def test_sweep_lambdas_refuses_the_test_split(tmp_path):
  # Choices (λ1, λ2) are made on val; the test split only reports.
  completed = _run("binaries.sweep_lambdas", ["--config=configs/fashion_mnist32_prior.py:smoke", "--split=test",
                                              f"--output_dir={tmp_path}"])
  assert completed.returncode == 2
  assert completed.stderr.strip().splitlines()[-1] == (
      "error: --split=test: choices are made on the validation split; the test split only reports")
  assert os.listdir(tmp_path) == []


def test_poisson_blended_rows_reuse_the_search_and_match_the_blend_by_hand(tiny):
  # Yeh et al.'s full method: the same G(z) as "iterative", Poisson-blended, then Eq. 8.
  models = loading.load_models(model_dir=tiny.model_dir)
  inpainter = loading.make_inpainter(models)
  images = _images(6)
  rows, examples = image_evaluation.evaluate(
      inpainter=inpainter, images=images, hole_ratios=[0.25], methods=["iterative", "iterative+poisson"],
      extractor=None, batch_size=3, iterations=3, seed=4)
  assert [r["method"] for r in rows] == ["iterative", "iterative+poisson"]
  assert [r["poisson_blend"] for r in rows] == [False, True]
  masks = image_evaluation.evaluation_masks(count=6, resolution=16, hole_ratio=0.25, seed=4)
  search = inpainter.inpaint(images[:3], masks[:3], mode="iterative", iterations=3, seed=4)
  by_hand = image_evaluation.inpainting.poisson_blend(
      images=images[:3], generated_images=search["generated"].numpy(), masks=masks[:3])
  np.testing.assert_allclose(examples[(0.25, "iterative+poisson")][:3], by_hand, atol=1e-6)
  np.testing.assert_allclose(examples[(0.25, "iterative")][:3], search["inpainted"].numpy(), atol=1e-6)
  known = masks[:3] < 0.5
  np.testing.assert_array_equal(np.where(known, examples[(0.25, "iterative+poisson")][:3], 0),
                                np.where(known, images[:3], 0))
  assert not np.allclose(examples[(0.25, "iterative+poisson")], examples[(0.25, "iterative")])
  assert rows[1]["iterations"] == 3 and rows[1]["ms_per_image"] >= rows[0]["ms_per_image"]


def test_default_methods_score_yeh_blended_and_unblended():
  assert image_evaluation.DEFAULT_METHODS[:3] == ("single", "iterative+poisson", "iterative")
  assert image_evaluation.base_method("hybrid+poisson") == "hybrid"
  assert image_evaluation.is_learned("single+poisson") and not image_evaluation.is_learned("telea")
  with pytest.raises(image_evaluation.InputError, match="unknown method 'telea\\+poisson'"):
    image_evaluation.evaluate(inpainter=None, images=_images(2), hole_ratios=[0.1], methods=["telea+poisson"],
                              extractor=None)
