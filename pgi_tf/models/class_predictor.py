"""The masked-image class predictor of §6.3.3: masked image I_d (+ mask M) -> class logits.

BigGAN is class-conditional, so inpainting ImageNet needs the class at inference. The paper:
"We fine tune a ResNet-101 pre-trained on ImageNet on masked images. We achieve 75.3% top-1
accuracy (starting from 55%) on masked ImageNet validation set compared to 77% on unmasked
version." `--label=auto` runs this network on the masked image.

  architecture  network                                          what it sees
  resnet101     keras.applications.ResNet101 (the paper's)       I_d only, resized to input_size
  resnet50      keras.applications.ResNet50 (cheaper)            (default 224, what the ImageNet
                                                                 top was trained at), caffe-style
                                                                 preprocess_input on [0, 255]
  tiny          3 stride-2 convs + global average pool + dense   [I_d, M] at R. For smoke tests
                                                                 only: no pretrained weights

The ResNets do not get M as a channel (their ImageNet weights take 3 channels); holes are 0
in [-1, 1], i.e. mid grey (127.5) before the ImageNet mean is subtracted. Every network ends
in a Dense layer named "logits" on the pooled features, so checkpoints and `.weights.h5`
files have one layout per (architecture, num_classes) whatever weights it started from.

weights:
  ""          random initialisation.
  "imagenet"  keras-applications' file, downloaded into $KERAS_HOME/models (default
              ~/.keras/models): the full file (with its 1000-way top) when num_classes is
              1000, else the `_notop` file and a new random head.
  a path      `*.weights.h5`: a whole class predictor saved with `model.save_weights` (same
              architecture, resolution and classes); `*.h5`: a keras-applications ResNet file,
              the official `resnet101_weights_tf_dim_ordering_tf_kernels.h5` (backbone and,
              for 1000 classes, the top) or `..._notop.h5` (backbone only).
"""

from __future__ import annotations

import os

import h5py
import keras
from absl import logging

from pgi_tf.data import images as images_lib
from pgi_tf.errors import InputError

ARCHITECTURES = ("resnet101", "resnet50", "tiny")
DEFAULT_RESNET_INPUT_SIZE = 224  # the size the ImageNet-pretrained ResNets were trained at
MIN_RESNET_INPUT_SIZE = 32       # keras.applications' lower limit (five stride-2 stages)
IMAGENET_CLASSES = 1000
WEIGHTS_BASE_URL = "https://storage.googleapis.com/tensorflow/keras-applications/resnet/"
# (file name, md5) of keras-applications' files, with and without the top; the hashes are
# keras.src.applications.resnet.WEIGHTS_HASHES (copied: that module is private).
_WEIGHT_FILES = {
    "resnet50": {True: ("resnet50_weights_tf_dim_ordering_tf_kernels.h5", "2cb95161c43110f7111970584f804107"),
                 False: ("resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
                         "4d473c1dd8becc155b73f8504c6f6626")},
    "resnet101": {True: ("resnet101_weights_tf_dim_ordering_tf_kernels.h5", "f1aeb4b969a6efcfb50fad2f0c20cfc5"),
                  False: ("resnet101_weights_tf_dim_ordering_tf_kernels_notop.h5",
                          "88cf7a10940856eca736dc7b7e228a21")},
}
_RESNETS = {"resnet50": keras.applications.ResNet50, "resnet101": keras.applications.ResNet101}
TINY_WIDTHS = (16, 32, 64)  # three stride-2 convs: enough to overfit a batch in a smoke test


@keras.saving.register_keras_serializable(package="pgi_tf")
class ResNetInput(keras.layers.Layer):
  """(I_d in [-1, 1], M) -> what a keras.applications ResNet expects.

  Holes are zeroed again ((1 - M) * I, a no-op on a proper I_d), pixels go to [0, 255],
  are resized to input_size (bilinear with antialias, which commutes with the affine maps
  around it) and get `keras.applications.resnet.preprocess_input` (RGB -> BGR, minus the
  ImageNet channel means).
  """

  def __init__(self, input_size: int, **kwargs):
    super().__init__(**kwargs)
    self.input_size = int(input_size)

  def call(self, inputs):
    images, masks = inputs
    pixels = ((1.0 - masks) * images + 1.0) * 127.5
    if tuple(pixels.shape[1:3]) != (self.input_size, self.input_size):
      pixels = keras.ops.image.resize(pixels, (self.input_size, self.input_size),
                                      interpolation="bilinear", antialias=True)
    return keras.applications.resnet.preprocess_input(pixels)

  def compute_output_shape(self, input_shape):
    return (input_shape[0][0], self.input_size, self.input_size, 3)

  def get_config(self):
    return {**super().get_config(), "input_size": self.input_size}


