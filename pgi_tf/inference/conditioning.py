"""The one P -> G path under every conditioning, used by the Inpainter, the end-to-end export
and the stage-2 trainer (its loss and its sample grids).

  M_z                       z = P(I_d, M),     G(z)
  M_{z+S} (§4.2)            z = P(I_d, M, S),  G(z, S),  D(x, S)
  class-conditional (§6.3.3) z = P(I_d, M, y), G(z, y),  D(x)   (y one-hot; D never sees y:
                                                                critics and compare_gan's D
                                                                are unconditional)

`conditions` is S or y ([N, c]) or None for M_z.
"""

from __future__ import annotations

from typing import Callable

import tensorflow as tf


def predict_z(prior_predictor: Callable, masked_images, masks, conditions=None, *, training: bool = False):
  """z = P(I_d, M) or P(I_d, M, c)."""
  inputs = [masked_images, masks] if conditions is None else [masked_images, masks, conditions]
  return prior_predictor(inputs, training=training) if training else prior_predictor(inputs)


def generate(generator: Callable, z, conditions=None) -> tf.Tensor:
  """G(z) or G(z, c)."""
  return generator(z) if conditions is None else generator([z, conditions])


def discriminate(discriminator: Callable, images, conditions=None, *, class_conditional: bool = False):
  """D's logits: D(x, S) under a structural prior, D(x) otherwise (never the class)."""
  if conditions is None or class_conditional:
    return discriminator(images)
  return discriminator([images, conditions])


def fill(prior_predictor: Callable, generator: Callable, masked_images, masks, conditions=None, *,
         training: bool = False) -> tuple[tf.Tensor, tf.Tensor]:
  """(G(P(I_d, M[, c])[, c]), z): what Eq. 8 pastes into the hole."""
  z = predict_z(prior_predictor, masked_images, masks, conditions, training=training)
  return generate(generator, z, conditions), z


def class_conditions(labels, num_classes: int) -> tf.Tensor:
  """y: one-hot [N, num_classes] of int class indices."""
  return tf.one_hot(labels, num_classes)
