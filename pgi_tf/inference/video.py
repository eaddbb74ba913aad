"""Video inpainting (§4.3, §6.4): z per frame from the grouped prior or from P, G(z), Eq. 8 per frame.

Where z comes from
  sequence prior (M_{z+L}, Fig. 3)  the exported LSTM model (`pgi_tf.models.sequence_prior`) over
                                    sliding windows of W frames;
  per frame (M_z)                   the image prior predictor P on every frame alone: M_z of
                                    Table 3, the ablation without temporal guidance.
Both then fill every frame with Eq. 8: Î^t = (1 - M^t) ⊙ I^t + M^t ⊙ G(z^t).

Sliding windows (`pgi_tf.data.windows.window_starts` / `merge_windows`)
  A clip of any length T is cut into windows of W frames with stride W - overlap; the last window
  ends at the clip's last frame, and a clip shorter than W is one window padded by repeating its
  last frame (the padding is dropped). The LSTM starts every window from the zero state, as in
  training. Merging uses the "causal" policy: each frame is taken from the earliest window that
  contains it, so in every window after the first, the first `overlap` frames only warm the LSTM
  state up ("burn-in") and frames from `overlap` on are output. Every frame is output exactly
  once; outputs of two windows are never averaged (an average of G(z1) and G(z2) is not a sample
  of G and blurs the hole). Defaults: W = the window the sequence prior was trained on
  (its metadata), overlap = W // 2. In per-frame mode frames are independent, windows only batch
  the work, and the default overlap is 0 (any overlap gives the same frames).

Latent smoothing (beyond the paper, `latent_smoothing` = k > 0)
  A temporal-consistency option that costs one more G pass and no training: after the windows are
  merged, each clip's z sequence is smoothed k times with the [1/4, 1/2, 1/4] kernel along time
  (`smooth_latents`; end frames repeat themselves), then G draws every frame again and Eq. 8 pastes
  it. Not with a structural prior (G(z, S) would need S smoothed too).

Compilation
  All windows of all clips are stacked [K, W, R, R, C] and run in chunks of `batch_size` windows
  through one tf.function whose signature leaves K and W free, so it traces once per inpainter.

Folder in, folder out (`inpaint_clips`, what `binaries/inpainting.py --video` does)
  Input: a folder of clips (sub-folders of frames and/or video files, `clip_files.list_clips`), or
  one clip (a frame folder or a video file). Masks: a folder holding one folder of mask PNGs per
  clip, named like the clip (frame folder name, or the video's file name without extension):
  for a frame folder the mask of frame `f.jpg` is `f.png`; for a video the mask PNGs in natural
  order, one per frame. For a single input clip the mask folder may also hold the PNGs directly.
  White (>= 128) = hole. Or rectangles generated per clip (§6.4 protocol, sides in [0.35, 0.5] of
  the frame, fixed or moving, seeded by (seed, clip index)). A frame may have no hole, but every
  frame needs known pixels and every clip at least one hole pixel. Everything is read and checked
  before anything is written.
  Frames of another size than the model's are resized (area) to the model's square resolution,
  G(ẑ) upsampled (bicubic) back and Eq. 8 applied at full resolution, as for images
  (`inpaint_files`), so known pixels of the output equal the input's.
  Output per clip: <output_dir>/<clip>/<frame>.png (frame folders keep their frame names, videos
  get frame_00000.png, ...) and <output_dir>/<clip>/side_by_side.gif, an animation with panels
  input with holes white | output | ground truth (the input frames, shown when they are clean,
  i.e. the holes exist only in the masks: always for generated masks), plus
  <output_dir>/results.json.
"""

from __future__ import annotations

import copy
import os
import time
from typing import Callable, Sequence

import numpy as np
from PIL import Image
import tensorflow as tf

from pgi_tf import hub
from pgi_tf import files
from pgi_tf.inference import clips as clip_inputs
from pgi_tf.inference import inpainting
from pgi_tf.inference import loading
from pgi_tf import visualize
from pgi_tf.data import windows as clip_windows
from pgi_tf.errors import InputError

