"""Stage 1's exports: the generator G and discriminator D as hub modules (§3.1).

Module format (TF2 SavedModel):

  generator/      signature "default": z float32 [N, z_dim] (+ condition float32 [N, c])
                                       -> {"default": images float32 [N, R, R, C] in [-1, 1]}
  discriminator/  signature "default": images float32 [N, R, R, C] in [-1, 1] (+ condition)
                                       -> {"default": logits float32 [N]}  (real > 0)
  <module>/pgi_tf_metadata.json   resolution, channels, z_dim, z distribution and support,
                                  value range, condition_dim, signature and input names.
"""

from __future__ import annotations

from typing import Any, Mapping

import keras
import tensorflow as tf

from pgi_tf.hub.modules import FORMAT_VERSION, HubModuleLayer, save_module


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


def export_generator(generator: keras.Model, path: str, *, metadata: Mapping[str, Any]) -> None:
  """Exports G as a module (signature above), atomically."""
  metadata = dict(metadata, kind="generator",
                  input_names=["z", "condition"] if metadata.get("condition_dim") else ["z"])
  module = _GeneratorModule(generator, metadata["z_dim"], metadata.get("condition_dim", 0))
  save_module(module, path, metadata)


def export_discriminator(discriminator: keras.Model, path: str, *, metadata: Mapping[str, Any]) -> None:
  """Exports D as a module (signature above), atomically."""
  metadata = dict(metadata, kind="discriminator",
                  input_names=["images", "condition"] if metadata.get("condition_dim") else ["images"])
  image_shape = (metadata["resolution"], metadata["resolution"], metadata["channels"])
  module = _DiscriminatorModule(discriminator, image_shape, metadata.get("condition_dim", 0))
  save_module(module, path, metadata)


def load_generator(handle: str, *, flag: str = "--generator") -> HubModuleLayer:
  """Our generator module as a frozen layer: z (+ condition) -> images in [-1, 1]."""
  return HubModuleLayer(handle, flag=flag, name="frozen_generator")


def load_discriminator(handle: str, *, flag: str = "--discriminator") -> HubModuleLayer:
  """Our discriminator module as a frozen layer: images (+ condition) -> logits [N]."""
  layer = HubModuleLayer(handle, flag=flag, name="frozen_discriminator")
  if "images" in layer.input_names:
    layer.input_names = ["images"] + [n for n in layer.input_names if n != "images"]
  return layer


