"""Sequence data (§4.3, §6.4): the FaceForensics protocol, moving Fashion-MNIST, clip datasets.

Clips are float32 [T, H, W, C] in [-1, 1] (batches [B, T, R, R, C]); clip masks are float32
[T, H, W, 1] with M = 1 on the hole, one mask per frame.

FaceForensics protocol (§6.4, following [40, 9, 10])
  `faceforensics_crop`: "all faces are center cropped to 128x128": the largest centred square
  of each frame, resized to 128 px (OpenCV area interpolation when shrinking, bilinear when
  enlarging). This assumes face-centred clips (FaceForensics' cropped face videos); raw
  full-frame videos need a face box first.
  `rectangle_clip_masks`: "random rectangular masks in range [0.35 l, 0.5 l], where l = 128":
  a rectangle whose height is an integer in [ceil(0.35 H), floor(0.5 H)] and width in
  [ceil(0.35 W), floor(0.5 W)] (l is the side of the image along each axis). The size is fixed
  for the clip. motion="fixed": the same rectangle in every frame. motion="moving": it drifts by
  a random integer step in [-max_step, max_step] per axis and frame, reflected at the image
  borders so it stays inside -- the block-shaped packet loss of coded video (§1: "packet error
  manifests as rectangular holes on frames") moving with the damaged blocks.

Moving Fashion-MNIST (offline, built from real images)
  Moving-MNIST style: `items_per_clip` Fashion-MNIST garments move over an R x R canvas with a
  constant integer velocity and bounce off the borders (reflection: a step that would leave
  the canvas is mirrored back and the velocity component flips). Background is -1 (black);
  overlapping items combine by the pixel-wise maximum, as in Moving MNIST. At R = 32 a 28 px
  item would have 4 px of travel, too little to see motion, so items are downscaled with area
  interpolation to `item_size` (default `default_item_size(R)` = min(28, round(0.625 R)):
  20 px at 32, 28 px = native from 45 px up). Velocity components are integers in
  [-max_speed, max_speed], not both zero.
  Every clip is a pure function of (seed, split, clip index), so a dataset of `num_clips`
  clips is the same set every epoch and on every machine. Source images follow
  `pgi_tf.data.fashion_mnist`'s split rule: "train" draws from the training file's first
  55,000 images, "val" from its last 5,000, "test" from the t10k file, so train and test clips
  never share a garment image. `return_metadata=True` gives the source indices (into the
  split's IDX file) for checking this.

tf.data (`make_clip_dataset`, `make_clip_mask_dataset`)
  Python generators seeded with numpy (`np.random.default_rng`), so the stream of batches is a
  function of the seed alone. Sources:
    moving_fashion_mnist  `num_clips` clips (a fixed set, see above), grey (channels=1).
    folder                clips under `data_dir/<split>` if that folder exists ("validation"
                          is accepted for val), else under `data_dir`; each example is a window
                          of `num_frames` consecutive frames at a random start, centre-cropped
                          and resized to R (`faceforensics_crop`). Clips shorter than
                          `num_frames` are skipped (logged). All frame files are checked
                          before the first batch, so a bad file is a one-line InputError, not
                          an error deep inside tf.data.
  With repeat=True, batches are full (drop_remainder) and the stream is infinite; with
  repeat=False every clip is visited once and the last batch may be smaller.

Clip files (frame folders, videos): `pgi_tf.data.clip_files`; sliding windows over clips of any
length: `pgi_tf.data.windows`.
"""

import math
import os
from typing import Iterator

from absl import logging
import numpy as np
import tensorflow as tf

from pgi_tf.data import clip_files
from pgi_tf.data import fashion_mnist
from pgi_tf.data import images as images_lib
from pgi_tf.errors import InputError

