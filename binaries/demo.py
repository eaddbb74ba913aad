r"""A local demo page: pick a sample or upload an image, brush the hole, inpaint, see the result.

  python -m binaries.demo                          # bundled model, http://127.0.0.1:8765/
  python -m binaries.demo --port=8765 --model_dir=runs/fmnist32_prior/export

Modes: single (Eq. 8, one pass), hybrid, K candidates (only with a K-candidate P, e.g.
configs/fashion_mnist32_prior_candidates.py; otherwise shown disabled with a note) and iterative
(Yeh et al.). The page's result equals `binaries/inpaint.py`'s for the same image and mask.
Binds 127.0.0.1 unless --host says otherwise; uploads are capped (--max_upload_mb, HTTP 413) and
so are pixels (--max_pixels); writes nothing outside its temp dir, removed at exit. Ctrl-C stops it.
"""

from binaries import _main  # noqa: F401

import errno
import ipaddress
import os
import shutil
import signal
import sys
import tempfile

from absl import flags
from absl import logging

from binaries import _model_flags
from pgi_tf import bundled
from pgi_tf import structural
from pgi_tf.demo import pipeline
from pgi_tf.demo import server as server_lib
from pgi_tf.errors import InputError

_HOST = flags.DEFINE_string("host", "127.0.0.1", "Address to bind; 0.0.0.0 exposes the page to the network.")
_PORT = flags.DEFINE_integer("port", 8765, "Port (0: any free one; the URL is printed).", lower_bound=0,
                             upper_bound=65535)
_MAX_UPLOAD_MB = flags.DEFINE_float("max_upload_mb", 8.0, "Largest request body (image + mask, base64) in MB; "
                                    "larger ones get HTTP 413.")
flags.register_validator("max_upload_mb", lambda v: v > 0, "must be > 0")
_MAX_PIXELS = flags.DEFINE_integer("max_pixels", 2048 * 2048, "Largest image (width x height) accepted.",
                                   lower_bound=1)
_MAX_ITERATIONS = flags.DEFINE_integer("max_iterations", 5000, "Most search steps a request may ask for.",
                                       lower_bound=1)
_SAMPLES_DIR = flags.DEFINE_string("samples_dir", "hub_modules/samples/images", "Images the page offers "
                                   "('' = none).")
_SAMPLE_MASKS_DIR = flags.DEFINE_string("sample_masks_dir", "hub_modules/samples/masks", "Their masks "
                                        "(same relative path, .png), offered as a starting hole.")
_STRUCTURAL_PRIOR = flags.DEFINE_enum(
    "structural_prior", "auto", ["auto", *structural.NAMES],
    "M_z (none) or M_{z+S} with this structural prior; auto: the model's own (bundled M_z without --model_dir).")
_LABEL = flags.DEFINE_string("label", "auto", "Class-conditional BigGAN: a class index, or auto (the class "
                             "predictor's).")
_WARM_UP = flags.DEFINE_boolean("warm_up", True, "Trace each mode once at start, so the first time shown is "
                                "the inference's, not tracing's.")


def _stop_on_sigterm(signum, frame):
  del signum, frame
  raise KeyboardInterrupt


def main(argv):
  del argv
  # Every file this process writes goes under one temp dir, removed at exit: the uploads, and also
  # the sources TensorFlow's autograph generates when it traces (written through `tempfile`).
  temp_dir = tempfile.mkdtemp(prefix="pgi_tf_demo-")
  tempfile.tempdir = temp_dir
  try:
    serve(temp_dir)
  finally:
    shutil.rmtree(temp_dir, ignore_errors=True)
  sys.stdout.write("stopped; temp dir removed\n")


def serve(temp_dir: str) -> None:
  try:
    host_ip = ipaddress.ip_address(_HOST.value)
  except ValueError:
    host_ip = None
  samples = {name: bundled.resolve(holder.value) for name, holder in (("samples_dir", _SAMPLES_DIR),
                                                                       ("sample_masks_dir", _SAMPLE_MASKS_DIR))}
  for name, path in samples.items():
    if path and not flags.FLAGS[name].using_default_value and not os.path.isdir(path):
      raise InputError(f"--{name}={path}: no such directory")
  models = _model_flags.load_models(structural_prior=_STRUCTURAL_PRIOR.value, need_prior_predictor=False)
  model = pipeline.DemoModel(models, label=_LABEL.value, warm_up=_WARM_UP.value)
  limits = server_lib.Limits(max_upload_bytes=int(_MAX_UPLOAD_MB.value * 2**20), max_pixels=_MAX_PIXELS.value,
                             max_iterations=_MAX_ITERATIONS.value)
  try:
    server = server_lib.DemoServer(model, host=_HOST.value, port=_PORT.value,
                                   samples_dir=samples["samples_dir"], sample_masks_dir=samples["sample_masks_dir"],
                                   limits=limits, temp_root=temp_dir)
  except OSError as e:  # port in use, an address this machine does not have, a name that does not resolve
    flag = "--port" if e.errno == errno.EADDRINUSE else "--host"
    raise InputError(f"{flag}={_PORT.value if flag == '--port' else _HOST.value}: cannot listen there "
                     f"({e.strerror or e})") from None
  if host_ip is None or not host_ip.is_loopback:
    logging.warning("--host=%s: the page is reachable from other machines", _HOST.value)
  signal.signal(signal.SIGTERM, _stop_on_sigterm)
  print(f"serving {server.url} (Ctrl-C to stop)", flush=True)
  try:
    server.serve_forever()
  except KeyboardInterrupt:
    pass
  finally:
    server.close()


if __name__ == "__main__":
  _main.run(main)
