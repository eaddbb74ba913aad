"""The end-to-end inpainter: P, G (and S, or the class) and Eq. 8 in one SavedModel, for TF
Serving and other languages. Built on the same conditioned path as the library Inpainter
(`pgi_tf.inference.conditioning`) and the same Eq. 8 (`inpainting.compose`)."""

from __future__ import annotations

import functools
import os
from typing import Any, Mapping

import tensorflow as tf

from pgi_tf import generators
from pgi_tf import hub
from pgi_tf import structural
from pgi_tf.errors import InputError
from pgi_tf.inference import conditioning
from pgi_tf.inference import inpainting
from pgi_tf.inference import loading
from pgi_tf.inference import resampling


def _to_uint8(images, masks, inpainted):
  """uint8 Eq. 8 from the uint8 input and the float result, in TFLite builtin ops only (no uint8
  comparison or select): known pixels are the input's bytes exactly (integers are exact in float32),
  hole pixels the result rounded as visualize.to_uint8 rounds (half to even)."""
  hole = tf.cast(tf.cast(masks, tf.float32) >= 128.0, tf.float32)
  filled = tf.clip_by_value(tf.round((inpainted + 1.0) * 127.5), 0.0, 255.0)
  return {"inpainted": tf.cast((1.0 - hole) * tf.cast(images, tf.float32) + hole * filled, tf.uint8)}


def _as_float(images, masks):
  return tf.cast(images, tf.float32) / 127.5 - 1.0, tf.cast(tf.cast(masks, tf.float32) >= 128.0, tf.float32)


def full_resolution(pipeline, resolution: int):
  """pipeline at the model's R x R -> the same at any image size, as the command line does it
  (`folders.py`): image area-resized to R, any hole under a pixel a hole, G(ẑ) brought back by
  bicubic interpolation and Eq. 8 applied with the full-resolution mask (resampling.py)."""
  def at_image_size(images, masks, extra_inputs):
    masks = tf.cast(masks > 0.5, tf.float32)
    outputs = pipeline(resampling.resize_area(images, resolution), resampling.hole_at_model_size(masks, resolution),
                       extra_inputs)
    shape = tf.shape(images)
    fill = resampling.resize_bicubic(outputs["generated"], shape[1], shape[2])
    return dict(outputs, inpainted=inpainting.compose(images=images, masks=masks, generated_images=fill))  # Eq. 8
  return at_image_size


def _signatures(pipeline, *, float_specs, uint8_specs, extra_specs):
  """(serving_default, inpaint_uint8) tf.functions over pipeline(images, masks, extra_inputs).

  One pair per number of extra inputs: a tf.function with an input signature needs explicit
  arguments (their names are the SavedModel's input names)."""
  def uint8(images, masks, extra_inputs):
    return _to_uint8(images, masks, pipeline(*_as_float(images, masks), extra_inputs)["inpainted"])

  if len(extra_specs) == 2:
    @tf.function(input_signature=[*float_specs, *extra_specs])
    def serving_default(images, masks, first, second):
      return pipeline(images, masks, (first, second))

    @tf.function(input_signature=[*uint8_specs, *extra_specs])
    def inpaint_uint8(images, masks, first, second):
      return uint8(images, masks, (first, second))
  elif len(extra_specs) == 1:
    @tf.function(input_signature=[*float_specs, *extra_specs])
    def serving_default(images, masks, first):
      return pipeline(images, masks, (first,))

    @tf.function(input_signature=[*uint8_specs, *extra_specs])
    def inpaint_uint8(images, masks, first):
      return uint8(images, masks, (first,))
  else:
    @tf.function(input_signature=float_specs)
    def serving_default(images, masks):
      return pipeline(images, masks, ())

    @tf.function(input_signature=uint8_specs)
    def inpaint_uint8(images, masks):
      return uint8(images, masks, ())
  return serving_default, inpaint_uint8