def smooth_latents(z: np.ndarray, passes: int) -> np.ndarray:
  """z [T, d] (or [N, T, d]) smoothed `passes` times along time with the kernel [1/4, 1/2, 1/4],
  each end frame standing in for its missing neighbour. passes = 0 returns z unchanged."""
  z = np.asarray(z, np.float32)
  time_axis = z.ndim - 2
  for _ in range(int(passes)):
    first = np.take(z, [0], axis=time_axis)
    last = np.take(z, [z.shape[time_axis] - 1], axis=time_axis)
    padded = np.concatenate([first, z, last], axis=time_axis)
    length = z.shape[time_axis]
    take = lambda start: np.take(padded, np.arange(start, start + length), axis=time_axis)  # noqa: E731
    z = 0.25 * take(0) + 0.5 * take(1) + 0.25 * take(2)
  return z


def _checked_latent_smoothing(passes: int, structural_prior) -> int:
  if passes < 0:
    raise InputError(f"--latent_smoothing={passes}: must be >= 0")
  if passes and structural_prior is not None:
    raise InputError("--latent_smoothing: not with a structural prior (G(z, S) would need S smoothed too)")
  return int(passes)


DEFAULT_PER_FRAME_WINDOW = 8  # per-frame mode: frames per window (only batches the work)
GIF_FILENAME = "side_by_side.gif"
GIF_FRAME_MS = 125            # 8 frames per second
GIF_MIN_SIDE = 128            # small frames are upscaled (nearest) to at least this height in the GIF
GIF_MAX_SIDE = 256            # larger frames are shrunk (area) to at most this side in the GIF
TIMELINE_HEIGHT = 3           # px under the panels: frame t of T as a bar


def default_overlap(window: int, *, temporal: bool) -> int:
  """Burn-in frames per window: W // 2 for the LSTM prior, 0 per frame (frames are independent)."""
  return window // 2 if temporal else 0


