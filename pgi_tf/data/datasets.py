"""tf.data image pipelines for every dataset of the paper, in the project's [-1, 1] range.

`make_image_dataset` yields float32 [B, R, R, C] batches in [-1, 1] (or (images, int32 labels)
with `with_labels=True`) from one of `SOURCES`:

  fashion_mnist  IDX .gz files (default /usr/share/datasets/fashion-mnist, Debian package
                 dataset-fashion-mnist). 28x28 grey, zero-padded to 32x32 with black (-1),
                 then resized to R if R != 32. Labels 0..9. Splits train (60k) / test (10k).
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

Pipelines: shuffle (seeded, reshuffled each epoch) -> repeat -> parallel decode/crop/resize ->
batch -> prefetch. In-memory sources (Fashion-MNIST, SVHN) shuffle indices and gather whole
batches, so there is no per-example map at all.
"""
import csv
import os
import re
from typing import Callable, Sequence

import numpy as np
import scipy.io
import tensorflow as tf

from pgi_tf.data import fashion_mnist
from pgi_tf.data import images as images_lib
from pgi_tf.data import skimage_photos
from pgi_tf.data import tfds_source
from pgi_tf.errors import InputError

SOURCES = ("fashion_mnist", "folder", "celeba", "cars", "svhn", "imagenet", "skimage", "tfds:<name>")
SPLITS = ("train", "test", "val")
DEFAULT_DATA_DIRS = {"fashion_mnist": fashion_mnist.DEFAULT_DATA_DIR}
CELEBA_PARTITIONS = {"train": 0, "val": 1, "test": 2}
# Channels of each fixed dataset; the model's `channels` must match.
_SOURCE_CHANNELS = {"fashion_mnist": 1, "celeba": 3, "cars": 3, "svhn": 3, "imagenet": 3}
_SPLITS_BY_SOURCE = {"fashion_mnist": ("train", "val", "test"), "cars": ("train", "test"),
                     "svhn": ("train", "test"), "imagenet": ("train", "val", "test")}
_SPLIT_FILE_SOURCES = ("folder", "celeba", "imagenet")


# ---------------------------------------------------------------------------------------------
# Argument checks.
# ---------------------------------------------------------------------------------------------


def _parse_source(source: str) -> tuple[str, str | None]:
  """'celeba' -> ('celeba', None); 'tfds:cars196' -> ('tfds', 'cars196')."""
  if isinstance(source, str) and source.startswith("tfds:") and len(source) > len("tfds:"):
    return "tfds", source[len("tfds:"):]
  if source in SOURCES and source != "tfds:<name>":
    return source, None
  raise InputError(f"source={source!r}: unknown source, choose one of {', '.join(SOURCES)}")


def _check_split(kind: str, split: str) -> None:
  if split not in SPLITS:
    raise InputError(f"split={split!r}: choose one of {', '.join(SPLITS)}")
  allowed = _SPLITS_BY_SOURCE.get(kind)
  if allowed is not None and split not in allowed:
    raise InputError(f"split={split!r}: {kind} has only the splits {', '.join(allowed)}")


def _data_dir(kind: str, data_dir: str | None) -> str:
  """`data_dir`, or the source's default; must be an existing directory."""
  if data_dir is None:
    if kind not in DEFAULT_DATA_DIRS:
      raise InputError(f"data_dir: required for source {kind} (it has no default directory)")
    data_dir = DEFAULT_DATA_DIRS[kind]
  if not os.path.isdir(data_dir):
    raise InputError(f"data_dir={data_dir}: directory does not exist")
  return data_dir


def _first_existing(data_dir: str, candidates: tuple[str, ...], *, kind: str) -> str | None:
  for relative in candidates:
    path = os.path.join(data_dir, relative)
    if (os.path.isdir(path) if kind == "dir" else os.path.isfile(path)):
      return path
  return None


# ---------------------------------------------------------------------------------------------
# File-based sources: each returns the files plus what the in-graph crop needs.
# ---------------------------------------------------------------------------------------------


class FileExamples:
  """Image files of one split, with per-file crop boxes and labels.

  Attributes:
    paths: absolute file paths.
    boxes: int32 [N, 4], meaning depends on `crop` (zeros when unused).
    labels: int32 [N], -1 when the source has none.
    crop: "none", "center_square" (imagenet), "celeba_aligned", "celeba_wild" (boxes =
      x, y, w, h, 0-based) or "cars"
      (boxes = x1, y1, x2, y2, 1-based inclusive).
    file_channels: channels each file must have (pre-flight), or None to accept both and let
      the decoder convert (datasets known to be colour with a few grey files).
  """

  def __init__(self, *, paths, boxes=None, labels=None, crop="none", file_channels=None):
    self.paths = list(paths)
    count = len(self.paths)
    self.boxes = (np.zeros([count, 4], np.int32) if boxes is None
                  else np.asarray(boxes, np.int32).reshape([count, 4]))
    self.labels = (np.full([count], -1, np.int32) if labels is None
                   else np.asarray(labels, np.int32).reshape([count]))
    self.crop = crop
    self.file_channels = file_channels


