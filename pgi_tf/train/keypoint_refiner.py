"""§4.2: train the keypoint refiner f with Eq. 9 and export it as a SavedModel.

    θ_f* = argmin 1 / (N * N_K) Σ_j Σ_i || t_i^j - k^_i^j ||²      (Eq. 9)

with 70% of the keypoints hidden at random in every batch (switch-on probability 0.3).
Linear on purpose: config -> training shapes -> f -> resume -> chunks of Eq. 9 steps
(`train_keypoint_refiner`), a checkpoint after each -> held-out
report -> export.

Training shapes (`config.data.kind`), all in [0, 1] box coordinates:
  synthetic_faces  `landmarks.synthetic_face_shapes` with the variation in config.data.synthetic,
                   optionally mixed with dlib's landmarks of scikit-image's LFW faces
                   (config.data.lfw_dlib_fraction; `face_detection.lfw_subset_landmarks`).
  landmark_files   every .pts / .npy / .t7 file under config.data.landmark_dir (300-W, LS3D-W),
                   each normalised to its own tight landmark box (`landmarks.landmark_box`,
                   grown by config.data.landmark_margin per side; LS3D-W has no face boxes).
  silhouette       the generic prior: `structural.silhouette.silhouette_keypoints` of the
                   images of an image dataset (K = config.data.num_rays keypoints).

Resuming: each chunk builds a fresh Adam (that is what `train_keypoint_refiner` does) and
draws its batches with seed config.seed + the chunk's first step, so a run interrupted after
a checkpoint and resumed ends with exactly the weights of an uninterrupted run.

Export format (`export_keypoint_refiner`, loaded by `load_keypoint_refiner`):
  SavedModel, signature "serving_default":
      keypoints float32 [N, K, 2] (hidden ones 0), switches float32 [N, K] (1 = detected)
      -> {"refined": float32 [N, K, 2]}
  + pgi_tf_metadata.json: kind "keypoint_refiner", keypoints (what the K points are),
    num_keypoints, training details and the held-out report.
"""

from __future__ import annotations

import dataclasses
import glob
import json
import math
import os
import time
from typing import Any, Callable

import keras
import ml_collections
import numpy as np
import tensorflow as tf
from absl import logging

from pgi_tf import files
from pgi_tf import hub
from pgi_tf import losses
from pgi_tf.data import landmark_files
from pgi_tf.data import landmarks
from pgi_tf.errors import InputError
from pgi_tf.metrics import landmarks as landmark_metrics
from pgi_tf.models import keypoint_refiner as refiner_lib
from pgi_tf.train import runtime
from pgi_tf.structural import face_detection
from pgi_tf.data import datasets
from pgi_tf.structural import silhouette
from pgi_tf.data import masks as masks_lib

LANDMARK_SUFFIXES = (".pts", ".npy", ".t7")
SIGNATURE = "serving_default"
OUTPUT_KEY = "refined"
KIND = "keypoint_refiner"


# --------------------------------------------------------------------------- training shapes

