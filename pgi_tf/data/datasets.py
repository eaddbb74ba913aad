"""tf.data image pipelines for every dataset of the paper, in the project's [-1, 1] range.

`make_image_dataset` yields float32 [B, R, R, C] batches in [-1, 1] (or (images, int32 labels)
with `with_labels=True`) from one of the sources in `SOURCES` (one table; an unknown name is
an error, never a fallback):

  fashion_mnist  IDX .gz files (default /usr/share/datasets/fashion-mnist, Debian package
                 dataset-fashion-mnist). 28x28 grey, zero-padded to 32x32 with black (-1),
                 then resized to R if R != 32. Labels 0..9. Splits train (60k) / test (10k).
  moving_fashion_mnist_frames
                 Every frame of the 20,000 moving Fashion-MNIST clips of a split that the sequence
                 presets train on (`moving_fashion_mnist.clip_frames`): 20 px garments moving on a
                 32 px canvas, resized to R. For the GAN of §4.3's test. No labels.
  folder         Every .png/.jpg/.jpeg under `data_dir` (recursive), or under `data_dir/<split>`
                 when that folder exists ("validation" is accepted for val), or the files a
                 `split_file` lists (paths relative to `data_dir`). No crop: each image is
                 resized to R x R. Labels (optional): index of the first sub-folder name,
                 sorted. Files are pre-flight checked, including their channel count.
  celeba         CelebA (§6.3: "Detected face on CelebA are center cropped"). Aligned images
                 `img_align_celeba/*.jpg` (178x218): the centred 108x108 box, rows 55..162 and
                 columns 35..142 (`images.CELEBA_ALIGNED_CROP_SIDE`). If only the in-the-wild
                 `img_celeba/` exists, `list_bbox_celeba.txt` boxes are used: a square of
                 side max(w, h) centred on the box. Split from `list_eval_partition.txt`
                 (0 train, 1 val, 2 test) or from `split_file` (relative to the image folder).
                 The official layout (Img/, Anno/, Eval/) and Kaggle's (.csv lists, nested
                 img_align_celeba/img_align_celeba/) are found too. No labels.
  cars           Stanford Cars (§6.3: "we use bounding box information to extract and resize
                 cars"). Images `cars_train/`, `cars_test/`; annotations
                 `devkit/cars_train_annos.mat`, `cars_test_annos_withlabels.mat` (in data_dir
                 or devkit/; `devkit/cars_test_annos.mat` without labels also works when no
                 labels are asked for). The bbox (1-based inclusive pixel corners, MATLAB
                 style) is cropped and resized to R x R (so the car is squashed, as in the
                 paper's "extract and resize"). Labels: class - 1, in 0..195. The few grey
                 JPEGs of the dataset are converted to RGB.
  svhn           SVHN cropped digits, `train_32x32.mat` / `test_32x32.mat` (X [32, 32, 3, N]
                 uint8, y [N, 1] in 1..10, where 10 means the digit 0). Resized 32 -> R
                 (the paper uses 64). Labels: the digit, 0..9.
  imagenet       ILSVRC2012 classification (§6.3.3: BigGAN inpainting, the masked-image class
                 predictor). `data_dir/train/<wnid>/*.JPEG`; validation either in class folders
                 `data_dir/val/<wnid>/*.JPEG` (after valprep.sh) or flat `data_dir/val/*.JPEG`
                 labelled by Kaggle's `LOC_val_solution.csv` (ImageId,PredictionString; the
                 string starts with the wnid). Kaggle's nesting `ILSVRC/Data/CLS-LOC/` is found
                 too; `val/` may be called `validation/`. Splits: train; val and test are both
                 the 50k validation images (the official test labels were never released, and
                 the paper's test images are drawn from the validation set). Labels 0..999:
                 the wnid's index in `LOC_synset_mapping.txt` when data_dir has it (its order;
                 every wnid folder and csv label must be in it), else in the sorted wnid
                 folders of train/ (else val/, else the csv) -- the standard Keras / BigGAN
                 order when all 1000 classes are there. Centre square crop resized to R (the
                 paper: "Images are resized to 256x256"); grey and CMYK JPEGs (and the one PNG
                 named .JPEG) become RGB. `split_file`: paths relative to data_dir;
                 `balanced_subset` picks "10000 images equally sampled across classes".
  skimage        scikit-image's nine RGB sample photographs (astronaut, chelsea, ...; no files, no
                 download), label = index: the offline source of the RGB presets' smoke variants
                 (pgi_tf/data/skimage_photos.py). Every split is all nine; never a benchmark.
  tfds:<name>    TensorFlow Datasets, if installed and the data is prepared (see tfds_source).

Pipelines: example order (seeded, reshuffled each epoch, a pure function of the seed and the
position: `pipelines.example_order`) -> parallel decode/crop/resize -> batch -> prefetch.
In-memory sources (Fashion-MNIST, SVHN) gather whole batches, so there is no per-example map
at all. `start_batch` starts the stream where a resumed trainer left it.
"""

