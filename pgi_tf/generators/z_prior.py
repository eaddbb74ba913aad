"""The generator's z prior p_z (metadata z_distribution / z_support): sampling and projection.

    uniform:          U[low, high) with (low, high) = z_support (our DCGAN: U[-1, 1], §3.1)
    normal:           N(0, I) (PG-GAN); unbounded
    truncated_normal: t * truncnorm(-2, 2) with t = z_support[1] / 2 (BigGAN's colab), so z never
                      leaves [-2t, 2t] (tf's truncated_normal re-draws beyond 2 std)
"""

from __future__ import annotations

import tensorflow as tf

from pgi_tf.errors import InputError

Z_DISTRIBUTIONS = ("uniform", "normal", "truncated_normal")


def sample_z(*, batch_size, z_dim: int, z_distribution: str, z_support=(-1.0, 1.0),
             noise: tf.random.Generator | None = None, seed: int | tf.Tensor | None = None) -> tf.Tensor:
  """z [batch_size, z_dim] ~ p_z, drawn from `noise` (a stateful generator: training) or from a
  stateless `seed` (inference: the iterative search's start, the same for the same seed), an int
  or a [2] int tensor (e.g. (seed, step): a fresh batch per training step with no state to save)."""
  shape = [batch_size, z_dim]
  if z_distribution not in Z_DISTRIBUTIONS:
    raise InputError(f"z_distribution={z_distribution!r}: choose one of {', '.join(Z_DISTRIBUTIONS)}")
  # normal priors may carry no support (PG-GAN's is unbounded)
  low, high = (float(v) for v in z_support) if z_distribution != "normal" else (None, None)
  if noise is None:
    seeds = (tf.constant([seed or 0, 0], tf.int32) if seed is None or isinstance(seed, int)
             else tf.cast(seed, tf.int64))
    if z_distribution == "uniform":
      return tf.random.stateless_uniform(shape, seeds, low, high)
    if z_distribution == "truncated_normal":
      return tf.random.stateless_truncated_normal(shape, seeds) * high / 2.0
    return tf.random.stateless_normal(shape, seeds)
  if z_distribution == "uniform":
    return noise.uniform(shape, minval=low, maxval=high)
  if z_distribution == "normal":
    return noise.normal(shape)
  return noise.truncated_normal(shape) * (high / 2.0)


def project_z(z: tf.Tensor, *, z_distribution: str, z_support=(-1.0, 1.0)) -> tf.Tensor:
  """Keeps z in the prior's support (uniform and truncated priors are bounded)."""
  if z_distribution == "normal":
    return z
  low, high = z_support
  return tf.clip_by_value(z, low, high)
