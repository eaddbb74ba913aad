"""Metrics for inpainted clips (§6.4, Table 3): per-frame PSNR, flicker, video Frechet distance.

Clips follow the project convention: float [N, T, H, W, C] in [-1, 1]; masks float
[N, T, H, W, 1] with M = 1 on the hole.

per_frame_psnr  `image_quality.psnr` on every frame: float64 [N, T] in dB (same [0, 1] mapping
                and 100 dB cap).
flicker         an offline temporal-consistency measure: how much the output's frame-to-frame
                change differs from the ground truth's, inside the hole. With x01 = clip((x +
                1) / 2, 0, 1) (the mapping of image_quality, so values are in [0, 1] units),
                O the output, G the ground truth and, for t = 1 .. T-1, the pair hole
                U_t = (M_t > 0.5) OR (M_{t+1} > 0.5):

                  flicker = sum_{t, p in U_t, c} |(O_{t+1} - O_t) - (G_{t+1} - G_t)|(p, c)
                            / (C * sum_t |U_t|)

                i.e. the mean over every (pair, hole pixel, channel). The union is used because
                a pixel that is hole in either frame of a pair was produced by the model in at
                least one of them, so a jump there is the model's. It is 0 for a perfect
                reconstruction and for any output that differs from the truth by a constant
                per pixel over time (a static bias does not flicker); per-frame models that
                draw a different plausible fill each frame score high. A clip with no hole in
                any pair gives NaN (nothing was inpainted); use np.nanmean for tables.
video FD        the Frechet distance (`frechet.frechet_distance_from_features`) between
                Gaussians fitted to clip features of a video network: "video-FID" of [41]
                with I3D [8] features as in Table 3. Extractors (`load_video_extractor(spec)`,
                flag --video_fd_extractor):

  "i3d"                      I3D trained on Kinetics-400 from TF-Hub
                             https://tfhub.dev/deepmind/i3d-kinetics-400/1 (TF1 Hub format,
                             signature "default": videos [N, T, 224, 224, 3] RGB in [0, 1] ->
                             "default": the 400 class logits, used as features as in FVD).
                             Needs network, or the module downloaded elsewhere and passed as:
  "i3d:<handle or dir>"      the same with another handle or a local copy.
  "savedmodel:<dir>"         any SavedModel with a one-input signature "default" on
                             [N, T, H, W, C] videos; its pgi_tf_extractor.json (written by
                             `export_tiny_video_extractor`) gives the value range and output
                             key, else [-1, 1] and "features".

  Preprocessing: clips are clipped to [-1, 1], every frame resized bilinearly (tf.image.resize)
  to the network's input size (224 for I3D unless the signature declares another), grey
  repeated to RGB, then mapped to the network's value range. The range of the TF-Hub I3D
  module is documented as [0, 1] on its model page and in the TF-Hub action recognition
  tutorial; FVD's reference code (google-research/frechet_video_distance) feeds [-1, 1]
  instead (google-research/google-research#1974 asks which is right). [0, 1] is used here
  (`I3D_VALUE_RANGE`), the same for real and inpainted clips; pass `value_range` to
  `I3DExtractor` to match FVD. Numbers from different extractors or preprocessing are not
  comparable, so every result is a `FrechetResult` labelled with the extractor's name.
  I3D's temporal pooling wants clips of several frames (FVD uses 16).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import keras
import numpy as np
import tensorflow as tf

from pgi_tf import hub
from pgi_tf.errors import InputError
from pgi_tf.metrics import extractors
from pgi_tf.metrics import frechet
from pgi_tf.metrics import image_quality

I3D_HANDLE = "https://tfhub.dev/deepmind/i3d-kinetics-400/1"
I3D_IMAGE_SIZE = 224
I3D_VALUE_RANGE = (0.0, 1.0)   # TF-Hub model page; FVD's code uses (-1, 1), see docstring
I3D_OUTPUT_KEY = "default"     # the 400 Kinetics logits
FEATURES_KEY = "features"
EXTRACTOR_METADATA_FILENAME = "pgi_tf_extractor.json"
DEFAULT_FLAG = "--video_fd_extractor"


# --------------------------------------------------------------------------- per-frame PSNR

def _clips(array, name: str) -> np.ndarray:
  array = np.asarray(array, dtype=np.float64)
  if array.ndim != 5:
    raise ValueError(f"{name}: expected clips [N, T, H, W, C], got shape {array.shape}")
  return array


def per_frame_psnr(outputs, references) -> np.ndarray:
  """PSNR of every frame (image_quality.psnr: [0, 1] range, 100 dB cap), float64 [N, T].

  Args:
    outputs: inpainted clips [N, T, H, W, C] in [-1, 1].
    references: ground-truth clips, same shape.
  """
  outputs = _clips(outputs, "outputs")
  references = _clips(references, "references")
  if outputs.shape != references.shape:
    raise ValueError(f"outputs {outputs.shape} and references {references.shape} differ in shape")
  num_clips, num_frames = outputs.shape[:2]
  values = image_quality.psnr(images=outputs.reshape(-1, *outputs.shape[2:]),
                              references=references.reshape(-1, *references.shape[2:]))
  return values.reshape(num_clips, num_frames)


# --------------------------------------------------------------------------- flicker

def flicker(outputs, references, masks) -> np.ndarray:
  """Temporal flicker inside the hole, float64 [N] (module docstring for the exact rule).

  Mean over pairs t, t+1 and pixels where M_t or M_{t+1} is hole of
  |(O_{t+1} - O_t) - (G_{t+1} - G_t)|, in [0, 1] image units.

  Args:
    outputs: inpainted clips [N, T, H, W, C] in [-1, 1], T >= 2.
    references: ground-truth clips G, same shape.
    masks: [N, T, H, W, 1] (or [N, T, H, W]), M = 1 on the hole.

  Returns:
    One value per clip; NaN for a clip whose masks have no hole pixel.
  """
  outputs = np.clip((_clips(outputs, "outputs") + 1.0) / 2.0, 0.0, 1.0)
  references = np.clip((_clips(references, "references") + 1.0) / 2.0, 0.0, 1.0)
  masks = np.asarray(masks, dtype=np.float64)
  if masks.ndim == 4:
    masks = masks[..., None]
  if outputs.shape != references.shape:
    raise ValueError(f"outputs {outputs.shape} and references {references.shape} differ in shape")
  if masks.shape != outputs.shape[:4] + (1,):
    raise ValueError(f"masks: expected shape {outputs.shape[:4] + (1,)}, got {masks.shape}")
  if outputs.shape[1] < 2:
    raise ValueError(f"outputs: flicker needs at least 2 frames, got {outputs.shape[1]}")
  hole = masks > 0.5
  pair_hole = np.logical_or(hole[:, :-1], hole[:, 1:])               # U_t: [N, T-1, H, W, 1]
  difference = np.abs(np.diff(outputs, axis=1) - np.diff(references, axis=1))
  channels = outputs.shape[-1]
  total = np.sum(difference * pair_hole, axis=(1, 2, 3, 4))
  count = channels * np.sum(pair_hole, axis=(1, 2, 3, 4))
  with np.errstate(invalid="ignore", divide="ignore"):
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


# --------------------------------------------------------------------------- video extractors

@runtime_checkable
class VideoFeatureExtractor(Protocol):
  """clips float32 [N, T, H, W, C] in [-1, 1] -> features float32 [N, D]; `name` labels results."""
  name: str

  def __call__(self, clips) -> np.ndarray:
    ...


def _fit_clips(clips, *, height: int | None, width: int | None, channels: int | None,
               value_range: tuple[float, float]) -> tf.Tensor:
  """[-1, 1] clips -> float32 at the network's frame size, channel count and value range."""
  clips = tf.clip_by_value(tf.cast(tf.convert_to_tensor(clips), tf.float32), -1.0, 1.0)
  if clips.shape.rank != 5 or clips.shape[-1] not in (1, 3):
    raise ValueError(f"clips: expected [N, T, H, W, 1 or 3], got shape {clips.shape}")
  num_clips, num_frames = tf.shape(clips)[0], tf.shape(clips)[1]
  frames = tf.reshape(clips, [-1, *clips.shape[2:]])
  if height is not None and width is not None and tuple(frames.shape[1:3]) != (height, width):
    frames = tf.image.resize(frames, [height, width], method="bilinear")
  if channels == 3 and frames.shape[-1] == 1:
    frames = tf.image.grayscale_to_rgb(frames)
  elif channels == 1 and frames.shape[-1] == 3:
    frames = tf.image.rgb_to_grayscale(frames)
  low, high = value_range
  frames = low + (frames + 1.0) * (0.5 * (high - low))
  return tf.reshape(frames, tf.concat([[num_clips, num_frames], tf.shape(frames)[1:]], 0))


