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
    return hub.load(handle)
  except Exception as e:  # noqa: BLE001 -- every failure becomes one line naming the flag
    if is_remote_handle(handle):
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


def load_generator(handle: str, *, flag: str = "--generator") -> HubModuleLayer:
  """Our generator module as a frozen layer: z (+ condition) -> images in [-1, 1]."""
  return HubModuleLayer(handle, flag=flag, name="frozen_generator")


def load_discriminator(handle: str, *, flag: str = "--discriminator") -> HubModuleLayer:
  """Our discriminator module as a frozen layer: images (+ condition) -> logits [N]."""
  layer = HubModuleLayer(handle, flag=flag, name="frozen_discriminator")
  if "images" in layer.input_names:
    layer.input_names = ["images"] + [n for n in layer.input_names if n != "images"]
  return layer


# --------------------------------------------------------------------------- stage 2 modules

def module_fingerprint(path: str) -> str:
  """A short hash of a module's weights (files under variables/): which G a P was trained on.

  Remote handles, which cannot be read here, are identified by the handle itself.
  """
  import hashlib

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


def prior_predictor_metadata(*, generator_path: str, generator_metadata: Mapping[str, Any],
                             extra: Mapping[str, Any] | None = None) -> dict:
  """P's metadata: the generator it was trained against, and that generator's z prior."""
  metadata = {key: generator_metadata[key] for key in
              ("resolution", "channels", "z_dim", "z_distribution", "z_support", "value_range")
              if key in generator_metadata}
  metadata.update(format_version=FORMAT_VERSION, kind="prior_predictor",
                  condition_dim=generator_metadata.get("condition_dim", 0),
                  generator_path=generator_path, generator_fingerprint=module_fingerprint(generator_path),
                  signature="default", output_key="default", input_names=["masked_images", "masks"])
  if generator_metadata.get("condition_dim"):  # M_{z+S}: P(I_d, M, S)
    metadata["input_names"].append("condition")
  metadata.update(extra or {})
  return metadata


class _PriorPredictorModule(tf.Module):

  def __init__(self, predictor: keras.Model, resolution: int, channels: int, condition_dim: int = 0):
    super().__init__(name="prior_predictor_module")
    self.predictor = predictor
    if condition_dim:  # M_{z+S}: P(I_d, M, S)
      @tf.function(input_signature=[
          tf.TensorSpec([None, resolution, resolution, channels], tf.float32, name="masked_images"),
          tf.TensorSpec([None, resolution, resolution, 1], tf.float32, name="masks"),
          tf.TensorSpec([None, condition_dim], tf.float32, name="condition")])
      def default(masked_images, masks, condition):
        return {"default": tf.cast(self.predictor([masked_images, masks, condition], training=False), tf.float32)}

      self.default = default
      return

    @tf.function(input_signature=[
        tf.TensorSpec([None, resolution, resolution, channels], tf.float32, name="masked_images"),
        tf.TensorSpec([None, resolution, resolution, 1], tf.float32, name="masks")])
    def default(masked_images, masks):
      return {"default": tf.cast(self.predictor([masked_images, masks], training=False), tf.float32)}

    self.default = default


def export_prior_predictor(predictor: keras.Model, path: str, *, metadata: Mapping[str, Any]) -> None:
  """Exports P: (masked_images, masks) -> {"default": z}, atomically, with its metadata."""
  module = _PriorPredictorModule(predictor, metadata["resolution"], metadata["channels"],
                                 metadata.get("condition_dim", 0))
  _save_module(module, path, dict(metadata))


def load_prior_predictor(path: str, *, generator_path: str | None = None,
                         flag: str = "--prior_predictor") -> HubModuleLayer:
  """P as a frozen layer; refuses a P that was trained against another generator."""
  metadata = read_metadata(path) if not is_remote_handle(path) else None
  input_names = (metadata or {}).get("input_names") or ["masked_images", "masks"]
  layer = HubModuleLayer(path, flag=flag, input_names=input_names, name="prior_predictor")
  if layer.metadata is None or layer.metadata.get("kind") != "prior_predictor":
    raise InputError(f"{flag}={path}: not a prior predictor exported by pgi_tf (no {METADATA_FILENAME})")
  if generator_path is not None:
    expected = layer.metadata.get("generator_fingerprint")
    actual = module_fingerprint(generator_path)
    if expected != actual:
      raise InputError(f"{flag}={path}: was trained for another generator ({layer.metadata.get('generator_path')}, "
                       f"weights {expected}) than {generator_path} (weights {actual})")
  return layer


