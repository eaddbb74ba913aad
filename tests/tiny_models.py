"""Tiny frozen GANs and prior predictors exported as real hub modules, for stage-2 tests.

Everything is built with the project's own factories and exporters (pgi_tf.models.dcgan,
pgi_tf.hub), so the tests exercise the real loading path. Sizes: 16 px, 1 channel, z_dim 8,
widths 8 (G's last layer scaled by OUTPUT_GAIN); exporting one model directory takes about a
second. `run_binary_cases` runs a binary (`python -m ...`) for many argument lists at the cost
of one TensorFlow import.

Each test file asks for the directories through a session-scoped fixture of its own:

  @pytest.fixture(scope="session")
  def tiny(tmp_path_factory):
    return tiny_models.shared_model_dirs(tmp_path_factory)

`shared_model_dirs` caches per pytest session (keyed by the session's base temp dir), so the
modules are exported once however many test files use them.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys

import keras
import numpy as np
from PIL import Image

from pgi_tf import hub
from pgi_tf.models import dcgan
from pgi_tf.models import prior_predictor as prior_lib

RESOLUTION = 16
CHANNELS = 1
Z_DIM = 8
GAN_CONFIG = dcgan.DCGANConfig(resolution=RESOLUTION, channels=CHANNELS, z_dim=Z_DIM,
                               generator_base_channels=8, discriminator_base_channels=8)
OUTPUT_GAIN = 20.0
PRIOR_CONFIG = prior_lib.PriorPredictorConfig(resolution=RESOLUTION, channels=CHANNELS, z_dim=Z_DIM,
                                              base_channels=8)


@dataclasses.dataclass(frozen=True)
class TinyModelDirs:
  """Paths of exported tiny modules.

  model_dir: generator/, discriminator/, prior_predictor/ (P exported for that G).
  other_model_dir: generator/, discriminator/, prior_predictor/ of a second, differently
    initialised GAN: its P was exported for ITS G, so it must be refused with model_dir's G.
  """
  model_dir: str
  other_model_dir: str

  @property
  def generator(self) -> str:
    return os.path.join(self.model_dir, "generator")

  @property
  def discriminator(self) -> str:
    return os.path.join(self.model_dir, "discriminator")

  @property
  def prior_predictor(self) -> str:
    return os.path.join(self.model_dir, "prior_predictor")

  @property
  def other_generator(self) -> str:
    return os.path.join(self.other_model_dir, "generator")

  @property
  def other_prior_predictor(self) -> str:
    return os.path.join(self.other_model_dir, "prior_predictor")


def export_tiny_gan(model_dir: str, *, seed: int) -> tuple[keras.Model, keras.Model]:
  """Builds a randomly initialised tiny DCGAN and exports model_dir/{generator,discriminator}."""
  keras.utils.set_random_seed(seed)
  generator, discriminator = dcgan.build_gan(GAN_CONFIG)
  # A freshly initialised DCGAN draws near-constant grey (std ~0.02): scaling the last layer
  # makes the images span much of [-1, 1] and depend visibly on z, like a trained G's, so
  # searches over z have something to find.
  to_image = generator.get_layer(f"to_image_{RESOLUTION}")
  kernel, bias = to_image.get_weights()
  to_image.set_weights([kernel * OUTPUT_GAIN, bias])
  metadata = hub.gan_metadata(resolution=RESOLUTION, channels=CHANNELS, z_dim=Z_DIM)
  hub.export_generator(generator, os.path.join(model_dir, "generator"), metadata=metadata)
  hub.export_discriminator(discriminator, os.path.join(model_dir, "discriminator"), metadata=metadata)
  return generator, discriminator


def build_tiny_prior_predictor(*, seed: int) -> keras.Model:
  keras.utils.set_random_seed(seed)
  return prior_lib.build_prior_predictor(PRIOR_CONFIG)


def export_tiny_prior_predictor(predictor: keras.Model, path: str, *, generator_path: str,
                                **extra) -> None:
  """Exports P with the metadata that ties it to the generator at generator_path."""
  metadata = hub.prior_predictor_metadata(generator_path=generator_path,
                                          generator_metadata=hub.read_metadata(generator_path),
                                          extra=extra)
  hub.export_prior_predictor(predictor, path, metadata=metadata)


def export_model_dir(model_dir: str, *, seed: int) -> None:
  """model_dir/{generator, discriminator, prior_predictor}: one complete tiny model set."""
  export_tiny_gan(model_dir, seed=seed)
  export_tiny_prior_predictor(build_tiny_prior_predictor(seed=seed + 100),
                              os.path.join(model_dir, "prior_predictor"),
                              generator_path=os.path.join(model_dir, "generator"))


_CACHE: dict[str, TinyModelDirs] = {}


def shared_model_dirs(tmp_path_factory) -> TinyModelDirs:
  """The tiny model directories of this pytest session, exported on first use."""
  key = str(tmp_path_factory.getbasetemp())
  if key not in _CACHE:
    root = tmp_path_factory.mktemp("tiny_models")
    dirs = TinyModelDirs(model_dir=str(root / "model"), other_model_dir=str(root / "other_model"))
    export_model_dir(dirs.model_dir, seed=0)
    export_model_dir(dirs.other_model_dir, seed=1)
    _CACHE[key] = dirs
  return _CACHE[key]


def write_png(path: str, pixels: np.ndarray) -> str:
  """uint8 [H, W] or [H, W, C] (C = 1 or 3) -> PNG, creating parent folders."""
  os.makedirs(os.path.dirname(path), exist_ok=True)
  pixels = np.asarray(pixels, np.uint8)
  if pixels.ndim == 3 and pixels.shape[-1] == 1:
    pixels = pixels[..., 0]
  Image.fromarray(pixels).save(path, format="PNG")
  return path


def read_png(path: str) -> np.ndarray:
  """PNG -> uint8 [H, W] (grey) or [H, W, 3]."""
  with Image.open(path) as image:
    return np.asarray(image)


# --------------------------------------------------------------------------- binaries

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclasses.dataclass(frozen=True)
class BinaryRun:
  """What `python -m <module> <args>` did: exit code, stdout and stderr."""
  args: tuple[str, ...]
  returncode: int
  stdout: str
  stderr: str


# Runs `python -m <module> <args>` once per case, paying for the TensorFlow import once: the
# parent imports the heavy libraries (no TF op runs, so no TF thread exists yet) and forks one
# child per case; the child runs the module as __main__ exactly as `python -m` does
# (runpy.run_module(..., alter_sys=True)), with its own argv, stdout, stderr and exit code,
# and defines the absl flags afresh. `parallel` children run at a time.
_FORK_RUNNER = r"""
import json, os, runpy, signal, sys, traceback
import tensorflow, tensorflow_hub, keras, ml_collections.config_flags  # noqa: F401
import pgi_tf.inference.loading, pgi_tf.train.prior  # noqa: F401
module, cases_path, parallel = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(cases_path) as f:
  cases = json.load(f)

