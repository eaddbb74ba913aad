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

compare_gan has a second, "tagged" layout (`export_standin(..., layout="tagged")`: compare_gan's
`as_module_spec`, see pgi_tf/generators/specs.py): one graph variant per tag set, each with one
signature "default", fixed batches as compare_gan exports them (inputs made with tf.zeros of the
batch's shape, which a caller feeds, and reshapes to that batch, so another batch fails as it does
in the real graphs):

  tags            signature "default": inputs -> outputs
  {} (default)    z: f32 [64, 128]                -> generated: f32 [64,R,R,3] in [0, 1]
  {gen, bs8/64}   z: f32 [8 / 64, 128]            -> generated
  {disc, bs8/64}  images: f32 [8 / 64,R,R,3]      -> prediction: f32 [8 / 64, 1], sigmoid(logits)

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
from typing import Callable, Mapping, Sequence

import numpy as np
import tensorflow as tf

from pgi_tf import files
from pgi_tf.errors import InputError
from pgi_tf.hub.modules import TFHUB_MODULE_FILENAME  # marks the TF1 Hub format
from pgi_tf.generators.specs import GENERATORS

STANDIN_FILENAME = "pgi_tf_standin.json"
LAYOUTS = ("signatures", "tagged")  # compare_gan's two module layouts (pgi_tf/generators/specs.py)
COMPARE_GAN_BATCHES = (8, 64)  # of compare_gan's 8, 16, 32, 64: enough for two fixed-batch variants
COMPARE_GAN_DEFAULT_BATCH = 64
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


def _batch_input(shape, name: str):
  """compare_gan's _module_fn: a placeholder for any batch, tf.zeros of the fixed shape otherwise
  (a TF1 Hub signature may be fed at any tensor)."""
  if shape[0] is None:
    return _placeholder(shape, name)
  return tf.zeros(shape, tf.float32, name=name)


def _fixed_batch(x, batch: int | None):
  """x, through an op that fails at run time unless x has exactly `batch` rows, as the real
  compare_gan graphs do (their reshapes and transposed convolutions name the batch). Unstacking
  is used because a plain reshape to [batch, ...] is removed by Grappler when the graph's static
  shape already matches, and would then accept any batch."""
  return x if batch is None else tf.stack(tf.unstack(x, num=batch, axis=0), axis=0)


def _compare_gan_tagged_variants(*, z_dim: int, resolution: int, rng: np.random.Generator):
  """(weights, variants) of compare_gan's tagged layout (module docstring)."""
  units = _BASE_SIZE * _BASE_SIZE * 3
  weights = {"generator/kernel": _dense_weights(rng, z_dim, units),
             "discriminator/kernel": _dense_weights(rng, resolution * resolution * 3, 1)}

  def generator(batch):
    def build():
      z = _batch_input([batch, z_dim], "z_for_eval")
      features = z @ _variable("generator/kernel", weights["generator/kernel"])
      features = _fixed_batch(features, batch)
      return {"default": _signature({"z": z}, {"generated": _to_images(features, resolution, tf.sigmoid)})}
    return build

  def discriminator(batch):
    def build():
      images = _batch_input([batch, resolution, resolution, 3], "images_for_eval")
      flat = _fixed_batch(tf.reshape(images * 2.0 - 1.0, [-1, resolution * resolution * 3]), batch)
      logits = flat @ _variable("discriminator/kernel", weights["discriminator/kernel"])
      # compare_gan exports D's first return value, sigmoid(logits), as "prediction".
      return {"default": _signature({"images": images}, {"prediction": tf.sigmoid(logits)})}
    return build

  variants = [((), generator(COMPARE_GAN_DEFAULT_BATCH))]
  for batch in COMPARE_GAN_BATCHES:
    variants += [(("gen", f"bs{batch}"), generator(batch)), (("disc", f"bs{batch}"), discriminator(batch))]
  return weights, variants