class _InpainterModule(tf.Module):
  """P and G in one SavedModel: (image, mask) -> Eq. 8, for TF Serving and other languages.

  M_{z+S} with the landmark prior also takes dlib's (keypoints, switches): dlib is Python and
  cannot be part of a graph, so only the refiner f runs here (see `export_inpainter`).
  """

  def __init__(self, prior_predictor_path: str, generator_path: str, metadata: Mapping[str, Any],
               keypoint_refiner_path: str = ""):
    super().__init__(name="inpainter_module")
    import tensorflow_hub as tfhub
    from pgi_tf import generators  # late: generators imports this module
    # Tracked attributes: the loaded modules' variables are saved into this SavedModel.
    self.prior_predictor = tfhub.load(prior_predictor_path)
    # G through the same adapter as training (PG-GAN / BigGAN / compare_gan / ours), so the
    # module's own signature, value range and the fixed class or truncation are baked in.
    generator_layer, _ = generators.resolve_generator(
        generator_path, class_index=metadata.get("class_index"), truncation=metadata.get("truncation"),
        output_resolution=metadata.get("output_resolution") or None, flag="--generator")
    self.generator = generator_layer.loaded_module
    self._generator_layer = _Untracked(generator_layer)
    class_conditional = bool(metadata.get("class_conditional"))
    num_classes = int(metadata.get("num_classes") or 0)
    kind = metadata.get("structural_prior", "none")
    structural_prior = None
    if kind != "none":  # M_{z+S}: (detect ->) refine in the graph
      from pgi_tf.structural import priors
      self.keypoint_refiner = tf.saved_model.load(keypoint_refiner_path)
      refine = self.keypoint_refiner.signatures["serving_default"]
      refiner = lambda k, d: refine(keypoints=k, switches=d)["refined"]
      if kind == "landmarks":
        structural_prior = priors.LandmarkPrior(refiner, keep_visible=bool(metadata.get("keep_visible", False)))
      else:
        structural_prior = priors.SilhouettePrior(refiner=refiner, num_rays=metadata["num_rays"])
    r, c = metadata["resolution"], metadata["channels"]
    image_spec = tf.TensorSpec([None, r, r, c], tf.float32, name="images")
    mask_spec = tf.TensorSpec([None, r, r, 1], tf.float32, name="masks")

    def pipeline(images, masks, condition_inputs):
      """P -> G -> Eq. 8; condition_inputs: () for M_z / silhouette, (K, d) for landmarks,
      (labels,) for a class-conditional BigGAN."""
      masks = tf.cast(masks > 0.5, tf.float32)
      masked_images = (1.0 - masks) * images
      conditioned = {}
      if class_conditional:
        labels = tf.cast(condition_inputs[0], tf.int32)
        tf.debugging.assert_non_negative(labels, message="labels: class indices must be >= 0")
        tf.debugging.assert_less(labels, num_classes, message=f"labels: must be < {num_classes}")
        conditioned = {"condition": tf.one_hot(labels, num_classes)}
      elif kind == "landmarks":
        conditioned = {"condition": structural_prior.condition_from_keypoints(*condition_inputs)}
      elif structural_prior is not None:
        conditioned = {"condition": structural_prior(masked_images, masks)}
      z = self.prior_predictor.signatures["default"](masked_images=masked_images, masks=masks,
                                                     **conditioned)["default"]
      g = self._generator_layer.value
      generated = g([z, conditioned["condition"]]) if conditioned else g(z)
      inpainted = (1.0 - masks) * images + masks * generated  # Eq. 8
      outputs = {"inpainted": inpainted, "generated": generated, "z": z}
      if conditioned and not class_conditional:
        outputs["structural_prior"] = conditioned["condition"]
      return outputs

    def to_uint8(images, masks, outputs):
      # Known pixels are copied from the uint8 input so they stay bit-identical.
      hole = masks >= 128
      filled = tf.cast(tf.clip_by_value(tf.round((outputs["inpainted"] + 1.0) * 127.5), 0, 255), tf.uint8)
      return {"inpainted": tf.where(hole, filled, images)}

    uint8_specs = [tf.TensorSpec([None, r, r, c], tf.uint8, name="images"),
                   tf.TensorSpec([None, r, r, 1], tf.uint8, name="masks")]
    if class_conditional:
      extra_specs = [tf.TensorSpec([None], tf.int32, name="labels")]
    elif kind == "landmarks":
      count = priors.NUM_FACE_LANDMARKS
      extra_specs = [tf.TensorSpec([None, count, 2], tf.float32, name="keypoints"),
                     tf.TensorSpec([None, count], tf.float32, name="switches")]
    else:
      extra_specs = []

    # One pair of signatures per input list (tf.function needs explicit arguments).
    if len(extra_specs) == 2:
      @tf.function(input_signature=[image_spec, mask_spec, *extra_specs])
      def serving_default(images, masks, keypoints, switches):
        return pipeline(images, masks, (keypoints, switches))

      @tf.function(input_signature=[*uint8_specs, *extra_specs])
      def inpaint_uint8(images, masks, keypoints, switches):
        as_float = tf.cast(images, tf.float32) / 127.5 - 1.0
        outputs = pipeline(as_float, tf.cast(masks >= 128, tf.float32), (keypoints, switches))
        return to_uint8(images, masks, outputs)
    elif len(extra_specs) == 1:
      @tf.function(input_signature=[image_spec, mask_spec, *extra_specs])
      def serving_default(images, masks, labels):
        return pipeline(images, masks, (labels,))

      @tf.function(input_signature=[*uint8_specs, *extra_specs])
      def inpaint_uint8(images, masks, labels):
        as_float = tf.cast(images, tf.float32) / 127.5 - 1.0
        return to_uint8(images, masks, pipeline(as_float, tf.cast(masks >= 128, tf.float32), (labels,)))
    else:
      @tf.function(input_signature=[image_spec, mask_spec])
      def serving_default(images, masks):
        return pipeline(images, masks, ())

      @tf.function(input_signature=uint8_specs)
      def inpaint_uint8(images, masks):
        as_float = tf.cast(images, tf.float32) / 127.5 - 1.0
        return to_uint8(images, masks, pipeline(as_float, tf.cast(masks >= 128, tf.float32), ()))

    self.serving_default = serving_default
    self.inpaint_uint8 = inpaint_uint8


