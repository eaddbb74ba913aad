"""Feature extractors for Frechet distances: one interface, several networks.

Every extractor is a callable `images -> features` with a `name`:

  images    float32 [N, H, W, C] in [-1, 1], C = 1 or 3, any H, W (each extractor resizes)
  features  float32 [N, D]

so `frechet.frechet_result` and the evaluate binary never care which network runs. The name
labels every reported number (FID numbers from different networks are not comparable: FID's
standard network is the 2015 Inception graph's pool_3, and keras.applications' InceptionV3 is a
different network that gives different numbers).

Extractors, chosen by `load_extractor(spec)` (the `--fd_extractor` flag):

  "inception"                 HubInceptionExtractor on the TF-GAN Inception module
                              https://tfhub.dev/tensorflow/tfgan/eval/inception/1 (pool_3,
                              2048-d): real FID. Needs network, or the module downloaded
                              elsewhere and passed as a local path:
  "inception:<handle or dir>" the same with another handle or a local copy.
  "savedmodel:<dir>"          SavedModelExtractor: any SavedModel whose signature "default"
                              maps images to {"features": [N, D]}, e.g. the project's
                              Fashion-MNIST classifier (`train_fashion_classifier` +
                              `export_feature_extractor`), the offline extractor.

Preprocessing (`_fit_images`): clip to [-1, 1], bilinear resize (tf.image.resize, half-pixel
centres, no antialiasing) to the network's input size, grey -> RGB by repeating the channel
(RGB -> grey with tf.image.rgb_to_grayscale). Resizing changes FID (clean-fid); this is the
choice made here, applied identically to real and generated images.

Loading goes through `pgi_tf.hub.load_module`, the project's single path for TF-Hub handles
and local modules; signatures are called with keyword arguments (positional calls raise
TypeError on loaded signatures).
"""

from __future__ import annotations

import os
from typing import Protocol, runtime_checkable

import keras
import numpy as np
import tensorflow as tf

from pgi_tf import hub
from pgi_tf.errors import InputError

INCEPTION_HANDLE = "https://tfhub.dev/tensorflow/tfgan/eval/inception/1"
INCEPTION_IMAGE_SIZE = 299           # TF-GAN's INCEPTION_DEFAULT_IMAGE_SIZE
INCEPTION_OUTPUT_KEY = "pool_3"      # TF-GAN's INCEPTION_FINAL_POOL, 2048-d
FEATURES_KEY = "features"            # output key of our exported extractors
FEATURE_LAYER_NAME = "features"      # penultimate layer of build_fashion_classifier
EXTRACTOR_METADATA_FILENAME = "pgi_tf_extractor.json"
DEFAULT_FLAG = "--fd_extractor"


@runtime_checkable
class FeatureExtractor(Protocol):
  """images float32 [N, H, W, C] in [-1, 1] -> features float32 [N, D]; `name` labels results."""
  name: str

  def __call__(self, images) -> np.ndarray:
    ...


# --------------------------------------------------------------------------- batching

def _image_batches(images_or_dataset, batch_size: int):
  """Yields float32 image batches from an array / tensor or a tf.data.Dataset.

  A dataset may yield images or (images, labels, ...) tuples or {"images": ...} dicts,
  batched ([B, H, W, C]) or not ([H, W, C], then batched here by `batch_size`).
  """
  if isinstance(images_or_dataset, tf.data.Dataset):
    dataset = images_or_dataset
    spec = dataset.element_spec
    if isinstance(spec, (tuple, list)):
      dataset = dataset.map(lambda *element: element[0])
    elif isinstance(spec, dict):
      if "images" not in spec:
        raise ValueError(f"dataset elements are dicts without an 'images' key: {sorted(spec)}")
      dataset = dataset.map(lambda element: element["images"])
    if dataset.element_spec.shape.rank == 3:
      dataset = dataset.batch(batch_size)
    for batch in dataset:
      yield batch
    return
  array = np.asarray(images_or_dataset, dtype=np.float32)
  if array.ndim == 3:
    array = array[None]
  for start in range(0, len(array), batch_size):
    yield array[start:start + batch_size]


def compute_features(extractor: FeatureExtractor, images_or_dataset, *,
                     batch_size: int = 64) -> np.ndarray:
  """Runs `extractor` over all images in batches and returns float32 features [N, D].

  Args:
    extractor: any FeatureExtractor.
    images_or_dataset: float [N, H, W, C] in [-1, 1], or a finite tf.data.Dataset (see
      `_image_batches`; e.g. `make_image_dataset(..., repeat=False)`).
    batch_size: images per call for arrays and unbatched datasets.
  """
  if batch_size < 1:
    raise ValueError(f"batch_size={batch_size}: must be >= 1")
  features = [np.asarray(extractor(batch), dtype=np.float32)
              for batch in _image_batches(images_or_dataset, batch_size)]
  if not features:
    raise ValueError("compute_features: no images")
  return np.concatenate(features, axis=0)


