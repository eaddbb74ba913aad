"""Clip files (§4.3, §6.4): frame folders and videos, read as float32 [T, H, W, C] in [-1, 1].

Readers
  read_frame_folder  a folder of .png/.jpg/.jpeg frames, one clip, frames in natural order of
                     their file names (frame2.png before frame10.png). All frames must have
                     the same size and channel count.
  read_video         a video file through OpenCV (`cv2.VideoCapture`, FFmpeg backend in the
                     opencv-python wheels): the one reader, so decoding is the same
                     everywhere. OpenCV decodes every video to 3-channel BGR; frames are
                     returned as RGB, or grey (`cv2.COLOR_BGR2GRAY`, ITU-R 601 weights) with
                     channels=1. A file OpenCV cannot open or decode is an InputError.
  read_clip          either of the two, by whether the path is a folder or a file.
  list_clips         the clips of a data folder: its sub-folders (one clip of frames each)
                     and its video files (VIDEO_EXTENSIONS), natural order.

FaceForensics' centre crop (§6.4, `faceforensics_crop`): "all faces are center cropped to
128x128": the largest centred square of each frame, resized to 128 px.
"""

from __future__ import annotations

import os
import re
from typing import Sequence

import numpy as np

from pgi_tf.data import images as images_lib
from pgi_tf.errors import InputError

VIDEO_EXTENSIONS = (".avi", ".mp4", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv")
FRAME_EXTENSIONS = images_lib.IMAGE_EXTENSIONS
FACEFORENSICS_SIZE = 128           # §6.4: "center cropped to 128x128"


def _cv2():
  """The OpenCV module, imported on first use."""
  import cv2  # lazy: OpenCV is needed only to decode videos and resize frames
  return cv2


def _natural_key(name: str):
  """'frame10.png' -> ['frame', 10, '.png']: numbers compare by value, text case-insensitively."""
  parts = re.split(r"(\d+)", name)
  return [int(part) if part.isdigit() else part.lower() for part in parts], name


def natural_sorted(names: Sequence[str]) -> list[str]:
  """Names sorted with embedded numbers compared by value (frame2 before frame10)."""
  return sorted(names, key=_natural_key)


def frame_files(path: str) -> list[str]:
  """The frame files (.png/.jpg/.jpeg, not recursive) of a clip folder, in natural order.

  Raises:
    InputError: naming the folder, if it does not exist or holds no frames.
  """
  if not os.path.isdir(path):
    raise InputError(f"{path}: clip folder does not exist")
  names = [name for name in os.listdir(path)
           if name.lower().endswith(FRAME_EXTENSIONS) and not name.startswith(".")
           and os.path.isfile(os.path.join(path, name))]
  if not names:
    raise InputError(
        f"{path}: clip folder has no frames ({'/'.join(FRAME_EXTENSIONS)} files)")
  return [os.path.join(path, name) for name in natural_sorted(names)]


def _stack_frames(frames: list[np.ndarray], paths: Sequence[str]) -> np.ndarray:
  """uint8 frames -> float32 [T, H, W, C] in [-1, 1]; all frames must have the first's shape."""
  first_shape = frames[0].shape
  for frame, path in zip(frames, paths):
    if frame.shape != first_shape:
      raise InputError(
          f"{path}: frame is {frame.shape[0]}x{frame.shape[1]}x{frame.shape[2]}, earlier frames "
          f"of the clip are {first_shape[0]}x{first_shape[1]}x{first_shape[2]}")
  return images_lib.to_model_range(np.stack(frames))


def read_frame_folder(path: str, *, channels: int | None = None,
                      start: int = 0, max_frames: int | None = None) -> np.ndarray:
  """A folder of frames as one clip, float32 [T, H, W, C] in [-1, 1].

  Args:
    path: folder whose .png/.jpg/.jpeg files are the frames (natural order of names).
    channels: 1 or 3 to require that channel count of every frame; None accepts either as
      long as all frames agree.
    start: index of the first frame to read.
    max_frames: read at most this many frames from `start` (None: all).

  Raises:
    InputError: naming the folder (missing, no frames) or the offending frame (unreadable,
      wrong channel count, size different from the first frame).
  """
  paths = frame_files(path)[start:]
  if max_frames is not None:
    paths = paths[:max_frames]
  if not paths:
    raise InputError(f"{path}: clip has no frames from index {start}")
  frames = [images_lib.load_image(frame_path, channels=channels) for frame_path in paths]
  return _stack_frames(frames, paths)


def _open_video(path: str):
  if not os.path.isfile(path):
    raise InputError(f"{path}: no such video file")
  capture = _cv2().VideoCapture(path)
  if not capture.isOpened():
    capture.release()
    raise InputError(f"{path}: OpenCV cannot open the video (unknown container or codec, or "
                     f"not a video); convert it, e.g. to MJPG .avi or H.264 .mp4, or extract "
                     f"its frames into a folder")
  return capture


def read_video(path: str, *, channels: int | None = None,
               max_frames: int | None = None) -> np.ndarray:
  """A video file as one clip, float32 [T, H, W, C] in [-1, 1], decoded with cv2.VideoCapture.

  Args:
    path: any file the OpenCV build can decode (the pip wheels use FFmpeg).
    channels: 3 or None for RGB, 1 for grey (cv2.COLOR_BGR2GRAY). OpenCV always decodes to
      3 channels, so both are accepted for every video.
    max_frames: decode at most this many frames from the start (None: all).

  Raises:
    InputError: naming the file, if it is missing, cannot be opened or yields no frames.
  """
  if channels is not None:
    images_lib.check_channels(channels)
  cv2 = _cv2()
  capture = _open_video(path)
  frames = []
  try:
    while max_frames is None or len(frames) < max_frames:
      ok, frame = capture.read()
      if not ok or frame is None:
        break
      if frame.ndim == 2:  # some backends return grey frames for grey codecs
        frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
      if channels == 1:
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)[:, :, None])
      else:
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
  finally:
    capture.release()
  if not frames:
    raise InputError(f"{path}: OpenCV opened the video but decoded no frames (empty or "
                     "corrupt file)")
  return _stack_frames(frames, [f"{path} (frame {index})" for index in range(len(frames))])


