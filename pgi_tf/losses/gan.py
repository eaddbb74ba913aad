"""The GAN game of stage 1 (Eq. 1, §3.1) and the discriminators' gradient penalties."""

from __future__ import annotations

from typing import Callable

import tensorflow as tf

from pgi_tf.errors import InputError
from pgi_tf.losses._common import _as_float32, _per_example_logits

# --------------------------------------------------------------------------------------------
# Eq. 1: the GAN game (one family, one signature, selected by name as in compare_gan)
# --------------------------------------------------------------------------------------------

GAN_LOSSES = ("non_saturating", "hinge", "wgan_gp")


def _check_gan_kind(kind: str) -> None:
  if kind not in GAN_LOSSES:
    raise InputError(f"kind={kind!r}: unknown GAN loss, choose one of {', '.join(GAN_LOSSES)}")


def discriminator_loss(*, kind: str, real_logits, fake_logits) -> tf.Tensor:
  """Per-example discriminator loss [N] for the GAN game of Eq. 1, selected by `kind`.

  Eq. 1: min_G max_D E_x[log D(x)] + E_z[log(1 - D(G(z)))], with D(x) = sigmoid(logit).

    non_saturating: softplus(-real) + softplus(fake)  (= -log D(x) - log(1 - D(G(z))): Eq. 1)
    hinge:          relu(1 - real) + relu(1 + fake)   (Lim & Ye 2017; Miyato et al. 2018)
    wgan_gp:        fake - real                        (Gulrajani et al. 2017; + gradient_penalty)

  Args:
    kind: one of GAN_LOSSES.
    real_logits: D's raw outputs on real images, [N] or [N, 1] (extra axes are averaged).
    fake_logits: D's raw outputs on generated images, same shape.

  Returns:
    float32 [N].

  Raises:
    InputError: `kind` is not in GAN_LOSSES.
  """
  _check_gan_kind(kind)
  real = _per_example_logits(real_logits)
  fake = _per_example_logits(fake_logits)
  if kind == "non_saturating":
    return tf.nn.softplus(-real) + tf.nn.softplus(fake)
  if kind == "hinge":
    return tf.nn.relu(1.0 - real) + tf.nn.relu(1.0 + fake)
  return fake - real  # wgan_gp


def generator_loss(*, kind: str, fake_logits) -> tf.Tensor:
  """Per-example generator loss [N] for the GAN game of Eq. 1, selected by `kind`.

    non_saturating: softplus(-fake) = -log D(G(z))  (Goodfellow et al.'s trick: Eq. 1's
                    log(1 - D(G(z))) saturates early in training, -log D(G(z)) does not)
    hinge:          -fake
    wgan_gp:        -fake

  Args:
    kind: one of GAN_LOSSES.
    fake_logits: D's raw outputs on generated images, [N] or [N, 1].

  Returns:
    float32 [N].

  Raises:
    InputError: `kind` is not in GAN_LOSSES.
  """
  _check_gan_kind(kind)
  fake = _per_example_logits(fake_logits)
  if kind == "non_saturating":
    return tf.nn.softplus(-fake)
  return -fake  # hinge and wgan_gp


def gradient_penalty(*, discriminator_fn: Callable[[tf.Tensor], tf.Tensor], real_images,
                     fake_images, interpolation_weights) -> tf.Tensor:
  """WGAN-GP gradient penalty per example [N] (Gulrajani et al., 2017, Alg. 1).

    x_hat = w * real + (1 - w) * fake,  w ~ U[0, 1] per example
    GP    = (||grad_x D(x_hat)||_2 - 1)^2

  The gradient of sum_n D(x_hat_n) is taken once for the whole batch; this equals the
  per-example gradients only if D treats examples independently (no batch normalisation in D,
  which WGAN-GP forbids anyway). The norm is sqrt(sum g^2 + 1e-12): the epsilon keeps the
  second-order gradient finite when g = 0 and changes the penalty by < 1e-6.

  Args:
    discriminator_fn: maps images [N, H, W, C] to logits [N] or [N, 1].
    real_images: [N, H, W, C].
    fake_images: [N, H, W, C].
    interpolation_weights: w, [N, 1, 1, 1] in [0, 1] (drawn by the caller, so that the loss
      stays a pure function; U[0, 1] as in the paper, not N(0, 1) as in one Keras example).

  Returns:
    float32 [N]; multiply by lambda (10 in Gulrajani et al.) and add to the D loss.
  """
  real = _as_float32(real_images)
  fake = _as_float32(fake_images)
  weights = _as_float32(interpolation_weights)
  interpolated = weights * real + (1.0 - weights) * fake
  with tf.GradientTape() as tape:
    tape.watch(interpolated)
    logits_sum = tf.reduce_sum(_as_float32(discriminator_fn(interpolated)))
  gradients = tape.gradient(logits_sum, interpolated)
  gradients = tf.reshape(gradients, [tf.shape(gradients)[0], -1])
  norms = tf.sqrt(tf.reduce_sum(tf.square(gradients), axis=1) + 1e-12)
  return tf.square(norms - 1.0)


def r1_penalty(*, discriminator_fn: Callable[[tf.Tensor], tf.Tensor], real_images) -> tf.Tensor:
  """R1 gradient penalty per example [N] (Mescheder, Geiger & Nowozin 2018, Eq. 9).

    R1(x) = ||grad_x D(x)||_2^2 on real x;  the D loss adds (gamma / 2) * R1.

  The gradient of sum_n D(x_n) is taken once for the batch: equal to the per-example
  gradients because the critic has no batch normalisation (examples are independent).
  """
  real = tf.cast(real_images, tf.float32)
  with tf.GradientTape() as tape:
    tape.watch(real)
    logits_sum = tf.reduce_sum(tf.cast(discriminator_fn(real), tf.float32))
  gradients = tape.gradient(logits_sum, real)
  return tf.reduce_sum(tf.reshape(tf.square(gradients), [tf.shape(gradients)[0], -1]), axis=1)