# --------------------------------------------------------------------------- preprocessing

def _fit_images(images, *, height: int | None, width: int | None,
                channels: int | None) -> tf.Tensor:
  """[-1, 1] NHWC images -> float32 at the network's input size and channel count."""
  images = tf.convert_to_tensor(images)
  if images.shape.rank == 3:
    images = images[None]
  if images.shape.rank != 4 or images.shape[-1] not in (1, 3):
    raise ValueError(f"images: expected [N, H, W, 1 or 3], got shape {images.shape}")
  images = tf.clip_by_value(tf.cast(images, tf.float32), -1.0, 1.0)
  if height is not None and width is not None and tuple(images.shape[1:3]) != (height, width):
    images = tf.image.resize(images, [height, width], method="bilinear")
  if channels == 3 and images.shape[-1] == 1:
    images = tf.image.grayscale_to_rgb(images)
  elif channels == 1 and images.shape[-1] == 3:
    images = tf.image.rgb_to_grayscale(images)
  return images


class _SignatureCaller:
  """Calls one signature of a loaded module by keyword, returning one output as [N, D]."""

  def __init__(self, module, *, location: str, signature: str, output_key: str, flag: str):
    if signature not in module.signatures:
      raise InputError(f"{flag}={location}: module has no signature {signature!r} "
                       f"(found: {', '.join(sorted(module.signatures)) or 'none'})")
    self.function = module.signatures[signature]
    _, input_specs = self.function.structured_input_signature
    if len(input_specs) != 1:
      raise InputError(f"{flag}={location}: signature {signature!r} must take one image input, "
                       f"it takes {sorted(input_specs)}")
    # TF1 Hub modules name a single input "default" or "images"; read whichever it is.
    (self.input_name, input_spec), = input_specs.items()
    shape = input_spec.shape
    if shape.rank != 4:
      raise InputError(f"{flag}={location}: signature {signature!r} input {self.input_name!r} "
                       f"has shape {shape}, expected [N, H, W, C] images")
    self.height, self.width, self.channels = shape[1], shape[2], shape[3]
    outputs = self.function.structured_outputs
    if output_key not in outputs:
      raise InputError(f"{flag}={location}: signature {signature!r} has no output {output_key!r} "
                       f"(found: {', '.join(sorted(outputs))})")
    self.output_key = output_key
    self.module = module  # keeps the loaded variables alive

  def __call__(self, images, *, height=None, width=None, channels=None) -> np.ndarray:
    images = _fit_images(images, height=height or self.height, width=width or self.width,
                         channels=channels or self.channels)
    outputs = self.function(**{self.input_name: images})
    features = tf.cast(outputs[self.output_key], tf.float32)
    # pool_3 of the TF-GAN module is [N, 1, 1, 2048]; TF-GAN flattens it the same way.
    return tf.reshape(features, [tf.shape(features)[0], -1]).numpy()


# --------------------------------------------------------------------------- extractors

class HubInceptionExtractor:
  """Inception pool_3 features from a TF-Hub handle or a local copy of the module (FID).

  The default handle is TF-GAN's Inception module (the 2015-12-05 graph FID is defined on);
  its signature "default" takes images [N, 299, 299, 3] in [-1, 1] and returns a dict with
  "pool_3" (and "logits"). Images are resized bilinearly to 299x299 and grey images are
  repeated to 3 channels. The module is loaded on the first call, so building the extractor
  costs nothing and an offline machine only fails when features are actually needed -- with
  an InputError telling the user to download the module elsewhere and pass its local path.

  Args:
    handle: TF-Hub handle (URL) or local module directory.
    signature: signature to call.
    output_key: output of the signature holding the features.
    image_size: input side of the network.
    flag: flag named in error messages.
  """

  def __init__(self, handle: str = INCEPTION_HANDLE, *, signature: str = "default",
               output_key: str = INCEPTION_OUTPUT_KEY, image_size: int = INCEPTION_IMAGE_SIZE,
               flag: str = DEFAULT_FLAG):
    self.handle = handle
    self.signature = signature
    self.output_key = output_key
    self.image_size = image_size
    self.flag = flag
    output_label = "pool3" if output_key == INCEPTION_OUTPUT_KEY else output_key
    self.name = f"inception_{output_label}:{handle}"
    self._caller: _SignatureCaller | None = None

  def load(self) -> None:
    """Loads the module now (otherwise done by the first call)."""
    if self._caller is not None:
      return
    module = load_module_or_explain(self.handle, flag=self.flag, scheme="inception")
    self._caller = _SignatureCaller(module, location=self.handle, signature=self.signature,
                                    output_key=self.output_key, flag=self.flag)

  def __call__(self, images) -> np.ndarray:
    self.load()
    return self._caller(images, height=self.image_size, width=self.image_size, channels=3)


