"""The end-to-end inpainter: P, G (and S, or the class) and Eq. 8 in one SavedModel, for TF
Serving and other languages. Built on the same conditioned path as the library Inpainter
(`pgi_tf.inference.conditioning`) and the same Eq. 8 (`inpainting.compose`)."""

from __future__ import annotations

from typing import Any, Mapping

import tensorflow as tf

from pgi_tf import generators
from pgi_tf import hub
from pgi_tf import structural
from pgi_tf.errors import InputError
from pgi_tf.inference import conditioning
from pgi_tf.inference import inpainting


def _to_uint8(images, masks, outputs):
  # Known pixels are copied from the uint8 input so they stay bit-identical.
  hole = masks >= 128
  filled = tf.cast(tf.clip_by_value(tf.round((outputs["inpainted"] + 1.0) * 127.5), 0, 255), tf.uint8)
  return {"inpainted": tf.where(hole, filled, images)}


def _as_float(images, masks):
  return tf.cast(images, tf.float32) / 127.5 - 1.0, tf.cast(masks >= 128, tf.float32)


def _signatures(pipeline, *, float_specs, uint8_specs, extra_specs):
  """(serving_default, inpaint_uint8) tf.functions over pipeline(images, masks, extra_inputs).

  One pair per number of extra inputs: a tf.function with an input signature needs explicit
  arguments (their names are the SavedModel's input names)."""
  if len(extra_specs) == 2:
    @tf.function(input_signature=[*float_specs, *extra_specs])
    def serving_default(images, masks, first, second):
      return pipeline(images, masks, (first, second))

    @tf.function(input_signature=[*uint8_specs, *extra_specs])
    def inpaint_uint8(images, masks, first, second):
      return _to_uint8(images, masks, pipeline(*_as_float(images, masks), (first, second)))
  elif len(extra_specs) == 1:
    @tf.function(input_signature=[*float_specs, *extra_specs])
    def serving_default(images, masks, first):
      return pipeline(images, masks, (first,))

    @tf.function(input_signature=[*uint8_specs, *extra_specs])
    def inpaint_uint8(images, masks, first):
      return _to_uint8(images, masks, pipeline(*_as_float(images, masks), (first,)))
  else:
    @tf.function(input_signature=float_specs)
    def serving_default(images, masks):
      return pipeline(images, masks, ())

    @tf.function(input_signature=uint8_specs)
    def inpaint_uint8(images, masks):
      return _to_uint8(images, masks, pipeline(*_as_float(images, masks), ()))
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
    image_spec = tf.TensorSpec([None, r, r, c], tf.float32, name="images")
    mask_spec = tf.TensorSpec([None, r, r, 1], tf.float32, name="masks")

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

    uint8_specs = [tf.TensorSpec([None, r, r, c], tf.uint8, name="images"),
                   tf.TensorSpec([None, r, r, 1], tf.uint8, name="masks")]
    if class_conditional:
      extra_specs = [tf.TensorSpec([None], tf.int32, name="labels")]
    elif structural_prior is not None:
      extra_specs = structural_prior.graph_input_specs()
    else:
      extra_specs = []
    serving_default, inpaint_uint8 = _signatures(pipeline, float_specs=[image_spec, mask_spec],
                                                 uint8_specs=uint8_specs, extra_specs=extra_specs)
    self.serving_default = serving_default
    self.inpaint_uint8 = inpaint_uint8
    self.input_names = ["images", "masks"] + [spec.name for spec in extra_specs]


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
  p_metadata = hub.read_metadata(prior_predictor_path)
  if p_metadata is None:
    raise InputError(f"--prior_predictor={prior_predictor_path}: not a prior predictor exported by pgi_tf")
  hub.load_prior_predictor(prior_predictor_path, generator_path=generator_path)  # same-G check
  if p_metadata.get("structural_prior", "none") != "none" and not keypoint_refiner_path:
    raise InputError(f"--prior_predictor={prior_predictor_path}: M_{{z+S}} needs its keypoint refiner "
                     "(--keypoint_refiner)")
  module = _InpainterModule(prior_predictor_path, generator_path, p_metadata, keypoint_refiner_path)
  metadata = dict(p_metadata, kind="inpainter", signature="serving_default",
                  input_names=module.input_names, output_key="inpainted")
  hub.save_module(module, path, metadata, signatures={"serving_default": module.serving_default,
                                                      "inpaint_uint8": module.inpaint_uint8})
