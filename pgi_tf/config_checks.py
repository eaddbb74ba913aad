"""Range checks of config values, by key name: the one table every preset's numbers are held to.

Binaries run `check_config` on every --config before any work (binaries/_main.py), so that
`--config.train.num_steps=-1` or a negative learning rate in a config file is one line
`error: --config.train.num_steps=-1: must be > 0` and exit 2, not an untrained export or a
model that walks uphill. Keys come from the presets (configs/*_defaults.py lock them, so a
misspelt key never reaches here). A key not in the table is only checked to be finite.
"""

from __future__ import annotations

import math
from typing import Any, Callable

from pgi_tf.errors import InputError

_Rule = tuple[Callable[[float], bool], str]

_POSITIVE: _Rule = (lambda v: v > 0, "must be > 0")
_NON_NEGATIVE: _Rule = (lambda v: v >= 0, "must be >= 0")
_FRACTION: _Rule = (lambda v: 0 <= v <= 1, "must be in [0, 1]")
_OPEN_FRACTION: _Rule = (lambda v: 0 < v < 1, "must be in (0, 1)")
_HALF_OPEN_FRACTION: _Rule = (lambda v: 0 < v <= 1, "must be in (0, 1]")
_MOMENTUM: _Rule = (lambda v: 0 <= v < 1, "must be in [0, 1)")

# Leaf key name -> rule. Counts, sizes and cadences are > 0 (a 0 would divide by zero or train
# nothing); weights, seeds and optional sizes (0 = off) are >= 0; rates > 0; shares in [0, 1].
RULES: dict[str, _Rule] = {
    **{key: _POSITIVE for key in (
        "num_steps", "batch_size", "eval_batch_size", "checkpoint_every", "summary_every", "sample_every",
        "keep_checkpoints", "sample_grid_size", "sample_upscale", "sample_clips", "discriminator_steps",
        "window", "lstm_units", "num_clips", "num_held_out", "num_shapes", "num_rays", "num_keypoints",
        "num_candidates", "num_classes", "base_channels", "generator_base_channels",
        "discriminator_base_channels", "max_channels", "z_dim", "channels", "landmark_upsample",
        "learning_rate", "generator_learning_rate", "discriminator_learning_rate", "min_side", "max_side")},
    **{key: _NON_NEGATIVE for key in (
        "seed", "dense_units", "head_units", "size", "condition_dim", "input_size", "output_resolution",
        "resolution", "r1_gamma", "input_noise_std", "gradient_penalty_weight", "truncation", "samples_per_ray",
        "lambda_realism", "lambda_gradient", "lambda_latent", "lambda_adversarial", "landmark_margin",
        "point_noise_std", "eval_every")},
    **{key: _FRACTION for key in ("hole_drop_fraction", "lfw_dlib_fraction", "lr_final_fraction",
                                  "candidate_relaxation")},
    "keep_probability": _HALF_OPEN_FRACTION,
    "contextual_decay": _HALF_OPEN_FRACTION,
    "hole_ratio": _OPEN_FRACTION,
    "mixture_hole_ratios": _OPEN_FRACTION,
    "beta1": _MOMENTUM,
    "beta2": _MOMENTUM,
}
# data.resolution must be a real size; model.resolution 0 means "the data's".
_PATH_RULES: dict[str, _Rule] = {"data.resolution": _POSITIVE}


def _numbers(value: Any) -> list[float] | None:
  if isinstance(value, bool) or value is None:
    return None
  if isinstance(value, (int, float)):
    return [float(value)]
  if isinstance(value, (tuple, list)) and value and all(
      isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
    return [float(v) for v in value]
  return None


def _leaves(config, prefix: str = ""):
  for key, value in config.items():
    path = f"{prefix}{key}"
    if hasattr(value, "items"):
      yield from _leaves(value, path + ".")
    else:
      yield path, key, value


def check_config(config, *, flag: str = "--config") -> None:
  """Raises InputError naming the first value out of its range, as `--config.<path>=<value>`."""
  for path, key, value in _leaves(config):
    numbers = _numbers(value)
    if numbers is None:
      continue
    shown = f"{flag}.{path}={value}"
    if any(not math.isfinite(n) for n in numbers):
      raise InputError(f"{shown}: must be a finite number")
    rule = _PATH_RULES.get(path) or RULES.get(key)
    if rule is None:
      continue
    test, text = rule
    if not all(test(n) for n in numbers):
      raise InputError(f"{shown}: {text}")