def folder_examples(*, data_dir: str, split: str, split_file: str | None = None,
                    with_labels: bool = False, channels: int | None = None) -> FileExamples:
  """The folder source's files (see the module docstring for the split rule)."""
  root = data_dir
  if split_file is None:
    for name in ((split, "validation") if split == "val" else (split,)):
      if os.path.isdir(os.path.join(data_dir, name)):
        root = os.path.join(data_dir, name)
        break
  paths = images_lib.list_image_files(root, split_file=split_file)
  labels = None
  if with_labels:
    class_of_path = []
    for path in paths:
      parts = os.path.relpath(path, root).split(os.sep)
      if len(parts) < 2:
        raise InputError(f"with_labels: {path} is not inside a class sub-folder of {root}")
      class_of_path.append(parts[0])
    class_names = sorted(set(class_of_path))
    labels = [class_names.index(name) for name in class_of_path]
  return FileExamples(paths=paths, labels=labels, crop="none", file_channels=channels)


_LIST_LINE = re.compile(r"[,\s]+")


def _read_name_table(path: str, *, fields: int) -> dict[str, list[int]]:
  """Reads CelebA's `name v1 v2 ...` lists (.txt, whitespace, or Kaggle's .csv).

  Lines whose first field is not an image name (the count and header lines) are skipped.
  """
  table = {}
  with open(path, encoding="utf-8") as stream:
    for line_number, line in enumerate(stream, start=1):
      tokens = [token for token in _LIST_LINE.split(line.strip()) if token]
      if not tokens or not tokens[0].lower().endswith(images_lib.IMAGE_EXTENSIONS):
        continue
      try:
        if len(tokens) != fields + 1:
          raise ValueError
        table[tokens[0]] = [int(token) for token in tokens[1:]]
      except ValueError:
        raise InputError(f"{path}:{line_number}: expected an image name and {fields} "
                         f"integers, got {line.strip()[:80]!r}") from None
  if not table:
    raise InputError(f"{path}: lists no images")
  return table


def celeba_examples(*, data_dir: str, split: str,
                    split_file: str | None = None) -> FileExamples:
  """CelebA files of a split with their face crop (see the module docstring)."""
  aligned_dir = _first_existing(
      data_dir, ("img_align_celeba/img_align_celeba", "img_align_celeba",
                 "Img/img_align_celeba"), kind="dir")
  wild_dir = _first_existing(data_dir, ("img_celeba", "Img/img_celeba"), kind="dir")
  if aligned_dir is None and wild_dir is None:
    raise InputError(f"data_dir={data_dir}: no CelebA image folder (img_align_celeba/ or "
                     f"img_celeba/) found")
  image_dir = aligned_dir if aligned_dir is not None else wild_dir

  if split_file is not None:
    paths = images_lib.list_image_files(image_dir, split_file=split_file)
  else:
    partition_file = _first_existing(
        data_dir, ("list_eval_partition.txt", "Eval/list_eval_partition.txt",
                   "list_eval_partition.csv"), kind="file")
    if partition_file is None:
      raise InputError(
          f"{os.path.join(data_dir, 'list_eval_partition.txt')}: CelebA partition file not "
          f"found (needed for split={split}; or pass split_file)")
    partitions = _read_name_table(partition_file, fields=1)
    wanted = CELEBA_PARTITIONS[split]
    names = sorted(name for name, (code,) in partitions.items() if code == wanted)
    if not names:
      raise InputError(f"{partition_file}: no image has partition {wanted} (split={split})")
    paths = [os.path.join(image_dir, name) for name in names]

  if aligned_dir is not None:
    return FileExamples(paths=paths, crop="celeba_aligned")

  bbox_file = _first_existing(
      data_dir, ("list_bbox_celeba.txt", "Anno/list_bbox_celeba.txt", "list_bbox_celeba.csv"),
      kind="file")
  if bbox_file is None:
    raise InputError(f"{os.path.join(data_dir, 'list_bbox_celeba.txt')}: needed to crop the "
                     f"faces of the in-the-wild images in {wild_dir}, not found")
  boxes_by_name = _read_name_table(bbox_file, fields=4)
  boxes = []
  for path in paths:
    name = os.path.relpath(path, image_dir).replace(os.sep, "/")
    if name not in boxes_by_name:
      raise InputError(f"{bbox_file}: has no box for {name}")
    boxes.append(boxes_by_name[name])
  return FileExamples(paths=paths, boxes=boxes, crop="celeba_wild")


