"""Tests for pgi_tf.data.datasets (and fashion_mnist, tfds_source): shapes, ranges, crops,
splits, determinism and every bad-input path, on real Fashion-MNIST and real-format fixtures."""

import os
import re
import shutil
import sys
import types

import numpy as np
import pytest
import scipy.io
import tensorflow as tf
from PIL import Image

from pgi_tf.data import datasets
from pgi_tf.data import fashion_mnist
from pgi_tf.data import images as images_lib
from pgi_tf.data import skimage_photos
from pgi_tf.errors import InputError
from tests import fixtures_data as fx

REAL_FASHION_DIR = fashion_mnist.DEFAULT_DATA_DIR
needs_real_fashion = pytest.mark.skipif(
    not os.path.isfile(os.path.join(REAL_FASHION_DIR, "train-images-idx3-ubyte.gz")),
    reason="Debian package dataset-fashion-mnist not installed")


def starts_with(path, rest=""):
  """Regex: the message starts with `path` (escaped) followed by `rest` (a regex)."""
  return "^" + re.escape(str(path)) + rest


def batches(dataset, count=None):
  taken = dataset if count is None else dataset.take(count)
  return [tuple(t.numpy() for t in item) if isinstance(item, tuple) else item.numpy()
          for item in taken]


def make(**overrides):
  args = dict(shuffle=False, repeat=False, drop_remainder=False, batch_size=4)
  args.update(overrides)
  return datasets.make_image_dataset(**args)


# ----------------------------------------------------------------------------- Fashion-MNIST


@needs_real_fashion
def test_fashion_mnist_real_counts():
  assert datasets.count_examples(source="fashion_mnist", data_dir=None, split="train") == 55000
  assert datasets.count_examples(source="fashion_mnist", data_dir=None, split="val") == 5000
  assert datasets.count_examples(source="fashion_mnist", data_dir=None, split="test") == 10000
  images, labels = fashion_mnist.load_fashion_mnist(split="test")
  assert images.shape == (10000, 28, 28) and labels.shape == (10000,)
  assert np.bincount(labels).tolist() == [1000] * 10  # The test set is balanced.
  train = make(source="fashion_mnist", data_dir=None, split="train", resolution=32,
               channels=1, batch_size=1000)
  assert int(train.cardinality()) == 55


@needs_real_fashion
def test_fashion_mnist_real_padding_range_and_labels():
  dataset = make(source="fashion_mnist", data_dir=None, split="test", resolution=32,
                 channels=1, batch_size=256, with_labels=True)
  images, labels = next(iter(dataset))
  images, labels = images.numpy(), labels.numpy()
  assert images.shape == (256, 32, 32, 1) and images.dtype == np.float32
  assert labels.dtype == np.int32
  raw_images, raw_labels = fashion_mnist.load_fashion_mnist(split="test")
  np.testing.assert_array_equal(labels, raw_labels[:256])
  # A 2-pixel black border, exactly -1; the 28x28 inside is the scaled raw image.
  border = np.ones((32, 32), bool)
  border[2:30, 2:30] = False
  assert np.all(images[:, border, 0] == -1.0)
  np.testing.assert_allclose(images[:, 2:30, 2:30, 0],
                             images_lib.to_model_range(raw_images[:256]), atol=1e-6)
  assert images.min() == -1.0 and images.max() == 1.0  # Real data reaches both ends.


@needs_real_fashion
@pytest.mark.parametrize("resolution", [16, 64])
def test_fashion_mnist_real_other_resolutions(resolution):
  images = next(iter(make(source="fashion_mnist", data_dir=REAL_FASHION_DIR, split="test",
                          resolution=resolution, channels=1, batch_size=8))).numpy()
  assert images.shape == (8, resolution, resolution, 1)
  assert images.min() >= -1.0 and images.max() <= 1.0
  assert images.min() < -0.99 and images.max() > 0.5
  if resolution > 32:  # Enlarging: the outer row comes from the black padding alone.
    assert np.all(images[:, 0, :, 0] == -1.0)


