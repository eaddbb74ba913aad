"""Loss functions of the paper: the GAN game (Eq. 1), stage 2's prior losses (Eq. 3-7), Yeh et al.

Every function here is a pure tensor function: hyperparameters are keyword-only arguments, no
function reads a flag or a global, and everything is built from `tf.*` ops so it runs eagerly,
inside `tf.function` (including an unknown batch size), under `tf.distribute` and with XLA.

Losses return PER-EXAMPLE values of shape [N]. The caller reduces them: under a distribution
strategy, `tf.nn.compute_average_loss(per_example, global_batch_size=...)` divides by the global
batch size, which a plain `reduce_mean` inside a replica would get wrong.

Conventions (see the project notes): images are float32 NHWC in [-1, 1]; masks are float32
[N, H, W, 1] with M = 1 on the hole and 0 on known pixels; the masked image is I_d = (1 - M) * I.
Losses are computed in float32 whatever the input dtype (mixed-precision networks may hand us
float16 / bfloat16 logits or images).

Contents
  GAN game (Eq. 1, §3.1)    GAN_LOSSES, discriminator_loss, generator_loss, gradient_penalty
  Stage 2 (Eq. 3-7, §4.1)   contextual_weights (Eq. 3), contextual_loss (Eq. 4),
                            photo_realism_loss (Eq. 5), gradient_difference_loss (Eq. 6),
                            combined_prior_loss (Eq. 7), prior_losses (all of them at once)
  Yeh et al. (Eq. 2, §3.2)  yeh_importance_weights, yeh_contextual_loss, yeh_perceptual_loss
"""

from __future__ import annotations

from typing import Callable

import tensorflow as tf

from pgi_tf.errors import InputError

# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _as_float32(x) -> tf.Tensor:
  x = tf.convert_to_tensor(x)
  return x if x.dtype == tf.float32 else tf.cast(x, tf.float32)


def _per_example_logits(logits) -> tf.Tensor:
  """[N], [N, 1] or [N, ...] (e.g. a PatchGAN map) -> [N] float32, averaging any extra axes."""
  logits = _as_float32(logits)
  return tf.reduce_mean(tf.reshape(logits, [tf.shape(logits)[0], -1]), axis=1)


def _mean_over_non_batch_axes(x: tf.Tensor) -> tf.Tensor:
  return tf.reduce_mean(tf.reshape(x, [tf.shape(x)[0], -1]), axis=1)


def _check_mask_shape(masks: tf.Tensor, *, caller: str) -> None:
  rank = masks.shape.rank
  if rank not in (3, 4) or (masks.shape[-1] is not None and masks.shape[-1] != 1):
    raise InputError(f"{caller}(masks): expected shape [N, H, W, 1] or [H, W, 1], "
                     f"got {masks.shape}")


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


# --------------------------------------------------------------------------------------------
# Eq. 3: spatially adaptive contextual weights (exact L1 distance transform, in-graph)
# --------------------------------------------------------------------------------------------


def _cumulative_min(values: tf.Tensor, *, axis: int, reverse: bool) -> tf.Tensor:
  """Inclusive running minimum along `axis` (forward, or from the end if `reverse`).

  Log-step (Hillis-Steele) scan: after the step with shift s every entry holds the minimum of
  the 2s entries ending at it, so ceil(log2(size)) elementwise steps suffice (8 at 256 px).
  This vectorises over the other axes and compiles with XLA, unlike a per-pixel loop.
  Unrolled when the axis length is static, a tf.while_loop otherwise.
  """
  rank = values.shape.rank
  static_size = values.shape[axis]
  size = static_size if static_size is not None else tf.shape(values)[axis]

  def step(current, shift):
    # Shift by `shift` along the axis, filling the vacated entries with +inf (slice + pad is
    # faster than tf.roll + tf.where: about 15 vs 24 ms for batch 8 at 256 px on 2 CPU cores).
    begin = [0] * rank
    length = [-1] * rank
    paddings = [[0, 0] for _ in range(rank)]
    length[axis] = size - shift
    if reverse:
      begin[axis] = shift
      paddings[axis] = [0, shift]
    else:
      paddings[axis] = [shift, 0]
    shifted = tf.pad(tf.slice(current, begin, length), paddings,
                     constant_values=float("inf"))
    return tf.minimum(current, tf.ensure_shape(shifted, current.shape))

  if static_size is not None:
    shift = 1
    while shift < static_size:
      values = step(values, shift)
      shift *= 2
    return values
  _, values = tf.while_loop(
      lambda shift, _: shift < size,
      lambda shift, current: (shift * 2, step(current, shift)),
      (tf.constant(1, tf.int32), values))
  return values


