"""Yeh et al.'s iterative search loss (Eq. 2, §3.2): the baseline P is compared with."""

from __future__ import annotations


import tensorflow as tf

from pgi_tf.errors import InputError
from pgi_tf.losses._common import _as_float32, _check_mask_shape, _per_example_logits

# --------------------------------------------------------------------------------------------
# Yeh et al. (2017): the iterative-inference baseline of Eq. 2 (§3.2)
# --------------------------------------------------------------------------------------------


def yeh_importance_weights(masks, *, window: int = 7) -> tf.Tensor:
  """Yeh et al.'s importance weights for the contextual loss of their iterative inference.

    W_i = (number of hole pixels in the window x window neighbourhood N(i)) / |N(i)|
          for a known pixel i, and 0 on the hole,

  with |N(i)| = window ** 2 everywhere: outside the image counts as zero padding (not hole),
  so border pixels are not reweighted. This is the fraction of the neighbourhood that is hole
  (Yeh et al. write it with M = 1 on KNOWN pixels as sum_{j in N(i)} (1 - M_j) / |N(i)|).
  A mask with no hole gives W = 0 everywhere (their definition; the context term vanishes).

  Args:
    masks: [N, H, W, 1] (or [H, W, 1]), 1 on the hole; values > 0.5 count as hole.
    window: odd neighbourhood side (7 in Yeh et al.'s code).

  Returns:
    float32 weights in [0, 1) with the shape of `masks`. No gradient flows to `masks`.

  Raises:
    InputError: `window` is not a positive odd integer, or `masks` has the wrong shape.
  """
  if not isinstance(window, int) or window < 1 or window % 2 == 0:
    raise InputError(f"yeh_importance_weights(window={window!r}): window must be a positive odd "
                     "integer")
  masks = tf.stop_gradient(_as_float32(masks))
  _check_mask_shape(masks, caller="yeh_importance_weights")
  unbatched = masks.shape.rank == 3
  if unbatched:
    masks = masks[tf.newaxis]
  hole = tf.cast(masks > 0.5, tf.float32)
  # Conv with a ones kernel and "SAME" zero padding counts hole pixels in each window.
  # (avg_pool would divide by the number of in-image pixels, not by window ** 2.)
  kernel = tf.ones([window, window, 1, 1], tf.float32)
  hole_counts = tf.nn.conv2d(hole, kernel, strides=1, padding="SAME")
  weights = (1.0 - hole) * hole_counts / float(window * window)
  return weights[0] if unbatched else weights


def yeh_contextual_loss(*, masked_images, generated_images, weights) -> tf.Tensor:
  """Yeh et al.'s weighted contextual loss, the L of Eq. 2, per example [N].

    L_c(z) = || W (.) (G(z) - I_d) ||_1 = sum_{h, w, c} W(h, w) * |G(z)(h, w, c) - I_d(h, w, c)|

  An un-normalised SUM, as Yeh et al. define it (their code: reduce_sum of the weighted absolute
  difference): their prior weight lambda = 0.003 is calibrated against this scale, so dividing
  by H * W * C here would change the balance with `yeh_perceptual_loss`.

  Args:
    masked_images: I_d (or I: W = 0 on the hole), [N, H, W, C].
    generated_images: G(z), [N, H, W, C].
    weights: from `yeh_importance_weights`, [N, H, W, 1].

  Returns:
    float32 [N].
  """
  difference = tf.abs(_as_float32(generated_images) - _as_float32(masked_images))
  weighted = _as_float32(weights) * difference
  return tf.reduce_sum(tf.reshape(weighted, [tf.shape(weighted)[0], -1]), axis=1)


def yeh_perceptual_loss(*, fake_logits) -> tf.Tensor:
  """Yeh et al.'s perceptual (prior) loss, per example [N].

    L_p(z) = log(1 - D(G(z))) = -softplus(logit)

  used as L_c + lambda * L_p with lambda = 0.003 (Yeh et al., 2017). Same formula as Eq. 5.

  Args:
    fake_logits: D's raw outputs on G(z), [N] or [N, 1].

  Returns:
    float32 [N].
  """
  return -tf.nn.softplus(_per_example_logits(fake_logits))