class _InpainterModule(tf.Module):
  """(image, mask [, detections | labels]) -> Eq. 8.

  M_{z+S} with a prior that cannot run in a graph (landmarks: dlib) also takes its detections:
  only the refiner f runs here (see `export_inpainter`).
  """

  def __init__(self, prior_predictor_path: str, generator_path: str, metadata: Mapping[str, Any],
               keypoint_refiner_path: str = ""):
    super().__init__(name="inpainter_module")
    # Tracked attributes: the loaded modules' variables are saved into this SavedModel.
    prior_predictor_layer = hub.HubModuleLayer(prior_predictor_path, input_names=metadata.get("input_names"),
                                               flag="--prior_predictor", name="prior_predictor")
    self.prior_predictor = prior_predictor_layer.loaded_module
    # G through the same adapter as training (PG-GAN / BigGAN / compare_gan / ours), so the
    # module's own signature, value range and the fixed class or truncation are baked in.
    generator_layer, _ = generators.resolve_generator(
        generator_path, class_index=metadata.get("class_index"), truncation=metadata.get("truncation"),
        output_resolution=metadata.get("output_resolution") or None, flag="--generator")
    self.generator = generator_layer.loaded_module
    layers = hub.Untracked((prior_predictor_layer, generator_layer))
    class_conditional = bool(metadata.get("class_conditional"))
    num_classes = int(metadata.get("num_classes") or 0)
    structural_prior = None
    if metadata.get("structural_prior", "none") != "none":  # M_{z+S}: (detect ->) refine in the graph
      structural_prior = structural.load_structural_prior(
          metadata["structural_prior"], refiner_path=keypoint_refiner_path, num_rays=metadata.get("num_rays") or 16,
          keep_visible=metadata.get("keep_visible"))
      self.keypoint_refiner = structural_prior.refiner
    r, c = metadata["resolution"], metadata["channels"]
    # Any image size: resized to the model inside the graph (full_resolution).
    image_spec = tf.TensorSpec([None, None, None, c], tf.float32, name="images")
    mask_spec = tf.TensorSpec([None, None, None, 1], tf.float32, name="masks")

    def pipeline(images, masks, extra_inputs):
      """P -> G -> Eq. 8; extra_inputs: () for M_z and in-graph priors, the detections of other
      priors (landmarks: K, d), (labels,) for a class-conditional BigGAN."""
      masks = tf.cast(masks > 0.5, tf.float32)
      masked_images = (1.0 - masks) * images
      conditions = None
      if class_conditional:
        labels = tf.cast(extra_inputs[0], tf.int32)
        tf.debugging.assert_non_negative(labels, message="labels: class indices must be >= 0")
        tf.debugging.assert_less(labels, num_classes, message=f"labels: must be < {num_classes}")
        conditions = conditioning.class_conditions(labels, num_classes)
      elif structural_prior is not None:
        conditions = structural_prior.condition_in_graph(masked_images, masks, *extra_inputs)
      prior_predictor, generator = layers.value
      generated, z = conditioning.fill(prior_predictor, generator, masked_images, masks, conditions)
      inpainted = inpainting.compose(images=images, masks=masks, generated_images=generated)  # Eq. 8
      outputs = {"inpainted": inpainted, "generated": generated, "z": z}
      if structural_prior is not None:
        outputs["structural_prior"] = conditions
      return outputs

    uint8_specs = [tf.TensorSpec([None, None, None, c], tf.uint8, name="images"),
                   tf.TensorSpec([None, None, None, 1], tf.uint8, name="masks")]
    if class_conditional:
      extra_specs = [tf.TensorSpec([None], tf.int32, name="labels")]
    elif structural_prior is not None:
      extra_specs = structural_prior.graph_input_specs()
    else:
      extra_specs = []
    serving_default, inpaint_uint8 = _signatures(full_resolution(pipeline, r), float_specs=[image_spec, mask_spec],
                                                 uint8_specs=uint8_specs, extra_specs=extra_specs)
    self.serving_default = serving_default
    self.inpaint_uint8 = inpaint_uint8
    self.input_names = ["images", "masks"] + [spec.name for spec in extra_specs]


TFLITE_FILENAME = "inpainter.tflite"
TFLITE_SIGNATURES = ("serving_default", "inpaint_uint8")


def to_tflite(saved_model_dir: str, *, flag: str = "--tflite") -> bytes:
  """The inpainter SavedModel as a .tflite flat buffer of TensorFlow Lite builtin ops only, with
  both signatures (any image size: the interpreter resizes its inputs per call). A model with an
  op that has no builtin (e.g. the landmark prior's dlib path) is refused in one line."""
  converter = tf.lite.TFLiteConverter.from_saved_model(saved_model_dir, signature_keys=list(TFLITE_SIGNATURES))
  converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
  try:
    return converter.convert()
  except Exception as error:  # noqa: BLE001 -- the converter raises several types; all mean "not convertible"
    lines = [line.strip() for line in str(error).splitlines() if "op" in line.lower() and line.strip()]
    raise InputError(f"{flag}: this inpainter does not convert to TensorFlow Lite builtin ops "
                     f"({(lines or [type(error).__name__])[0][:200]})") from None


