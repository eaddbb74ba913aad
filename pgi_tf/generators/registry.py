"""Which pretrained generator G the inpainter uses (§5, §6.3.3, Table 2).

A registry of the public TF-Hub generators plus our own exported modules ("ours"), and one
frozen Keras adapter per family that maps OUR convention onto the module's signature:

  ours:    z in the module's prior (metadata z_distribution / z_support)  -> images in [-1, 1]
  modules: see the table in pgi_tf/generators/standins.py (the modules' TF-Hub pages)

  family       z prior (metadata z_distribution, z_support)          module output -> ours
  progan       normal, N(0, I) -- unbounded                          [0, 1] -> 2x - 1
  biggan       truncated_normal, z = t * truncnorm(-2, 2): [-2t, 2t]  [-1, 1] (unchanged)
  compare_gan  uniform, U[-1, 1]                                     [0, 1] -> 2x - 1

The truncated-normal form is the one the official BigGAN TF-Hub colab samples
(`truncation * truncnorm.rvs(-2, 2, ...)`, the same t also fed as the `truncation` input), so
P's head (`PriorHead`, truncated_normal: high * tanh(h)) gets z_support = [-2t, 2t].

`resolve_generator(name | handle | directory)` returns (adapter layer, metadata in
`pgi_tf.hub.gan_metadata` format). The adapter holds a `HubModuleLayer`, so the module's
variables are never Keras weights (frozen by construction), and gradients reach z (Eq. 2).
A local directory is recognised by its signatures (read from saved_model.pb without loading
the weights), so a downloaded copy of a public module needs no name.

BigGAN is class-conditional: with `class_index=k` the adapter takes z only and feeds the
one-hot y of class k (condition_dim 0); without it the adapter takes [z, y] with y one-hot
[N, 1000] (condition_dim 1000, our "condition" input).
"""


from __future__ import annotations

import os
from typing import Any, Sequence

import keras

from pgi_tf import files
from pgi_tf import hub
from pgi_tf.errors import InputError
from pgi_tf.hub import modules as hub_modules
from pgi_tf.generators.standins import export_standin, read_standin_info
from pgi_tf.generators.adapters import BigGANAdapter, CompareGANAdapter, CompareGANDiscriminatorAdapter, ProGANAdapter
from pgi_tf.generators.specs import (BIGGAN_TRUNCATION_RANGE, GENERATORS)

# --------------------------------------------------------------------------- inspection

def read_signatures(path: str, *, tags: Sequence[str] | None = None) -> dict[str, dict[str, Any]]:
  """{signature: {"inputs": {name: shape}, "outputs": {name: shape}}} from saved_model.pb.

  Reads the protocol buffer only (no variables), so inspecting a 1 GB BigGAN is instant.
  Shapes are lists with None for unknown dimensions. TF1 Hub modules keep one meta graph
  per tag set (graph variant): with `tags`, only that variant's signatures ({} when the module
  has no such variant); without, the union of all variants' (first one wins).
  """
  wanted = None if tags is None else frozenset(tags)

  def shape_of(info):
    if info.tensor_shape.unknown_rank:
      return None
    return [None if d.size < 0 else int(d.size) for d in info.tensor_shape.dim]

  signatures: dict[str, dict[str, Any]] = {}
  for meta_graph in hub_modules.read_saved_model_proto(path).meta_graphs:
    if wanted is not None and frozenset(meta_graph.meta_info_def.tags) != wanted:
      continue
    for name, signature in meta_graph.signature_def.items():
      if name.startswith("__") or name in signatures:
        continue
      signatures[name] = {"inputs": {k: shape_of(v) for k, v in signature.inputs.items()},
                          "outputs": {k: shape_of(v) for k, v in signature.outputs.items()}}
  return signatures


def _describe(signatures: dict) -> str:
  return "; ".join(f"{name}({', '.join(sorted(sig['inputs']))})" for name, sig in sorted(signatures.items())) \
      or "none"


def detect_family(signatures: dict, metadata: dict | None) -> str | None:
  """The adapter family whose interface the signatures match, or None."""
  if metadata is not None and metadata.get("kind") == "generator":
    return "ours"
  default_inputs = set(signatures.get("default", {}).get("inputs", {}))
  if {"z", "y", "truncation"} <= default_inputs:
    return "biggan"
  if default_inputs == {"default"}:
    return "progan"
  if set(signatures.get("generator", {}).get("inputs", {})) == {"default"}:
    return "compare_gan"  # "signatures" layout (pgi_tf/generators/specs.py)
  if default_inputs == {"z"} and "generated" in signatures.get("default", {}).get("outputs", {}):
    return "compare_gan"  # "tagged" layout: compare_gan's as_module_spec
  return None


