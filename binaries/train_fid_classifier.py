r"""Trains the project's Fashion-MNIST classifier and exports its penultimate layer as the
offline feature extractor for Fréchet distances (Inception weights cannot be downloaded here).

  python -m binaries.train_fid_classifier --output=hub_modules/fashion_mnist32/fid_classifier
  python -m binaries.train_fid_classifier --output=/tmp/fid --distribution=mirrored --cpu_replicas=2

Numbers it produces are labelled "savedmodel:<path>" in every table: they are Fréchet distances
in this classifier's feature space, not Inception FIDs.
"""

from binaries import _main  # noqa: F401
from binaries import _train_flags


from absl import flags
import ml_collections
import numpy as np

from pgi_tf.data import datasets
from pgi_tf.metrics import extractors
from pgi_tf.train import runtime

_OUTPUT = flags.DEFINE_string("output", "hub_modules/fashion_mnist32/fid_classifier", "SavedModel directory.")
_EPOCHS = flags.DEFINE_integer("epochs", 5, "Training epochs over the 55,000 training images.", lower_bound=1)
_STEPS_PER_EPOCH = flags.DEFINE_integer("steps_per_epoch", None, "Batches per epoch (default: the whole split).",
                                        lower_bound=1)
_BATCH_SIZE = flags.DEFINE_integer("batch_size", 128, "Global batch (split over the replicas).", lower_bound=1)
_RESOLUTION = flags.DEFINE_integer("resolution", 32, "Input side in px.", lower_bound=8)
_SEED = flags.DEFINE_integer("seed", 0, "Seed.", lower_bound=0)


def main(argv):
  del argv
  train_config = ml_collections.ConfigDict({"distribution": "default", "batch_size": _BATCH_SIZE.value})
  _train_flags.apply(train_config)
  runtime.seed_everything(_SEED.value)
  strategy, chief, global_batch = runtime.strategy_for(train_config, batch_flag="--batch_size")
  common = dict(source="fashion_mnist", data_dir=None, resolution=_RESOLUTION.value, channels=1,
                with_labels=True, seed=_SEED.value)
  steps = _STEPS_PER_EPOCH.value
  train = datasets.make_image_dataset(split="train", batch_size=global_batch, shuffle=True, repeat=steps is not None,
                                      **common)
  test = datasets.make_image_dataset(split="test", batch_size=500, shuffle=False, repeat=False,
                                     drop_remainder=False, **common)
  # Built and compiled under the strategy's scope, Keras' fit runs one replica per device.
  with strategy.scope():
    model = extractors.build_fashion_classifier(resolution=_RESOLUTION.value, channels=1)
    model = extractors.train_fashion_classifier(train_dataset=train, epochs=_EPOCHS.value, model=model,
                                                steps_per_epoch=steps)
  correct = total = 0
  for images, labels in test:
    predictions = np.argmax(model(images, training=False), axis=-1)
    correct += int(np.sum(predictions == labels.numpy()))
    total += len(labels)
  if chief:  # a multi-worker job's other workers hold the same weights
    extractors.export_feature_extractor(model, _OUTPUT.value, feature_layer_name="features")
  print(_main.json_line({"output": _OUTPUT.value if chief else None, "test_accuracy": correct / total, "test_images": total,
                         "replicas": strategy.num_replicas_in_sync}))


if __name__ == "__main__":
  _main.run(main)