class SavedModelExtractor:
  """Features from a local SavedModel whose signature maps images to a feature dict.

  Used for the project's own extractors (`export_feature_extractor`: signature "default",
  input "images" [N, R, R, C] in [-1, 1], output "features" [N, D]). Images are resized to
  the signature's input size and converted to its channel count when they differ.

  Args:
    path: SavedModel directory.
    signature: signature to call.
    output_key: output holding the features.
    flag: flag named in error messages.
  """

  def __init__(self, path: str, *, signature: str = "default", output_key: str = FEATURES_KEY,
               flag: str = DEFAULT_FLAG):
    self.path = path
    self.name = f"savedmodel:{path}"
    module = hub.load_module(path, flag=flag)
    self._caller = _SignatureCaller(module, location=path, signature=signature,
                                    output_key=output_key, flag=flag)
    self.metadata = hub.read_metadata(path, filename=EXTRACTOR_METADATA_FILENAME)

  def __call__(self, images) -> np.ndarray:
    return self._caller(images)


def load_module_or_explain(handle: str, *, flag: str, scheme: str):
  """hub.load_module, but a remote handle that cannot be downloaded (no network here) says how
  to pass a local copy instead: `<flag>=<scheme>:/path/to/module`."""
  try:
    return hub.load_module(handle, flag=flag)
  except InputError as e:
    if hub.is_remote_handle(handle):
      reason = type(e.__context__).__name__ if e.__context__ is not None else "no network"
      raise InputError(
          f"{flag}={scheme}:{handle}: the handle cannot be downloaded here ({reason}); "
          f"download it on a machine with network and pass the local path "
          f"({flag}={scheme}:/path/to/module)") from None
    raise


def parse_extractor_spec(spec: str, *, hub_scheme: str, default_handle: str, flag: str,
                         what: str = "extractor") -> tuple[str, str]:
  """"<hub_scheme>[:<handle or dir>]" -> ("hub", handle); "savedmodel:<dir>" -> ("savedmodel", dir).

  Raises InputError for an unknown scheme or a local path that does not exist (remote handles
  are only loaded, and may fail offline, at first use).
  """
  kind, _, location = spec.partition(":")
  if kind == hub_scheme:
    handle = location or default_handle
    if not hub.is_remote_handle(handle) and not os.path.isdir(handle):
      raise InputError(f"{flag}={spec}: no such module directory {handle}")
    return "hub", handle
  if kind == "savedmodel":
    if not location:
      raise InputError(f"{flag}={spec}: give the SavedModel directory, savedmodel:<dir>")
    if not os.path.isdir(location):
      raise InputError(f"{flag}={spec}: no such SavedModel directory {location}")
    return "savedmodel", location
  raise InputError(f"{flag}={spec}: unknown {what}, use {hub_scheme}, {hub_scheme}:<handle or dir> "
                   "or savedmodel:<dir>")


def load_extractor(spec: str, *, flag: str = DEFAULT_FLAG) -> FeatureExtractor:
  """The extractor named by `spec` (module docstring): "inception", "inception:<handle or
  dir>" or "savedmodel:<dir>".

  Raises:
    InputError: unknown spec, or a local path that does not exist.
  """
  kind, location = parse_extractor_spec(spec, hub_scheme="inception", default_handle=INCEPTION_HANDLE,
                                        flag=flag)
  if kind == "hub":
    return HubInceptionExtractor(location, flag=flag)
  return SavedModelExtractor(location, flag=flag)


# ------------------------------------------------------------------- Fashion-MNIST classifier