def _spec_for(family: str, z_dim: int | None, resolution: int | None, name_hint: str | None):
  """The registry entry of `family` matching the signature's sizes (name_hint wins)."""
  if name_hint in GENERATORS and GENERATORS[name_hint].family == family:
    return name_hint, GENERATORS[name_hint]
  candidates = [(n, s) for n, s in GENERATORS.items() if s.family == family]
  for name, spec in candidates:
    if spec.z_dim == z_dim and spec.resolution == resolution:
      return name, spec
  return candidates[0]


# --------------------------------------------------------------------------- resolve

STANDIN_PREFIX = "standin:"
DEFAULT_STANDIN_RESOLUTION = 16


def standin_directory(spec: str, *, flag: str = "--generator") -> str:
  """"standin:<name>[@<resolution>]" -> the directory of that offline stand-in (random weights,
  the public module's interface: pgi_tf/generators/standins.py), exported on first use into
  $PGI_TF_CACHE (default ~/.cache/pgi_tf)/standins/. For smoke runs of the high-resolution
  presets on machines without the real modules."""
  body = spec[len(STANDIN_PREFIX):]
  name, _, size = body.partition("@")
  if name not in GENERATORS or GENERATORS[name].family == "ours":
    public = ", ".join(n for n, s in GENERATORS.items() if s.family != "ours")
    raise InputError(f"{flag}={spec}: no stand-in named {name!r} (choose one of {public})")
  try:
    resolution = int(size) if size else DEFAULT_STANDIN_RESOLUTION
  except ValueError:
    raise InputError(f"{flag}={spec}: the stand-in resolution after @ must be an integer") from None
  path = files.cache_dir("standins", f"{name}@{resolution}")
  if not os.path.isfile(os.path.join(path, "saved_model.pb")):
    export_standin(name, path, resolution=resolution)  # atomic: concurrent runs are safe
  return path


def _local_copy(handle: str, *, flag: str, given: str) -> str:
  """The local directory of a remote handle (hub.resolve downloads and caches it)."""
  try:
    return hub_modules.tensorflow_hub().resolve(handle)
  except Exception as e:  # noqa: BLE001 -- any download failure becomes one line
    raise InputError(
        f"{flag}={given}: the handle {handle} cannot be downloaded here ({type(e).__name__}); "
        f"download it on a machine with network and pass the local path ({flag}=/path/to/module)") from None


def resolve_generator(name_or_handle_or_path: str, *, flag: str = "--generator",
                      class_index: int | None = None, truncation: float | None = None,
                      output_resolution: int | None = None, class_flag: str = "--class_index",
                      truncation_flag: str = "--truncation",
                      output_resolution_flag: str = "--output_resolution",
                      tags: Sequence[str] | None = None, tags_flag: str = "--generator_tags"
                      ) -> tuple[keras.layers.Layer, dict]:
  """A frozen generator adapter (z in the module's prior -> images in [-1, 1]) and its metadata.

  Args:
    name_or_handle_or_path: a GENERATORS name, a TF-Hub handle, a local module directory
      (ours, a stand-in, or a downloaded public module; recognised by its signatures), or
      "standin:<name>[@<resolution>]" (an offline stand-in, exported on first use).
    flag: flag named in error messages.
    class_index: BigGAN only: fixed ImageNet class; None -> the adapter takes [z, y].
    truncation: BigGAN only: t in [0.02, 1] (default DEFAULT_BIGGAN_TRUNCATION).
    output_resolution: public modules only: resize G's images to this side (e.g. the 128-px
      PG-GAN module in a 256-px pipeline, Table 2); None or 0 keeps the module's.
    tags: the graph variant (TF1 Hub tag set) holding G; None = the module's default (the empty
      set). A compare_gan D is then looked for in the family's variant (spec discriminator_tags).

  Returns:
    (layer, metadata): metadata in `hub.gan_metadata` format plus generator, family, handle,
    module_path (the local directory: `fingerprint` hashes it), module_value_range,
    module_resolution, standin, discriminator_signature, generator_tags / discriminator_tags
    (the variants, None = a TF2 SavedModel's only one), module_batch (the fixed batch the
    module was exported for, None = any; the adapter pads and slices) (and truncation,
    class_index, num_classes for BigGAN). Its z_distribution / z_support set P's head. The layer carries
    the same dict as `layer.metadata` and its local directory as `layer.handle`.

  Raises:
    InputError: unknown name, remote handle without network, a module whose signatures match
      no adapter, a label outside the module's classes, a truncation out of range.
  """
  given = name_or_handle_or_path
  location, name_hint = _locate(given, flag=flag)
  generator_tags = hub_modules.check_tags(location, tags, flag=flag, tags_flag=tags_flag, handle=given)
  signatures = read_signatures(location, tags=generator_tags)
  our_metadata = hub.read_metadata(location)
  family = detect_family(signatures, our_metadata)
  if family is None:
    named = f"{tags_flag}={','.join(tags)}" if tags is not None else f"{flag}={given}"
    variant = "" if not generator_tags else f" (graph variant {{{', '.join(generator_tags)}}} of {given})"
    raise InputError(f"{named}: the module's signatures{variant} match no generator adapter "
                     f"(found: {_describe(signatures)}; expected default(default) for PG-GAN, "
                     "default(truncation, y, z) for BigGAN, generator(default) or default(z) for "
                     "compare_gan, or a pgi_tf export)")
  if family != "biggan" and class_index is not None:
    raise InputError(f"{class_flag}={class_index}: {given} is not class-conditional (family {family})")
  if family != "biggan" and truncation is not None:
    raise InputError(f"{truncation_flag}={truncation}: only BigGAN takes a truncation ({given} is {family})")
  if output_resolution and family == "ours":
    raise InputError(f"{output_resolution_flag}={output_resolution}: resizing is for public modules; "
                     f"{given} is a pgi_tf generator of {our_metadata.get('resolution')} px")
  if family == "ours":
    return _resolve_ours(location, our_metadata, given=given, flag=flag)
  return _resolve_public(location, family, signatures, name_hint=name_hint, flag=flag, class_index=class_index,
                         truncation=truncation, output_resolution=output_resolution, class_flag=class_flag,
                         truncation_flag=truncation_flag, generator_tags=generator_tags, tags_flag=tags_flag)