class _VideoSignatureCaller:
  """Calls one signature of a loaded module by keyword, returning one output as [N, D]."""

  def __init__(self, module, *, location: str, signature: str, output_key: str, flag: str,
               spec: str):
    if signature not in module.signatures:
      raise InputError(f"{flag}={spec}: module has no signature {signature!r} "
                       f"(found: {', '.join(sorted(module.signatures)) or 'none'})")
    self.function = module.signatures[signature]
    _, input_specs = self.function.structured_input_signature
    if len(input_specs) != 1:
      raise InputError(f"{flag}={spec}: signature {signature!r} must take one video input, "
                       f"it takes {sorted(input_specs)}")
    (self.input_name, input_spec), = input_specs.items()
    shape = input_spec.shape
    if shape.rank is not None and shape.rank != 5:
      raise InputError(f"{flag}={spec}: signature {signature!r} input {self.input_name!r} has "
                       f"shape {shape}, expected [N, T, H, W, C] videos")
    self.height, self.width, self.channels = ((shape[2], shape[3], shape[4])
                                              if shape.rank == 5 else (None, None, None))
    outputs = self.function.structured_outputs
    if output_key not in outputs:
      raise InputError(f"{flag}={spec}: signature {signature!r} has no output {output_key!r} "
                       f"(found: {', '.join(sorted(outputs))})")
    self.output_key = output_key
    self.location = location
    self.module = module  # keeps the loaded variables alive

  def __call__(self, clips, *, height, width, channels, value_range) -> np.ndarray:
    clips = _fit_clips(clips, height=height, width=width, channels=channels,
                       value_range=value_range)
    outputs = self.function(**{self.input_name: clips})
    features = tf.cast(outputs[self.output_key], tf.float32)
    return tf.reshape(features, [tf.shape(features)[0], -1]).numpy()


