"""Offline stand-ins for the public TF-Hub generators: same interface, random weights.

No weights can be downloaded here, so tests (and dry runs of the issue-6 pipeline) use tiny
TF2 SavedModels whose signatures copy the public modules' interface exactly as
../shared/notes/ecosystem.md ("Public generator modules") describes it:

  family       signatures                      inputs (name: dtype shape)               output "default"
  progan       default                         default: f32 [N, 512]  (z ~ N(0, I))       f32 [N,R,R,3] in [0, 1]
  biggan       default                         z: f32 [N, 120/140/128], y: f32 [N, 1000] f32 [N,R,R,3] in [-1, 1]
                                               one-hot, truncation: f32 [] in [0.02, 1]
  compare_gan  generator                       default: f32 [N, 128]  (z ~ U[-1, 1])      f32 [N,R,R,3] in [0, 1]
               discriminator                   default: f32 [N,R,R,3] in [0, 1]           f32 [N, 1] logits

Single-tensor inputs and outputs are named "default": that is how a TF1 Hub signature built
with `hub.add_signature(inputs=tensor, outputs=tensor)` names them, and the public usage
(`progan(z)['default']`, `gan(z, signature="generator")` on one tensor) relies on it.
Unverified here (no network): whether compare_gan's discriminator output is [N, 1] or [N]
and whether it is a logit (its model card calls it `logits`); the adapter flattens to [N].

Each network is a dense layer from the inputs to a 4x4x3 map, a bilinear resize to R and the
family's output squashing (sigmoid for [0, 1], tanh for [-1, 1]); R defaults to the real
module's resolution and may be reduced with `resolution=` to keep tests fast. Every stand-in
directory holds STANDIN_FILENAME, which marks it as a stand-in so nobody mistakes it for the
real weights (`pgi_tf.generators.resolve_generator` copies the flag into its metadata).
"""

from __future__ import annotations

import json
import os

import numpy as np
import tensorflow as tf

from pgi_tf import hub
from pgi_tf.errors import InputError

STANDIN_FILENAME = "pgi_tf_standin.json"
_BASE_SIZE = 4  # the dense layer's spatial size before resizing to R


def _dense_weights(rng: np.random.Generator, fan_in: int, fan_out: int, name: str) -> tf.Variable:
  scale = 1.0 / np.sqrt(fan_in)  # keeps pre-activations O(1) so outputs are not saturated
  return tf.Variable(rng.normal(0.0, scale, size=(fan_in, fan_out)).astype(np.float32), name=name)


def _to_images(features: tf.Tensor, resolution: int, squash) -> tf.Tensor:
  base = tf.reshape(features, [-1, _BASE_SIZE, _BASE_SIZE, 3])
  return squash(tf.image.resize(base, [resolution, resolution], method="bilinear"))


class _ProGANStandin(tf.Module):

  def __init__(self, *, z_dim: int, resolution: int, seed: int):
    super().__init__(name="progan_standin")
    rng = np.random.default_rng(seed)
    self.kernel = _dense_weights(rng, z_dim, _BASE_SIZE * _BASE_SIZE * 3, "kernel")

    @tf.function(input_signature=[tf.TensorSpec([None, z_dim], tf.float32, name="default")])
    def default(default):  # noqa: A002 -- the TF1 Hub name of a single input
      return {"default": _to_images(default @ self.kernel, resolution, tf.sigmoid)}

    self.default = default


class _BigGANStandin(tf.Module):

  def __init__(self, *, z_dim: int, num_classes: int, resolution: int, seed: int):
    super().__init__(name="biggan_standin")
    rng = np.random.default_rng(seed)
    units = _BASE_SIZE * _BASE_SIZE * 3
    self.z_kernel = _dense_weights(rng, z_dim, units, "z_kernel")
    self.y_kernel = _dense_weights(rng, num_classes, units, "y_kernel")

    @tf.function(input_signature=[tf.TensorSpec([None, z_dim], tf.float32, name="z"),
                                  tf.TensorSpec([None, num_classes], tf.float32, name="y"),
                                  tf.TensorSpec([], tf.float32, name="truncation")])
    def default(z, y, truncation):
      # BigGAN feeds z = truncation * truncnorm(-2, 2); dividing by it keeps the stand-in's
      # activations O(1) for every truncation while still reading the input.
      features = (z / truncation) @ self.z_kernel + y @ self.y_kernel
      return {"default": _to_images(features, resolution, tf.tanh)}

    self.default = default