class VideoInpainter:
  """Inpaints clips with a frozen G and z from a sequence prior (windows) or P (per frame).

  Args:
    generator: callable z [N, z_dim] (or [z, S] with a structural prior) -> images in [-1, 1].
    z_dim: the generator's z size.
    sequence_prior: callable [masked_frames [K,W,R,R,C], masks [K,W,R,R,1] (, S [K,W,c])] ->
      z [K, W, z_dim] (`hub.load_sequence_prior`). Exclusive with prior_predictor.
    prior_predictor: the image P, callable [masked_images, masks (, S)] -> z: per-frame M_z.
    window: W; None: the sequence prior's training window (metadata["window"]), or
      DEFAULT_PER_FRAME_WINDOW per frame.
    overlap: frames shared by consecutive windows; None: `default_overlap`.
    structural_prior: M_{z+S}, M_{z+S+L}: callable (masked_images, masks) -> S [N, c] per frame.
    policy: merge policy of `clip_windows.merge_windows` ("causal", documented above, or "central").
    jit_compile: compile the window function with XLA.
    latent_smoothing: k > 0 smooths each clip's z k times along time and draws G again (above).
  """

  def __init__(self, *, generator: Callable, z_dim: int, sequence_prior: Callable | None = None,
               prior_predictor: Callable | None = None, window: int | None = None,
               overlap: int | None = None, structural_prior: Callable | None = None,
               policy: str = "causal", jit_compile: bool = False, latent_smoothing: int = 0):
    if (sequence_prior is None) == (prior_predictor is None):
      raise ValueError("VideoInpainter: give exactly one of sequence_prior and prior_predictor")
    if policy not in clip_windows.MERGE_POLICIES:
      raise InputError(f"policy={policy!r}: choose one of {', '.join(clip_windows.MERGE_POLICIES)}")
    self.generator = generator
    self.z_dim = int(z_dim)
    self.sequence_prior = sequence_prior
    self.prior_predictor = prior_predictor
    self.structural_prior = structural_prior
    self.policy = policy
    self.jit_compile = jit_compile
    temporal = sequence_prior is not None
    if window is None:
      metadata = getattr(sequence_prior, "metadata", None) or {}
      window = int(metadata.get("window", DEFAULT_PER_FRAME_WINDOW)) if temporal else DEFAULT_PER_FRAME_WINDOW
    if window < 1:
      raise InputError(f"--window={window}: must be >= 1")
    if overlap is None:
      overlap = default_overlap(window, temporal=temporal)
    if not 0 <= overlap < window:
      raise InputError(f"--overlap={overlap}: must be in 0..{window - 1} (window {window})")
    self.window, self.overlap = int(window), int(overlap)
    self.latent_smoothing = _checked_latent_smoothing(latent_smoothing, structural_prior)
    self._compiled = None

  def with_latent_smoothing(self, passes: int) -> "VideoInpainter":
    """The same inpainter with `passes` of latent smoothing; it shares the compiled window function."""
    smoothed = copy.copy(self)
    smoothed.latent_smoothing = _checked_latent_smoothing(passes, self.structural_prior)
    return smoothed

  @property
  def temporal(self) -> str:
    """"lstm" (a sequence prior; "per_frame" if it was trained with the state reset) or "per_frame"."""
    if self.sequence_prior is None:
      return "per_frame"
    return (getattr(self.sequence_prior, "metadata", None) or {}).get("temporal", "lstm")

  # ------------------------------------------------------------------ one batch of windows
  def _windows_impl(self, frames, masks):
    """[K, W, R, R, C] windows -> (inpainted, generated [K, W, R, R, C], z [K, W, z_dim])."""
    masks = tf.cast(masks, tf.float32)
    masked_frames = (1.0 - masks) * frames
    shape = tf.shape(frames)
    flat = lambda x: tf.reshape(x, tf.concat([[-1], tf.shape(x)[2:]], 0))  # [K*W, ...]  # noqa: E731
    flat_frames, flat_masked, flat_masks = flat(frames), flat(masked_frames), flat(masks)
    conditions = None
    if self.structural_prior is not None:
      conditions = self.structural_prior(flat_masked, flat_masks)  # S per frame [K*W, c]
    if self.sequence_prior is not None:
      inputs = [masked_frames, masks]
      if conditions is not None:
        # A static size c keeps the condition's last axis known, which the prior's layers need.
        condition_size = conditions.shape[-1] if conditions.shape[-1] is not None else -1
        inputs.append(tf.reshape(conditions, [shape[0], shape[1], condition_size]))
      z = tf.reshape(self.sequence_prior(inputs), [-1, self.z_dim])
    else:  # M_z: P on each frame alone
      inputs = [flat_masked, flat_masks] + ([conditions] if conditions is not None else [])
      z = tf.reshape(self.prior_predictor(inputs), [-1, self.z_dim])
    generated = self.generator(z) if conditions is None else self.generator([z, conditions])
    generated = tf.cast(generated, tf.float32)
    inpainted = inpainting.compose(images=flat_frames, masks=flat_masks, generated_images=generated)  # Eq. 8
    unflat = lambda x: tf.reshape(x, tf.concat([shape[:2], tf.shape(x)[1:]], 0))  # noqa: E731
    return unflat(inpainted), unflat(generated), unflat(z)

  def run_windows(self, frames, masks):
    """One compiled call on windows [K, W, R, R, C] and masks [K, W, R, R, 1]; K and W are free,
    so the function traces once (at the first call's R and C)."""
    frames = tf.convert_to_tensor(frames, tf.float32)
    masks = tf.convert_to_tensor(masks, tf.float32)
    if self._compiled is None:
      image_spec = tf.TensorSpec([None, None, *frames.shape[2:]], tf.float32, name="frames")
      mask_spec = tf.TensorSpec([None, None, *frames.shape[2:4], 1], tf.float32, name="masks")
      self._compiled = tf.function(self._windows_impl, input_signature=[image_spec, mask_spec],
                                   jit_compile=self.jit_compile or None)
    return self._compiled(frames, masks)

  @property
  def tracing_count(self) -> int:
    """How many times the window function was traced (1 after any number of calls)."""
    return 0 if self._compiled is None else self._compiled.experimental_get_tracing_count()

  # ------------------------------------------------------------------ clips of any length
  def inpaint_sequences(self, clips: Sequence[np.ndarray], masks: Sequence[np.ndarray], *,
                        batch_size: int = 16, progress=None) -> list[dict[str, np.ndarray]]:
    """Clips of any lengths (each [T_i, R, R, C], masks [T_i, R, R, 1]) -> one dict per clip with
    "inpainted", "generated" [T_i, R, R, C] and "z" [T_i, z_dim] (numpy).

    Windows of all clips are batched together, `batch_size` windows per compiled call;
    `progress` (a tqdm bar) is advanced by the number of windows done.
    """
    if len(clips) != len(masks):
      raise ValueError(f"{len(clips)} clips but {len(masks)} mask clips")
    if batch_size < 1:
      raise InputError(f"--batch_size={batch_size}: must be >= 1")
    window_frames, window_masks, owners = [], [], []
    for index, (clip, clip_masks) in enumerate(zip(clips, masks)):
      clip, clip_masks = np.asarray(clip, np.float32), np.asarray(clip_masks, np.float32)
      if clip.ndim != 4 or clip_masks.shape != clip.shape[:3] + (1,):
        raise ValueError(f"clip {index}: frames {clip.shape} and masks {clip_masks.shape} must be "
                         "[T, R, R, C] and [T, R, R, 1]")
      frames_k, _ = clip_windows.split_windows(clip, window=self.window, overlap=self.overlap)
      masks_k, _ = clip_windows.split_windows(clip_masks, window=self.window, overlap=self.overlap)
      window_frames.append(frames_k)
      window_masks.append(masks_k)
      owners.append(len(frames_k))
    if not clips:
      return []
    all_frames, all_masks = np.concatenate(window_frames), np.concatenate(window_masks)
    outputs = {"inpainted": [], "generated": [], "z": []}
    for first in range(0, len(all_frames), batch_size):
      chunk = slice(first, first + batch_size)
      inpainted, generated, z = self.run_windows(all_frames[chunk], all_masks[chunk])
      for key, value in zip(("inpainted", "generated", "z"), (inpainted, generated, z)):
        outputs[key].append(value.numpy())
      if progress is not None:
        progress.update(len(all_frames[chunk]))
    stacked = {key: np.concatenate(values) for key, values in outputs.items()}
    results, first = [], 0
    for clip, count in zip(clips, owners):
      results.append({key: clip_windows.merge_windows(value[first:first + count], num_frames=len(clip),
                                                   window=self.window, overlap=self.overlap,
                                                   policy=self.policy)
                      for key, value in stacked.items()})
      first += count
    if self.latent_smoothing:
      results = [self._smoothed(result, clip, clip_masks, batch_size * self.window)
                 for result, clip, clip_masks in zip(results, clips, masks)]
    return results

  def _smoothed(self, result: dict, clip, clip_masks, batch_frames: int) -> dict:
    """One clip's result with z smoothed along time and G(z) drawn again (Eq. 8 per frame)."""
    z = smooth_latents(result["z"], self.latent_smoothing)
    generated = np.concatenate([np.asarray(self.generator(tf.constant(z[first:first + batch_frames])), np.float32)
                                for first in range(0, len(z), batch_frames)])
    inpainted = np.asarray(inpainting.compose(images=np.asarray(clip, np.float32),
                                              masks=np.asarray(clip_masks, np.float32), generated_images=generated))
    return {"inpainted": inpainted, "generated": generated, "z": z}

  def inpaint(self, clips, masks, *, batch_size: int = 16, progress=None) -> dict[str, np.ndarray]:
    """Equal-length clips [N, T, R, R, C] and masks [N, T, R, R, 1] -> {"inpainted", "generated"
    [N, T, R, R, C], "z" [N, T, z_dim]} (numpy)."""
    results = self.inpaint_sequences(list(clips), list(masks), batch_size=batch_size, progress=progress)
    return {key: np.stack([r[key] for r in results]) for key in ("inpainted", "generated", "z")}

  def num_windows(self, num_frames: int) -> int:
    """Windows a clip of num_frames frames is cut into."""
    return len(clip_windows.window_starts(num_frames, self.window, self.overlap))


