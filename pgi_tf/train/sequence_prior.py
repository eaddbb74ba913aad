"""Stage 2 for sequences (§4.3, Fig. 3): train the grouped prior model with Eq. 10 against a frozen G and D.

    L_z^gr = 1/W sum_i L_z^com(I_d^i, G(z_p^i))      (Eq. 10: Eq. 7 averaged over a window of W frames)

The model (`pgi_tf.models.sequence_prior`) is the shared per-frame CNN of P -> LSTM -> head.
G and D are hub modules (`pgi_tf.hub.HubModuleLayer`), frozen by construction, and see the
window's frames folded into the batch ([N*W, ...]). Everything that is not sequence-specific
(loading G and D, P's hyperparameters from G's metadata, the learning-rate schedule, the loop,
checkpoints, summaries, distribution) is stage 2's own code, so the two trainers cannot drift.
Linear: config -> frozen G, D -> model -> resume / warm start -> clips and masks -> step -> loop -> export.
"""

from __future__ import annotations

import os
from typing import Any

import ml_collections
import keras
import numpy as np
import tensorflow as tf
from absl import logging

from pgi_tf import hub
from pgi_tf import losses
from pgi_tf import visualize
from pgi_tf.data import sequences
from pgi_tf.errors import InputError
from pgi_tf.models import prior_predictor as prior_lib
from pgi_tf.models import sequence_prior as sequence_lib
from pgi_tf.train import prior
from pgi_tf.train import runtime


def model_config(config: ml_collections.ConfigDict, metadata: dict) -> sequence_lib.SequencePriorConfig:
  """The shared CNN is P as stage 2 would build it for this G; the LSTM and head from config.sequence."""
  return sequence_lib.SequencePriorConfig(
      frame=prior.predictor_config(config, metadata), lstm_units=config.sequence.lstm_units,
      head_units=config.sequence.head_units, per_frame=config.sequence.per_frame)


def check_sequence_config(config: ml_collections.ConfigDict) -> None:
  for field, minimum in (("window", 1), ("lstm_units", 1), ("head_units", 0)):
    if config.sequence[field] < minimum:
      raise InputError(f"--config.sequence.{field}={config.sequence[field]}: must be >= {minimum}")


def fingerprint(config: ml_collections.ConfigDict, metadata: dict) -> dict[str, Any]:
  return {**prior.fingerprint(config, metadata), "kind": sequence_lib.KIND,
          "sequence.lstm_units": config.sequence.lstm_units, "sequence.head_units": config.sequence.head_units,
          "sequence.per_frame": config.sequence.per_frame, "sequence.window": config.sequence.window}


def make_clips(config: ml_collections.ConfigDict, *, resolution: int, batch_size: int, seed: int,
               training: bool) -> tf.data.Dataset:
  """Clips of config.sequence.window frames, [B, W, R, R, C] in [-1, 1]."""
  return sequences.make_clip_dataset(
      source=config.data.source, split=config.data.split, num_frames=config.sequence.window,
      resolution=resolution, channels=config.data.channels, batch_size=batch_size, seed=seed,
      num_clips=config.data.num_clips, data_dir=config.data.data_dir or None, shuffle=training,
      repeat=training)


def make_clip_masks(config: ml_collections.ConfigDict, *, resolution: int, batch_size: int,
                    seed: int) -> tf.data.Dataset:
  """Hole masks per frame, [B, W, R, R, 1] (1 = hole), fixed or moving over the clip."""
  return sequences.make_clip_mask_dataset(
      num_frames=config.sequence.window, resolution=resolution, batch_size=batch_size, seed=seed,
      kind=config.masks.kind, motion=config.masks.motion)


def warm_start_frame_encoder(model: keras.Model, frame_config: prior_lib.PriorPredictorConfig, path: str, *,
                             generator_path: str | None = None, flag: str = "--config.train.warm_start") -> str:
  """Initialises the shared CNN from a trained P; the LSTM and head keep their initialisation.

  `path`: P's SavedModel export (…/export/prior_predictor) or a stage-2 checkpoint (prefix or
  checkpoints directory). P must have the same architecture (`frame_config`); with
  `generator_path`, an export trained for another generator is refused. Returns what was read.
  """
  source = prior_lib.build_prior_predictor(frame_config)
  if os.path.isfile(os.path.join(path, "saved_model.pb")):
    read_from = hub.read_prior_predictor_weights(source, path, generator_path=generator_path, flag=flag)
  else:
    read_from = prior.warm_start(source, path, p_config=frame_config)
  encoder = sequence_lib.frame_encoder_of(model)
  for layer in encoder.layers:
    if layer.weights:
      layer.set_weights(source.get_layer(layer.name).get_weights())
  return read_from


