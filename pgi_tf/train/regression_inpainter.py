"""The regression peer (issue 13, beyond the paper): train a U-Net inpainter F(I_d, M) -> I.

    L_F = L1 on the hole (`losses.hole_l1_loss`) + λ_adv · non-saturating GAN loss of D(I_d + M ⊙ F)
    L_D = non-saturating GAN loss of D on real images vs the composites      (Eq. 1's game)

the recipe of GLCIC / DeepFill / LaMa at the smallest size: same data split and training masks
as P (`configs/fashion_mnist32_prior.py`), so the two schools differ only in how the hole is
filled. D is a fresh DCGAN discriminator (`models.dcgan`) judging whole composites, so it sees
the seam. Linear on purpose: config -> F, D -> resume -> data and masks -> step -> loop -> export.
"""

from __future__ import annotations

import os
from typing import Any

import ml_collections
import numpy as np
import tensorflow as tf
from absl import logging

from pgi_tf import hub
from pgi_tf import losses
from pgi_tf import visualize
from pgi_tf.data import datasets
from pgi_tf.models import dcgan
from pgi_tf.models import regression_inpainter as regression_lib
from pgi_tf.train import prior as prior_training
from pgi_tf.train import runtime


def model_config(config: ml_collections.ConfigDict) -> regression_lib.RegressionInpainterConfig:
  return regression_lib.RegressionInpainterConfig(
      resolution=config.data.resolution, channels=config.data.channels,
      base_channels=config.model.base_channels, max_channels=config.model.max_channels)