def test_fashion_mnist_seeded_shuffle_is_deterministic(tmp_path):
  # 43 in the file: the last 43 // 12 = 3 are the "val" split, leaving 40 for "train".
  directory = fx.make_fashion_mnist(tmp_path / "fm", train_count=43)

  def first_labels(seed):
    dataset = make(source="fashion_mnist", data_dir=directory, split="train", resolution=32,
                   channels=1, batch_size=8, shuffle=True, repeat=True, seed=seed,
                   with_labels=True, drop_remainder=True)
    return [labels.tolist() for _, labels in batches(dataset, 10)]

  assert first_labels(3) == first_labels(3)
  assert first_labels(3) != first_labels(4)
  assert sorted(sum(first_labels(3)[:5], [])) == sorted(list(range(10)) * 4)  # One epoch.


def test_fashion_mnist_bad_files_name_the_file(tmp_path):
  directory = fx.make_fashion_mnist(tmp_path / "fm")
  images_file = os.path.join(directory, "train-images-idx3-ubyte.gz")
  labels_file = os.path.join(directory, "train-labels-idx1-ubyte.gz")
  load = lambda: fashion_mnist.load_fashion_mnist(data_dir=directory, split="train")
  load()

  fx.write_idx_gz(images_file, np.zeros((5, 28, 28)), declared_shape=(6, 28, 28))
  with pytest.raises(InputError, match=starts_with(images_file, r": IDX header declares")):
    load()
  shutil.copy(labels_file, images_file)  # A labels file where the images should be.
  with pytest.raises(InputError, match=starts_with(images_file, r": wrong IDX magic number")):
    load()
  fx.write_idx_gz(images_file, np.zeros((6, 28, 28)))
  fx.truncate_file(images_file, keep_fraction=0.7)  # A cut download.
  with pytest.raises(InputError, match=starts_with(images_file, r": cannot read IDX file")):
    load()
  fx.write_idx_gz(images_file, np.zeros((6, 28, 28)))
  fx.write_idx_gz(labels_file, np.zeros(5))
  with pytest.raises(InputError, match=starts_with(labels_file, r": has 5 labels for 6")):
    load()
  os.remove(labels_file)
  with pytest.raises(InputError, match=starts_with(labels_file, r": Fashion-MNIST file not")):
    datasets.make_image_dataset(source="fashion_mnist", data_dir=directory, split="train",
                                resolution=32, channels=1, batch_size=2)


@needs_real_fashion
def test_fashion_mnist_truncated_real_file(tmp_path):
  for name in os.listdir(REAL_FASHION_DIR):
    os.symlink(os.path.join(REAL_FASHION_DIR, name), tmp_path / name)
  cut = tmp_path / "t10k-images-idx3-ubyte.gz"
  os.remove(cut)
  with open(os.path.join(REAL_FASHION_DIR, cut.name), "rb") as stream:
    cut.write_bytes(stream.read()[:100_000])
  with pytest.raises(InputError, match=starts_with(cut, r": cannot read IDX file")):
    fashion_mnist.load_fashion_mnist(data_dir=str(tmp_path), split="test")


def test_fashion_mnist_flag_errors(tmp_path):
  directory = fx.make_fashion_mnist(tmp_path / "fm")
  common = dict(source="fashion_mnist", data_dir=directory, batch_size=2)
  with pytest.raises(InputError, match=r"^split='dev': choose one of train, test, val"):
    datasets.make_image_dataset(split="dev", resolution=32, channels=1, **common)
  with pytest.raises(InputError, match=r"^channels=3: fashion_mnist images have 1 channel"):
    datasets.make_image_dataset(split="train", resolution=32, channels=3, **common)
  with pytest.raises(InputError, match=r"^resolution=28: unsupported resolution"):
    datasets.make_image_dataset(split="train", resolution=28, channels=1, **common)
  with pytest.raises(InputError, match=r"^batch_size=0: must be a positive integer"):
    datasets.make_image_dataset(split="train", resolution=32, channels=1,
                                **{**common, "batch_size": 0})
  with pytest.raises(InputError, match=r"^batch_size=7: larger than the 6 examples"):
    datasets.make_image_dataset(split="train", resolution=32, channels=1, repeat=False,
                                **{**common, "batch_size": 7})
  missing = tmp_path / "nowhere"
  with pytest.raises(InputError, match=starts_with(missing, r": Fashion-MNIST directory")):
    fashion_mnist.load_fashion_mnist(data_dir=str(missing), split="train")
  with pytest.raises(InputError, match=starts_with("data_dir=" + str(missing), ": directory")):
    datasets.count_examples(source="fashion_mnist", data_dir=str(missing), split="train")


