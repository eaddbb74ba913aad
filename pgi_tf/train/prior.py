"""Stage 2 (§4.1): train the noise-prior predictor P against a frozen G and D with Eq. 7.

    L_z^com = L_c (Eq. 3-4) + λ1 L_r (Eq. 5) + λ2 L_g (Eq. 6)

G and D enter as hub modules (`pgi_tf.hub.HubModuleLayer`): their variables are not
trainable weights of anything here, so they are frozen by construction. Linear on
purpose: config -> frozen G, D -> data and masks -> P -> resume -> step -> loop -> export.
"""

from __future__ import annotations

import os
from typing import Any

import keras
import ml_collections
import numpy as np
import tensorflow as tf
from absl import logging

from pgi_tf import hub
from pgi_tf import losses
from pgi_tf import visualize
from pgi_tf.data import datasets
from pgi_tf.data import masks as masks_lib
from pgi_tf.errors import InputError
from pgi_tf.models import prior_predictor as prior_lib
from pgi_tf.structural import priors
from pgi_tf.train import runtime


def load_frozen_gan(config: ml_collections.ConfigDict):
  """(G layer, D layer or None, G metadata) from config.generator / config.discriminator."""
  generator = hub.load_generator(config.generator, flag="--config.generator")
  metadata = generator.metadata
  if metadata is None:
    raise InputError(f"--config.generator={config.generator}: module has no {hub.METADATA_FILENAME}; "
                     "export it with binaries/train_gan.py (foreign modules: issue 6 adapters)")
  discriminator = None
  if config.discriminator not in ("", "none"):
    discriminator = hub.load_discriminator(config.discriminator, flag="--config.discriminator")
  return generator, discriminator, metadata


def check_data_matches_generator(config: ml_collections.ConfigDict, metadata: dict) -> None:
  for field in ("resolution", "channels"):
    if config.data[field] != metadata[field]:
      raise InputError(f"--config.data.{field}={config.data[field]}: the generator "
                       f"({config.generator}) has {field} {metadata[field]}")


def load_structural_prior(config: ml_collections.ConfigDict, metadata: dict):
  """M_{z+S}'s S (§4.2) or None for M_z; the frozen G must be conditioned on the same kind."""
  kind = priors.check_kind(config.get("structural_prior", "none"), flag="--config.structural_prior")
  generator_kind = metadata.get("structural_prior", "none")
  if kind != generator_kind:
    raise InputError(f"--config.structural_prior={kind}: the generator ({config.generator}) is conditioned "
                     f"on {generator_kind!r}")
  return priors.load_structural_prior(kind, refiner_path=config.get("keypoint_refiner", ""),
                                      num_rays=metadata.get("num_rays", 0) or 16,
                                      upsample=metadata.get("landmark_upsample", 1),
                                      flag="--config.keypoint_refiner")


def predictor_config(config: ml_collections.ConfigDict, metadata: dict) -> prior_lib.PriorPredictorConfig:
  """P's hyperparameters; z size, prior, head and condition size follow the generator's metadata."""
  return prior_lib.PriorPredictorConfig(
      resolution=metadata["resolution"], channels=metadata["channels"], z_dim=metadata["z_dim"],
      condition_dim=metadata.get("condition_dim", 0) if config.get("structural_prior", "none") != "none" else 0,
      base_channels=config.prior.base_channels, dense_units=config.prior.dense_units,
      z_distribution=metadata.get("z_distribution", "uniform"),
      z_support=tuple(metadata.get("z_support", (-1.0, 1.0))))


def make_mask_dataset(config: ml_collections.ConfigDict, *, resolution: int, seed: int) -> tf.data.Dataset:
  """Training masks: one MaskSpec, or a uniform mixture over config.masks.mixture_hole_ratios."""
  spec_fields = {k: v for k, v in config.masks.to_dict().items() if k != "mixture_hole_ratios"}
  ratios = tuple(config.masks.get("mixture_hole_ratios", ()) or ())
  if not ratios:
    return masks_lib.make_mask_dataset(masks_lib.MaskSpec.from_config(spec_fields),
                                       height=resolution, width=resolution, seed=seed)
  parts = [masks_lib.make_mask_dataset(
      masks_lib.MaskSpec.from_config(dict(spec_fields, kind="ratio", hole_ratio=r)),
      height=resolution, width=resolution, seed=seed + i) for i, r in enumerate(ratios)]
  return tf.data.Dataset.sample_from_datasets(parts, seed=seed, rerandomize_each_iteration=False)


