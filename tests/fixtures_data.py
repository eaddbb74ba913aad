"""Tiny dataset fixtures in the real on-disk formats, written into a test's tmp_path.

Nothing binary is committed: every test builds what it needs. Layouts and field names follow
the real distributions (CelebA lists, Stanford Cars devkit .mat struct arrays, SVHN
`*_32x32.mat`, Fashion-MNIST IDX .gz) so the real readers are exercised.
"""
import gzip
import os
import struct

import numpy as np
import scipy.io
from PIL import Image

CELEBA_ALIGNED_HW = (218, 178)  # Aligned CelebA images are 178 wide, 218 high.
# The documented 108x108 face box on aligned images: rows 55..162, columns 35..142.
CELEBA_FACE_BOX = (55, 35, 108, 108)  # top, left, height, width


def write_image(path, pixels: np.ndarray, *, quality: int = 100) -> str:
  """Writes uint8 [H, W] or [H, W, C] as PNG or JPEG (by extension); JPEG at 4:4:4, so flat
  colours survive nearly exactly."""
  os.makedirs(os.path.dirname(str(path)), exist_ok=True)
  pixels = np.asarray(pixels, np.uint8)
  image = Image.fromarray(pixels[..., 0] if pixels.ndim == 3 and pixels.shape[2] == 1
                          else pixels)
  if str(path).lower().endswith((".jpg", ".jpeg")):
    image.save(str(path), "JPEG", quality=quality, subsampling=0)
  else:
    image.save(str(path), "PNG")
  return str(path)


def solid(height: int, width: int, colour) -> np.ndarray:
  return np.broadcast_to(np.asarray(colour, np.uint8), (height, width, len(colour))).copy()


def truncate_file(path, *, keep_fraction: float = 0.5) -> str:
  with open(path, "rb") as stream:
    contents = stream.read()
  with open(path, "wb") as stream:
    stream.write(contents[:int(len(contents) * keep_fraction)])
  return str(path)


def make_folder(root, *, count: int = 10, size=(40, 30), channels: int = 3,
                classes=("cat", "dog")) -> list[str]:
  """`count` images spread over class sub-folders; image i is a flat colour of level 20 * i + 10,
  so a test can tell which file an output came from."""
  paths = []
  for index in range(count):
    level = 20 * index + 10
    colour = (level,) * channels if channels == 1 else (level, 255 - level, 128)
    extension = ".png" if index % 2 else ".jpg"
    path = os.path.join(str(root), classes[index % len(classes)], f"img_{index:03d}{extension}")
    paths.append(write_image(path, solid(size[0], size[1], colour)))
  return paths


def make_celeba_aligned(root, *, partitions=(0, 0, 1, 2, 2, 0), layout: str = "flat") -> list[str]:
  """Aligned CelebA: `img_align_celeba/00000N.jpg` (178x218) + `list_eval_partition.txt`.

  Image i is magenta outside the documented face box and a flat colour with red = 30 * i + 20
  inside it, so a test sees both the crop and which file it came from. `layout="official"`
  puts the files under Img/ and Eval/ as the CelebA release does.
  """
  image_dir = os.path.join(str(root), "Img" if layout == "official" else "", "img_align_celeba")
  eval_dir = os.path.join(str(root), "Eval" if layout == "official" else "")
  top, left, height, width = CELEBA_FACE_BOX
  names = []
  for index in range(len(partitions)):
    pixels = solid(*CELEBA_ALIGNED_HW, (255, 0, 255))
    pixels[top:top + height, left:left + width] = (30 * index + 20, 200, 40)
    name = f"{index + 1:06d}.jpg"
    write_image(os.path.join(image_dir, name), pixels)
    names.append(name)
  os.makedirs(eval_dir, exist_ok=True)
  with open(os.path.join(eval_dir, "list_eval_partition.txt"), "w") as stream:
    for name, code in zip(names, partitions):
      stream.write(f"{name} {code}\n")
  return names


def make_celeba_wild(root, *, image_hw=(200, 304), box=(98, 40, 60, 80)) -> str:
  """In-the-wild CelebA: `img_celeba/000001.jpg`, `list_bbox_celeba.txt` (count line, header
  line, `name x_1 y_1 width height`) and a partition file with that image in train.

  The square the reader should cut (side max(w, h), centred on the box) is yellow, the rest
  blue; with the default box that square (rows 40..119, columns 88..167) lies on the 8x8 JPEG
  block grid, so no block mixes the two colours and JPEG keeps both flat. Returns the path.
  """
  x, y, box_width, box_height = box
  side = max(box_width, box_height)
  top = y + box_height // 2 - side // 2
  left = x + box_width // 2 - side // 2
  pixels = solid(*image_hw, (0, 0, 255))
  pixels[top:top + side, left:left + side] = (255, 255, 0)
  path = write_image(os.path.join(str(root), "img_celeba", "000001.jpg"), pixels)
  with open(os.path.join(str(root), "list_bbox_celeba.txt"), "w") as stream:
    stream.write("1\nimage_id x_1 y_1 width height\n")
    stream.write(f"000001.jpg    {x}  {y} {box_width} {box_height}\n")
  with open(os.path.join(str(root), "list_eval_partition.txt"), "w") as stream:
    stream.write("000001.jpg 0\n")
  return path