def _locate(given: str, *, flag: str) -> tuple[str, str | None]:
  """(local module directory, registry name hint) of a name, handle, directory or stand-in spec."""
  name_hint = None
  if given.startswith(STANDIN_PREFIX):
    given_spec = given
    given = standin_directory(given, flag=flag)
    name_hint = given_spec[len(STANDIN_PREFIX):].split("@")[0]
  if given in GENERATORS:
    if GENERATORS[given].family == "ours":
      raise InputError(f"{flag}={given}: give the directory of the generator exported by stage 1")
    name_hint, location = given, GENERATORS[given].handle
  elif hub.is_remote_handle(given):
    location = given
    name_hint = next((n for n, s in GENERATORS.items() if s.handle == given), None)
  elif os.path.isdir(given):
    location = given
  else:
    public = ", ".join(n for n, s in GENERATORS.items() if s.family != "ours")
    raise InputError(f"{flag}={given}: unknown generator (choose one of {public}, standin:NAME[@R], "
                     "a TF-Hub handle or a local module directory)")
  if hub.is_remote_handle(location):
    location = _local_copy(location, flag=flag, given=given)
  if not os.path.isfile(os.path.join(location, "saved_model.pb")):
    raise InputError(f"{flag}={given}: not a SavedModel or TF-Hub module (no saved_model.pb)")
  return location, name_hint


def _resolve_ours(location: str, our_metadata: dict, *, given: str, flag: str) -> tuple[keras.layers.Layer, dict]:
  """A generator exported by stage 1: its own layer and metadata."""
  if our_metadata.get("kind") != "generator":
    raise InputError(f"{flag}={given}: a pgi_tf {our_metadata.get('kind')} module, not a generator")
  layer = hub.load_generator(location, flag=flag)
  metadata = dict(our_metadata, generator="ours", family="ours", handle=location, module_path=location,
                  module_value_range=list(our_metadata.get("value_range", [-1.0, 1.0])),
                  module_resolution=our_metadata.get("resolution"), standin=False,
                  discriminator_signature=None, generator_tags=None, discriminator_tags=None,
                  module_batch=layer.fixed_batch)
  layer.metadata = metadata
  return layer, metadata