def warm_start_whole_model(model: keras.Model, path: str, *, metadata: dict, generator_path: str,
                           flag: str = "--config.train.warm_start") -> str:
  """Initialises every layer (CNN, LSTM, head) from an exported sequence prior of the same
  architecture trained for the same G, e.g. M_{z+L} from its per-frame ablation (the same network
  with the LSTM state reset each frame); `metadata` is the export's. Returns what was read."""
  hub.check_trained_for(metadata, generator_path, path=path, flag=flag)
  return hub.read_weights_into(os.path.join(path, "variables", "variables"), flag=flag, path=path,
                               noun="a sequence prior", sequence_prior=model)


def train(config: ml_collections.ConfigDict, *, workdir: str) -> dict[str, Any]:
  """Trains the grouped prior model for config.train.num_steps (resuming from workdir) and exports it."""
  # ------------------------------------------------------------------ set-up
  check_sequence_config(config)
  strategy, chief, global_batch = runtime.start_run(config.train, workdir, seed=config.seed)  # clips of `window` frames
  window = config.sequence.window

  # ------------------------------------------------------------------ frozen G and D
  with strategy.scope():
    generator, discriminator, metadata, realism = prior.load_frozen_gan(config)
  prior.check_data_matches_generator(config, metadata)
  if prior.condition_kind(config, metadata) == "class":
    raise InputError(f"--config.generator={config.generator}: clips have no class labels; give a BigGAN "
                     "--config.class_index=K")
  structural_prior = prior.load_structural_prior(config, metadata)  # None: M_{z+L}; else M_{z+S+L}
  resolution = metadata["resolution"]
  if discriminator is None:
    logging.warning("No discriminator: Eq. 5 (photo-realism) is off for this run (photo_realism=off).")

  # ------------------------------------------------------------------ model and its optimizer
  m_config = model_config(config, metadata)
  with strategy.scope():
    model = sequence_lib.build_sequence_prior(m_config)
    optimizer = runtime.built_adam(prior.learning_rate_schedule(config), model.trainable_variables,
                                   beta1=config.train.beta1, beta2=config.train.beta2)
    step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")

  # ------------------------------------------------------------------ resume, or warm start the CNN from P
  keeper = runtime.CheckpointKeeper(
      os.path.join(workdir, "checkpoints"), fingerprint=fingerprint(config, metadata),
      max_to_keep=config.train.keep_checkpoints, sequence_prior=model, optimizer=optimizer, step=step)
  restored = keeper.restore_latest()
  resumed_from_step = int(step.numpy())
  if restored:
    logging.info("Resumed from %s at step %d", restored, resumed_from_step)
  elif (warm_metadata := hub.read_metadata(config.train.get("warm_start") or "") or {}).get("kind") == sequence_lib.KIND:
    read_from = warm_start_whole_model(model, config.train.warm_start, metadata=warm_metadata,
                                       generator_path=metadata["module_path"])
    logging.info("Warm start: the whole model initialised from the sequence prior at %s", read_from)
  elif config.train.get("warm_start"):
    read_from = warm_start_frame_encoder(model, m_config.frame, config.train.warm_start,
                                                      generator_path=metadata["module_path"])
    logging.info("Warm start: per-frame CNN initialised from P at %s", read_from)

  # ------------------------------------------------------------------ data: clips and masks, from the restored step
  # Both streams are functions of the seed; the clip and mask generators (`pgi_tf.data.sequences`)
  # cannot start mid-stream, so a resumed run reads and drops the batches before its step
  # (a few ms each), and then reads what an uninterrupted run would.
  clips = make_clips(config, resolution=resolution, batch_size=global_batch, seed=config.seed, training=True)
  masks = make_clip_masks(config, resolution=resolution, batch_size=global_batch, seed=config.seed)
  dataset = tf.data.Dataset.zip((clips, masks)).skip(resumed_from_step).prefetch(tf.data.AUTOTUNE)
  distributed_dataset = strategy.experimental_distribute_dataset(dataset)

  # ------------------------------------------------------------------ one step of Eq. 10
  lambda_realism = config.loss.lambda_realism if discriminator is not None else 0.0
  lambda_gradient = config.loss.lambda_gradient
  lambda_temporal = config.loss.get("lambda_temporal", 0.0)
  decay = config.loss.contextual_decay
  z_dim = metadata["z_dim"]
  frame_shape = (resolution, resolution, metadata["channels"])

  def generate(masked_frames, hole_masks, training=False):
    """G(z_p^t) for every frame, [B, W, R, R, C], D's logits on them, [B, W] (or None), and z, [B, W, d].

    M_{z+S+L}: S^t of every masked frame conditions the CNN, G and D, as P's S does in §4.2."""
    clip_shape = tf.shape(masked_frames)[:2]
    fold = lambda x: tf.reshape(x, tf.concat([[-1], tf.shape(x)[2:]], 0))  # [B*W, ...]  # noqa: E731
    conditions = None
    if structural_prior is not None:
      conditions = structural_prior(fold(masked_frames), fold(hole_masks))  # [B*W, c]
      per_clip = tf.reshape(conditions, [clip_shape[0], clip_shape[1], conditions.shape[-1]])
      z = model([masked_frames, hole_masks, per_clip], training=training)  # [B, W, z_dim]
    else:
      z = model([masked_frames, hole_masks], training=training)            # [B, W, z_dim]
    z = tf.reshape(z, [-1, z_dim])                                          # frames folded: [B*W, z_dim]
    generated = generator(z) if conditions is None else generator([z, conditions])
    fake_logits = None
    if discriminator is not None:
      fake_logits = discriminator(generated) if conditions is None else discriminator([generated, conditions])
    generated = tf.reshape(generated, tf.concat([clip_shape, frame_shape], axis=0))
    fake_logits = None if fake_logits is None else tf.reshape(fake_logits, clip_shape)
    return generated, fake_logits, tf.reshape(z, [clip_shape[0], clip_shape[1], z_dim])

  def replica_step(frames, hole_masks):
    masked_frames = (1.0 - hole_masks) * frames
    weights = tf.reshape(losses.contextual_weights(tf.reshape(hole_masks, (-1, resolution, resolution, 1)),
                                                   decay=decay), tf.shape(hole_masks))

    def loss_parts():
      generated, fake_logits, z = generate(masked_frames, hole_masks, training=True)
      parts = losses.grouped_prior_loss(frames_or_masked=masked_frames, generated_frames=generated,
                                        masks=hole_masks, fake_logits=fake_logits, weights=weights,
                                        lambda_realism=lambda_realism, lambda_gradient=lambda_gradient)
      if lambda_temporal:  # beyond the paper: Eq. 10 + λ_t · L_smooth
        parts["latent_smoothness"] = losses.latent_smoothness_loss(z)
        parts["total"] = parts["total"] + lambda_temporal * parts["latent_smoothness"]
      return parts

    return runtime.minimize(loss_parts, model=model, optimizer=optimizer, global_batch_size=global_batch)

  train_step = runtime.distributed_step(strategy, replica_step, step=step, jit_compile=config.train.jit_compile)

  # ------------------------------------------------------------------ loop
  summaries = runtime.Summaries(workdir, enabled=chief)
  grid_clips = next(iter(make_clips(config, resolution=resolution, batch_size=config.train.sample_clips,
                                    seed=0, training=False)))
  grid_masks = next(iter(make_clip_masks(config, resolution=resolution, batch_size=config.train.sample_clips,
                                         seed=config.seed + 999)))

  def write_samples(at_step: int) -> str:
    """Per clip, four rows of W frames: masked | G(z_p^t) | Eq. 8 output | original."""
    generated, _, _ = generate((1.0 - grid_masks) * grid_clips, grid_masks)
    masked = (1.0 - grid_masks) * grid_clips + grid_masks  # holes shown white
    inpainted = (1.0 - grid_masks) * grid_clips + grid_masks * generated
    rows = np.stack([masked, generated, inpainted, grid_clips], axis=1)  # [clips, 4, W, R, R, C]
    grid = visualize.make_grid(rows.reshape((-1, *rows.shape[3:])), columns=window)
    return runtime.save_samples(workdir, at_step, grid, upscale=config.train.sample_upscale, summaries=summaries,
                                tag="masked_generated_inpainted_original")

  last = runtime.run_training_loop(
      train_step=train_step, iterator=iter(distributed_dataset), start=resumed_from_step,
      global_batch_size=global_batch * window,  # speed in frames/s
      **runtime.cadence(config.train), keeper=keeper, summaries=summaries,
      write_samples=write_samples, chief=chief, description="train_sequence_prior",
      optimizers={"sequence_prior": optimizer})

  # ------------------------------------------------------------------ export
  final_step = int(step.numpy())
  result: dict[str, Any] = {"step": final_step, "resumed_from_step": resumed_from_step, "losses": last}
  if chief:
    result["samples"] = write_samples(final_step)
    export_path = os.path.join(workdir, "export", sequence_lib.KIND)
    hub.export_sequence_prior(model, export_path, metadata=hub.sequence_prior_metadata(
        generator_path=metadata["module_path"], generator_metadata=metadata, window=window,
        per_frame=config.sequence.per_frame,
        extra={"trained_steps": final_step, "warm_start": config.train.get("warm_start", ""),
               "lr_schedule": config.train.get("lr_schedule", "constant"), "lambda_realism": lambda_realism,
               "lambda_gradient": lambda_gradient, "lambda_temporal": lambda_temporal,
               "loss_normalisation": losses.LOSS_NORMALISATION, **realism, "dataset": config.data.source,
               **prior.generator_record(config, metadata), "mask_kind": config.masks.kind,
               "mask_motion": config.masks.motion,
               "lstm_units": config.sequence.lstm_units, "config_name": config.get("name", ""),
               "structural_prior": config.get("structural_prior", "none"), "num_rays": metadata.get("num_rays", 0),
               "keypoint_refiner": config.get("keypoint_refiner", "")}))
    result["export_dir"] = export_path
  summaries.flush()
  return result
