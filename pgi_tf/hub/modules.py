"""Reading and writing hub modules and SavedModels: the pieces every exported kind shares.

Every frozen network enters the project through `HubModuleLayer`: public TF-Hub modules
(PG-GAN, BigGAN, compare_gan) and our own exports alike, so a stage-2 trainer never holds a
trainable copy of G or D.

Facts this relies on (checked on TF 2.21 / tensorflow-hub 0.16): `hub.KerasLayer` is a Keras 2
layer that Keras 3 models reject, so `HubModuleLayer` is a small Keras 3 layer around
`hub.load`; signatures must be called with keyword arguments (positional calls raise
TypeError); the loaded module's variables are not Keras weights, so the layer is frozen by
construction.

TF1 Hub modules (the public generators' format) may hold several graph variants, one meta graph
per tag set (compare_gan: the generator under the empty default set, the discriminator under
{"disc", "bs64"}, ...); `hub.load(path, tags=...)` picks one, and `load_module` checks the tags
against the module's own tag sets first (one line listing them). Some variants were exported for
a fixed batch (compare_gan: 64, input shape [64, z_dim]); `HubModuleLayer` pads and slices so
callers may pass any batch.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Mapping, Sequence

import keras
import tensorflow as tf
from google.protobuf import message
from tensorflow.core.protobuf import saved_model_pb2

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
                metadata_filename: str = METADATA_FILENAME, also_write=None) -> None:
  """tf.saved_model.save + the metadata JSON, as one atomic directory write.

  signatures: name -> concrete tf.function; default {"default": module.default}.
  also_write: called with the (temporary) directory after the SavedModel is saved, for files that
    belong with it (e.g. the inpainter's .tflite), so they appear together or not at all.
  """
  def write(tmp_dir):
    tf.saved_model.save(module, tmp_dir, signatures=dict(signatures or {"default": module.default}))
    if also_write is not None:
      also_write(tmp_dir)
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


# --------------------------------------------------------------------------- graph variants (tags)

TFHUB_MODULE_FILENAME = "tfhub_module.pb"  # marks a TF1 Hub module: hub.load then asks for tag set []


def read_saved_model_proto(path: str) -> saved_model_pb2.SavedModel:
  """saved_model.pb of a module directory, parsed (no variables read: instant even for 1 GB)."""
  proto = saved_model_pb2.SavedModel()
  pb_path = os.path.join(path, "saved_model.pb")
  with open(pb_path, "rb") as f:
    try:
      proto.ParseFromString(f.read())
    except message.DecodeError:
      raise InputError(f"{pb_path}: damaged SavedModel (the file does not parse; truncated or not a "
                       "saved_model.pb); export or copy the module again") from None
  return proto


def is_tf1_hub_module(path: str) -> bool:
  return os.path.isfile(os.path.join(path, TFHUB_MODULE_FILENAME))


def read_tag_sets(path: str) -> list[tuple[str, ...]]:
  """The graph variants of a module: one sorted tag tuple per meta graph, in file order."""
  return [tuple(sorted(meta_graph.meta_info_def.tags)) for meta_graph in read_saved_model_proto(path).meta_graphs]


def parse_tags(text: str | Sequence[str] | None, *, flag: str = "--tags") -> tuple[str, ...] | None:
  """"disc,bs64" -> ("bs64", "disc"); "" or None -> None (the module's default variant)."""
  if text is None or (isinstance(text, str) and not text.strip()):
    return None
  names = [t.strip() for t in (text.split(",") if isinstance(text, str) else text)]
  if not all(names):
    raise InputError(f"{flag}={text if isinstance(text, str) else ','.join(text)}: an empty tag "
                     "(give comma-separated tags, e.g. disc,bs64)")
  return tuple(sorted(set(names)))


def describe_tag_sets(tag_sets: Sequence[Sequence[str]]) -> str:
  return ", ".join("{" + ", ".join(tags) + "}" + (" (default)" if not tags else "") for tags in tag_sets) or "none"


def default_tags(path: str, tags: Sequence[str] | None) -> tuple[str, ...] | None:
  """The tag set `hub.load(path, tags)` will load: the given one, the empty set for a TF1 Hub
  module (what hub.load asks for), or None for a TF2 SavedModel (its only meta graph)."""
  if tags is not None:
    return tuple(sorted(set(tags)))
  return () if is_tf1_hub_module(path) else None


def check_tags(path: str, tags: Sequence[str] | None, *, flag: str, tags_flag: str | None = None,
               handle: str | None = None) -> tuple[str, ...] | None:
  """The variant `hub.load(path, tags)` loads, after checking the module has it.

  Raises:
    InputError: one line naming `tags_flag` (or `flag` for the default variant) and listing the
      module's tag sets.
  """
  wanted = default_tags(path, tags)
  available = read_tag_sets(path)
  if wanted is None:
    if len(available) > 1:  # a TF1 SavedModel without tfhub_module.pb: hub.load needs tags
      raise InputError(f"{tags_flag or flag}: {handle or path} has several graph variants; choose one "
                       f"(its tag sets: {describe_tag_sets(available)})")
    return None
  if wanted not in available:
    named = f"{tags_flag}={','.join(wanted)}" if tags is not None and tags_flag else f"{flag}={handle or path}"
    what = f"no graph variant with tags {{{', '.join(wanted)}}}" if wanted else "no default graph variant (empty tags)"
    raise InputError(f"{named}: {handle or path} has {what} (its tag sets: {describe_tag_sets(available)})")
  return wanted


def _cannot_download(handle: str, flag: str, error: Exception) -> InputError:
  return InputError(
      f"{flag}={handle}: cannot download the module here ({type(error).__name__}); download it on a "
      f"machine with network (e.g. `python -c \"import tensorflow_hub as h; print(h.resolve('{handle}'))\"`), "
      f"copy the directory here and pass its local path")


def tensorflow_hub():
  """tensorflow_hub, imported on first use (it pulls in tf_keras). Its import of pkg_resources warns
  on setuptools 81 (removal notice) and fails from 82 on: requirements/core.txt pins setuptools < 82,
  and the notice, which says nothing about pgi_tf, is not shown."""
  import warnings  # pylint: disable=import-outside-toplevel
  with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="pkg_resources is deprecated")
    import tensorflow_hub as hub  # pylint: disable=import-outside-toplevel
  return hub


def local_module_path(handle: str, *, flag: str = "--module") -> str:
  """A local module directory: the directory itself, or a remote handle's cached download
  (hub.resolve: $TFHUB_CACHE_DIR, default a tfhub_modules/ directory under the system temp dir)."""
  if is_remote_handle(handle):
    hub = tensorflow_hub()
    try:
      return hub.resolve(handle)
    except Exception as e:  # noqa: BLE001 -- every failure becomes one line naming the flag
      raise _cannot_download(handle, flag, e) from None
  if not os.path.isdir(handle):
    raise InputError(f"{flag}={handle}: no such module directory")
  if not os.path.isfile(os.path.join(handle, "saved_model.pb")):
    raise InputError(f"{flag}={handle}: not a SavedModel or TF-Hub module (no saved_model.pb)")
  return handle


def load_module(handle: str, *, flag: str = "--module", tags: Sequence[str] | None = None,
                tags_flag: str | None = None):
  """hub.load on a local directory or a TF-Hub handle, one graph variant, with one-line errors.

  tags: the variant (meta graph tag set) to load; None = the module's default (the empty set of a
    TF1 Hub module). Checked against the module's tag sets before loading; for a remote handle
    with tags that needs its download first (hub.resolve), without tags hub.load fetches it.
  """
  hub = tensorflow_hub()
  remote_default = is_remote_handle(handle) and tags is None
  path = handle if remote_default else local_module_path(handle, flag=flag)
  wanted = None if remote_default else check_tags(path, tags, flag=flag, tags_flag=tags_flag, handle=handle)
  try:
    module = hub.load(path, tags=None if wanted is None else list(wanted))
  except Exception as e:  # noqa: BLE001 -- every failure becomes one line naming the flag
    if remote_default:
      raise _cannot_download(handle, flag, e) from None
    raise InputError(f"{flag}={handle}: cannot load module ({type(e).__name__}: "
                     f"{str(e).splitlines()[0] if str(e) else ''})") from None
  check_finite_weights(module, flag=flag, handle=handle)
  return module


def fixed_batch_size(input_specs: Mapping[str, tf.TensorSpec]) -> int | None:
  """The batch a signature was exported for (compare_gan: 64), or None when it takes any batch.

  Fixed when every input of rank >= 1 has the same known first dimension; scalar inputs (BigGAN's
  truncation) are not batched.
  """
  sizes = {spec.shape[0] for spec in input_specs.values() if spec.shape.rank}
  return int(sizes.pop()) if len(sizes) == 1 and None not in sizes else None


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
    tags: the graph variant (meta graph tag set) of a TF1 Hub module; None = its default.
    tags_flag: the flag that gave `tags`, for error messages.

  Call with a tensor (single-input signatures), a list in `input_names` order, or a dict.
  Inputs are cast to float32 at the boundary: mixed-precision policies do not reach inside
  a loaded SavedModel. Gradients flow to the inputs; the module's variables are never
  trainable weights of this layer (frozen by construction). A signature exported for a fixed
  batch B (`fixed_batch`) takes any batch N: the inputs are zero-padded to a multiple of B, run
  B rows at a time and the first N output rows returned (rows are independent at inference).
  """

  def __init__(self, handle: str, *, signature: str = "default", output_key: str = "default",
               input_names: list[str] | None = None, flag: str = "--module",
               tags: Sequence[str] | None = None, tags_flag: str | None = None, **kwargs):
    kwargs.setdefault("trainable", False)
    super().__init__(**kwargs)
    self.handle = handle
    self.signature_name = signature
    self.output_key = output_key
    self.flag = flag
    self.tags = None if tags is None else list(tags)
    self.tags_flag = tags_flag
    module = load_module(handle, flag=flag, tags=tags, tags_flag=tags_flag)
    variant = f" (tags {{{', '.join(self.tags)}}})" if self.tags is not None else ""
    if signature not in module.signatures:
      raise InputError(f"{flag}={handle}: module{variant} has no signature {signature!r} "
                       f"(found: {', '.join(sorted(module.signatures)) or 'none'})")
    function = module.signatures[signature]
    self._module = Untracked(module)
    self._function = Untracked(function)
    _, input_specs = function.structured_input_signature
    self.input_specs = dict(input_specs)
    self.fixed_batch = fixed_batch_size(self.input_specs)
    self.input_names = list(input_names) if input_names else sorted(self.input_specs)
    if not input_names and "z" in self.input_specs:  # z first for generator signatures
      self.input_names = ["z"] + [n for n in self.input_names if n != "z"]
    outputs = function.structured_outputs
    if output_key not in outputs:
      raise InputError(f"{flag}={handle}: signature {signature!r}{variant} has no output {output_key!r} "
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
    if self.fixed_batch is None:
      return self._function.value(**named)[self.output_key]
    return self._call_in_fixed_batches(named)

  def _call_in_fixed_batches(self, named: dict) -> tf.Tensor:
    """The signature on any batch N when it was exported for a fixed batch B: pad to
    ceil(N / B) * B rows, run B rows at a time, keep the first N rows."""
    function, batch = self._function.value, self.fixed_batch
    batched = [k for k in named if k in self.input_specs and self.input_specs[k].shape.rank]
    unbatched = {k: v for k, v in named.items() if k not in batched}
    if batched and all(named[k].shape[0] == batch for k in batched):  # already the module's batch
      return function(**named)[self.output_key]
    rows = tf.shape(named[batched[0]])[0]
    chunks = (rows + batch - 1) // batch
    padding = chunks * batch - rows

    def split(x):  # [N, ...] -> [chunks, B, ...], zero rows appended
      x = tf.pad(x, [[0, padding]] + [[0, 0]] * (x.shape.rank - 1))
      return tf.reshape(x, tf.concat([[chunks, batch], tf.shape(x)[1:]], axis=0))

    output = function.structured_outputs[self.output_key]
    per_chunk = tf.map_fn(lambda chunk: function(**chunk, **unbatched)[self.output_key],
                          {k: split(named[k]) for k in batched},
                          fn_output_signature=tf.TensorSpec(output.shape, output.dtype))
    flat = tf.reshape(per_chunk, tf.concat([[chunks * batch], tf.shape(per_chunk)[2:]], axis=0))
    result = flat[:rows]
    static_rows = named[batched[0]].shape[0]
    return tf.ensure_shape(result, [static_rows, *output.shape[1:]])

  def compute_output_spec(self, inputs):
    spec = self._function.value.structured_outputs[self.output_key]
    first = inputs[0] if isinstance(inputs, (list, tuple)) else (
        next(iter(inputs.values())) if isinstance(inputs, Mapping) else inputs)
    return keras.KerasTensor((first.shape[0], *spec.shape[1:]), dtype=spec.dtype.name)

  def get_config(self):
    config = super().get_config()
    config.update(handle=self.handle, signature=self.signature_name, output_key=self.output_key,
                  input_names=self.input_names, flag=self.flag, tags=self.tags, tags_flag=self.tags_flag)
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
