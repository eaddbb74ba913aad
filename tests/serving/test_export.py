"""The serving export (binaries/export.py, pgi_tf/inference/export.py, resampling.py).

The shipped hub_modules/fashion_mnist32/inpainter (SavedModel + inpainter.tflite) served from a
process that cannot import pgi_tf reproduces `binaries/inpaint.py`'s PNGs: bit for bit from the
SavedModel, within 1/255 from the TensorFlow Lite file, on a 100x73 colour photo made grey
(--grayscale / PIL "L") and a 64x64 grey image; `pgi-export` run now writes an inpainter that
gives the same pixels as the shipped one (the shipped files are current). The resizes that make
any image size possible match tf.image.resize to float rounding and hand-computed weights.
"""

import json
import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from pgi_tf.inference import export
from pgi_tf.inference import resampling

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHIPPED = os.path.join(REPO, "hub_modules", "fashion_mnist32", "inpainter")
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")


# --------------------------------------------------------------------------- resampling

def test_area_weights_by_hand():
  # 5 -> 2: each output pixel covers 2.5 input pixels (weights 1, 1, 0.5 and 0.5, 1, 1, over 2.5).
  expected = np.array([[1, 1, .5, 0, 0], [0, 0, .5, 1, 1]], np.float32) / 2.5
  np.testing.assert_allclose(resampling.area_weights(2, 5).numpy(), expected, atol=1e-7)


def test_bicubic_weights_by_hand():
  # 2 -> 4 (scale 0.5): output 1 sits at input 0.25: Keys a=-0.5 taps at distances 1.25, .25, .75, 1.75,
  # the tap at -1 falls outside the image (weight 0) and the others are renormalised.
  def keys(d, a=-0.5):
    return ((a + 2) * d - (a + 3)) * d * d + 1 if d <= 1 else ((a * d - 5 * a) * d + 8 * a) * d - 4 * a
  w0, w1 = keys(0.25), keys(0.75)  # input pixels 0 and 1; pixel 2 (distance 1.75) is outside too
  row = resampling.bicubic_weights(4, 2).numpy()[1]
  np.testing.assert_allclose(row, [w0 / (w0 + w1), w1 / (w0 + w1)], atol=1e-6)


@pytest.mark.parametrize("height,width,size", [(100, 73, 32), (64, 64, 32), (33, 47, 32), (20, 30, 32), (7, 9, 3)])
def test_resizes_match_tensorflow(height, width, size):
  rng = np.random.default_rng(height)
  images = rng.uniform(-1, 1, (2, height, width, 3)).astype(np.float32)
  np.testing.assert_allclose(resampling.resize_area(images, size),
                             tf.image.resize(images, [size, size], method="area", antialias=True), atol=1e-6)
  small = rng.uniform(-1, 1, (2, size, size, 2)).astype(np.float32)
  np.testing.assert_allclose(resampling.resize_bicubic(small, height, width),
                             tf.image.resize(small, [height, width], method="bicubic"), atol=2e-6)


def test_same_size_is_the_identity_bit_for_bit():
  images = np.random.default_rng(0).uniform(-1, 1, (3, 32, 32, 1)).astype(np.float32)
  assert np.array_equal(resampling.resize_area(images, 32).numpy(), images)
  assert np.array_equal(resampling.resize_bicubic(images, 32, 32).numpy(), images)


def test_any_hole_under_a_model_pixel_is_a_hole():
  mask = np.zeros((1, 64, 64, 1), np.float32)
  mask[0, 5, 9] = 1.0  # one full-resolution pixel
  small = resampling.hole_at_model_size(mask, 32).numpy()
  assert small.sum() == 1 and small[0, 2, 4, 0] == 1


# --------------------------------------------------------------------------- shipped export

