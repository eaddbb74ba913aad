"""Moving Fashion-MNIST: offline clips built from real images, float32 [T, R, R, 1] in [-1, 1].

Moving-MNIST style: `items_per_clip` Fashion-MNIST garments move over an R x R canvas with a
constant integer velocity and bounce off the borders (reflection: a step that would leave the
canvas is mirrored back and the velocity component flips). Background is -1 (black); overlapping
items combine by the pixel-wise maximum, as in Moving MNIST. At R = 32 a 28 px item would have
4 px of travel, too little to see motion, so items are downscaled with area interpolation to
`item_size` (default `default_item_size(R)` = min(28, round(0.625 R)): 20 px at 32, 28 px =
native from 45 px up). Velocity components are integers in [-max_speed, max_speed], not both zero.

Every clip is a pure function of (seed, split, clip index), so a dataset of `num_clips` clips is
the same set every epoch and on every machine. Source images follow `pgi_tf.data.fashion_mnist`'s
split rule: "train" draws from the training file's first 55,000 images, "val" from its last
5,000, "test" from the t10k file, so train and test clips never share a garment image.
`return_metadata=True` gives the source indices (into the split's IDX file) for checking this.
"""

from __future__ import annotations

import numpy as np

from pgi_tf.data import bounce
from pgi_tf.data import fashion_mnist
from pgi_tf.errors import InputError

DEFAULT_MAX_SPEED = 2              # px per frame and axis: 12 px of travel at R=32 = 6+ frames
SPLIT_CODES = {"train": 0, "val": 1, "test": 2}
# Keeps the seed stream of clip contents apart from the other streams drawn from the same seed.
_CLIP_TAG = 104729


def default_item_size(resolution: int) -> int:
  """Garment side on an R x R canvas: min(28, round(0.625 R)) (20 px at 32: 12 px of travel)."""
  return min(fashion_mnist.IMAGE_SIZE, round(0.625 * resolution))


class MovingFashionMnist:
  """Renders moving Fashion-MNIST clip i as a pure function of (seed, split, i).

  See the module docstring; `moving_fashion_mnist` and `sequences.make_clip_dataset` use this.
  """

  def __init__(self, *, split: str, num_frames: int, resolution: int = 32,
               items_per_clip: int = 1, seed: int, data_dir: str | None = None,
               item_size: int | None = None, max_speed: int = DEFAULT_MAX_SPEED):
    if split not in SPLIT_CODES:
      raise InputError(f"split={split!r}: moving_fashion_mnist has only the splits "
                       f"{', '.join(SPLIT_CODES)}")
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
    rng = np.random.default_rng([self.seed, _CLIP_TAG, SPLIT_CODES[self.split], int(index)])
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
            position[axis], velocity[axis] = bounce.reflect(int(position[axis]), int(velocity[axis]),
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
                         first_clip: int = 0,
                         return_metadata: bool = False) -> np.ndarray | tuple[np.ndarray, dict]:
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


# The clips the Fashion-MNIST sequence presets train on (configs/*sequence_prior.py: 20,000 clips,
# windows of 8 frames, seed 0); a GAN for §4.3's test draws its images from the same frames.
SEQUENCE_TRAINING_CLIPS = {"num_clips": 20000, "num_frames": 8, "seed": 0}


def clip_frames(*, split: str, resolution: int = 32, data_dir: str | None = None, num_clips: int | None = None,
                num_frames: int | None = None, seed: int | None = None) -> np.ndarray:
  """Every frame of a split's clips as uint8 [N * T, R, R] (0 = black background), clip-major.

  Defaults: SEQUENCE_TRAINING_CLIPS, so a generator trained on these frames has seen exactly
  what the sequence priors see: moving, off-centre, shrunken garments (not the centred
  Fashion-MNIST images the bundled G draws)."""
  fields = dict(SEQUENCE_TRAINING_CLIPS)
  fields.update({k: v for k, v in (("num_clips", num_clips), ("num_frames", num_frames), ("seed", seed))
                 if v is not None})
  renderer = MovingFashionMnist(split=split, num_frames=fields["num_frames"], resolution=resolution,
                                seed=fields["seed"], data_dir=data_dir)
  frames = np.empty((fields["num_clips"] * fields["num_frames"], resolution, resolution), np.uint8)
  for index in range(fields["num_clips"]):
    clip = renderer.clip(index)[0][..., 0]
    rows = slice(index * fields["num_frames"], (index + 1) * fields["num_frames"])
    frames[rows] = np.round((clip + 1.0) * 127.5).astype(np.uint8)
  return frames