_CARS_FIELDS = ("bbox_x1", "bbox_y1", "bbox_x2", "bbox_y2", "class", "fname")


def _cars_annotation_file(data_dir: str, split: str, *, require_labels: bool) -> str:
  if split == "train":
    candidates = ("devkit/cars_train_annos.mat", "cars_train_annos.mat")
  else:
    candidates = ("cars_test_annos_withlabels.mat", "devkit/cars_test_annos_withlabels.mat")
    if not require_labels:
      candidates += ("devkit/cars_test_annos.mat", "cars_test_annos.mat")
  path = _first_existing(data_dir, candidates, kind="file")
  if path is None:
    raise InputError(f"{os.path.join(data_dir, candidates[0])}: Stanford Cars annotation "
                     f"file not found")
  return path


def read_cars_annotations(path: str, *, require_labels: bool) -> list[dict]:
  """Reads a Stanford Cars devkit .mat into [{'bbox', 'label', 'fname'}] records.

  bbox is (x1, y1, x2, y2) as stored; label is class - 1 (0..195), or -1 without classes.

  The struct array `annotations` has fields bbox_x1, bbox_y1, bbox_x2, bbox_y2, class
  (1..196; absent from cars_test_annos.mat) and fname.
  """
  try:
    contents = scipy.io.loadmat(path, squeeze_me=True)
  except Exception as error:
    raise InputError(f"{path}: cannot read .mat file ({' '.join(str(error).split())})") from None
  if "annotations" not in contents:
    raise InputError(f"{path}: no 'annotations' struct array")
  annotations = np.atleast_1d(contents["annotations"])
  names = annotations.dtype.names or ()
  needed = _CARS_FIELDS if require_labels else tuple(f for f in _CARS_FIELDS if f != "class")
  missing = [field for field in needed if field not in names]
  if missing:
    raise InputError(f"{path}: annotations lack the field(s) {', '.join(missing)}")
  records = []
  for index, annotation in enumerate(annotations):
    try:
      box = tuple(int(annotation[f]) for f in ("bbox_x1", "bbox_y1", "bbox_x2", "bbox_y2"))
      label = int(annotation["class"]) - 1 if "class" in names else -1
      fname = str(annotation["fname"])
    except (TypeError, ValueError):
      raise InputError(f"{path}: annotation {index} is malformed") from None
    if box[2] < box[0] or box[3] < box[1]:
      raise InputError(f"{path}: annotation {index} ({fname}) has an empty box {box}")
    records.append({"bbox": box, "label": label, "fname": fname})
  return records


def cars_examples(*, data_dir: str, split: str, require_labels: bool = False) -> FileExamples:
  """Stanford Cars files of a split with their bounding boxes."""
  annotation_file = _cars_annotation_file(data_dir, split, require_labels=require_labels)
  records = read_cars_annotations(annotation_file, require_labels=require_labels)
  image_dir = _first_existing(data_dir, (f"cars_{split}/cars_{split}", f"cars_{split}"),
                              kind="dir")
  if image_dir is None:
    raise InputError(f"{os.path.join(data_dir, f'cars_{split}')}: image folder not found")
  return FileExamples(
      paths=[os.path.join(image_dir, record["fname"]) for record in records],
      boxes=[record["bbox"] for record in records],
      labels=[record["label"] for record in records], crop="cars")


# ---------------------------------------------------------------------------------------------
# ImageNet (ILSVRC2012 classification).
# ---------------------------------------------------------------------------------------------

IMAGENET_SYNSET_MAPPING = "LOC_synset_mapping.txt"
IMAGENET_VAL_SOLUTION = "LOC_val_solution.csv"
IMAGENET_NUM_CLASSES = 1000
_WNID = re.compile(r"n\d{8}")
# Kaggle's "imagenet-object-localization-challenge" nests the images here.
_IMAGENET_KAGGLE_ROOT = os.path.join("ILSVRC", "Data", "CLS-LOC")


def _imagenet_image_root(data_dir: str) -> str:
  nested = os.path.join(data_dir, _IMAGENET_KAGGLE_ROOT)
  return nested if os.path.isdir(nested) else data_dir


