"""Eq. 5's D for a generator that ships none: a critic trained against the frozen G.

Eq. 5, L_r = log(1 - D(G(P(I_d)))), needs a D that tells G's images from real ones. The
BigGAN and PG-GAN TF-Hub modules publish no discriminator (only compare_gan's modules ship one), so
this trainer fits one on the user's data: half of Eq. 1's game, max_D with G fixed,

    real x ~ data,  fake G(z) with z ~ G's own prior (metadata z_distribution / z_support)
    and, for a class-conditional BigGAN (condition_dim > 0), y = one-hot of a uniform class.

The critic is an unconditional DCGAN discriminator (`pgi_tf.models.dcgan`): it scores images
only. Generators above dcgan's largest size (BigGAN 256/512) are average-pooled down to
config.model.resolution first, inside the critic, so it still takes G's full-size images.
G enters through `generators.resolve_generator`, whose adapter holds no Keras weights: only
the critic's variables are updated (frozen by construction).

Caveat: the paper used the D trained WITH G; a critic fitted to a fixed G can learn G's
artefacts whatever the image quality (R1, config.train.r1_gamma, smooths it on real data).
Export: <workdir>/export/critic in `hub.export_discriminator`'s format (every loader of D
works on it), metadata critic=True and generator_fingerprint (G's weights), which
`check_critic_matches_generator` checks.
"""

from __future__ import annotations

import os
from typing import Any

import keras
import ml_collections
import numpy as np
import tensorflow as tf
from absl import logging

from pgi_tf import generators
from pgi_tf import hub
from pgi_tf import losses
from pgi_tf import visualize
from pgi_tf.data import datasets
from pgi_tf.errors import InputError
from pgi_tf.generators import z_prior
from pgi_tf.models import dcgan
from pgi_tf.train import runtime

CRITIC_LOSSES = ("non_saturating", "hinge")  # the D losses of losses.discriminator_loss used here
Z_DISTRIBUTIONS = z_prior.Z_DISTRIBUTIONS


# --------------------------------------------------------------------------- pure parts

def sample_z(noise: tf.random.Generator, *, batch_size, z_dim: int, z_distribution: str,
             z_support) -> tf.Tensor:
  """z [batch_size, z_dim] from a generator's prior (`pgi_tf.generators.z_prior`)."""
  return z_prior.sample_z(batch_size=batch_size, z_dim=z_dim, z_distribution=z_distribution,
                          z_support=z_support, noise=noise)


def critic_resolution(config: ml_collections.ConfigDict, image_resolution: int) -> int:
  """The DCGAN's input size: config.model.resolution, 0 -> G's size capped at dcgan's largest."""
  wanted = config.model.resolution or min(image_resolution, max(dcgan.SUPPORTED_RESOLUTIONS))
  if wanted not in dcgan.SUPPORTED_RESOLUTIONS or image_resolution % wanted:
    raise InputError(f"--config.model.resolution={config.model.resolution}: must be one of "
                     f"{dcgan.SUPPORTED_RESOLUTIONS} and divide the generator's {image_resolution} px")
  return wanted