# ----------------------------------------------------------------------------- folder


def test_folder_shapes_range_and_labels(tmp_path):
  fx.make_folder(tmp_path / "imgs", count=6)
  images, labels = batches(make(source="folder", data_dir=str(tmp_path / "imgs"), split="train",
                                resolution=16, channels=3, batch_size=6, with_labels=True))[0]
  assert images.shape == (6, 16, 16, 3) and images.dtype == np.float32
  assert images.min() >= -1.0 and images.max() <= 1.0
  # Sorted paths: cat/img_000, cat/img_002, cat/img_004, dog/img_001, ...
  assert labels.tolist() == [0, 0, 0, 1, 1, 1]
  red_levels = [10, 50, 90, 30, 70, 110]  # Flat colour 20 * i + 10 of file i.
  np.testing.assert_allclose(images[:, :, :, 0].mean(axis=(1, 2)),
                             np.array(red_levels) / 127.5 - 1, atol=2 / 127.5)


def test_folder_grey_channels_and_split_subfolder(tmp_path):
  fx.make_folder(tmp_path / "data" / "test", count=3, channels=1)
  fx.make_folder(tmp_path / "data" / "train", count=5, channels=1)
  count = datasets.count_examples(source="folder", data_dir=str(tmp_path / "data"),
                                  split="test")
  assert count == 3
  images = batches(make(source="folder", data_dir=str(tmp_path / "data"), split="train",
                        resolution=32, channels=1, batch_size=8))[0]
  assert images.shape == (5, 32, 32, 1)
  with pytest.raises(InputError, match=r"has 1 channel, the model needs 3"):
    make(source="folder", data_dir=str(tmp_path / "data"), split="train", resolution=32,
         channels=3)


def test_folder_split_file(tmp_path):
  paths = fx.make_folder(tmp_path / "imgs", count=6)
  split = tmp_path / "test.txt"
  split.write_text("dog/img_005.png\ncat/img_002.jpg\n")
  assert datasets.count_examples(source="folder", data_dir=str(tmp_path / "imgs"),
                                 split="test", split_file=str(split)) == 2
  images = batches(make(source="folder", data_dir=str(tmp_path / "imgs"), split="test",
                        split_file=str(split), resolution=16, channels=3))[0]
  np.testing.assert_allclose(images[:, 0, 0, 0], np.array([50, 110]) / 127.5 - 1,
                             atol=2 / 127.5)
  split.write_text("cat/img_002.jpg\ncat/gone.png\n")
  with pytest.raises(InputError, match=starts_with(split, r":2: cat/gone.png does not exist")):
    make(source="folder", data_dir=str(tmp_path / "imgs"), split="test",
         split_file=str(split), resolution=16, channels=3)
  assert len(paths) == 6


def test_folder_bad_file_found_before_training(tmp_path):
  paths = fx.make_folder(tmp_path / "imgs", count=4, size=(64, 64))
  fx.truncate_file(paths[2], keep_fraction=0.5)
  with pytest.raises(InputError, match=starts_with(paths[2], ": ")):
    make(source="folder", data_dir=str(tmp_path / "imgs"), split="train", resolution=16,
         channels=3)
  # Without the pre-flight the same file would only fail while iterating.
  dataset = make(source="folder", data_dir=str(tmp_path / "imgs"), split="train",
                 resolution=16, channels=3, preflight=False)
  with pytest.raises(tf.errors.InvalidArgumentError):
    batches(dataset)