def _imagenet_metadata_file(data_dir: str, name: str) -> str | None:
  """`name` in data_dir, or next to the images of Kaggle's nested layout."""
  for directory in (data_dir, _imagenet_image_root(data_dir)):
    if os.path.isfile(os.path.join(directory, name)):
      return os.path.join(directory, name)
  return None


def _imagenet_split_dir(image_root: str, split: str) -> str | None:
  names = ("train",) if split == "train" else ("val", "validation")
  return _first_existing(image_root, names, kind="dir")


def _wnid_folders(directory: str | None) -> list[str]:
  """Sorted names of the wnid sub-folders of `directory` (other entries are ignored)."""
  if directory is None:
    return []
  return sorted(entry.name for entry in os.scandir(directory)
                if entry.is_dir() and _WNID.fullmatch(entry.name))


def _read_synset_mapping(path: str) -> list[str]:
  """wnids of `LOC_synset_mapping.txt` (lines `n01440764 tench, Tinca tinca`), in file order."""
  wnids: list[str] = []
  with open(path, encoding="utf-8") as stream:
    for line_number, line in enumerate(stream, start=1):
      if not line.strip():
        continue
      wnid = line.split()[0]
      if not _WNID.fullmatch(wnid):
        raise InputError(f"{path}:{line_number}: expected a wnid such as n01440764, got {wnid[:40]!r}")
      if wnid in wnids:
        raise InputError(f"{path}:{line_number}: wnid {wnid} is listed twice")
      wnids.append(wnid)
  if not wnids:
    raise InputError(f"{path}: lists no wnids")
  return wnids


def read_imagenet_val_solution(path: str) -> dict[str, tuple[str, int]]:
  """Kaggle's LOC_val_solution.csv: ImageId -> (wnid, line number).

  The header is `ImageId,PredictionString`; the string is `wnid x1 y1 x2 y2 [wnid ...]` (one
  box per object, all of the image's class), so its first token is the label.
  """
  solution = {}
  with open(path, encoding="utf-8", newline="") as stream:
    rows = csv.reader(stream)
    header = next(rows, None)
    if header is None or [field.strip() for field in header[:2]] != ["ImageId", "PredictionString"]:
      raise InputError(f"{path}:1: expected the header ImageId,PredictionString")
    for line_number, row in enumerate(rows, start=2):
      if not row or not "".join(row).strip():
        continue
      tokens = row[1].split() if len(row) >= 2 else []
      if not tokens or not _WNID.fullmatch(tokens[0]):
        raise InputError(f"{path}:{line_number}: expected ImageId,wnid ..., got {','.join(row)[:80]!r}")
      solution[row[0].strip()] = (tokens[0], line_number)
  if not solution:
    raise InputError(f"{path}: lists no images")
  return solution


def imagenet_class_names(data_dir: str) -> list[str]:
  """The wnids in label order: label i is the i-th (see the module docstring for the rule).

  Raises:
    InputError: naming the mapping file when a wnid folder is missing from it, or data_dir
      when no class list can be found.
  """
  if not os.path.isdir(data_dir):
    raise InputError(f"data_dir={data_dir}: directory does not exist")
  image_root = _imagenet_image_root(data_dir)
  folders = {split: _wnid_folders(_imagenet_split_dir(image_root, split)) for split in ("train", "val")}
  mapping_path = _imagenet_metadata_file(data_dir, IMAGENET_SYNSET_MAPPING)
  if mapping_path is not None:
    wnids = _read_synset_mapping(mapping_path)
    known = set(wnids)
    for split, names in folders.items():
      unknown = [name for name in names if name not in known]
      if unknown:
        raise InputError(f"{mapping_path}: does not list the {split} folder {unknown[0]} "
                         f"({len(unknown)} unknown wnid folder(s))")
    return wnids
  if folders["train"] or folders["val"]:
    return folders["train"] or folders["val"]
  solution_path = _imagenet_metadata_file(data_dir, IMAGENET_VAL_SOLUTION)
  if solution_path is not None:
    return sorted({wnid for wnid, _ in read_imagenet_val_solution(solution_path).values()})
  raise InputError(f"data_dir={data_dir}: no ImageNet class list: expected train/<wnid>/ "
                   f"folders, val/<wnid>/ folders, {IMAGENET_SYNSET_MAPPING} or {IMAGENET_VAL_SOLUTION}")


def _image_files_in(directory: str) -> list[str]:
  """Image files directly in `directory` (extensions matched case-insensitively: .JPEG)."""
  return sorted(entry.path for entry in os.scandir(directory)
                if entry.is_file() and entry.name.lower().endswith(images_lib.IMAGE_EXTENSIONS))


