"""The demo page's server (pgi_tf/demo, binaries/demo.py) over HTTP, with urllib.

The page's result must be the CLI's: every mode is compared bit for bit with the PNG that
`python -m binaries.inpaint` writes for the same image and mask (the bundled model on a sample,
a colour JPEG of another size through --grayscale, a 3-head P with --num_candidates), and the
known pixels with the input (Eq. 8). Limits: oversize bodies and images get 413, bad content 400
with a message that names what was sent (never a temp path). A fresh `python -m binaries.demo`
process run from an empty folder writes nothing but its temp dir, removed when it stops.
"""

import base64
import dataclasses
import json
import os
import select
import signal
import socket
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from pgi_tf.demo import pipeline
from pgi_tf.demo import server as server_lib
from pgi_tf.inference import loading
from pgi_tf.models import prior_predictor as prior_lib
from tests import tiny_models
from tests.demo import demo_client as client

LIMITS = server_lib.Limits(max_upload_bytes=256 * 1024, max_pixels=200 * 200, max_iterations=500)
PHOTO_SIZE = (30, 45)  # height, width: not the model's 32 px square, so the resize path runs


def _photo_jpeg(path):
  """A colour JPEG with structure (gradients and a disc) at PHOTO_SIZE."""
  h, w = PHOTO_SIZE
  y, x = np.mgrid[0:h, 0:w]
  rgb = np.stack([x * 255 / w, y * 255 / h, 255 * ((x - 20) ** 2 + (y - 14) ** 2 < 80)], -1).astype(np.uint8)
  Image.fromarray(rgb).save(path, format="JPEG", quality=90)
  return path


def _box_mask(h, w, top, left, bottom, right):
  mask = np.zeros((h, w), np.uint8)
  mask[top:bottom, left:right] = 255
  return mask


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
  return tiny_models.shared_model_dirs(tmp_path_factory)


@pytest.fixture(scope="module")
def files(tiny, tmp_path_factory):
  """Inputs shared by the CLI runs and the page: paths by name."""
  root = tmp_path_factory.mktemp("demo_inputs")
  paths = {"sample": os.path.join(client.SAMPLES, client.SAMPLE),
           "sample_mask": os.path.join(client.SAMPLE_MASKS, client.SAMPLE),
           "photo": _photo_jpeg(str(root / "photo.jpg")),
           "photo_mask": tiny_models.write_png(str(root / "photo_mask.png"), _box_mask(*PHOTO_SIZE, 8, 12, 22, 30)),
           "tiny": tiny_models.write_png(str(root / "tiny.png"), np.random.default_rng(3).integers(0, 256, (16, 16))),
           "tiny_mask": tiny_models.write_png(str(root / "tiny_mask.png"), _box_mask(16, 16, 3, 4, 12, 11))}
  many = prior_lib.build_prior_predictor(dataclasses.replace(tiny_models.PRIOR_CONFIG, num_candidates=3))
  prior_lib.spread_heads(tiny_models.build_tiny_prior_predictor(seed=5), many, bias_spread=1.0)
  paths["k3"] = str(root / "prior_predictor_k3")
  tiny_models.export_tiny_prior_predictor(many, paths["k3"], generator_path=tiny.generator, num_candidates=3)
  return paths


# name -> (CLI flags beyond --input/--masks/--output_dir, input, mask, the page's request fields)
CASES = {
    "single": ([], "sample", "sample_mask", {"mode": "single"}),
    "hybrid": (["--mode=hybrid", "--refine_steps=20"], "sample", "sample_mask", {"mode": "hybrid", "refine_steps": 20}),
    "iterative": (["--mode=iterative", "--iterations=30", "--seed=4"], "sample", "sample_mask",
                  {"mode": "iterative", "iterations": 30, "seed": 4}),
    "grayscale_jpeg": (["--grayscale"], "photo", "photo_mask", {"mode": "single", "grayscale": True}),
    "candidates": (["--num_candidates=2"], "tiny", "tiny_mask", {"mode": "candidates", "num_candidates": 2}),
}


