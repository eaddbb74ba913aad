"""What a structural prior S of M_{z+S} (§4.2) is, for every kind: one protocol, one table entry.

    masked image -> detect (K, d) -> refine K_f = f(K, d) (Eq. 9) -> S = flatten(K_f)

S conditions P (P(I_d, M, S) -> z) and the conditioned generator and discriminator (G(z, S),
D(x, S)). A kind is one module that defines a prior class (the `StructuralPrior` protocol
below) and one `StructuralKind` entry; `pgi_tf.structural.KINDS` lists the entries.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Mapping, Protocol

import tensorflow as tf


class StructuralPrior(Protocol):
  """(masked images, masks) -> S [N, c], with the refiner f inside."""

  kind: str

  def keypoints(self, masked_images, masks) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """(detected K [N, k, 2], switches d [N, k], refined K_f [N, k, 2])."""

  def __call__(self, masked_images, masks) -> tf.Tensor:
    """S [N, c] = flatten(K_f)."""

  def graph_input_specs(self) -> list[tf.TensorSpec]:
    """Inputs an exported inpainter needs besides images and masks (detections that cannot run
    inside a graph); [] when S is computed in the graph from the masked image alone."""

  def condition_in_graph(self, masked_images, masks, *graph_inputs) -> tf.Tensor:
    """S from the masked image and the `graph_input_specs` inputs, with TF ops only."""


@dataclasses.dataclass(frozen=True)
class StructuralKind:
  """One structural prior kind.

  name: the value of config.structural_prior / --structural_prior and of G's and P's metadata.
  condition_dim: (number of rays / keypoints setting, as in the GAN config) -> c, the size of S.
  build: (frozen refiner f, num_rays=, keep_visible=, upsample=) -> a `StructuralPrior`.
  real_condition_fn: (GAN config.model) -> images -> S [N, c]: how G and D see S in stage 1
    (the full prior of each real, unmasked image).
  xla_compatible: S can be computed under XLA (jit_compile).
  refiner_keypoints: how many keypoints the kind's refiner must refine (None: any).
  refiner_hint: where a user gets a refiner, for error messages.
  description, refiner_name: how error messages name the prior and its refiner.
  bundled_model_dir: the bundled M_{z+S} model of this kind ("" when none ships).
  check_gan_config: (GAN config) -> None; raises InputError for settings the kind cannot train.
  gan_metadata: (GAN config.model) -> what the exported G and D record about S.
  image_coordinates: S is in image coordinates (keypoints can be drawn on a sample and measured
    back from it: Fig. 6's overlay and the prior-following measure).
  """
  name: str
  condition_dim: Callable[[int], int]
  build: Callable[..., StructuralPrior]
  real_condition_fn: Callable[[Mapping[str, Any]], Callable[[tf.Tensor], tf.Tensor]]
  xla_compatible: bool
  refiner_keypoints: int | None
  refiner_hint: str
  description: str = ""
  refiner_name: str = "refiner"
  bundled_model_dir: str = ""
  check_gan_config: Callable[[Any], None] = lambda config: None
  gan_metadata: Callable[[Any], dict] = lambda model_config: {}
  image_coordinates: bool = False