def _l1_min_plus(values: tf.Tensor, *, axis: int) -> tf.Tensor:
  """out[j] = min_y values[y] + |j - y| along `axis` (1-D distance transform with L1 cost).

  Split at y <= j and y >= j:
    min_{y<=j} (v[y] - y) + j   -> a forward running minimum of v - index,
    min_{y>=j} (v[y] + y) - j   -> a backward running minimum of v + index.
  `values` holds 0 / +inf / finite distances; index is finite, so no inf - inf appears.
  """
  broadcast_shape = [1] * values.shape.rank
  broadcast_shape[axis] = -1
  index = tf.reshape(tf.cast(tf.range(tf.shape(values)[axis]), values.dtype), broadcast_shape)
  forward = _cumulative_min(values - index, axis=axis, reverse=False) + index
  backward = _cumulative_min(values + index, axis=axis, reverse=True) - index
  return tf.minimum(forward, backward)


def _manhattan_distance_to_hole(hole: tf.Tensor) -> tf.Tensor:
  """Exact L1 distance [N, H, W] from every pixel to the nearest True of `hole` [N, H, W].

  0 on the hole, +inf for every pixel of an image without a hole. Separable: an exact 1-D
  min-plus pass along the width, then one along the height.
  """
  seeds = tf.where(hole, tf.zeros(tf.shape(hole), tf.float32),
                   tf.fill(tf.shape(hole), float("inf")))
  return _l1_min_plus(_l1_min_plus(seeds, axis=2), axis=1)


def contextual_weights(masks, *, decay: float = 0.99) -> tf.Tensor:
  """Spatially adaptive contextual weights W of Eq. 3.

    W(i, j) = 0                   if (i, j) is in the hole S_M (M = 1)
    W(i, j) = decay ** l(i, j)    otherwise, l(i, j) = min_{(x, y) in S_M} |i - x| + |j - y|

  l is the EXACT Manhattan (L1, taxicab) distance from a known pixel to the nearest HOLE pixel,
  so known pixels next to the hole boundary get the largest weight (0.99 at distance 1) and
  far-away pixels less. The paper's Eq. 3 literally writes min over (x, y) NOT in S_M, which
  would be 0 for every known pixel; the text ("more importance to visible pixels near hole
  boundaries") and our issue make it the distance to the hole, which is what is computed here.

  No hole at all: l is infinite for every pixel, and decay ** inf = 0 would switch the contextual
  loss off. Such a mask instead gets W = 1 everywhere, which turns Eq. 4 into the plain masked L1
  (over the whole image, since nothing is masked).

  Algorithm: the separable L1 distance transform. Start from f = 0 on the hole, +inf elsewhere;
  one exact 1-D min-plus pass with cost |j - y| along the width, then one along the height,
  gives min_{x, y} f(x, y) + |i - x| + |j - y|, exactly l. Each pass is two running minima
  (see `_l1_min_plus`), so the cost is O(H W log max(H, W)) per image with no per-pixel loop.
  Distances are small integers, exact in float32. Works with an unknown batch size, and with
  unknown H, W (a tf.while_loop then replaces the unrolled scan).

  Args:
    masks: [N, H, W, 1] (or [H, W, 1]), 1 on the hole; values > 0.5 count as hole, so slightly
      blurred masks from resizing still give the exact distances of their binarised version.
    decay: the base of Eq. 3 (0.99 in the paper), in (0, 1].

  Returns:
    float32 weights with the shape of `masks`. No gradient flows to `masks`.

  Raises:
    InputError: `masks` has the wrong rank / channels, or `decay` is outside (0, 1].
  """
  if not 0.0 < decay <= 1.0:
    raise InputError(f"contextual_weights(decay={decay}): decay must be in (0, 1]")
  masks = tf.stop_gradient(_as_float32(masks))
  _check_mask_shape(masks, caller="contextual_weights")
  unbatched = masks.shape.rank == 3
  if unbatched:
    masks = masks[tf.newaxis]
  hole = masks[..., 0] > 0.5                                                  # [N, H, W]
  distance = _manhattan_distance_to_hole(hole)                                # [N, H, W]
  decayed = tf.pow(tf.constant(decay, tf.float32), distance)
  weights = tf.where(hole, tf.zeros_like(distance), decayed)
  has_hole = tf.reduce_any(hole, axis=[1, 2], keepdims=True)                  # [N, 1, 1]
  weights = tf.where(has_hole, weights, tf.ones_like(weights))
  weights = weights[..., tf.newaxis]
  return weights[0] if unbatched else weights


