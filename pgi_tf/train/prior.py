"""Stage 2 (§4.1): train the noise-prior predictor P against a frozen G and D with Eq. 7.

    L_z^com = L_c (Eq. 3-4) + λ1 L_r (Eq. 5) + λ2 L_g (Eq. 6)

G and D enter as hub modules (`pgi_tf.hub.HubModuleLayer`): their variables are not
trainable weights of anything here, so they are frozen by construction. Linear on
purpose: config -> frozen G, D -> P -> resume -> data and masks -> step -> loop -> export.
"""

from __future__ import annotations

import dataclasses
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
from pgi_tf.generators import photo_realism
from pgi_tf.generators import z_prior
from pgi_tf import visualize
from pgi_tf.data import datasets
from pgi_tf.data import masks as masks_lib
from pgi_tf.errors import InputError
from pgi_tf.inference import candidates
from pgi_tf.inference import conditioning as conditioning_lib
from pgi_tf.inference import export as inference_export
from pgi_tf.metrics import extractors
from pgi_tf.metrics import frechet
from pgi_tf.metrics import image_quality
from pgi_tf.models import prior_predictor as prior_lib
from pgi_tf import structural
from pgi_tf.train import runtime


def load_frozen_gan(config: ml_collections.ConfigDict):
  """(G layer, D layer or None, G metadata, photo-realism record) from the config.

  config.generator is a registry name (progan-128, biggan-256, ...), a TF-Hub handle or a
  module directory (`pgi_tf.generators`); config.photo_realism picks D (`pgi_tf.generators.photo_realism`).
  """
  generator, metadata = generators.resolve_from_config(config)
  discriminator, realism = photo_realism.load(
      config.get("photo_realism", "auto"), discriminator=config.discriminator, generator_metadata=metadata,
      required=True, policy_flag="--config.photo_realism", discriminator_flag="--config.discriminator")
  return generator, discriminator, metadata, realism


def check_data_matches_generator(config: ml_collections.ConfigDict, metadata: dict) -> None:
  for field in ("resolution", "channels"):
    if config.data[field] != metadata[field]:
      raise InputError(f"--config.data.{field}={config.data[field]}: the generator "
                       f"({config.generator}) has {field} {metadata[field]}")


def load_structural_prior(config: ml_collections.ConfigDict, metadata: dict):
  """M_{z+S}'s S (§4.2) or None for M_z; the frozen G must be conditioned on the same kind."""
  kind = structural.check_kind(config.get("structural_prior", "none"), flag="--config.structural_prior")
  generator_kind = metadata.get("structural_prior", "none")
  if kind != generator_kind:
    raise InputError(f"--config.structural_prior={kind}: the generator ({config.generator}) is conditioned "
                     f"on {generator_kind!r}")
  return structural.load_structural_prior(kind, refiner_path=config.get("keypoint_refiner", ""),
                                      num_rays=metadata.get("num_rays", 0) or 16,
                                      upsample=metadata.get("landmark_upsample", 1),
                                      flag="--config.keypoint_refiner")


def condition_kind(config: ml_collections.ConfigDict, metadata: dict) -> str:
  """What P and G are conditioned on: "none" (M_z), "structural" (M_{z+S}, §4.2) or
  "class" (a BigGAN without a fixed class: the one-hot label, §6.3.3)."""
  if config.get("structural_prior", "none") != "none":
    return "structural"
  return "class" if generators.class_conditional(metadata) else "none"


def predictor_config(config: ml_collections.ConfigDict, metadata: dict) -> prior_lib.PriorPredictorConfig:
  """P's hyperparameters; z size, prior, head and condition size follow the generator's metadata."""
  return prior_lib.PriorPredictorConfig(
      resolution=metadata["resolution"], channels=metadata["channels"], z_dim=metadata["z_dim"],
      condition_dim=metadata.get("condition_dim", 0) if condition_kind(config, metadata) != "none" else 0,
      base_channels=config.prior.base_channels, dense_units=config.prior.dense_units,
      num_candidates=config.prior.get("num_candidates", 1),
      z_distribution=metadata.get("z_distribution", "uniform"),
      z_support=tuple(metadata.get("z_support", (-1.0, 1.0))))


