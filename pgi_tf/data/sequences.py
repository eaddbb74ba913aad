"""Clip datasets (§4.3, §6.4): tf.data streams of clips and of clip masks.

Clips are float32 [T, H, W, C] in [-1, 1] (batches [B, T, R, R, C]); clip masks are float32
[T, H, W, 1] with M = 1 on the hole, one mask per frame.

`make_clip_dataset` reads one of the clip sources in `CLIP_SOURCES` (one table; an unknown name is
an error):
  moving_fashion_mnist  `num_clips` clips (a fixed set, `pgi_tf.data.moving_fashion_mnist`), grey
                        (channels=1; channels=3 repeats the grey level).
  folder                clips under `data_dir/<split>` if that folder exists ("validation" is
                        accepted for val), else under `data_dir`; each example is a window of
                        `num_frames` consecutive frames at a random start, centre-cropped and
                        resized to R (`clip_files.faceforensics_crop`). Clips shorter than
                        `num_frames` are skipped (logged). All frame files are checked before the
                        first batch, so a bad file is a one-line InputError, not an error deep
                        inside tf.data.
`make_clip_mask_dataset` streams the FaceForensics protocol's rectangular holes
(`pgi_tf.data.clip_masks`).

Both are Python generators seeded with numpy (`np.random.default_rng`), so the stream of batches
is a function of the seed alone. With repeat=True, batches are full (drop_remainder) and the
stream is infinite; with repeat=False every clip is visited once and the last batch may be
smaller.

Clip files (frame folders, videos): `pgi_tf.data.clip_files`; sliding windows over clips of any
length: `pgi_tf.data.windows`.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Callable, Iterator

from absl import logging
import numpy as np
import tensorflow as tf

from pgi_tf.data import clip_files
from pgi_tf.data import clip_masks
from pgi_tf.data import images as images_lib
from pgi_tf.data import moving_fashion_mnist as moving_fmnist
from pgi_tf.errors import InputError

# Re-exported: code outside pgi_tf/data reaches these as `sequences.<name>` (binaries/inpaint.py;
# pgi_tf/evaluation/video.py, pgi_tf/inference/clips.py; scripts/behaviour_inputs.py).
MASK_MOTIONS = clip_masks.MASK_MOTIONS
rectangle_clip_masks = clip_masks.rectangle_clip_masks
moving_fashion_mnist = moving_fmnist.moving_fashion_mnist

SPLITS = ("train", "val", "test")
DEFAULT_NUM_CLIPS = 10000          # moving_fashion_mnist: distinct clips when num_clips is None
# Tags that keep the seed streams of clip order, windows and masks apart.
_ORDER_TAG, _WINDOW_TAG, _MASK_TAG = 7919, 6007, 3571

# load(clip index, rng) -> frames float32 [T, R, R, C]; the rng picks the window of long clips.
LoadClip = Callable[[int, np.random.Generator], np.ndarray]


@dataclasses.dataclass(frozen=True)
class _ClipRequest:
  """One `make_clip_dataset` call's arguments, after the checks."""
  split: str
  num_frames: int
  resolution: int
  channels: int
  seed: int
  num_clips: int | None
  data_dir: str | None
  items_per_clip: int
  item_size: int | None
  max_speed: int


# --------------------------------------------------------------------------- moving Fashion-MNIST

def _moving_fashion_mnist_clips(request: _ClipRequest) -> tuple[int, LoadClip]:
  """`num_clips` fixed clips (default DEFAULT_NUM_CLIPS); clip i is rendered from its index."""
  renderer = moving_fmnist.MovingFashionMnist(
      split=request.split, num_frames=request.num_frames, resolution=request.resolution,
      items_per_clip=request.items_per_clip, seed=request.seed, data_dir=request.data_dir,
      item_size=request.item_size, max_speed=request.max_speed)
  count = DEFAULT_NUM_CLIPS if request.num_clips is None else int(request.num_clips)
  channels = request.channels

  def load(index: int, rng: np.random.Generator) -> np.ndarray:
    del rng  # a clip is fixed by its index
    clip = renderer.clip(index)[0]
    # Grey clips; channels=3 repeats the grey level (RGB generators, e.g. PG-GAN smoke runs).
    return np.repeat(clip, channels, axis=-1) if channels != clip.shape[-1] else clip
  return count, load


# --------------------------------------------------------------------------- folder of clips

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