def learning_rate_schedule(config: ml_collections.ConfigDict):
  """Adam's learning rate: constant, or cosine decay to lr * final_fraction over num_steps.

  The schedule reads the optimizer's own step counter, which is checkpointed, so a resumed
  run continues the curve where it stopped."""
  kind = config.train.get("lr_schedule", "constant")
  if kind == "constant":
    return config.train.learning_rate
  if kind == "cosine":
    return keras.optimizers.schedules.CosineDecay(
        config.train.learning_rate, decay_steps=max(1, config.train.num_steps),
        alpha=config.train.get("lr_final_fraction", 0.0))
  raise InputError(f"--config.train.lr_schedule={kind}: choose constant or cosine")


def warm_start(predictor: keras.Model, path: str) -> str:
  """Initialises P's weights (not the optimizer or step) from another run's checkpoint.

  `path` is a checkpoint prefix (…/ckpt-20000) or a checkpoints directory (newest is used).
  Used to fine-tune a trained P with another schedule or λ; the other run is not touched."""
  prefix = tf.train.latest_checkpoint(path) if os.path.isdir(path) else path
  if not prefix or not tf.io.gfile.exists(prefix + ".index"):
    raise InputError(f"--config.train.warm_start={path}: no checkpoint found")
  try:
    tf.train.Checkpoint(prior_predictor=predictor).restore(prefix).assert_existing_objects_matched().expect_partial()
  except (AssertionError, ValueError, tf.errors.OpError) as error:
    raise InputError(f"--config.train.warm_start={path}: not a checkpoint of this P "
                     f"({str(error).splitlines()[0]})") from None
  logging.info("Warm start: P initialised from %s", prefix)
  return prefix


def fingerprint(config: ml_collections.ConfigDict, metadata: dict) -> dict[str, Any]:
  return {"prior.base_channels": config.prior.base_channels, "prior.dense_units": config.prior.dense_units,
          "generator.z_dim": metadata["z_dim"], "generator.resolution": metadata["resolution"],
          "generator.channels": metadata["channels"],
          "structural_prior": config.get("structural_prior", "none"),
          "generator.fingerprint": hub.module_fingerprint(config.generator)}