@pytest.fixture(scope="module")
def cli(tiny, files, tmp_path_factory):
  """`python -m binaries.inpaint` for every case (started in the background): name -> output folder."""
  root = tmp_path_factory.mktemp("demo_cli")
  arg_lists = []
  for name, (flags, image, mask, _) in CASES.items():
    model = ([f"--model_dir={tiny.model_dir}", f"--prior_predictor={files['k3']}"] if name == "candidates"
             else [f"--model_dir={client.BUNDLED_MODEL}"])
    arg_lists.append([*model, f"--input={files[image]}", f"--masks={files[mask]}",
                      f"--output_dir={root / name}", *flags])
  pending = tiny_models.start_binary_cases("binaries.inpaint", arg_lists, workdir=str(root / "logs"))
  yield lambda: (pending.results(), root)
  pending.stop()


def _snapshot(folder):
  """(path, mtime) of the files the server reads (the networks, the samples); documentation files
  beside them are left out: others may edit those while the suite runs."""
  return sorted((os.path.relpath(os.path.join(d, f), folder), os.stat(os.path.join(d, f)).st_mtime_ns)
                for d, _, names in os.walk(folder) for f in names if not f.endswith(".md"))


@pytest.fixture(scope="module")
def watched(tmp_path_factory):
  """The server's temp root, and the read-only folders it uses with their state before it started."""
  temp_root = tmp_path_factory.mktemp("demo_temp_root")
  return {"temp_root": str(temp_root), "before": {d: _snapshot(d) for d in (client.SAMPLES, client.BUNDLED_MODEL)}}


@pytest.fixture(scope="module")
def bundled(watched):
  models = loading.load_models(model_dir=client.BUNDLED_MODEL)
  with server_lib.DemoServer(pipeline.DemoModel(models), port=0, samples_dir=client.SAMPLES,
                             sample_masks_dir=client.SAMPLE_MASKS, limits=LIMITS,
                             temp_root=watched["temp_root"]).start() as server:
    yield server


@pytest.fixture(scope="module")
def candidates_server(tiny, files, tmp_path_factory):
  models = loading.load_models(model_dir=tiny.model_dir, prior_predictor=files["k3"])
  with server_lib.DemoServer(pipeline.DemoModel(models), port=0, limits=LIMITS,
                             temp_root=str(tmp_path_factory.mktemp("demo_temp_k3"))).start() as server:
    yield server


# --------------------------------------------------------------------------- the page and its data

def test_page_info_and_samples(bundled, candidates_server):
  status, page, kind = client.get(bundled.url)
  assert status == 200 and kind.startswith("text/html")
  assert b'<canvas id="canvas"' in page and b"/api/inpaint" in page
  info = json.loads(client.get(bundled.url + "api/info")[1])
  assert (info["resolution"], info["channels"], info["candidate_heads"]) == (32, 1, 1)
  modes = {m["name"]: m["disabled"] for m in info["modes"]}
  assert list(modes) == ["single", "hybrid", "candidates", "iterative"]
  assert modes["single"] == modes["hybrid"] == modes["iterative"] == ""
  assert "K-candidate P" in modes["candidates"] and "1 head" in modes["candidates"]
  k3 = {m["name"]: m["disabled"] for m in json.loads(client.get(candidates_server.url + "api/info")[1])["modes"]}
  assert k3["candidates"] == ""
  assert info["limits"]["max_upload_bytes"] == LIMITS.max_upload_bytes
  names = [s["name"] for s in info["samples"]]
  assert names == sorted(os.listdir(client.SAMPLES)) and all(s["has_mask"] for s in info["samples"])
  # Samples are served as the files' own bytes (so the page inpaints what the CLI reads).
  sample_bytes = client.read(os.path.join(client.SAMPLES, client.SAMPLE))
  assert client.get(bundled.url + "samples/" + client.SAMPLE)[1] == sample_bytes
  assert client.get(bundled.url + "sample_masks/" + client.SAMPLE)[1] == client.read(
      os.path.join(client.SAMPLE_MASKS, client.SAMPLE))
  # Bound to 127.0.0.1, it answers only requests addressed to it (DNS rebinding).
  port = bundled.httpd.server_address[1]
  assert client.get(bundled.url, headers={"Host": f"localhost:{port}"})[0] == 200
  status, body, _ = client.get(bundled.url + "api/info", headers={"Host": f"attacker.example:{port}"})
  assert status == 403 and b"this server answers only" in body
  for path in ("samples/../../README.md", "samples/%2e%2e/README.md", "samples//etc/passwd", "nope"):
    status, body, _ = client.get(bundled.url + path)
    assert status == 404 and b"not found" in body


