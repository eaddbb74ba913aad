"""Structural priors of M_{z+S} (§4.2): the one table of kinds and what every caller asks of it.

A kind is one module implementing `protocol.StructuralPrior` and one `protocol.StructuralKind`
entry (`silhouette.KIND`, `landmarks.KIND`); adding a kind is adding its module to KINDS.
"none" (M_z) is not a kind: it is the absence of S.
"""

from __future__ import annotations

from typing import Callable

from pgi_tf import hub
from pgi_tf.errors import InputError
from pgi_tf.structural import landmarks
from pgi_tf.structural import silhouette
from pgi_tf.structural.protocol import StructuralKind, StructuralPrior

KINDS: dict[str, StructuralKind] = {kind.name: kind for kind in (silhouette.KIND, landmarks.KIND)}
NAMES = ("none", *KINDS)  # every value of config.structural_prior / --structural_prior


def check_kind(name: str, *, flag: str) -> str:
  """`name` if it is "none" or a kind; else a one-line InputError naming `flag`."""
  if name not in NAMES:
    raise InputError(f"{flag}={name}: choose one of {', '.join(NAMES)}")
  return name


def get_kind(name: str, *, flag: str = "--structural_prior") -> StructuralKind:
  """The table entry of a kind (not "none")."""
  check_kind(name, flag=flag)
  if name == "none":
    raise InputError(f"{flag}=none: M_z has no structural prior")
  return KINDS[name]


def condition_dim(name: str, *, num_rays: int = silhouette.DEFAULT_NUM_RAYS) -> int:
  """c, the size of S for a kind; 0 for "none"."""
  return 0 if name == "none" else get_kind(name).condition_dim(num_rays)


def real_condition_fn(name: str, model_config) -> Callable | None:
  """images -> S [N, c] of real images, how G(z, S) and D(x, S) see S in stage 1; None for "none"."""
  return None if name == "none" else get_kind(name, flag="--config.model.structural_prior").real_condition_fn(
      model_config)


def load_structural_prior(name: str, *, refiner_path: str, num_rays: int = silhouette.DEFAULT_NUM_RAYS,
                          flag: str = "--keypoint_refiner", keep_visible: bool | None = None,
                          upsample: int = 1) -> StructuralPrior | None:
  """The structural prior of a kind, with its frozen refiner f loaded from `refiner_path`.

  silhouette: keep_visible default True (its detections are exact); landmarks: default False
  (the paper uses f's output everywhere), `upsample` for dlib's detector. None for "none".
  """
  if name == "none":
    return None
  kind = get_kind(name)
  if not refiner_path:
    raise InputError(f"{flag}: the {name} prior needs a trained keypoint refiner ({kind.refiner_hint})")
  refiner = hub.load_keypoint_refiner(refiner_path, flag=flag)
  if kind.refiner_keypoints is not None and refiner.num_keypoints != kind.refiner_keypoints:
    raise InputError(f"{flag}={refiner_path}: refines {refiner.num_keypoints} keypoints; the {kind.description} "
                     f"needs a {kind.refiner_keypoints}-point {kind.refiner_name} ({kind.refiner_hint})")
  return kind.build(refiner, num_rays=num_rays, keep_visible=keep_visible, upsample=upsample)


__all__ = ["KINDS", "NAMES", "StructuralKind", "StructuralPrior", "check_kind", "condition_dim", "get_kind",
           "load_structural_prior", "real_condition_fn"]
