"""TensorFlow Datasets sources (`source="tfds:<name>"`), imported lazily.

tensorflow-datasets is optional: it is imported only when a `tfds:` source is used, and its
absence, an unknown name or data that has not been prepared under `data_dir` becomes a
one-line InputError. Nothing is downloaded (`download_and_prepare` is never called): the
data must already be in TFDS's directory (`data_dir`, default ~/tensorflow_datasets).

Per-dataset crops follow the paper (§6.3) and the file readers (`celeba`, `cars`, `imagenet`):
  * celeb_a: aligned images, centred 108x108 face box (`images.celeba_aligned_face_crop`).
  * cars196: the annotated car bounding box (the `bbox` feature, normalised
    [ymin, xmin, ymax, xmax]).
  * svhn_cropped: none (already 32x32 digits).
  * imagenet2012: centred square crop, then resize (objects are mostly central; the paper
    tests ImageNet on its validation set, so `split="test"` reads `validation` too).
  * any other name: no crop, the whole image is resized to R x R.
"""

from typing import Any

import tensorflow as tf

from pgi_tf.data import images as images_lib
from pgi_tf.errors import InputError

KNOWN_NAMES = ("celeb_a", "svhn_cropped", "cars196", "imagenet2012")

# Our split names -> TFDS split names, per dataset where they differ from the default.
_DEFAULT_SPLITS = {"train": "train", "val": "validation", "test": "test"}
_SPLITS_BY_NAME = {
    "imagenet2012": {"train": "train", "val": "validation", "test": "validation"},
}


def import_tfds(*, source: str) -> Any:
  """Imports tensorflow_datasets, or raises InputError naming the source."""
  try:
    import tensorflow_datasets as tfds  # lazy: optional package, only for tfds:<name>; pylint: disable=g-import-not-at-top
  except ImportError:
    raise InputError(
        f"source={source}: tensorflow-datasets is not installed (pip install "
        f"tensorflow-datasets), or use a file source (celeba, cars, svhn, folder) with "
        f"data_dir") from None
  return tfds


def tfds_split(*, name: str, split: str) -> str:
  """The TFDS split name for one of our splits (train / val / test)."""
  base_name = name.split("/")[0].split(":")[0]
  return _SPLITS_BY_NAME.get(base_name, _DEFAULT_SPLITS)[split]


def _builder(*, name: str, data_dir: str | None):
  source = f"tfds:{name}"
  tfds = import_tfds(source=source)
  try:
    return tfds, tfds.builder(name, data_dir=data_dir)
  except Exception as error:  # DatasetNotFoundError and friends.
    raise InputError(f"source={source}: unknown TFDS dataset "
                     f"({' '.join(str(error).split())[:300]})") from None


def _not_prepared(name: str, data_dir: str | None, error: Exception) -> InputError:
  where = data_dir if data_dir is not None else "the TFDS default directory (~/tensorflow_datasets)"
  return InputError(
      f"source=tfds:{name}: data not found in {where}; prepare it on a machine with network "
      f"(tfds build {name}) and pass its directory as data_dir "
      f"({' '.join(str(error).split())[:200]})")


def count_tfds(*, name: str, data_dir: str | None, split: str) -> int:
  """Number of examples of a prepared TFDS split."""
  _, builder = _builder(name=name, data_dir=data_dir)
  split_name = tfds_split(name=name, split=split)
  try:
    return int(builder.info.splits[split_name].num_examples)
  except Exception as error:
    raise _not_prepared(name, data_dir, error) from None


def image_channels(*, name: str, data_dir: str | None) -> int | None:
  """Channels of the dataset's `image` feature, if TFDS states it."""
  _, builder = _builder(name=name, data_dir=data_dir)
  try:
    return int(builder.info.features["image"].shape[-1])
  except Exception:  # Unknown or dynamic: the in-graph decode decides.
    return None


def has_labels(*, name: str, data_dir: str | None) -> bool:
  """Whether the dataset has a `label` feature."""
  _, builder = _builder(name=name, data_dir=data_dir)
  try:
    return "label" in builder.info.features
  except Exception:
    return False


def crop_example(name: str, example: dict) -> tf.Tensor:
  """The paper's crop of `example["image"]` (uint8 [H, W, C]) for dataset `name`."""
  base_name = name.split("/")[0].split(":")[0]
  image = example["image"]
  if base_name == "celeb_a":
    return images_lib.celeba_aligned_face_crop(image)
  if base_name == "cars196":
    shape = tf.cast(tf.shape(image), tf.float32)
    ymin, xmin, ymax, xmax = tf.unstack(tf.cast(example["bbox"], tf.float32))
    return images_lib.crop_half_open_box(
        image, top=tf.floor(ymin * shape[0]), left=tf.floor(xmin * shape[1]),
        bottom=tf.math.ceil(ymax * shape[0]), right=tf.math.ceil(xmax * shape[1]))
  if base_name == "imagenet2012":
    return images_lib.center_square_crop(image)
  return image


def load_tfds(*, name: str, data_dir: str | None, split: str, shuffle_files: bool,
              seed: int) -> tf.data.Dataset:
  """Dataset of (uint8 cropped image [h, w, C], int32 label or -1) for a prepared TFDS split."""
  tfds, builder = _builder(name=name, data_dir=data_dir)
  split_name = tfds_split(name=name, split=split)
  try:
    dataset = builder.as_dataset(split=split_name, shuffle_files=shuffle_files,
                                 read_config=tfds.ReadConfig(shuffle_seed=seed))
  except Exception as error:  # AssertionError "could not find data", missing split...
    raise _not_prepared(name, data_dir, error) from None

  def to_image_and_label(example):
    label = example["label"] if "label" in example else tf.constant(-1)
    return crop_example(name, example), tf.cast(label, tf.int32)

  return dataset.map(to_image_and_label, num_parallel_calls=tf.data.AUTOTUNE)
