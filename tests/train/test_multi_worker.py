"""A two-worker MultiWorkerMirroredStrategy job on 127.0.0.1: both workers finish with the same
weights, and a shared workdir holds only the chief's files (pgi_tf/train/runtime.py's
CheckpointKeeper: other workers save into a temporary folder they delete, as TensorFlow's
multi-worker tutorial does)."""

import json
import os
import re
import socket
import subprocess
import sys

import numpy as np
import tensorflow as tf

from pgi_tf import hub
from tests.tiny_models import REPO

_DIGEST = re.compile(r"train_gan: step (\d+), weights sha256 ([0-9a-f]{64})")


def _free_ports(count: int) -> list[int]:
  """Ports the kernel says are free now (bound to port 0, then released)."""
  sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
  try:
    for s in sockets:
      s.bind(("127.0.0.1", 0))
    return [s.getsockname()[1] for s in sockets]
  finally:
    for s in sockets:
      s.close()


def _start_worker(index: int, cluster: list[str], workdir: str, log_dir: str) -> subprocess.Popen:
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", TF_CONFIG=json.dumps(
      {"cluster": {"worker": cluster}, "task": {"type": "worker", "index": index}}))
  out = open(os.path.join(log_dir, f"worker{index}.out"), "w")
  err = open(os.path.join(log_dir, f"worker{index}.err"), "w")
  return subprocess.Popen(
      [sys.executable, "-m", "binaries.train_gan", "--config=configs/fashion_mnist32.py:smoke",
       f"--workdir={workdir}", "--distribution=multi_worker", "--config.train.num_steps=4",
       "--config.train.batch_size=8", "--config.train.checkpoint_every=2", "--config.train.summary_every=2",
       "--config.train.sample_every=4", "--config.train.sample_grid_size=4"],
      cwd=REPO, env=env, stdout=out, stderr=err, start_new_session=True)


def _all_paths(root: str) -> list[str]:
  return sorted(os.path.relpath(os.path.join(folder, name), root)
                for folder, dirs, names in os.walk(root) for name in dirs + names)


def test_two_local_workers_agree_and_only_the_chief_keeps_files(tmp_path):
  workdir, logs = str(tmp_path / "shared_workdir"), tmp_path / "logs"  # one workdir: a shared file system
  logs.mkdir()
  cluster = [f"127.0.0.1:{port}" for port in _free_ports(2)]
  workers = [_start_worker(i, cluster, workdir, str(logs)) for i in range(2)]
  try:
    codes = [w.wait(timeout=150) for w in workers]
  finally:
    for w in workers:
      if w.poll() is None:
        os.killpg(w.pid, 9)
        w.wait()
  stdout = [(logs / f"worker{i}.out").read_text() for i in range(2)]
  stderr = [(logs / f"worker{i}.err").read_text() for i in range(2)]
  assert codes == [0, 0], "\n".join(s[-2000:] for s in stderr)

  # Same weights on both workers: the digest of the trainable weights, optimizer state, step and
  # noise and BatchNorm's moving statistics (synchronized across workers) after step 4 ...
  digests = [_DIGEST.findall(s) for s in stderr]
  assert digests[0] and digests[0] == digests[1], digests
  assert digests[0][-1][0] == "4"
  # ... and the chief's export holds what its last checkpoint holds (the digest is of those).
  results = [json.loads(s.strip().splitlines()[-1]) for s in stdout]
  assert results[0]["step"] == results[1]["step"] == 4
  assert "export_dir" in results[0] and "export_dir" not in results[1] and "samples" not in results[1]
  checkpoint = tf.train.load_checkpoint(os.path.join(workdir, "checkpoints", "ckpt-4"))
  generator = hub.load_generator(os.path.join(workdir, "export", "generator"))
  kernels = sorted(v.numpy().tobytes() for v in generator.module_variables if v.shape.rank == 4)
  saved = sorted(checkpoint.get_tensor(name).tobytes() for name, shape in tf.train.list_variables(
      os.path.join(workdir, "checkpoints", "ckpt-4")) if len(shape) == 4
      and name.startswith("generator_optimizer/_trainable_variables/"))  # G's kernels, as Keras 3 tracks them
  assert kernels and kernels == saved

  # The non-chief saved at steps 2 and 4 into its own temporary folder and removed it each time.
  assert stderr[1].count(".worker_1_tmp") == 2 and ".worker_" not in stderr[0]
  paths = _all_paths(workdir)
  assert not [p for p in paths if ".worker_" in p or ".tmp-" in p], paths
  checkpoints = sorted(os.listdir(os.path.join(workdir, "checkpoints")))
  assert checkpoints == ["checkpoint", "ckpt-2.data-00000-of-00001", "ckpt-2.index", "ckpt-4.data-00000-of-00001",
                         "ckpt-4.index", "config_fingerprint.json"]
  assert len(os.listdir(os.path.join(workdir, "tensorboard"))) == 1  # the chief's event file only
  assert sorted(os.listdir(os.path.join(workdir, "samples"))) == ["samples_0000004.png"]
  assert np.isfinite(results[0]["generator_loss"])