def train(config: ml_collections.ConfigDict, *, workdir: str) -> dict[str, Any]:
  """Trains P for config.train.num_steps (resuming from workdir) and exports it."""
  # ------------------------------------------------------------------ set-up
  strategy = runtime.make_strategy(config.train.distribution)
  chief = runtime.is_chief(strategy)
  global_batch = config.train.batch_size
  if global_batch % strategy.num_replicas_in_sync:
    raise InputError(f"--config.train.batch_size={global_batch}: must be divisible by the "
                     f"{strategy.num_replicas_in_sync} replicas")
  os.makedirs(workdir, exist_ok=True)

  # ------------------------------------------------------------------ frozen G and D
  with strategy.scope():
    generator, discriminator, metadata = load_frozen_gan(config)
  check_data_matches_generator(config, metadata)
  structural_prior = load_structural_prior(config, metadata)  # None: M_z; else M_{z+S}
  resolution = metadata["resolution"]
  if discriminator is None:
    logging.warning("No discriminator: Eq. 5 (photo-realism) is off for this run (config.discriminator='none').")

  # ------------------------------------------------------------------ data: images and masks
  images = datasets.make_image_dataset(
      source=config.data.source, data_dir=config.data.data_dir or None, split=config.data.split,
      resolution=resolution, channels=config.data.channels, batch_size=global_batch,
      shuffle=True, repeat=True, seed=config.seed, split_file=config.data.get("split_file") or None)
  masks = make_mask_dataset(config, resolution=resolution, seed=config.seed).batch(global_batch)
  dataset = tf.data.Dataset.zip((images, masks)).prefetch(tf.data.AUTOTUNE)
  distributed_dataset = strategy.experimental_distribute_dataset(dataset)

  # ------------------------------------------------------------------ P and its optimizer
  p_config = predictor_config(config, metadata)
  with strategy.scope():
    predictor = prior_lib.build_prior_predictor(p_config)
    optimizer = runtime.built_adam(learning_rate_schedule(config), predictor.trainable_variables,
                                   beta1=config.train.beta1, beta2=config.train.beta2)
    step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")

  # ------------------------------------------------------------------ resume
  keeper = runtime.CheckpointKeeper(
      os.path.join(workdir, "checkpoints"), fingerprint=fingerprint(config, metadata),
      max_to_keep=config.train.keep_checkpoints, prior_predictor=predictor, optimizer=optimizer, step=step)
  restored = keeper.restore_latest()
  resumed_from_step = int(step.numpy())
  if restored:
    logging.info("Resumed from %s at step %d", restored, resumed_from_step)
  elif config.train.get("warm_start"):
    warm_start(predictor, config.train.warm_start)

  # ------------------------------------------------------------------ one step of Eq. 7
  lambda_realism = config.loss.lambda_realism if discriminator is not None else 0.0
  lambda_gradient = config.loss.lambda_gradient
  decay = config.loss.contextual_decay

  def generate(masked_images, hole_masks, training=False):
    """G(P(I_d, M)) for M_z, G(P(I_d, M, S), S) for M_{z+S}; and D's logits on it."""
    if structural_prior is None:
      generated = generator(predictor([masked_images, hole_masks], training=training))
      return generated, (discriminator(generated) if discriminator is not None else None)
    conditions = structural_prior(masked_images, hole_masks)
    generated = generator([predictor([masked_images, hole_masks, conditions], training=training), conditions])
    return generated, (discriminator([generated, conditions]) if discriminator is not None else None)

  def replica_step(real_images, hole_masks):
    masked_images = (1.0 - hole_masks) * real_images
    weights = losses.contextual_weights(hole_masks, decay=decay)

    def loss_parts():
      generated, fake_logits = generate(masked_images, hole_masks, training=True)
      return losses.prior_losses(images_or_masked=masked_images, generated_images=generated,
                                 masks=hole_masks, fake_logits=fake_logits, weights=weights,
                                 lambda_realism=lambda_realism, lambda_gradient=lambda_gradient)

    return runtime.minimize(loss_parts, model=predictor, optimizer=optimizer, global_batch_size=global_batch)

  train_step = runtime.distributed_step(strategy, replica_step, step=step, jit_compile=config.train.jit_compile)

  # ------------------------------------------------------------------ loop
  summaries = runtime.Summaries(workdir, enabled=chief)
  grid_images = next(iter(datasets.make_image_dataset(
      source=config.data.source, data_dir=config.data.data_dir or None, split=config.data.split,
      resolution=resolution, channels=config.data.channels, batch_size=config.train.sample_grid_size,
      shuffle=False, repeat=False, seed=0, split_file=config.data.get("split_file") or None)))
  grid_masks = next(iter(make_mask_dataset(config, resolution=resolution, seed=config.seed + 999).batch(
      config.train.sample_grid_size)))

  def write_samples(at_step: int) -> str:
    """Rows of (masked | G(P(I_d)) | Eq. 8 output | original)."""
    masked = (1.0 - grid_masks) * grid_images + grid_masks  # holes shown white
    generated, _ = generate((1.0 - grid_masks) * grid_images, grid_masks)
    inpainted = (1.0 - grid_masks) * grid_images + grid_masks * generated
    quads = np.stack([masked, generated, inpainted, grid_images], axis=1)
    grid = visualize.make_grid(quads.reshape((-1, *quads.shape[2:])), columns=8)
    path = os.path.join(workdir, "samples", f"samples_{at_step:07d}.png")
    visualize.save_png(path, grid, upscale=config.train.sample_upscale)
    visualize.save_png(os.path.join(workdir, "samples_latest.png"), grid, upscale=config.train.sample_upscale)
    summaries.image(at_step, "masked_generated_inpainted_original", grid)
    return path

  last = runtime.run_training_loop(
      train_step=train_step, iterator=iter(distributed_dataset), start=resumed_from_step,
      num_steps=config.train.num_steps, global_batch_size=global_batch,
      summary_every=config.train.summary_every, sample_every=config.train.sample_every,
      checkpoint_every=config.train.checkpoint_every, keeper=keeper, summaries=summaries,
      write_samples=write_samples, chief=chief, description="train_prior")

  # ------------------------------------------------------------------ export
  final_step = int(step.numpy())
  result: dict[str, Any] = {"step": final_step, "resumed_from_step": resumed_from_step, "losses": last}
  if chief:
    result["samples"] = write_samples(final_step)
    export_dir = os.path.join(workdir, "export")
    p_metadata = hub.prior_predictor_metadata(
        generator_path=config.generator, generator_metadata=metadata,
        extra={"trained_steps": final_step, "warm_start": config.train.get("warm_start", ""),
               "lr_schedule": config.train.get("lr_schedule", "constant"), "lambda_realism": lambda_realism,
               "lambda_gradient": lambda_gradient, "photo_realism": "discriminator" if discriminator else "off",
               "discriminator": config.discriminator, "dataset": config.data.source,
               "config_name": config.get("name", ""),
               "structural_prior": config.get("structural_prior", "none"),
               "num_rays": metadata.get("num_rays", 0),
               "keypoint_refiner": config.get("keypoint_refiner", "")})
    hub.export_prior_predictor(predictor, os.path.join(export_dir, "prior_predictor"), metadata=p_metadata)
    hub.export_inpainter(os.path.join(export_dir, "inpainter"),
                         prior_predictor_path=os.path.join(export_dir, "prior_predictor"),
                         generator_path=config.generator,
                         keypoint_refiner_path=config.get("keypoint_refiner", ""))
    result["export_dir"] = export_dir
  summaries.flush()
  return result
