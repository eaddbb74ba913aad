"""The regression peer (issue 13) as a SavedModel (trained by `pgi_tf.train.regression_inpainter`).

  SavedModel, signature "serving_default": masked_images float32 [N, R, R, C], masks float32
  [N, R, R, 1] -> {"images": [N, R, R, C] in [-1, 1]} (the network's whole output; Eq. 8 is the
  caller's) + pgi_tf_metadata.json: kind "regression_inpainter", resolution, channels.
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

from pgi_tf.hub.modules import FrozenSavedModel, load_saved_model_of_kind, save_module

KIND = "regression_inpainter"
SIGNATURE = "serving_default"


class _RegressionInpainterModule(tf.Module):

  def __init__(self, model: keras.Model, resolution: int, channels: int):
    super().__init__(name="regression_inpainter_module")
    self.model = model

    @tf.function(input_signature=[
        tf.TensorSpec([None, resolution, resolution, channels], tf.float32, name="masked_images"),
        tf.TensorSpec([None, resolution, resolution, 1], tf.float32, name="masks")])
    def serving_default(masked_images, masks):
      return {"images": tf.cast(self.model([masked_images, masks], training=False), tf.float32)}

    self.serving_default = serving_default


def export_regression_inpainter(model: keras.Model, path: str, *, metadata: dict[str, Any]) -> None:
  """SavedModel `serving_default(masked_images, masks) -> {images}` + metadata, atomically."""
  module = _RegressionInpainterModule(model, metadata["resolution"], metadata["channels"])
  save_module(module, path, {**metadata, "kind": KIND}, signatures={SIGNATURE: module.serving_default})


class RegressionInpainter(FrozenSavedModel):
  """A loaded regression inpainter, frozen: `inpainter(masked_images, masks)` -> images [N, R, R, C]."""

  def __init__(self, module, metadata: dict[str, Any], path: str):
    super().__init__(module, metadata, path, signature=SIGNATURE)

  @property
  def channels(self) -> int:
    return int(self.metadata["channels"])

  def __call__(self, masked_images, masks) -> tf.Tensor:
    return self._function(masked_images=tf.cast(masked_images, tf.float32),
                          masks=tf.cast(masks, tf.float32))["images"]


def load_regression_inpainter(path: str, *, flag: str = "--regression_inpainter") -> RegressionInpainter:
  """Loads an export of `pgi_tf.train.regression_inpainter`; one-line InputError otherwise."""
  module, metadata = load_saved_model_of_kind(path, kind=KIND, signature=SIGNATURE, flag=flag,
                                              noun="regression inpainter")
  return RegressionInpainter(module, metadata, path)