def build_fashion_classifier(*, resolution: int = 32, channels: int = 1, feature_dim: int = 128,
                             num_classes: int = 10, base_channels: int = 32) -> keras.Model:
  """A small CNN classifier whose penultimate layer ("features") is the FD feature space.

  Fashion-MNIST has no standard feature network (Inception was trained on ImageNet colour
  photographs), so the project trains this one and reports Frechet distances in its feature
  space, labelled as such.

  Args:
    resolution: image side (32 = Fashion-MNIST padded to 32, as the data pipeline does).
    channels: 1 for Fashion-MNIST.
    feature_dim: width of the feature layer, D of the Frechet distance.
    num_classes: 10 Fashion-MNIST classes.
    base_channels: width of the first conv block; doubles once.

  Returns:
    An uncompiled functional model images [N, R, R, C] in [-1, 1] -> logits [N, classes].
  """
  if resolution < 8 or resolution % 4:
    raise InputError(f"resolution={resolution}: the classifier needs a multiple of 4, >= 8")
  inputs = keras.Input((resolution, resolution, channels), name="images")
  x = inputs
  for level, width in enumerate((base_channels, 2 * base_channels)):
    x = keras.layers.Conv2D(width, 3, padding="same", activation="relu", name=f"conv{level}a")(x)
    x = keras.layers.Conv2D(width, 3, strides=2, padding="same", activation="relu",
                            name=f"conv{level}b")(x)
  x = keras.layers.Flatten(name="flatten")(x)
  x = keras.layers.Dropout(0.3, name="dropout")(x)  # regularises; inactive when extracting
  features = keras.layers.Dense(feature_dim, activation="relu", name=FEATURE_LAYER_NAME)(x)
  logits = keras.layers.Dense(num_classes, name="logits")(features)
  return keras.Model(inputs, logits, name="fashion_classifier")


def train_fashion_classifier(*, train_dataset: tf.data.Dataset, epochs: int,
                             model: keras.Model | None = None, feature_dim: int = 128,
                             learning_rate: float = 1e-3,
                             validation_dataset: tf.data.Dataset | None = None,
                             steps_per_epoch: int | None = None, verbose: int = 0) -> keras.Model:
  """Trains the classifier on batches of (images [B, R, R, C] in [-1, 1], int labels [B]).

  Args:
    train_dataset: batched (images, labels); e.g. `make_image_dataset(source="fashion_mnist",
      ..., with_labels=True)`. A repeating dataset needs `steps_per_epoch`.
    epochs: passes (of `steps_per_epoch` batches if given).
    model: a model from `build_fashion_classifier`; None builds one sized from the dataset.
    feature_dim: width of the feature layer when building the model.
    learning_rate: Adam step size.
    validation_dataset: optional held-out (images, labels) batches, reported each epoch.
    steps_per_epoch: batches per epoch for repeating datasets.
    verbose: Keras fit verbosity.

  Returns:
    The trained model (logits head; export the "features" layer with
    `export_feature_extractor`).
  """
  spec = train_dataset.element_spec
  if not isinstance(spec, (tuple, list)) or len(spec) != 2:
    raise ValueError("train_dataset must yield (images, labels) batches")
  image_shape = spec[0].shape
  if image_shape.rank != 4 or image_shape[1] != image_shape[2]:
    raise ValueError(f"train_dataset images must be square [B, R, R, C] batches, got {image_shape}")
  if model is None:
    model = build_fashion_classifier(resolution=image_shape[1], channels=image_shape[3],
                                     feature_dim=feature_dim)
  model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                metrics=["accuracy"])
  model.fit(train_dataset, epochs=epochs, steps_per_epoch=steps_per_epoch,
            validation_data=validation_dataset, shuffle=False, verbose=verbose)
  return model


class _FeatureModule(tf.Module):

  def __init__(self, feature_model: keras.Model, image_shape):
    super().__init__(name="feature_extractor")
    self.feature_model = feature_model

    @tf.function(input_signature=[tf.TensorSpec([None, *image_shape], tf.float32, name="images")])
    def default(images):
      features = tf.cast(self.feature_model(images, training=False), tf.float32)
      return {FEATURES_KEY: tf.reshape(features, [tf.shape(features)[0], -1])}

    self.default = default


def export_feature_extractor(model: keras.Model, path: str, *,
                             feature_layer_name: str = FEATURE_LAYER_NAME) -> None:
  """Exports model's `feature_layer_name` output as a SavedModel extractor, atomically.

  Signature "default": images float32 [N, R, R, C] in [-1, 1] -> {"features": [N, D]}.
  Loaded back by `load_extractor("savedmodel:<path>")`. A crash leaves no half-written
  directory (written to a temporary sibling, then renamed).
  """
  try:
    feature_output = model.get_layer(feature_layer_name).output
  except ValueError:
    raise InputError(f"feature_layer_name={feature_layer_name}: model {model.name} has no such "
                     f"layer") from None
  feature_model = keras.Model(model.inputs, feature_output,
                              name=f"{model.name}_{feature_layer_name}")
  image_shape = tuple(model.inputs[0].shape[1:])
  module = _FeatureModule(feature_model, image_shape)
  metadata = {"kind": "feature_extractor", "source_model": model.name,
              "feature_layer_name": feature_layer_name,
              "feature_dim": int(np.prod(feature_output.shape[1:])),
              "input_shape": list(image_shape), "value_range": [-1.0, 1.0],
              "signature": "default", "input_name": "images", "output_key": FEATURES_KEY}
  hub.save_module(module, path, metadata, metadata_filename=EXTRACTOR_METADATA_FILENAME)
