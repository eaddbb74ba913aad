"""Stanford Cars (§6.3: bounding boxes to extract and resize cars): devkit annotations and files."""

from __future__ import annotations

import os

import numpy as np
import scipy.io

from pgi_tf.data.file_examples import FileExamples, first_existing
from pgi_tf.errors import InputError

_CARS_FIELDS = ("bbox_x1", "bbox_y1", "bbox_x2", "bbox_y2", "class", "fname")


def _cars_annotation_file(data_dir: str, split: str, *, require_labels: bool) -> str:
  if split == "train":
    candidates = ("devkit/cars_train_annos.mat", "cars_train_annos.mat")
  else:
    candidates = ("cars_test_annos_withlabels.mat", "devkit/cars_test_annos_withlabels.mat")
    if not require_labels:
      candidates += ("devkit/cars_test_annos.mat", "cars_test_annos.mat")
  path = first_existing(data_dir, candidates, kind="file")
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
  image_dir = first_existing(data_dir, (f"cars_{split}/cars_{split}", f"cars_{split}"),
                              kind="dir")
  if image_dir is None:
    raise InputError(f"{os.path.join(data_dir, f'cars_{split}')}: image folder not found")
  return FileExamples(
      paths=[os.path.join(image_dir, record["fname"]) for record in records],
      boxes=[record["bbox"] for record in records],
      labels=[record["label"] for record in records], crop="cars")
