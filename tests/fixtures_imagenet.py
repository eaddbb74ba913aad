"""A tiny ILSVRC2012 in the real on-disk format, written into a test's tmp_path.

Layout as people store it: `train/<wnid>/<wnid>_<n>.JPEG` (upper-case extension), validation
either flat `val/ILSVRC2012_val_<8 digits>.JPEG` labelled by Kaggle's `LOC_val_solution.csv`
(`ImageId,PredictionString`, the string starting with the wnid and followed by boxes) or in
class folders `val/<wnid>/...` (after valprep.sh). Optionally `LOC_synset_mapping.txt`.

Each class has its own colour over the whole centre square of every image, with a smooth
per-image ramp on top; the strips outside the centre square are magenta, so a test sees
whether the crop happened. Images alternate landscape (48x64) and portrait (64x48). One train
image is written as a CMYK JPEG and one as a grey JPEG, as a few real ImageNet files are.
"""
from __future__ import annotations

import dataclasses
import os

import numpy as np
from PIL import Image

WNIDS = ("n01440764", "n01443537", "n01484850")  # tench, goldfish, great white shark
CLASS_NAMES = ("tench, Tinca tinca", "goldfish, Carassius auratus",
               "great white shark, white shark, man-eater, man-eating shark, Carcharodon carcharias")
CLASS_COLOURS = ((200, 40, 40), (40, 200, 40), (40, 40, 200))
BORDER_COLOUR = (255, 0, 255)
SHAPES = ((48, 64), (64, 48))  # (H, W): landscape, portrait


@dataclasses.dataclass
class ImagenetFixture:
  root: str
  wnids: tuple[str, ...]
  train: list[tuple[str, int]]  # (path, label) with label = index in sorted(wnids)
  val: list[tuple[str, int]]
  cmyk_path: str
  grey_path: str
  solution_csv: str | None


def image_pixels(label: int, index: int) -> np.ndarray:
  """uint8 [H, W, 3]: class colour + smooth ramp in the centre square, magenta outside it."""
  height, width = SHAPES[index % 2]
  side = min(height, width)
  top, left = (height - side) // 2, (width - side) // 2
  pixels = np.empty((height, width, 3), np.uint8)
  pixels[:] = BORDER_COLOUR
  rows, cols = np.mgrid[0:side, 0:side].astype(np.float32)
  ramp = (rows + 2 * cols) / (3 * (side - 1)) * 40.0 + 3.0 * index  # 0..40 plus a per-image shift
  centre = np.asarray(CLASS_COLOURS[label], np.float32) + ramp[..., None]
  pixels[top:top + side, left:left + side] = np.clip(centre, 0, 255).astype(np.uint8)
  return pixels


def _save_jpeg(path: str, pixels: np.ndarray, *, mode: str = "RGB") -> str:
  os.makedirs(os.path.dirname(path), exist_ok=True)
  image = Image.fromarray(pixels)
  if mode != "RGB":
    image = image.convert(mode)
  image.save(path, "JPEG", quality=100, **({"subsampling": 0} if mode == "RGB" else {}))
  return path


def make_imagenet(root, *, wnids=WNIDS, train_per_class: int = 4, val_per_class: int = 2,
                  val_layout: str = "flat", synset_mapping: tuple[str, ...] | None = None,
                  nested: bool = False) -> ImagenetFixture:
  """Writes the tiny dataset under `root` and returns what a test needs to check it.

  Args:
    wnids: the classes (labels are their indices in sorted order).
    val_layout: "flat" (val/*.JPEG + LOC_val_solution.csv) or "folders" (val/<wnid>/).
    synset_mapping: if given, LOC_synset_mapping.txt lists these wnids in this order.
    nested: Kaggle's layout, images under ILSVRC/Data/CLS-LOC/, csv and mapping at the top.
  """
  root = str(root)
  image_root = os.path.join(root, "ILSVRC", "Data", "CLS-LOC") if nested else root
  order = sorted(wnids)
  train, val = [], []
  for wnid in wnids:
    label = order.index(wnid)
    for n in range(train_per_class):
      path = os.path.join(image_root, "train", wnid, f"{wnid}_{1000 + n}.JPEG")
      train.append((_save_jpeg(path, image_pixels(label, n)), label))
  cmyk_path, grey_path = train[1][0], train[2][0]
  label = train[1][1]
  _save_jpeg(cmyk_path, image_pixels(label, 1), mode="CMYK")
  _save_jpeg(grey_path, image_pixels(train[2][1], 2), mode="L")
  with open(os.path.join(image_root, "train", wnids[0], "README.txt"), "w") as stream:
    stream.write("not an image: must be skipped\n")

  rows = []
  number = 0
  for n in range(val_per_class):
    for wnid in reversed(wnids):  # csv rows not in class order, as in the real file
      number += 1
      label = order.index(wnid)
      image_id = f"ILSVRC2012_val_{number:08d}"
      if val_layout == "flat":
        path = os.path.join(image_root, "val", f"{image_id}.JPEG")
      else:
        path = os.path.join(image_root, "val", wnid, f"{image_id}.JPEG")
      val.append((_save_jpeg(path, image_pixels(label, n + 5)), label))
      rows.append(f"{image_id},{wnid} 10 20 30 40 {wnid} 1 2 3 4 ")
  solution_csv = None
  if val_layout == "flat":
    solution_csv = os.path.join(root, "LOC_val_solution.csv")
    with open(solution_csv, "w") as stream:
      stream.write("ImageId,PredictionString\n" + "\n".join(rows) + "\n")
  if synset_mapping is not None:
    names = dict(zip(WNIDS, CLASS_NAMES))
    with open(os.path.join(root, "LOC_synset_mapping.txt"), "w") as stream:
      for wnid in synset_mapping:
        stream.write(f"{wnid} {names.get(wnid, 'some class')}\n")
  return ImagenetFixture(root=root, wnids=tuple(wnids), train=train, val=val, cmyk_path=cmyk_path,
                         grey_path=grey_path, solution_csv=solution_csv)
