"""Reproducible runs (issue 14): config.seed seeds everything and, under --deterministic, the same
command gives bit-identical exports, also when the run is SIGKILLed at a random step and resumed.

The binaries run as subprocesses (op determinism is process-wide and must not leak into the rest
of the suite). The uninterrupted reference and the run to be killed start together, to halve the
wall time on two cores.
"""

import json
import os
import random
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from pgi_tf import hub
from pgi_tf.data import masks
from pgi_tf.data import pipelines

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NUM_STEPS = 16
# Checkpoint every 2 steps and sample never: a kill can land at any even step.
COMMON = ["--deterministic", f"--config.train.num_steps={NUM_STEPS}", "--config.train.checkpoint_every=2",
          "--config.train.sample_every=100000"]
TRAINERS = {
    "gan": dict(binary="binaries.train_gan", export="generator",
                args=["--config=configs/fashion_mnist32.py:smoke", "--config.data.resolution=16"]),
    "prior": dict(binary="binaries.train_prior", export="prior_predictor",
                  args=["--config=configs/fashion_mnist32_prior.py:smoke"]),
}
_LATEST = re.compile(r'^model_checkpoint_path: ".*ckpt-(\d+)"', re.MULTILINE)


# --------------------------------------------------------------------------- running the binaries

def _command(trainer: str, workdir, *extra: str) -> list[str]:
  spec = TRAINERS[trainer]
  return [sys.executable, "-m", spec["binary"], *spec["args"], *COMMON, f"--workdir={workdir}", *extra]


def _start(command, log_path) -> subprocess.Popen:
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
  log = open(log_path, "w")  # closed with the process: the child holds its own descriptor
  try:
    return subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
  finally:
    log.close()


def _summary(process: subprocess.Popen, log_path, *, timeout: float = 240) -> dict:
  """The JSON summary a finished binary printed last."""
  code = process.wait(timeout=timeout)
  with open(log_path) as f:
    output = f.read()
  assert code == 0, output[-3000:]
  return json.loads([line for line in output.splitlines() if line.startswith("{")][-1])


def _latest_step(workdir) -> int:
  try:
    with open(os.path.join(workdir, "checkpoints", "checkpoint")) as f:
      match = _LATEST.search(f.read())
  except FileNotFoundError:
    return 0
  return int(match.group(1)) if match else 0


def _kill_after_checkpoint(process: subprocess.Popen, workdir, at_step: int, *, timeout: float = 180) -> None:
  """SIGKILL as soon as the checkpoint of `at_step` (or a later one) is written."""
  deadline = time.time() + timeout
  while time.time() < deadline and process.poll() is None and _latest_step(workdir) < at_step:
    time.sleep(0.02)
  finished = process.poll() is not None
  process.send_signal(signal.SIGKILL)
  process.wait()
  assert not finished, f"the run ended (code {process.returncode}) before it could be killed at step {at_step}"


def _exported_outputs(trainer: str, workdir) -> np.ndarray:
  """The export's outputs on fixed inputs: G(z) for the GAN, P(I_d, M) for the prior."""
  path = os.path.join(str(workdir), "export", TRAINERS[trainer]["export"])
  rng = np.random.default_rng(123)
  if trainer == "gan":
    generator = hub.load_generator(path)
    z = rng.uniform(-1, 1, (4, generator.metadata["z_dim"])).astype(np.float32)
    return generator(tf.constant(z)).numpy()
  predictor = hub.load_prior_predictor(path)
  side, channels = predictor.metadata["resolution"], predictor.metadata["channels"]
  images = rng.uniform(-1, 1, (4, side, side, channels)).astype(np.float32)
  holes = (rng.uniform(size=(4, side, side, 1)) < 0.3).astype(np.float32)
  return predictor([tf.constant((1 - holes) * images), tf.constant(holes)]).numpy()


