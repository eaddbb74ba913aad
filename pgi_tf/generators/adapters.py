"""One frozen Keras adapter per generator family: our convention onto the module's signature.

  ours:    z in the module's prior (metadata z_distribution / z_support) -> images in [-1, 1]

Each adapter holds a `HubModuleLayer`, so the module's variables are never Keras weights
(frozen by construction) and gradients reach z (Eq. 2). Module outputs in [0, 1] are mapped
by 2x - 1.
"""

from __future__ import annotations

from typing import Sequence

import keras
import tensorflow as tf

from pgi_tf import hub


def _to_ours(images: tf.Tensor, value_range) -> tf.Tensor:
  """Maps [low, high] linearly onto [-1, 1] (identity for modules already in [-1, 1])."""
  low, high = value_range
  if (low, high) == (-1.0, 1.0):
    return images
  return (images - low) * (2.0 / (high - low)) - 1.0


class _GeneratorAdapter(keras.layers.Layer):
  """Base: one frozen HubModuleLayer, output mapped to [-1, 1], static output spec."""

  def __init__(self, handle: str, *, signature: str, resolution: int, value_range, flag: str,
               output_resolution: int | None = None, output_key: str = "default",
               tags: Sequence[str] | None = None, tags_flag: str | None = None, **kwargs):
    kwargs.setdefault("trainable", False)
    super().__init__(**kwargs)
    self.handle = handle
    self.module_resolution = resolution
    self.resolution = int(output_resolution or resolution)
    self.value_range = tuple(float(v) for v in value_range)
    # tags: the module's graph variant holding G; a fixed-batch variant is padded and sliced
    # inside HubModuleLayer, so the adapter takes any batch.
    self.module_layer = hub.HubModuleLayer(handle, signature=signature, flag=flag, output_key=output_key,
                                           tags=tags, tags_flag=tags_flag, name=f"{self.name}_module")
    self.metadata: dict | None = None  # set by resolve_generator

  @property
  def loaded_module(self):
    """The loaded hub module (for a tf.Module that must save its variables, e.g. the inpainter)."""
    return self.module_layer._module.value  # pylint: disable=protected-access

  def finish(self, images: tf.Tensor) -> tf.Tensor:
    """Module output -> ours: [-1, 1], resized to `resolution` when it differs from the module's."""
    images = _to_ours(tf.cast(images, tf.float32), self.value_range)
    if self.resolution != self.module_resolution:
      # Bicubic up (a 128-px PG-GAN in a 256-px pipeline), area-averaged down; then clipped
      # because bicubic overshoots.
      method = "bicubic" if self.resolution > self.module_resolution else "area"
      images = tf.clip_by_value(tf.image.resize(images, [self.resolution, self.resolution], method=method,
                                                antialias=method == "area"), -1.0, 1.0)
    return images

  def compute_output_spec(self, inputs):
    first = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
    return keras.KerasTensor((first.shape[0], self.resolution, self.resolution, 3), dtype="float32")


class ProGANAdapter(_GeneratorAdapter):
  """PG-GAN (`default`: one input [N, 512], z ~ N(0, I)) -> images in [-1, 1]."""

  def call(self, z):
    return self.finish(self.module_layer({"default": z}))


class CompareGANAdapter(_GeneratorAdapter):
  """compare_gan -> images in [-1, 1]: one input [N, 128], z ~ U[-1, 1]; signature `generator`
  (input and output "default") or, in the tagged layout, `default` (input "z", output "generated")."""

  def __init__(self, handle: str, *, z_input: str = "default", **kwargs):
    super().__init__(handle, **kwargs)
    self.z_input = z_input

  def call(self, z):
    return self.finish(self.module_layer({self.z_input: z}))


class CompareGANDiscriminatorAdapter(keras.layers.Layer):
  """compare_gan's frozen D (`discriminator`): our images in [-1, 1] -> logits [N] (real > 0).

  compare_gan's own export (compare_gan/gans/modular_gan.py, `_module_fn`) names D's output
  "prediction" and fills it with the FIRST value its discriminators return, which is
  sigmoid(logits) (e.g. architectures/resnet5.py: `return tf.nn.sigmoid(out_logit), out_logit, h`):
  a probability. Eq. 5 needs the logit, so an output named "prediction" is mapped back with
  log(p) - log(1 - p) (p clipped to [1e-7, 1 - 1e-7]); any other output key is taken as logits.
  """

  PROBABILITY_OUTPUTS = ("prediction",)

  def __init__(self, handle: str, *, signature: str = "discriminator", value_range=(0.0, 1.0),
               flag: str = "--generator", module_resolution: int | None = None, input_key: str = "default",
               output_key: str = "default", tags: Sequence[str] | None = None, tags_flag: str | None = None,
               **kwargs):
    kwargs.setdefault("trainable", False)
    super().__init__(**kwargs)
    self.handle = handle
    self.value_range = tuple(float(v) for v in value_range)
    self.module_resolution = module_resolution
    self.module_layer = hub.HubModuleLayer(handle, signature=signature, flag=flag, output_key=output_key,
                                           tags=tags, tags_flag=tags_flag, name=f"{self.name}_module")
    self.input_key = input_key
    self.outputs_probability = output_key in self.PROBABILITY_OUTPUTS
    self.metadata: dict | None = None

  def call(self, images):
    low, high = self.value_range
    images = tf.cast(images, tf.float32)
    if self.module_resolution and images.shape[1] != self.module_resolution:  # G was resized: undo it
      images = tf.image.resize(images, [self.module_resolution] * 2, method="area", antialias=True)
    module_images = (images + 1.0) * ((high - low) / 2.0) + low
    output = tf.reshape(self.module_layer({self.input_key: module_images}), [-1])
    if self.outputs_probability:
      probability = tf.clip_by_value(output, 1e-7, 1.0 - 1e-7)
      output = tf.math.log(probability) - tf.math.log1p(-probability)
    return output

  def compute_output_spec(self, images):
    return keras.KerasTensor((images.shape[0],), dtype="float32")


class BigGANAdapter(_GeneratorAdapter):
  """BigGAN / BigGAN-deep (`default`: z, y one-hot, truncation scalar) -> images in [-1, 1].

  Call with z (when built with `class_index`) or [z, y]. The truncation t is fixed at
  construction because it is part of z's prior (z in [-2t, 2t]).
  """

  def __init__(self, handle: str, *, truncation: float, num_classes: int,
               class_index: int | None = None, **kwargs):
    super().__init__(handle, **kwargs)
    self.truncation = float(truncation)
    self.num_classes = int(num_classes)
    self.class_index = class_index

  def call(self, inputs):
    if self.class_index is None:
      z, y = inputs
    else:
      z = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
      y = tf.one_hot(tf.fill([tf.shape(z)[0]], self.class_index), self.num_classes)
    return self.finish(self.module_layer({"z": z, "y": y, "truncation": tf.constant(self.truncation)}))
