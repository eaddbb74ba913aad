"""What every trainer shares: distribution strategy, checkpoints with resume, summaries.

Kept apart from the trainers so each trainer reads as one linear story (style note 8).
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import time
from typing import Any, Callable, Mapping

import numpy as np
import tensorflow as tf

from pgi_tf import files
from pgi_tf import visualize
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


def start_run(train_config, workdir: str, *, seed: int) -> tuple[tf.distribute.Strategy, bool, int]:
  """What every trainer does first: (strategy from train_config.distribution, whether this task
  is the chief, the global batch train_config.batch_size checked to split evenly over the
  replicas); creates workdir and seeds Python, numpy, TensorFlow and Keras with `seed`.

  Seeding here, before any model is built, makes weight initialisation a function of
  config.seed; with --deterministic (op determinism) the same command gives the same model.
  The rest of a run's randomness must be checkpointed (tf.random.Generator) or a function of
  (seed, step) (the data and mask streams, started at the restored step), so that a resumed
  run matches an uninterrupted one too."""
  seed_everything(seed)
  strategy = make_strategy(train_config.distribution)
  global_batch = train_config.batch_size
  if global_batch % strategy.num_replicas_in_sync:
    raise InputError(f"--config.train.batch_size={global_batch}: must be divisible by the "
                     f"{strategy.num_replicas_in_sync} replicas")
  os.makedirs(workdir, exist_ok=True)
  remove_crash_leftovers(workdir)
  return strategy, is_chief(strategy), global_batch


def remove_crash_leftovers(workdir: str) -> None:
  """What a killed run of the same command left: files.py's `.tmp-*` (half-written exports,
  samples, JSON) and TF's `checkpoints/ckpt-N_temp/` (a checkpoint cut off mid-write; the
  `checkpoint` state file never names one)."""
  files.remove_temporaries(workdir, recursive=True)
  for leftover in glob.glob(os.path.join(workdir, "checkpoints", "*_temp")):
    shutil.rmtree(leftover, ignore_errors=True)


def seed_everything(seed: int) -> None:
  """keras.utils.set_random_seed: Python's `random`, numpy, TensorFlow's global seed and Keras'
  global SeedGenerator (which unseeded initialisers draw from)."""
  import keras  # pylint: disable=import-outside-toplevel  (why not at the top: see built_adam)
  keras.utils.set_random_seed(int(seed))


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
    files.write_json(path, self.fingerprint, sort_keys=True)

  def restore_latest(self) -> str | None:
    """Restores the newest checkpoint, if any; returns its path."""
    latest = self.manager.latest_checkpoint
    if latest:
      try:
        self.checkpoint.restore(latest).assert_existing_objects_matched()
      except (tf.errors.OpError, AssertionError, ValueError, IndexError) as e:  # IndexError: a truncated data file
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


def is_chief(strategy: tf.distribute.Strategy) -> bool:
  """Only the chief writes summaries, grids and exports in a multi-worker job."""
  resolver = getattr(strategy, "cluster_resolver", None)
  if resolver is None or not resolver.cluster_spec().as_dict():
    return True
  return resolver.task_type in ("chief", None) or (
      resolver.task_type == "worker" and resolver.task_id == 0)


# --------------------------------------------------------------------------- samples

def save_samples(workdir: str, at_step: int, grid, *, upscale: int, summaries: "Summaries", tag: str) -> str:
  """One sample grid as <workdir>/samples/samples_<step>.png, samples_latest.png (the file to
  keep open while training) and a TensorBoard image `tag`. Returns the per-step path."""
  path = os.path.join(workdir, "samples", f"samples_{at_step:07d}.png")
  visualize.save_png(path, grid, upscale=upscale)
  visualize.save_png(os.path.join(workdir, "samples_latest.png"), grid, upscale=upscale)
  summaries.image(at_step, tag, grid)
  return path


# --------------------------------------------------------------------------- the loop

def run_training_loop(*, train_step: Callable[[Any], Mapping[str, tf.Tensor]], iterator, start: int,
                      num_steps: int, global_batch_size: int, summary_every: int, sample_every: int,
                      checkpoint_every: int, keeper: CheckpointKeeper, summaries: Summaries,
                      write_samples: Callable[[int], Any], chief: bool, description: str) -> dict[str, float]:
  """Runs train_step from `start` to `num_steps` with the cadence every trainer shares.

  train_step returns a dict of scalar losses. Every `summary_every` steps (and at the end)
  the losses are fetched, checked to be finite, written to TensorBoard as loss/<name> with
  speed/images_per_second, and shown on the progress bar; samples every `sample_every`
  steps (chief only); a checkpoint every `checkpoint_every` steps and at the end.
  Returns the last fetched losses plus "images_per_second".
  """
  last: dict[str, float] = {}
  bar = files.progress_bar(total=num_steps, initial=start, description=description)
  tick, tick_step = time.perf_counter(), start
  current = start  # a Python mirror of the step variable: reading it each step would sync the device
  while current < num_steps:
    values = train_step(next(iterator))
    current += 1
    bar.update(1)
    if current % summary_every == 0 or current == num_steps:
      last = {name: float(value) for name, value in values.items()}
      if not all(np.isfinite(v) for v in last.values()):
        raise FloatingPointError(f"non-finite loss at step {current}: {last}")
      now = time.perf_counter()
      images_per_second = (current - tick_step) * global_batch_size / max(now - tick, 1e-9)
      tick, tick_step = now, current
      summaries.scalars(current, {**{f"loss/{name}": v for name, v in last.items()},
                                  "speed/images_per_second": images_per_second})
      bar.set_postfix({name: f"{v:.4f}" for name, v in last.items()}, refresh=False)
      last["images_per_second"] = images_per_second
    if current % sample_every == 0 and chief:
      write_samples(current)
    if current % checkpoint_every == 0 or current == num_steps:
      keeper.save(current)
  bar.close()
  return last


def cadence(train_config) -> dict[str, int]:
  """run_training_loop's step counts from a trainer's config.train."""
  return {"num_steps": train_config.num_steps, "summary_every": train_config.summary_every,
          "sample_every": train_config.sample_every, "checkpoint_every": train_config.checkpoint_every}


def distributed_step(strategy: tf.distribute.Strategy, replica_step, *, step: tf.Variable,
                     jit_compile: bool = False):
  """A tf.function running `replica_step(*batch)` on every replica, summing its dict of
  per-replica losses (already divided by the global batch) and counting the step.

  jit_compile compiles each replica's step with XLA (the cross-replica part stays outside).
  """
  if jit_compile:
    replica_step = tf.function(replica_step, jit_compile=True)

  @tf.function
  def train_step(batch):
    per_replica = strategy.run(replica_step, args=batch)
    step.assign_add(1)
    return {k: strategy.reduce("SUM", v, axis=None) for k, v in per_replica.items()}

  return train_step


def minimize(loss_parts: Callable[[], dict], *, model, optimizer, global_batch_size: int) -> dict:
  """One optimizer step of a replica on loss_parts()["total"] (per-example losses [N]).

  Losses are averaged over the GLOBAL batch (tf.nn.compute_average_loss), so summing the
  replicas' results gives the batch mean. Returns every part averaged the same way.
  """
  with tf.GradientTape() as tape:
    parts = loss_parts()
    loss = tf.nn.compute_average_loss(parts["total"], global_batch_size=global_batch_size)
  grads = tape.gradient(loss, model.trainable_variables)
  optimizer.apply_gradients(zip(grads, model.trainable_variables))
  return {k: tf.nn.compute_average_loss(v, global_batch_size=global_batch_size) for k, v in parts.items()}


def built_adam(learning_rate, variables, *, beta1: float, beta2: float):
  """Adam with its slots already created for `variables`: Keras 3 optimizers build them lazily
  on the first apply, which fails inside strategy.run. Call inside strategy.scope()."""
  # Imported here on purpose: with `keras` imported at this module's top, AutoGraph treats the
  # module as Keras code and mis-converts `minimize` inside the trainers' tf.functions
  # ("train_step() got an unexpected keyword argument 'model'").
  import keras  # pylint: disable=import-outside-toplevel
  optimizer = keras.optimizers.Adam(learning_rate, beta_1=beta1, beta_2=beta2)
  optimizer.build(variables)
  return optimizer