# --------------------------------------------------------------------------------------------
# Eq. 4-7: stage 2 losses for the prior predictor P (§4.1)
# --------------------------------------------------------------------------------------------


def contextual_loss(*, target_images, generated_images, weights) -> tf.Tensor:
  """Spatially adaptive contextual loss of Eq. 4, per example [N].

    L_c = sum_{h, w, c} W(h, w) * |I(h, w, c) - G(P(I_d))(h, w, c)|  /  (H * W * C)

  i.e. Eq. 4's weighted L1 normalised to a mean over pixels and channels, so its scale does not
  depend on resolution and the lambdas of Eq. 7 transfer between image sizes.

  Args:
    target_images: I or I_d, [N, H, W, C]. Both give the same loss: they differ only inside the
      hole, where W = 0.
    generated_images: G(P(I_d)), [N, H, W, C].
    weights: W from `contextual_weights`, [N, H, W, 1] (broadcast over channels).

  Returns:
    float32 [N].
  """
  difference = tf.abs(_as_float32(target_images) - _as_float32(generated_images))
  return _mean_over_non_batch_axes(_as_float32(weights) * difference)


def photo_realism_loss(*, fake_logits) -> tf.Tensor:
  """Photo-realism loss of Eq. 5, per example [N].

    L_r = log(1 - D(G(P(I_d)))),  D = sigmoid(logit)  =>  L_r = -softplus(logit)

  computed as -softplus(logit), which is exact and stable for any logit (log(1 - sigmoid(x))
  loses all precision once sigmoid(x) rounds to 1). Minimising it pushes D's output towards 1.

  Args:
    fake_logits: the frozen D's raw outputs on G(P(I_d)), [N] or [N, 1].

  Returns:
    float32 [N], always <= 0.
  """
  return -tf.nn.softplus(_per_example_logits(fake_logits))


def gradient_difference_loss(*, masked_images, generated_images, masks) -> tf.Tensor:
  """Gradient difference loss of Eq. 6, per example [N].

    L_g = M_bar (.) |grad_x I_d - grad_x G| + M_bar (.) |grad_y I_d - grad_y G|,   M_bar = 1 - M

  with forward differences grad_x I(h, w) = I(h, w + 1) - I(h, w) (along the width) and
  grad_y I(h, w) = I(h + 1, w) - I(h, w) (along the height). A difference counts only where
  BOTH of its pixels are known, M_bar(p) * M_bar(p'): I_d is 0 inside the hole, so a difference
  that touches the hole would compare G with an artificial edge at the hole boundary.
  Each direction is averaged over all its positions and channels, H * (W - 1) * C for x and
  (H - 1) * W * C for y (positions that touch the hole count in the denominator as zeros, the
  same normalisation as Eq. 4), and the two directions are summed.

  Args:
    masked_images: I_d, [N, H, W, C] (I gives the same loss: only known pixels are read).
    generated_images: G(P(I_d)), [N, H, W, C].
    masks: M, [N, H, W, 1], 1 on the hole.

  Returns:
    float32 [N].
  """
  known = 1.0 - _as_float32(masks)
  masked = _as_float32(masked_images)
  generated = _as_float32(generated_images)

  def along(axis: int) -> tf.Tensor:
    def forward_difference(x):
      if axis == 2:
        return x[:, :, 1:] - x[:, :, :-1]
      return x[:, 1:] - x[:, :-1]
    if axis == 2:
      both_known = known[:, :, 1:] * known[:, :, :-1]
    else:
      both_known = known[:, 1:] * known[:, :-1]
    mismatch = tf.abs(forward_difference(masked) - forward_difference(generated))
    return _mean_over_non_batch_axes(both_known * mismatch)

  return along(2) + along(1)