SOURCES = ("moving_fashion_mnist", "folder")
MASK_MOTIONS = ("fixed", "moving")
MIN_SIDE_FRACTION = 0.35           # §6.4: rectangles with sides in [0.35 l, 0.5 l]
MAX_SIDE_FRACTION = 0.5
DEFAULT_NUM_CLIPS = 10000          # moving_fashion_mnist: distinct clips when num_clips is None
DEFAULT_MAX_SPEED = 2              # px per frame and axis: 12 px of travel at R=32 = 6+ frames
_SPLIT_CODES = {"train": 0, "val": 1, "test": 2}
# Tags that keep the seed streams of clip contents, clip order and masks apart.
_CLIP_TAG, _ORDER_TAG, _WINDOW_TAG, _MASK_TAG = 104729, 7919, 6007, 3571


# ---------------------------------------------------------------------------------------------
# FaceForensics protocol: centre crops and rectangular holes (§6.4).
# ---------------------------------------------------------------------------------------------


def rectangle_side_range(side: int, *, min_side_fraction: float = MIN_SIDE_FRACTION,
                         max_side_fraction: float = MAX_SIDE_FRACTION) -> tuple[int, int]:
  """Integer rectangle sides [low, high] inside [min_fraction * side, max_fraction * side].

  Raises:
    InputError: naming the fraction, if the fractions are not 0 < min <= max <= 1 or no
      integer lies between the bounds.
  """
  if not 0.0 < min_side_fraction <= max_side_fraction <= 1.0:
    raise InputError(f"min_side_fraction={min_side_fraction}, max_side_fraction="
                     f"{max_side_fraction}: need 0 < min <= max <= 1")
  low = max(1, math.ceil(min_side_fraction * side - 1e-9))
  high = math.floor(max_side_fraction * side + 1e-9)
  if low > high:
    raise InputError(f"min_side_fraction={min_side_fraction}: no integer side between "
                     f"{min_side_fraction}*{side} and {max_side_fraction}*{side} px")
  return low, high


def default_max_step(height: int, width: int) -> int:
  """Drift bound of moving holes: 5% of the shorter side, at least 1 px (6 px at 128, 2 at 32)."""
  return max(1, round(0.05 * min(height, width)))


def _reflect(position: int, step: int, limit: int) -> tuple[int, int]:
  """position + step reflected into [0, limit]; returns (position, step with flipped sign if
  it bounced). |step| <= limit keeps one reflection enough."""
  position += step
  if position < 0:
    position, step = -position, -step
  elif position > limit:
    position, step = 2 * limit - position, -step
  return min(max(position, 0), limit), step


def rectangle_clip_masks(rng: np.random.Generator, *, num_frames: int, height: int, width: int,
                         min_side_fraction: float = MIN_SIDE_FRACTION,
                         max_side_fraction: float = MAX_SIDE_FRACTION,
                         motion: str = "fixed", max_step: int | None = None) -> np.ndarray:
  """Rectangular holes for one clip (§6.4 protocol, module docstring), float32 [T, H, W, 1].

  Args:
    rng: numpy Generator; the masks are a function of its state.
    num_frames: T.
    height, width: frame size; sides are drawn in [min, max] fraction of each.
    min_side_fraction, max_side_fraction: 0.35 and 0.5 in the paper.
    motion: "fixed" (same hole in every frame) or "moving" (random drift, reflected at the
      borders).
    max_step: largest drift per frame and axis for "moving" (default `default_max_step`).

  Returns:
    M = 1 on the hole, 0 elsewhere; the rectangle's size is the same in every frame.
  """
  if motion not in MASK_MOTIONS:
    raise InputError(f"motion={motion!r}: choose one of {', '.join(MASK_MOTIONS)}")
  if num_frames < 1:
    raise InputError(f"num_frames={num_frames}: must be >= 1")
  low_h, high_h = rectangle_side_range(height, min_side_fraction=min_side_fraction,
                                       max_side_fraction=max_side_fraction)
  low_w, high_w = rectangle_side_range(width, min_side_fraction=min_side_fraction,
                                       max_side_fraction=max_side_fraction)
  if max_step is None:
    max_step = default_max_step(height, width)
  if max_step < 0:
    raise InputError(f"max_step={max_step}: must be >= 0")
  rect_h = int(rng.integers(low_h, high_h + 1))
  rect_w = int(rng.integers(low_w, high_w + 1))
  limit_y, limit_x = height - rect_h, width - rect_w
  top, left = int(rng.integers(0, limit_y + 1)), int(rng.integers(0, limit_x + 1))
  masks = np.zeros((num_frames, height, width, 1), np.float32)
  for t in range(num_frames):
    if t > 0 and motion == "moving":
      # One reflection suffices only for steps no longer than the free range.
      step_y = int(rng.integers(-max_step, max_step + 1))
      step_x = int(rng.integers(-max_step, max_step + 1))
      top, _ = _reflect(top, int(np.clip(step_y, -limit_y, limit_y)), limit_y)
      left, _ = _reflect(left, int(np.clip(step_x, -limit_x, limit_x)), limit_x)
    masks[t, top:top + rect_h, left:left + rect_w] = 1.0
  return masks