def test_folder_directory_errors(tmp_path):
  (tmp_path / "empty").mkdir()
  with pytest.raises(InputError, match=starts_with(tmp_path / "empty", r": no .png/.jpg")):
    make(source="folder", data_dir=str(tmp_path / "empty"), split="train", resolution=16,
         channels=3)
  with pytest.raises(InputError, match=starts_with("data_dir=" + str(tmp_path / "gone"))):
    make(source="folder", data_dir=str(tmp_path / "gone"), split="train", resolution=16,
         channels=3)
  with pytest.raises(InputError, match=r"^data_dir: required for source folder"):
    make(source="folder", data_dir=None, split="train", resolution=16, channels=3)
  fx.write_image(tmp_path / "flat" / "a.png", np.zeros((4, 4, 3)))
  with pytest.raises(InputError, match=r"^with_labels: .*a.png is not inside a class"):
    make(source="folder", data_dir=str(tmp_path / "flat"), split="train", resolution=16,
         channels=3, with_labels=True)


def test_folder_seeded_shuffle_is_deterministic(tmp_path):
  fx.make_folder(tmp_path / "imgs", count=10, size=(8, 8))

  def order(seed):
    dataset = make(source="folder", data_dir=str(tmp_path / "imgs"), split="train",
                   resolution=16, channels=3, batch_size=5, shuffle=True, seed=seed,
                   repeat=True, drop_remainder=True)
    return np.round(np.concatenate([b[:, 0, 0, 0] for b in batches(dataset, 4)]), 3).tolist()

  first = order(7)
  assert first == order(7)
  assert first != order(8)
  assert sorted(first[:10]) == sorted(first[10:])  # Each epoch is a permutation...
  assert first[:10] != first[10:]                  # ...reshuffled between epochs.


def test_source_and_split_flag_errors(tmp_path):
  with pytest.raises(InputError, match=r"^source='mnist': unknown source"):
    make(source="mnist", data_dir=None, split="train", resolution=32, channels=1)
  with pytest.raises(InputError, match=r"^split='validation': choose one of train, test, val"):
    make(source="folder", data_dir=str(tmp_path), split="validation", resolution=32,
         channels=1)
  with pytest.raises(InputError, match=r"^split_file=.*only the folder and celeba"):
    make(source="svhn", data_dir=str(tmp_path), split="train", resolution=32, channels=3,
         split_file="x.txt")


# ----------------------------------------------------------------------------- CelebA


def test_celeba_partition_split_and_face_crop(tmp_path):
  # Partition codes per image 000001..000006: train = 1, 2, 6; val = 3; test = 4, 5.
  names = fx.make_celeba_aligned(tmp_path, partitions=(0, 0, 1, 2, 2, 0))
  counts = {split: datasets.count_examples(source="celeba", data_dir=str(tmp_path), split=split)
            for split in ("train", "val", "test")}
  assert counts == {"train": 3, "val": 1, "test": 2}
  top, left, height, width = fx.CELEBA_FACE_BOX
  for split, indices in (("train", [0, 1, 5]), ("val", [2]), ("test", [3, 4])):
    images = batches(make(source="celeba", data_dir=str(tmp_path), split=split,
                          resolution=32, channels=3, batch_size=8))[0]
    assert images.shape == (len(indices), 32, 32, 3)
    # Which files: the centre colour encodes the image index.
    expected = np.array([[30 * i + 20, 200, 40] for i in indices]) / 127.5 - 1
    np.testing.assert_allclose(images[:, 16, 16], expected, atol=3 / 127.5)
    # Where the crop is: cross-check against Pillow (its own JPEG decoder, crop and
    # resize). The box edge is magenta | face colour, so the decoders' ringing differs by
    # up to ~10 levels; a box one pixel off differs by more than 50.
    for row, index in enumerate(indices):
      with Image.open(tmp_path / "img_align_celeba" / names[index]) as image:
        reference = np.asarray(image.crop((left, top, left + width, top + height)).resize(
            (32, 32), Image.BILINEAR), np.float32)
      np.testing.assert_allclose((images[row] + 1) * 127.5, reference, atol=20)