def _folder_clips(request: _ClipRequest) -> tuple[int, LoadClip]:
  """The clips long enough for a window, every frame file checked now; windows at random starts."""
  root = _folder_root(request.data_dir, request.split)
  paths = clip_files.list_clips(root)
  if request.num_clips is not None:
    paths = paths[:request.num_clips]
  num_frames, channels = request.num_frames, request.channels
  all_clips = [_FolderClip(path, channels=channels) for path in paths]
  clips = [clip for clip in all_clips if clip.num_frames >= num_frames]
  if len(clips) < len(all_clips):
    logging.warning("%s: skipped %d of %d clips shorter than num_frames=%d", root,
                    len(all_clips) - len(clips), len(all_clips), num_frames)
  if not clips:
    raise InputError(f"{root}: no clip has num_frames={num_frames} frames (longest: "
                     f"{max(clip.num_frames for clip in all_clips)})")

  def load(index: int, rng: np.random.Generator) -> np.ndarray:
    clip = clips[index]
    start = int(rng.integers(0, clip.num_frames - num_frames + 1))
    frames = clip.window(start, num_frames, channels=channels)
    return clip_files.faceforensics_crop(frames, size=request.resolution)
  return len(clips), load


# --------------------------------------------------------------------------- the table

# Clip source name -> (request -> (number of clips, load)).
CLIP_SOURCES: dict[str, Callable[[_ClipRequest], tuple[int, LoadClip]]] = {
    "moving_fashion_mnist": _moving_fashion_mnist_clips,
    "folder": _folder_clips,
}
SOURCES = tuple(CLIP_SOURCES)


def _index_order(rng: np.random.Generator, count: int, shuffle: bool) -> np.ndarray:
  return rng.permutation(count) if shuffle else np.arange(count)


def make_clip_dataset(*, source: str = "moving_fashion_mnist", split: str, num_frames: int,
                      resolution: int, channels: int, batch_size: int, seed: int,
                      num_clips: int | None = None, data_dir: str | None = None,
                      shuffle: bool = True, repeat: bool = True, items_per_clip: int = 1,
                      item_size: int | None = None,
                      max_speed: int = moving_fmnist.DEFAULT_MAX_SPEED) -> tf.data.Dataset:
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
  if split not in SPLITS:
    raise InputError(f"split={split!r}: choose one of {', '.join(SPLITS)}")
  resolution = images_lib.check_resolution(resolution)
  channels = images_lib.check_channels(channels)
  if num_frames < 1:
    raise InputError(f"num_frames={num_frames}: must be >= 1")
  if batch_size < 1:
    raise InputError(f"batch_size={batch_size}: must be >= 1")
  if num_clips is not None and num_clips < 1:
    raise InputError(f"num_clips={num_clips}: must be >= 1")
  count, load = CLIP_SOURCES[source](_ClipRequest(
      split=split, num_frames=num_frames, resolution=resolution, channels=channels, seed=seed,
      num_clips=num_clips, data_dir=data_dir, items_per_clip=items_per_clip, item_size=item_size,
      max_speed=max_speed))

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
                           min_side_fraction: float = clip_masks.MIN_SIDE_FRACTION,
                           max_side_fraction: float = clip_masks.MAX_SIDE_FRACTION,
                           max_step: int | None = None) -> tf.data.Dataset:
  """Infinite batches of clip masks, float32 [B, T, R, R, 1] (M = 1 on the hole).

  kind="rectangle" is the FaceForensics protocol (`clip_masks.rectangle_clip_masks`); the stream
  is a function of `seed`.
  """
  if kind != "rectangle":
    raise InputError(f"kind={kind!r}: clip masks support only kind='rectangle'")
  if batch_size < 1:
    raise InputError(f"batch_size={batch_size}: must be >= 1")
  # Validate now: an error inside the generator would surface as an opaque tf.data error.
  clip_masks.rectangle_clip_masks(np.random.default_rng(0), num_frames=num_frames, height=resolution,
                                  width=resolution, min_side_fraction=min_side_fraction,
                                  max_side_fraction=max_side_fraction, motion=motion, max_step=max_step)

  def generate() -> Iterator[np.ndarray]:
    rng = np.random.default_rng([seed, _MASK_TAG])
    while True:
      yield clip_masks.rectangle_clip_masks(
          rng, num_frames=num_frames, height=resolution, width=resolution,
          min_side_fraction=min_side_fraction, max_side_fraction=max_side_fraction, motion=motion,
          max_step=max_step)

  signature = tf.TensorSpec([num_frames, resolution, resolution, 1], tf.float32)
  dataset = tf.data.Dataset.from_generator(generate, output_signature=signature)
  return dataset.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