# --------------------------------------------------------------------------- equal to the CLI

@pytest.mark.parametrize("name", list(CASES))
def test_page_result_equals_the_cli_png_bit_for_bit(name, bundled, candidates_server, files, cli):
  flags, image, mask, fields = CASES[name]
  server = candidates_server if name == "candidates" else bundled
  status, answer = client.inpaint(server.url, client.read(files[image]), client.read(files[mask]),
                                  name=os.path.basename(files[image]), **fields)
  assert status == 200, answer
  runs, root = cli()
  run = runs[list(CASES).index(name)]
  assert run.returncode == 0, run.stderr[-2000:]
  stem = os.path.splitext(os.path.basename(files[image]))[0]
  expected = tiny_models.read_png(str(root / name / f"{stem}.png"))
  result = client.decode_data_url(answer["inpainted"])
  np.testing.assert_array_equal(result, expected)
  assert result.shape[:2] == expected.shape[:2] == (answer["height"], answer["width"])
  # Eq. 8: every known pixel is the input's (grey input: the file; the JPEG: its PIL "L" conversion).
  with Image.open(files[image]) as pil:
    original = np.asarray(pil.convert("L"))
  hole = tiny_models.read_png(files[mask]) >= 128
  np.testing.assert_array_equal(result[~hole], original[~hole])
  assert np.abs(result[hole].astype(int) - original[hole]).max() > 0  # the hole was filled, not kept
  assert answer["inference_ms"] > 0 and answer["total_ms"] >= answer["inference_ms"]
  assert answer["iterations"] == {"hybrid": 20, "iterative": 30}.get(name)
  if name == "candidates":
    strip = client.decode_data_url(answer["candidates"])
    np.testing.assert_array_equal(strip, tiny_models.read_png(str(root / name / "candidates" / f"{stem}.png")))
    np.testing.assert_array_equal(strip[:, :16], result)  # the best alternative is the result itself
  else:
    assert answer["candidates"] is None


def test_candidates_refused_when_p_has_one_head(bundled, files):
  status, answer = client.inpaint(bundled.url, client.read(files["sample"]), client.read(files["sample_mask"]),
                                  mode="candidates", num_candidates=2)
  assert status == 400 and "needs a K-candidate P" in answer["error"]


def test_candidates_beyond_the_heads_refused(candidates_server, files):
  status, answer = client.inpaint(candidates_server.url, client.read(files["tiny"]), client.read(files["tiny_mask"]),
                                  mode="candidates", num_candidates=4)
  assert status == 400 and answer["error"] == "num_candidates=4: choose 2 to 3 (this P's heads)"


def test_out_of_domain_warning_on_a_photo_not_on_a_sample(bundled, files):
  from skimage import data  # pylint: disable=import-outside-toplevel
  camera = data.camera()[::4, ::4]  # 128 x 128 grey photo: no garment
  status, answer = client.inpaint(bundled.url, client.png(camera), client.png(_box_mask(128, 128, 40, 40, 80, 80)),
                                  name="camera.png")
  assert status == 200 and answer["out_of_domain"].startswith("far from the model's domain"), answer.get("error")
  status, answer = client.inpaint(bundled.url, client.read(files["sample"]), client.read(files["sample_mask"]))
  assert status == 200 and answer["out_of_domain"] == ""


# --------------------------------------------------------------------------- limits and bad content