def combined_prior_loss(*, contextual, photo_realism, gradient_difference, lambda_realism: float,
                        lambda_gradient: float) -> tf.Tensor:
  """Combined loss of Eq. 7 for the prior predictor, per example [N].

    L_z^com = L_c + lambda_1 * L_r + lambda_2 * L_g

  Args:
    contextual: L_c, [N] (Eq. 4).
    photo_realism: L_r, [N] (Eq. 5).
    gradient_difference: L_g, [N] (Eq. 6).
    lambda_realism: lambda_1.
    lambda_gradient: lambda_2.

  Returns:
    float32 [N].
  """
  return (_as_float32(contextual) + lambda_realism * _as_float32(photo_realism)
          + lambda_gradient * _as_float32(gradient_difference))


def prior_losses(*, images_or_masked, generated_images, masks, fake_logits, lambda_realism: float,
                 lambda_gradient: float, weights=None) -> dict[str, tf.Tensor]:
  """All stage 2 losses (Eq. 3-7) at once, per example.

  Args:
    images_or_masked: I or I_d, [N, H, W, C]; it is masked here ((1 - M) * x), so both give the
      same losses.
    generated_images: G(P(I_d)), [N, H, W, C].
    masks: M, [N, H, W, 1], 1 on the hole.
    fake_logits: the frozen D's logits on G(P(I_d)), [N] or [N, 1]; None when no discriminator
      is available, in which case photo_realism is zeros (and drops out of the total).
    lambda_realism: lambda_1 of Eq. 7.
    lambda_gradient: lambda_2 of Eq. 7.
    weights: precomputed W of Eq. 3 (e.g. from the input pipeline); computed from `masks`
      with decay 0.99 when None.

  Returns:
    {"contextual", "photo_realism", "gradient_difference", "total"}: float32 [N] each.
  """
  masks = _as_float32(masks)
  masked_images = (1.0 - masks) * _as_float32(images_or_masked)
  if weights is None:
    weights = contextual_weights(masks)
  contextual = contextual_loss(target_images=masked_images, generated_images=generated_images,
                               weights=weights)
  if fake_logits is None:
    photo_realism = tf.zeros_like(contextual)
  else:
    photo_realism = photo_realism_loss(fake_logits=fake_logits)
  gradient_difference = gradient_difference_loss(
      masked_images=masked_images, generated_images=generated_images, masks=masks)
  total = combined_prior_loss(
      contextual=contextual, photo_realism=photo_realism, gradient_difference=gradient_difference,
      lambda_realism=lambda_realism, lambda_gradient=lambda_gradient)
  return {"contextual": contextual, "photo_realism": photo_realism,
          "gradient_difference": gradient_difference, "total": total}


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


# --------------------------------------------------------------------------------------------
# Eq. 9 (§4.2): the keypoint refiner's loss
# --------------------------------------------------------------------------------------------


