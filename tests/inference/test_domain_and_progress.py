"""The out-of-domain warning (pgi_tf/inference/domain.py, binaries/calibrate_domain.py) and the
iterative search's progress (Inpainter.inpaint(progress=...), the inpaint command's bar).

Known-pixel errors are checked against a hand computation; the bundled M_z's shipped threshold
is recomputed from the val split; a photo (scikit-image's camera) is flagged and a Fashion-MNIST
sample is not, on the command line and in results.json; the chunked search (what the progress bar
needs) gives the same z bit for bit as one compiled loop.
"""

import fcntl
import json
import os
import pty
import struct
import termios
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from pgi_tf.errors import InputError
from pgi_tf.inference import domain
from pgi_tf.inference import loading

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUNDLED_P = os.path.join(REPO, "hub_modules", "fashion_mnist32", "prior_predictor")
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")


def test_known_pixel_error_by_hand():
  images = np.zeros((1, 2, 2, 1))
  generated = np.array([[[[0.5], [1.0]], [[0.3], [-2.0]]]])
  masks = np.array([[[[0.0], [1.0]], [[0.0], [1.0]]]])  # right column is the hole: ignored
  np.testing.assert_allclose(domain.known_pixel_error(images, masks, generated), [np.sqrt((0.25 + 0.09) / 2)])


def test_calibrate_takes_the_quantile_times_the_margin_and_needs_enough_images():
  scores = np.arange(1000) / 1000.0
  content = domain.calibrate(scores, source="x")
  assert content["threshold"] == pytest.approx(np.quantile(scores, domain.QUANTILE) * domain.MARGIN)
  assert content["max"] == pytest.approx(0.999) and content["num_images"] == 1000
  with pytest.raises(InputError, match="at least 100"):
    domain.calibrate(scores[:50], source="x")


def test_shipped_threshold_is_the_val_splits():
  shipped = json.load(open(os.path.join(BUNDLED_P, domain.DOMAIN_CHECK_FILENAME)))
  assert shipped["source"].startswith("fashion_mnist val")
  models = loading.load_models(model_dir=os.path.dirname(BUNDLED_P), discriminator="none")
  scores = domain.validation_errors(models, source="fashion_mnist", data_dir=None, split="val",
                                    num_images=shipped["num_images"], hole_ratio=0.25, seed=0)
  assert domain.calibrate(scores, source="")["threshold"] == pytest.approx(shipped["threshold"], rel=1e-5)
  with pytest.raises(InputError, match="validation split"):
    domain.validation_errors(models, source="fashion_mnist", data_dir=None, split="test", num_images=100)


def test_inpaint_warns_for_a_photo_not_for_a_garment(tmp_path):
  from skimage import data  # pylint: disable=import-outside-toplevel
  inputs = tmp_path / "in"
  inputs.mkdir()
  Image.fromarray(data.camera()).save(inputs / "camera.png")
  Image.open(os.path.join(REPO, "hub_modules/samples/images/test00000_ankle_boot.png")).save(inputs / "boot.png")
  run = subprocess.run([sys.executable, "-m", "binaries.inpaint", f"--input={inputs}", "--masks=", "--mask_kind=ratio",
                        f"--output_dir={tmp_path / 'out'}"], cwd=REPO, env=ENV, capture_output=True, text=True,
                       timeout=300)
  assert run.returncode == 0, run.stderr[-1500:]
  warnings = [line for line in run.stderr.splitlines() if line.startswith("warning:")]
  assert len(warnings) == 1 and "camera.png: far from the model's domain" in warnings[0], run.stderr
  check = json.load(open(tmp_path / "out" / "results.json"))["domain_check"]
  assert list(check["out_of_domain"]) == ["camera.png"] and check["out_of_domain"]["camera.png"] > check["threshold"]
  assert os.path.isfile(tmp_path / "out" / "camera.png")  # a warning, not a refusal


# --------------------------------------------------------------------------- search progress

@pytest.fixture(scope="module")
def inpainter():
  return loading.make_inpainter(loading.load_models(model_dir=os.path.join(REPO, "hub_modules", "fashion_mnist32")))


def test_chunked_search_equals_one_loop_and_reports_progress(inpainter):
  rng = np.random.default_rng(0)
  images = rng.uniform(-1, 1, (3, 32, 32, 1)).astype(np.float32)
  masks = np.zeros((3, 32, 32, 1), np.float32)
  masks[:, 8:20, 6:22] = 1
  whole = inpainter.inpaint(images, masks, mode="iterative", iterations=120, seed=4)
  calls = []
  chunked = inpainter.inpaint(images, masks, mode="iterative", iterations=120, seed=4,
                              progress=lambda done, steps, loss: calls.append((done, steps, loss)))
  assert np.array_equal(whole["z"].numpy(), chunked["z"].numpy())
  assert np.array_equal(whole["inpainted"].numpy(), chunked["inpainted"].numpy())
  assert [(d, s) for d, s, _ in calls] == [(50, 120), (100, 120), (120, 120)]
  assert calls[-1][2] < calls[0][2]  # the search lowers Yeh et al.'s loss
  hybrid_calls = []
  inpainter.inpaint(images, masks, mode="hybrid", refine_steps=0, progress=lambda *a: hybrid_calls.append(a))
  assert hybrid_calls == []  # zero steps: nothing to report, P's z as it is


def test_inpaint_command_shows_search_steps_on_a_terminal(tmp_path):
  """Under a pseudo-terminal (as a user sees it) the bar shows the search's steps and loss."""
  out = tmp_path / "out"
  primary, secondary = pty.openpty()
  # A terminal 120 columns wide (a new pty is 0 x 0, and tqdm draws nothing in zero columns).
  fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
  process = subprocess.Popen([sys.executable, "-m", "binaries.inpaint", "--mode=iterative", "--iterations=150",
                              "--input=hub_modules/samples/images/test00000_ankle_boot.png",
                              "--masks=hub_modules/samples/masks/test00000_ankle_boot.png", f"--output_dir={out}"],
                             cwd=REPO, env=ENV, stdout=subprocess.DEVNULL, stderr=secondary, stdin=subprocess.DEVNULL)
  os.close(secondary)
  seen = b""
  while True:
    try:
      chunk = os.read(primary, 4096)
    except OSError:
      break
    if not chunk:
      break
    seen += chunk
  assert process.wait(timeout=300) == 0, seen[-1500:]
  text = seen.decode(errors="replace")
  for step in (50, 100, 150):
    assert f"search step {step}/150, loss" in text, text[-1500:]
