"""TensorBoard feedback of the trainers (pgi_tf/train/runtime.py): train/learning_rate from every
optimizer, and stage 2's periodic validation metric (val/psnr_db, val/psnr_hole_db,
val/frechet_distance on a fixed val batch), read back from the event files a run writes."""

import os

import numpy as np
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing import event_accumulator

from configs import fashion_mnist32_prior
from configs import fashion_mnist32_regression
from pgi_tf.data import datasets
from pgi_tf.metrics import image_quality
from pgi_tf.train import prior
from pgi_tf.train import regression_inpainter
from tests import tiny_models
from tests.tiny_models import REPO

FID_CLASSIFIER = os.path.join(REPO, "hub_modules", "fashion_mnist32", "fid_classifier")


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
  return tiny_models.shared_model_dirs(tmp_path_factory)


def _scalars(workdir: str) -> dict[str, dict[int, float]]:
  """tag -> {step: value} of every scalar summary under workdir/tensorboard."""
  events = event_accumulator.EventAccumulator(os.path.join(workdir, "tensorboard"),
                                              size_guidance={event_accumulator.TENSORS: 0})
  events.Reload()
  return {tag: {e.step: float(tf.make_ndarray(e.tensor_proto)) for e in events.Tensors(tag)}
          for tag in events.Tags()["tensors"] if tag != "masked_generated_inpainted_original"
          and not tag.startswith("masked_output")}


def test_hole_psnr_by_hand():
  # 1 image, 2x2 grey; hole = the two right pixels; errors 0.5 and 0.25 in [0, 1] units there.
  references = np.full((1, 2, 2, 1), -1.0)
  images = references.copy()
  images[0, 0, 1, 0] = 0.0    # 0 in [0, 1] -> 0.5
  images[0, 1, 1, 0] = -0.5   # -> 0.25
  images[0, 0, 0, 0] = 1.0    # outside the hole: must not count
  masks = np.array([[[[0.0], [1.0]], [[0.0], [1.0]]]])
  expected = 10 * np.log10(1 / ((0.5 ** 2 + 0.25 ** 2) / 2))
  np.testing.assert_allclose(prior.hole_psnr(images=images, references=references, masks=masks), [expected])
  assert prior.hole_psnr(images=references, references=references, masks=masks)[0] == image_quality.PSNR_CAP_DB


def test_prior_writes_learning_rate_and_val_psnr_that_the_export_reproduces(tiny, tmp_path):
  config = fashion_mnist32_prior.get_config("smoke")
  config.generator, config.discriminator = tiny.generator, tiny.discriminator
  config.data.resolution = 16
  config.train.update(num_steps=4, summary_every=2, sample_every=4, checkpoint_every=4, eval_every=2,
                      eval_batch_size=12, learning_rate=3e-4, eval_fd_extractor=f"savedmodel:{FID_CLASSIFIER}")
  workdir = str(tmp_path / "run")
  result = prior.train(config, workdir=workdir)
  scalars = _scalars(workdir)

  assert scalars["train/learning_rate"] == {2: pytest.approx(3e-4, rel=1e-6), 4: pytest.approx(3e-4, rel=1e-6)}
  for tag in ("val/psnr_db", "val/psnr_hole_db", "val/frechet_distance"):
    assert sorted(scalars[tag]) == [2, 4], tag
  val = result["val"]
  assert val["step"] == 4 and val["split"] == "val" and val["num_images"] == 12
  assert scalars["val/psnr_db"][4] == pytest.approx(val["psnr_db"], rel=1e-6)
  assert val["frechet_distance"] >= 0 and val["psnr_db"] > val["psnr_hole_db"]  # known pixels are exact

  # The batch is the first 12 images of the val split (not train) ...
  images, masks, _ = prior.validation_batch(config, resolution=16)
  first_val = next(iter(datasets.make_image_dataset(source="fashion_mnist", data_dir=None, split="val", resolution=16,
                                                    channels=1, batch_size=12, shuffle=False, repeat=False)))
  first_train = next(iter(datasets.make_image_dataset(source="fashion_mnist", data_dir=None, split="train",
                                                      resolution=16, channels=1, batch_size=12, shuffle=False,
                                                      repeat=False)))
  np.testing.assert_array_equal(images, first_val)
  assert not np.array_equal(images, first_train)
  # ... and the exported end-to-end inpainter gives the same PSNRs on it.
  inpainter = tf.saved_model.load(os.path.join(result["export_dir"], "inpainter")).signatures["serving_default"]
  inpainted = inpainter(images=images, masks=masks)["inpainted"].numpy()
  assert np.mean(image_quality.psnr(images=inpainted, references=images)) == pytest.approx(val["psnr_db"], abs=0.01)
  assert np.mean(prior.hole_psnr(images=inpainted, references=images, masks=masks)) == pytest.approx(
      val["psnr_hole_db"], abs=0.01)


def test_two_optimizers_get_one_learning_rate_tag_each_in_a_mirrored_regression_run(tmp_path):
  config = fashion_mnist32_regression.get_config("smoke")
  config.data.resolution = 16
  config.train.update(num_steps=2, summary_every=2, sample_every=2, checkpoint_every=2, learning_rate=5e-4,
                      distribution="mirrored")  # two logical CPUs (tests/conftest.py)
  workdir = str(tmp_path / "regression")
  result = regression_inpainter.train(config, workdir=workdir)
  assert result["step"] == 2 and all(np.isfinite(v) for v in result["losses"].values())
  assert os.path.isfile(os.path.join(result["export_dir"], "saved_model.pb"))
  rates = {tag: values for tag, values in _scalars(workdir).items() if tag.startswith("train/learning_rate")}
  assert rates == {"train/learning_rate/inpainter": {2: pytest.approx(5e-4, rel=1e-6)},
                   "train/learning_rate/discriminator": {2: pytest.approx(5e-4, rel=1e-6)}}


def test_eval_every_zero_turns_the_metric_off(tiny, tmp_path):
  config = fashion_mnist32_prior.get_config("smoke")
  config.generator, config.discriminator = tiny.generator, tiny.discriminator
  config.data.resolution = 16
  config.train.update(num_steps=1, summary_every=1, sample_every=1, checkpoint_every=1, eval_every=0)
  workdir = str(tmp_path / "off")
  result = prior.train(config, workdir=workdir)
  assert "val" not in result and not [t for t in _scalars(workdir) if t.startswith("val/")]
