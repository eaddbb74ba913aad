"""--backend (pgi_tf/inference/backends.py): tf, xla and tflite run the same one pass; auto picks by
batch size; tflite uses the model's shipped .tflite when it was made from the same weights and
otherwise exports one once into $PGI_TF_CACHE; what cannot run on TensorFlow Lite is refused in one line."""

import json
import os

import numpy as np
import pytest
from PIL import Image

from pgi_tf.errors import InputError
from pgi_tf.inference import backends
from pgi_tf.inference import loading
from tests import tiny_models

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUNDLED = os.path.join(REPO, "hub_modules", "fashion_mnist32")


@pytest.fixture(scope="module")
def bundled():
  return loading.load_models(model_dir=BUNDLED)


def test_auto_picks_by_batch_size_and_refuses_what_tflite_cannot_run(bundled):
  assert backends.choose("auto", models=bundled, mode="single", batch_size=1) == "tflite"
  assert backends.choose("auto", models=bundled, mode="single", batch_size=64) == "tf"
  assert backends.choose("auto", models=bundled, mode="hybrid", batch_size=1) == "tf"
  with pytest.raises(InputError, match="--backend=tflite: runs the one pass only; not with --mode=iterative"):
    backends.choose("tflite", models=bundled, mode="iterative", batch_size=1)
  assert backends.tflite_threads(32) == 1 and backends.tflite_threads(64) == os.cpu_count()
  with pytest.raises(InputError, match="--backend=gpu"):
    backends.choose("gpu", models=bundled, mode="single", batch_size=1)


def test_tflite_file_is_the_shipped_one_for_the_bundled_weights(bundled):
  assert backends.tflite_file(bundled) == os.path.join(BUNDLED, "inpainter", "inpainter.tflite")


def test_tflite_file_for_other_weights_is_exported_once_into_the_cache(tmp_path_factory):
  tiny = tiny_models.shared_model_dirs(tmp_path_factory)
  models = loading.load_models(model_dir=tiny.model_dir)
  path = backends.tflite_file(models)
  assert path.startswith(os.environ["PGI_TF_CACHE"]) and os.path.isfile(path)
  written = os.stat(path).st_mtime_ns
  assert backends.tflite_file(models) == path and os.stat(path).st_mtime_ns == written  # not exported again
  rng = np.random.default_rng(0)
  images = rng.uniform(-1, 1, (2, models.resolution, models.resolution, models.channels)).astype(np.float32)
  masks = np.zeros((2, models.resolution, models.resolution, 1), np.float32)
  masks[:, 4:10, 3:12] = 1
  lite = backends.one_pass("tflite", models, num_threads=1).run(images, masks)
  reference = backends.one_pass("tf", models).run(images, masks)
  np.testing.assert_allclose(lite, reference, atol=2e-5)


def test_cli_backends_agree_and_are_recorded(tmp_path):
  """Four runs of `python -m binaries.inpaint` forked from one process (tiny_models.run_binary_cases)."""
  names = ("tf", "xla", "tflite")
  runs = tiny_models.run_binary_cases(
      "binaries.inpaint", [[f"--backend={b}", "--batch_size=4", f"--output_dir={tmp_path / b}"] for b in names]
      + [["--backend=tflite", "--mode=hybrid", f"--output_dir={tmp_path / 'refused'}"]], workdir=str(tmp_path / "runs"))
  outputs = {}
  for backend, run in zip(names, runs):
    out = tmp_path / backend
    assert run.returncode == 0, run.stderr[-1500:]
    assert json.load(open(out / "results.json"))["backend"] == backend
    outputs[backend] = {n: np.asarray(Image.open(out / n)).astype(int) for n in sorted(os.listdir(out))
                        if n.endswith(".png") and n != "grid.png"}
  masks = {n: np.asarray(Image.open(os.path.join(REPO, "hub_modules/samples/masks", n))) >= 128 for n in outputs["tf"]}
  originals = {n: np.asarray(Image.open(os.path.join(REPO, "hub_modules/samples/images", n))) for n in outputs["tf"]}
  for backend in ("xla", "tflite"):
    for name, pixels in outputs[backend].items():
      assert np.abs(pixels - outputs["tf"][name]).max() <= 1, (backend, name)
      assert np.array_equal(pixels[~masks[name]], originals[name][~masks[name]])  # Eq. 8: known pixels exact
  refused = runs[-1]
  assert refused.returncode == 2 and refused.stderr.strip().splitlines() == [
      "error: --backend=tflite: runs the one pass only; not with --mode=hybrid (use --backend=tf)"]
  assert not os.path.exists(tmp_path / "refused" / "results.json")