def write_tf1_hub_module(path: str, variants: Sequence[tuple[Sequence[str], Callable[[], dict]]], *,
                         weights: Mapping[str, np.ndarray] | None = None, info: dict | None = None) -> None:
  """A TF1 Hub module as tfhub.dev serves them: a TF1 SavedModel with one meta graph per graph
  variant, its signatures, and tfhub_module.pb; written atomically.

  Args:
    variants: (tags, build_graph) pairs; build_graph() builds one variant's graph in the current
      default graph (variables by `_variable` / tf.compat.v1.get_variable) and returns its
      signature_def map. The first variant is what hub.load gives without tags when its tags are ().
    weights: name -> value of every variable; all are created in the first variant's graph, whose
      variables are the ones saved, so later variants may use any subset by name (as the graphs
      of hub.create_module_spec share one checkpoint).
    info: written to STANDIN_FILENAME (marks the directory as a stand-in); None writes nothing.
  """
  def write(tmp_dir):
    export_dir = os.path.join(tmp_dir, "module")  # the builder insists on a fresh directory
    builder = tf.compat.v1.saved_model.Builder(export_dir)
    for index, (tags, build_graph) in enumerate(variants):
      graph = tf.Graph()
      with graph.as_default():
        with tf.compat.v1.variable_scope(tf.compat.v1.get_variable_scope(), reuse=tf.compat.v1.AUTO_REUSE):
          signatures = build_graph()
          if index == 0:
            for name, value in (weights or {}).items():
              _variable(name, value)
        with tf.compat.v1.Session(graph=graph) as session:
          session.run(tf.compat.v1.global_variables_initializer())
          if index == 0:
            builder.add_meta_graph_and_variables(session, tags=list(tags), signature_def_map=signatures,
                                                 strip_default_attrs=True)
          else:
            builder.add_meta_graph(tags=list(tags), signature_def_map=signatures, strip_default_attrs=True)
    builder.save()
    with open(os.path.join(export_dir, TFHUB_MODULE_FILENAME), "wb") as f:
      f.write(_MODULE_DEF_FORMAT_V3)
    if info is not None:
      with open(os.path.join(export_dir, STANDIN_FILENAME), "w") as f:
        json.dump(info, f, indent=2, sort_keys=True)
    for name in os.listdir(export_dir):
      os.rename(os.path.join(export_dir, name), os.path.join(tmp_dir, name))
    os.rmdir(export_dir)
  files.write_directory(path, write)


def export_standin(name: str, path: str, *, resolution: int | None = None, seed: int = 0,
                   layout: str = "signatures") -> str:
  """Exports a stand-in for registry entry `name` (pgi_tf.GENERATORS) to `path`.

  Args:
    name: a public registry name, e.g. "progan-128", "biggan-256", "compare_gan-celebahq-128".
    path: output directory (written atomically).
    resolution: output size R; defaults to the real module's. Smaller values keep tests fast.
    seed: seed of the random weights.
    layout: compare_gan only: "signatures" (G and D signatures in the default graph) or "tagged"
      (graph variants by tags, fixed batches; module docstring).

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
  if layout not in LAYOUTS or (layout != "signatures" and spec.family != "compare_gan"):
    raise InputError(f"layout={layout}: choose one of {', '.join(LAYOUTS)} (tagged: compare_gan only)")
  info = {"standin": True, "name": name, "family": spec.family, "imitates": spec.handle, "layout": layout,
          "resolution": resolution, "real_resolution": spec.resolution, "seed": seed,
          "note": "random weights with the public module's interface; NOT the real generator"}
  rng = np.random.default_rng(seed)
  if layout == "tagged":
    weights, variants = _compare_gan_tagged_variants(z_dim=spec.z_dim, resolution=resolution, rng=rng)
    write_tf1_hub_module(path, variants, weights=weights, info=info)
    return path
  if spec.family == "progan":
    build = lambda: _progan_graph(z_dim=spec.z_dim, resolution=resolution, rng=rng)
  elif spec.family == "biggan":
    build = lambda: _biggan_graph(z_dim=spec.z_dim, num_classes=spec.num_classes, resolution=resolution, rng=rng)
  else:
    build = lambda: _compare_gan_graph(z_dim=spec.z_dim, resolution=resolution, rng=rng)
  write_tf1_hub_module(path, [((), build)], info=info)
  return path


def read_standin_info(path: str) -> dict | None:
  """The stand-in marker of a module directory, or None for anything else."""
  info_path = os.path.join(path, STANDIN_FILENAME)
  if not os.path.isfile(info_path):
    return None
  with open(info_path) as f:
    return json.load(f)