class I3DExtractor:
  """I3D (Kinetics-400) logits from a TF-Hub handle or a local copy: the video-FID network.

  Loads lazily (the first call), so building the extractor never needs the network. Frames
  are resized to the signature's declared size, or 224 when it declares none.

  Args:
    handle: TF-Hub handle (URL) or local module directory.
    signature: signature to call ("default").
    output_key: output holding the features ("default", the logits).
    value_range: the range the network expects (module docstring).
    flag: flag named in error messages.
  """

  def __init__(self, handle: str = I3D_HANDLE, *, signature: str = "default",
               output_key: str = I3D_OUTPUT_KEY,
               value_range: tuple[float, float] = I3D_VALUE_RANGE, flag: str = DEFAULT_FLAG):
    self.handle = handle
    self.signature = signature
    self.output_key = output_key
    self.value_range = tuple(value_range)
    self.flag = flag
    self.name = f"i3d_{'logits' if output_key == I3D_OUTPUT_KEY else output_key}:{handle}"
    self._caller: _VideoSignatureCaller | None = None

  def load(self) -> None:
    """Loads the module now (otherwise done by the first call)."""
    if self._caller is not None:
      return
    module = extractors.load_module_or_explain(self.handle, flag=self.flag, scheme="i3d")
    self._caller = _VideoSignatureCaller(module, location=self.handle, signature=self.signature,
                                         output_key=self.output_key, flag=self.flag,
                                         spec=f"i3d:{self.handle}")

  def __call__(self, clips) -> np.ndarray:
    self.load()
    caller = self._caller
    return caller(clips, height=caller.height or I3D_IMAGE_SIZE,
                  width=caller.width or I3D_IMAGE_SIZE, channels=3, value_range=self.value_range)


class SavedModelVideoExtractor:
  """Features from a local SavedModel on videos (e.g. `export_tiny_video_extractor`'s).

  Value range and output key come from the directory's pgi_tf_extractor.json when present,
  else [-1, 1] and "features". Frames are resized to the signature's declared size.
  """

  def __init__(self, path: str, *, signature: str = "default", flag: str = DEFAULT_FLAG):
    self.path = path
    self.name = f"savedmodel:{path}"
    self.metadata = hub.read_metadata(path, filename=EXTRACTOR_METADATA_FILENAME) or {}
    self.value_range = tuple(self.metadata.get("value_range", (-1.0, 1.0)))
    module = hub.load_module(path, flag=flag)
    self._caller = _VideoSignatureCaller(module, location=path, signature=signature,
                                         output_key=self.metadata.get("output_key", FEATURES_KEY),
                                         flag=flag, spec=f"savedmodel:{path}")

  def __call__(self, clips) -> np.ndarray:
    caller = self._caller
    return caller(clips, height=caller.height, width=caller.width, channels=caller.channels,
                  value_range=self.value_range)


def load_video_extractor(spec: str, *, flag: str = DEFAULT_FLAG) -> VideoFeatureExtractor:
  """The extractor named by `spec`: "i3d", "i3d:<handle or dir>" or "savedmodel:<dir>".

  Raises:
    InputError: unknown spec or a local path that does not exist. A remote handle is loaded
      at the first call; offline, that call raises a one-line InputError telling the user to
      download the module and pass its local path.
  """
  kind, location = extractors.parse_extractor_spec(spec, hub_scheme="i3d", default_handle=I3D_HANDLE,
                                                   flag=flag, what="video extractor")
  if kind == "hub":
    return I3DExtractor(location, flag=flag)
  return SavedModelVideoExtractor(location, flag=flag)