def make_mask_dataset(config: ml_collections.ConfigDict, *, resolution: int, seed: int,
                      start: int = 0) -> tf.data.Dataset:
  """Training masks: one MaskSpec, or a uniform mixture over config.masks.mixture_hole_ratios
  ("ratio" masks of each ratio) or config.masks.mixture_sizes (masks.kind "square" or
  "central" of each side in px, e.g. Table 2's central 96..128 px holes on ImageNet).

  The stream begins at mask `start` (a resumed trainer passes step * global batch) and is a
  function of the seed and the mask's position (`masks.make_mask_dataset`)."""
  mixtures = ("mixture_hole_ratios", "mixture_sizes")
  spec_fields = {k: v for k, v in config.masks.to_dict().items() if k not in mixtures}
  ratios = tuple(config.masks.get("mixture_hole_ratios", ()) or ())
  sizes = tuple(config.masks.get("mixture_sizes", ()) or ())
  if ratios and sizes:
    raise InputError("--config.masks.mixture_sizes: give mixture_hole_ratios or mixture_sizes, not both")
  if sizes and config.masks.kind not in ("square", "central"):
    raise InputError(f"--config.masks.mixture_sizes: needs masks.kind square or central, not {config.masks.kind}")
  variants = ([dict(spec_fields, kind="ratio", hole_ratio=r) for r in ratios]
              or [dict(spec_fields, size=int(v)) for v in sizes])
  specs = [masks_lib.MaskSpec.from_config(fields) for fields in variants or [spec_fields]]
  return masks_lib.make_mask_dataset(specs, height=resolution, width=resolution, seed=seed, start=start)


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


VAL_SPLIT = "val"  # choices are made on val; training never looks at the test split
VAL_MASK_SEED_OFFSET = 2  # the val holes: make_mask_dataset(config, seed=config.seed + this)


def validation_batch(config: ml_collections.ConfigDict, *, resolution: int, with_labels: bool = False):
  """The fixed batch the periodic validation metric is computed on: the first
  config.train.eval_batch_size images of the val split (no split file: it lists training images)
  and that many training-kind holes. Returns (images, masks, labels or None)."""
  batch = next(iter(datasets.make_image_dataset(
      source=config.data.source, data_dir=config.data.data_dir or None, split=VAL_SPLIT,
      resolution=resolution, channels=config.data.channels, batch_size=config.train.eval_batch_size,
      shuffle=False, repeat=False, drop_remainder=False, with_labels=with_labels)))
  images, labels = batch if with_labels else (batch, None)
  masks = next(iter(make_mask_dataset(config, resolution=resolution, seed=config.seed + VAL_MASK_SEED_OFFSET)
                    .batch(len(images))))
  return images, masks, labels


def hole_psnr(*, images, references, masks) -> np.ndarray:
  """PSNR per image over the hole's pixels only (M = 1), with image_quality.psnr's conventions
  ([-1, 1] mapped and clipped to [0, 1], data range 1, capped at PSNR_CAP_DB). [N]."""
  x = np.clip((np.asarray(images, np.float64) + 1.0) / 2.0, 0.0, 1.0)
  y = np.clip((np.asarray(references, np.float64) + 1.0) / 2.0, 0.0, 1.0)
  hole = np.broadcast_to(np.asarray(masks, np.float64), x.shape)
  mse = np.sum(hole * (x - y) ** 2, axis=(1, 2, 3)) / np.maximum(np.sum(hole, axis=(1, 2, 3)), 1.0)
  with np.errstate(divide="ignore"):
    return np.minimum(10.0 * np.log10(1.0 / mse), image_quality.PSNR_CAP_DB)


