"""Tests of pgi_tf.metrics.temporal: per-frame PSNR, flicker and the video Frechet distance."""
import urllib.error

import numpy as np
import pytest

from pgi_tf.errors import InputError
from pgi_tf.metrics import frechet
from pgi_tf.metrics import temporal


# ------------------------------------------------------------------------- per-frame PSNR


def test_per_frame_psnr_by_hand():
  references = np.zeros((2, 3, 4, 4, 1), np.float32)
  outputs = references.copy()
  outputs[0, 0] += 0.2    # [0, 1] units: error 0.1 -> MSE 0.01 -> 20 dB
  outputs[1, 2] -= 0.02   # error 0.01 -> MSE 1e-4 -> 40 dB
  values = temporal.per_frame_psnr(outputs, references)
  assert values.shape == (2, 3)
  np.testing.assert_allclose(values, [[20.0, 100.0, 100.0], [100.0, 100.0, 40.0]], atol=1e-4)


# ------------------------------------------------------------------------- flicker


def test_flicker_by_hand():
  # One clip, T = 3 frames of 1 x 2 pixels, 1 channel. Values in [-1, 1]; in [0, 1] units
  # x01 = (x + 1) / 2.
  references = np.array([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0]])        # static truth (0.5)
  outputs = np.array([[0.0, 0.0], [0.4, 0.0], [0.0, 0.6]])
  masks = np.array([[1, 0], [0, 0], [0, 1]], np.float32)
  # Pair (0,1): hole = M0 or M1 = pixel 0 only. d_O = x01 change = (0.4 - 0)/2 = 0.2, d_G = 0
  #   -> |0.2| = 0.2 (pixel 1 changed by 0 and is not counted anyway).
  # Pair (1,2): hole = M1 or M2 = pixel 1 only. d_O at pixel 1 = 0.6 / 2 = 0.3 -> 0.3.
  #   (pixel 0 jumps back by 0.2 but is known in both frames: not counted)
  # flicker = (0.2 + 0.3) / 2 pixels = 0.25.
  value = temporal.flicker(outputs[None, :, None, :, None], references[None, :, None, :, None],
                           masks[None, :, None, :, None])
  assert value.shape == (1,)
  np.testing.assert_allclose(value, [0.25], atol=1e-12)


def test_flicker_properties():
  rng = np.random.default_rng(0)
  truth = rng.uniform(-0.8, 0.8, size=(3, 5, 8, 8, 3))
  masks = np.zeros((3, 5, 8, 8, 1), np.float32)
  masks[:, :, 2:6, 2:6] = 1.0
  masks[2] = 0.0  # clip 2 has no hole at all
  np.testing.assert_allclose(temporal.flicker(truth, truth, masks)[:2], 0.0)
  assert np.isnan(temporal.flicker(truth, truth, masks)[2])
  # A static bias (same offset every frame) does not flicker.
  biased = truth + 0.1 * rng.uniform(-1, 1, size=(3, 1, 8, 8, 3))
  np.testing.assert_allclose(temporal.flicker(biased, truth, masks)[:2], 0.0, atol=1e-12)
  # Alternating +-0.1 in the hole: |d_O - d_G| = 0.2 in [-1, 1] = 0.1 in [0, 1] units.
  flickering = truth + 0.1 * ((-1.0) ** np.arange(5))[None, :, None, None, None] * masks
  np.testing.assert_allclose(temporal.flicker(flickering, truth, masks)[:2], 0.1, atol=1e-9)
  # Differences outside the hole are ignored.
  noisy_outside = truth + (1 - masks) * rng.uniform(-0.1, 0.1, size=truth.shape)
  np.testing.assert_allclose(temporal.flicker(noisy_outside, truth, masks)[:2], 0.0, atol=1e-12)
  with pytest.raises(ValueError, match="at least 2 frames"):
    temporal.flicker(truth[:, :1], truth[:, :1], masks[:, :1])


# ------------------------------------------------------------------------- video FD


@pytest.fixture(scope="module")
def tiny_extractor_path(tmp_path_factory):
  path = str(tmp_path_factory.mktemp("video") / "tiny_i3d")
  temporal.export_tiny_video_extractor(path, image_size=16, feature_dim=8)
  return path


def _clips(seed, *, side, flickering):
  """12 clips of a square at a random place; `flickering`: it vanishes every other frame."""
  rng = np.random.default_rng(seed)
  clips = -np.ones((12, 6, 16, 16, 1), np.float32)
  for n in range(12):
    top, left = rng.integers(0, 17 - side, size=2)
    for t in range(0, 6, 2 if flickering else 1):
      clips[n, t, top:top + side, left:left + side] = 0.8
  return clips


def test_video_frechet_distance_with_tiny_extractor(tiny_extractor_path):
  extractor = temporal.load_video_extractor(f"i3d:{tiny_extractor_path}")
  assert extractor.name == f"i3d_logits:{tiny_extractor_path}"
  static = _clips(0, side=6, flickering=False)
  other = _clips(0, side=10, flickering=True)
  features = temporal.compute_video_features(extractor, static, batch_size=5)
  assert features.shape == (12, 8)
  same = temporal.video_frechet_distance(extractor, static, static)
  assert isinstance(same, frechet.FrechetResult)
  assert same.value < 1e-6 and same.num_samples == 12
  different = temporal.video_frechet_distance(extractor, static, other)
  resampled = temporal.video_frechet_distance(extractor, static,
                                              _clips(1, side=6, flickering=False))
  assert different.value > 0.0
  assert different.value > 10 * resampled.value  # content, not sampling noise
  assert different.extractor == extractor.name
  # The same module through "savedmodel:" (metadata gives range [0, 1], output "default").
  saved = temporal.load_video_extractor(f"savedmodel:{tiny_extractor_path}")
  np.testing.assert_allclose(saved(static[:3]), extractor(static[:3]), rtol=1e-5, atol=1e-6)
  # Frames of another size and RGB input are resized / converted to the signature's.
  assert extractor(np.zeros((2, 3, 24, 20, 3), np.float32)).shape == (2, 8)


def test_remote_i3d_handle_offline_gives_input_error(monkeypatch):
  import tensorflow_hub

  calls = []

  def offline_load(handle, *args, **kwargs):
    calls.append(handle)
    raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

  monkeypatch.setattr(tensorflow_hub, "load", offline_load)
  extractor = temporal.load_video_extractor("i3d")
  assert calls == []  # lazy: building the extractor needs no network
  with pytest.raises(InputError) as error:
    extractor(np.zeros((2, 4, 8, 8, 3), np.float32))
  message = str(error.value)
  assert calls == [temporal.I3D_HANDLE]
  assert "\n" not in message
  assert message.startswith(f"--video_fd_extractor=i3d:{temporal.I3D_HANDLE}")
  assert "URLError" in message and "pass the local path" in message


@pytest.mark.parametrize("spec,match", [
    ("c3d", "unknown video extractor"),
    ("i3d:/no/such/dir", "no such module directory"),
    ("savedmodel:", "give the SavedModel directory"),
    ("savedmodel:/no/such/dir", "no such SavedModel directory"),
])
def test_load_video_extractor_errors(spec, match):
  with pytest.raises(InputError, match=match):
    temporal.load_video_extractor(spec)