def test_celeba_official_layout_and_split_file(tmp_path):
  names = fx.make_celeba_aligned(tmp_path, partitions=(0, 2, 2), layout="official")
  assert datasets.count_examples(source="celeba", data_dir=str(tmp_path), split="test") == 2
  split = tmp_path / "ten_k_test.txt"
  split.write_text(f"{names[2]}\n")
  images = batches(make(source="celeba", data_dir=str(tmp_path), split="test",
                        split_file=str(split), resolution=16, channels=3))[0]
  assert images.shape == (1, 16, 16, 3)
  np.testing.assert_allclose(images[0, 8, 8], np.array([80, 200, 40]) / 127.5 - 1,
                             atol=3 / 127.5)


def test_celeba_in_the_wild_bbox_crop(tmp_path):
  fx.make_celeba_wild(tmp_path)
  images = batches(make(source="celeba", data_dir=str(tmp_path), split="train",
                        resolution=16, channels=3))[0]
  np.testing.assert_allclose(images, np.broadcast_to([1.0, 1.0, -1.0], images.shape),
                             atol=3 / 127.5)  # All yellow: exactly the square around the box.
  os.remove(tmp_path / "list_bbox_celeba.txt")
  with pytest.raises(InputError, match=r"list_bbox_celeba.txt: needed to crop the faces"):
    make(source="celeba", data_dir=str(tmp_path), split="train", resolution=16, channels=3)


def test_celeba_errors(tmp_path):
  with pytest.raises(InputError, match=r"no CelebA image folder"):
    make(source="celeba", data_dir=str(tmp_path), split="train", resolution=64, channels=3)
  fx.make_celeba_aligned(tmp_path, partitions=(0, 2))
  partition = tmp_path / "list_eval_partition.txt"
  with pytest.raises(InputError, match=r"^with_labels: celeba has no class labels"):
    make(source="celeba", data_dir=str(tmp_path), split="train", resolution=64, channels=3,
         with_labels=True)
  with pytest.raises(InputError, match=r"^channels=1: celeba images have 3 channels"):
    make(source="celeba", data_dir=str(tmp_path), split="train", resolution=64, channels=1)
  with pytest.raises(InputError, match=starts_with(partition, r": no image has partition 1")):
    make(source="celeba", data_dir=str(tmp_path), split="val", resolution=64, channels=3)
  partition.write_text("000001.jpg 0\n000002.jpg two\n")
  with pytest.raises(InputError, match=starts_with(partition, r":2: expected an image name")):
    make(source="celeba", data_dir=str(tmp_path), split="train", resolution=64, channels=3)
  partition.write_text("000001.jpg 0\n000009.jpg 0\n")
  with pytest.raises(InputError, match=r"000009.jpg: no such image file"):
    make(source="celeba", data_dir=str(tmp_path), split="train", resolution=64, channels=3)
  os.remove(partition)
  with pytest.raises(InputError, match=starts_with(partition, r": CelebA partition file not")):
    make(source="celeba", data_dir=str(tmp_path), split="test", resolution=64, channels=3)


# ----------------------------------------------------------------------------- Stanford Cars


def test_cars_bbox_crop_labels_and_grey_jpeg(tmp_path):
  records = fx.make_cars(tmp_path, split="train", count=3, grey_index=2)
  assert datasets.count_examples(source="cars", data_dir=str(tmp_path), split="train") == 3
  images, labels = batches(make(source="cars", data_dir=str(tmp_path), split="train",
                                resolution=16, channels=3, with_labels=True))[0]
  assert images.shape == (3, 16, 16, 3)
  assert labels.tolist() == [r["class"] - 1 for r in records] == [0, 5, 10]
  # Outside the bbox is blue: none of it may reach the output.
  assert images[:2, ..., 2].max() < -0.95
  # Exactly the bbox: the fixture's pixels cut with NumPy at the documented 1-based inclusive
  # corners. One pixel off in any direction (too large: blue; too small: a thinner green
  # frame) moves edge pixels by about 50 levels or more.
  x1, y1, x2, y2 = records[0]["bbox"]
  expected = images_lib.resize_to_model(
      fx.cars_pixels((64, 104), records[0]["bbox"])[y1 - 1:y2, x1 - 1:x2], resolution=16)
  np.testing.assert_allclose(images[:2], np.broadcast_to(expected, images[:2].shape),
                             atol=3 / 127.5)
  # The grey JPEG is decoded to three equal channels.
  np.testing.assert_allclose(images[2, ..., 0], images[2, ..., 1], atol=1e-6)