def validation_metrics(*, inpainted, images, masks, extractor=None) -> dict[str, float]:
  """Means over the batch of the Eq. 8 outputs' PSNR (whole image, and hole only) and, with a
  feature extractor, the Fréchet distance of the outputs to the originals (a small-sample FD:
  biased upwards, for following a run, not for tables)."""
  metrics = {"psnr_db": float(np.mean(image_quality.psnr(images=inpainted, references=images))),
             "psnr_hole_db": float(np.mean(hole_psnr(images=inpainted, references=images, masks=masks)))}
  if extractor is not None:
    metrics["frechet_distance"] = frechet.frechet_result(extractor=extractor, images=np.asarray(inpainted),
                                                         reference_images=np.asarray(images)).value
  return metrics


def warm_start(predictor: keras.Model, path: str, *, p_config: prior_lib.PriorPredictorConfig) -> str:
  """Initialises P's weights (not the optimizer or step) from another run's checkpoint or export.

  `path` is a checkpoint prefix (…/ckpt-20000), a checkpoints directory (newest is used) or an
  exported P (e.g. the bundled hub_modules/fashion_mnist32/prior_predictor). Used to fine-tune a
  trained P with another schedule, λ or term; the other run is not touched. A K-candidate P may
  start from a one-head P: its K heads then start near that head (`prior_predictor.spread_heads`)."""
  targets = [predictor]
  if p_config.num_candidates > 1:
    targets.append(prior_lib.build_prior_predictor(dataclasses.replace(p_config, num_candidates=1)))
  for target in targets:
    try:
      prefix = _read_weights(target, path)
      break
    except InputError as error:
      failure = error
  else:
    raise failure
  if target is not predictor:
    prior_lib.spread_heads(target, predictor, seed=0)
  logging.info("Warm start: P initialised from %s", prefix)
  return prefix


def _read_weights(predictor: keras.Model, path: str) -> str:
  if hub.read_metadata(path):
    return hub.read_prior_predictor_weights(predictor, path)
  prefix = tf.train.latest_checkpoint(path) if os.path.isdir(path) else path
  if not prefix or not tf.io.gfile.exists(prefix + ".index"):
    raise InputError(f"--config.train.warm_start={path}: no checkpoint or exported P found")
  return hub.read_weights_into(prefix, flag="--config.train.warm_start", path=path, noun="a checkpoint of a P",
                               prior_predictor=predictor)


def generator_record(config: ml_collections.ConfigDict, metadata: dict) -> dict[str, Any]:
  """How G was resolved, for P's metadata: enough to resolve the same adapter again."""
  return {"generator": config.generator, "generator_name": metadata.get("generator", "ours"),
          "generator_family": metadata.get("family", "ours"), "generator_handle": metadata.get("handle", ""),
          "standin": metadata.get("standin", False), "truncation": metadata.get("truncation"),
          "class_index": metadata.get("class_index"), "num_classes": metadata.get("num_classes", 0),
          "class_conditional": generators.class_conditional(metadata),
          "output_resolution": metadata["resolution"] if metadata.get("module_resolution") not in
          (None, metadata["resolution"]) else 0}


def fingerprint(config: ml_collections.ConfigDict, metadata: dict) -> dict[str, Any]:
  return {"prior.base_channels": config.prior.base_channels, "prior.dense_units": config.prior.dense_units,
          "generator.z_dim": metadata["z_dim"], "generator.resolution": metadata["resolution"],
          "generator.channels": metadata["channels"],
          "structural_prior": config.get("structural_prior", "none"),
          "generator.fingerprint": generators.fingerprint(metadata),
          # Only when set, so runs started before these options existed still resume.
          **({"class_conditional": True} if generators.class_conditional(metadata) else {}),
          **({"prior.num_candidates": config.prior.num_candidates}
             if config.prior.get("num_candidates", 1) > 1 else {})}


