"""§6.3.3: fine-tune a classifier on masked images, so `--label=auto` can give BigGAN its class.

    loss = softmax cross-entropy(f(I_d, M), y),   I_d = (1 - M) * I

"We fine tune a ResNet-101 pre-trained on ImageNet on masked images. We achieve 75.3% top-1
accuracy (starting from 55%) on masked ImageNet validation set compared to 77% on unmasked
version." Linear: config -> f -> resume -> labelled images + masks -> step -> loop -> export.
The exported module and its loader: `pgi_tf.hub.class_predictor`; the paper's two accuracies: `pgi_tf.evaluation.classification`.
"""

from __future__ import annotations

import json
import os
from typing import Any

import ml_collections
import numpy as np
import tensorflow as tf
from absl import logging

from pgi_tf.data import imagenet
from pgi_tf.evaluation import classification
from pgi_tf import hub
from pgi_tf import visualize
from pgi_tf.data import datasets
from pgi_tf.data import masks as masks_lib
from pgi_tf.errors import InputError
from pgi_tf.models import class_predictor as class_lib
from pgi_tf.train import prior
from pgi_tf.train import runtime

KIND = "class_predictor"
SIGNATURE = "serving_default"


def make_training_masks(config: ml_collections.ConfigDict, *, resolution: int, seed: int,
                        start: int = 0) -> tf.data.Dataset:
  """config.masks as the prior trainer reads it or, when config.masks.central_sizes is set, a
  uniform mixture of central squares of those sides (§6.3: central holes on ImageNet). The
  stream begins at mask `start` (a resumed trainer passes step * global batch)."""
  fields = config.masks.to_dict()
  sizes = tuple(fields.pop("central_sizes", ()) or ())
  if not sizes:
    return prior.make_mask_dataset(ml_collections.ConfigDict({"masks": fields}), resolution=resolution, seed=seed,
                                   start=start)
  return masks_lib.make_mask_dataset([masks_lib.MaskSpec(kind="central", size=int(size)) for size in sizes],
                                     height=resolution, width=resolution, seed=seed, start=start)


# --------------------------------------------------------------------------- training

def class_names(config: ml_collections.ConfigDict) -> list[str]:
  """The dataset's class names in label order (ImageNet wnids); [] when the source has none."""
  if config.data.source == "imagenet" and config.data.data_dir:
    return imagenet.imagenet_class_names(config.data.data_dir)
  return []


def fingerprint(config: ml_collections.ConfigDict, input_size: int) -> dict[str, Any]:
  return {"model.architecture": config.model.architecture, "model.num_classes": config.model.num_classes,
          "model.input_size": input_size, "data.resolution": config.data.resolution,
          "model.freeze_batch_norm": config.model.freeze_batch_norm}


