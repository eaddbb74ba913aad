"""Hub modules: how every frozen generator and discriminator enters the project.

Stage 1 ends by exporting G and D; stages 2-4 load them back through `HubModuleLayer`.
Public TF-Hub modules (PG-GAN, BigGAN, compare_gan) and our own exports go through the
same path, so a stage-2 trainer never holds a trainable copy of G or D.

Module format written by `export_generator` / `export_discriminator` (TF2 SavedModel):

  generator/      signature "default": z float32 [N, z_dim] (+ condition float32 [N, c])
                                       -> {"default": images float32 [N, R, R, C] in [-1, 1]}
  discriminator/  signature "default": images float32 [N, R, R, C] in [-1, 1] (+ condition)
                                       -> {"default": logits float32 [N]}  (real > 0)
  <module>/pgi_tf_metadata.json   resolution, channels, z_dim, z distribution and support,
                                  value range, condition_dim, signature and input names.

Facts this relies on (../shared/notes/ecosystem.md): `hub.KerasLayer` is a Keras 2 layer
and Keras 3 models reject it, so `HubModuleLayer` is a small Keras 3 layer around
`hub.load`; signatures must be called with keyword arguments; the loaded module's
variables are not Keras weights, so the layer is frozen by construction.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from typing import Any, Mapping

import keras
import tensorflow as tf

from pgi_tf.errors import InputError

METADATA_FILENAME = "pgi_tf_metadata.json"
FORMAT_VERSION = 1


# --------------------------------------------------------------------------- files

def atomic_directory_write(path: str, write_fn) -> None:
  """Calls write_fn(tmp_dir) and then moves tmp_dir to `path` in one rename.

  A crash leaves either the old directory or the new one, never a half-written one
  (a stale `.tmp-*` sibling may remain; it is ignored by loaders).
  """
  path = os.path.abspath(path)
  parent = os.path.dirname(path)
  os.makedirs(parent, exist_ok=True)
  tmp_dir = tempfile.mkdtemp(prefix=os.path.basename(path) + ".tmp-", dir=parent)
  try:
    write_fn(tmp_dir)
    if os.path.exists(path):
      old = tempfile.mkdtemp(prefix=os.path.basename(path) + ".old-", dir=parent)
      os.rename(path, os.path.join(old, "previous"))
      os.rename(tmp_dir, path)
      shutil.rmtree(old, ignore_errors=True)
    else:
      os.rename(tmp_dir, path)
  finally:
    if os.path.exists(tmp_dir):
      shutil.rmtree(tmp_dir, ignore_errors=True)


def read_metadata(path: str) -> dict | None:
  """The metadata of a module exported by pgi_tf, or None for a foreign module."""
  metadata_path = os.path.join(path, METADATA_FILENAME)
  if not os.path.isfile(metadata_path):
    return None
  try:
    with open(metadata_path) as f:
      return json.load(f)
  except (OSError, json.JSONDecodeError) as e:
    raise InputError(f"{metadata_path}: unreadable module metadata ({e})") from None


# --------------------------------------------------------------------------- export

class _GeneratorModule(tf.Module):

  def __init__(self, generator: keras.Model, z_dim: int, condition_dim: int):
    super().__init__(name="generator_module")
    self.generator = generator
    if condition_dim:
      @tf.function(input_signature=[tf.TensorSpec([None, z_dim], tf.float32, name="z"),
                                    tf.TensorSpec([None, condition_dim], tf.float32, name="condition")])
      def default(z, condition):
        return {"default": tf.cast(self.generator([z, condition], training=False), tf.float32)}
    else:
      @tf.function(input_signature=[tf.TensorSpec([None, z_dim], tf.float32, name="z")])
      def default(z):
        return {"default": tf.cast(self.generator(z, training=False), tf.float32)}
    self.default = default


class _DiscriminatorModule(tf.Module):

  def __init__(self, discriminator: keras.Model, image_shape, condition_dim: int):
    super().__init__(name="discriminator_module")
    self.discriminator = discriminator
    image_spec = tf.TensorSpec([None, *image_shape], tf.float32, name="images")
    if condition_dim:
      @tf.function(input_signature=[image_spec,
                                    tf.TensorSpec([None, condition_dim], tf.float32, name="condition")])
      def default(images, condition):
        return {"default": tf.cast(self.discriminator([images, condition], training=False), tf.float32)}
    else:
      @tf.function(input_signature=[image_spec])
      def default(images):
        return {"default": tf.cast(self.discriminator(images, training=False), tf.float32)}
    self.default = default


def gan_metadata(*, resolution: int, channels: int, z_dim: int, condition_dim: int = 0,
                 extra: Mapping[str, Any] | None = None) -> dict:
  """Metadata shared by a generator and its discriminator (DCGAN prior of §3.1)."""
  metadata = {
      "format_version": FORMAT_VERSION,
      "resolution": resolution,
      "channels": channels,
      "z_dim": z_dim,
      "z_distribution": "uniform",   # z ~ U[-1, 1]^d (§3.1)
      "z_support": [-1.0, 1.0],
      "value_range": [-1.0, 1.0],
      "condition_dim": condition_dim,
      "signature": "default",
      "output_key": "default",
  }
  metadata.update(extra or {})
  return metadata


def _save_module(module: tf.Module, path: str, metadata: dict) -> None:
  def write(tmp_dir):
    tf.saved_model.save(module, tmp_dir, signatures={"default": module.default})
    with open(os.path.join(tmp_dir, METADATA_FILENAME), "w") as f:
      json.dump(metadata, f, indent=2, sort_keys=True)
  atomic_directory_write(path, write)


def export_generator(generator: keras.Model, path: str, *, metadata: Mapping[str, Any]) -> None:
  """Exports G as a module (signature above), atomically."""
  metadata = dict(metadata, kind="generator",
                  input_names=["z", "condition"] if metadata.get("condition_dim") else ["z"])
  module = _GeneratorModule(generator, metadata["z_dim"], metadata.get("condition_dim", 0))
  _save_module(module, path, metadata)


def export_discriminator(discriminator: keras.Model, path: str, *, metadata: Mapping[str, Any]) -> None:
  """Exports D as a module (signature above), atomically."""
  metadata = dict(metadata, kind="discriminator",
                  input_names=["images", "condition"] if metadata.get("condition_dim") else ["images"])
  image_shape = (metadata["resolution"], metadata["resolution"], metadata["channels"])
  module = _DiscriminatorModule(discriminator, image_shape, metadata.get("condition_dim", 0))
  _save_module(module, path, metadata)


# --------------------------------------------------------------------------- load

def _is_remote_handle(handle: str) -> bool:
  return handle.startswith(("http://", "https://", "gs://")) or handle.startswith(
      ("tfhub.dev/", "kaggle.com/"))


def load_module(handle: str, *, flag: str = "--module"):
  """hub.load on a local directory or a TF-Hub handle, with one-line errors."""
  import tensorflow_hub as hub  # imported lazily: it pulls in tf_keras

  if not _is_remote_handle(handle):
    if not os.path.isdir(handle):
      raise InputError(f"{flag}={handle}: no such module directory")
    if not (os.path.isfile(os.path.join(handle, "saved_model.pb"))
            or os.path.isfile(os.path.join(handle, "tfhub_module.pb"))):
      raise InputError(f"{flag}={handle}: not a SavedModel or TF-Hub module (no saved_model.pb)")
  try:
    return hub.load(handle)
  except Exception as e:  # noqa: BLE001 -- every failure becomes one line naming the flag
    if _is_remote_handle(handle):
      raise InputError(
          f"{flag}={handle}: cannot download the module here ({type(e).__name__}); download it on a "
          f"machine with network (e.g. `python -c \"import tensorflow_hub as h; print(h.resolve('{handle}'))\"`), "
          f"copy the directory here and pass its local path") from None
    raise InputError(f"{flag}={handle}: cannot load module ({type(e).__name__}: "
                     f"{str(e).splitlines()[0] if str(e) else ''})") from None


class _Untracked:
  """Holds the loaded module out of sight of Keras' and tf.train's trackers.

  A tracked attribute would put the frozen module's variables into every checkpoint of a
  model that uses the layer; wrapped, they stay the module's alone.
  """

  def __init__(self, value):
    self.value = value


class HubModuleLayer(keras.layers.Layer):
  """A frozen Keras 3 layer that calls a hub module's signature by keyword.

  Args:
    handle: local module directory or TF-Hub handle.
    signature: signature name ("default" for our modules and PG-GAN / BigGAN).
    output_key: key of the signature's output dict to return.
    input_names: names of the signature's inputs, in the order `call` receives them
      when given a list; read from the signature when None.
    flag: the flag name to use in error messages.

  Call with a tensor (single-input signatures), a list in `input_names` order, or a dict.
  Inputs are cast to float32 at the boundary: mixed-precision policies do not reach inside
  a loaded SavedModel. Gradients flow to the inputs; the module's variables are never
  trainable weights of this layer (frozen by construction).
  """

  def __init__(self, handle: str, *, signature: str = "default", output_key: str = "default",
               input_names: list[str] | None = None, flag: str = "--module", **kwargs):
    kwargs.setdefault("trainable", False)
    super().__init__(**kwargs)
    self.handle = handle
    self.signature_name = signature
    self.output_key = output_key
    self.flag = flag
    module = load_module(handle, flag=flag)
    if signature not in module.signatures:
      raise InputError(f"{flag}={handle}: module has no signature {signature!r} "
                       f"(found: {', '.join(sorted(module.signatures)) or 'none'})")
    function = module.signatures[signature]
    self._module = _Untracked(module)
    self._function = _Untracked(function)
    _, input_specs = function.structured_input_signature
    self.input_specs = dict(input_specs)
    self.input_names = list(input_names) if input_names else sorted(self.input_specs)
    if not input_names and "z" in self.input_specs:  # z first for generator signatures
      self.input_names = ["z"] + [n for n in self.input_names if n != "z"]
    outputs = function.structured_outputs
    if output_key not in outputs:
      raise InputError(f"{flag}={handle}: signature {signature!r} has no output {output_key!r} "
                       f"(found: {', '.join(sorted(outputs))})")
    self.metadata = read_metadata(handle) if not _is_remote_handle(handle) else None

  @property
  def module_variables(self) -> list[tf.Variable]:
    """The module's own variables (frozen; for tests and for reporting)."""
    return list(self._function.value.variables)

  def call(self, inputs):
    if isinstance(inputs, Mapping):
      named = dict(inputs)
    elif isinstance(inputs, (list, tuple)):
      named = dict(zip(self.input_names, inputs))
    else:
      named = {self.input_names[0]: inputs}
    named = {k: tf.cast(v, tf.float32) for k, v in named.items()}
    return self._function.value(**named)[self.output_key]

  def compute_output_spec(self, inputs):
    spec = self._function.value.structured_outputs[self.output_key]
    first = inputs[0] if isinstance(inputs, (list, tuple)) else (
        next(iter(inputs.values())) if isinstance(inputs, Mapping) else inputs)
    return keras.KerasTensor((first.shape[0], *spec.shape[1:]), dtype=spec.dtype.name)

  def get_config(self):
    config = super().get_config()
    config.update(handle=self.handle, signature=self.signature_name, output_key=self.output_key,
                  input_names=self.input_names, flag=self.flag)
    return config


def load_generator(handle: str, *, flag: str = "--generator") -> HubModuleLayer:
  """Our generator module as a frozen layer: z (+ condition) -> images in [-1, 1]."""
  return HubModuleLayer(handle, flag=flag, name="frozen_generator")


def load_discriminator(handle: str, *, flag: str = "--discriminator") -> HubModuleLayer:
  """Our discriminator module as a frozen layer: images (+ condition) -> logits [N]."""
  layer = HubModuleLayer(handle, flag=flag, name="frozen_discriminator")
  if "images" in layer.input_names:
    layer.input_names = ["images"] + [n for n in layer.input_names if n != "images"]
  return layer
