r"""Trains the project's Fashion-MNIST classifier and exports its penultimate layer as the
offline feature extractor for Fréchet distances (Inception weights cannot be downloaded here).

  python -m binaries.train_fid_classifier --output=hub_modules/fashion_mnist32/fid_classifier

Numbers it produces are labelled "savedmodel:<path>" in every table: they are Fréchet distances
in this classifier's feature space, not Inception FIDs.
"""

from binaries import _main  # noqa: F401


from absl import flags
import keras
import numpy as np

from pgi_tf.data import datasets
from pgi_tf.metrics import extractors

_OUTPUT = flags.DEFINE_string("output", "hub_modules/fashion_mnist32/fid_classifier", "SavedModel directory.")
_EPOCHS = flags.DEFINE_integer("epochs", 5, "Training epochs over the 55,000 training images.", lower_bound=1)
_RESOLUTION = flags.DEFINE_integer("resolution", 32, "Input side in px.", lower_bound=8)
_SEED = flags.DEFINE_integer("seed", 0, "Seed.", lower_bound=0)


def main(argv):
  del argv
  keras.utils.set_random_seed(_SEED.value)
  common = dict(source="fashion_mnist", data_dir=None, resolution=_RESOLUTION.value, channels=1,
                with_labels=True, seed=_SEED.value)
  train = datasets.make_image_dataset(split="train", batch_size=128, shuffle=True, repeat=False, **common)
  test = datasets.make_image_dataset(split="test", batch_size=500, shuffle=False, repeat=False,
                                     drop_remainder=False, **common)
  model = extractors.build_fashion_classifier(resolution=_RESOLUTION.value, channels=1)
  model = extractors.train_fashion_classifier(train_dataset=train, epochs=_EPOCHS.value, model=model)
  correct = total = 0
  for images, labels in test:
    predictions = np.argmax(model(images, training=False), axis=-1)
    correct += int(np.sum(predictions == labels.numpy()))
    total += len(labels)
  extractors.export_feature_extractor(model, _OUTPUT.value, feature_layer_name="features")
  print(_main.json_line({"output": _OUTPUT.value, "test_accuracy": correct / total, "test_images": total}))


if __name__ == "__main__":
  _main.run(main)