def build_critic(config: ml_collections.ConfigDict, generator_metadata: dict) -> keras.Model:
  """The critic: images [N, R, R, C] at G's resolution -> logits [N] (real > 0)."""
  image_resolution, channels = generator_metadata["resolution"], generator_metadata["channels"]
  resolution = critic_resolution(config, image_resolution)
  discriminator = dcgan.build_discriminator(dcgan.DCGANConfig(
      resolution=resolution, channels=channels, z_dim=max(1, generator_metadata["z_dim"]),
      discriminator_base_channels=config.model.base_channels), name="critic_dcgan")
  images = keras.Input((image_resolution, image_resolution, channels), name="images")
  x = images
  if resolution < image_resolution:  # why: dcgan stops at 128 px; pooling keeps G's input size
    x = keras.layers.AveragePooling2D(image_resolution // resolution, name="to_critic_resolution")(x)
  return keras.Model(images, discriminator(x), name="critic")


def _resolve_frozen_generator(config: ml_collections.ConfigDict):
  layer, metadata = generators.resolve_from_config(config)
  if metadata.get("condition_dim") and metadata.get("family") != "biggan":
    raise InputError(f"--config.generator={config.generator}: a conditioned pgi_tf generator ships "
                     "its own discriminator; the critic is for modules without one")
  for field in ("resolution", "channels"):
    if config.data[field] != metadata[field]:
      raise InputError(f"--config.data.{field}={config.data[field]}: the generator "
                       f"({config.generator}) has {field} {metadata[field]}")
  if config.train.loss not in CRITIC_LOSSES:
    raise InputError(f"--config.train.loss={config.train.loss}: choose one of {', '.join(CRITIC_LOSSES)}")
  return layer, metadata


# --------------------------------------------------------------------------- train

def train(config: ml_collections.ConfigDict, *, workdir: str) -> dict[str, Any]:
  """Trains the critic for config.train.num_steps (resuming from workdir) and exports it."""
  # ------------------------------------------------------------------ set-up
  strategy, chief, global_batch = runtime.start_run(config.train, workdir, seed=config.seed)

  # ------------------------------------------------------------------ frozen G
  with strategy.scope():
    generator, metadata = _resolve_frozen_generator(config)
  resolution, z_dim, num_classes = metadata["resolution"], metadata["z_dim"], metadata.get("condition_dim", 0)
  g_fingerprint = generators.fingerprint(metadata)
  os.makedirs(workdir, exist_ok=True)

  # ------------------------------------------------------------------ real images
  def real_images(batch_size: int, *, shuffle: bool, repeat: bool, start_batch: int = 0) -> tf.data.Dataset:
    return datasets.make_image_dataset(
        source=config.data.source, data_dir=config.data.data_dir or None, split=config.data.split,
        resolution=resolution, channels=config.data.channels, batch_size=batch_size, shuffle=shuffle,
        repeat=repeat, seed=config.seed, split_file=config.data.get("split_file") or None,
        start_batch=start_batch)

  # ------------------------------------------------------------------ critic and its optimizer
  with strategy.scope():
    critic = build_critic(config, metadata)
    optimizer = runtime.built_adam(config.train.learning_rate, critic.trainable_variables,
                                   beta1=config.train.beta1, beta2=config.train.beta2)
    step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
    noise = tf.random.Generator.from_seed(config.seed)

  # ------------------------------------------------------------------ resume
  keeper = runtime.CheckpointKeeper(
      os.path.join(workdir, "checkpoints"), max_to_keep=config.train.keep_checkpoints,
      fingerprint={"model.base_channels": config.model.base_channels, "model.resolution":
                   critic_resolution(config, resolution), "train.loss": config.train.loss,
                   "generator.fingerprint": g_fingerprint, "generator.resolution": resolution,
                   "generator.truncation": metadata.get("truncation"),
                   "generator.class_index": metadata.get("class_index")},
      critic=critic, optimizer=optimizer, step=step, noise=noise)
  restored = keeper.restore_latest()
  resumed_from_step = int(step.numpy())
  if restored:
    logging.info("Resumed from %s at step %d", restored, resumed_from_step)

  # ------------------------------------------------------------------ real batches, from the restored step
  # A function of (seed, batch), so a resumed run reads what an uninterrupted one would.
  # (images,) tuples: runtime.distributed_step calls replica_step(*batch).
  dataset = real_images(global_batch, shuffle=True, repeat=True, start_batch=resumed_from_step)
  dataset = dataset.map(lambda x: (x,)).prefetch(tf.data.AUTOTUNE)
  distributed_dataset = strategy.experimental_distribute_dataset(dataset)

  # ------------------------------------------------------------------ one critic step (max_D of Eq. 1, G fixed)
  def generate(z, labels):
    """G(z), or G([z, one_hot(y)]) for a class-conditional BigGAN."""
    return generator(z) if not num_classes else generator([z, tf.one_hot(labels, num_classes)])

  def sample_fakes(batch_size):
    z = sample_z(noise, batch_size=batch_size, z_dim=z_dim, z_distribution=metadata["z_distribution"],
                 z_support=metadata["z_support"])
    labels = noise.uniform([batch_size], 0, max(num_classes, 1), dtype=tf.int32)  # uniform classes
    return generate(z, labels)

  loss_kind, r1_gamma = config.train.loss, float(config.train.get("r1_gamma", 0.0))

  def replica_step(reals):
    fakes = tf.stop_gradient(sample_fakes(tf.shape(reals)[0]))  # G is fixed: no gradient through it

    def loss_parts():
      real_logits = critic(reals, training=True)
      fake_logits = critic(fakes, training=True)
      critic_loss = losses.discriminator_loss(kind=loss_kind, real_logits=real_logits, fake_logits=fake_logits)
      penalty = (losses.r1_penalty(discriminator_fn=lambda x: critic(x, training=True), real_images=reals)
                 if r1_gamma else tf.zeros_like(critic_loss))
      correct = tf.cast(real_logits > 0, tf.float32) + tf.cast(fake_logits < 0, tf.float32)
      return {"total": critic_loss + 0.5 * r1_gamma * penalty, "critic": critic_loss, "r1": penalty,
              "real_logit": real_logits, "fake_logit": fake_logits, "accuracy": 0.5 * correct}

    return runtime.minimize(loss_parts, model=critic, optimizer=optimizer, global_batch_size=global_batch)

  train_step = runtime.distributed_step(strategy, replica_step, step=step, jit_compile=config.train.jit_compile)

  # ------------------------------------------------------------------ loop
  summaries = runtime.Summaries(workdir, enabled=chief)
  grid_size = config.train.sample_grid_size
  grid_reals = next(iter(real_images(grid_size, shuffle=False, repeat=True))).numpy()
  fixed_noise = tf.random.Generator.from_seed(config.seed + 999)
  fixed_z = sample_z(fixed_noise, batch_size=grid_size, z_dim=z_dim,
                     z_distribution=metadata["z_distribution"], z_support=metadata["z_support"])
  fixed_labels = fixed_noise.uniform([grid_size], 0, max(num_classes, 1), dtype=tf.int32)

  def write_samples(at_step: int) -> str:
    """Rows of (k reals | k fakes): the critic's two classes side by side."""
    fakes = generate(fixed_z, fixed_labels).numpy()
    k = max(1, int(np.sqrt(grid_size)))
    rows = grid_size // k
    pairs = np.concatenate([grid_reals[:rows * k].reshape(rows, k, *grid_reals.shape[1:]),
                            fakes[:rows * k].reshape(rows, k, *fakes.shape[1:])], axis=1)
    grid = visualize.make_grid(pairs.reshape(-1, *pairs.shape[2:]), columns=2 * k)
    return runtime.save_samples(workdir, at_step, grid, upscale=config.train.sample_upscale, summaries=summaries,
                                tag="reals_fakes")

  last = runtime.run_training_loop(
      train_step=train_step, iterator=iter(distributed_dataset), start=resumed_from_step,
      global_batch_size=global_batch, **runtime.cadence(config.train), keeper=keeper, summaries=summaries,
      write_samples=write_samples, chief=chief, description="train_critic",
      optimizers={"critic": optimizer})

  # ------------------------------------------------------------------ export
  final_step = int(step.numpy())
  result: dict[str, Any] = {"step": final_step, "resumed_from_step": resumed_from_step, "losses": last}
  if chief:
    result["samples"] = write_samples(final_step)
    critic_metadata = hub.gan_metadata(
        resolution=resolution, channels=metadata["channels"], z_dim=z_dim, condition_dim=0,
        extra={"critic": True, "photo_realism": "critic", "critic_for": config.generator,
               "generator_name": metadata.get("generator"), "generator_family": metadata.get("family"),
               "generator_standin": bool(metadata.get("standin")), "generator_fingerprint": g_fingerprint,
               "generator_condition_dim": num_classes, "z_distribution": metadata["z_distribution"],
               "generator_module_resolution": metadata.get("module_resolution", resolution),
               "z_support": list(metadata["z_support"]), "truncation": metadata.get("truncation"),
               "class_index": metadata.get("class_index"), "trained_steps": final_step, "loss": loss_kind,
               "r1_gamma": r1_gamma, "dataset": config.data.source, "config_name": config.get("name", ""),
               "critic_resolution": critic_resolution(config, resolution)})
    export_path = os.path.join(workdir, "export", "critic")
    hub.export_discriminator(critic, export_path, metadata=critic_metadata)
    result["export_dir"] = export_path
  summaries.flush()
  return result