def _synthetic_faces(config: ml_collections.ConfigDict, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
  variation = config.data.synthetic.to_dict()
  for key in ("scale_range", "brow_raise_range"):
    if key in variation:
      variation[key] = tuple(variation[key])
  try:
    train = landmarks.synthetic_face_shapes(np.random.default_rng(seed), config.data.num_shapes, **variation)
    held_out = landmarks.synthetic_face_shapes(np.random.default_rng(seed + 1), config.data.num_held_out,
                                               **variation)
  except TypeError as error:  # an unknown field under config.data.synthetic
    raise InputError(f"--config.data.synthetic: {error}") from None
  fraction = float(config.data.get("lfw_dlib_fraction", 0.0))
  if not 0.0 <= fraction < 1.0:
    raise InputError(f"--config.data.lfw_dlib_fraction={fraction}: must be in [0, 1)")
  if fraction > 0:
    real = face_detection.lfw_subset_landmarks()
    # f samples uniformly from the pool, so tiling the real shapes sets their share of batches.
    copies = max(1, round(fraction / (1.0 - fraction) * len(train) / len(real)))
    train = np.concatenate([train, np.tile(real, (copies, 1, 1))])
    logging.info("Training shapes: %d synthetic + %d x %d dlib-on-LFW faces", config.data.num_shapes,
                 copies, len(real))
  return train.astype(np.float32), held_out.astype(np.float32)


def _split_held_out(shapes: np.ndarray, config: ml_collections.ConfigDict, *,
                    seed: int) -> tuple[np.ndarray, np.ndarray]:
  """Shuffles (seeded) and keeps config.data.num_held_out shapes (at most a fifth) apart."""
  order = np.random.default_rng(seed).permutation(len(shapes))
  held = min(int(config.data.num_held_out), len(shapes) // 5)
  return shapes[order[held:]], shapes[order[:held]]


def _landmark_files(config: ml_collections.ConfigDict, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
  directory = config.data.landmark_dir
  if not directory or not os.path.isdir(directory):
    raise InputError(f"--config.data.landmark_dir={directory}: no such directory")
  paths = sorted(p for p in glob.glob(os.path.join(directory, "**", "*"), recursive=True)
                 if os.path.splitext(p)[1].lower() in LANDMARK_SUFFIXES)
  if not paths:
    raise InputError(f"--config.data.landmark_dir={directory}: no {'/'.join(LANDMARK_SUFFIXES)} files")
  num_points = int(config.data.num_keypoints)
  # Each reader names the file in its errors ("<file>: has 67 points, expected 68").
  points = np.concatenate([landmark_files.read_landmarks(p, num_points=num_points).reshape(-1, num_points, 2)
                           for p in paths])
  # Own-box normalisation makes .pts files' 1-based coordinates irrelevant (a shift cancels).
  boxes = landmarks.landmark_box(points, margin=float(config.data.landmark_margin))
  if np.any(boxes[:, 2:] <= boxes[:, :2]):
    bad = int(np.argmax(np.any(boxes[:, 2:] <= boxes[:, :2], axis=1)))
    raise InputError(f"--config.data.landmark_dir={directory}: shape {bad} has all points on a line "
                     "(zero-width or zero-height box)")
  shapes = landmarks.normalize_to_box(points, boxes)
  if len(shapes) < 2:
    raise InputError(f"--config.data.landmark_dir={directory}: need at least 2 shapes, found {len(shapes)}")
  return _split_held_out(shapes, config, seed=seed)


def _silhouettes(config: ml_collections.ConfigDict, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
  # Imported here: the generic prior's modules are only needed for this kind.

  batch_size = 500
  dataset = datasets.make_image_dataset(
      source=config.data.source, data_dir=config.data.data_dir or None, split=config.data.split,
      resolution=config.data.resolution, channels=config.data.channels, batch_size=batch_size,
      shuffle=False, repeat=False, seed=0, drop_remainder=False)
  limit = int(config.data.num_shapes) + int(config.data.num_held_out)
  parts, total = [], 0
  for images in dataset:
    if isinstance(images, tuple):
      images = images[0]
    points, _ = silhouette.silhouette_keypoints(
        images, num_rays=int(config.data.num_rays),
        samples_per_ray=int(config.data.samples_per_ray) or None)
    parts.append(np.asarray(points, np.float32))
    total += len(parts[-1])
    if limit and total >= limit:
      break
  if not parts:
    raise InputError(f"--config.data.source={config.data.source}: no images in split {config.data.split}")
  shapes = np.concatenate(parts)[:limit or None]
  return _split_held_out(shapes, config, seed=seed)


def hole_switch_sampler(config: ml_collections.ConfigDict):
  """For silhouettes with config.train.hole_drop_fraction > 0: (rng, targets) -> the switches of
  random Table 1 holes (10/25/40%), so f also learns to complete contiguous hidden rays, which
  is what inpainting shows it; None otherwise (Eq. 9's independent drops only)."""
  if not _data_kind(config).image_keypoints or not config.train.get("hole_drop_fraction", 0.0):
    return None
  resolution, num_rays = int(config.data.resolution), int(config.data.num_rays)

  def sample(rng, targets):
    ratio = float(rng.choice([0.1, 0.25, 0.4]))
    masks = masks_lib.sample_masks(masks_lib.MaskSpec(kind="ratio", hole_ratio=ratio), count=len(targets),
                                   height=resolution, width=resolution, rng=rng)
    return silhouette.hole_switches(targets, masks, num_rays=num_rays,
                                    samples_per_ray=int(config.data.samples_per_ray) or None)
  return sample


@dataclasses.dataclass(frozen=True)
class TrainingData:
  """One kind of training shapes for f (config.data.kind).

  shapes: (config, seed=) -> (training shapes [S, K, 2], held-out shapes [H, K, 2]).
  keypoints_name: (num_keypoints) -> what the K points are, for the metadata.
  image_keypoints: the shapes are keypoints of images (config.data's resolution, channels,
    source and num_rays go into the metadata; Table 1 hole drops can be sampled).
  """
  shapes: Callable[..., tuple[np.ndarray, np.ndarray]]
  keypoints_name: Callable[[int], str]
  image_keypoints: bool = False


def _face_keypoints_name(num_keypoints: int) -> str:
  return "face_ibug68" if num_keypoints == landmarks.NUM_FACE_LANDMARKS else f"landmarks{num_keypoints}"


DATA_KINDS = {
    "synthetic_faces": TrainingData(shapes=_synthetic_faces, keypoints_name=_face_keypoints_name),
    "landmark_files": TrainingData(shapes=_landmark_files, keypoints_name=_face_keypoints_name),
    "silhouette": TrainingData(shapes=_silhouettes, keypoints_name=lambda num_keypoints: "silhouette_rays",
                               image_keypoints=True),
}


def _data_kind(config: ml_collections.ConfigDict) -> TrainingData:
  if config.data.kind not in DATA_KINDS:
    raise InputError(f"--config.data.kind={config.data.kind}: choose one of {', '.join(DATA_KINDS)}")
  return DATA_KINDS[config.data.kind]


def training_shapes(config: ml_collections.ConfigDict) -> tuple[np.ndarray, np.ndarray]:
  """(training shapes [S, K, 2], held-out shapes [H, K, 2]) for config.data.kind."""
  return _data_kind(config).shapes(config, seed=config.seed)


def keypoints_name(config: ml_collections.ConfigDict, num_keypoints: int) -> str:
  """What the K points are, for the metadata: "face_ibug68" or "silhouette_rays"."""
  return _data_kind(config).keypoints_name(num_keypoints)


# --------------------------------------------------------------------------- model, schedule

def refiner_config(config: ml_collections.ConfigDict, num_keypoints: int) -> refiner_lib.KeypointRefinerConfig:
  try:
    hidden_units = tuple(int(units) for units in config.refiner.hidden_units)
  except (TypeError, ValueError):
    raise InputError(f"--config.refiner.hidden_units={config.refiner.hidden_units}: "
                     "need three integers") from None
  return refiner_lib.KeypointRefinerConfig(
      num_keypoints=num_keypoints, hidden_units=hidden_units,
      activation=config.refiner.activation, use_switches=bool(config.refiner.use_switches))


def chunk_learning_rate(config: ml_collections.ConfigDict, *, at_step: int) -> float:
  """Adam's step size for the chunk that starts at `at_step`.

  constant: config.train.learning_rate. cosine: the cosine decay from learning_rate to
  learning_rate * lr_final_fraction over num_steps, held constant within a chunk.
  """
  rate = float(config.train.learning_rate)
  kind = config.train.lr_schedule
  if kind == "constant":
    return rate
  if kind == "cosine":
    final = float(config.train.lr_final_fraction)
    progress = min(1.0, at_step / max(1, int(config.train.num_steps)))
    return rate * (final + (1.0 - final) * 0.5 * (1.0 + math.cos(math.pi * progress)))
  raise InputError(f"--config.train.lr_schedule={kind}: choose constant or cosine")


def fingerprint(config: ml_collections.ConfigDict, num_keypoints: int) -> dict[str, Any]:
  """What a checkpoint must agree on to be resumed: shapes, data and the batch stream."""
  return {"num_keypoints": num_keypoints, "refiner": config.refiner.to_dict(),
          "data": config.data.to_dict(), "seed": config.seed,
          "batch_size": config.train.batch_size, "checkpoint_every": config.train.checkpoint_every}


def _check_config(config: ml_collections.ConfigDict) -> None:
  train = config.train
  for field in ("num_steps", "batch_size", "checkpoint_every"):
    if int(train[field]) < (0 if field == "num_steps" else 1):
      raise InputError(f"--config.train.{field}={train[field]}: must be "
                       f"{'>= 0' if field == 'num_steps' else '>= 1'}")
  if not 0.0 < float(train.keep_probability) <= 1.0:
    raise InputError(f"--config.train.keep_probability={train.keep_probability}: must be in (0, 1]")
  chunk_learning_rate(config, at_step=0)


# --------------------------------------------------------------------------- held-out report

def held_out_report(refine, shapes: np.ndarray, *, seed: int, keep_probability: float) -> dict[str, float]:
  """f vs the aligned mean shape on held-out shapes with 1 - keep_probability of points hidden.

  Errors are mean L2 distances in box units over all points; for 68-point faces also the mean
  RLE (§6.2). The mean shape is the held-out shapes' own mean for non-face keypoints.
  """
  points, switches = landmarks.drop_keypoints(np.random.default_rng(seed), shapes,
                                              keep_probability=keep_probability)
  refined = np.asarray(refine(points, switches), np.float32)
  faces = shapes.shape[1] == landmarks.NUM_FACE_LANDMARKS
  mean_shape = landmarks.MEAN_FACE_SHAPE if faces else shapes.mean(axis=0)
  filled = landmark_metrics.fill_from_mean_shape(points, switches, mean_shape)
  report = {"num_shapes": int(len(shapes)), "keep_probability": keep_probability,
            "mean_error_refined": float(np.linalg.norm(refined - shapes, axis=-1).mean()),
            "mean_error_mean_shape_fill": float(np.linalg.norm(filled - shapes, axis=-1).mean())}
  if faces:
    report["mean_rle_refined"] = float(landmark_metrics.relative_localization_error(
        predicted=refined, target=shapes).mean())
    report["mean_rle_mean_shape_fill"] = float(landmark_metrics.relative_localization_error(
        predicted=filled, target=shapes).mean())
  return report


# --------------------------------------------------------------------------- Eq. 9 steps

def train_keypoint_refiner(*, shapes_train, steps: int, batch_size: int, seed: int,
                           config: refiner_lib.KeypointRefinerConfig = refiner_lib.KeypointRefinerConfig(),
                           learning_rate: float = 1e-3,
                           keep_probability: float = 0.3,
                           input_noise_std: float = 0.0,
                           model: keras.Model | None = None,
                           switch_sampler=None,
                           sampler_fraction: float = 0.0,
                           strategy: tf.distribute.Strategy | None = None) -> tuple[keras.Model, np.ndarray]:
  """Trains f with Adam on Eq. 9, hiding keypoints at random (switch-on probability 0.3, §4.2).

  A new model is built with its input/output standardisation fitted on `shapes_train`
  (`keypoint_statistics`). Each step draws `batch_size` shapes (with replacement) from
  `shapes_train`, optionally jitters them with Gaussian noise of std `input_noise_std`
  (simulating detector noise; the target stays clean, so f also learns to denoise visible
  points), hides each keypoint with probability 1 - keep_probability (`landmarks.drop_keypoints`) and takes one Adam step on the batch mean of
  `losses.keypoint_refinement_loss` -- exactly Eq. 9's 1 / (N * N_K) sum.

  Args:
    shapes_train: [S, N_K, 2] ground-truth keypoints in [0, 1] face box coordinates.
    steps: number of Adam steps.
    batch_size: shapes per step (N of Eq. 9).
    seed: seeds the initial weights, the batches and the dropped keypoints.
    config: network hyperparameters (ignored when `model` is given).
    learning_rate: Adam's step size.
    keep_probability: switch-on probability (0.3 in the paper).
    input_noise_std: std of the noise added to the inputs (0: clean inputs).
    model: continue training this refiner instead of building a new one.
    switch_sampler: optional (rng, targets [N, K, 2]) -> switches [N, K]: structured drops
      (e.g. the rays a hole hides, `pgi_tf.structural.silhouette.hole_switches`) used for a
      `sampler_fraction` share of the batches instead of Eq. 9's independent drops.
    strategy: tf.distribute strategy (default: the current one). Each replica takes its slice of
      the batch (every worker draws the same batch from `seed`) and the loss is averaged over the
      global batch, so one step equals the single-device step on the whole batch. A `model` passed
      in must have been built under its scope.

  Returns:
    (the trained model, float64 [steps] array of the per-step batch losses).
  """
  shapes_train = np.asarray(shapes_train, np.float32)
  if shapes_train.ndim != 3 or shapes_train.shape[-1] != 2 or len(shapes_train) == 0:
    raise InputError(f"shapes_train: expected a non-empty [S, N_K, 2] array, "
                     f"got {list(shapes_train.shape)}")
  if steps < 0 or batch_size < 1:
    raise InputError(f"steps={steps}, batch_size={batch_size}: need steps >= 0 and batch_size >= 1")
  strategy = strategy or tf.distribute.get_strategy()
  replicas = strategy.num_replicas_in_sync
  if batch_size % replicas:
    raise InputError(f"batch_size={batch_size}: must be divisible by the {replicas} replicas")
  if model is None:
    if shapes_train.shape[1] != config.num_keypoints:
      raise InputError(f"shapes_train: has {shapes_train.shape[1]} points, expected "
                       f"{config.num_keypoints} (config.num_keypoints)")
    keypoint_mean, keypoint_scale = refiner_lib.keypoint_statistics(shapes_train)
    with strategy.scope():
      model = refiner_lib.build_keypoint_refiner(config, keypoint_mean=keypoint_mean,
                                                 keypoint_scale=keypoint_scale, seed=seed)
  with strategy.scope():
    optimizer = runtime.built_adam(learning_rate, model.trainable_variables, beta1=0.9, beta2=0.999)
  rng = np.random.default_rng(seed)

  def replica_step(keypoints, switches, targets):
    with tf.GradientTape() as tape:
      refined = model([keypoints, switches], training=True)
      loss = tf.nn.compute_average_loss(losses.keypoint_refinement_loss(  # Eq. 9, over the global batch
          target_keypoints=targets, refined_keypoints=refined), global_batch_size=batch_size)
    gradients = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables))
    return loss

  @tf.function
  def train_step(batch):
    return strategy.reduce("SUM", strategy.run(replica_step, args=batch), axis=None)

  per_replica = batch_size // replicas

  def replica_slices(arrays):
    """Replica r (numbered over all workers) takes rows [r * B/R, (r + 1) * B/R) of the batch."""
    return strategy.experimental_distribute_values_from_function(lambda context: tuple(
        tf.constant(a[context.replica_id_in_sync_group * per_replica:][:per_replica]) for a in arrays))

  history = np.zeros(steps, np.float64)
  for step in range(steps):
    targets = shapes_train[rng.integers(0, len(shapes_train), size=batch_size)]
    observed = targets
    if input_noise_std > 0:
      observed = targets + rng.normal(0.0, input_noise_std, size=targets.shape).astype(np.float32)
    if switch_sampler is not None and rng.random() < sampler_fraction:
      switches = np.asarray(switch_sampler(rng, targets), np.float32)
      keypoints = (observed * switches[..., None]).astype(np.float32)
    else:
      keypoints, switches = landmarks.drop_keypoints(rng, observed, keep_probability=keep_probability)
    history[step] = float(train_step(replica_slices((keypoints, switches, targets))))
  return model, history


# --------------------------------------------------------------------------- train

def train(config: ml_collections.ConfigDict, *, workdir: str, export_dir: str | None = None) -> dict[str, Any]:
  """Trains f for config.train.num_steps (resuming from workdir), reports and exports it.

  Writes workdir/checkpoints/, workdir/tensorboard/ and the export (default
  workdir/export/keypoint_refiner). Returns a summary dict (steps, losses, held-out report).
  """
  # ------------------------------------------------------------------ set-up
  _check_config(config)
  strategy, chief, _ = runtime.start_run(config.train, workdir, seed=config.seed)
  export_dir = export_dir or os.path.join(workdir, "export", "keypoint_refiner")

  # ------------------------------------------------------------------ shapes
  started = time.perf_counter()
  shapes_train, shapes_held_out = training_shapes(config)
  num_keypoints = int(shapes_train.shape[1])
  logging.info("%d training and %d held-out shapes of %d keypoints (%s)", len(shapes_train),
               len(shapes_held_out), num_keypoints, config.data.kind)

  # ------------------------------------------------------------------ f, with statistics of the data
  keypoint_mean, keypoint_scale = refiner_lib.keypoint_statistics(shapes_train)
  with strategy.scope():
    model = refiner_lib.build_keypoint_refiner(refiner_config(config, num_keypoints), keypoint_mean=keypoint_mean,
                                               keypoint_scale=keypoint_scale, seed=config.seed)
    step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")

  # ------------------------------------------------------------------ resume
  keeper = runtime.CheckpointKeeper(os.path.join(workdir, "checkpoints"),
                                    fingerprint=fingerprint(config, num_keypoints),
                                    max_to_keep=config.train.keep_checkpoints, keypoint_refiner=model, step=step)
  restored = keeper.restore_latest()
  resumed_from_step = int(step.numpy())
  if restored:
    logging.info("Resumed from %s at step %d", restored, resumed_from_step)

  # ------------------------------------------------------------------ chunks of Eq. 9
  summaries = runtime.Summaries(workdir, enabled=chief)
  num_steps = int(config.train.num_steps)
  bar = files.progress_bar(total=num_steps, initial=resumed_from_step, description="train_keypoint_refiner")
  last_loss = None
  current = resumed_from_step
  while current < num_steps:
    chunk = min(int(config.train.checkpoint_every), num_steps - current)
    rate = chunk_learning_rate(config, at_step=current)
    model, history = train_keypoint_refiner(
        shapes_train=shapes_train, steps=chunk, batch_size=int(config.train.batch_size),
        seed=int(config.seed) + current, model=model, learning_rate=rate,
        keep_probability=float(config.train.keep_probability),
        input_noise_std=float(config.train.input_noise_std),
        switch_sampler=hole_switch_sampler(config),
        sampler_fraction=float(config.train.get("hole_drop_fraction", 0.0)), strategy=strategy)
    if not np.all(np.isfinite(history)):
      raise FloatingPointError(f"non-finite Eq. 9 loss in steps {current}..{current + chunk}")
    current += chunk
    step.assign(current)
    keeper.save(current)
    last_loss = float(history[-min(len(history), 50):].mean())
    summaries.scalars(current, {"loss/eq9": last_loss, **runtime.learning_rates({"refiner": rate})})
    bar.update(chunk)
    bar.set_postfix({"eq9": f"{last_loss:.5f}"}, refresh=False)
  bar.close()
  summaries.flush()
  logging.info("train_keypoint_refiner: step %d, weights sha256 %s", current, keeper.weights_sha256())

  # ------------------------------------------------------------------ held-out report and export
  # A direct call, not model.predict: one small batch, no predict function to build.
  report = held_out_report(lambda k, d: model([k, d], training=False).numpy(), shapes_held_out,
                           seed=int(config.seed) + 2, keep_probability=float(config.train.keep_probability))
  metadata = {"keypoints": keypoints_name(config, num_keypoints), "trained_steps": current,
              "data_kind": config.data.kind, "config_name": config.get("name", ""),
              "keep_probability": float(config.train.keep_probability),
              "hidden_units": list(refiner_config(config, num_keypoints).hidden_units),
              "training_data": json.loads(json.dumps(config.data.to_dict(), default=str)),
              "held_out": report}
  if _data_kind(config).image_keypoints:
    metadata.update(num_rays=int(config.data.num_rays), resolution=int(config.data.resolution),
                    channels=int(config.data.channels), dataset=config.data.source)
  result = {"step": current, "resumed_from_step": resumed_from_step, "loss_eq9": last_loss,
            "held_out": report, "seconds": round(time.perf_counter() - started, 1)}
  if chief:  # a multi-worker job's other workers hold the same f
    hub.export_keypoint_refiner(model, export_dir, metadata=metadata)
    result["export_dir"] = export_dir
  return result