import dataclasses
import os
from typing import Callable

import numpy as np
import tensorflow as tf

from pgi_tf.data import cars
from pgi_tf.data import celeba
from pgi_tf.data import fashion_mnist
from pgi_tf.data import folder
from pgi_tf.data import imagenet
from pgi_tf.data import moving_fashion_mnist
from pgi_tf.data import images as images_lib
from pgi_tf.data import pipelines
from pgi_tf.data import skimage_photos
from pgi_tf.data import svhn
from pgi_tf.data import tfds_source
from pgi_tf.errors import InputError

SPLITS = ("train", "test", "val")


@dataclasses.dataclass(frozen=True)
class Source:
  """One dataset source: how to read it and what it offers.

  build: (request) -> tf.data.Dataset, after the common checks (`make_image_dataset`).
  count: (request) -> number of examples of the split (`count_examples`).
  splits: the splits it has (None: any of SPLITS).
  channels: the channels its images have (None: any).
  takes_split_file: a split file can replace its split rule.
  default_data_dir: used when data_dir is None ("" : data_dir is required).
  needs_data_dir: reads files under data_dir (skimage and tfds do not).
  """
  build: Callable[["_Request"], tf.data.Dataset]
  count: Callable[["_Request"], int]
  splits: tuple[str, ...] | None = None
  channels: int | None = None
  takes_split_file: bool = False
  default_data_dir: str = ""
  needs_data_dir: bool = True


@dataclasses.dataclass
class _Request:
  """One call's arguments, after the checks; `directory` is the checked data directory."""
  kind: str
  name: str | None  # tfds:<name>
  data_dir: str | None
  directory: str | None
  split: str
  split_file: str | None = None
  resolution: int = 0
  channels: int = 0
  with_labels: bool = False
  preflight: bool = True
  pipeline_args: dict = dataclasses.field(default_factory=dict)


# --------------------------------------------------------------------------- builders per kind

def _in_memory(images: np.ndarray, labels: np.ndarray, request: _Request, transform) -> tf.data.Dataset:
  args = request.pipeline_args
  pipelines.check_batch_count(source=request.kind, split=request.split, count=len(images),
                              batch_size=args["batch_size"], drop_remainder=args["drop_remainder"],
                              repeat=args["repeat"])
  return pipelines.array_pipeline(images, labels, batch_transform=transform, with_labels=request.with_labels,
                                  **args)


def _build_skimage(request: _Request) -> tf.data.Dataset:
  # No files: scikit-image's photographs, already at R.
  images, labels = skimage_photos.load_photos(resolution=request.resolution, channels=request.channels)
  return _in_memory(images, labels, request, lambda batch: tf.cast(batch, tf.float32) / 127.5 - 1.0)


def _build_fashion_mnist(request: _Request) -> tf.data.Dataset:
  images, labels = fashion_mnist.load_fashion_mnist(data_dir=request.directory, split=request.split)
  return _in_memory(images, labels, request, pipelines.fashion_batch_transform(resolution=request.resolution))


def _build_moving_fashion_mnist_frames(request: _Request) -> tf.data.Dataset:
  # Rendered at 32 px (the clips' canvas), resized to R like Fashion-MNIST; labels are not kept.
  frames = moving_fashion_mnist.clip_frames(split=request.split, data_dir=request.directory)
  if request.with_labels:
    raise InputError("with_labels: moving_fashion_mnist_frames has no class labels")
  return _in_memory(frames, np.zeros(len(frames), np.int32), request,
                    pipelines.fashion_batch_transform(resolution=request.resolution, pad_to_32=False))


def _build_svhn(request: _Request) -> tf.data.Dataset:
  images, labels = svhn.load_svhn(data_dir=request.directory, split=request.split)
  return _in_memory(images, labels, request, pipelines.svhn_batch_transform(resolution=request.resolution))


def _build_tfds(request: _Request) -> tf.data.Dataset:
  return pipelines.tfds_pipeline(name=request.name, data_dir=request.data_dir, split=request.split,
                                 resolution=request.resolution, channels=request.channels,
                                 with_labels=request.with_labels, **request.pipeline_args)


def _folder_examples(request: _Request):
  return folder.folder_examples(data_dir=request.directory, split=request.split, split_file=request.split_file,
                                with_labels=request.with_labels, channels=request.channels or None)


