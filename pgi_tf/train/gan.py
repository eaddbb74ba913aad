"""Stage 1 (§3.1): train a DCGAN with the game of Eq. 1, then export G and D as hub modules.

Linear on purpose: config -> models -> resume -> data -> step function -> loop -> export.
The maths lives in `pgi_tf.losses`; this file only coordinates.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import ml_collections
import numpy as np
import tensorflow as tf
import keras
from absl import logging

from pgi_tf import hub
from pgi_tf import losses
from pgi_tf import visualize
from pgi_tf.data import datasets
from pgi_tf import structural
from pgi_tf.errors import InputError
from pgi_tf.generators import z_prior
from pgi_tf.models import dcgan
from pgi_tf.train import runtime
from pgi_tf.evaluation import figures


def structural_prior_fn(config: ml_collections.ConfigDict):
  """images -> condition vectors [N, c] for a GAN conditioned on a structural prior (§4.2), or None.

  G(z, S) and D(x, S) both see S of the real (unmasked) image, computed as the kind says
  (`pgi_tf.structural`: silhouette keypoints, or dlib's 68 landmarks through tf.numpy_function,
  which cannot be XLA-compiled and costs ~5 ms per 64 px image).
  """
  kind = structural.check_kind(config.model.get("structural_prior", "none"), flag="--config.model.structural_prior")
  return structural.real_condition_fn(kind, config.model)


def condition_dim(config: ml_collections.ConfigDict) -> int:
  kind = config.model.get("structural_prior", "none")
  if kind != "none":
    return structural.condition_dim(kind, num_rays=config.model.get("num_rays", 0))
  return config.model.get("condition_dim", 0)


def check_structural_prior(config: ml_collections.ConfigDict) -> None:
  """Settings the GAN's structural prior kind cannot train with (e.g. XLA with dlib)."""
  kind = config.model.get("structural_prior", "none")
  if kind != "none":
    structural.get_kind(kind, flag="--config.model.structural_prior").check_gan_config(config)


def model_config(config: ml_collections.ConfigDict) -> dcgan.DCGANConfig:
  """The DCGANConfig a preset describes (resolution and channels come from the data)."""
  return dcgan.DCGANConfig(
      resolution=config.data.resolution, channels=config.data.channels,
      z_dim=config.model.z_dim, condition_dim=condition_dim(config),
      generator_base_channels=config.model.generator_base_channels,
      discriminator_base_channels=config.model.discriminator_base_channels,
      generator_norm=config.model.generator_norm, discriminator_norm=config.model.discriminator_norm,
      condition_map=config.model.get("condition_map", ""))


def fingerprint(config: ml_collections.ConfigDict) -> dict[str, Any]:
  """Fields that must match for a checkpoint to be resumed: shapes and the game."""
  return {**{f"model.{k}": v for k, v in dataclasses.asdict(model_config(config)).items()},
          "train.loss": config.train.loss}


def sample_z(generator: tf.random.Generator, batch_size: int, z_dim: int) -> tf.Tensor:
  """z ~ U[-1, 1]^d (§3.1)."""
  return z_prior.sample_z(batch_size=batch_size, z_dim=z_dim, z_distribution="uniform", noise=generator)