def train(config: ml_collections.ConfigDict, *, workdir: str) -> dict[str, Any]:
  """Fine-tunes the class predictor for config.train.num_steps (resuming from workdir), exports it."""
  # ------------------------------------------------------------------ set-up
  strategy, chief, global_batch = runtime.start_run(config.train, workdir, seed=config.seed)
  resolution, num_classes = config.data.resolution, config.model.num_classes
  input_size = class_lib.resolve_input_size(architecture=config.model.architecture, resolution=resolution,
                                            input_size=config.model.input_size or None)
  names = class_names(config)
  if len(names) > num_classes:
    raise InputError(f"--config.model.num_classes={num_classes}: {config.data.data_dir} has {len(names)} classes")

  # ------------------------------------------------------------------ the labelled image source
  def image_dataset(split, split_file, batch_size, **kwargs):
    return datasets.make_image_dataset(
        source=config.data.source, data_dir=config.data.data_dir or None, split=split, resolution=resolution,
        channels=3, batch_size=batch_size, split_file=split_file or None, with_labels=True,
        preflight=config.data.get("preflight", True), **kwargs)

  # ------------------------------------------------------------------ f and its optimizer
  checkpoint_dir = os.path.join(workdir, "checkpoints")
  resuming = tf.train.latest_checkpoint(checkpoint_dir) is not None  # then base weights are overwritten anyway
  with strategy.scope():
    model = class_lib.build_class_predictor(
        architecture=config.model.architecture, resolution=resolution, num_classes=num_classes,
        weights="" if resuming else config.model.weights, input_size=input_size)
    if config.model.freeze_batch_norm:
      class_lib.freeze_batch_norm(model)
    optimizer = runtime.built_adam(prior.learning_rate_schedule(config), model.trainable_variables,
                                   beta1=config.train.beta1, beta2=config.train.beta2)
    step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")

  # ------------------------------------------------------------------ resume
  keeper = runtime.CheckpointKeeper(checkpoint_dir, fingerprint=fingerprint(config, input_size),
                                    max_to_keep=config.train.keep_checkpoints, class_predictor=model,
                                    optimizer=optimizer, step=step)
  restored = keeper.restore_latest()
  resumed_from_step = int(step.numpy())
  if restored:
    logging.info("Resumed from %s at step %d", restored, resumed_from_step)

  # ------------------------------------------------------------------ batches and holes, from the restored step
  # Functions of (seed, position), so a resumed run reads what an uninterrupted one would.
  images = image_dataset(config.data.split, config.data.split_file, global_batch,
                         shuffle=True, repeat=True, seed=config.seed, start_batch=resumed_from_step)
  masks = make_training_masks(config, resolution=resolution, seed=config.seed,
                              start=resumed_from_step * global_batch).batch(global_batch)
  dataset = tf.data.Dataset.zip((images, masks)).map(lambda image_label, mask: (*image_label, mask))
  distributed_dataset = strategy.experimental_distribute_dataset(dataset.prefetch(tf.data.AUTOTUNE))

  # ------------------------------------------------------------------ one step: cross-entropy on I_d
  def replica_step(real_images, labels, hole_masks):
    masked_images = (1.0 - hole_masks) * real_images

    def loss_parts():
      logits = tf.cast(model([masked_images, hole_masks], training=True), tf.float32)
      cross_entropy = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
      correct = tf.cast(tf.equal(tf.argmax(logits, axis=-1, output_type=tf.int32), labels), tf.float32)
      return {"total": cross_entropy, "cross_entropy": cross_entropy, "top1_masked": correct}

    return runtime.minimize(loss_parts, model=model, optimizer=optimizer, global_batch_size=global_batch)

  train_step = runtime.distributed_step(strategy, replica_step, step=step, jit_compile=config.train.jit_compile)

  # ------------------------------------------------------------------ held-out batch, samples, loop
  summaries = runtime.Summaries(workdir, enabled=chief)
  heldout_images, heldout_labels = next(iter(image_dataset(
      config.data.eval_split, config.data.eval_split_file, config.train.eval_batch_size,
      shuffle=True, repeat=False, seed=config.seed + 1, drop_remainder=False)))
  heldout_masks = next(iter(make_training_masks(config, resolution=resolution, seed=config.seed + 999).batch(
      len(heldout_labels))))
  grid_size = min(config.train.sample_grid_size, len(heldout_labels))

  def write_samples(at_step: int) -> str:
    """Masked inputs (holes white) as a PNG; predicted and true classes in its JSON sidecar."""
    images_, masks_ = heldout_images[:grid_size], heldout_masks[:grid_size]
    predicted = np.argmax(classification.logits(model, (1.0 - masks_) * images_, masks_), axis=-1)
    grid = visualize.make_grid(np.asarray((1.0 - masks_) * images_ + masks_), columns=8)
    path = runtime.save_samples(workdir, at_step, grid, upscale=config.train.sample_upscale,
                                summaries=summaries, tag="masked_inputs")
    truth = heldout_labels[:grid_size].numpy()
    sidecar = {"step": at_step, "order": "row-major, 8 columns", "predicted": predicted.tolist(),
               "true": truth.tolist(), "correct": int(np.sum(predicted == truth))}
    if names:
      sidecar.update(predicted_wnids=[names[i] if i < len(names) else "" for i in predicted],
                     true_wnids=[names[i] for i in truth])
    with open(path[:-len(".png")] + ".json", "w") as f:
      json.dump(sidecar, f, indent=2)
    return path

  last = runtime.run_training_loop(
      train_step=train_step, iterator=iter(distributed_dataset), start=resumed_from_step,
      global_batch_size=global_batch, **runtime.cadence(config.train), keeper=keeper, summaries=summaries,
      write_samples=write_samples, chief=chief, description="train_class_predictor",
      optimizers={"class_predictor": optimizer})

  # ------------------------------------------------------------------ held-out accuracy and export
  final_step = int(step.numpy())
  top1 = classification.top1_accuracy(model, images=heldout_images, labels=heldout_labels, masks=heldout_masks)
  summaries.scalars(final_step, {f"heldout/{key}": value for key, value in top1.items()})
  result: dict[str, Any] = {"step": final_step, "resumed_from_step": resumed_from_step, "losses": last,
                            "top1": top1, "heldout_examples": len(heldout_labels)}
  if chief:
    result["samples"] = write_samples(final_step)
    export_dir = os.path.join(workdir, "export", "class_predictor")
    metadata = {"format_version": hub.FORMAT_VERSION, "kind": KIND, "resolution": resolution, "channels": 3,
                "num_classes": num_classes, "architecture": config.model.architecture, "input_size": input_size,
                "base_weights": config.model.weights, "freeze_batch_norm": config.model.freeze_batch_norm,
                "trained_steps": final_step, "dataset": config.data.source, "split": config.data.split,
                "masks": config.masks.to_dict(), "class_names": names, "value_range": [-1.0, 1.0],
                "signature": SIGNATURE, "input_names": ["masked_images", "masks"],
                "output_keys": ["logits", "labels"], "heldout_top1": top1, "config_name": config.get("name", "")}
    hub.export_class_predictor(model, export_dir, metadata=metadata)
    result["export_dir"] = export_dir
  summaries.flush()
  return result