def _celeba_examples(request: _Request):
  if request.with_labels:
    raise InputError("with_labels: celeba has no class labels")
  return celeba.celeba_examples(data_dir=request.directory, split=request.split, split_file=request.split_file)


def _cars_examples(request: _Request):
  return cars.cars_examples(data_dir=request.directory, split=request.split, require_labels=request.with_labels)


def _imagenet_examples(request: _Request):
  return imagenet.imagenet_examples(data_dir=request.directory, split=request.split,
                                    split_file=request.split_file)


def _from_files(examples_fn: Callable[[_Request], object]) -> Callable[[_Request], tf.data.Dataset]:
  """A file source's builder: its examples, checked, then the shared file pipeline."""
  def build(request: _Request) -> tf.data.Dataset:
    examples = examples_fn(request)
    args = request.pipeline_args
    pipelines.check_batch_count(source=request.kind, split=request.split, count=len(examples.paths),
                                batch_size=args["batch_size"], drop_remainder=args["drop_remainder"],
                                repeat=args["repeat"])
    if request.preflight:
      images_lib.check_image_files(examples.paths, channels=examples.file_channels)
    return pipelines.file_pipeline(examples, resolution=request.resolution, channels=request.channels,
                                   with_labels=request.with_labels, **args)
  return build


def _count_files(examples_fn: Callable[[_Request], object]) -> Callable[[_Request], int]:
  return lambda request: len(examples_fn(dataclasses.replace(request, with_labels=False, channels=0)).paths)


# --------------------------------------------------------------------------- the table

SOURCES: dict[str, Source] = {
    "fashion_mnist": Source(
        build=_build_fashion_mnist, splits=("train", "val", "test"), channels=1,
        default_data_dir=fashion_mnist.DEFAULT_DATA_DIR,
        count=lambda r: fashion_mnist.count_fashion_mnist(data_dir=r.directory, split=r.split)),
    "moving_fashion_mnist_frames": Source(
        build=_build_moving_fashion_mnist_frames, splits=("train", "val", "test"), channels=1,
        default_data_dir=fashion_mnist.DEFAULT_DATA_DIR,
        count=lambda r: (moving_fashion_mnist.SEQUENCE_TRAINING_CLIPS["num_clips"]
                         * moving_fashion_mnist.SEQUENCE_TRAINING_CLIPS["num_frames"])),
    "folder": Source(build=_from_files(_folder_examples), count=_count_files(_folder_examples),
                     takes_split_file=True),
    "celeba": Source(build=_from_files(_celeba_examples), count=_count_files(_celeba_examples), channels=3,
                     takes_split_file=True),
    "cars": Source(build=_from_files(_cars_examples), count=_count_files(_cars_examples), splits=("train", "test"),
                   channels=3),
    "svhn": Source(build=_build_svhn, splits=("train", "test"), channels=3,
                   count=lambda r: svhn.count_svhn(data_dir=r.directory, split=r.split)),
    "imagenet": Source(build=_from_files(_imagenet_examples), count=_count_files(_imagenet_examples),
                       splits=("train", "val", "test"), channels=3, takes_split_file=True),
    "skimage": Source(build=_build_skimage, count=lambda r: len(skimage_photos.PHOTOS), needs_data_dir=False),
    # "tfds:<name>": any TensorFlow Datasets image dataset (prefix entry).
    "tfds": Source(build=_build_tfds, needs_data_dir=False,
                   count=lambda r: tfds_source.count_tfds(name=r.name, data_dir=r.data_dir, split=r.split)),
}
SOURCE_NAMES = tuple(name for name in SOURCES if name != "tfds") + ("tfds:<name>",)


# --------------------------------------------------------------------------- checks

def _parse_source(source: str) -> tuple[str, str | None]:
  """'celeba' -> ('celeba', None); 'tfds:cars196' -> ('tfds', 'cars196'); unknown: InputError."""
  if isinstance(source, str) and source.startswith("tfds:") and len(source) > len("tfds:"):
    return "tfds", source[len("tfds:"):]
  if isinstance(source, str) and source in SOURCES and source != "tfds":
    return source, None
  raise InputError(f"source={source!r}: unknown source, choose one of {', '.join(SOURCE_NAMES)}")


def _check_split(kind: str, split: str) -> None:
  if split not in SPLITS:
    raise InputError(f"split={split!r}: choose one of {', '.join(SPLITS)}")
  allowed = SOURCES[kind].splits
  if allowed is not None and split not in allowed:
    raise InputError(f"split={split!r}: {kind} has only the splits {', '.join(allowed)}")