def test_cars_test_split_annotation_files(tmp_path):
  fx.make_cars(tmp_path, split="test", count=2, test_annotations="nolabels")
  images = batches(make(source="cars", data_dir=str(tmp_path), split="test", resolution=32,
                        channels=3))[0]
  assert images.shape == (2, 32, 32, 3)
  with pytest.raises(InputError, match=r"cars_test_annos_withlabels.mat: Stanford Cars "
                                       r"annotation file not found"):
    make(source="cars", data_dir=str(tmp_path), split="test", resolution=32, channels=3,
         with_labels=True)
  fx.make_cars(tmp_path, split="test", count=2, test_annotations="withlabels")
  _, labels = batches(make(source="cars", data_dir=str(tmp_path), split="test", resolution=32,
                           channels=3, with_labels=True))[0]
  assert labels.tolist() == [0, 5]


def test_cars_errors(tmp_path):
  with pytest.raises(InputError, match=r"devkit/cars_train_annos.mat: Stanford Cars annotation"):
    make(source="cars", data_dir=str(tmp_path), split="train", resolution=64, channels=3)
  annotations = fx.write_cars_annotations(
      tmp_path / "devkit" / "cars_train_annos.mat",
      [{"bbox": (1, 1, 4, 4), "class": 1, "fname": "00001.jpg"}], with_class=False)
  with pytest.raises(InputError, match=starts_with(annotations, r": annotations lack the field")):
    make(source="cars", data_dir=str(tmp_path), split="train", resolution=64, channels=3,
         with_labels=True)
  with pytest.raises(InputError, match=r"cars_train: image folder not found"):
    make(source="cars", data_dir=str(tmp_path), split="train", resolution=64, channels=3)
  with pytest.raises(InputError, match=r"^split='val': cars has only the splits train, test"):
    make(source="cars", data_dir=str(tmp_path), split="val", resolution=64, channels=3)
  with open(annotations, "wb") as stream:
    stream.write(b"MATLAB 5.0 MAT-file but then garbage")
  with pytest.raises(InputError, match=starts_with(annotations, r": cannot read .mat file")):
    make(source="cars", data_dir=str(tmp_path), split="train", resolution=64, channels=3)


# ----------------------------------------------------------------------------- SVHN


def test_svhn_mat_layout_and_labels(tmp_path):
  expected = fx.make_svhn(tmp_path, split="test", digits=(1, 10, 3, 10, 9))
  assert datasets.count_examples(source="svhn", data_dir=str(tmp_path), split="test") == 5
  images, labels = batches(make(source="svhn", data_dir=str(tmp_path), split="test",
                                resolution=32, channels=3, batch_size=5, with_labels=True))[0]
  assert labels.tolist() == [1, 0, 3, 0, 9]  # 10 is the digit 0.
  np.testing.assert_array_equal(images, images_lib.to_model_range(expected))
  upscaled = batches(make(source="svhn", data_dir=str(tmp_path), split="test",
                          resolution=64, channels=3, batch_size=2), 1)[0]
  assert upscaled.shape == (2, 64, 64, 3)
  assert upscaled.min() >= -1.0 and upscaled.max() <= 1.0


