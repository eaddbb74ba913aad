"""Sliding windows over clips of any length (§4.3): `window_starts`, `split_windows`, `merge_windows`.

  A clip of any length T is cut into windows of W frames with stride W - overlap; the last
  window is aligned to the clip end (so it may overlap its predecessor by more). A clip shorter
  than W is one window padded by repeating its last frame; the padding is dropped on merging.
  Merging takes every frame from exactly one window:
    policy="causal" (default): the earliest window that contains the frame. The grouped prior's
      LSTM is unidirectional, so this is the window in which the frame has the most preceding
      frames in the LSTM state: the first `overlap` frames of every later window only warm the
      state up ("burn-in") and are discarded.
    policy="central": the window in which the frame is nearest the window's centre (ties: the
      earlier window).
  Outputs are never averaged: an average of two generator outputs G(z1), G(z2) is not a sample
  of G and blurs the hole.
"""

from __future__ import annotations

import numpy as np

from pgi_tf.errors import InputError

MERGE_POLICIES = ("causal", "central")


def _check_window(window: int, overlap: int) -> None:
  if window < 1:
    raise InputError(f"window={window}: must be >= 1")
  if not 0 <= overlap < window:
    raise InputError(f"overlap={overlap}: must be in 0..{window - 1} (window {window})")


def window_starts(num_frames: int, window: int, overlap: int) -> list[int]:
  """First frame of each window: stride window - overlap, the last window ending at the clip end.

  A clip of at most `window` frames is one window starting at 0 (padded by `split_windows`).
  """
  _check_window(window, overlap)
  if num_frames < 1:
    raise InputError(f"num_frames={num_frames}: a clip needs at least one frame")
  if num_frames <= window:
    return [0]
  stride = window - overlap
  starts = list(range(0, num_frames - window + 1, stride))
  if starts[-1] + window < num_frames:
    starts.append(num_frames - window)
  return starts


def frame_sources(num_frames: int, window: int, overlap: int, *,
                  policy: str = "causal") -> list[tuple[int, int]]:
  """For each frame t, (window index, position in that window) its merged output comes from."""
  if policy not in MERGE_POLICIES:
    raise InputError(f"policy={policy!r}: choose one of {', '.join(MERGE_POLICIES)}")
  starts = window_starts(num_frames, window, overlap)
  centre = (window - 1) / 2.0
  sources = []
  for t in range(num_frames):
    containing = [k for k, start in enumerate(starts) if start <= t < start + window]
    if policy == "causal":
      k = containing[0]
    else:  # min() keeps the first (earlier) window on ties
      k = min(containing, key=lambda k: abs(t - starts[k] - centre))
    sources.append((k, t - starts[k]))
  return sources


def split_windows(frames, *, window: int, overlap: int) -> tuple[np.ndarray, list[int]]:
  """Cuts a clip [T, ...] into windows [K, window, ...] at `window_starts`.

  A clip shorter than `window` is padded by repeating its last frame (dropped by
  `merge_windows`).
  """
  frames = np.asarray(frames)
  num_frames = len(frames)
  starts = window_starts(num_frames, window, overlap)
  if num_frames < window:
    frames = np.concatenate([frames, np.repeat(frames[-1:], window - num_frames, axis=0)])
  return np.stack([frames[start:start + window] for start in starts]), starts


def merge_windows(window_outputs, *, num_frames: int, window: int, overlap: int,
                  policy: str = "causal") -> np.ndarray:
  """Per-window outputs [K, window, ...] -> one output per frame [num_frames, ...].

  Args:
    window_outputs: outputs for the windows of `split_windows` / `window_starts` (same K,
      same order).
    num_frames: the clip's true length (padding frames are dropped).
    window, overlap: as given to `window_starts`.
    policy: "causal" (earliest window containing the frame) or "central" (window where the
      frame is most central); module docstring.
  """
  outputs = np.asarray(window_outputs)
  starts = window_starts(num_frames, window, overlap)
  if outputs.ndim < 2 or outputs.shape[0] != len(starts) or outputs.shape[1] != window:
    raise ValueError(f"window_outputs: expected [{len(starts)}, {window}, ...] for {num_frames} "
                     f"frames, got shape {outputs.shape}")
  sources = frame_sources(num_frames, window, overlap, policy=policy)
  return np.stack([outputs[k, position] for k, position in sources])