def make_train_step(*, strategy: tf.distribute.Strategy, generator: keras.Model,
                    discriminator: keras.Model, generator_optimizer, discriminator_optimizer,
                    noise: tf.random.Generator, step: tf.Variable, loss_kind: str, z_dim: int,
                    global_batch_size: int, discriminator_steps: int = 1,
                    gradient_penalty_weight: float = 10.0, jit_compile: bool = False,
                    condition_fn=None):
  """One step of the game of Eq. 1 as a tf.function over a distributed batch of real images.

  Returns (discriminator loss, generator loss), each averaged over the global batch.
  jit_compile compiles each replica's step with XLA (the cross-replica part stays outside).
  condition_fn: images -> condition vectors; G and D then play Eq. 1 conditioned on the real
  batch's conditions (the fakes of a step share the conditions of the real images).
  """

  def replica_step(real_images):
    batch = tf.shape(real_images)[0]
    conditions = condition_fn(real_images) if condition_fn is not None else None
    g = (lambda z, **kw: generator(z, **kw)) if conditions is None else (
        lambda z, **kw: generator([z, conditions], **kw))
    d_plain = (lambda x, **kw: discriminator(x, **kw)) if conditions is None else (
        lambda x, **kw: discriminator([x, conditions], **kw))
    # D steps: max_D of Eq. 1 (or its hinge / Wasserstein variant).
    for _ in range(discriminator_steps):
      z = sample_z(noise, batch, z_dim)
      with tf.GradientTape() as tape:
        fake_images = g(z, training=True)
        real_logits = d_plain(real_images, training=True)
        fake_logits = d_plain(fake_images, training=True)
        per_example = losses.discriminator_loss(kind=loss_kind, real_logits=real_logits,
                                                fake_logits=fake_logits)
        if loss_kind == "wgan_gp":
          weights = noise.uniform([batch, 1, 1, 1])  # U[0, 1], as in Gulrajani et al.
          per_example += gradient_penalty_weight * losses.gradient_penalty(
              discriminator_fn=lambda x: d_plain(x, training=True), real_images=real_images,
              fake_images=fake_images, interpolation_weights=weights)
        d_loss = tf.nn.compute_average_loss(per_example, global_batch_size=global_batch_size)
      grads = tape.gradient(d_loss, discriminator.trainable_variables)
      discriminator_optimizer.apply_gradients(zip(grads, discriminator.trainable_variables))
    # G step: min_G, non-saturating by default.
    z = sample_z(noise, batch, z_dim)
    with tf.GradientTape() as tape:
      fake_logits = d_plain(g(z, training=True), training=True)
      per_example = losses.generator_loss(kind=loss_kind, fake_logits=fake_logits)
      g_loss = tf.nn.compute_average_loss(per_example, global_batch_size=global_batch_size)
    grads = tape.gradient(g_loss, generator.trainable_variables)
    generator_optimizer.apply_gradients(zip(grads, generator.trainable_variables))
    return d_loss, g_loss

  if jit_compile:
    replica_step = tf.function(replica_step, jit_compile=True)

  @tf.function
  def train_step(real_images):
    d_loss, g_loss = strategy.run(replica_step, args=(real_images,))
    step.assign_add(1)
    return (strategy.reduce("SUM", d_loss, axis=None), strategy.reduce("SUM", g_loss, axis=None))

  return train_step


