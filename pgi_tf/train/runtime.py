"""What every trainer shares: distribution strategy, checkpoints with resume, summaries.

Kept apart from the trainers so each trainer reads as one linear story (style note 8).
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import shutil
import time
from typing import Any, Callable, Mapping

import numpy as np
import tensorflow as tf
from absl import logging

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


def split_cpu(num_devices: int) -> None:
  """Splits the first CPU into `num_devices` logical devices, so that `mirrored` on a machine
  without GPUs runs that many replicas (each on its own share of the cores).

  TensorFlow fixes its devices when its runtime starts (the first op, or listing logical
  devices), so this must run before: binaries call it first thing in main."""
  if num_devices < 1:
    raise InputError(f"--cpu_replicas={num_devices}: must be >= 1")
  cpus = tf.config.list_physical_devices("CPU")
  try:
    tf.config.set_logical_device_configuration(cpus[0], [tf.config.LogicalDeviceConfiguration()] * num_devices)
  except RuntimeError:  # "Virtual devices cannot be modified after being initialized"
    current = len(tf.config.list_logical_devices("CPU"))
    if current == num_devices:
      return  # already split so (e.g. by the test session's conftest)
    raise InputError(f"--cpu_replicas={num_devices}: TensorFlow's runtime is already initialised with "
                     f"{current} CPU device(s); logical devices must be set before any TensorFlow op runs") from None


# The strategy of this process's run (set by strategy_for): CheckpointKeeper asks it whether
# this task is the chief, so no trainer has to pass it along.
_RUN_STRATEGY: list[tf.distribute.Strategy] = []


def strategy_for(train_config, *, batch_flag: str = "--config.train.batch_size"
                 ) -> tuple[tf.distribute.Strategy, bool, int]:
  """(strategy from train_config.distribution, whether this task is the chief, the global batch
  train_config.batch_size checked to split evenly over the replicas; `batch_flag` names it)."""
  strategy = make_strategy(train_config.distribution)
  global_batch = train_config.batch_size
  if global_batch % strategy.num_replicas_in_sync:
    raise InputError(f"{batch_flag}={global_batch}: must be divisible by the "
                     f"{strategy.num_replicas_in_sync} replicas")
  _RUN_STRATEGY[:] = [strategy]
  logging.info("distribution %s: %d replica(s), %d images per replica per step", train_config.distribution,
               strategy.num_replicas_in_sync, global_batch // strategy.num_replicas_in_sync)
  return strategy, is_chief(strategy), global_batch


def run_strategy() -> tf.distribute.Strategy:
  """The strategy strategy_for made last in this process, else the default (one device)."""
  return _RUN_STRATEGY[0] if _RUN_STRATEGY else tf.distribute.get_strategy()


def start_run(train_config, workdir: str, *, seed: int) -> tuple[tf.distribute.Strategy, bool, int]:
  """What every trainer does first: strategy_for(train_config) -> (strategy, chief, global
  batch); creates workdir and seeds Python, numpy, TensorFlow and Keras with `seed`.

  Seeding here, before any model is built, makes weight initialisation a function of
  config.seed; with --deterministic (op determinism) the same command gives the same model.
  The rest of a run's randomness must be checkpointed (tf.random.Generator) or a function of
  (seed, step) (the data and mask streams, started at the restored step), so that a resumed
  run matches an uninterrupted one too.

  In a multi-worker job only the chief removes a killed run's leftovers: the workers may share
  one workdir (a shared file system), and a worker must not delete what the chief is writing."""
  seed_everything(seed)
  strategy, chief, global_batch = strategy_for(train_config)
  os.makedirs(workdir, exist_ok=True)
  if chief:
    remove_crash_leftovers(workdir)
  return strategy, chief, global_batch


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


WORKER_TEMP_PREFIX = ".worker_"


class CheckpointKeeper:
  """tf.train.CheckpointManager plus a guard against resuming another config.

  TF writes a checkpoint's data and index first and then replaces the small `checkpoint`
  state file with an atomic rename, so after a kill `latest_checkpoint` always names a
  complete checkpoint. The fingerprint (the config fields that fix variable shapes and
  the game) is written next to the checkpoints; a resume with a different one is refused.

  Multi-worker jobs, as TensorFlow's multi-worker tutorial does it: saving runs collective ops,
  so every worker saves at the same steps, but only the chief keeps its checkpoints in
  `directory`. Another worker writes into `directory/.worker_<task id>_tmp/` and deletes it right
  after each save; it restores (and checks the fingerprint) from the chief's `directory`, which
  is why a multi-worker job that should resume needs a workdir on a shared file system.
  `strategy` defaults to the one start_run made for this run (`run_strategy`).
  """

  def __init__(self, directory: str, *, fingerprint: Mapping[str, Any], max_to_keep: int = 3,
               flag: str = "--workdir", strategy: tf.distribute.Strategy | None = None, **trackables):
    self.directory = directory
    self.chief = is_chief(strategy or run_strategy())
    os.makedirs(directory, exist_ok=True)
    self.fingerprint = json.loads(json.dumps(dict(fingerprint), sort_keys=True, default=str))
    self._trackables = trackables
    self.checkpoint = tf.train.Checkpoint(**trackables)
    self.manager = tf.train.CheckpointManager(self.checkpoint, directory, max_to_keep=max_to_keep)
    self.write_directory = directory
    if not self.chief:
      resolver = (strategy or run_strategy()).cluster_resolver
      self.write_directory = os.path.join(directory, f"{WORKER_TEMP_PREFIX}{resolver.task_id}_tmp")
      shutil.rmtree(self.write_directory, ignore_errors=True)  # a killed worker's
      self._worker_manager = tf.train.CheckpointManager(self.checkpoint, self.write_directory, max_to_keep=1)
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
    if self.chief:
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

  def save(self, step: int) -> str | None:
    """Saves on every worker; returns the kept checkpoint's path (None on a non-chief worker)."""
    if self.chief:
      return self.manager.save(checkpoint_number=step)
    written = self._worker_manager.save(checkpoint_number=step)
    shutil.rmtree(self.write_directory, ignore_errors=True)
    logging.info("step %d: saved %s for the collective save and removed it (the chief keeps checkpoints)",
                 step, written)
    return None

  def weights_sha256(self) -> str:
    """SHA-256 of every variable of the run, in a fixed order: the models' weights (trainable and
    not: BatchNormalization's moving statistics too, synchronized across replicas by
    models/dcgan.py), the optimizers' variables, the step and the random generators. Equal on
    all workers of a multi-worker job (and on two runs that agree bit for bit)."""
    digest = hashlib.sha256()
    for name in sorted(self._trackables):
      for variable in _run_variables(self._trackables[name]):
        value = np.ascontiguousarray(variable.numpy())
        digest.update(f"{name}:{value.dtype}:{value.shape};".encode())
        digest.update(value.tobytes())
    return digest.hexdigest()