class _ImagenetLabeler:
  """Label of an image path: its wnid folder, or its row of LOC_val_solution.csv."""

  def __init__(self, data_dir: str):
    self.class_names = imagenet_class_names(data_dir)
    self.index = {wnid: label for label, wnid in enumerate(self.class_names)}
    self.data_dir = data_dir
    self._solution = None
    self.solution_path = _imagenet_metadata_file(data_dir, IMAGENET_VAL_SOLUTION)

  def from_folder(self, wnid: str, *, path: str) -> int:
    if wnid not in self.index:
      raise InputError(f"{path}: wnid folder {wnid} is not one of the {len(self.index)} classes")
    return self.index[wnid]

  def from_solution(self, path: str, *, what: str) -> int:
    if self.solution_path is None:
      raise InputError(f"{os.path.join(self.data_dir, IMAGENET_VAL_SOLUTION)}: not found, needed "
                       f"to label {what} (or sort val/ into wnid folders with valprep.sh)")
    if self._solution is None:
      self._solution = read_imagenet_val_solution(self.solution_path)
    image_id = os.path.splitext(os.path.basename(path))[0]
    if image_id not in self._solution:
      raise InputError(f"{self.solution_path}: has no row for {image_id} ({path})")
    wnid, line_number = self._solution[image_id]
    if wnid not in self.index:
      raise InputError(f"{self.solution_path}:{line_number}: unknown wnid {wnid} (not one of "
                       f"the {len(self.index)} classes)")
    return self.index[wnid]

  def from_path(self, path: str, *, what: str) -> int:
    parent = os.path.basename(os.path.dirname(path))
    if _WNID.fullmatch(parent):
      return self.from_folder(parent, path=path)
    return self.from_solution(path, what=what)


def imagenet_examples(*, data_dir: str, split: str, split_file: str | None = None) -> FileExamples:
  """ImageNet files of a split with their labels (layout and label rule: module docstring).

  With `split_file` (paths relative to data_dir), the listed files are used instead of the
  split folder; each is labelled by its wnid folder, or else by LOC_val_solution.csv.
  """
  labeler = _ImagenetLabeler(data_dir)
  if split_file is not None:
    paths = images_lib.read_split_file(split_file, directory=data_dir)
    labels = [labeler.from_path(path, what=f"{path} listed in {split_file}") for path in paths]
  else:
    image_root = _imagenet_image_root(data_dir)
    split_dir = _imagenet_split_dir(image_root, split)
    if split_dir is None:
      folder = "train" if split == "train" else "val"
      raise InputError(f"{os.path.join(image_root, folder)}: ImageNet {folder} folder not found "
                       f"(split={split})")
    paths, labels = [], []
    wnids = _wnid_folders(split_dir)
    if wnids:  # class folders: train/, or val/ after valprep.sh
      for wnid in wnids:
        files = _image_files_in(os.path.join(split_dir, wnid))
        label = labeler.from_folder(wnid, path=os.path.join(split_dir, wnid))
        paths.extend(files)
        labels.extend([label] * len(files))
    elif split != "train":  # flat val/ labelled by the csv
      paths = _image_files_in(split_dir)
      labels = [labeler.from_solution(path, what=f"the flat {split_dir}") for path in paths]
    if not paths:
      raise InputError(f"{split_dir}: no .JPEG images found (expected {split_dir}/<wnid>/*.JPEG"
                       + ("" if split == "train" else f" or {split_dir}/*.JPEG") + ")")
  # file_channels=None: the few grey and CMYK files are converted to RGB by the decoder.
  return FileExamples(paths=paths, labels=labels, crop="center_square", file_channels=None)


