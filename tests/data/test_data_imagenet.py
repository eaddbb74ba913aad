"""The imagenet source of pgi_tf.data.datasets on a tiny ILSVRC2012 in the real layout:
labels (sorted wnids, LOC_synset_mapping.txt order, Kaggle's csv), the centre crop against
PIL, CMYK and grey JPEGs, split files, balanced_subset and the one-line errors."""

import os

import numpy as np
import pytest
from PIL import Image

from pgi_tf.data import imagenet
from pgi_tf.data import datasets
from pgi_tf.errors import InputError
from tests import fixtures_imagenet


def _all(data_dir, split, *, resolution=16, split_file=None):
  """Every (image, label) of a split in file order, as numpy."""
  count = datasets.count_examples(source="imagenet", data_dir=data_dir, split=split,
                                  split_file=split_file)
  dataset = datasets.make_image_dataset(
      source="imagenet", data_dir=data_dir, split=split, resolution=resolution, channels=3,
      batch_size=count, shuffle=False, repeat=False, with_labels=True, split_file=split_file)
  images, labels = next(iter(dataset))
  return images.numpy(), labels.numpy()


def _pil_reference(path, resolution):
  """Centre square crop + bilinear resize with PIL, in [-1, 1]: the usual ImageNet practice."""
  with Image.open(path) as image:
    image = image.convert("RGB")
    width, height = image.size
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    image = image.crop((left, top, left + side, top + side)).resize(
        (resolution, resolution), Image.BILINEAR)
    return np.asarray(image, np.float32) / 127.5 - 1.0


@pytest.fixture(scope="module")
def flat(tmp_path_factory):
  return fixtures_imagenet.make_imagenet(tmp_path_factory.mktemp("imagenet_flat"))


def test_train_labels_shapes_range_and_file_order(flat):
  images, labels = _all(flat.root, "train")
  assert images.shape == (12, 16, 16, 3) and images.dtype == np.float32
  assert images.min() >= -1.0 and images.max() <= 1.0
  np.testing.assert_array_equal(labels, [label for _, label in flat.train])
  assert imagenet.imagenet_class_names(flat.root) == sorted(fixtures_imagenet.WNIDS)
  # README.txt in a class folder is not an image; the upper-case .JPEG files are.
  examples = imagenet.imagenet_examples(data_dir=flat.root, split="train")
  assert [os.path.basename(p) for p in examples.paths][:2] == ["n01440764_1000.JPEG",
                                                               "n01440764_1001.JPEG"]


def test_centre_crop_matches_pil_for_landscape_and_portrait(flat):
  resolution = 32
  images, _ = _all(flat.root, "train", resolution=resolution)
  for index in (0, 3, 4, 7):  # both orientations, several classes (plain RGB JPEGs)
    path = flat.train[index][0]
    reference = _pil_reference(path, resolution)
    np.testing.assert_allclose(images[index], reference, atol=4 / 127.5, err_msg=path)
    # No magenta strip made it in: a squash-resize of the whole image would show it.
    with Image.open(path) as image:
      squashed = np.asarray(image.convert("RGB").resize((resolution, resolution), Image.BILINEAR),
                            np.float32) / 127.5 - 1.0
    assert np.abs(images[index] - squashed).max() > 0.5


def test_cmyk_and_grey_jpegs_become_rgb(flat):
  with Image.open(flat.cmyk_path) as image:
    assert image.mode == "CMYK"
  images, _ = _all(flat.root, "train", resolution=32)
  cmyk_index = [path for path, _ in flat.train].index(flat.cmyk_path)
  grey_index = [path for path, _ in flat.train].index(flat.grey_path)
  np.testing.assert_allclose(images[cmyk_index], _pil_reference(flat.cmyk_path, 32), atol=4 / 127.5)
  # The CMYK file still carries its class colour (red for tench) ...
  red, green, blue = images[cmyk_index].mean(axis=(0, 1))
  assert red > green + 0.8 and red > blue + 0.8
  # ... and the grey one has three equal channels.
  np.testing.assert_array_equal(images[grey_index][..., 0], images[grey_index][..., 1])
  np.testing.assert_array_equal(images[grey_index][..., 0], images[grey_index][..., 2])


def test_flat_val_is_labelled_by_the_kaggle_csv_and_test_means_val(flat):
  images, labels = _all(flat.root, "val")
  by_path = dict(flat.val)
  examples = imagenet.imagenet_examples(data_dir=flat.root, split="val")
  assert sorted(examples.paths) == sorted(by_path) and len(labels) == 6
  np.testing.assert_array_equal(labels, [by_path[path] for path in examples.paths])
  # Image ILSVRC2012_val_00000001 is the last wnid's (the fixture writes classes in reverse).
  assert os.path.basename(examples.paths[0]) == "ILSVRC2012_val_00000001.JPEG" and labels[0] == 2
  _, test_labels = _all(flat.root, "test")
  np.testing.assert_array_equal(test_labels, labels)