def _run_variables(trackable) -> list:
  import keras  # pylint: disable=import-outside-toplevel  (why not at the top: see built_adam)
  if isinstance(trackable, tf.Variable):
    return [trackable]
  if isinstance(trackable, tf.random.Generator):
    return [trackable.state]
  if isinstance(trackable, keras.layers.Layer):
    return list(trackable.variables)
  return list(getattr(trackable, "variables", ()))  # an optimizer


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

LEARNING_RATE_TAG = "train/learning_rate"


def learning_rates(optimizers: Mapping[str, Any]) -> dict[str, float]:
  """TensorBoard tags -> the learning rate each optimizer (or a plain number) uses now.

  One optimizer: `train/learning_rate`; several: `train/learning_rate/<name>` (e.g. generator
  and discriminator). A Keras optimizer's `learning_rate` evaluates its schedule at its own
  (checkpointed) step counter, so a cosine schedule is shown as it is applied."""
  def value(optimizer) -> float:
    return float(optimizer if isinstance(optimizer, (int, float)) else np.asarray(optimizer.learning_rate))
  if len(optimizers) == 1:
    return {LEARNING_RATE_TAG: value(next(iter(optimizers.values())))}
  return {f"{LEARNING_RATE_TAG}/{name}": value(optimizer) for name, optimizer in optimizers.items()}


def run_training_loop(*, train_step: Callable[[Any], Mapping[str, tf.Tensor]], iterator, start: int,
                      num_steps: int, global_batch_size: int, summary_every: int, sample_every: int,
                      checkpoint_every: int, keeper: CheckpointKeeper, summaries: Summaries,
                      write_samples: Callable[[int], Any], chief: bool, description: str,
                      optimizers: Mapping[str, Any], evaluate: Callable[[int], Mapping[str, float]] | None = None,
                      eval_every: int = 0) -> dict[str, float]:
  """Runs train_step from `start` to `num_steps` with the cadence every trainer shares.

  train_step returns a dict of scalar losses. Every `summary_every` steps (and at the end)
  the losses are fetched, checked to be finite, written to TensorBoard as loss/<name> with
  speed/images_per_second and the learning rates of `optimizers` (name -> Keras optimizer,
  `learning_rates`), and shown on the progress bar; samples every `sample_every` steps (chief
  only); `evaluate(step)` -> metrics every `eval_every` steps and at the end (chief only, 0: never),
  written as val/<name>; a checkpoint every `checkpoint_every` steps and at the end.
  Returns the last fetched losses plus "images_per_second". Logs the SHA-256 of the final
  weights (`CheckpointKeeper.weights_sha256`): the workers of a multi-worker job log the same.
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
                                  "speed/images_per_second": images_per_second, **learning_rates(optimizers)})
      bar.set_postfix({name: f"{v:.4f}" for name, v in last.items()}, refresh=False)
      last["images_per_second"] = images_per_second
    if current % sample_every == 0 and chief:
      write_samples(current)
    if evaluate is not None and eval_every > 0 and chief and (current % eval_every == 0 or current == num_steps):
      summaries.scalars(current, {f"val/{name}": v for name, v in evaluate(current).items()})
    if current % checkpoint_every == 0 or current == num_steps:
      keeper.save(current)
  bar.close()
  logging.info("%s: step %d, weights sha256 %s", description, current, keeper.weights_sha256())
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