def inpainter_paths(model_dir: str = "", *, prior_predictor: str = "", generator: str = "",
                    keypoint_refiner: str = "") -> dict[str, str]:
  """The P, G (and f) an inpainter export is made of: explicit paths win, else the model directory's
  prior_predictor/, generator/ (or the G P was trained against, from P's metadata: a train_prior
  export directory), keypoint_refiner/ (or P's metadata) for M_{z+S}."""
  under_model_dir = functools.partial(loading.model_part, model_dir)
  prior_predictor = prior_predictor or under_model_dir("prior_predictor")
  if not prior_predictor:
    raise InputError(f"--model_dir={model_dir}: has no prior_predictor/ (or pass --prior_predictor)")
  p_metadata = hub.read_metadata(prior_predictor) or {}
  generator = generator or under_model_dir("generator") or p_metadata.get("generator_path", "")
  if not generator:
    raise InputError(f"--model_dir={model_dir}: has no generator/ (or pass --generator)")
  if p_metadata.get("structural_prior", "none") != "none":
    keypoint_refiner = (keypoint_refiner or under_model_dir("keypoint_refiner")
                        or p_metadata.get("keypoint_refiner", ""))
  return {"prior_predictor_path": prior_predictor, "generator_path": generator,
          "keypoint_refiner_path": keypoint_refiner}


def weights_fingerprints(prior_predictor_path: str, generator_path: str) -> dict[str, str]:
  """Short hashes of P's and G's weights: which networks an inpainter export was made from (a registry
  name or handle that is not a local folder stands for itself)."""
  def fingerprint(path: str) -> str:
    return hub.module_fingerprint(path) if os.path.isdir(path) else f"name:{path}"
  return {"prior_predictor": fingerprint(prior_predictor_path), "generator": fingerprint(generator_path)}


def export_inpainter(path: str, *, prior_predictor_path: str, generator_path: str,
                     keypoint_refiner_path: str = "", tflite: bool = False) -> None:
  """Exports P + G (+ S for M_{z+S}) as one SavedModel with two signatures (atomically):

    serving_default(images float32 [N,H,W,C] in [-1,1], masks float32 [N,H,W,1], 1 = hole)
        -> {"inpainted" [N,H,W,C], "generated" [N,R,R,C], "z"} (+ "structural_prior": the refined S, M_{z+S})
    inpaint_uint8(images uint8 [N,H,W,C], masks uint8 [N,H,W,1], >= 128 = hole (white))
        -> {"inpainted": uint8 [N,H,W,C]}

  Any H, W: images are resized to the model's R x R inside the graph and Eq. 8 is applied at
  H x W, exactly as `binaries/inpaint.py` does (`full_resolution`), so the two agree bit for bit.
  inpaint_uint8 is made of TensorFlow Lite builtin ops; with tflite, both signatures are also
  written as <path>/inpainter.tflite (`to_tflite`), in the same atomic write.

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
  p_metadata = hub.read_metadata(prior_predictor_path)
  if p_metadata is None:
    raise InputError(f"--prior_predictor={prior_predictor_path}: not a prior predictor exported by pgi_tf")
  hub.load_prior_predictor(prior_predictor_path, generator_path=generator_path)  # same-G check
  if p_metadata.get("structural_prior", "none") != "none" and not keypoint_refiner_path:
    raise InputError(f"--prior_predictor={prior_predictor_path}: M_{{z+S}} needs its keypoint refiner "
                     "(--keypoint_refiner)")
  module = _InpainterModule(prior_predictor_path, generator_path, p_metadata, keypoint_refiner_path)
  metadata = dict(p_metadata, kind="inpainter", signature="serving_default",
                  input_names=module.input_names, output_key="inpainted", any_image_size=True,
                  tflite=TFLITE_FILENAME if tflite else None,
                  weights=weights_fingerprints(prior_predictor_path, generator_path),
                  parts={"prior_predictor": prior_predictor_path, "generator": generator_path,
                         "keypoint_refiner": keypoint_refiner_path})

  def write_tflite(saved_model_dir: str) -> None:
    flat_buffer = to_tflite(saved_model_dir)
    with open(os.path.join(saved_model_dir, TFLITE_FILENAME), "wb") as f:
      f.write(flat_buffer)

  hub.save_module(module, path, metadata, signatures={"serving_default": module.serving_default,
                                                      "inpaint_uint8": module.inpaint_uint8},
                  also_write=write_tflite if tflite else None)
