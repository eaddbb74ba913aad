"""§6.3.3's masked-image class predictor as a SavedModel (trained by `pgi_tf.train.class_predictor`).

  SavedModel, signature "serving_default": masked_images float32 [N, R, R, 3], masks float32
  [N, R, R, 1] -> {"logits": [N, num_classes], "labels": int32 [N]}
  + pgi_tf_metadata.json: kind "class_predictor", resolution, num_classes, class names.
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

from pgi_tf.hub.modules import FrozenSavedModel, load_saved_model_of_kind, save_module

KIND = "class_predictor"
SIGNATURE = "serving_default"


class _ClassPredictorModule(tf.Module):

  def __init__(self, model: keras.Model, resolution: int):
    super().__init__(name="class_predictor_module")
    self.model = model

    @tf.function(input_signature=[
        tf.TensorSpec([None, resolution, resolution, 3], tf.float32, name="masked_images"),
        tf.TensorSpec([None, resolution, resolution, 1], tf.float32, name="masks")])
    def serving_default(masked_images, masks):
      logits = tf.cast(self.model([masked_images, masks], training=False), tf.float32)
      return {"logits": logits, "labels": tf.argmax(logits, axis=-1, output_type=tf.int32)}

    self.serving_default = serving_default


def export_class_predictor(model: keras.Model, path: str, *, metadata: dict[str, Any]) -> None:
  """SavedModel `serving_default(masked_images, masks) -> {logits, labels}` + metadata, atomically."""
  module = _ClassPredictorModule(model, metadata["resolution"])
  save_module(module, path, metadata, signatures={SIGNATURE: module.serving_default})


class ClassPredictor(FrozenSavedModel):
  """A loaded class predictor: frozen (no attribute can be set, no variable is trainable).

  `predictor(masked_images, masks)` -> float32 logits [N, num_classes]; works eagerly and
  inside tf.function. `predictor.labels(...)` -> int32 argmax. The SavedModel stays alive
  as long as this object does.
  """

  def __init__(self, module, metadata: dict[str, Any], path: str):
    super().__init__(module, metadata, path, signature=SIGNATURE)

  @property
  def num_classes(self) -> int:
    return int(self.metadata["num_classes"])

  def __call__(self, masked_images, masks) -> tf.Tensor:
    return self._function(masked_images=tf.cast(masked_images, tf.float32),
                          masks=tf.cast(masks, tf.float32))["logits"]

  def labels(self, masked_images, masks) -> tf.Tensor:
    return tf.argmax(self(masked_images, masks), axis=-1, output_type=tf.int32)


def load_class_predictor(path: str, *, flag: str = "--class_predictor") -> ClassPredictor:
  """Loads an export of `train` (export/class_predictor); one-line InputError otherwise."""
  module, metadata = load_saved_model_of_kind(path, kind=KIND, signature=SIGNATURE, flag=flag,
                                              noun="class predictor")
  return ClassPredictor(module, metadata, path)