def test_svhn_errors(tmp_path):
  with pytest.raises(InputError, match=r"train_32x32.mat: SVHN file not found"):
    make(source="svhn", data_dir=str(tmp_path), split="train", resolution=64, channels=3)
  path = tmp_path / "train_32x32.mat"
  scipy.io.savemat(str(path), {"X": np.zeros((32, 32, 3, 2), np.uint8),
                               "y": np.array([[0], [4]], np.uint8)})
  with pytest.raises(InputError, match=starts_with(path, r": y has values outside 1..10")):
    make(source="svhn", data_dir=str(tmp_path), split="train", resolution=64, channels=3)
  scipy.io.savemat(str(path), {"X": np.zeros((28, 28, 3, 2), np.uint8),
                               "y": np.array([[1], [4]], np.uint8)})
  with pytest.raises(InputError, match=starts_with(path, r": X has shape")):
    make(source="svhn", data_dir=str(tmp_path), split="train", resolution=64, channels=3)


# ----------------------------------------------------------------------------- TFDS


def test_tfds_not_installed_error(monkeypatch):
  monkeypatch.setitem(sys.modules, "tensorflow_datasets", None)  # import -> ImportError
  with pytest.raises(InputError, match=r"^source=tfds:celeb_a: tensorflow-datasets is not "
                                       r"installed"):
    make(source="tfds:celeb_a", data_dir=None, split="train", resolution=64, channels=3)
  with pytest.raises(InputError, match=r"^source=tfds:cars196: tensorflow-datasets"):
    datasets.count_examples(source="tfds:cars196", data_dir=None, split="test")


class _FakeBuilder:
  """Just the tfds.core.DatasetBuilder surface our reader uses."""

  def __init__(self, name, examples_by_split, channels=3, prepared=True):
    self.name = name
    self._examples = examples_by_split
    self._prepared = prepared
    features = {"image": types.SimpleNamespace(shape=(None, None, channels))}
    if "label" in next(iter(examples_by_split.values()))[0]:
      features["label"] = object()
    splits = ({split: types.SimpleNamespace(num_examples=len(examples))
               for split, examples in examples_by_split.items()} if prepared else {})
    self.info = types.SimpleNamespace(features=features, splits=splits)
    self.requested_splits = []

  def as_dataset(self, *, split, shuffle_files, read_config):
    del shuffle_files, read_config
    if not self._prepared:
      raise AssertionError(f"Dataset {self.name}: could not find data in /nowhere.")
    self.requested_splits.append(split)
    examples = self._examples[split]
    return tf.data.Dataset.from_tensor_slices(
        {key: np.stack([e[key] for e in examples]) for key in examples[0]})


def _fake_tfds(monkeypatch, builders):
  module = types.ModuleType("tensorflow_datasets")

  def builder(name, data_dir=None):
    if name not in builders:
      raise ValueError(f"Dataset {name} not found.")
    return builders[name]

  module.builder = builder
  module.ReadConfig = lambda **kwargs: kwargs
  monkeypatch.setitem(sys.modules, "tensorflow_datasets", module)


def test_tfds_cars196_bbox_and_imagenet_split_with_fake_module(monkeypatch):
  car = fx.solid(40, 80, (0, 0, 255))
  car[10:30, 20:60] = (255, 0, 0)
  cars_examples = [{"image": car, "label": np.int64(7),
                    "bbox": np.array([10 / 40, 20 / 80, 30 / 40, 60 / 80], np.float32)}]
  wide = fx.solid(20, 60, (0, 0, 255))
  wide[:, 20:40] = (0, 255, 0)  # The centred square of a 20x60 image is columns 20..39.
  imagenet = _FakeBuilder("imagenet2012", {"train": [{"image": wide, "label": np.int64(3)}],
                                           "validation": [{"image": wide,
                                                           "label": np.int64(3)}]})
  _fake_tfds(monkeypatch, {"cars196": _FakeBuilder("cars196", {"test": cars_examples}),
                           "imagenet2012": imagenet,
                           "mnist": _FakeBuilder("mnist", {"train": [{"image": wide}]},
                                                 channels=1),
                           "celeb_a": _FakeBuilder("celeb_a", {"train": [{"image": wide}]},
                                                   prepared=False)})
  images, labels = batches(make(source="tfds:cars196", data_dir=None, split="test",
                                resolution=16, channels=3, with_labels=True))[0]
  assert labels.tolist() == [7]
  np.testing.assert_allclose(images, np.broadcast_to([1.0, -1.0, -1.0], images.shape),
                             atol=1e-5)
  assert datasets.count_examples(source="tfds:imagenet2012", data_dir=None, split="test") == 1
  images = batches(make(source="tfds:imagenet2012", data_dir=None, split="test",
                        resolution=16, channels=3))[0]
  assert imagenet.requested_splits == ["validation"]  # The paper tests on ImageNet val.
  np.testing.assert_allclose(images, np.broadcast_to([-1.0, 1.0, -1.0], images.shape),
                             atol=1e-5)
  with pytest.raises(InputError, match=r"^channels=3: tfds:mnist images have 1 channel"):
    make(source="tfds:mnist", data_dir=None, split="train", resolution=16, channels=3)
  with pytest.raises(InputError, match=r"^with_labels: tfds:mnist has no 'label' feature"):
    make(source="tfds:mnist", data_dir=None, split="train", resolution=16, channels=1,
         with_labels=True)
  with pytest.raises(InputError, match=r"^source=tfds:celeb_a: data not found in /data/tfds"):
    make(source="tfds:celeb_a", data_dir="/data/tfds", split="train", resolution=16,
         channels=3)
  with pytest.raises(InputError, match=r"^source=tfds:nope: unknown TFDS dataset"):
    make(source="tfds:nope", data_dir=None, split="train", resolution=16, channels=3)