_SERVE = textwrap.dedent('''
    import json, sys
    sys.modules["pgi_tf"] = None  # serving must not need the project
    import numpy as np, tensorflow as tf
    from PIL import Image
    export_dir, inputs, masks = sys.argv[1:4]
    model = tf.saved_model.load(export_dir)
    lite = tf.lite.Interpreter(model_path=export_dir + "/inpainter.tflite").get_signature_runner("inpaint_uint8")
    results = {}
    for name in sys.argv[4:]:
      image = np.asarray(Image.open(f"{inputs}/{name}.png").convert("L"))[None, ..., None]
      mask = np.asarray(Image.open(f"{masks}/{name}.png"))[None, ..., None]
      saved = model.signatures["inpaint_uint8"](images=tf.constant(image), masks=tf.constant(mask))["inpainted"]
      np.save(f"{inputs}/{name}.savedmodel.npy", saved.numpy()[0])
      np.save(f"{inputs}/{name}.tflite.npy", lite(images=image, masks=mask)["inpainted"][0])
    print("served")
''')
NAMES = ("photo100x73", "grey64")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
  """The CLI's PNGs and what the shipped and a freshly exported inpainter give in a process without pgi_tf."""
  root = tmp_path_factory.mktemp("serving")
  inputs, masks = root / "in", root / "masks"
  inputs.mkdir()
  masks.mkdir()
  rng = np.random.default_rng(7)
  photo = rng.integers(0, 256, (73, 100, 3)).astype(np.uint8)  # colour, 100 wide, 73 high
  Image.fromarray(photo).save(inputs / "photo100x73.png")
  Image.fromarray(np.add.outer(np.arange(64), np.arange(64)).astype(np.uint8) * 2).save(inputs / "grey64.png")
  for name, (h, w, box) in {"photo100x73": (73, 100, (20, 50, 30, 70)), "grey64": (64, 64, (10, 40, 20, 50))}.items():
    hole = np.zeros((h, w), np.uint8)
    hole[box[0]:box[1], box[2]:box[3]] = 255
    Image.fromarray(hole).save(masks / f"{name}.png")
  # The CLI, the export and the shipped module's serving run at the same time (separate processes).
  def start(args, cwd):
    return subprocess.Popen(args, cwd=cwd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

  def finish(process, what):
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, f"{what}: {stderr[-2000:]}"
    return stdout

  fresh = root / "fresh_export"
  serve = lambda export_dir, folder: start([sys.executable, "-c", _SERVE, export_dir, str(folder), str(masks), *NAMES],
                                           str(root))
  shipped_inputs = root / "shipped_in"
  shutil.copytree(inputs, shipped_inputs)  # each serving process writes its .npy files beside its inputs
  cli = start([sys.executable, "-m", "binaries.inpaint", f"--input={inputs}", f"--masks={masks}",
               f"--output_dir={root / 'cli'}", "--grayscale"], REPO)
  exporting = start([sys.executable, "-m", "binaries.export", f"--export_dir={fresh}", "--tflite"], REPO)
  serving_shipped = serve(SHIPPED, shipped_inputs)
  export_stdout = finish(exporting, "export")
  serving_fresh = serve(str(fresh), inputs)
  finish(cli, "inpaint")
  outputs = {}
  for label, process, folder in (("shipped", serving_shipped, shipped_inputs), ("fresh", serving_fresh, inputs)):
    assert "served" in finish(process, f"serving {label}")
    outputs[label] = {name: {kind: np.load(folder / f"{name}.{kind}.npy") for kind in ("savedmodel", "tflite")}
                      for name in NAMES}
  cli_pngs = {}
  for name in NAMES:
    pixels = np.asarray(Image.open(root / "cli" / f"{name}.png"))
    cli_pngs[name] = pixels[..., None] if pixels.ndim == 2 else pixels
  return {"cli": cli_pngs, "inputs": inputs, "masks": masks, "fresh_dir": fresh, "stdout": export_stdout, **outputs}


@pytest.mark.parametrize("name", NAMES)
def test_shipped_savedmodel_equals_the_cli_bit_for_bit(served, name):
  cli, saved = served["cli"][name], served["shipped"][name]["savedmodel"]
  assert saved.shape == cli.shape and saved.dtype == np.uint8
  assert np.array_equal(saved, cli)
  # Eq. 8 at full resolution: the known pixels are the (grey) input's bytes.
  grey = np.asarray(Image.open(served["inputs"] / f"{name}.png").convert("L"))[..., None]
  known = np.asarray(Image.open(served["masks"] / f"{name}.png"))[..., None] < 128
  assert np.array_equal(saved[known], grey[known]) and not np.array_equal(saved[~known], grey[~known])


@pytest.mark.parametrize("name", NAMES)
def test_shipped_tflite_within_one_level_of_the_cli(served, name):
  lite = served["shipped"][name]["tflite"].astype(int)
  assert lite.shape == served["cli"][name].shape
  assert np.abs(lite - served["cli"][name]).max() <= 1


@pytest.mark.parametrize("name", NAMES)
def test_a_fresh_export_gives_the_shipped_pixels(served, name):
  for kind in ("savedmodel", "tflite"):
    assert np.array_equal(served["fresh"][name][kind], served["shipped"][name][kind]), kind


def test_export_binary_summary_and_metadata(served):
  summary = json.loads(served["stdout"].strip().splitlines()[-1])
  assert summary["prior_predictor_path"].endswith(os.path.join("fashion_mnist32", "prior_predictor"))
  metadata = json.loads((served["fresh_dir"] / "pgi_tf_metadata.json").read_text())
  assert metadata["kind"] == "inpainter" and metadata["any_image_size"] and metadata["tflite"] == "inpainter.tflite"
  shipped = json.loads(open(os.path.join(SHIPPED, "pgi_tf_metadata.json")).read())
  assert shipped["generator_fingerprint"] == metadata["generator_fingerprint"]


def test_tflite_file_has_only_builtin_ops():
  interpreter = tf.lite.Interpreter(model_path=os.path.join(SHIPPED, export.TFLITE_FILENAME))
  names = {detail["op_name"] for detail in interpreter._get_ops_details()}  # pylint: disable=protected-access
  assert names and not any(name.startswith("Flex") or name == "CUSTOM" for name in names), sorted(names)
  assert set(interpreter.get_signature_list()) == set(export.TFLITE_SIGNATURES)