def make_video_inpainter(models: loading.Models, *, sequence_prior_path: str = "",
                         window: int | None = None, overlap: int | None = None,
                         latent_smoothing: int = 0) -> VideoInpainter:
  """A VideoInpainter on a model directory's G: with the sequence prior at sequence_prior_path
  (which must have been trained for this G), or per frame with the directory's P when ''."""
  sequence_prior = None
  if sequence_prior_path:
    sequence_prior = hub.load_sequence_prior(sequence_prior_path,
                                                      generator_path=models.generator.handle)
  elif models.prior_predictor is None:
    raise InputError("--sequence_prior: empty, and the model has no prior_predictor/ for per-frame M_z; "
                     "pass --sequence_prior=<export dir> or a --model_dir with a prior predictor")
  return VideoInpainter(generator=models.generator, z_dim=models.metadata["z_dim"],
                        sequence_prior=sequence_prior,
                        prior_predictor=None if sequence_prior is not None else models.prior_predictor,
                        window=window, overlap=overlap, structural_prior=models.structural_prior,
                        latent_smoothing=latent_smoothing)


# --------------------------------------------------------------------------- the animated side-by-side

def _gif_panel_frames(clip: np.ndarray) -> np.ndarray:
  """[T, H, W, C] in [-1, 1] -> uint8, shrunk (area) so the longest side is at most GIF_MAX_SIDE."""
  clip = np.asarray(clip, np.float32)
  side = max(clip.shape[1:3])
  if side > GIF_MAX_SIDE:
    scale = GIF_MAX_SIDE / side
    size = [max(1, round(clip.shape[1] * scale)), max(1, round(clip.shape[2] * scale))]
    clip = tf.image.resize(clip, size, method="area", antialias=True).numpy()
  return visualize.to_uint8(clip)