def resolve_input_size(*, architecture: str, resolution: int, input_size: int | None = None,
                       flag: str = "--config.model.input_size") -> int:
  """The side the network runs at: input_size, or 224 for ResNets and R for tiny."""
  if architecture == "tiny":
    if input_size not in (None, 0, resolution):
      raise InputError(f"{flag}={input_size}: the tiny architecture runs at the image resolution "
                       f"{resolution}; leave it unset")
    return resolution
  if not input_size:
    return DEFAULT_RESNET_INPUT_SIZE
  if isinstance(input_size, bool) or not isinstance(input_size, int) or input_size < MIN_RESNET_INPUT_SIZE:
    raise InputError(f"{flag}={input_size!r}: ResNets need an integer input size >= {MIN_RESNET_INPUT_SIZE}")
  return input_size


def imagenet_weights_file(architecture: str, *, include_top: bool,
                          flag: str = "--config.model.weights") -> str:
  """keras-applications' ImageNet file for a ResNet, from the cache or downloaded.

  The cache is $KERAS_HOME/models (read now, not at import), else ~/.keras/models, as Keras does.
  """
  name, md5 = _WEIGHT_FILES[architecture][include_top]
  cache_dir = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
  try:
    return keras.utils.get_file(name, WEIGHTS_BASE_URL + name, cache_subdir="models",
                                file_hash=md5, cache_dir=cache_dir)
  except Exception as error:  # noqa: BLE001 -- no network, proxy, hash mismatch: one line
    raise InputError(f"{flag}=imagenet: cannot download {name} ({type(error).__name__}); download {name} "
                     f"from {WEIGHTS_BASE_URL} on a machine with network and pass its path") from None


def _legacy_h5_layer_names(path: str, flag: str) -> list[str]:
  """Layer names of a Keras 2 (legacy) weights file such as keras-applications' ResNet files."""
  try:
    with h5py.File(path, "r") as stream:
      group = stream["model_weights"] if "layer_names" not in stream.attrs and "model_weights" in stream else stream
      names = group.attrs.get("layer_names")
      if names is None:
        raise InputError(f"{flag}={path}: not a keras-applications weights file (no layer_names); "
                         "a whole class predictor is saved as *.weights.h5")
      return [n.decode() if isinstance(n, bytes) else str(n) for n in names]
  except InputError:
    raise
  except Exception as error:  # noqa: BLE001 -- h5py raises OSError, KeyError, ...
    raise InputError(f"{flag}={path}: unreadable weights file ({type(error).__name__}: "
                     f"{' '.join(str(error).split())[:160]})") from None


def _load_resnet_file(path: str, *, architecture: str, backbone: keras.Model, head: keras.layers.Dense,
                      num_classes: int, flag: str) -> None:
  """Loads a keras-applications ResNet .h5 (full or _notop) into the backbone (and head)."""
  has_top = "predictions" in _legacy_h5_layer_names(path, flag)
  try:
    if not has_top:
      backbone.load_weights(path)
      return
    full = _RESNETS[architecture](include_top=True, weights=None, input_shape=backbone.input_shape[1:],
                                  classes=IMAGENET_CLASSES, classifier_activation=None)
    full.load_weights(path)
  except ValueError as error:
    raise InputError(f"{flag}={path}: not {architecture} weights ({str(error).splitlines()[0][:160]})") from None
  for layer in backbone.layers:
    if layer.weights:
      layer.set_weights(full.get_layer(layer.name).get_weights())
  if num_classes == IMAGENET_CLASSES:
    head.set_weights(full.get_layer("predictions").get_weights())
  else:
    logging.info("%s: pretrained backbone, new %d-way head", path, num_classes)


