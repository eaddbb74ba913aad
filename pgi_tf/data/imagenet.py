"""ILSVRC2012 (§6.3.3): class folders or Kaggle's layout, wnid labels, the balanced test subset."""

from __future__ import annotations

import csv
import os
import re
from typing import Sequence

import numpy as np

from pgi_tf.data import images as images_lib
from pgi_tf.data.file_examples import FileExamples, first_existing
from pgi_tf.errors import InputError

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
  return first_existing(image_root, names, kind="dir")


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
  """The wnids in label order: label i is the i-th (the rule: `pgi_tf.data.datasets`).

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
  """ImageNet files of a split with their labels (layout and label rule: `pgi_tf.data.datasets`).

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