def write_side_by_side_gif(path: str, panels: Sequence[np.ndarray], *, frame_ms: int = GIF_FRAME_MS) -> int:
  """An animated GIF, one frame per time step, panels side by side (e.g. input | output | truth).

  Args:
    path: the .gif file (written atomically).
    panels: clips [T, H, W, C] in [-1, 1] (or uint8), same T, H, W, C.
    frame_ms: display time of each frame.

  A timeline bar under the panels shows frame t of T; it also makes every frame differ from the
  previous one, which keeps PIL from merging identical consecutive frames (it would for a static
  clip), so the file has exactly T frames as long as T <= the GIF's width in pixels.
  Returns the number of frames written.
  """
  panels = [np.asarray(p) if np.asarray(p).dtype == np.uint8 else _gif_panel_frames(p) for p in panels]
  num_frames = len(panels[0])
  if any(len(p) != num_frames or p.shape != panels[0].shape for p in panels):
    raise ValueError(f"panels: need the same shape, got {[p.shape for p in panels]}")
  height = panels[0].shape[1]
  upscale = max(1, GIF_MIN_SIDE // max(height, 1))
  images = []
  for t in range(num_frames):
    grid = visualize.make_grid(np.stack([p[t] for p in panels]), columns=len(panels))
    pil = Image.fromarray(grid[..., 0] if grid.shape[-1] == 1 else grid)
    if upscale > 1:  # nearest keeps pixels honest
      pil = pil.resize((pil.width * upscale, pil.height * upscale), Image.NEAREST)
    frame = np.asarray(pil)
    bar = np.full((TIMELINE_HEIGHT * upscale, frame.shape[1], *frame.shape[2:]), 255, np.uint8)
    bar[:, :max(1, round((t + 1) / num_frames * frame.shape[1]))] = 96
    images.append(Image.fromarray(np.concatenate([frame, bar], axis=0)))
  with files.atomic_path(path, suffix=".gif") as tmp:
    images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:], duration=frame_ms, loop=0)
  return num_frames


# --------------------------------------------------------------------------- run

def _resize(clip: np.ndarray, size, method: str) -> np.ndarray:
  return tf.image.resize(clip, size, method=method, antialias=(method == "area")).numpy()


