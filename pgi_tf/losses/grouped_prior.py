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