def balanced_subset(paths: Sequence[str], labels: Sequence[int], *, count: int, seed: int) -> np.ndarray:
  """Indices of `count` examples equally sampled across classes, deterministic by `seed`.

  The paper's test set is "10000 images equally sampled across classes from validation set
  of ImageNet", i.e. 10 per class. Each class gives count // K examples (K = number of
  classes present); the count % K left over go one each to classes drawn with the seed.
  Within a class, files are drawn from the path-sorted list, so the choice does not depend
  on the order of `paths`. To fix the subset as a split file:

    examples = imagenet_examples(data_dir=d, split="val")
    chosen = balanced_subset(examples.paths, examples.labels, count=10000, seed=0)
    open("val_10k.txt", "w").write("".join(os.path.relpath(examples.paths[i], d) + "\\n"
                                          for i in chosen))

  Returns:
    int64 indices into `paths`, sorted.

  Raises:
    InputError: when count is not positive, or a class has too few examples for its share.
  """
  labels = np.asarray(labels).reshape(-1)
  if len(paths) != len(labels):
    raise ValueError(f"{len(paths)} paths but {len(labels)} labels")
  if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
    raise InputError(f"count={count!r}: must be a positive integer")
  classes = np.unique(labels)
  if count > len(labels):
    raise InputError(f"count={count}: larger than the {len(labels)} examples")
  rng = np.random.default_rng(seed)
  share = np.full(len(classes), count // len(classes))
  share[rng.permutation(len(classes))[:count % len(classes)]] += 1
  chosen = []
  for klass, wanted in zip(classes, share):
    members = np.flatnonzero(labels == klass)
    if len(members) < wanted:
      raise InputError(f"count={count}: class {klass} has {len(members)} examples, fewer than its "
                       f"share of {wanted}")
    members = members[np.argsort([paths[i] for i in members], kind="stable")]
    chosen.extend(members[rng.choice(len(members), size=wanted, replace=False)])
  return np.sort(np.asarray(chosen, np.int64))


def _crop_for(crop: str) -> Callable[[tf.Tensor, tf.Tensor], tf.Tensor]:
  """In-graph crop of a decoded image given its per-file box (see FileExamples.crop)."""
  if crop == "none":
    return lambda image, box: image
  if crop == "center_square":
    return lambda image, box: images_lib.center_square_crop(image)
  if crop == "celeba_aligned":
    return lambda image, box: images_lib.celeba_aligned_face_crop(image)
  if crop == "celeba_wild":
    return lambda image, box: images_lib.crop_square_around_box(
        image, x=box[0], y=box[1], box_width=box[2], box_height=box[3])
  if crop == "cars":
    # 1-based inclusive corners -> half-open 0-based rows [y1 - 1, y2), columns [x1 - 1, x2).
    return lambda image, box: images_lib.crop_half_open_box(
        image, top=box[1] - 1, left=box[0] - 1, bottom=box[3], right=box[2])
  raise ValueError(f"unknown crop {crop!r}")


# ---------------------------------------------------------------------------------------------
# SVHN (in memory).
# ---------------------------------------------------------------------------------------------


def svhn_path(*, data_dir: str, split: str) -> str:
  path = os.path.join(data_dir, f"{split}_32x32.mat")
  if not os.path.isfile(path):
    raise InputError(f"{path}: SVHN file not found")
  return path


def load_svhn(*, data_dir: str, split: str) -> tuple[np.ndarray, np.ndarray]:
  """SVHN cropped digits as (uint8 [N, 32, 32, 3], int32 digits [N] in 0..9).

  The .mat holds X [32, 32, 3, N] uint8 and y [N, 1] in 1..10, label 10 standing for the
  digit 0 (it is mapped to 0).
  """
  path = svhn_path(data_dir=data_dir, split=split)
  try:
    contents = scipy.io.loadmat(path)
  except Exception as error:
    raise InputError(f"{path}: cannot read .mat file ({' '.join(str(error).split())})") from None
  if "X" not in contents or "y" not in contents:
    raise InputError(f"{path}: expected variables X and y")
  pixels, digits = contents["X"], np.asarray(contents["y"]).reshape(-1)
  if pixels.ndim != 4 or pixels.shape[:3] != (32, 32, 3):
    raise InputError(f"{path}: X has shape {pixels.shape}, expected [32, 32, 3, N]")
  if pixels.dtype != np.uint8:
    raise InputError(f"{path}: X is {pixels.dtype}, expected uint8")
  if digits.shape[0] != pixels.shape[3]:
    raise InputError(f"{path}: y has {digits.shape[0]} labels for {pixels.shape[3]} images")
  if digits.size and (digits.min() < 1 or digits.max() > 10):
    raise InputError(f"{path}: y has values outside 1..10")
  images = np.ascontiguousarray(np.transpose(pixels, (3, 0, 1, 2)))
  return images, (digits.astype(np.int32) % 10)


def count_svhn(*, data_dir: str, split: str) -> int:
  """Number of SVHN digits in a split, from the .mat header (no data read)."""
  path = svhn_path(data_dir=data_dir, split=split)
  try:
    variables = {name: shape for name, shape, _ in scipy.io.whosmat(path)}
  except Exception as error:
    raise InputError(f"{path}: cannot read .mat file ({' '.join(str(error).split())})") from None
  if "X" not in variables or len(variables["X"]) != 4:
    raise InputError(f"{path}: expected X of shape [32, 32, 3, N]")
  return int(variables["X"][3])


# ---------------------------------------------------------------------------------------------
# Pipelines.
# ---------------------------------------------------------------------------------------------


def _check_batch_count(*, source: str, split: str, count: int, batch_size: int,
                       drop_remainder: bool, repeat: bool) -> None:
  if drop_remainder and not repeat and count < batch_size:
    raise InputError(f"batch_size={batch_size}: larger than the {count} examples of {source} "
                     f"split {split}, so drop_remainder would yield no batch")


def _array_pipeline(images: np.ndarray, labels: np.ndarray, *,
                    batch_transform: Callable[[tf.Tensor], tf.Tensor], batch_size: int,
                    shuffle: bool, repeat: bool, seed: int, drop_remainder: bool,
                    with_labels: bool, num_parallel_calls) -> tf.data.Dataset:
  """Shuffles indices and gathers whole batches from in-memory uint8 arrays."""
  images_tensor = tf.constant(images)
  labels_tensor = tf.constant(np.asarray(labels, np.int32))
  dataset = tf.data.Dataset.range(len(images))
  if shuffle:
    dataset = dataset.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
  if repeat:
    dataset = dataset.repeat()
  dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)

  def gather(indices):
    batch = batch_transform(tf.gather(images_tensor, indices))
    if with_labels:
      return batch, tf.gather(labels_tensor, indices)
    return batch

  dataset = dataset.map(gather, num_parallel_calls=num_parallel_calls)
  return dataset.prefetch(tf.data.AUTOTUNE)