def build_class_predictor(*, architecture: str, resolution: int, num_classes: int, weights: str = "",
                          input_size: int | None = None,
                          weights_flag: str = "--config.model.weights") -> keras.Model:
  """The class predictor: [masked_images [N,R,R,3] in [-1,1], masks [N,R,R,1]] -> logits [N,K].

  Args:
    architecture: one of ARCHITECTURES (table in the module docstring).
    resolution: R, one of images.SUPPORTED_RESOLUTIONS.
    num_classes: K (1000 for ImageNet / BigGAN).
    weights: "", "imagenet" or a file path (module docstring).
    input_size: side the ResNet runs at (default 224); tiny runs at R.
    weights_flag: the flag named in error messages about `weights`.

  Raises:
    InputError: one line naming the flag or file.
  """
  if architecture not in ARCHITECTURES:
    raise InputError(f"--config.model.architecture={architecture!r}: choose one of {', '.join(ARCHITECTURES)}")
  resolution = images_lib.check_resolution(resolution, flag="--config.data.resolution")
  if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
    raise InputError(f"--config.model.num_classes={num_classes!r}: need an integer >= 2")
  size = resolve_input_size(architecture=architecture, resolution=resolution, input_size=input_size)
  weights_path = _weights_path(weights, architecture=architecture, num_classes=num_classes, flag=weights_flag)
  masked_images = keras.Input((resolution, resolution, 3), name="masked_images")
  masks = keras.Input((resolution, resolution, 1), name="masks")
  head = keras.layers.Dense(num_classes, name="logits")
  backbone = None
  if architecture == "tiny":
    x = keras.layers.Concatenate(name="image_and_mask")([masked_images, masks])
    for index, width in enumerate(TINY_WIDTHS):
      x = keras.layers.Conv2D(width, 3, strides=2, padding="same", activation="relu", name=f"conv{index}")(x)
    features = keras.layers.GlobalAveragePooling2D(name="pool")(x)
  else:
    backbone = _RESNETS[architecture](include_top=False, weights=None, input_shape=(size, size, 3),
                                      pooling="avg")
    features = backbone(ResNetInput(size, name="resnet_input")([masked_images, masks]))
  model = keras.Model([masked_images, masks], head(features), name=f"class_predictor_{architecture}")

  # ------------------------------------------------------------------ weights
  if not weights_path:
    return model
  if weights_path.endswith(".weights.h5"):
    try:
      model.load_weights(weights_path)
    except Exception as error:  # noqa: BLE001 -- shape or layout mismatch, unreadable file
      raise InputError(f"{weights_flag}={weights}: cannot load into a {architecture} class predictor with "
                       f"{num_classes} classes at {resolution} px ({type(error).__name__}: "
                       f"{' '.join(str(error).split())[:160]})") from None
  else:
    _load_resnet_file(weights_path, architecture=architecture, backbone=backbone, head=head,
                      num_classes=num_classes, flag=weights_flag)
  return model


def _weights_path(weights: str, *, architecture: str, num_classes: int, flag: str) -> str:
  """The file `weights` stands for ("" for random init), checked before anything is built,
  so a missing file or download fails in a second rather than after building a ResNet."""
  if not weights:
    return ""
  whole_model = weights.endswith(".weights.h5")
  if not whole_model and architecture == "tiny":
    raise InputError(f"{flag}={weights}: the tiny architecture has no ImageNet weights; "
                     "use a *.weights.h5 saved from a tiny class predictor")
  if weights == "imagenet":
    return imagenet_weights_file(architecture, include_top=num_classes == IMAGENET_CLASSES, flag=flag)
  if not weights.endswith((".h5", ".hdf5")):
    raise InputError(f"{flag}={weights}: expected imagenet, a *.weights.h5 class predictor or a "
                     "keras-applications *.h5 file")
  if not os.path.isfile(weights):
    raise InputError(f"{flag}={weights}: no such weights file")
  return weights


def freeze_batch_norm(model: keras.Model) -> int:
  """Puts every BatchNormalization layer in inference mode for fine-tuning; returns how many.

  A non-trainable Keras 3 BatchNormalization uses its moving statistics and keeps gamma and
  beta fixed (the Keras transfer-learning guide's advice): per-replica batches of a few
  masked images would give poor batch statistics and overwrite the ImageNet ones.
  """
  count = 0
  stack = list(model.layers)
  while stack:
    layer = stack.pop()
    if isinstance(layer, keras.layers.BatchNormalization):
      layer.trainable = False
      count += 1
    elif isinstance(layer, keras.Model):
      stack.extend(layer.layers)
  return count