def test_val_in_class_folders_and_synset_mapping_order(tmp_path):
  mapping = ("n01484850", "n01440764", "n01443537", "n09999999")  # not sorted, one extra class
  fixture = fixtures_imagenet.make_imagenet(tmp_path, val_layout="folders", synset_mapping=mapping,
                                            train_per_class=1)
  assert imagenet.imagenet_class_names(str(tmp_path)) == list(mapping)
  _, labels = _all(str(tmp_path), "val")
  examples = imagenet.imagenet_examples(data_dir=str(tmp_path), split="val")
  expected = [mapping.index(os.path.basename(os.path.dirname(path))) for path in examples.paths]
  np.testing.assert_array_equal(labels, expected)
  assert set(labels) == {0, 1, 2}
  _, train_labels = _all(str(tmp_path), "train")
  np.testing.assert_array_equal(train_labels, [1, 2, 0])  # wnid folders in sorted order
  assert fixture.solution_csv is None


def test_kaggle_nested_layout(tmp_path):
  fixtures_imagenet.make_imagenet(tmp_path, nested=True, train_per_class=1, val_per_class=1)
  _, labels = _all(str(tmp_path), "val")
  np.testing.assert_array_equal(labels, [2, 1, 0])
  assert datasets.count_examples(source="imagenet", data_dir=str(tmp_path), split="train") == 3


def test_split_file_mixes_train_folders_and_flat_val(flat, tmp_path):
  listed = [flat.train[5], flat.val[0], flat.val[4]]
  split_file = tmp_path / "subset.txt"
  split_file.write_text("# the paper's test subset\n" + "".join(
      os.path.relpath(path, flat.root) + "\n" for path, _ in listed))
  _, labels = _all(flat.root, "val", split_file=str(split_file))
  examples = imagenet.imagenet_examples(data_dir=flat.root, split="val", split_file=str(split_file))
  by_path = dict(listed)
  np.testing.assert_array_equal(labels, [by_path[path] for path in examples.paths])


def test_balanced_subset():
  paths = [f"p{i:03d}" for i in range(30)]
  labels = [0] * 12 + [1] * 10 + [2] * 8
  chosen = imagenet.balanced_subset(paths, labels, count=9, seed=3)
  assert chosen.dtype == np.int64 and list(chosen) == sorted(chosen) and len(set(chosen)) == 9
  assert np.bincount(np.asarray(labels)[chosen]).tolist() == [3, 3, 3]
  np.testing.assert_array_equal(chosen, imagenet.balanced_subset(paths, labels, count=9, seed=3))
  assert not np.array_equal(chosen, imagenet.balanced_subset(paths, labels, count=9, seed=4))
  # The same files whatever the input order.
  order = np.random.default_rng(0).permutation(30)
  shuffled = imagenet.balanced_subset([paths[i] for i in order], [labels[i] for i in order],
                                      count=9, seed=3)
  assert sorted(paths[order[i]] for i in shuffled) == sorted(paths[i] for i in chosen)
  # 10 over 3 classes: 4, 3, 3 in some order.
  counts = np.bincount(np.asarray(labels)[imagenet.balanced_subset(paths, labels, count=10, seed=0)])
  assert sorted(counts.tolist()) == [3, 3, 4]
  with pytest.raises(InputError, match=r"count=27: class 2 has 8 examples"):
    imagenet.balanced_subset(paths, labels, count=27, seed=0)
  with pytest.raises(InputError, match=r"count=0"):
    imagenet.balanced_subset(paths, labels, count=0, seed=0)


def test_errors_name_the_file_and_line(tmp_path):
  fixture = fixtures_imagenet.make_imagenet(tmp_path, train_per_class=1, val_per_class=1)
  lines = open(fixture.solution_csv).read().splitlines()
  lines[2] = lines[2].replace("n01443537", "n09999999")
  open(fixture.solution_csv, "w").write("\n".join(lines) + "\n")
  with pytest.raises(InputError, match=r"LOC_val_solution.csv:3: unknown wnid n09999999"):
    imagenet.imagenet_examples(data_dir=str(tmp_path), split="val")

  open(fixture.solution_csv, "w").write("id,label\nILSVRC2012_val_00000001,n01440764\n")
  with pytest.raises(InputError, match=r"LOC_val_solution.csv:1: expected the header"):
    imagenet.imagenet_examples(data_dir=str(tmp_path), split="val")

  os.remove(fixture.solution_csv)
  with pytest.raises(InputError, match=r"LOC_val_solution.csv: not found"):
    imagenet.imagenet_examples(data_dir=str(tmp_path), split="val")

  # A mapping that misses a wnid folder is refused, naming the mapping file.
  (tmp_path / "LOC_synset_mapping.txt").write_text("n01440764 tench\nn01443537 goldfish\n")
  with pytest.raises(InputError, match=r"LOC_synset_mapping.txt: does not list the train folder n01484850"):
    imagenet.imagenet_class_names(str(tmp_path))

  empty = tmp_path / "empty"
  empty.mkdir()
  with pytest.raises(InputError, match=r"no ImageNet class list"):
    imagenet.imagenet_examples(data_dir=str(empty), split="train")
  with pytest.raises(InputError, match=r"^data_dir=.*nowhere: directory does not exist$"):
    imagenet.imagenet_class_names(str(tmp_path / "nowhere"))
  with pytest.raises(InputError, match=r"split=.validation.: choose one of"):
    datasets.make_image_dataset(source="imagenet", data_dir=str(tmp_path), split="validation",
                                resolution=16, channels=3, batch_size=1)
  with pytest.raises(InputError, match=r"channels=1: imagenet images have 3 channels"):
    datasets.make_image_dataset(source="imagenet", data_dir=str(tmp_path), split="train",
                                resolution=16, channels=1, batch_size=1)