def _example_pipeline(dataset: tf.data.Dataset, *, count: int, load: Callable, batch_size: int,
                      shuffle: bool, repeat: bool, seed: int, drop_remainder: bool,
                      num_parallel_calls, shuffle_buffer: int | None = None) -> tf.data.Dataset:
  """shuffle -> repeat -> parallel `load` -> batch -> prefetch."""
  if shuffle:
    dataset = dataset.shuffle(shuffle_buffer or max(count, 1), seed=seed,
                              reshuffle_each_iteration=True)
  if repeat:
    dataset = dataset.repeat()
  dataset = dataset.map(load, num_parallel_calls=num_parallel_calls)
  dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
  return dataset.prefetch(tf.data.AUTOTUNE)


def _file_pipeline(examples: FileExamples, *, resolution: int, channels: int,
                   with_labels: bool, **pipeline_args) -> tf.data.Dataset:
  crop = _crop_for(examples.crop)

  def load(path, box, label):
    image = images_lib.decode_image_file(path, channels=channels)
    image = images_lib.resize_to_model(crop(image, box), resolution=resolution)
    image = tf.ensure_shape(image, [resolution, resolution, channels])
    return (image, label) if with_labels else image

  dataset = tf.data.Dataset.from_tensor_slices(
      (examples.paths, examples.boxes, examples.labels))
  return _example_pipeline(dataset, count=len(examples.paths), load=load, **pipeline_args)


def _fashion_batch_transform(*, resolution: int, pad_to_32: bool = True):
  def transform(batch_uint8):
    batch = batch_uint8[..., None]  # [B, 28, 28, 1]
    if pad_to_32:
      # 28 -> 32 with black (0, i.e. -1 after scaling) on every side, as 32 px DCGAN-style
      # models expect; the garment keeps its native scale.
      batch = tf.pad(batch, [[0, 0], [2, 2], [2, 2], [0, 0]], constant_values=0)
    return images_lib.resize_to_model(batch, resolution=resolution)
  return transform


def _svhn_batch_transform(*, resolution: int):
  return lambda batch_uint8: images_lib.resize_to_model(batch_uint8, resolution=resolution)


def _check_source_channels(kind: str, channels: int) -> None:
  expected = _SOURCE_CHANNELS.get(kind)
  if expected is not None and channels != expected:
    plural = "" if expected == 1 else "s"
    raise InputError(f"channels={channels}: {kind} images have {expected} channel{plural}")