def test_oversize_upload_is_413_and_the_server_keeps_serving(bundled, files):
  body = json.dumps({"image": "A" * (LIMITS.max_upload_bytes + 10), "mask": ""}).encode()
  status, answer = client.post(bundled.url, body=body)
  assert status == 413
  assert answer["error"] == "upload is 0.3 MB, the limit is 0.25 MB (--max_upload_mb)"
  status, answer = client.inpaint(bundled.url, client.read(files["sample"]), client.read(files["sample_mask"]))
  assert status == 200


def test_image_over_the_pixel_cap_is_413(bundled):
  big = client.png(np.full((201, 200), 90, np.uint8))  # 40,200 px > 40,000; a few hundred bytes as PNG
  status, answer = client.inpaint(bundled.url, big, client.png(_box_mask(201, 200, 5, 5, 50, 50)), name="big.png")
  assert status == 413
  assert answer["error"] == "image big.png: 200x201 is 40,200 pixels, the limit is 40,000"


def _gif():
  import io
  buffer = io.BytesIO()
  Image.fromarray(np.zeros((32, 32), np.uint8)).save(buffer, format="GIF")
  return buffer.getvalue()


def test_bad_content_is_400_with_a_message(bundled, files):
  sample, mask = client.read(files["sample"]), client.read(files["sample_mask"])
  rgb = client.png(np.zeros((32, 32, 3), np.uint8))
  cases = [  # (image, mask, fields, the error)
      (_gif(), mask, {"name": "cat.gif"}, "image cat.gif: not a PNG or JPEG file"),
      (b"hello", mask, {}, "image upload: not a PNG or JPEG file"),
      (sample[:60], mask, {"name": "cut.png"}, "image cut.png: cannot read image"),
      (sample, client.read(files["photo"]), {}, "mask: not a PNG file (white = hole, black = known)"),
      (sample, client.png(np.zeros((16, 16), np.uint8)), {}, "mask: mask is 16x16, image is 32x32"),
      (sample, client.png(np.zeros((32, 32), np.uint8)), {}, "mask: mask has no hole pixels"),
      (rgb, mask, {"name": "rgb.png"}, "image rgb.png: has 3 channels, the model needs 1"),
      (sample, mask, {"mode": "dream"}, "mode=dream: choose one of single, hybrid, candidates, iterative"),
      (sample, mask, {"mode": "iterative", "iterations": 501}, "iterations=501: expected an integer in [1, 500]"),
      (sample, mask, {"seed": "x"}, "seed='x': expected an integer in [0, 2147483647]"),
  ]
  for image, mask_bytes, fields, error in cases:
    status, answer = client.inpaint(bundled.url, image, mask_bytes, **fields)
    assert status == 400 and answer["error"].startswith(error), (error, answer)
    assert bundled.temp_dir not in answer["error"]
  status, answer = client.post(bundled.url, body=json.dumps({"image": "", "mask": ""}).encode(),
                               content_type="text/plain")
  assert status == 400 and answer["error"] == "the request body must be JSON (Content-Type: application/json)"
  for body, error in ((b"not json", "the request body is not JSON"), (b"[1]", "the request body must be a JSON object"),
                      (json.dumps({"image": "@@@", "mask": ""}).encode(), "image: not valid base64"),
                      (json.dumps({"mask": ""}).encode(), "image: missing")):
    status, answer = client.post(bundled.url, body=body)
    assert status == 400 and answer["error"].startswith(error), answer
  # A colour image for the grey model passes with grayscale, as with the CLI's --grayscale.
  status, _ = client.inpaint(bundled.url, rgb, mask, grayscale=True)
  assert status == 200


def test_nothing_written_outside_the_temp_dir_in_process(bundled, watched, files):
  for mode in ("single", "iterative"):
    assert client.inpaint(bundled.url, client.read(files["sample"]), client.read(files["sample_mask"]),
                          mode=mode, iterations=3)[0] == 200
  assert os.listdir(watched["temp_root"]) == [os.path.basename(bundled.temp_dir)]
  assert os.listdir(bundled.temp_dir) == []  # each request's uploads are removed with it
  assert {d: _snapshot(d) for d in watched["before"]} == watched["before"]


