"""Stage-2 terms beyond the paper (issue 13): K candidates per image and latent consistency."""

from __future__ import annotations

import tensorflow as tf

from pgi_tf.errors import InputError
from pgi_tf.losses._common import _as_float32


def best_of_candidates(per_candidate, *, relaxation: float = 0.05) -> tf.Tensor:
  """Relaxed winner-takes-all over K candidates, per example [N].

    L = (1 - ε) · min_k L_k + ε · mean_k L_k          (L_k: Eq. 7 of candidate k)

  The multiple-choice loss of Guzman-Rivera et al. (2012) with the relaxation of Rupprecht et al.
  (2017): only the best candidate learns from an image (at full weight), so the K heads spread
  over the completions a hole allows instead of all regressing to their average; the ε share keeps
  a head that never wins from freezing where it started. ε = 0 is the plain minimum; ε = 1 trains
  every head on every image (K copies of Eq. 7).

  Args:
    per_candidate: [N, K] losses.
    relaxation: ε in [0, 1].

  Returns:
    float32 [N].
  """
  if not 0.0 <= relaxation <= 1.0:
    raise InputError(f"best_of_candidates(relaxation={relaxation}): must be in [0, 1]")
  per_candidate = _as_float32(per_candidate)
  return ((1.0 - relaxation) * tf.reduce_min(per_candidate, axis=1)
          + relaxation * tf.reduce_mean(per_candidate, axis=1))


def latent_consistency_loss(*, predicted_z, z) -> tf.Tensor:
  """Mean squared error between P's z for a masked sample of G and the z that drew it, per example [N].

    L_z = mean_d (P(M̄ ⊙ G(z), M) - z)²

  G's own samples are the one kind of image whose latent is known, so this term teaches P
  inversions that G can actually draw (IDInvert's in-domain encoder, Zhu et al. 2020, uses the
  same pairs). With K candidates, `predicted_z` [N, K, d] is scored by its closest candidate.

  Args:
    predicted_z: [N, d] or [N, K, d].
    z: [N, d].

  Returns:
    float32 [N].
  """
  predicted_z, z = _as_float32(predicted_z), _as_float32(z)
  if predicted_z.shape.rank == 2:
    return tf.reduce_mean(tf.square(predicted_z - z), axis=-1)
  return tf.reduce_min(tf.reduce_mean(tf.square(predicted_z - z[:, tf.newaxis]), axis=-1), axis=1)