def compute_video_features(extractor: VideoFeatureExtractor, clips, *,
                           batch_size: int = 8) -> np.ndarray:
  """Runs `extractor` over clips [N, T, H, W, C] in batches; float32 features [N, D]."""
  if batch_size < 1:
    raise ValueError(f"batch_size={batch_size}: must be >= 1")
  clips = np.asarray(clips, dtype=np.float32)
  if clips.ndim != 5:
    raise ValueError(f"clips: expected [N, T, H, W, C], got shape {clips.shape}")
  if len(clips) == 0:
    raise ValueError("compute_video_features: no clips")
  return np.concatenate([np.asarray(extractor(clips[start:start + batch_size]), np.float32)
                         for start in range(0, len(clips), batch_size)], axis=0)


def video_frechet_distance(extractor: VideoFeatureExtractor, clips_a, clips_b, *,
                           batch_size: int = 8) -> frechet.FrechetResult:
  """Video Frechet distance ("video-FID" with I3D) between two clip sets, labelled.

  Args:
    extractor: a VideoFeatureExtractor (its `name` labels the result).
    clips_a: e.g. inpainted clips [N1, T, H, W, C] in [-1, 1].
    clips_b: e.g. ground-truth clips [N2, T, H, W, C]; each set needs >= 2 clips.
    batch_size: clips per extractor call.

  Returns:
    FrechetResult(value, extractor name, min(N1, N2)); `.value` is the float.
  """
  features_a = compute_video_features(extractor, clips_a, batch_size=batch_size)
  features_b = compute_video_features(extractor, clips_b, batch_size=batch_size)
  value = frechet.frechet_distance_from_features(features_a, features_b)
  return frechet.FrechetResult(value=value, extractor=extractor.name,
                               num_samples=int(min(len(features_a), len(features_b))))


# --------------------------------------------------------------------------- tiny extractor

def build_tiny_video_network(*, image_size: int = 32, channels: int = 3, feature_dim: int = 16,
                             width: int = 8, seed: int = 0) -> keras.Model:
  """A small 3D-conv network videos [N, T, S, S, C] in [0, 1] -> [N, feature_dim] (untrained).

  Stands in for I3D in tests: two strided Conv3D layers (3x3x3, ReLU), global average
  pooling over time and space, a linear layer. Random weights still give features that
  separate clip sets that differ in content or motion.
  """
  initializer = keras.initializers.GlorotUniform(seed=seed)
  inputs = keras.Input((None, image_size, image_size, channels), name="videos")
  x = keras.layers.Conv3D(width, 3, strides=(1, 2, 2), padding="same", activation="relu",
                          kernel_initializer=initializer, name="conv0")(inputs)
  x = keras.layers.Conv3D(2 * width, 3, strides=(1, 2, 2), padding="same", activation="relu",
                          kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 1),
                          name="conv1")(x)
  x = keras.layers.GlobalAveragePooling3D(name="pool")(x)
  features = keras.layers.Dense(feature_dim, kernel_initializer=keras.initializers.GlorotUniform(
      seed=seed + 2), name="logits")(x)
  return keras.Model(inputs, features, name="tiny_video_extractor")


class _TinyVideoModule(tf.Module):

  def __init__(self, network: keras.Model, image_size: int, channels: int):
    super().__init__(name="tiny_video_extractor")
    self.network = network

    # I3D's signature: one video input, 5-D, [0, 1]; output "default".
    @tf.function(input_signature=[tf.TensorSpec([None, None, image_size, image_size, channels],
                                                tf.float32, name="default")])
    def default(videos):
      return {I3D_OUTPUT_KEY: tf.cast(self.network(videos, training=False), tf.float32)}

    self.default = default


def export_tiny_video_extractor(path: str, *, image_size: int = 32, channels: int = 3,
                                feature_dim: int = 16, seed: int = 0) -> None:
  """Exports `build_tiny_video_network` with I3D's signature, for offline tests.

  Signature "default": videos float32 [N, T, image_size, image_size, channels] in [0, 1] ->
  {"default": [N, feature_dim]}, as the TF-Hub I3D module (at a small frame size). Loads with
  both `load_video_extractor("i3d:<path>")` (the real I3D code path) and
  `load_video_extractor("savedmodel:<path>")` (through the metadata file). Written atomically.
  """
  network = build_tiny_video_network(image_size=image_size, channels=channels,
                                     feature_dim=feature_dim, seed=seed)
  module = _TinyVideoModule(network, image_size, channels)
  metadata = {"kind": "video_feature_extractor", "stands_in_for": I3D_HANDLE,
              "input_shape": [None, image_size, image_size, channels],
              "value_range": list(I3D_VALUE_RANGE), "signature": "default",
              "output_key": I3D_OUTPUT_KEY, "feature_dim": feature_dim}
  hub.save_module(module, path, metadata, metadata_filename=EXTRACTOR_METADATA_FILENAME)