def inpaint_clips(*, models: loading.Models, input_path: str, output_dir: str, mask_path: str = "",
                  mask_motion: str | None = None, sequence_prior_path: str = "", window: int | None = None,
                  overlap: int | None = None, batch_size: int = 16, seed: int = 0,
                  ground_truth: bool = True, latent_smoothing: int = 0) -> dict:
  """Inpaints every clip of input_path; writes frames, side_by_side.gif per clip and results.json.

  Args:
    models: G (+ P, + S) of a model directory (`loading.load_models`).
    input_path: a folder of clips, or one clip (frame folder or video file).
    output_dir: where <clip>/<frame>.png, <clip>/side_by_side.gif and results.json go.
    mask_path: folder of per-clip mask folders; '' to generate rectangles with mask_motion.
    mask_motion: "fixed" or "moving" rectangles (§6.4) when mask_path is ''.
    sequence_prior_path: exported sequence prior (M_{z+L}); '' = per-frame M_z with models' P.
    window, overlap: sliding windows (module docstring; None = defaults).
    batch_size: windows per compiled call.
    seed: seed of generated masks.
    ground_truth: the input frames are clean (holes only in the masks), so the GIF shows them as
      ground truth; False for frames that are already damaged.
  """
  video_inpainter = make_video_inpainter(models, sequence_prior_path=sequence_prior_path, window=window,
                                         overlap=overlap, latent_smoothing=latent_smoothing)
  resolution, channels = models.resolution, models.channels
  # Read and check everything before any output is written.
  clips, single = clip_inputs.read_clip_inputs(input_path, channels=channels)
  all_masks = []
  for index, clip in enumerate(clips):
    if mask_path:
      clip_masks = clip_inputs.load_clip_masks(mask_path, clip, single=single)
      name = f"--masks={mask_path} ({clip.name})"
    elif mask_motion:
      clip_masks = clip_inputs.generated_clip_masks(clip, motion=mask_motion, seed=seed, index=index)
      name = f"generated masks for {clip.path}"
    else:
      raise InputError("--masks: give a folder of per-clip mask folders, or --mask_kind=rectangle to "
                       "generate holes")
    clip_inputs.validate_clip_masks(clip_masks, name=name)
    all_masks.append(clip_masks)

  model_clips, model_masks = [], []
  for clip, clip_masks in zip(clips, all_masks):
    same = clip.frames.shape[1:3] == (resolution, resolution)
    model_clips.append(clip.frames if same else _resize(clip.frames, [resolution, resolution], "area"))
    model_masks.append(clip_masks if same else  # any hole -> hole
                       (_resize(clip_masks, [resolution, resolution], "area") > 0.0).astype(np.float32))
  total_windows = sum(video_inpainter.num_windows(len(c.frames)) for c in clips)
  bar = files.progress_bar(total=total_windows, initial=0, description=f"inpaint video ({video_inpainter.temporal})")
  start = time.perf_counter()
  results = video_inpainter.inpaint_sequences(model_clips, model_masks, batch_size=batch_size, progress=bar)
  bar.close()
  seconds = time.perf_counter() - start

  outputs = []
  for clip, clip_masks, result in zip(clips, all_masks, results):
    generated = result["generated"]
    if generated.shape[1:3] != clip.frames.shape[1:3]:
      generated = _resize(generated, list(clip.frames.shape[1:3]), "bicubic")
    inpainted = np.asarray(inpainting.compose(images=clip.frames, masks=clip_masks, generated_images=generated))
    inpainted_u8 = visualize.to_uint8(inpainted)
    # Eq. 8 keeps known pixels; also copy them from the input's bytes so no rounding can touch them.
    known = clip_masks[..., 0] < 0.5
    inpainted_u8[known] = visualize.to_uint8(clip.frames)[known]
    folder = os.path.join(output_dir, clip.name)
    for frame_name, frame in zip(clip.frame_names, inpainted_u8):
      visualize.save_png(os.path.join(folder, f"{frame_name}.png"), frame)
    panels = [np.where(clip_masks > 0.5, 1.0, clip.frames), inpainted]  # holes shown white
    if ground_truth:
      panels.append(clip.frames)
    gif_path = os.path.join(folder, GIF_FILENAME)
    write_side_by_side_gif(gif_path, panels)
    outputs.append({"clip": clip.name, "input": clip.path, "frames": len(clip.frames), "folder": folder,
                    "gif": gif_path, "hole_ratio": round(float(np.mean(clip_masks)), 4)})
  num_frames = sum(len(c.frames) for c in clips)
  summary = {"clips": len(clips), "frames": num_frames, "seconds": round(seconds, 4),
             "ms_per_frame": round(1000 * seconds / max(num_frames, 1), 3), "resolution": resolution,
             "z_from": "sequence prior" if sequence_prior_path else "prior predictor per frame",
             "sequence_prior": sequence_prior_path, "temporal": video_inpainter.temporal,
             "window": video_inpainter.window, "overlap": video_inpainter.overlap,
             "merge_policy": video_inpainter.policy,
             "masks": mask_path or f"rectangle ({mask_motion}), seed {seed}",
             "gif_panels": "input (holes white) | output" + (" | ground truth" if ground_truth else ""),
             **models.record(), "outputs": outputs}
  files.write_json(os.path.join(output_dir, "results.json"), summary)
  return summary
