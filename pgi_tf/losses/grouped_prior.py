"""The grouped prior loss of the LSTM sequence model (Eq. 10, §4.3)."""

from __future__ import annotations


import tensorflow as tf

from pgi_tf.errors import InputError
from pgi_tf.losses._common import _as_float32
from pgi_tf.losses.prior import prior_losses

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


# --------------------------------------------------------------------------------------------
# Beyond the paper: a temporal-consistency option for the grouped prior (issue 13)
# --------------------------------------------------------------------------------------------


def latent_smoothness_loss(z) -> tf.Tensor:
  """Mean squared step of the predicted latents along time, per clip [N] (beyond the paper).

    L_smooth = 1/(W-1) sum_{t=1}^{W-1} 1/d ||z^{t+1} - z^t||^2

  Added to Eq. 10 with weight λ_t (`config.loss.lambda_temporal`), it asks the LSTM for z that
  move no more than the frames need: the learned counterpart of smoothing z at inference
  (`VideoInpainter.with_latent_smoothing`). It needs no pixel of the hole and costs nothing at
  inference.

  Args:
    z: the window's latents, [N, W, d] with W >= 2.
  """
  z = _as_float32(z)
  if z.shape.rank != 3:
    raise InputError(f"latent_smoothness_loss(z): expected shape [N, W, d], got {z.shape}")
  steps = z[:, 1:] - z[:, :-1]
  return tf.reduce_mean(tf.square(steps), axis=[1, 2])
