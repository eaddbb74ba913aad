"""tf.data pipelines shared by the sources: in-memory arrays (gather whole batches), files
(parallel decode / crop / resize) and TensorFlow Datasets.

Every pipeline can start at batch `start_batch` of its stream, so a trainer resumed at step s
reads exactly the batches an uninterrupted run reads from step s on (`example_order`)."""

from __future__ import annotations

from typing import Callable

import numpy as np
import tensorflow as tf

from pgi_tf.data import images as images_lib
from pgi_tf.data import tfds_source
from pgi_tf.data.file_examples import FileExamples, crop_for
from pgi_tf.errors import InputError


def check_batch_count(*, source: str, split: str, count: int, batch_size: int,
                      drop_remainder: bool, repeat: bool) -> None:
  """InputError when a single pass with drop_remainder would yield no batch at all."""
  if drop_remainder and not repeat and count < batch_size:
    raise InputError(f"batch_size={batch_size}: larger than the {count} examples of {source} "
                     f"split {split}, so drop_remainder would yield no batch")


def example_order(count: int, *, shuffle: bool, repeat: bool, seed: int,
                  start: int = 0) -> tf.data.Dataset:
  """int64 example indices in the order a run reads them, from stream position `start` on.

  Epoch e is `stateless_shuffle(range(count), seed=(seed, e))` (in order without `shuffle`), so
  position p of the stream is a pure function of (seed, p): a resumed trainer restarts the
  stream at step * batch for the cost of one permutation. Why not `Dataset.shuffle` and a
  checkpointed iterator: the shuffle buffer is iterator state, which tf.train.Checkpoint would
  write into every checkpoint (with the prefetched image batches), and mask streams built with
  `from_generator` cannot be saved at all; restarting pure functions keeps checkpoints small
  and works the same under every distribution strategy.
  """
  if count == 0:
    return tf.data.Dataset.range(0)
  first_epoch, offset = divmod(int(start), count)
  if not repeat and first_epoch > 0:
    return tf.data.Dataset.range(0)  # one pass, already read

  def epoch_order(epoch):
    order = tf.range(count, dtype=tf.int64)
    if shuffle:
      order = tf.random.experimental.stateless_shuffle(order, seed=tf.stack([tf.constant(seed, tf.int64), epoch]))
    return tf.data.Dataset.from_tensor_slices(order[tf.where(epoch == first_epoch, offset, 0):])

  epochs = tf.data.Dataset.counter(first_epoch) if repeat else tf.data.Dataset.range(1)
  # flat_map hides the length; batch counts and progress bars read it.
  length = tf.data.INFINITE_CARDINALITY if repeat else count - offset
  return epochs.flat_map(epoch_order).apply(tf.data.experimental.assert_cardinality(length))


def array_pipeline(images: np.ndarray, labels: np.ndarray, *,
                   batch_transform: Callable[[tf.Tensor], tf.Tensor], batch_size: int,
                   shuffle: bool, repeat: bool, seed: int, drop_remainder: bool,
                   with_labels: bool, num_parallel_calls: int, start_batch: int = 0) -> tf.data.Dataset:
  """Gathers whole batches from in-memory uint8 arrays in `example_order`."""
  images_tensor = tf.constant(images)
  labels_tensor = tf.constant(np.asarray(labels, np.int32))
  dataset = example_order(len(images), shuffle=shuffle, repeat=repeat, seed=seed, start=start_batch * batch_size)
  dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)

  def gather(indices):
    batch = batch_transform(tf.gather(images_tensor, indices))
    if with_labels:
      return batch, tf.gather(labels_tensor, indices)
    return batch

  dataset = dataset.map(gather, num_parallel_calls=num_parallel_calls)
  return dataset.prefetch(tf.data.AUTOTUNE)


def example_pipeline(dataset: tf.data.Dataset, *, count: int, load: Callable, batch_size: int,
                     shuffle: bool, repeat: bool, seed: int, drop_remainder: bool,
                     num_parallel_calls: int, shuffle_buffer: int | None = None,
                     start_batch: int = 0) -> tf.data.Dataset:
  """shuffle -> repeat -> parallel `load` -> batch -> prefetch, for streams that cannot be
  indexed (TFDS). `start_batch` reads and drops that many batches: O(start_batch) on resume."""
  if shuffle:
    dataset = dataset.shuffle(shuffle_buffer or max(count, 1), seed=seed,
                              reshuffle_each_iteration=True)
  if repeat:
    dataset = dataset.repeat()
  dataset = dataset.map(load, num_parallel_calls=num_parallel_calls)
  dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
  if start_batch:
    dataset = dataset.skip(start_batch)
  return dataset.prefetch(tf.data.AUTOTUNE)


