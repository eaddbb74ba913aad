"""CelebA (§6.3: detected faces centre-cropped): aligned or in-the-wild images, partitions, boxes."""

from __future__ import annotations

import os
import re

from pgi_tf.data import images as images_lib
from pgi_tf.data.file_examples import FileExamples, first_existing
from pgi_tf.errors import InputError

CELEBA_PARTITIONS = {"train": 0, "val": 1, "test": 2}
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
  """CelebA files of a split with their face crop (see `pgi_tf.data.datasets`)."""
  aligned_dir = first_existing(
      data_dir, ("img_align_celeba/img_align_celeba", "img_align_celeba",
                 "Img/img_align_celeba"), kind="dir")
  wild_dir = first_existing(data_dir, ("img_celeba", "Img/img_celeba"), kind="dir")
  if aligned_dir is None and wild_dir is None:
    raise InputError(f"data_dir={data_dir}: no CelebA image folder (img_align_celeba/ or "
                     f"img_celeba/) found")
  image_dir = aligned_dir if aligned_dir is not None else wild_dir

  if split_file is not None:
    paths = images_lib.list_image_files(image_dir, split_file=split_file)
  else:
    partition_file = first_existing(
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

  bbox_file = first_existing(
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