def _resolve_public(location: str, family: str, signatures: dict, *, name_hint: str | None, flag: str,
                    class_index: int | None, truncation: float | None, output_resolution: int | None,
                    class_flag: str, truncation_flag: str, generator_tags: tuple[str, ...] | None,
                    tags_flag: str) -> tuple[keras.layers.Layer, dict]:
  """A public module (or its stand-in) through its family's adapter."""
  standin = read_standin_info(location)
  if standin is not None and name_hint is None:
    name_hint = standin.get("name")
  # compare_gan's "signatures" layout names G "generator"; its "tagged" layout is a default(z) graph.
  signature_name = "generator" if family == "compare_gan" and "generator" in signatures else "default"
  signature = signatures[signature_name]
  z_input = "z" if family == "biggan" or "z" in signature["inputs"] else "default"
  output_key = "generated" if "generated" in signature["outputs"] else "default"
  z_shape = signature["inputs"][z_input] or [None, None]
  out_shape = signature["outputs"].get(output_key) or [None, None]
  z_dim, resolution = z_shape[-1], (out_shape[1] if len(out_shape) == 4 else None)
  name, spec = _spec_for(family, z_dim, resolution, name_hint)
  z_dim, module_resolution = z_dim or spec.z_dim, resolution or spec.resolution
  resolution = int(output_resolution or module_resolution)

  extra: dict[str, Any] = {"generator": name, "family": family, "handle": spec.handle,
                           "module_path": location, "module_value_range": list(spec.module_value_range),
                           "module_resolution": module_resolution, "standin": standin is not None,
                           "discriminator_signature": None, "discriminator_tags": None,
                           "generator_tags": None if generator_tags is None else list(generator_tags)}
  common = dict(signature=signature_name, resolution=module_resolution, value_range=spec.module_value_range,
                flag=flag, output_resolution=resolution, tags=generator_tags, tags_flag=tags_flag)
  condition_dim = 0
  if family == "biggan":
    num_classes = (signature["inputs"]["y"] or [None, spec.num_classes])[-1] or spec.num_classes
    t = spec.default_truncation if truncation is None else float(truncation)
    low, high = BIGGAN_TRUNCATION_RANGE
    if not low <= t <= high:
      raise InputError(f"{truncation_flag}={truncation}: BigGAN's truncation must be in [{low}, {high}]")
    if class_index is not None and not 0 <= int(class_index) < num_classes:
      raise InputError(f"{class_flag}={class_index}: {name} has {num_classes} classes (0..{num_classes - 1})")
    layer = BigGANAdapter(location, truncation=t, num_classes=num_classes,
                          class_index=None if class_index is None else int(class_index),
                          name="frozen_generator", **common)
    condition_dim = 0 if class_index is not None else num_classes
    z_support = [-2.0 * t, 2.0 * t]  # z = t * truncnorm(-2, 2)
    extra.update(truncation=t, class_index=class_index, num_classes=num_classes)
  elif family == "progan":
    layer = ProGANAdapter(location, name="frozen_generator", **common)
    z_support = [float("-inf"), float("inf")]  # N(0, I): unbounded (PriorHead: identity head)
  else:
    layer = CompareGANAdapter(location, name="frozen_generator", z_input=z_input, output_key=output_key, **common)
    z_support = list(spec.z_support)
    found = _find_module_discriminator(location, spec, generator_tags=generator_tags, generator_signatures=signatures)
    if found is not None:
      extra["discriminator_tags"], extra["discriminator_signature"] = found
  extra.update(z_distribution=spec.z_distribution, z_support=z_support, module_batch=layer.module_layer.fixed_batch)
  metadata = hub.gan_metadata(resolution=resolution, channels=3, z_dim=z_dim,
                              condition_dim=condition_dim, extra=extra)
  layer.metadata = metadata
  return layer, metadata


def resolve_from_config(config) -> tuple[keras.layers.Layer, dict]:
  """`resolve_generator` from a trainer's config: config.generator, config.class_index (-1 =
  none), config.truncation (0 = default), config.output_resolution (0 = the module's),
  config.generator_tags when the config has it ("" = the module's default variant);
  errors name the --config.* flags."""
  if not config.generator:
    raise InputError("--config.generator: required (a registry name such as progan-128, a TF-Hub "
                     "handle or a module directory)")
  class_index = config.get("class_index", -1)
  return resolve_generator(
      config.generator, flag="--config.generator",
      class_index=None if class_index is None or class_index < 0 else int(class_index),
      truncation=float(config.get("truncation", 0.0) or 0.0) or None,
      output_resolution=int(config.get("output_resolution", 0) or 0) or None,
      class_flag="--config.class_index", truncation_flag="--config.truncation",
      output_resolution_flag="--config.output_resolution",
      tags=hub_modules.parse_tags(config.get("generator_tags", ""), flag="--config.generator_tags"),
      tags_flag="--config.generator_tags")


def fingerprint(metadata: dict) -> str:
  """Which weights a resolved generator has (`hub.module_fingerprint` of its local directory)."""
  return hub.module_fingerprint(metadata.get("module_path") or metadata["handle"])