def _runs(trainer: str, root, *, twice: bool) -> dict:
  """Exports of: the reference run; the same command killed at a random checkpoint and rerun;
  the reference with --config.seed=1; with `twice`, the reference command once more."""
  kill_at = random.Random().randrange(2, NUM_STEPS // 2 + 1, 2)  # "random step": any of 2, 4, 6, 8
  names = ("reference", "resumed", "other_seed") + (("again",) if twice else ())
  dirs = {name: root / trainer / name for name in names}
  logs = {name: str(root / f"{trainer}_{name}.log") for name in (*names, "killed")}
  started = []

  def start(name, *extra, log=None):
    started.append(_start(_command(trainer, dirs[name], *extra), logs[log or name]))
    return started[-1]

  try:
    reference, victim = start("reference"), start("resumed", log="killed")
    _kill_after_checkpoint(victim, dirs["resumed"], kill_at)
    result = {"kill_at": kill_at, "killed_at": _latest_step(dirs["resumed"])}
    resumed = start("resumed")  # the same command again, to completion
    result["reference_summary"] = _summary(reference, logs["reference"])
    others = {"other_seed": start("other_seed", "--config.seed=1")}
    result["resumed_summary"] = _summary(resumed, logs["resumed"])
    if twice:
      others["again"] = start("again")
    for name, process in others.items():
      _summary(process, logs[name])
  finally:
    for process in started:
      if process.poll() is None:
        process.kill()
        process.wait()
  result["outputs"] = {name: _exported_outputs(trainer, path) for name, path in dirs.items()}
  return result


@pytest.fixture(scope="module")
def gan_runs(tmp_path_factory):
  return _runs("gan", tmp_path_factory.mktemp("resume_determinism"), twice=True)


@pytest.fixture(scope="module")
def prior_runs(tmp_path_factory):
  return _runs("prior", tmp_path_factory.mktemp("resume_determinism"), twice=False)


# --------------------------------------------------------------------------- the kill tests

@pytest.mark.parametrize("runs_fixture", ["gan_runs", "prior_runs"])
def test_killed_and_resumed_run_is_bit_identical_to_an_uninterrupted_one(request, runs_fixture):
  runs = request.getfixturevalue(runs_fixture)
  summary, message = runs["resumed_summary"], f"killed at step {runs['killed_at']} (aimed at {runs['kill_at']})"
  # Really killed mid-run, and resumed from there rather than started over.
  assert 0 < summary["resumed_from_step"] < NUM_STEPS, message
  assert summary["resumed_from_step"] == runs["killed_at"] and summary["step"] == NUM_STEPS, message
  assert runs["reference_summary"]["resumed_from_step"] == 0
  np.testing.assert_array_equal(runs["outputs"]["resumed"], runs["outputs"]["reference"], err_msg=message)


@pytest.mark.parametrize("runs_fixture", ["gan_runs", "prior_runs"])
def test_another_seed_gives_another_model(request, runs_fixture):
  """So the equalities above are not vacuous: config.seed reaches the trained weights."""
  outputs = request.getfixturevalue(runs_fixture)["outputs"]
  assert np.mean(np.abs(outputs["other_seed"] - outputs["reference"])) > 1e-4


def test_same_command_twice_gives_the_same_model(gan_runs):
  np.testing.assert_array_equal(gan_runs["outputs"]["again"], gan_runs["outputs"]["reference"])


# --------------------------------------------------------------------------- the streams a resume restarts

@pytest.mark.parametrize("count,batch,shuffle,repeat", [(10, 3, True, True), (9, 16, True, True),
                                                        (10, 4, False, True), (10, 3, True, False)])
def test_example_order_started_at_any_position_continues_the_full_stream(count, batch, shuffle, repeat):
  full = [int(i) for i in pipelines.example_order(count, shuffle=shuffle, repeat=repeat, seed=5).take(45)]
  for start in (1, 7, count, 2 * count + 3):
    tail = pipelines.example_order(count, shuffle=shuffle, repeat=repeat, seed=5, start=start)
    assert [int(i) for i in tail.take(45 - start)] == full[start:], start
  if shuffle and repeat:  # a fresh permutation every epoch, and the seed matters
    assert sorted(full[:count]) == list(range(count)) and full[:count] != full[count:2 * count]
    other = [int(i) for i in pipelines.example_order(count, shuffle=True, repeat=True, seed=6).take(45)]
    assert other != full


@pytest.mark.parametrize("specs", [masks.MaskSpec(kind="ratio", hole_ratio=0.3),
                                   [masks.MaskSpec(kind="ratio", hole_ratio=r) for r in (0.1, 0.4)]])
def test_mask_stream_started_at_any_mask_continues_the_full_stream(monkeypatch, specs):
  monkeypatch.setattr(masks, "MASK_BLOCK", 8)  # small blocks, so starts inside and across blocks are cheap

  def stream(start, count):
    return np.stack([m.numpy() for m in masks.make_mask_dataset(
        specs, height=16, width=16, seed=3, chunk_size=3, start=start).take(count)])

  full = stream(0, 30)
  for start in (1, 7, 8, 9, 21):
    np.testing.assert_array_equal(stream(start, 30 - start), full[start:], err_msg=f"start={start}")
  assert len({m.tobytes() for m in full}) > 5  # masks differ within and across blocks
