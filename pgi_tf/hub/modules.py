"""Reading and writing hub modules and SavedModels: the pieces every exported kind shares.

Every frozen network enters the project through `HubModuleLayer`: public TF-Hub modules
(PG-GAN, BigGAN, compare_gan) and our own exports alike, so a stage-2 trainer never holds a
trainable copy of G or D.

Facts this relies on (checked on TF 2.21 / tensorflow-hub 0.16): `hub.KerasLayer` is a Keras 2
layer that Keras 3 models reject, so `HubModuleLayer` is a small Keras 3 layer around
`hub.load`; signatures must be called with keyword arguments (positional calls raise
TypeError); the loaded module's variables are not Keras weights, so the layer is frozen by
construction.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Mapping

import keras
import tensorflow as tf

from pgi_tf import files
from pgi_tf.errors import InputError

METADATA_FILENAME = "pgi_tf_metadata.json"
FORMAT_VERSION = 1


def read_metadata(path: str, *, filename: str = METADATA_FILENAME) -> dict | None:
  """The metadata of a module exported by pgi_tf, or None for a foreign module."""
  metadata_path = os.path.join(path, filename)
  if not os.path.isfile(metadata_path):
    return None
  try:
    with open(metadata_path) as f:
      return json.load(f)
  except (OSError, json.JSONDecodeError) as e:
    raise InputError(f"{metadata_path}: unreadable module metadata ({e})") from None


def save_module(module: tf.Module, path: str, metadata: Mapping, *,
                signatures: Mapping[str, object] | None = None,
                metadata_filename: str = METADATA_FILENAME) -> None:
  """tf.saved_model.save + the metadata JSON, as one atomic directory write.

  signatures: name -> concrete tf.function; default {"default": module.default}.
  """
  def write(tmp_dir):
    tf.saved_model.save(module, tmp_dir, signatures=dict(signatures or {"default": module.default}))
    with open(os.path.join(tmp_dir, metadata_filename), "w") as f:
      json.dump(dict(metadata), f, indent=2, sort_keys=True)
  files.write_directory(path, write)


def read_weights_into(prefix: str, *, flag: str, path: str, noun: str, **trackables) -> str:
  """Copies a checkpoint's or an export's variables (`prefix`) into Keras models of the same
  architecture, named as the writer tracked them (e.g. prior_predictor=P); the optimizer and step
  are not read. One-line InputError when the architectures differ. Returns `prefix`."""
  try:
    # read(), not restore(): an export has no save_counter to match.
    tf.train.Checkpoint(**trackables).read(prefix).assert_existing_objects_matched().expect_partial()
  except (AssertionError, ValueError, tf.errors.OpError) as error:
    raise InputError(f"{flag}={path}: not {noun} of this architecture ({str(error).splitlines()[0][:200]})") from None
  return prefix


def check_finite_weights(module, *, flag: str, handle: str) -> None:
  """Refuses a loaded network with a NaN / Inf weight, once at load time: such a network draws
  black holes (or NaN losses) without any other sign of trouble."""
  # A restored tf.Module does not always keep a `variables` list; its signatures' captures do.
  found = {id(v): v for v in (getattr(module, "variables", None) or ())}
  for function in getattr(module, "signatures", {}).values():
    found.update({id(v): v for v in function.variables})
  for variable in found.values():
    if variable.dtype.is_floating and not bool(tf.reduce_all(tf.math.is_finite(variable))):
      raise InputError(f"{flag}={handle}: weight {variable.name} holds NaN or Inf (a damaged file or a "
                       "training run that diverged); export or copy the module again")


def is_remote_handle(handle: str) -> bool:
  return handle.startswith(("http://", "https://", "gs://")) or handle.startswith(
      ("tfhub.dev/", "kaggle.com/"))


def load_module(handle: str, *, flag: str = "--module"):
  """hub.load on a local directory or a TF-Hub handle, with one-line errors."""
  import tensorflow_hub as hub  # imported lazily: it pulls in tf_keras

  if not is_remote_handle(handle):
    if not os.path.isdir(handle):
      raise InputError(f"{flag}={handle}: no such module directory")
    if not (os.path.isfile(os.path.join(handle, "saved_model.pb"))
            or os.path.isfile(os.path.join(handle, "tfhub_module.pb"))):
      raise InputError(f"{flag}={handle}: not a SavedModel or TF-Hub module (no saved_model.pb)")
  try:
    module = hub.load(handle)
  except Exception as e:  # noqa: BLE001 -- every failure becomes one line naming the flag
    if is_remote_handle(handle):
      raise InputError(
          f"{flag}={handle}: cannot download the module here ({type(e).__name__}); download it on a "
          f"machine with network (e.g. `python -c \"import tensorflow_hub as h; print(h.resolve('{handle}'))\"`), "
          f"copy the directory here and pass its local path") from None
    raise InputError(f"{flag}={handle}: cannot load module ({type(e).__name__}: "
                     f"{str(e).splitlines()[0] if str(e) else ''})") from None
  check_finite_weights(module, flag=flag, handle=handle)
  return module


class Untracked:
  """Holds the loaded module out of sight of Keras' and tf.train's trackers.

  A tracked attribute would put the frozen module's variables into every checkpoint of a
  model that uses the layer; wrapped, they stay the module's alone.
  """

  def __init__(self, value):
    self.value = value


@keras.saving.register_keras_serializable(package="pgi_tf")
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
    self._module = Untracked(module)
    self._function = Untracked(function)
    _, input_specs = function.structured_input_signature
    self.input_specs = dict(input_specs)
    self.input_names = list(input_names) if input_names else sorted(self.input_specs)
    if not input_names and "z" in self.input_specs:  # z first for generator signatures
      self.input_names = ["z"] + [n for n in self.input_names if n != "z"]
    outputs = function.structured_outputs
    if output_key not in outputs:
      raise InputError(f"{flag}={handle}: signature {signature!r} has no output {output_key!r} "
                       f"(found: {', '.join(sorted(outputs))})")
    self.metadata = read_metadata(handle) if not is_remote_handle(handle) else None

  @property
  def loaded_module(self):
    """The loaded module (for a tf.Module that must save its variables, e.g. the inpainter)."""
    return self._module.value

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


def check_trained_for(metadata: dict, generator_path: str, *, path: str, flag: str) -> None:
  """Refuses a module (P, the sequence prior) whose metadata names other generator weights."""
  expected, actual = metadata.get("generator_fingerprint"), module_fingerprint(generator_path)
  if expected != actual:
    raise InputError(f"{flag}={path}: was trained for another generator ({metadata.get('generator_path')}, "
                     f"weights {expected}) than {generator_path} (weights {actual})")


def module_fingerprint(path: str) -> str:
  """A short hash of a module's weights (files under variables/): which G a P was trained on.

  Remote handles, which cannot be read here, are identified by the handle itself.
  """
  if is_remote_handle(path):
    return "handle:" + path
  digest = hashlib.sha256()
  variables_dir = os.path.join(path, "variables")
  names = sorted(os.listdir(variables_dir)) if os.path.isdir(variables_dir) else []
  for name in names:
    digest.update(name.encode())
    with open(os.path.join(variables_dir, name), "rb") as f:
      for block in iter(lambda: f.read(1 << 20), b""):
        digest.update(block)
  if not names:  # a module with no variables: hash its graph instead
    with open(os.path.join(path, "saved_model.pb"), "rb") as f:
      digest.update(f.read())
  return digest.hexdigest()[:16]




class FrozenSavedModel:
  """A loaded pgi_tf SavedModel behind one signature, frozen: no attribute can be set and no
  variable is trainable. Keeps the SavedModel alive as long as this object lives. Subclasses
  (the class predictor, the regression peer) add their __call__."""

  def __init__(self, module, metadata: dict, path: str, *, signature: str):
    object.__setattr__(self, "_module", module)
    object.__setattr__(self, "_function", module.signatures[signature])
    object.__setattr__(self, "metadata", dict(metadata))
    object.__setattr__(self, "path", path)

  def __setattr__(self, name, value):
    raise AttributeError(f"{type(self).__name__} is frozen: cannot set {name}")

  @property
  def resolution(self) -> int:
    return int(self.metadata["resolution"])


def load_saved_model_of_kind(path: str, *, kind: str, signature: str, flag: str, noun: str):
  """(SavedModel, metadata) of a pgi_tf export of `kind` with `signature`; one-line InputError otherwise."""
  if not os.path.isdir(path):
    raise InputError(f"{flag}={path}: no such module directory")
  metadata = read_metadata(path)
  if metadata is None or metadata.get("kind") != kind:
    found = "no " + METADATA_FILENAME if metadata is None else f"kind {metadata.get('kind')!r}"
    raise InputError(f"{flag}={path}: not a {noun} exported by pgi_tf ({found})")
  try:
    module = tf.saved_model.load(path)
  except Exception as error:  # noqa: BLE001 -- every failure becomes one line naming the flag
    raise InputError(f"{flag}={path}: cannot load SavedModel ({type(error).__name__})") from None
  if signature not in module.signatures:
    raise InputError(f"{flag}={path}: SavedModel has no {signature} signature")
  check_finite_weights(module, flag=flag, handle=path)
  return module, metadata
