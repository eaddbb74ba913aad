"""Image files of one split, with per-file crop boxes and labels: what every file-based source
(folder, celeba, cars, imagenet) hands the pipeline, and the in-graph crop of each kind."""

from __future__ import annotations

import os
from typing import Callable, Sequence

import numpy as np
import tensorflow as tf

from pgi_tf.data import images as images_lib


def first_existing(data_dir: str, candidates: tuple[str, ...], *, kind: str) -> str | None:
  """The first of `candidates` (relative to data_dir) that exists as a `kind` ("dir" or "file")."""
  for relative in candidates:
    path = os.path.join(data_dir, relative)
    if (os.path.isdir(path) if kind == "dir" else os.path.isfile(path)):
      return path
  return None


class FileExamples:
  """Image files of one split, with per-file crop boxes and labels.

  Attributes:
    paths: absolute file paths.
    boxes: int32 [N, 4], meaning depends on `crop` (zeros when unused).
    labels: int32 [N], -1 when the source has none.
    crop: a key of CROPS: "none", "center_square" (imagenet), "celeba_aligned", "celeba_wild"
      (boxes = x, y, w, h, 0-based) or "cars" (boxes = x1, y1, x2, y2, 1-based inclusive).
    file_channels: channels each file must have (pre-flight), or None to accept both and let
      the decoder convert (datasets known to be colour with a few grey files).
  """

  def __init__(self, *, paths: Sequence[str], boxes: Sequence | None = None,
               labels: Sequence[int] | None = None, crop: str = "none",
               file_channels: int | None = None):
    self.paths = list(paths)
    count = len(self.paths)
    self.boxes = (np.zeros([count, 4], np.int32) if boxes is None
                  else np.asarray(boxes, np.int32).reshape([count, 4]))
    self.labels = (np.full([count], -1, np.int32) if labels is None
                   else np.asarray(labels, np.int32).reshape([count]))
    self.crop = crop
    self.file_channels = file_channels


# FileExamples.crop -> the in-graph crop (image [H, W, C], box [4]) -> image.
CROPS: dict[str, Callable[[tf.Tensor, tf.Tensor], tf.Tensor]] = {
    "none": lambda image, box: image,
    "center_square": lambda image, box: images_lib.center_square_crop(image),
    "celeba_aligned": lambda image, box: images_lib.celeba_aligned_face_crop(image),
    "celeba_wild": lambda image, box: images_lib.crop_square_around_box(
        image, x=box[0], y=box[1], box_width=box[2], box_height=box[3]),
    # 1-based inclusive corners -> half-open 0-based rows [y1 - 1, y2), columns [x1 - 1, x2).
    "cars": lambda image, box: images_lib.crop_half_open_box(
        image, top=box[1] - 1, left=box[0] - 1, bottom=box[3], right=box[2]),
}


def crop_for(crop: str) -> Callable[[tf.Tensor, tf.Tensor], tf.Tensor]:
  """In-graph crop of a decoded image given its per-file box (see FileExamples.crop)."""
  if crop not in CROPS:
    raise ValueError(f"unknown crop {crop!r}")
  return CROPS[crop]
