"""Per-image reconstruction metrics for the evaluation tables: PSNR, SSIM and L1.

Inputs follow the project convention: float NHWC images in [-1, 1] (a single HWC image is
accepted too and treated as a batch of one). Every metric first maps both images to [0, 1]
with x01 = clip((x + 1) / 2, 0, 1) -- generated images can overshoot [-1, 1] slightly, and an
image saved to disk would be clipped the same way -- and then works with data range 1:

  psnr  10 log10(1 / MSE) in dB, MSE the mean over H, W, C of (x01 - y01)^2.
        Identical images have MSE = 0 and an infinite PSNR; it is capped at PSNR_CAP_DB
        (100 dB, i.e. MSE = 1e-10, far below one 8-bit grey level: (1/255)^2 ~ 1.5e-5) so
        that table means stay finite. A capped value means "identical up to float rounding".
  ssim  Wang et al. (2004) SSIM, `tf.image.ssim` with a Gaussian window, K1 = 0.01,
        K2 = 0.03, data range 1, averaged over the valid ("VALID" convolution) positions and
        over channels. The standard window is 11x11 with sigma 1.5; the window only sees
        positions where it fits inside the image, so at small sizes it would drop most of the
        border. `ssim_filter_size` therefore shrinks it with the image:
          min side >= 64 px: 11x11 (standard)   32-63 px: 7x7   16-31 px: 5x5   < 16 px: 3x3
        and sigma scales with it (sigma = 1.5 * size / 11), which keeps skimage's
        `structural_similarity(gaussian_weights=True, sigma=sigma, use_sample_covariance=False,
        data_range=1, channel_axis=-1)` identical: its window radius is int(3.5 * sigma + 0.5).
        Report `ssim_settings(...)` next to SSIM numbers.
  l1    mean absolute error over H, W, C in [0, 1] units (= half the error in [-1, 1] units).

All three return float64 numpy arrays of shape [N], one value per image; the caller averages.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

PSNR_CAP_DB = 100.0          # identical images: PSNR is infinite; report this instead
SSIM_STANDARD_FILTER_SIZE = 11  # Wang et al. 2004
SSIM_STANDARD_SIGMA = 1.5
SSIM_K1 = 0.01
SSIM_K2 = 0.03


def _to_unit_range(images, name: str) -> np.ndarray:
  """[-1, 1] float images -> float64 [N, H, W, C] in [0, 1] (clipped)."""
  array = np.asarray(images, dtype=np.float64)
  if array.ndim == 3:
    array = array[None]
  if array.ndim != 4:
    raise ValueError(f"{name}: expected NHWC (or HWC) images, got shape {array.shape}")
  return np.clip((array + 1.0) / 2.0, 0.0, 1.0)


def _pair(images, references) -> tuple[np.ndarray, np.ndarray]:
  images01 = _to_unit_range(images, "images")
  references01 = _to_unit_range(references, "references")
  if images01.shape != references01.shape:
    raise ValueError(f"images {images01.shape} and references {references01.shape} differ in shape")
  return images01, references01


def psnr(*, images, references) -> np.ndarray:
  """Peak signal-to-noise ratio per image, in dB, data range 1 (module docstring).

  Args:
    images: float [N, H, W, C] (or [H, W, C]) in [-1, 1].
    references: same shape, the ground truth.

  Returns:
    float64 [N]; identical images give PSNR_CAP_DB instead of infinity.
  """
  images01, references01 = _pair(images, references)
  mse = np.mean((images01 - references01) ** 2, axis=(1, 2, 3))
  with np.errstate(divide="ignore"):
    values = 10.0 * np.log10(1.0 / mse)
  return np.minimum(values, PSNR_CAP_DB)


def ssim_filter_size(height: int, width: int) -> int:
  """The SSIM window side used for images of this size (rule in the module docstring)."""
  side = min(int(height), int(width))
  if side >= 64:
    return SSIM_STANDARD_FILTER_SIZE
  if side >= 32:
    return 7
  if side >= 16:
    return 5
  if side >= 3:
    return 3
  raise ValueError(f"images of {height}x{width} px are too small for SSIM (need >= 3 px)")


def ssim_settings(height: int, width: int) -> dict:
  """The SSIM parameters used at this image size, for labelling evaluation tables."""
  filter_size = ssim_filter_size(height, width)
  return {"filter_size": filter_size,
          "filter_sigma": SSIM_STANDARD_SIGMA * filter_size / SSIM_STANDARD_FILTER_SIZE,
          "k1": SSIM_K1, "k2": SSIM_K2, "data_range": 1.0, "window": "gaussian"}


def ssim(*, images, references, filter_size: int | None = None) -> np.ndarray:
  """Structural similarity per image (Wang et al. 2004) with `tf.image.ssim`, data range 1.

  Args:
    images: float [N, H, W, C] (or [H, W, C]) in [-1, 1].
    references: same shape, the ground truth.
    filter_size: Gaussian window side (odd); None -> `ssim_filter_size(H, W)`. Sigma is
      1.5 * filter_size / 11 either way.

  Returns:
    float64 [N], the mean SSIM over valid window positions and channels.
  """
  images01, references01 = _pair(images, references)
  height, width = images01.shape[1:3]
  if filter_size is None:
    filter_size = ssim_filter_size(height, width)
  if filter_size < 1 or filter_size % 2 == 0 or filter_size > min(height, width):
    raise ValueError(f"filter_size={filter_size}: must be odd and at most the image side "
                     f"({height}x{width})")
  sigma = SSIM_STANDARD_SIGMA * filter_size / SSIM_STANDARD_FILTER_SIZE
  values = tf.image.ssim(tf.constant(images01, tf.float32), tf.constant(references01, tf.float32),
                         max_val=1.0, filter_size=filter_size, filter_sigma=sigma,
                         k1=SSIM_K1, k2=SSIM_K2)
  return values.numpy().astype(np.float64)


def l1(*, images, references) -> np.ndarray:
  """Mean absolute error per image in [0, 1] units.

  Args:
    images: float [N, H, W, C] (or [H, W, C]) in [-1, 1].
    references: same shape, the ground truth.

  Returns:
    float64 [N].
  """
  images01, references01 = _pair(images, references)
  return np.mean(np.abs(images01 - references01), axis=(1, 2, 3))