def train(config: ml_collections.ConfigDict, *, workdir: str) -> dict[str, Any]:
  """Trains F and its D for config.train.num_steps (resuming from workdir) and exports F."""
  # ------------------------------------------------------------------ set-up
  strategy, chief, global_batch = runtime.start_run(config.train, workdir, seed=config.seed)
  f_config = model_config(config)
  f_config.validate()
  resolution = f_config.resolution

  # ------------------------------------------------------------------ the image source (streams start after resume)
  def image_dataset(batch_size, **kwargs):
    return datasets.make_image_dataset(
        source=config.data.source, data_dir=config.data.data_dir or None, split=config.data.split,
        resolution=resolution, channels=config.data.channels, batch_size=batch_size,
        split_file=config.data.get("split_file") or None, **kwargs)

  # ------------------------------------------------------------------ F, D and their optimizers
  with strategy.scope():
    inpainter = regression_lib.build_regression_inpainter(f_config)
    discriminator = dcgan.build_discriminator(dcgan.preset(
        resolution, channels=f_config.channels, discriminator_base_channels=config.model.discriminator_base_channels))
    f_optimizer = runtime.built_adam(config.train.learning_rate, inpainter.trainable_variables,
                                     beta1=config.train.beta1, beta2=config.train.beta2)
    d_optimizer = runtime.built_adam(config.train.learning_rate, discriminator.trainable_variables,
                                     beta1=config.train.beta1, beta2=config.train.beta2)
    step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")

  # ------------------------------------------------------------------ resume
  keeper = runtime.CheckpointKeeper(
      os.path.join(workdir, "checkpoints"), fingerprint={"model": str(f_config), "d": config.model.discriminator_base_channels},
      max_to_keep=config.train.keep_checkpoints, inpainter=inpainter, discriminator=discriminator,
      f_optimizer=f_optimizer, d_optimizer=d_optimizer, step=step)
  restored = keeper.restore_latest()
  resumed_from_step = int(step.numpy())
  if restored:
    logging.info("Resumed from %s at step %d", restored, resumed_from_step)

  # ------------------------------------------------------------------ batches and holes, from the restored step
  # Functions of (seed, position), so a resumed run reads what an uninterrupted one would.
  images = image_dataset(global_batch, shuffle=True, repeat=True, seed=config.seed, start_batch=resumed_from_step)
  masks = prior_training.make_mask_dataset(config, resolution=resolution, seed=config.seed,
                                           start=resumed_from_step * global_batch).batch(global_batch)
  dataset = tf.data.Dataset.zip((images, masks)).prefetch(tf.data.AUTOTUNE)
  distributed_dataset = strategy.experimental_distribute_dataset(dataset)

  # ------------------------------------------------------------------ one step: D, then F
  lambda_adversarial = config.loss.lambda_adversarial

  def composite(real_images, hole_masks, training):
    masked_images = (1.0 - hole_masks) * real_images
    outputs = inpainter([masked_images, hole_masks], training=training)
    return outputs, (1.0 - hole_masks) * real_images + hole_masks * outputs  # Eq. 8

  def replica_step(real_images, hole_masks):
    average = lambda v: tf.nn.compute_average_loss(v, global_batch_size=global_batch)
    _, fakes = composite(real_images, hole_masks, training=False)
    with tf.GradientTape() as tape:
      d_loss = average(losses.discriminator_loss(
          kind="non_saturating", real_logits=discriminator(real_images, training=True),
          fake_logits=discriminator(tf.stop_gradient(fakes), training=True)))
    d_optimizer.apply_gradients(zip(tape.gradient(d_loss, discriminator.trainable_variables),
                                    discriminator.trainable_variables))
    with tf.GradientTape() as tape:
      outputs, fakes = composite(real_images, hole_masks, training=True)
      hole_l1 = losses.hole_l1_loss(images=real_images, outputs=outputs, masks=hole_masks)
      adversarial = losses.generator_loss(kind="non_saturating", fake_logits=discriminator(fakes, training=False))
      f_loss = average(hole_l1 + lambda_adversarial * adversarial)
    f_optimizer.apply_gradients(zip(tape.gradient(f_loss, inpainter.trainable_variables),
                                    inpainter.trainable_variables))
    return {"hole_l1": average(hole_l1), "adversarial": average(adversarial), "total": f_loss,
            "discriminator": d_loss}

  train_step = runtime.distributed_step(strategy, replica_step, step=step, jit_compile=config.train.jit_compile)

  # ------------------------------------------------------------------ loop
  summaries = runtime.Summaries(workdir, enabled=chief)
  grid_images = next(iter(image_dataset(config.train.sample_grid_size, shuffle=False, repeat=False, seed=0)))
  grid_masks = next(iter(prior_training.make_mask_dataset(config, resolution=resolution, seed=config.seed + 999)
                         .batch(config.train.sample_grid_size)))

  def write_samples(at_step: int) -> str:
    """Rows of (masked | F's output | Eq. 8 output | original)."""
    outputs, inpainted = composite(grid_images, grid_masks, training=False)
    masked = (1.0 - grid_masks) * grid_images + grid_masks  # holes shown white
    quads = np.stack([masked, outputs, inpainted, grid_images], axis=1)
    grid = visualize.make_grid(quads.reshape((-1, *quads.shape[2:])), columns=8)
    return runtime.save_samples(workdir, at_step, grid, upscale=config.train.sample_upscale, summaries=summaries,
                                tag="masked_output_inpainted_original")

  last = runtime.run_training_loop(
      train_step=train_step, iterator=iter(distributed_dataset), start=resumed_from_step,
      global_batch_size=global_batch, **runtime.cadence(config.train), keeper=keeper, summaries=summaries,
      write_samples=write_samples, chief=chief, description="train_regression_inpainter",
      optimizers={"inpainter": f_optimizer, "discriminator": d_optimizer})

  # ------------------------------------------------------------------ export
  final_step = int(step.numpy())
  result: dict[str, Any] = {"step": final_step, "resumed_from_step": resumed_from_step, "losses": last}
  if chief:
    result["samples"] = write_samples(final_step)
    path = os.path.join(workdir, "export", "regression_inpainter")
    hub.export_regression_inpainter(inpainter, path, metadata={
        "resolution": resolution, "channels": f_config.channels, "base_channels": f_config.base_channels,
        "trained_steps": final_step, "lambda_adversarial": lambda_adversarial, "dataset": config.data.source,
        "data_split": config.data.split, "config_name": config.get("name", ""),
        "training_masks": {"mixture_hole_ratios": list(config.masks.get("mixture_hole_ratios", ()))},
        "value_range": [-1.0, 1.0]})
    result["export_dir"] = path
  summaries.flush()
  return result
