"""Video inpainting's inputs: clips (a folder of frames per clip, or video files) and their masks
(a folder of mask PNGs per clip, or generated §6.4 rectangles), checked before any work."""

from __future__ import annotations

import os

import numpy as np

from pgi_tf.data import masks as masks_lib
from pgi_tf.data import clip_files
from pgi_tf.data import sequences
from pgi_tf.errors import InputError


class ClipInput:
  """One input clip: its name (output folder), path, frames [T, H, W, C] in [-1, 1] and frame names."""

  def __init__(self, *, name: str, path: str, frames: np.ndarray, frame_names: list[str]):
    self.name, self.path, self.frames, self.frame_names = name, path, frames, frame_names

  @property
  def is_video(self) -> bool:
    return os.path.isfile(self.path)


def _has_frames(folder: str) -> bool:
  return any(name.lower().endswith(clip_files.FRAME_EXTENSIONS) and not name.startswith(".")
             and os.path.isfile(os.path.join(folder, name)) for name in os.listdir(folder))


def _has_clips(folder: str) -> bool:
  return any(not name.startswith(".") and (os.path.isdir(os.path.join(folder, name))
                                           or clip_files.is_video_file(os.path.join(folder, name)))
             for name in os.listdir(folder))


def list_clip_inputs(input_path: str) -> tuple[list[str], bool]:
  """(clip paths, whether input_path is itself one clip) for --input."""
  if os.path.isfile(input_path):
    if not clip_files.is_video_file(input_path):
      raise InputError(f"--input={input_path}: not a video file ({'/'.join(clip_files.VIDEO_EXTENSIONS)}); "
                       "give a video, a folder of frames, or a folder of clips")
    return [input_path], True
  if not os.path.isdir(input_path):
    raise InputError(f"--input={input_path}: no such clip folder, video file or folder of clips")
  if _has_frames(input_path):
    if _has_clips(input_path):
      raise InputError(f"--input={input_path}: holds both frames and clips (sub-folders or videos); "
                       "give one clip folder or a folder of clips")
    return [input_path], True
  try:
    return clip_files.list_clips(input_path), False
  except InputError as error:
    raise InputError(f"--input={error}") from None


def _clip_name(path: str) -> str:
  base = os.path.basename(os.path.normpath(path))
  return os.path.splitext(base)[0] if os.path.isfile(path) else base


def read_clip_inputs(input_path: str, *, channels: int) -> tuple[list[ClipInput], bool]:
  """Reads every clip of --input (frames [T, H, W, C] in [-1, 1]); checks names do not clash."""
  paths, single = list_clip_inputs(input_path)
  clips, seen = [], {}
  for path in paths:
    name = _clip_name(path)
    if name in seen:
      raise InputError(f"--input={input_path}: {seen[name]} and {path} would both be written to {name}/; "
                       "rename one of them")
    seen[name] = path
    frames = clip_files.read_clip(path, channels=channels)
    if os.path.isdir(path):
      frame_names = [os.path.splitext(os.path.basename(f))[0] for f in clip_files.frame_files(path)]
      clash = {n for n in frame_names if frame_names.count(n) > 1}
      if clash:
        raise InputError(f"{path}: frames {sorted(clash)[0]}.* share a name; each would be written to "
                         f"{sorted(clash)[0]}.png")
    else:
      frame_names = [f"frame_{t:05d}" for t in range(len(frames))]
    clips.append(ClipInput(name=name, path=path, frames=frames, frame_names=frame_names))
  return clips, single


def _png_files(folder: str) -> list[str]:
  return clip_files.natural_sorted([n for n in os.listdir(folder) if n.lower().endswith(".png")
                                   and not n.startswith(".") and os.path.isfile(os.path.join(folder, n))])


def load_clip_masks(mask_path: str, clip: ClipInput, *, single: bool) -> np.ndarray:
  """The clip's masks [T, H, W, 1] from --masks (module docstring), checked against its frames."""
  if not os.path.isdir(mask_path):
    raise InputError(f"--masks={mask_path}: no such folder (a folder of mask folders, one per clip)")
  folder = os.path.join(mask_path, clip.name)
  if not os.path.isdir(folder):
    if single and _png_files(mask_path):
      folder = mask_path
    else:
      raise InputError(f"--masks={mask_path}: no mask folder {clip.name}/ for clip {clip.path}")
  names = _png_files(folder)
  num_frames, height, width = clip.frames.shape[:3]
  if len(names) != num_frames:
    raise InputError(f"--masks={folder}: {len(names)} mask frames for the {num_frames} frames of clip "
                     f"{clip.path}")
  if not clip.is_video:  # frame folders: masks matched by name
    missing = [n for n in clip.frame_names if f"{n}.png" not in names]
    if missing:
      raise InputError(f"--masks={folder}: no mask {missing[0]}.png for frame {missing[0]} of clip {clip.path}")
    names = [f"{n}.png" for n in clip.frame_names]
  return np.stack([masks_lib.load_mask_png(os.path.join(folder, n), height=height, width=width) for n in names])


def generated_clip_masks(clip: ClipInput, *, motion: str, seed: int, index: int) -> np.ndarray:
  """§6.4 rectangles for clip `index` (sides in [0.35, 0.5] of the frame), seeded by (seed, index)."""
  num_frames, height, width = clip.frames.shape[:3]
  try:
    return sequences.rectangle_clip_masks(np.random.default_rng([seed, index]), num_frames=num_frames,
                                          height=height, width=width, motion=motion)
  except InputError as error:
    raise InputError(f"--mask_motion={motion}: {clip.path}: {error}") from None


def validate_clip_masks(masks: np.ndarray, *, name: str) -> None:
  """Every frame keeps known pixels, and the clip has a hole somewhere (frames without one are fine)."""
  holes = masks > 0.5
  if not holes.any():
    raise InputError(f"{name}: no frame of the clip has a hole pixel")
  full = [t for t in range(len(masks)) if holes[t].all()]
  if full:
    raise InputError(f"{name}: mask of frame {full[0]} covers the whole frame, no known pixels are left")