def _check_split_file(kind: str, split_file: str | None) -> None:
  if split_file is not None and not SOURCES[kind].takes_split_file:
    raise InputError(f"split_file={split_file}: only the folder and celeba (and imagenet) "
                     f"sources take a split file")


def _data_dir(kind: str, data_dir: str | None) -> str:
  """`data_dir`, or the source's default; must be an existing directory."""
  if data_dir is None:
    if not SOURCES[kind].default_data_dir:
      raise InputError(f"data_dir: required for source {kind} (it has no default directory)")
    data_dir = SOURCES[kind].default_data_dir
  if not os.path.isdir(data_dir):
    raise InputError(f"data_dir={data_dir}: directory does not exist")
  return data_dir


def _check_source_channels(kind: str, channels: int) -> None:
  expected = SOURCES[kind].channels
  if expected is not None and channels != expected:
    plural = "" if expected == 1 else "s"
    raise InputError(f"channels={channels}: {kind} images have {expected} channel{plural}")


# --------------------------------------------------------------------------- entry points

def make_image_dataset(*, source: str, data_dir: str | None, split: str, resolution: int,
                       channels: int, batch_size: int, shuffle: bool = True,
                       repeat: bool = True, seed: int = 0, drop_remainder: bool = True,
                       split_file: str | None = None, with_labels: bool = False,
                       num_parallel_calls=tf.data.AUTOTUNE,
                       preflight: bool = True, start_batch: int = 0) -> tf.data.Dataset:
  """Batches of images in [-1, 1] from one of `SOURCES` (details in the module docstring).

  Args:
    source: "fashion_mnist", "folder", "celeba", "cars", "svhn", "imagenet" or "tfds:<name>".
    data_dir: the dataset's directory; None -> the source's default (fashion_mnist:
      /usr/share/datasets/fashion-mnist; tfds: TFDS's default). Others require it.
    split: "train", "test" or "val" (not every source has all three).
    resolution: output side R, one of images.SUPPORTED_RESOLUTIONS.
    channels: 1 or 3; must match the dataset's images.
    batch_size: examples per batch.
    shuffle: shuffle with `seed`, reshuffled every epoch.
    repeat: repeat forever.
    seed: shuffle seed; the same seed gives the same order.
    drop_remainder: drop the last partial batch (static batch dimension).
    split_file: folder, celeba and imagenet only: text file, one image path per line,
      relative to the image folder (imagenet: to data_dir); replaces the split rule.
    with_labels: yield (images, int32 labels [B]).
    num_parallel_calls: parallelism of the decode / transform map.
    preflight: check every image file (header, truncation, channels) before returning, so
      a bad file is reported now, naming it, instead of mid-training.
    start_batch: begin at this batch of the stream (a resumed trainer passes its step), so the
      batches are those an uninterrupted stream yields from there. Immediate for in-memory and
      file sources; TFDS reads and drops the batches before it.

  Returns:
    A tf.data.Dataset of float32 [B, R, R, C] in [-1, 1], or (images, labels).

  Raises:
    InputError: one line naming the flag or file that is wrong.
  """
  kind, tfds_name = _parse_source(source)
  _check_split(kind, split)
  resolution = images_lib.check_resolution(resolution)
  channels = images_lib.check_channels(channels)
  if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or (
      batch_size < 1):
    raise InputError(f"batch_size={batch_size!r}: must be a positive integer")
  if start_batch < 0:
    raise InputError(f"start_batch={start_batch}: must be >= 0")
  _check_split_file(kind, split_file)
  _check_source_channels(kind, channels)
  entry = SOURCES[kind]
  request = _Request(
      kind=kind, name=tfds_name, data_dir=data_dir, split=split, split_file=split_file, resolution=resolution,
      channels=channels, with_labels=with_labels, preflight=preflight,
      directory=_data_dir(kind, data_dir) if entry.needs_data_dir else None,
      pipeline_args=dict(batch_size=int(batch_size), shuffle=shuffle, repeat=repeat, seed=seed,
                         drop_remainder=drop_remainder, num_parallel_calls=num_parallel_calls,
                         start_batch=int(start_batch)))
  return entry.build(request)


def count_examples(*, source: str, data_dir: str | None, split: str,
                   split_file: str | None = None) -> int:
  """Number of examples in a split (for progress bars and epochs); reads headers/lists only."""
  kind, tfds_name = _parse_source(source)
  _check_split(kind, split)
  _check_split_file(kind, split_file)
  entry = SOURCES[kind]
  request = _Request(kind=kind, name=tfds_name, data_dir=data_dir, split=split, split_file=split_file,
                     directory=_data_dir(kind, data_dir) if entry.needs_data_dir else None)
  return entry.count(request)