def train(config: ml_collections.ConfigDict, *, workdir: str) -> dict[str, Any]:
  """Trains P for config.train.num_steps (resuming from workdir) and exports it."""
  # ------------------------------------------------------------------ set-up
  strategy, chief, global_batch = runtime.start_run(config.train, workdir, seed=config.seed)

  # ------------------------------------------------------------------ frozen G and D
  with strategy.scope():
    generator, discriminator, metadata, realism = load_frozen_gan(config)
  check_data_matches_generator(config, metadata)
  structural_prior = load_structural_prior(config, metadata)  # None: M_z; else M_{z+S}
  conditioning = condition_kind(config, metadata)  # none | structural | class
  resolution = metadata["resolution"]
  if discriminator is None:
    logging.warning("No discriminator: Eq. 5 (photo-realism) is off for this run (photo_realism=off).")

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
    warm_start(predictor, config.train.warm_start, p_config=p_config)

  # ------------------------------------------------------------------ data: images (+ labels) and masks
  with_labels = conditioning == "class"  # a class-conditional BigGAN is fed each image's label

  def image_dataset(batch_size, **kwargs):
    return datasets.make_image_dataset(
        source=config.data.source, data_dir=config.data.data_dir or None, split=config.data.split,
        resolution=resolution, channels=config.data.channels, batch_size=batch_size,
        split_file=config.data.get("split_file") or None, with_labels=with_labels, **kwargs)

  # Both streams are functions of (seed, position), started at the restored step: a resumed
  # run reads the batches and holes an uninterrupted run would (nothing of them is checkpointed).
  images = image_dataset(global_batch, shuffle=True, repeat=True, seed=config.seed, start_batch=resumed_from_step)
  masks = make_mask_dataset(config, resolution=resolution, seed=config.seed,
                            start=resumed_from_step * global_batch).batch(global_batch)
  dataset = tf.data.Dataset.zip((images, masks))
  if with_labels:  # flat (images, masks, labels) batches: replica_step's arguments
    dataset = dataset.map(lambda image_and_label, mask: (image_and_label[0], mask, image_and_label[1]))
  dataset = dataset.prefetch(tf.data.AUTOTUNE)
  distributed_dataset = strategy.experimental_distribute_dataset(dataset)

  # ------------------------------------------------------------------ one step of Eq. 7
  lambda_realism = config.loss.lambda_realism if discriminator is not None else 0.0
  lambda_gradient = config.loss.lambda_gradient
  decay = config.loss.contextual_decay

  num_classes = metadata.get("num_classes", 0)

  def condition_vectors(masked_images, hole_masks, labels=None):
    return {"none": lambda: None,
            "class": lambda: conditioning_lib.class_conditions(labels, num_classes),
            "structural": lambda: structural_prior(masked_images, hole_masks)}[conditioning]()

  def generate(masked_images, hole_masks, conditions, training=False):
    """G(P(I_d, M)) for M_z, G(P(I_d, M, S), S) for M_{z+S}, G(P(I_d, M, y), y) for a
    class-conditional BigGAN (`conditions` from condition_vectors); and D's logits on it (D sees S,
    never y: critics are unconditional). A K-candidate P gives its best candidate (Eq. 4)."""
    generated, _ = conditioning_lib.fill(predictor, generator, masked_images, hole_masks, conditions,
                                         training=training, decay=decay)
    fake_logits = None if discriminator is None else conditioning_lib.discriminate(
        discriminator, generated, conditions, class_conditional=conditioning == "class")
    return generated, fake_logits

  num_candidates = p_config.num_candidates
  relaxation = config.loss.get("candidate_relaxation", 0.05)
  lambda_latent = config.loss.get("lambda_latent", 0.0)

  def candidate_losses(masked_images, hole_masks, weights, conditions):
    """Eq. 7 of each of P's K candidates, reduced by the relaxed best-of-K rule (beyond the paper)."""
    z = conditioning_lib.predict_z(predictor, masked_images, hole_masks, conditions, training=True)
    repeated = [candidates.repeat(t, num_candidates) for t in (masked_images, hole_masks, weights, conditions)]
    generated = conditioning_lib.generate(generator, candidates.flatten(z), repeated[3])
    fake_logits = None if discriminator is None else conditioning_lib.discriminate(
        discriminator, generated, repeated[3], class_conditional=conditioning == "class")
    parts = losses.prior_losses(images_or_masked=repeated[0], generated_images=generated, masks=repeated[1],
                                fake_logits=fake_logits, weights=repeated[2], lambda_realism=lambda_realism,
                                lambda_gradient=lambda_gradient)
    per_candidate = candidates.unflatten(parts["total"], num_candidates)
    reported = {name: candidates.choose(candidates.unflatten(value, num_candidates), per_candidate)
                for name, value in parts.items()}  # the winning candidate's parts
    reported["total"] = losses.best_of_candidates(per_candidate, relaxation=relaxation)
    reported["candidate_spread"] = tf.reduce_mean(tf.math.reduce_std(z, axis=1), axis=-1)
    return reported

  latent_seed = int(config.seed) * 4096  # a plain int: the step function closes over no ConfigDict

  def latent_consistency(hole_masks, conditions):
    """P(M̄ ⊙ G(z[, c]), M[, c]) ≈ z on G's own samples (beyond the paper). Under a condition c
    (S or y) the samples are drawn with the batch's own c, so P is asked what it will be asked."""
    # A fresh batch of z every step, drawn statelessly from (seed, replica, step): nothing to
    # checkpoint, and a resumed run draws what an uninterrupted one would. (Before this, the draw
    # had no step in it, so every step saw the same 64 z; the bundled latent P was trained so.)
    replica = tf.cast(tf.distribute.get_replica_context().replica_id_in_sync_group, tf.int64)
    z = z_prior.sample_z(batch_size=tf.shape(hole_masks)[0], z_dim=metadata["z_dim"],
                         z_distribution=p_config.z_distribution, z_support=p_config.z_support,
                         seed=tf.stack([latent_seed + replica, step]))
    samples = tf.stop_gradient(conditioning_lib.generate(generator, z, conditions))
    predicted = conditioning_lib.predict_z(predictor, (1.0 - hole_masks) * samples, hole_masks, conditions,
                                           training=True)
    return losses.latent_consistency_loss(predicted_z=predicted, z=z)

  def replica_step(real_images, hole_masks, labels=None):
    masked_images = (1.0 - hole_masks) * real_images
    weights = losses.contextual_weights(hole_masks, decay=decay)

    def loss_parts():
      # S (or y) once per step: P's losses and the latent term use the same conditions.
      conditions = condition_vectors(masked_images, hole_masks, labels)
      if num_candidates > 1:
        parts = candidate_losses(masked_images, hole_masks, weights, conditions)
      else:
        generated, fake_logits = generate(masked_images, hole_masks, conditions, training=True)
        parts = losses.prior_losses(images_or_masked=masked_images, generated_images=generated,
                                    masks=hole_masks, fake_logits=fake_logits, weights=weights,
                                    lambda_realism=lambda_realism, lambda_gradient=lambda_gradient)
      if lambda_latent:
        parts["latent_consistency"] = latent_consistency(hole_masks, conditions)
        parts["total"] = parts["total"] + lambda_latent * parts["latent_consistency"]
      return parts

    return runtime.minimize(loss_parts, model=predictor, optimizer=optimizer, global_batch_size=global_batch)

  train_step = runtime.distributed_step(strategy, replica_step, step=step, jit_compile=config.train.jit_compile)

  # ------------------------------------------------------------------ loop
  summaries = runtime.Summaries(workdir, enabled=chief)
  grid_batch = next(iter(image_dataset(config.train.sample_grid_size, shuffle=False, repeat=False, seed=0)))
  grid_images, grid_labels = grid_batch if with_labels else (grid_batch, None)
  grid_masks = next(iter(make_mask_dataset(config, resolution=resolution, seed=config.seed + 999).batch(
      config.train.sample_grid_size)))

  def write_samples(at_step: int) -> str:
    """Rows of (masked | G(P(I_d)) | Eq. 8 output | original)."""
    masked = (1.0 - grid_masks) * grid_images + grid_masks  # holes shown white
    grid_masked = (1.0 - grid_masks) * grid_images
    generated, _ = generate(grid_masked, grid_masks, condition_vectors(grid_masked, grid_masks, grid_labels))
    inpainted = (1.0 - grid_masks) * grid_images + grid_masks * generated
    quads = np.stack([masked, generated, inpainted, grid_images], axis=1)
    grid = visualize.make_grid(quads.reshape((-1, *quads.shape[2:])), columns=8)
    return runtime.save_samples(workdir, at_step, grid, upscale=config.train.sample_upscale, summaries=summaries,
                                tag="masked_generated_inpainted_original")

  # ------------------------------------------------------------------ validation metric (chief only)
  eval_every = int(config.train.get("eval_every", 0))
  val_record: dict[str, Any] = {}
  extractor = None
  if eval_every and chief:
    try:
      val_images, val_masks, val_labels = validation_batch(config, resolution=resolution, with_labels=with_labels)
    except (InputError, StopIteration) as error:  # e.g. SVHN and Cars have no val split
      eval_every, val_record = 0, {"skipped": f"no {VAL_SPLIT} batch ({error or 'empty split'})"}
      logging.warning("No validation metric: %s", val_record["skipped"])
    spec = config.train.get("eval_fd_extractor", "")
    extractor = extractors.load_extractor(spec, flag="--config.train.eval_fd_extractor") if spec else None

  def evaluate(at_step: int) -> dict[str, float]:
    """Eq. 8 on the fixed val batch -> val/psnr_db, val/psnr_hole_db (, val/frechet_distance)."""
    masked = (1.0 - val_masks) * val_images
    generated, _ = generate(masked, val_masks, condition_vectors(masked, val_masks, val_labels))
    metrics = validation_metrics(inpainted=masked + val_masks * generated, images=val_images, masks=val_masks,
                                 extractor=extractor)
    val_record.update(metrics, step=at_step, split=VAL_SPLIT, num_images=len(val_images))
    return metrics

  last = runtime.run_training_loop(
      train_step=train_step, iterator=iter(distributed_dataset), start=resumed_from_step,
      global_batch_size=global_batch, **runtime.cadence(config.train), keeper=keeper, summaries=summaries,
      write_samples=write_samples, chief=chief, description="train_prior", optimizers={"prior_predictor": optimizer},
      evaluate=evaluate, eval_every=eval_every)

  # ------------------------------------------------------------------ export
  final_step = int(step.numpy())
  result: dict[str, Any] = {"step": final_step, "resumed_from_step": resumed_from_step, "losses": last}
  if chief:
    if eval_every and "step" not in val_record:  # nothing left to train: still report the metric
      evaluate(final_step)
    if val_record:
      result["val"] = val_record
    result["samples"] = write_samples(final_step)
    export_dir = os.path.join(workdir, "export")
    p_metadata = hub.prior_predictor_metadata(
        generator_path=metadata["module_path"], generator_metadata=metadata,
        extra={"trained_steps": final_step, "warm_start": config.train.get("warm_start", ""),
               "lr_schedule": config.train.get("lr_schedule", "constant"), "lambda_realism": lambda_realism,
               "lambda_gradient": lambda_gradient, "num_candidates": num_candidates, "contextual_decay": decay,
               "candidate_relaxation": relaxation if num_candidates > 1 else None, "lambda_latent": lambda_latent,
               "loss_normalisation": losses.LOSS_NORMALISATION, **realism, "dataset": config.data.source,
               "config_name": config.get("name", ""),
               "structural_prior": config.get("structural_prior", "none"),
               "num_rays": metadata.get("num_rays", 0),
               "keypoint_refiner": config.get("keypoint_refiner", ""),
               **generator_record(config, metadata)})
    hub.export_prior_predictor(predictor, os.path.join(export_dir, "prior_predictor"), metadata=p_metadata)
    inference_export.export_inpainter(os.path.join(export_dir, "inpainter"),
                         prior_predictor_path=os.path.join(export_dir, "prior_predictor"),
                         generator_path=metadata["module_path"],
                         keypoint_refiner_path=config.get("keypoint_refiner", ""))
    result["export_dir"] = export_dir
  summaries.flush()
  return result