def start(case):
  pid = os.fork()
  if pid:
    return pid
  os.dup2(os.open(case["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 1)
  os.dup2(os.open(case["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 2)
  code = 1
  if case.get("timeout"):
    signal.alarm(int(case["timeout"]))  # a hung case dies of SIGALRM: exit code -14
  try:
    sys.argv = [module, *case["args"]]
    runpy.run_module(module, run_name="__main__", alter_sys=True)
    code = 0
  except SystemExit as e:
    code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
  except BaseException:
    traceback.print_exc()
  sys.stdout.flush()
  sys.stderr.flush()
  os._exit(code)

codes, running, pending = {}, {}, list(enumerate(cases))
while pending or running:
  while pending and len(running) < parallel:
    index, case = pending.pop(0)
    running[start(case)] = index
  pid, status = os.wait()
  codes[running.pop(pid)] = os.waitstatus_to_exitcode(status)
print(json.dumps([codes[i] for i in range(len(cases))]))
"""


class PendingBinaryCases:
  """Binary runs started by `start_binary_cases`; `results()` waits for them."""

  def __init__(self, module: str, arg_lists: list[list[str]], *, workdir: str, parallel: int,
               timeout_per_case: float | None = None):
    os.makedirs(workdir, exist_ok=True)
    self.cases = [{"args": list(args), "stdout": os.path.join(workdir, f"case{i}.out"),
                   "stderr": os.path.join(workdir, f"case{i}.err"), "timeout": timeout_per_case}
                  for i, args in enumerate(arg_lists)]
    cases_path = os.path.join(workdir, "cases.json")
    with open(cases_path, "w") as f:
      json.dump(self.cases, f)
    self.process = subprocess.Popen(
        [sys.executable, "-c", _FORK_RUNNER, module, cases_path, str(parallel)], cwd=REPO,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True)
    self._runs: list[BinaryRun] | None = None

  def stop(self) -> None:
    """Ends the runner and its forked children (its own process group) if still running."""
    if self.process.poll() is None:
      os.killpg(self.process.pid, signal.SIGKILL)
      self.process.wait()

  def results(self, *, timeout: float = 300) -> list[BinaryRun]:
    if self._runs is None:
      try:
        stdout, stderr = self.process.communicate(timeout=timeout)
      except subprocess.TimeoutExpired:
        self.stop()
        raise
      assert self.process.returncode == 0, stderr[-3000:]
      codes = json.loads(stdout.strip().splitlines()[-1])
      self._runs = []
      for case, code in zip(self.cases, codes):
        with open(case["stdout"]) as out, open(case["stderr"]) as err:
          self._runs.append(BinaryRun(args=tuple(case["args"]), returncode=code, stdout=out.read(),
                                      stderr=err.read()))
    return self._runs


def start_binary_cases(module: str, arg_lists: list[list[str]], *, workdir: str,
                       parallel: int = 2, timeout_per_case: float | None = None) -> PendingBinaryCases:
  """Starts `python -m module *args` (from the repo root) for each args in arg_lists in the
  background (see _FORK_RUNNER), so a test can do other work meanwhile."""
  return PendingBinaryCases(module, arg_lists, workdir=workdir, parallel=parallel,
                            timeout_per_case=timeout_per_case)


def run_binary_cases(module: str, arg_lists: list[list[str]], *, workdir: str, parallel: int = 2,
                     timeout: float = 300) -> list[BinaryRun]:
  """`start_binary_cases(...).results()`: runs them and waits."""
  return start_binary_cases(module, arg_lists, workdir=workdir, parallel=parallel).results(timeout=timeout)
