"""Offline stand-ins for the public TF-Hub generators: same interface, random weights.

No weights can be downloaded here, so tests (and dry runs of the high-resolution pipeline) use tiny
modules in the public modules' own format, TF1 Hub (a TF1 SavedModel with one meta graph of
the empty tag set + tfhub_module.pb, loaded by `hub.load` through TensorFlow's TF1 loader),
whose signatures copy the public modules' interface exactly (as their TF-Hub pages document it):

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
real weights (`pgi_tf.generators.registry.resolve_generator` copies the flag into its metadata).
"""

from __future__ import annotations

import json
import os

import numpy as np
import tensorflow as tf

from pgi_tf import files
from pgi_tf.errors import InputError
from pgi_tf.generators.specs import GENERATORS

STANDIN_FILENAME = "pgi_tf_standin.json"
TFHUB_MODULE_FILENAME = "tfhub_module.pb"  # marks the TF1 Hub format; hub.load then loads tag set []
_MODULE_DEF_FORMAT_V3 = b"\x08\x03"  # tensorflow_hub's ModuleDef proto {format: FORMAT_V3}
_BASE_SIZE = 4  # the dense layer's spatial size before resizing to R


def _dense_weights(rng: np.random.Generator, fan_in: int, fan_out: int) -> np.ndarray:
  scale = 1.0 / np.sqrt(fan_in)  # keeps pre-activations O(1) so outputs are not saturated
  return rng.normal(0.0, scale, size=(fan_in, fan_out)).astype(np.float32)


def _to_images(features, resolution: int, squash):
  base = tf.reshape(features, [-1, _BASE_SIZE, _BASE_SIZE, 3])
  return squash(tf.image.resize(base, [resolution, resolution], method="bilinear"))


def _variable(name: str, value: np.ndarray):
  return tf.compat.v1.get_variable(name, initializer=tf.constant(value))


def _placeholder(shape, name: str):
  return tf.compat.v1.placeholder(tf.float32, shape, name=name)


def _signature(inputs: dict, outputs: dict):
  return tf.compat.v1.saved_model.signature_def_utils.predict_signature_def(inputs=inputs, outputs=outputs)


def _progan_graph(*, z_dim: int, resolution: int, rng: np.random.Generator) -> dict:
  z = _placeholder([None, z_dim], "default")
  kernel = _variable("kernel", _dense_weights(rng, z_dim, _BASE_SIZE * _BASE_SIZE * 3))
  return {"default": _signature({"default": z}, {"default": _to_images(z @ kernel, resolution, tf.sigmoid)})}


def _biggan_graph(*, z_dim: int, num_classes: int, resolution: int, rng: np.random.Generator) -> dict:
  units = _BASE_SIZE * _BASE_SIZE * 3
  z = _placeholder([None, z_dim], "z")
  y = _placeholder([None, num_classes], "y")
  truncation = _placeholder([], "truncation")
  z_kernel = _variable("z_kernel", _dense_weights(rng, z_dim, units))
  y_kernel = _variable("y_kernel", _dense_weights(rng, num_classes, units))
  # BigGAN feeds z = truncation * truncnorm(-2, 2); dividing by it keeps the stand-in's
  # activations O(1) for every truncation while still reading the input.
  features = (z / truncation) @ z_kernel + y @ y_kernel
  return {"default": _signature({"z": z, "y": y, "truncation": truncation},
                                {"default": _to_images(features, resolution, tf.tanh)})}


def _compare_gan_graph(*, z_dim: int, resolution: int, rng: np.random.Generator) -> dict:
  z = _placeholder([None, z_dim], "generator_default")
  kernel = _variable("kernel", _dense_weights(rng, z_dim, _BASE_SIZE * _BASE_SIZE * 3))
  images = _placeholder([None, resolution, resolution, 3], "discriminator_default")
  d_kernel = _variable("d_kernel", _dense_weights(rng, resolution * resolution * 3, 1))
  logits = tf.reshape(images * 2.0 - 1.0, [-1, resolution * resolution * 3]) @ d_kernel
  return {"generator": _signature({"default": z}, {"default": _to_images(z @ kernel, resolution, tf.sigmoid)}),
          "discriminator": _signature({"default": images}, {"default": logits})}


def _write_tf1_hub_module(path: str, build_graph, info: dict) -> None:
  """A TF1 Hub module as tfhub.dev serves them: a TF1 SavedModel whose one meta graph has the
  empty tag set (what `hub.load` asks a TF1 module for), its signatures, and tfhub_module.pb."""
  def write(tmp_dir):
    export_dir = os.path.join(tmp_dir, "module")  # the builder insists on a fresh directory
    graph = tf.Graph()
    with graph.as_default():
      signatures = build_graph()
      with tf.compat.v1.Session(graph=graph) as session:
        session.run(tf.compat.v1.global_variables_initializer())
        builder = tf.compat.v1.saved_model.Builder(export_dir)
        builder.add_meta_graph_and_variables(session, tags=[], signature_def_map=signatures,
                                             strip_default_attrs=True)
        builder.save()
    with open(os.path.join(export_dir, TFHUB_MODULE_FILENAME), "wb") as f:
      f.write(_MODULE_DEF_FORMAT_V3)
    with open(os.path.join(export_dir, STANDIN_FILENAME), "w") as f:
      json.dump(info, f, indent=2, sort_keys=True)
    for name in os.listdir(export_dir):
      os.rename(os.path.join(export_dir, name), os.path.join(tmp_dir, name))
    os.rmdir(export_dir)
  files.write_directory(path, write)


def export_standin(name: str, path: str, *, resolution: int | None = None, seed: int = 0) -> str:
  """Exports a stand-in for registry entry `name` (pgi_tf.GENERATORS) to `path`.

  Args:
    name: a public registry name, e.g. "progan-128", "biggan-256", "compare_gan-celebahq-128".
    path: output directory (written atomically).
    resolution: output size R; defaults to the real module's. Smaller values keep tests fast.
    seed: seed of the random weights.

  Returns:
    `path`.
  """
  spec = GENERATORS.get(name)
  if spec is None or spec.family == "ours":
    public = sorted(n for n, s in GENERATORS.items() if s.family != "ours")
    raise InputError(f"--standin={name}: no stand-in for this name (choose one of {', '.join(public)})")
  resolution = int(resolution or spec.resolution)
  if resolution < _BASE_SIZE:
    raise InputError(f"--standin_resolution={resolution}: must be at least {_BASE_SIZE}")
  info = {"standin": True, "name": name, "family": spec.family, "imitates": spec.handle,
          "resolution": resolution, "real_resolution": spec.resolution, "seed": seed,
          "note": "random weights with the public module's interface; NOT the real generator"}
  rng = np.random.default_rng(seed)
  if spec.family == "progan":
    build = lambda: _progan_graph(z_dim=spec.z_dim, resolution=resolution, rng=rng)
  elif spec.family == "biggan":
    build = lambda: _biggan_graph(z_dim=spec.z_dim, num_classes=spec.num_classes, resolution=resolution, rng=rng)
  else:
    build = lambda: _compare_gan_graph(z_dim=spec.z_dim, resolution=resolution, rng=rng)
  _write_tf1_hub_module(path, build, info)
  return path


def read_standin_info(path: str) -> dict | None:
  """The stand-in marker of a module directory, or None for anything else."""
  info_path = os.path.join(path, STANDIN_FILENAME)
  if not os.path.isfile(info_path):
    return None
  with open(info_path) as f:
    return json.load(f)