# ---------------------------------------------------------------------------------------------
# Moving Fashion-MNIST.
# ---------------------------------------------------------------------------------------------


def default_item_size(resolution: int) -> int:
  """Garment side on an R x R canvas: min(28, round(0.625 R)) (20 px at 32: 12 px of travel)."""
  return min(fashion_mnist.IMAGE_SIZE, round(0.625 * resolution))


class MovingFashionMnist:
  """Renders moving Fashion-MNIST clip i as a pure function of (seed, split, i).

  See the module docstring; `moving_fashion_mnist` and `make_clip_dataset` use this.
  """

  def __init__(self, *, split: str, num_frames: int, resolution: int = 32,
               items_per_clip: int = 1, seed: int, data_dir: str | None = None,
               item_size: int | None = None, max_speed: int = DEFAULT_MAX_SPEED):
    if split not in _SPLIT_CODES:
      raise InputError(f"split={split!r}: moving_fashion_mnist has only the splits "
                       f"{', '.join(_SPLIT_CODES)}")
    if num_frames < 1:
      raise InputError(f"num_frames={num_frames}: must be >= 1")
    if items_per_clip < 1:
      raise InputError(f"items_per_clip={items_per_clip}: must be >= 1")
    if resolution < 1:
      raise InputError(f"resolution={resolution}: must be >= 1")
    item_size = default_item_size(resolution) if item_size is None else int(item_size)
    if not 1 <= item_size <= min(resolution, fashion_mnist.IMAGE_SIZE):
      raise InputError(f"item_size={item_size}: must be in 1..{min(resolution, 28)} for "
                       f"resolution {resolution} (items are downscaled, never enlarged)")
    travel = resolution - item_size
    if not 0 <= max_speed <= travel:
      raise InputError(f"max_speed={max_speed}: must be in 0..{travel} (the item's travel on a "
                       f"{resolution} px canvas)")
    images, _ = fashion_mnist.load_fashion_mnist(data_dir=data_dir, split=split)
    if len(images) == 0:
      raise InputError(f"split={split}: Fashion-MNIST split has no images")
    self.images = images
    # Offset of the split inside its IDX file, so source indices name file rows.
    self.index_offset = (len(fashion_mnist.load_fashion_mnist(data_dir=data_dir, split="train")[0])
                         if split == "val" else 0)
    self.split, self.seed, self.num_frames = split, int(seed), int(num_frames)
    self.resolution, self.items_per_clip = int(resolution), int(items_per_clip)
    self.item_size, self.max_speed, self.travel = item_size, int(max_speed), travel

  def _item(self, index: int) -> np.ndarray:
    """Garment `index` of the split as float32 intensity in [0, 1], item_size x item_size."""
    item = self.images[index].astype(np.float32) / 255.0
    if self.item_size != item.shape[0]:
      import cv2  # lazy: OpenCV is needed only to shrink the garments
      item = cv2.resize(item, (self.item_size, self.item_size), interpolation=cv2.INTER_AREA)
    return item

  def _velocity(self, rng: np.random.Generator) -> np.ndarray:
    if self.max_speed == 0:
      return np.zeros(2, np.int64)
    while True:  # redraw the rare (0, 0): every item moves
      velocity = rng.integers(-self.max_speed, self.max_speed + 1, size=2)
      if velocity.any():
        return velocity

  def clip(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Clip `index`: (frames float32 [T, R, R, 1] in [-1, 1], source indices [K] into the
    split's IDX file, top-left positions int [T, K, 2])."""
    rng = np.random.default_rng([self.seed, _CLIP_TAG, _SPLIT_CODES[self.split], int(index)])
    sources = rng.integers(0, len(self.images), size=self.items_per_clip)
    canvas = np.zeros((self.num_frames, self.resolution, self.resolution), np.float32)
    positions = np.zeros((self.num_frames, self.items_per_clip, 2), np.int64)
    size = self.item_size
    for k, source in enumerate(sources):
      item = self._item(int(source))
      position = rng.integers(0, self.travel + 1, size=2)
      velocity = self._velocity(rng)
      for t in range(self.num_frames):
        if t > 0:
          for axis in range(2):
            position[axis], velocity[axis] = _reflect(int(position[axis]), int(velocity[axis]),
                                                      self.travel)
        positions[t, k] = position
        top, left = position
        # Moving MNIST combines overlapping digits by the maximum.
        np.maximum(canvas[t, top:top + size, left:left + size], item,
                   out=canvas[t, top:top + size, left:left + size])
    frames = (2.0 * canvas - 1.0)[..., None]
    return frames.astype(np.float32), sources + self.index_offset, positions


def moving_fashion_mnist(*, split: str, num_clips: int, num_frames: int, resolution: int = 32,
                         items_per_clip: int = 1, seed: int, data_dir: str | None = None,
                         item_size: int | None = None, max_speed: int = DEFAULT_MAX_SPEED,
                         first_clip: int = 0, return_metadata: bool = False):
  """Moving Fashion-MNIST clips (module docstring), float32 [N, T, R, R, 1] in [-1, 1].

  Args:
    split: "train" (first 55k of the training file), "val" (its last 5k) or "test" (t10k).
    num_clips: N.
    num_frames: T.
    resolution: canvas side R.
    items_per_clip: garments per clip.
    seed: clip i is a function of (seed, split, i) only.
    data_dir: Fashion-MNIST IDX folder (default: the Debian package's).
    item_size: garment side in px (default `default_item_size(R)`; area-downscaled).
    max_speed: largest velocity component, px per frame.
    first_clip: index of the first clip (clips first_clip .. first_clip + N - 1).
    return_metadata: also return {"source_indices": int [N, K] rows of the split's IDX file,
      "positions": int [N, T, K, 2] top-left corners (row, column)}.
  """
  if num_clips < 0:
    raise InputError(f"num_clips={num_clips}: must be >= 0")
  renderer = MovingFashionMnist(split=split, num_frames=num_frames, resolution=resolution,
                                items_per_clip=items_per_clip, seed=seed, data_dir=data_dir,
                                item_size=item_size, max_speed=max_speed)
  rendered = [renderer.clip(first_clip + i) for i in range(num_clips)]
  shape = (num_clips, num_frames, resolution, resolution, 1)
  clips = np.stack([r[0] for r in rendered]) if rendered else np.zeros(shape, np.float32)
  if not return_metadata:
    return clips
  metadata = {
      "source_indices": np.array([r[1] for r in rendered], np.int64).reshape(num_clips, -1),
      "positions": np.array([r[2] for r in rendered], np.int64).reshape(
          num_clips, num_frames, items_per_clip, 2)}
  return clips, metadata


# ---------------------------------------------------------------------------------------------
# tf.data pipelines.
# ---------------------------------------------------------------------------------------------


class _FolderClip:
  """One clip of the folder source: its path, frame files (frame folders) and frame count."""

  def __init__(self, path: str, *, channels: int):
    self.path = path
    if os.path.isdir(path):
      self.frame_paths = clip_files.frame_files(path)
      shapes = images_lib.check_image_files(self.frame_paths, channels=channels)
      for frame_path, shape in zip(self.frame_paths, shapes):
        if shape != shapes[0]:
          raise InputError(f"{frame_path}: frame is {shape[0]}x{shape[1]}, earlier frames of "
                           f"the clip are {shapes[0][0]}x{shapes[0][1]}")
      self.num_frames = len(self.frame_paths)
    else:
      self.frame_paths = None
      self.num_frames = clip_files.video_frame_count(path)

  def window(self, start: int, length: int, *, channels: int) -> np.ndarray:
    if self.frame_paths is not None:
      return clip_files.read_frame_folder(self.path, channels=channels, start=start, max_frames=length)
    frames = clip_files.read_video(self.path, channels=channels, max_frames=start + length)
    frames = frames[-length:]  # CAP_PROP_FRAME_COUNT can overstate: keep the last full window
    if len(frames) < length:  # the container lied about its length: pad as windows do
      frames = np.concatenate([frames, np.repeat(frames[-1:], length - len(frames), 0)])
    return frames


def _folder_root(data_dir: str | None, split: str) -> str:
  if data_dir is None:
    raise InputError("data_dir: required for source folder (a folder of clip folders or videos)")
  if not os.path.isdir(data_dir):
    raise InputError(f"data_dir={data_dir}: directory does not exist")
  for name in ((split, "validation") if split == "val" else (split,)):
    if os.path.isdir(os.path.join(data_dir, name)):
      return os.path.join(data_dir, name)
  return data_dir


def _index_order(rng: np.random.Generator, count: int, shuffle: bool) -> np.ndarray:
  return rng.permutation(count) if shuffle else np.arange(count)


def make_clip_dataset(*, source: str = "moving_fashion_mnist", split: str, num_frames: int,
                      resolution: int, channels: int, batch_size: int, seed: int,
                      num_clips: int | None = None, data_dir: str | None = None,
                      shuffle: bool = True, repeat: bool = True, items_per_clip: int = 1,
                      item_size: int | None = None,
                      max_speed: int = DEFAULT_MAX_SPEED) -> tf.data.Dataset:
  """Batches of clips, float32 [B, T, R, R, C] in [-1, 1] (module docstring).

  Args:
    source: "moving_fashion_mnist" or "folder".
    split: train / val / test.
    num_frames: T, frames per clip (the window W of the grouped prior).
    resolution: R.
    channels: C (1 for moving_fashion_mnist; 1 or 3 for folder).
    batch_size: B.
    seed: the whole stream (clip contents, order, windows) is a function of it.
    num_clips: moving_fashion_mnist: distinct clips (default DEFAULT_NUM_CLIPS); folder: use
      only the first num_clips clips in natural order (default all).
    data_dir: Fashion-MNIST IDX folder, or the folder of clips.
    shuffle: random clip order each epoch (else in order).
    repeat: infinite stream of full batches; else one pass, last batch possibly smaller.
    items_per_clip, item_size, max_speed: moving_fashion_mnist rendering.

  Raises:
    InputError: bad source, split, sizes, or any bad file (checked before the first batch).
  """
  if source not in SOURCES:
    raise InputError(f"source={source!r}: choose one of {', '.join(SOURCES)}")
  if split not in _SPLIT_CODES:
    raise InputError(f"split={split!r}: choose one of {', '.join(_SPLIT_CODES)}")
  resolution = images_lib.check_resolution(resolution)
  channels = images_lib.check_channels(channels)
  if num_frames < 1:
    raise InputError(f"num_frames={num_frames}: must be >= 1")
  if batch_size < 1:
    raise InputError(f"batch_size={batch_size}: must be >= 1")
  if num_clips is not None and num_clips < 1:
    raise InputError(f"num_clips={num_clips}: must be >= 1")

  if source == "moving_fashion_mnist":
    # Grey clips; channels=3 repeats the grey level (RGB generators, e.g. PG-GAN smoke runs).
    renderer = MovingFashionMnist(split=split, num_frames=num_frames, resolution=resolution,
                                  items_per_clip=items_per_clip, seed=seed, data_dir=data_dir,
                                  item_size=item_size, max_speed=max_speed)
    count = DEFAULT_NUM_CLIPS if num_clips is None else int(num_clips)

    def load(index: int, rng: np.random.Generator) -> np.ndarray:
      del rng  # a clip is fixed by its index
      clip = renderer.clip(index)[0]
      return np.repeat(clip, channels, axis=-1) if channels != clip.shape[-1] else clip
  else:
    root = _folder_root(data_dir, split)
    paths = clip_files.list_clips(root)
    if num_clips is not None:
      paths = paths[:num_clips]
    all_clips = [_FolderClip(path, channels=channels) for path in paths]
    clips = [clip for clip in all_clips if clip.num_frames >= num_frames]
    if len(clips) < len(all_clips):
      logging.warning("%s: skipped %d of %d clips shorter than num_frames=%d", root,
                      len(all_clips) - len(clips), len(all_clips), num_frames)
    if not clips:
      raise InputError(f"{root}: no clip has num_frames={num_frames} frames (longest: "
                       f"{max(clip.num_frames for clip in all_clips)})")
    count = len(clips)

    def load(index: int, rng: np.random.Generator) -> np.ndarray:
      clip = clips[index]
      start = int(rng.integers(0, clip.num_frames - num_frames + 1))
      frames = clip.window(start, num_frames, channels=channels)
      return clip_files.faceforensics_crop(frames, size=resolution)

  def generate() -> Iterator[np.ndarray]:
    order_rng = np.random.default_rng([seed, _ORDER_TAG])
    window_rng = np.random.default_rng([seed, _WINDOW_TAG])
    while True:
      for index in _index_order(order_rng, count, shuffle):
        yield load(int(index), window_rng)
      if not repeat:
        return

  signature = tf.TensorSpec([num_frames, resolution, resolution, channels], tf.float32)
  dataset = tf.data.Dataset.from_generator(generate, output_signature=signature)
  dataset = dataset.batch(batch_size, drop_remainder=repeat)
  return dataset.prefetch(tf.data.AUTOTUNE)


def make_clip_mask_dataset(*, num_frames: int, resolution: int, batch_size: int, seed: int,
                           kind: str = "rectangle", motion: str = "fixed",
                           min_side_fraction: float = MIN_SIDE_FRACTION,
                           max_side_fraction: float = MAX_SIDE_FRACTION,
                           max_step: int | None = None) -> tf.data.Dataset:
  """Infinite batches of clip masks, float32 [B, T, R, R, 1] (M = 1 on the hole).

  kind="rectangle" is the FaceForensics protocol (`rectangle_clip_masks`); the stream is a
  function of `seed`.
  """
  if kind != "rectangle":
    raise InputError(f"kind={kind!r}: clip masks support only kind='rectangle'")
  if batch_size < 1:
    raise InputError(f"batch_size={batch_size}: must be >= 1")
  # Validate now: an error inside the generator would surface as an opaque tf.data error.
  rectangle_clip_masks(np.random.default_rng(0), num_frames=num_frames, height=resolution,
                       width=resolution, min_side_fraction=min_side_fraction,
                       max_side_fraction=max_side_fraction, motion=motion, max_step=max_step)

  def generate() -> Iterator[np.ndarray]:
    rng = np.random.default_rng([seed, _MASK_TAG])
    while True:
      yield rectangle_clip_masks(rng, num_frames=num_frames, height=resolution, width=resolution,
                                 min_side_fraction=min_side_fraction,
                                 max_side_fraction=max_side_fraction, motion=motion,
                                 max_step=max_step)

  signature = tf.TensorSpec([num_frames, resolution, resolution, 1], tf.float32)
  dataset = tf.data.Dataset.from_generator(generate, output_signature=signature)
  return dataset.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