def export_inpainter(path: str, *, prior_predictor_path: str, generator_path: str,
                     keypoint_refiner_path: str = "") -> None:
  """Exports P + G (+ S for M_{z+S}) as one SavedModel with two signatures (atomically):

    serving_default(images float32 [N,R,R,C] in [-1,1], masks float32 [N,R,R,1], 1 = hole)
        -> {"inpainted", "generated", "z"} (+ "structural_prior": the refined S, M_{z+S})
    inpaint_uint8(images uint8 [N,R,R,C], masks uint8 [N,R,R,1], >= 128 = hole (white))
        -> {"inpainted": uint8}

  M_z and the silhouette prior: the whole pipeline (silhouette detection -> f -> P -> G ->
  Eq. 8) is in the graph. The landmark prior (P's metadata structural_prior "landmarks"):
  dlib's detector is Python and cannot be saved in a graph, so both signatures take two more
  inputs, the detections of the masked image:
    keypoints float32 [N, 68, 2]  K in [0, 1] face-box coordinates, x = y = 0 where hidden,
    switches  float32 [N, 68]     d, 1 = detected on a known pixel,
  i.e. `FaceLandmarks.points` / `.switches` of `pgi_tf.structural.face_detection.
  detect_face_landmarks(masked image, mask=...)`, or `LandmarkPrior.detect` (which falls back
  to the whole image as the box when dlib finds no face); f refines them in the graph
  (K_f = f(K, d), dlib's visible points kept only if P's metadata says keep_visible) and
  S = flatten(K_f) conditions P and G. Metadata input_names lists the four inputs.

  A class-conditional BigGAN P (metadata class_conditional) takes one more input,
  labels int32 [N] (ImageNet class indices; predict them with the masked-image classifier,
  binaries/train_class_predictor.py, when unknown). G enters through its adapter
  (`pgi_tf.generators`), so any registry generator exports the same way.
  """
  p_metadata = read_metadata(prior_predictor_path)
  if p_metadata is None:
    raise InputError(f"--prior_predictor={prior_predictor_path}: not a prior predictor exported by pgi_tf")
  load_prior_predictor(prior_predictor_path, generator_path=generator_path)  # same-G check
  kind = p_metadata.get("structural_prior", "none")
  if kind != "none" and not keypoint_refiner_path:
    raise InputError(f"--prior_predictor={prior_predictor_path}: M_{{z+S}} needs its keypoint refiner "
                     "(--keypoint_refiner)")
  module = _InpainterModule(prior_predictor_path, generator_path, p_metadata, keypoint_refiner_path)
  input_names = ["images", "masks"] + (["labels"] if p_metadata.get("class_conditional") else
                                       ["keypoints", "switches"] if kind == "landmarks" else [])
  metadata = dict(p_metadata, kind="inpainter", signature="serving_default",
                  input_names=input_names, output_key="inpainted")

  def write(tmp_dir):
    tf.saved_model.save(module, tmp_dir, signatures={"serving_default": module.serving_default,
                                                     "inpaint_uint8": module.inpaint_uint8})
    with open(os.path.join(tmp_dir, METADATA_FILENAME), "w") as f:
      json.dump(metadata, f, indent=2, sort_keys=True)

  atomic_directory_write(path, write)