def file_pipeline(examples: FileExamples, *, resolution: int, channels: int, with_labels: bool,
                  batch_size: int, shuffle: bool, repeat: bool, seed: int, drop_remainder: bool,
                  num_parallel_calls: int, start_batch: int = 0) -> tf.data.Dataset:
  """Decode, crop (`examples.crop`) and resize each file in parallel, in `example_order`, then batch."""
  crop = crop_for(examples.crop)
  paths, boxes, labels = (tf.constant(v) for v in (examples.paths, examples.boxes, examples.labels))

  def load(index):
    image = images_lib.decode_image_file(paths[index], channels=channels)
    image = images_lib.resize_to_model(crop(image, boxes[index]), resolution=resolution)
    image = tf.ensure_shape(image, [resolution, resolution, channels])
    return (image, labels[index]) if with_labels else image

  dataset = example_order(len(examples.paths), shuffle=shuffle, repeat=repeat, seed=seed,
                          start=start_batch * batch_size)
  dataset = dataset.map(load, num_parallel_calls=num_parallel_calls)
  dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
  return dataset.prefetch(tf.data.AUTOTUNE)


def fashion_batch_transform(*, resolution: int,
                            pad_to_32: bool = True) -> Callable[[tf.Tensor], tf.Tensor]:
  """uint8 [B, 28, 28] Fashion-MNIST batch -> float32 [B, R, R, 1] in [-1, 1]."""
  def transform(batch_uint8):
    batch = batch_uint8[..., None]  # [B, 28, 28, 1]
    if pad_to_32:
      # 28 -> 32 with black (0, i.e. -1 after scaling) on every side, as 32 px DCGAN-style
      # models expect; the garment keeps its native scale.
      batch = tf.pad(batch, [[0, 0], [2, 2], [2, 2], [0, 0]], constant_values=0)
    return images_lib.resize_to_model(batch, resolution=resolution)
  return transform


def svhn_batch_transform(*, resolution: int) -> Callable[[tf.Tensor], tf.Tensor]:
  """uint8 [B, 32, 32, 3] SVHN batch -> float32 [B, R, R, 3] in [-1, 1]."""
  return lambda batch_uint8: images_lib.resize_to_model(batch_uint8, resolution=resolution)


def tfds_pipeline(*, name: str, data_dir: str | None, split: str, resolution: int,
                  channels: int, with_labels: bool, **pipeline_args) -> tf.data.Dataset:
  """A prepared TFDS split, cropped per dataset (`tfds_source.crop_example`) and resized to R."""
  source = f"tfds:{name}"
  count = tfds_source.count_tfds(name=name, data_dir=data_dir, split=split)
  file_channels = tfds_source.image_channels(name=name, data_dir=data_dir)
  if file_channels is not None and file_channels != channels:
    raise InputError(f"channels={channels}: {source} images have {file_channels} channel(s)")
  if with_labels and not tfds_source.has_labels(name=name, data_dir=data_dir):
    raise InputError(f"with_labels: {source} has no 'label' feature")
  check_batch_count(source=source, split=split, count=count,
                    batch_size=pipeline_args["batch_size"],
                    drop_remainder=pipeline_args["drop_remainder"],
                    repeat=pipeline_args["repeat"])
  dataset = tfds_source.load_tfds(name=name, data_dir=data_dir, split=split,
                                  shuffle_files=pipeline_args["shuffle"],
                                  seed=pipeline_args["seed"])

  def load(image, label):
    image = tf.ensure_shape(image, [None, None, channels])
    image = images_lib.resize_to_model(image, resolution=resolution)
    image = tf.ensure_shape(image, [resolution, resolution, channels])
    return (image, label) if with_labels else image

  # Decoded images are large: a bounded buffer on top of TFDS's file shuffling.
  return example_pipeline(dataset, count=count, load=load,
                          shuffle_buffer=min(max(count, 1), 10_000), **pipeline_args)