def test_skimage_source_is_the_centre_crops_of_the_photographs():
  from skimage import data  # lazy: scikit-image is optional, only this source needs it
  batch, labels = next(iter(datasets.make_image_dataset(
      source="skimage", data_dir=None, split="train", resolution=16, channels=3, batch_size=9,
      shuffle=False, repeat=False, with_labels=True)))
  assert batch.shape == (9, 16, 16, 3) and list(labels.numpy()) == list(range(9))
  chelsea = data.chelsea()  # 300 x 451: the centred 300 x 300 square
  left = (451 - 300) // 2
  expected = tf.image.resize(chelsea[None, :, left:left + 300].astype(np.float32), [16, 16], method="area",
                             antialias=True)[0].numpy()
  np.testing.assert_allclose((batch[1].numpy() + 1.0) * 127.5, np.round(expected), atol=1e-3)
  grey = next(iter(datasets.make_image_dataset(source="skimage", data_dir=None, split="test", resolution=16,
                                               channels=1, batch_size=9, shuffle=False, repeat=False)))
  assert grey.shape == (9, 16, 16, 1)
  assert len(skimage_photos.PHOTOS) == datasets.count_examples(source="skimage", data_dir=None, split="val")


# --------------------------------------------------------------------------- the source table

@pytest.mark.parametrize("source", ["cifar", "Fashion_MNIST", "tfds", "tfds:", ""])
def test_unknown_source_is_an_error_never_a_fallback(source, tmp_path):
  expected = (r"^source=.*: unknown source, choose one of fashion_mnist, moving_fashion_mnist_frames, folder, celeba, cars, svhn, imagenet, "
              r"skimage, tfds:<name>$")
  with pytest.raises(InputError, match=expected):
    datasets.make_image_dataset(source=source, data_dir=str(tmp_path), split="train", resolution=32,
                                channels=3, batch_size=2)
  with pytest.raises(InputError, match=expected):
    datasets.count_examples(source=source, data_dir=str(tmp_path), split="train")


def test_every_table_entry_is_complete():
  assert set(datasets.SOURCES) == {"fashion_mnist", "moving_fashion_mnist_frames", "folder", "celeba", "cars", "svhn", "imagenet", "skimage", "tfds"}
  for name, entry in datasets.SOURCES.items():
    assert callable(entry.build) and callable(entry.count), name
    assert entry.splits is None or set(entry.splits) <= set(datasets.SPLITS), name
    assert entry.channels in (None, 1, 3), name
    assert entry.needs_data_dir or not entry.default_data_dir, name
  assert datasets.SOURCES["fashion_mnist"].default_data_dir == "/usr/share/datasets/fashion-mnist"
  assert [n for n, e in datasets.SOURCES.items() if e.takes_split_file] == ["folder", "celeba", "imagenet"]