def write_cars_annotations(path, records, *, with_class: bool = True) -> str:
  """A devkit-style .mat: struct array `annotations` [1, N] with fields bbox_x1, bbox_y1,
  bbox_x2, bbox_y2, class, fname, each a MATLAB [[value]] as in the real files."""
  fields = ["bbox_x1", "bbox_y1", "bbox_x2", "bbox_y2"] + (["class"] if with_class else [])
  fields.append("fname")
  annotations = np.empty((1, len(records)), dtype=[(field, "O") for field in fields])
  for index, record in enumerate(records):
    x1, y1, x2, y2 = record["bbox"]
    for field, value in zip(("bbox_x1", "bbox_y1", "bbox_x2", "bbox_y2"), (x1, y1, x2, y2)):
      annotations[0, index][field] = np.array([[value]], dtype=np.uint16)
    if with_class:
      annotations[0, index]["class"] = np.array([[record["class"]]], dtype=np.uint8)
    annotations[0, index]["fname"] = np.array([record["fname"]])
  os.makedirs(os.path.dirname(str(path)), exist_ok=True)
  scipy.io.savemat(str(path), {"annotations": annotations})
  return str(path)


def cars_pixels(image_hw, bbox) -> np.ndarray:
  """A car photo stand-in: blue outside the bbox, inside it an 8-pixel green frame around a
  red centre. The frame makes a crop that is one pixel too small show as well as one too
  large (blue creeping in)."""
  x1, y1, x2, y2 = bbox
  pixels = solid(*image_hw, (0, 0, 255))
  pixels[y1 - 1:y2, x1 - 1:x2] = (0, 255, 0)
  pixels[y1 - 1 + 8:y2 - 8, x1 - 1 + 8:x2 - 8] = (255, 0, 0)
  return pixels


def make_cars(root, *, split: str = "train", count: int = 3, image_hw=(64, 104),
              bbox=(33, 9, 72, 48), grey_index: int | None = None,
              test_annotations: str = "withlabels") -> list[dict]:
  """Stanford Cars: `cars_<split>/0000N.jpg` + annotations in the devkit layout.

  Every image is `cars_pixels(image_hw, bbox)` (bbox: 1-based inclusive x1, y1, x2, y2). The
  default box (0-based rows 8..47, columns 32..71) and its frame lie on the 8x8 JPEG block
  grid, so JPEG keeps every colour flat and a crop one pixel off shows clearly. Image
  `grey_index` (if any) is saved as a grey JPEG, as a few real ones are.
  `test_annotations`: "withlabels" writes cars_test_annos_withlabels.mat in the root,
  "nolabels" writes devkit/cars_test_annos.mat (no class field).
  """
  records = []
  for index in range(count):
    fname = f"{index + 1:05d}.jpg"
    pixels = cars_pixels(image_hw, bbox)
    if index == grey_index:
      pixels = pixels.mean(axis=2, keepdims=True).astype(np.uint8)
    write_image(os.path.join(str(root), f"cars_{split}", fname), pixels)
    records.append({"bbox": bbox, "class": 5 * index + 1, "fname": fname})
  if split == "train":
    write_cars_annotations(os.path.join(str(root), "devkit", "cars_train_annos.mat"), records)
  elif test_annotations == "withlabels":
    write_cars_annotations(os.path.join(str(root), "cars_test_annos_withlabels.mat"), records)
  else:
    write_cars_annotations(os.path.join(str(root), "devkit", "cars_test_annos.mat"), records,
                           with_class=False)
  return records


def svhn_pixels(count: int) -> np.ndarray:
  """[N, 32, 32, 3] uint8 whose value depends on example, row, column and channel, so any
  transpose mistake shows."""
  n, r, c, k = np.meshgrid(np.arange(count), np.arange(32), np.arange(32), np.arange(3),
                           indexing="ij")
  return ((n * 11 + r * 7 + c * 3 + k * 50) % 256).astype(np.uint8)


def make_svhn(root, *, split: str = "train", digits=(1, 10, 3, 10, 9)) -> np.ndarray:
  """`<split>_32x32.mat` with X [32, 32, 3, N] uint8 and y [N, 1] uint8 in 1..10 (the real
  layout). Returns the images as [N, 32, 32, 3]."""
  images = svhn_pixels(len(digits))
  os.makedirs(str(root), exist_ok=True)
  scipy.io.savemat(os.path.join(str(root), f"{split}_32x32.mat"),
                   {"X": np.transpose(images, (1, 2, 3, 0)),
                    "y": np.asarray(digits, np.uint8).reshape(-1, 1)})
  return images


def write_idx_gz(path, array: np.ndarray, *, magic: int | None = None,
                 declared_shape=None) -> str:
  """Writes a uint8 IDX file, gzipped. `magic` / `declared_shape` override the header to make
  broken files."""
  array = np.asarray(array, np.uint8)
  shape = tuple(array.shape if declared_shape is None else declared_shape)
  magic = (0x0800 | len(shape)) if magic is None else magic
  header = struct.pack(">I", magic) + struct.pack(f">{len(shape)}I", *shape)
  with gzip.open(str(path), "wb") as stream:
    stream.write(header + array.tobytes())
  return str(path)


def make_fashion_mnist(root, *, train_count: int = 6, test_count: int = 4) -> str:
  """Small but valid Fashion-MNIST IDX files (all four) in `root`."""
  os.makedirs(str(root), exist_ok=True)
  rng = np.random.default_rng(0)
  for prefix, count in (("train", train_count), ("t10k", test_count)):
    write_idx_gz(os.path.join(str(root), f"{prefix}-images-idx3-ubyte.gz"),
                 rng.integers(0, 256, size=(count, 28, 28)))
    write_idx_gz(os.path.join(str(root), f"{prefix}-labels-idx1-ubyte.gz"),
                 np.arange(count) % 10)
  return str(root)