def class_conditional(metadata: dict) -> bool:
  """True for a BigGAN resolved without a fixed class: G (and P) then take a one-hot y."""
  return metadata.get("family") == "biggan" and metadata.get("class_index") is None


def check_label(label: int, metadata: dict, *, flag: str = "--label") -> int:
  """A class index inside the generator's classes (one line naming the flag otherwise)."""
  count = int(metadata.get("num_classes") or 0)
  if not count:
    raise InputError(f"{flag}={label}: {metadata.get('generator')} is not class-conditional")
  if not 0 <= int(label) < count:
    raise InputError(f"{flag}={label}: {metadata.get('generator')} has {count} classes (0..{count - 1})")
  return int(label)


def _discriminator_signature_in(signatures: dict, spec) -> str | None:
  """The D signature of a graph: the family's name ("discriminator") or, in a variant of its
  own, hub.add_signature's "default" when it takes images (compare_gan's D input; a {gen, bsN}
  variant's default(z) is G, not D)."""
  if spec.discriminator_signature and spec.discriminator_signature in signatures:
    return spec.discriminator_signature
  if "images" in signatures.get("default", {}).get("inputs", {}):
    return "default"
  return None


def _find_module_discriminator(location: str, spec, *, generator_tags: tuple[str, ...] | None,
                               generator_signatures: dict) -> tuple[list[str] | None, str] | None:
  """(tags, signature) of the D a public module ships, or None: the family's D variant
  (spec.discriminator_tags) when the module has it, else a D signature in G's own graph."""
  if spec.discriminator_tags:
    d_tags = tuple(sorted(spec.discriminator_tags))
    if d_tags in hub_modules.read_tag_sets(location):
      name = _discriminator_signature_in(read_signatures(location, tags=d_tags), spec)
      if name is not None:
        return list(d_tags), name
  if spec.discriminator_signature and spec.discriminator_signature in generator_signatures:
    return (None if generator_tags is None else list(generator_tags)), spec.discriminator_signature
  return None


def load_module_discriminator(metadata: dict, *, flag: str = "--generator", tags: Sequence[str] | None = None,
                              tags_flag: str = "--discriminator_tags") -> CompareGANDiscriminatorAdapter:
  """The frozen D shipped with a resolved generator (compare_gan only), for Eq. 5.

  tags: another graph variant of the module to take D from (e.g. disc,bs8); None = the one
    found at resolve time (metadata discriminator_tags: the family's {"disc", "bs64"} or G's graph).

  Raises:
    InputError: the generator's module has no discriminator (PG-GAN and BigGAN do not), or none
      in the variant `tags` names (one line listing the module's tag sets).
  """
  spec = GENERATORS.get(metadata.get("generator"))
  ships_discriminator = spec is not None and bool(spec.discriminator_signature or spec.discriminator_tags)
  if tags is not None and ships_discriminator:
    d_tags = hub_modules.check_tags(metadata["module_path"], tags, flag=flag, tags_flag=tags_flag,
                                    handle=metadata.get("module_path"))
    signatures = read_signatures(metadata["module_path"], tags=d_tags)
    name = _discriminator_signature_in(signatures, spec)
    if name is None:
      raise InputError(f"{tags_flag}={','.join(d_tags)}: that graph variant of {metadata.get('generator')} has "
                       f"no discriminator signature (found: {_describe(signatures)})")
  elif metadata.get("discriminator_signature"):
    d_tags, name = metadata.get("discriminator_tags"), metadata["discriminator_signature"]
    signatures = read_signatures(metadata["module_path"], tags=d_tags)
  else:
    raise InputError(f"{flag}={metadata.get('generator')}: this module ships no discriminator; "
                     "disable the photo-realism loss or train a critic against the frozen G")
  signature = signatures.get(name, {})
  inputs, outputs = sorted(signature.get("inputs", {"default": None})), sorted(signature.get("outputs", {"default": None}))
  layer = CompareGANDiscriminatorAdapter(
      metadata["module_path"], signature=name, tags=d_tags, tags_flag=tags_flag,
      value_range=metadata["module_value_range"], flag=flag, module_resolution=metadata.get("module_resolution"),
      input_key="images" if "images" in inputs else inputs[0],
      output_key=next((k for k in ("default", "prediction", "logits") if k in outputs), outputs[0]),
      name="frozen_discriminator")
  layer.metadata = {"kind": "discriminator", "module_discriminator": True,
                    "generator": metadata.get("generator"), "resolution": metadata["resolution"],
                    "tags": None if d_tags is None else list(d_tags), "module_batch": layer.module_layer.fixed_batch,
                    "output": "probability -> logit" if layer.outputs_probability else "logits"}
  return layer