def video_frame_count(path: str) -> int:
  """Frames in a video: OpenCV's CAP_PROP_FRAME_COUNT, or a full decode when it reports none.

  Raises:
    InputError: naming the file, if OpenCV cannot open it or it has no frames.
  """
  capture = _open_video(path)
  try:
    count = int(capture.get(_cv2().CAP_PROP_FRAME_COUNT))
    ok, _ = capture.read()
  finally:
    capture.release()
  if not ok:
    raise InputError(f"{path}: OpenCV opened the video but decoded no frames (empty or "
                     "corrupt file)")
  if count > 0:
    return count
  return len(read_video(path))


def is_video_file(path: str) -> bool:
  """Whether `path` is a file with one of VIDEO_EXTENSIONS (case-insensitive)."""
  return os.path.isfile(path) and path.lower().endswith(VIDEO_EXTENSIONS)


def read_clip(path: str, *, channels: int | None = None,
              max_frames: int | None = None) -> np.ndarray:
  """`read_frame_folder` for a folder, `read_video` for a file: float32 [T, H, W, C] in [-1, 1]."""
  if os.path.isdir(path):
    return read_frame_folder(path, channels=channels, max_frames=max_frames)
  if os.path.isfile(path):
    return read_video(path, channels=channels, max_frames=max_frames)
  raise InputError(f"{path}: no such clip folder or video file")


def list_clips(root: str) -> list[str]:
  """The clips in `root`: each sub-folder (frames) and each video file, in natural order.

  Other files (notes, lists) and hidden entries are ignored. Sub-folders are not checked
  here; reading an empty one raises.

  Raises:
    InputError: naming `root`, if it is not a folder or holds no clip.
  """
  if not os.path.isdir(root):
    raise InputError(f"{root}: clip directory does not exist")
  clips = []
  for name in natural_sorted(os.listdir(root)):
    if name.startswith("."):
      continue
    path = os.path.join(root, name)
    if os.path.isdir(path) or is_video_file(path):
      clips.append(path)
  if not clips:
    raise InputError(f"{root}: no clips (sub-folders of frames or "
                     f"{'/'.join(VIDEO_EXTENSIONS)} files)")
  return clips


def faceforensics_crop(frames, *, size: int = FACEFORENSICS_SIZE) -> np.ndarray:
  """Centre crop of the largest square of each frame, resized to size x size (§6.4).

  Args:
    frames: float [T, H, W, C] (or one frame [H, W, C]) in [-1, 1].
    size: output side (128 in the paper).

  Returns:
    float32 [T, size, size, C] (or [size, size, C]). Shrinking uses OpenCV area
    interpolation (no aliasing), enlarging bilinear.
  """
  frames = np.asarray(frames, dtype=np.float32)
  single = frames.ndim == 3
  if single:
    frames = frames[None]
  if frames.ndim != 4:
    raise ValueError(f"frames: expected [T, H, W, C], got shape {frames.shape}")
  if size < 1:
    raise InputError(f"size={size}: must be >= 1")
  _, height, width, channels = frames.shape
  side = min(height, width)
  top, left = (height - side) // 2, (width - side) // 2
  square = frames[:, top:top + side, left:left + side]
  if side != size:
    cv2 = _cv2()
    interpolation = cv2.INTER_AREA if size < side else cv2.INTER_LINEAR
    square = np.stack([cv2.resize(frame, (size, size), interpolation=interpolation)
                       for frame in square]).reshape(len(square), size, size, channels)
  square = np.ascontiguousarray(square, dtype=np.float32)
  return square[0] if single else square
