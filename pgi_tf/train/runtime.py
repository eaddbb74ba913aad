"""What every trainer shares: distribution strategy, checkpoints with resume, summaries.

Kept apart from the trainers so each trainer reads as one linear story (style note 8).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, Mapping

import tensorflow as tf
import tqdm

from pgi_tf.errors import InputError

STRATEGIES = ("default", "mirrored", "multi_worker")


# --------------------------------------------------------------------------- distribution

_STRATEGIES: dict[str, tf.distribute.Strategy] = {}


def make_strategy(name: str) -> tf.distribute.Strategy:
  """tf.distribute strategy by name.

  default: one device. mirrored: all local GPUs (or CPUs when there are none; tests split
  the CPU into two logical devices). multi_worker: MultiWorkerMirroredStrategy, cluster
  from the TF_CONFIG environment variable, as on a multi-machine GPU job.
  """
  if name == "default":
    return tf.distribute.get_strategy()
  # One strategy object per process: two MirroredStrategy objects over the same devices can
  # give colliding collective-op instance keys (seen on CPU: "Shape mismatch in the collective").
  if name in _STRATEGIES:
    return _STRATEGIES[name]
  if name == "mirrored":
    gpus = tf.config.list_logical_devices("GPU")
    devices = [d.name for d in gpus] or [d.name for d in tf.config.list_logical_devices("CPU")]
    _STRATEGIES[name] = tf.distribute.MirroredStrategy(devices)
    return _STRATEGIES[name]
  if name == "multi_worker":
    _STRATEGIES[name] = tf.distribute.MultiWorkerMirroredStrategy()
    return _STRATEGIES[name]
  raise InputError(f"--distribution={name}: unknown strategy, choose one of {', '.join(STRATEGIES)}")


# --------------------------------------------------------------------------- checkpoints

FINGERPRINT_FILENAME = "config_fingerprint.json"


class CheckpointKeeper:
  """tf.train.CheckpointManager plus a guard against resuming another config.

  TF writes a checkpoint's data and index first and then replaces the small `checkpoint`
  state file with an atomic rename, so after a kill `latest_checkpoint` always names a
  complete checkpoint. The fingerprint (the config fields that fix variable shapes and
  the game) is written next to the checkpoints; a resume with a different one is refused.
  """

  def __init__(self, directory: str, *, fingerprint: Mapping[str, Any], max_to_keep: int = 3,
               flag: str = "--workdir", **trackables):
    self.directory = directory
    os.makedirs(directory, exist_ok=True)
    self.fingerprint = json.loads(json.dumps(dict(fingerprint), sort_keys=True, default=str))
    self.checkpoint = tf.train.Checkpoint(**trackables)
    self.manager = tf.train.CheckpointManager(self.checkpoint, directory, max_to_keep=max_to_keep)
    self._check_fingerprint(flag)

  def _check_fingerprint(self, flag: str) -> None:
    path = os.path.join(self.directory, FINGERPRINT_FILENAME)
    if self.manager.latest_checkpoint and os.path.isfile(path):
      with open(path) as f:
        saved = json.load(f)
      differing = sorted(k for k in set(saved) | set(self.fingerprint)
                         if saved.get(k) != self.fingerprint.get(k))
      if differing:
        details = ", ".join(f"{k}: checkpoint {saved.get(k)!r} vs config {self.fingerprint.get(k)!r}"
                            for k in differing[:3])
        raise InputError(f"{flag}={self.directory}: holds checkpoints of another config ({details}); "
                         "use a new --workdir or the original config")
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
      json.dump(self.fingerprint, f, indent=2, sort_keys=True)
    os.replace(tmp, path)

  def restore_latest(self) -> str | None:
    """Restores the newest checkpoint, if any; returns its path."""
    latest = self.manager.latest_checkpoint
    if latest:
      try:
        self.checkpoint.restore(latest).assert_existing_objects_matched()
      except (tf.errors.OpError, AssertionError, ValueError) as e:
        raise InputError(f"{latest}: cannot restore checkpoint ({type(e).__name__}: "
                         f"{str(e).splitlines()[0][:200]})") from None
    return latest

  def save(self, step: int) -> str:
    return self.manager.save(checkpoint_number=step)


# --------------------------------------------------------------------------- summaries

class Summaries:
  """TensorBoard scalars and images under workdir/tensorboard (chief worker only)."""

  def __init__(self, workdir: str, *, enabled: bool = True):
    self.enabled = enabled
    self.writer = (tf.summary.create_file_writer(os.path.join(workdir, "tensorboard"))
                   if enabled else tf.summary.create_noop_writer())

  def scalars(self, step: int, values: Mapping[str, float]) -> None:
    with self.writer.as_default(step=step):
      for name, value in values.items():
        tf.summary.scalar(name, value)

  def image(self, step: int, name: str, image_uint8) -> None:
    with self.writer.as_default(step=step):
      tf.summary.image(name, tf.convert_to_tensor(image_uint8)[None])

  def flush(self) -> None:
    self.writer.flush()


def progress_bar(*, total: int, initial: int, description: str) -> tqdm.tqdm:
  """A progress bar on stderr; quiet (mininterval 30 s) when stderr is not a terminal."""
  interactive = sys.stderr.isatty()
  return tqdm.tqdm(total=total, initial=initial, desc=description, unit="step",
                   dynamic_ncols=True, mininterval=0.5 if interactive else 30.0, file=sys.stderr)


def is_chief(strategy: tf.distribute.Strategy) -> bool:
  """Only the chief writes summaries, grids and exports in a multi-worker job."""
  resolver = getattr(strategy, "cluster_resolver", None)
  if resolver is None or not resolver.cluster_spec().as_dict():
    return True
  return resolver.task_type in ("chief", None) or (
      resolver.task_type == "worker" and resolver.task_id == 0)