def make_image_dataset(*, source: str, data_dir: str | None, split: str, resolution: int,
                       channels: int, batch_size: int, shuffle: bool = True,
                       repeat: bool = True, seed: int = 0, drop_remainder: bool = True,
                       split_file: str | None = None, with_labels: bool = False,
                       num_parallel_calls=tf.data.AUTOTUNE,
                       preflight: bool = True) -> tf.data.Dataset:
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
  if split_file is not None and kind not in _SPLIT_FILE_SOURCES:
    raise InputError(f"split_file={split_file}: only the folder and celeba (and imagenet) "
                     f"sources take a split file")
  _check_source_channels(kind, channels)
  pipeline_args = dict(batch_size=int(batch_size), shuffle=shuffle, repeat=repeat, seed=seed,
                       drop_remainder=drop_remainder, num_parallel_calls=num_parallel_calls)

  if kind == "skimage":  # no files: scikit-image's photographs, already at R
    images, labels = skimage_photos.load_photos(resolution=resolution, channels=channels)
    _check_batch_count(source=kind, split=split, count=len(images), batch_size=batch_size,
                       drop_remainder=drop_remainder, repeat=repeat)
    return _array_pipeline(images, labels, batch_transform=lambda batch: tf.cast(batch, tf.float32) / 127.5 - 1.0,
                           with_labels=with_labels, **pipeline_args)

  if kind in ("fashion_mnist", "svhn"):
    directory = _data_dir(kind, data_dir)
    if kind == "fashion_mnist":
      images, labels = fashion_mnist.load_fashion_mnist(data_dir=directory, split=split)
      transform = _fashion_batch_transform(resolution=resolution)
    else:
      images, labels = load_svhn(data_dir=directory, split=split)
      transform = _svhn_batch_transform(resolution=resolution)
    _check_batch_count(source=kind, split=split, count=len(images), batch_size=batch_size,
                       drop_remainder=drop_remainder, repeat=repeat)
    return _array_pipeline(images, labels, batch_transform=transform,
                           with_labels=with_labels, **pipeline_args)

  if kind == "tfds":
    return _tfds_pipeline(name=tfds_name, data_dir=data_dir, split=split,
                          resolution=resolution, channels=channels, with_labels=with_labels,
                          **pipeline_args)

  directory = _data_dir(kind, data_dir)
  if kind == "folder":
    examples = folder_examples(data_dir=directory, split=split, split_file=split_file,
                               with_labels=with_labels, channels=channels)
  elif kind == "celeba":
    if with_labels:
      raise InputError("with_labels: celeba has no class labels")
    examples = celeba_examples(data_dir=directory, split=split, split_file=split_file)
  elif kind == "imagenet":
    examples = imagenet_examples(data_dir=directory, split=split, split_file=split_file)
  else:
    examples = cars_examples(data_dir=directory, split=split, require_labels=with_labels)
  _check_batch_count(source=kind, split=split, count=len(examples.paths),
                     batch_size=batch_size, drop_remainder=drop_remainder, repeat=repeat)
  if preflight:
    images_lib.check_image_files(examples.paths, channels=examples.file_channels)
  return _file_pipeline(examples, resolution=resolution, channels=channels,
                        with_labels=with_labels, **pipeline_args)


def _tfds_pipeline(*, name: str, data_dir: str | None, split: str, resolution: int,
                   channels: int, with_labels: bool, **pipeline_args) -> tf.data.Dataset:
  source = f"tfds:{name}"
  count = tfds_source.count_tfds(name=name, data_dir=data_dir, split=split)
  file_channels = tfds_source.image_channels(name=name, data_dir=data_dir)
  if file_channels is not None and file_channels != channels:
    raise InputError(f"channels={channels}: {source} images have {file_channels} channel(s)")
  if with_labels and not tfds_source.has_labels(name=name, data_dir=data_dir):
    raise InputError(f"with_labels: {source} has no 'label' feature")
  _check_batch_count(source=source, split=split, count=count,
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
  return _example_pipeline(dataset, count=count, load=load,
                           shuffle_buffer=min(max(count, 1), 10_000), **pipeline_args)


def count_examples(*, source: str, data_dir: str | None, split: str,
                   split_file: str | None = None) -> int:
  """Number of examples in a split (for progress bars and epochs); reads headers/lists only."""
  kind, tfds_name = _parse_source(source)
  _check_split(kind, split)
  if split_file is not None and kind not in _SPLIT_FILE_SOURCES:
    raise InputError(f"split_file={split_file}: only the folder and celeba (and imagenet) "
                     f"sources take a split file")
  if kind == "tfds":
    return tfds_source.count_tfds(name=tfds_name, data_dir=data_dir, split=split)
  if kind == "skimage":
    return len(skimage_photos.PHOTOS)
  directory = _data_dir(kind, data_dir)
  if kind == "fashion_mnist":
    return fashion_mnist.count_fashion_mnist(data_dir=directory, split=split)
  if kind == "svhn":
    return count_svhn(data_dir=directory, split=split)
  if kind == "folder":
    return len(folder_examples(data_dir=directory, split=split, split_file=split_file).paths)
  if kind == "celeba":
    return len(celeba_examples(data_dir=directory, split=split, split_file=split_file).paths)
  if kind == "imagenet":
    return len(imagenet_examples(data_dir=directory, split=split, split_file=split_file).paths)
  return len(cars_examples(data_dir=directory, split=split).paths)