class _CompareGANStandin(tf.Module):

  def __init__(self, *, z_dim: int, resolution: int, seed: int):
    super().__init__(name="compare_gan_standin")
    rng = np.random.default_rng(seed)
    self.kernel = _dense_weights(rng, z_dim, _BASE_SIZE * _BASE_SIZE * 3, "kernel")
    self.d_kernel = _dense_weights(rng, resolution * resolution * 3, 1, "d_kernel")

    @tf.function(input_signature=[tf.TensorSpec([None, z_dim], tf.float32, name="default")])
    def generator(default):  # noqa: A002
      return {"default": _to_images(default @ self.kernel, resolution, tf.sigmoid)}

    @tf.function(input_signature=[tf.TensorSpec([None, resolution, resolution, 3], tf.float32,
                                                name="default")])
    def discriminator(default):  # noqa: A002
      flat = tf.reshape(default * 2.0 - 1.0, [-1, resolution * resolution * 3])
      return {"default": flat @ self.d_kernel}

    self.generator = generator
    self.discriminator = discriminator


def _write(path: str, module: tf.Module, signatures: dict, info: dict) -> None:
  def write(tmp_dir):
    tf.saved_model.save(module, tmp_dir, signatures=signatures)
    with open(os.path.join(tmp_dir, STANDIN_FILENAME), "w") as f:
      json.dump(info, f, indent=2, sort_keys=True)
  hub.atomic_directory_write(path, write)


def export_standin(name: str, path: str, *, resolution: int | None = None, seed: int = 0) -> str:
  """Exports a stand-in for registry entry `name` (pgi_tf.generators.GENERATORS) to `path`.

  Args:
    name: a public registry name, e.g. "progan-128", "biggan-256", "compare_gan-celebahq-128".
    path: output directory (written atomically).
    resolution: output size R; defaults to the real module's. Smaller values keep tests fast.
    seed: seed of the random weights.

  Returns:
    `path`.
  """
  from pgi_tf import generators  # late: generators does not import this module

  spec = generators.GENERATORS.get(name)
  if spec is None or spec.family == "ours":
    public = sorted(n for n, s in generators.GENERATORS.items() if s.family != "ours")
    raise InputError(f"--standin={name}: no stand-in for this name (choose one of {', '.join(public)})")
  resolution = int(resolution or spec.resolution)
  if resolution < _BASE_SIZE:
    raise InputError(f"--standin_resolution={resolution}: must be at least {_BASE_SIZE}")
  info = {"standin": True, "name": name, "family": spec.family, "imitates": spec.handle,
          "resolution": resolution, "real_resolution": spec.resolution, "seed": seed,
          "note": "random weights with the public module's interface; NOT the real generator"}
  if spec.family == "progan":
    module = _ProGANStandin(z_dim=spec.z_dim, resolution=resolution, seed=seed)
    _write(path, module, {"default": module.default}, info)
  elif spec.family == "biggan":
    module = _BigGANStandin(z_dim=spec.z_dim, num_classes=spec.num_classes, resolution=resolution,
                            seed=seed)
    _write(path, module, {"default": module.default}, info)
  else:
    module = _CompareGANStandin(z_dim=spec.z_dim, resolution=resolution, seed=seed)
    _write(path, module, {"generator": module.generator, "discriminator": module.discriminator}, info)
  return path


def read_standin_info(path: str) -> dict | None:
  """The stand-in marker of a module directory, or None for anything else."""
  info_path = os.path.join(path, STANDIN_FILENAME)
  if not os.path.isfile(info_path):
    return None
  with open(info_path) as f:
    return json.load(f)