def train(config: ml_collections.ConfigDict, *, workdir: str) -> dict[str, Any]:
  """Trains G and D for config.train.num_steps (resuming from workdir) and exports them.

  Returns a summary dict: final step, losses, images/s, export paths.
  """
  # ------------------------------------------------------------------ set-up
  if config.train.loss not in losses.GAN_LOSSES:
    raise InputError(f"--config.train.loss={config.train.loss}: choose one of {', '.join(losses.GAN_LOSSES)}")
  check_structural_prior(config)
  strategy, chief, global_batch = runtime.start_run(config.train, workdir, seed=config.seed)
  gan_config = model_config(config)
  gan_config.validate()

  # ------------------------------------------------------------------ models
  with strategy.scope():
    generator, discriminator = dcgan.build_gan(gan_config)
    generator_optimizer = runtime.built_adam(config.train.generator_learning_rate, generator.trainable_variables,
                                             beta1=config.train.beta1, beta2=config.train.beta2)
    discriminator_optimizer = runtime.built_adam(config.train.discriminator_learning_rate,
                                                 discriminator.trainable_variables,
                                                 beta1=config.train.beta1, beta2=config.train.beta2)
    step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
    noise = tf.random.Generator.from_seed(config.seed)

  # ------------------------------------------------------------------ resume
  keeper = runtime.CheckpointKeeper(
      os.path.join(workdir, "checkpoints"), fingerprint=fingerprint(config),
      max_to_keep=config.train.keep_checkpoints, generator=generator, discriminator=discriminator,
      generator_optimizer=generator_optimizer, discriminator_optimizer=discriminator_optimizer,
      step=step, noise=noise)
  restored = keeper.restore_latest()
  resumed_from_step = int(step.numpy())
  if restored:
    logging.info("Resumed from %s at step %d", restored, int(step.numpy()))

  # ------------------------------------------------------------------ data, from the restored step
  # A pure function of (seed, batch): a resumed run reads what an uninterrupted one would.
  dataset = datasets.make_image_dataset(
      source=config.data.source, data_dir=config.data.data_dir or None, split=config.data.split,
      resolution=config.data.resolution, channels=config.data.channels, batch_size=global_batch,
      shuffle=True, repeat=True, seed=config.seed, split_file=config.data.get("split_file") or None,
      start_batch=resumed_from_step)
  distributed_dataset = strategy.experimental_distribute_dataset(dataset)

  # ------------------------------------------------------------------ one step of Eq. 1
  z_dim = gan_config.z_dim
  loss_kind = config.train.loss
  condition_fn = structural_prior_fn(config)
  train_step = make_train_step(
      strategy=strategy, generator=generator, discriminator=discriminator,
      generator_optimizer=generator_optimizer, discriminator_optimizer=discriminator_optimizer,
      noise=noise, step=step, loss_kind=loss_kind, z_dim=z_dim, global_batch_size=global_batch,
      discriminator_steps=config.train.discriminator_steps,
      gradient_penalty_weight=config.train.gradient_penalty_weight,
      jit_compile=config.train.jit_compile, condition_fn=condition_fn)

  # ------------------------------------------------------------------ loop
  summaries = runtime.Summaries(workdir, enabled=chief)
  fixed_z = tf.constant(np.random.default_rng(config.seed).uniform(
      -1, 1, (config.train.sample_grid_size, z_dim)).astype(np.float32))

  fixed_conditions = None
  if condition_fn is not None:  # the priors of the first training images, one per sample
    fixed_conditions = condition_fn(next(iter(datasets.make_image_dataset(
        source=config.data.source, data_dir=config.data.data_dir or None, split=config.data.split,
        resolution=config.data.resolution, channels=config.data.channels,
        batch_size=config.train.sample_grid_size, shuffle=False, repeat=False, seed=0,
        split_file=config.data.get("split_file") or None))))

  def write_samples(at_step: int) -> str:
    inputs = fixed_z if fixed_conditions is None else [fixed_z, fixed_conditions]
    images = generator(inputs, training=False).numpy()
    grid = visualize.make_grid(images)
    return runtime.save_samples(workdir, at_step, grid, upscale=config.train.sample_upscale, summaries=summaries,
                                tag="samples")

  last = runtime.run_training_loop(
      train_step=lambda batch: dict(zip(("discriminator", "generator"), train_step(batch))),
      iterator=iter(distributed_dataset), start=resumed_from_step, global_batch_size=global_batch,
      **runtime.cadence(config.train), keeper=keeper, summaries=summaries, write_samples=write_samples,
      chief=chief, description="train_gan",
      optimizers={"generator": generator_optimizer, "discriminator": discriminator_optimizer})

  # ------------------------------------------------------------------ export
  final_step = int(step.numpy())
  result: dict[str, Any] = {"step": final_step, "resumed_from_step": resumed_from_step,
                            "discriminator_loss": last.get("discriminator", float("nan")),
                            "generator_loss": last.get("generator", float("nan")),
                            "images_per_second": last.get("images_per_second", 0.0)}
  kind = config.model.get("structural_prior", "none")
  if chief:
    result["samples"] = write_samples(final_step)
    metadata = hub.gan_metadata(
        resolution=gan_config.resolution, channels=gan_config.channels, z_dim=gan_config.z_dim,
        condition_dim=gan_config.condition_dim,
        extra={"trained_steps": final_step, "dataset": config.data.source, "gan_loss": loss_kind,
               "structural_prior": kind, "num_rays": config.model.get("num_rays", 0),
               **(structural.get_kind(kind).gan_metadata(config.model) if kind != "none" else {}),
               "config_name": config.get("name", "")})
    export_dir = os.path.join(workdir, "export")
    hub.export_generator(generator, os.path.join(export_dir, "generator"), metadata=metadata)
    hub.export_discriminator(discriminator, os.path.join(export_dir, "discriminator"), metadata=metadata)
    result["export_dir"] = export_dir
  if chief and fixed_conditions is not None:  # Fig. 6 (§6.3.2), and do samples follow their priors?
    panel = min(8, len(fixed_z))
    in_image = structural.get_kind(kind).image_coordinates  # keypoints drawn on the samples?
    grids = figures.fig6_grids(generator, conditions=fixed_conditions[:panel], z=fixed_z[:panel],
                               num_rays=fixed_conditions.shape[-1] // 2, overlay=in_image)
    for name, grid in zip(("fig6_same_z", "fig6_same_prior"), grids):
      result[name] = os.path.join(workdir, f"{name}.png")
      visualize.save_png(result[name], grid, upscale=config.train.sample_upscale)
    if in_image:  # measured back with the detector on the samples; no such measure for dlib yet
      # On the priors of the first training images (fixed_conditions), one fixed z each.
      result["prior_following"] = figures.prior_following(
          generator, conditions=fixed_conditions, z=fixed_z, num_rays=config.model.num_rays)
  summaries.flush()
  return result
