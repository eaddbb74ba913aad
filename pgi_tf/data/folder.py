"""The folder source: every .png/.jpg/.jpeg under data_dir (or data_dir/<split>, or a split file)."""

from __future__ import annotations

import os

from pgi_tf.data import images as images_lib
from pgi_tf.data.file_examples import FileExamples
from pgi_tf.errors import InputError


def folder_examples(*, data_dir: str, split: str, split_file: str | None = None,
                    with_labels: bool = False, channels: int | None = None) -> FileExamples:
  """The folder source's files (split rule: `pgi_tf.data.datasets`)."""
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