def keypoint_refinement_loss(*, target_keypoints, refined_keypoints) -> tf.Tensor:
  """Eq. 9, the keypoint refiner f's training loss, per example [N].

    Eq. 9:  theta_f* = argmin 1 / (N * N_K) sum_j sum_i || t_i^j - k^_i^j ||_2^2

  Per example j this returns (1 / N_K) sum_i ||t_i^j - k^_i^j||_2^2 (squared L2 over (x, y),
  averaged over the N_K keypoints), so the batch mean of the result is exactly Eq. 9's
  1 / (N * N_K) double sum. Every keypoint counts, dropped (switch d = 0) or not: f must predict
  the dropped ones and refine the others.

  Args:
    target_keypoints: t, ground-truth keypoints [N, N_K, 2] in [0, 1] face box coordinates.
    refined_keypoints: k^ = f(K, d), the refiner's output [N, N_K, 2].

  Returns:
    float32 [N].
  """
  target = _as_float32(target_keypoints)
  refined = _as_float32(refined_keypoints)
  for name, tensor in (("target_keypoints", target), ("refined_keypoints", refined)):
    if tensor.shape.rank != 3 or (tensor.shape[-1] is not None and tensor.shape[-1] != 2):
      raise InputError(f"keypoint_refinement_loss({name}): expected shape [N, N_K, 2], "
                       f"got {tensor.shape}")
  squared_distance = tf.reduce_sum(tf.square(refined - target), axis=-1)  # [N, N_K]
  return tf.reduce_mean(squared_distance, axis=-1)


# --------------------------------------------------------------------------------------------
# Eq. 10 (§4.3): the grouped prior loss over a window of W frames
# --------------------------------------------------------------------------------------------


def grouped_prior_loss(*, frames_or_masked, generated_frames, masks, fake_logits, lambda_realism: float,
                       lambda_gradient: float, weights=None) -> dict[str, tf.Tensor]:
  """Grouped prior loss of Eq. 10 for the LSTM prior model (§4.3, Fig. 3), per clip [N].

    Eq. 10:  L_z^gr = 1/W sum_{i=1}^W L_z^com(I_d^i, I_p^i)

  with L_z^com the combined loss of Eq. 7 on frame i and I_p^i = G(z_p^i) the frozen generator's
  reconstruction from the i-th predicted prior. Each part (Eq. 4, 5, 6) is averaged over the W
  frames the same way, so "total" equals the frame mean of `prior_losses(...)["total"]`.

  Args:
    frames_or_masked: I or I_d per frame, [N, W, H, Wd, C] (masked here, as in `prior_losses`).
    generated_frames: G(z_p^i) per frame, [N, W, H, Wd, C].
    masks: M per frame, [N, W, H, Wd, 1], 1 on the hole.
    fake_logits: the frozen D's logits per frame, [N, W] (or [N * W], frames of a clip
      consecutive); None without a discriminator (photo_realism is then zeros).
    lambda_realism: lambda_1 of Eq. 7.
    lambda_gradient: lambda_2 of Eq. 7.
    weights: W of Eq. 3 per frame, [N, W, H, Wd, 1]; computed from `masks` (decay 0.99) when None.

  Returns:
    {"contextual", "photo_realism", "gradient_difference", "total"}: float32 [N] each, averaged
    over the window; "total" is Eq. 10.
  """
  frames = _as_float32(frames_or_masked)
  for name, tensor in (("frames_or_masked", frames), ("generated_frames", generated_frames),
                       ("masks", masks)):
    if tf.convert_to_tensor(tensor).shape.rank != 5:
      raise InputError(f"grouped_prior_loss({name}): expected shape [N, W, H, Wd, C], "
                       f"got {tf.convert_to_tensor(tensor).shape}")
  clip_shape = tf.shape(frames)[:2]

  def fold(x):  # [N, W, ...] -> [N * W, ...]: every frame is one example of Eq. 7
    x = _as_float32(x)
    return tf.reshape(x, tf.concat([[-1], tf.shape(x)[2:]], axis=0))

  per_frame = prior_losses(
      images_or_masked=fold(frames), generated_images=fold(generated_frames), masks=fold(masks),
      fake_logits=None if fake_logits is None else tf.reshape(_as_float32(fake_logits), [-1]),
      lambda_realism=lambda_realism, lambda_gradient=lambda_gradient,
      weights=None if weights is None else fold(weights))
  return {name: tf.reduce_mean(tf.reshape(value, clip_shape), axis=1) for name, value in per_frame.items()}