def _read_line(process, timeout):
  ready, _, _ = select.select([process.stdout], [], [], timeout)
  return process.stdout.readline() if ready else ""


def test_binary_serves_from_an_empty_folder_and_leaves_nothing(tmp_path):
  """A fresh `python -m binaries.demo` (port 0, run from an empty folder with TMPDIR watched):
  serves a result, stops on SIGTERM with exit 0, and leaves the folder and TMPDIR empty."""
  cwd, temp = tmp_path / "cwd", tmp_path / "tmpdir"
  cwd.mkdir()
  temp.mkdir()
  env = dict(os.environ, TMPDIR=str(temp), PYTHONPATH=tiny_models.REPO, TF_CPP_MIN_LOG_LEVEL="3")
  process = subprocess.Popen(
      [sys.executable, "-m", "binaries.demo", "--port=0", f"--model_dir={client.BUNDLED_MODEL}",
       f"--samples_dir={client.SAMPLES}", f"--sample_masks_dir={client.SAMPLE_MASKS}"],
      cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
  try:
    line = _read_line(process, timeout=120)
    assert line.startswith("serving http://127.0.0.1:"), (line, process.poll())
    url = line.split()[1]
    [served] = os.listdir(temp)  # one folder: the uploads' and TensorFlow autograph's files are inside it
    assert served.startswith("pgi_tf_demo-")
    image = client.read(os.path.join(client.SAMPLES, client.SAMPLE))
    status, answer = client.inpaint(url, image, client.read(os.path.join(client.SAMPLE_MASKS, client.SAMPLE)))
    assert status == 200 and client.decode_data_url(answer["inpainted"]).shape == (32, 32)
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=60)
  finally:
    if process.poll() is None:
      process.kill()
      process.wait()
  assert process.returncode == 0, stderr[-2000:]
  assert "stopped; temp dir removed" in stdout
  assert os.listdir(cwd) == [] and os.listdir(temp) == []


def test_binary_bad_flags_are_one_line_errors(tmp_path):
  busy = socket.socket()
  busy.bind(("127.0.0.1", 0))
  busy.listen()
  port = busy.getsockname()[1]
  try:
    runs = tiny_models.run_binary_cases("binaries.demo", [
        [f"--port={port}", f"--model_dir={client.BUNDLED_MODEL}", "--nowarm_up"],
        ["--max_upload_mb=0"],
        ["--model_dir=/no/such/model"],
        ["--samples_dir=/no/such/samples"],
    ], workdir=str(tmp_path))
  finally:
    busy.close()
  errors = [r.stderr.strip().splitlines()[-1] if r.stderr.strip() else "" for r in runs]
  assert [r.returncode for r in runs] == [2, 2, 2, 2], errors
  assert errors[0] == f"error: --port={port}: cannot listen there (Address already in use)"
  assert errors[1].startswith("error: flag --max_upload_mb=0.0: must be > 0")
  assert errors[2] == "error: --model_dir=/no/such/model: no such directory"
  assert errors[3] == "error: --samples_dir=/no/such/samples: no such directory"


def test_request_fields_decode_like_the_page_sends_them():
  """Unit: base64 and data URLs decode the same; PNG bytes round-trip; names never become paths."""
  data = client.png(np.arange(12, dtype=np.uint8).reshape(3, 4))
  plain = base64.b64encode(data).decode()
  assert server_lib.decode_upload(plain, field="image") == server_lib.decode_upload(
      "data:image/png;base64," + plain, field="image") == data
  pixels = np.arange(24, dtype=np.uint8).reshape(2, 4, 3)
  np.testing.assert_array_equal(client.decode_png(server_lib.png_bytes(pixels)), pixels)
  assert server_lib.display_name("../../etc/passwd") == "passwd"
  assert server_lib.display_name(None) == "upload"
