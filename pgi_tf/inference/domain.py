"""Is an input far from the model's domain? A warning, not a refusal.

P and G are trained on one data set (e.g. 32 px grey garments); any other image is still filled,
with something from that data set. The signal used: how well G(P(I_d)) reproduces the *known*
pixels (root mean square error over the known pixels, in the model's [-1, 1] units, at the model's
resolution). In-domain images are reproduced closely outside the hole (Eq. 4 trains exactly
that); an image the model cannot represent is not. The threshold is a statistic of that error on
the model's validation split (`binaries/calibrate_domain.py` writes it to `domain_check.json`
next to P), never on the test split; `inpaint` warns for every input above it and records the
flagged files and their scores in results.json.
"""

from __future__ import annotations

import dataclasses
import json
import os

import numpy as np

from pgi_tf import files
from pgi_tf.errors import InputError

DOMAIN_CHECK_FILENAME = "domain_check.json"
# The warning threshold: this quantile of the validation errors times a margin. Chosen on the
# bundled M_z's val split (2,000 images: median 0.18, 99.9% 0.58, max 0.62) and six out-of-domain
# probes (scikit-image's camera, astronaut, coins; noise; a white square; a ramp: 0.74 to 1.54):
# 1.2 flags every probe and no val image.
QUANTILE = 0.999
MARGIN = 1.2


def known_pixel_error(images, masks, generated) -> np.ndarray:
  """[N] RMSE of G(ẑ) against the image over the known pixels (mask 0), [-1, 1] units."""
  images, masks, generated = (np.asarray(a, np.float64) for a in (images, masks, generated))
  known = 1.0 - masks
  squared = ((generated - images) ** 2 * known).reshape(len(images), -1).sum(axis=1)
  count = np.maximum(np.broadcast_to(known, images.shape).reshape(len(images), -1).sum(axis=1), 1.0)
  return np.sqrt(squared / count)


@dataclasses.dataclass(frozen=True)
class DomainCheck:
  threshold: float
  source: str  # what the threshold was computed on, e.g. "fashion_mnist val, 2000 images"

  def flag(self, scores) -> np.ndarray:
    return np.asarray(scores) > self.threshold

  def warning(self, score: float) -> str:
    """What `inpaint` and the demo page say of an input whose score is above the threshold."""
    return (f"far from the model's domain (known pixels reproduced with error {score:.3f}; "
            f"{self.threshold:.3f} at most on {self.source}): the fill is likely meaningless")

  def record(self) -> dict:
    return {"threshold": round(self.threshold, 6), "source": self.source, "signal": "known-pixel RMSE of G(P(I_d))"}


def calibrate(scores, *, source: str) -> dict:
  """The domain_check.json content from validation errors."""
  scores = np.asarray(scores, np.float64)
  if scores.size < 100:
    raise InputError(f"--num_images={scores.size}: calibrating a threshold needs at least 100 validation images")
  quantile = float(np.quantile(scores, QUANTILE))
  return {"threshold": quantile * MARGIN, "quantile": QUANTILE, "margin": MARGIN, "source": source,
          "num_images": int(scores.size), "median": float(np.median(scores)), "quantile_value": quantile,
          "max": float(scores.max()), "signal": "known-pixel RMSE of G(P(I_d)), [-1, 1] units, model resolution"}


def write(path: str, content: dict) -> None:
  files.write_json(path, content, sort_keys=True)


def load(prior_predictor_dir: str | None) -> DomainCheck | None:
  """The check that ships with a P (its domain_check.json), or None when it has none."""
  if not prior_predictor_dir:
    return None
  path = os.path.join(prior_predictor_dir, DOMAIN_CHECK_FILENAME)
  if not os.path.isfile(path):
    return None
  try:
    with open(path) as f:
      content = json.load(f)
    return DomainCheck(threshold=float(content["threshold"]), source=str(content.get("source", "")))
  except (OSError, ValueError, KeyError, TypeError) as e:
    raise InputError(f"{path}: unreadable domain check ({type(e).__name__}: {e})") from None


def validation_errors(models, *, source: str, data_dir: str | None, split: str, num_images: int,
                      batch_size: int = 250, hole_ratio: float = 0.25, seed: int = 0) -> np.ndarray:
  """known_pixel_error of one pass (Eq. 8's ẑ = P(I_d)) on the first num_images of a split, with
  seeded random holes of hole_ratio (the command line's default mask kind)."""
  from pgi_tf.data import datasets  # pylint: disable=import-outside-toplevel  (tf.data only when calibrating)
  from pgi_tf.data import masks as masks_lib  # pylint: disable=import-outside-toplevel
  from pgi_tf.inference import loading  # pylint: disable=import-outside-toplevel
  if split == "test":
    raise InputError("--split=test: the threshold is a choice, made on the validation split")
  dataset = datasets.make_image_dataset(source=source, data_dir=data_dir, split=split, resolution=models.resolution,
                                        channels=models.channels, batch_size=batch_size, shuffle=False, repeat=False,
                                        drop_remainder=False)
  inpainter = loading.make_inpainter(models)
  spec = masks_lib.MaskSpec(kind="ratio", hole_ratio=hole_ratio)
  rng = np.random.default_rng(seed)
  scores, seen = [], 0
  for batch in dataset:
    images = np.asarray(batch[0] if isinstance(batch, tuple) else batch)[:num_images - seen]
    holes = masks_lib.sample_masks(spec, count=len(images), height=models.resolution, width=models.resolution, rng=rng)
    generated = inpainter.inpaint(images, holes, mode="single")["generated"].numpy()
    scores.append(known_pixel_error(images, holes, generated))
    seen += len(images)
    if seen >= num_images:
      break
  return np.concatenate(scores)
