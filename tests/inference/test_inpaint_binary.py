"""binaries/inpainting.py end to end on the tiny model directory: one result per input at the
mirrored path, original sizes, known pixels equal to the input (Eq. 8) in every mode, and bad
input as one `error:` line with exit code 2 and nothing written.

All runs go through `tiny_models.run_binary_cases`, which runs `python -m binaries.inpaint`
once per case (TensorFlow imported once, one forked child per case) to stay within the time
budget; each case has its own argv, stdout, stderr and exit code.
"""

import json
import os
import re

import numpy as np
import pytest
from PIL import Image

from pgi_tf import hub
from pgi_tf.inference import inpainting
from pgi_tf.inference import loading
from pgi_tf.inference import folders
from pgi_tf.data import images as images_lib
from tests import tiny_models

# Relative path -> (height, width). big.png is not the model's 16 px, so it is resized.
IMAGES = {"a.png": (16, 16), "sub/b.png": (16, 16), "big.png": (40, 40)}


def _noise(shape, seed):
  return np.random.default_rng(seed).integers(0, 256, shape).astype(np.uint8)


def _hole(height, width, top, left, bottom, right):
  mask = np.zeros((height, width), np.uint8)
  mask[top:bottom, left:right] = 255
  return mask


def _write_inputs(root):
  """images/ and masks/ (same relative paths) for the good runs."""
  for index, (rel, (h, w)) in enumerate(sorted(IMAGES.items())):
    tiny_models.write_png(os.path.join(root, "images", rel), _noise((h, w), seed=index))
    tiny_models.write_png(os.path.join(root, "masks", rel),
                          _hole(h, w, h // 4, h // 5 + index, h // 2 + 2, 3 * w // 4))


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
  return tiny_models.shared_model_dirs(tmp_path_factory)


@pytest.fixture(scope="module")
def runs(tiny, tmp_path_factory):
  """Every CLI case of this file, run once: {case name: (BinaryRun, output_dir)}."""
  root = str(tmp_path_factory.mktemp("inpaint_cli"))
  _write_inputs(root)
  images, masks = os.path.join(root, "images"), os.path.join(root, "masks")
  good = f"--model_dir={tiny.model_dir}"

  # Bad inputs: good files plus one bad one that sorts LAST, so a binary that wrote results
  # as it went (instead of checking everything first) would leave files behind.
  bad_images = os.path.join(root, "bad_images")
  tiny_models.write_png(os.path.join(bad_images, "a.png"), _noise((16, 16), seed=10))
  tiny_models.write_png(os.path.join(bad_images, "z.png"), _noise((16, 16), seed=11))
  bad_masks = {
      "size_mismatch": _hole(12, 12, 2, 2, 6, 6),
      "no_hole": np.zeros((16, 16), np.uint8),
      "all_hole": np.full((16, 16), 255, np.uint8),
  }
  for name, z_mask in bad_masks.items():
    tiny_models.write_png(os.path.join(root, name, "a.png"), _hole(16, 16, 4, 4, 9, 9))
    tiny_models.write_png(os.path.join(root, name, "z.png"), z_mask)
  rgb_images = os.path.join(root, "rgb_images")
  tiny_models.write_png(os.path.join(rgb_images, "a.png"), _noise((16, 16), seed=12))
  tiny_models.write_png(os.path.join(rgb_images, "z.png"), _noise((16, 16, 3), seed=13))
  clash_images = os.path.join(root, "clash_images")  # cat.jpg and cat.png -> one cat.png
  tiny_models.write_png(os.path.join(clash_images, "a.png"), _noise((16, 16), seed=14))
  Image.fromarray(_noise((16, 16), seed=15)).save(os.path.join(clash_images, "a.jpg"), "JPEG")
  no_p_dir = os.path.join(root, "model_without_p")
  os.makedirs(no_p_dir)
  for name in ("generator", "discriminator"):
    os.symlink(os.path.join(tiny.model_dir, name), os.path.join(no_p_dir, name))

  out = lambda name: os.path.join(root, "out", name)  # noqa: E731
  cases = {
      "single": [good, f"--input={images}", f"--masks={masks}"],
      "iterative": [good, f"--input={images}", f"--masks={masks}", "--mode=iterative", "--iterations=5"],
      "hybrid": [good, f"--input={images}", f"--masks={masks}", "--mode=hybrid", "--refine_steps=3"],
      "ratio": [good, f"--input={images}", "--mask_kind=ratio", "--hole_ratio=0.25"],
      **{name: [good, f"--input={bad_images}", f"--masks={os.path.join(root, name)}"] for name in bad_masks},
      "rgb_image": [good, f"--input={rgb_images}", f"--masks={os.path.join(root, 'no_hole')}"],
      "missing_input": [good, f"--input={os.path.join(root, 'nowhere')}", f"--masks={masks}"],
      "no_prior_predictor": [f"--model_dir={no_p_dir}", f"--input={images}", f"--masks={masks}"],
      "other_generators_p": [good, f"--prior_predictor={tiny.other_prior_predictor}", f"--input={images}",
                             f"--masks={masks}"],
      "name_clash": [good, f"--input={clash_images}", f"--masks={os.path.join(root, 'all_hole')}"],
  }
  results = tiny_models.run_binary_cases(
      "binaries.inpaint", [[*args, f"--output_dir={out(name)}"] for name, args in cases.items()],
      workdir=os.path.join(root, "runner"))
  return {"root": root, **{name: (run, out(name)) for name, run in zip(cases, results)}}


def _check_outputs(root, output_dir, *, masks_dir=None):
  """One PNG per input at the mirrored path, the input's size, known pixels equal the input."""
  written = sorted(os.path.relpath(os.path.join(d, f), output_dir)
                   for d, _, files in os.walk(output_dir) for f in files if f.endswith(".png"))
  assert written == sorted([*IMAGES, "grid.png"])
  results = json.loads(open(os.path.join(output_dir, "results.json")).read())
  assert results["images"] == 3 and len(results["outputs"]) == 3
  outputs = {}
  for rel, size in IMAGES.items():
    original = tiny_models.read_png(os.path.join(root, "images", rel))
    result = tiny_models.read_png(os.path.join(output_dir, rel))
    assert result.shape == original.shape == size, rel
    if masks_dir is not None:
      hole = tiny_models.read_png(os.path.join(masks_dir, rel)) > 127
      assert np.array_equal(result[~hole], original[~hole]), rel   # Eq. 8, bit for bit
      assert np.mean(result[hole] != original[hole]) > 0.5, rel     # the hole was filled
    outputs[rel] = result
  return outputs, results


@pytest.mark.parametrize("mode", ["single", "iterative", "hybrid"])
def test_modes_one_result_per_input_known_pixels_kept(runs, mode):
  run, output_dir = runs[mode]
  assert run.returncode == 0, run.stderr[-3000:]
  outputs, results = _check_outputs(runs["root"], output_dir, masks_dir=os.path.join(runs["root"], "masks"))
  assert results["mode"] == mode and results["photo_realism"] == "discriminator"
  assert json.loads(run.stdout.strip().splitlines()[-1])["images"] == 3


def test_single_mode_matches_the_library(runs, tiny):
  """The CLI's hole pixels are G(P(I_d)) of the in-process Inpainter, rounded to uint8."""
  _, output_dir = runs["single"]
  inpainter = inpainting.Inpainter(
      generator=hub.load_generator(tiny.generator),
      prior_predictor=hub.load_prior_predictor(tiny.prior_predictor, generator_path=tiny.generator),
      z_dim=tiny_models.Z_DIM)
  for rel in ("a.png", "sub/b.png"):
    original = tiny_models.read_png(os.path.join(runs["root"], "images", rel))
    hole = tiny_models.read_png(os.path.join(runs["root"], "masks", rel)) > 127
    out = inpainter.inpaint(images_lib.to_model_range(original)[None, ..., None],
                            hole.astype(np.float32)[None, ..., None], mode="single")
    expected = images_lib.to_uint8(out["inpainted"].numpy()[0, ..., 0])
    result = tiny_models.read_png(os.path.join(output_dir, rel))
    assert np.abs(result.astype(int) - expected.astype(int)).max() <= 1, rel


def test_generated_ratio_masks(runs):
  run, output_dir = runs["ratio"]
  assert run.returncode == 0, run.stderr[-3000:]
  outputs, _ = _check_outputs(runs["root"], output_dir)
  for rel, result in outputs.items():
    original = tiny_models.read_png(os.path.join(runs["root"], "images", rel))
    unchanged = np.mean(result == original)
    assert 0.75 <= unchanged < 0.95, (rel, unchanged)  # a 25% hole; known pixels kept exactly


@pytest.mark.parametrize("case,needle", [
    ("size_mismatch", r"size_mismatch/z\.png: mask is 12x12, image is 16x16"),
    ("no_hole", r"no_hole/z\.png: mask has no hole pixels"),
    ("all_hole", r"all_hole/z\.png: mask covers the whole image"),
    ("rgb_image", r"rgb_images/z\.png: has 3 channels, the model needs 1"),
    ("missing_input", r"--input=.*nowhere: no such file or directory"),
    ("no_prior_predictor", r"--model_dir=.*model_without_p: has no prior_predictor/"),
    ("other_generators_p", r"--prior_predictor=.*other_model/prior_predictor: was trained for another generator"),
    ("name_clash", r"--input=.*clash_images: a\.jpg and a\.png would both be written to a\.png"),
])
def test_bad_input_is_one_line_exit_2_nothing_written(runs, case, needle):
  run, output_dir = runs[case]
  assert run.returncode == 2, run.stderr[-3000:]
  error_lines = [line for line in run.stderr.splitlines() if line.startswith("error:")]
  assert len(error_lines) == 1 and re.search(needle, error_lines[0]), run.stderr[-3000:]
  assert "Traceback" not in run.stderr
  assert not os.path.exists(output_dir) or not os.listdir(output_dir)


def test_iterations_default_follows_the_resolution(runs, tiny, tmp_path, monkeypatch):
  """Without --iterations, the search runs Yeh et al.'s count for the model's size (§6.3.1)."""
  assert inpainting.default_iterations(64) == 1000 and inpainting.default_iterations(128) == 1500
  seen = []
  original_inpaint = inpainting.Inpainter.inpaint

  def recording_inpaint(self, images, masks, **kwargs):
    # The count the search will run: the caller's, or the Inpainter's default for the size.
    given = kwargs.get("iterations")
    seen.append(given if given is not None else self.iterations_for(np.shape(images)[1]))
    return original_inpaint(self, images, masks, **kwargs)

  monkeypatch.setattr(inpainting, "default_iterations", lambda resolution: 3 if resolution == 16 else 0)
  monkeypatch.setattr(inpainting.Inpainter, "inpaint", recording_inpaint)
  models = loading.load_models(model_dir=tiny.model_dir, need_prior_predictor=False)
  summary = folders.inpaint_files(
      models=models, input_path=os.path.join(runs["root"], "images"), output_dir=str(tmp_path / "out"),
      mask_path=os.path.join(runs["root"], "masks"), mode="iterative")
  assert seen == [3] and summary["images"] == 3
