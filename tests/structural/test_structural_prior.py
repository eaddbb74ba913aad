"""M_{z+S} (§4.2) with the generic silhouette prior: shape map, pipeline, training, export."""

import os

import numpy as np
import pytest
import tensorflow as tf
from skimage import draw

from pgi_tf.train import keypoint_refiner as refiner_training
from pgi_tf.inference import inpainting
from pgi_tf.models import dcgan
from pgi_tf.models import prior_predictor as prior_lib
from pgi_tf import structural
from pgi_tf.structural import silhouette

RESOLUTION, NUM_RAYS, Z_DIM = 16, 8, 8


def _garment_like(rng, count, resolution=RESOLUTION):
  """Filled random rectangles around the centre on a -1 background (Fashion-MNIST-like)."""
  images = -np.ones((count, resolution, resolution, 1), np.float32)
  for i in range(count):
    top, left = rng.integers(1, resolution // 2 - 1, size=2)
    bottom, right = rng.integers(resolution // 2 + 1, resolution - 1, size=2)
    images[i, top:bottom, left:right] = rng.uniform(0.2, 1.0)
  return images


def test_silhouette_map_matches_skimage_polygon_of_the_keypoints():
  rng = np.random.default_rng(0)
  images = _garment_like(rng, 6, resolution=32)
  points, _ = silhouette.silhouette_keypoints(images, num_rays=16)
  rendered = silhouette.SilhouetteMap(32, 16)(silhouette.flatten(points)).numpy()[..., 0] > 0
  for i in range(len(images)):
    xy = points.numpy()[i] * 31
    rows, cols = draw.polygon(xy[:, 1], xy[:, 0], shape=(32, 32))
    reference = np.zeros((32, 32), bool)
    reference[rows, cols] = True
    reference[np.rint(xy[:, 1]).astype(int), np.rint(xy[:, 0]).astype(int)] = True  # vertices
    # Polygon rasterisers disagree on edge pixels only: the two maps share >= 93% of pixels and
    # the rendered map covers most of the object (16 keypoints cut a rectangle's corners).
    assert (rendered[i] == reference).mean() >= 0.93
    assert (rendered[i] & (images[i, ..., 0] > 0)).sum() >= 0.8 * (images[i, ..., 0] > 0).sum()


def _fill_with_centre(keypoints, switches):
  """A stand-in refiner: hidden keypoints go to the image centre."""
  return tf.where(switches[..., None] > 0.5, keypoints, 0.5 * tf.ones_like(keypoints))


def _conditioned_models(seed=0):
  config = dcgan.DCGANConfig(resolution=RESOLUTION, channels=1, z_dim=Z_DIM, condition_dim=2 * NUM_RAYS,
                             condition_map="silhouette", generator_base_channels=8,
                             discriminator_base_channels=8)
  tf.keras.utils.set_random_seed(seed)
  generator, discriminator = dcgan.build_gan(config)
  predictor = prior_lib.build_prior_predictor(prior_lib.PriorPredictorConfig(
      resolution=RESOLUTION, channels=1, z_dim=Z_DIM, base_channels=8, condition_dim=2 * NUM_RAYS))
  return generator, discriminator, predictor


def test_inpainter_conditions_p_g_and_d_on_the_refined_prior_of_the_masked_image():
  generator, discriminator, predictor = _conditioned_models()
  seen = tf.Variable(tf.zeros([4, 2 * NUM_RAYS]))  # what G was conditioned on (inside tf.function)

  def recording_generator(inputs):
    seen.assign(inputs[1])
    return generator(inputs)

  prior = structural.silhouette.SilhouettePrior(refiner=_fill_with_centre, num_rays=NUM_RAYS)
  inpainter = inpainting.Inpainter(generator=recording_generator, discriminator=discriminator,
                                prior_predictor=predictor, z_dim=Z_DIM, structural_prior=prior)
  rng = np.random.default_rng(1)
  images = _garment_like(rng, 4)
  masks = np.zeros((4, RESOLUTION, RESOLUTION, 1), np.float32)
  masks[:, :, RESOLUTION // 2:] = 1.0  # right half hidden
  expected = prior((1 - masks) * images, masks).numpy()
  detected, switches = silhouette.silhouette_keypoints((1 - masks) * images, masks, num_rays=NUM_RAYS)
  assert 0 < switches.numpy().mean() < 1  # some rays hidden, some not
  for mode in ("single", "iterative", "hybrid"):
    result = inpainting.Inpainter.inpaint(inpainter, images, masks, mode=mode, iterations=3, refine_steps=2)
    np.testing.assert_allclose(seen.numpy(), expected, atol=1e-6)
    known = masks < 0.5
    np.testing.assert_array_equal(np.where(known, result["inpainted"].numpy(), 0), np.where(known, images, 0))
  # Hidden keypoints were completed by the refiner (centre), visible ones kept as detected.
  as_points = expected.reshape(4, NUM_RAYS, 2)
  hidden = switches.numpy() < 0.5
  np.testing.assert_allclose(as_points[hidden], 0.5)
  np.testing.assert_allclose(as_points[~hidden], detected.numpy()[~hidden])


def test_conditioned_generator_output_depends_on_the_prior():
  generator, _, _ = _conditioned_models()
  rng = np.random.default_rng(2)
  points, _ = silhouette.silhouette_keypoints(_garment_like(rng, 2), num_rays=NUM_RAYS)
  z = tf.constant(rng.uniform(-1, 1, (1, Z_DIM)).astype(np.float32))
  conditions = silhouette.flatten(points)
  first = generator([z, conditions[:1]]).numpy()
  second = generator([z, conditions[1:]]).numpy()
  assert np.abs(first - second).max() > 1e-3


def test_structural_prior_kind_is_checked():
  from pgi_tf.errors import InputError
  with pytest.raises(InputError, match="--structural_prior=faces: choose one of"):
    structural.check_kind("faces", flag="--structural_prior")
  with pytest.raises(InputError, match="needs a trained keypoint refiner"):
    structural.load_structural_prior("silhouette", refiner_path="")


# --------------------------------------------------------------------------- end to end

_FRESH_PROCESS = r"""
import sys
import numpy as np
import tensorflow as tf
model = tf.saved_model.load(sys.argv[1])
data = np.load(sys.argv[2])
out = model.signatures["serving_default"](images=tf.constant(data["images"]), masks=tf.constant(data["masks"]))
np.savez(sys.argv[3], **{k: v.numpy() for k, v in out.items()})
assert "pgi_tf" not in sys.modules
"""


@pytest.fixture(scope="module")
def structural_model_dir(tmp_path_factory):
  """A tiny M_{z+S} model dir trained by the real trainers: G(z, S), D(x, S), f, P(I_d, M, S)."""
  from configs import fashion_mnist32_silhouette_prior
  from configs import fashion_mnist32_silhouette_prior_latent
  from configs import keypoint_refiner_fashion_mnist32
  from pgi_tf import hub
  from pgi_tf.train import keypoint_refiner as refiner_trainer
  from pgi_tf.train import prior as prior_trainer

  root = tmp_path_factory.mktemp("structural")
  model_dir = root / "model"
  generator, discriminator, _ = _conditioned_models(seed=3)
  metadata = hub.gan_metadata(resolution=RESOLUTION, channels=1, z_dim=Z_DIM, condition_dim=2 * NUM_RAYS,
                              extra={"structural_prior": "silhouette", "num_rays": NUM_RAYS})
  hub.export_generator(generator, str(model_dir / "generator"), metadata=metadata)
  hub.export_discriminator(discriminator, str(model_dir / "discriminator"), metadata=metadata)
  refiner_config = keypoint_refiner_fashion_mnist32.get_config("smoke")
  refiner_config.data.resolution = RESOLUTION
  refiner_config.data.num_rays = NUM_RAYS
  refiner_trainer.train(refiner_config, workdir=str(root / "refiner"),
                        export_dir=str(model_dir / "keypoint_refiner"))
  # The M_{z+S} presets with latent consistency (the retrained stack's P; the bundled P fine-tuned):
  # P also inverts G(z, S) under the batch's S. Their smoke variants are the same run.
  from configs import fashion_mnist32_silhouette_retrained_prior
  config = fashion_mnist32_silhouette_retrained_prior.get_config("smoke")
  latent = fashion_mnist32_silhouette_prior_latent.get_config("smoke").to_dict()
  assert {k: v for k, v in config.to_dict().items() if k != "name"} == {k: v for k, v in latent.items() if k != "name"}
  base = fashion_mnist32_silhouette_prior.get_config("smoke")
  assert config.loss.lambda_latent == 1.0 and base.loss.lambda_latent == 0.0
  assert config.structural_prior == base.structural_prior and config.masks == base.masks
  config.generator = str(model_dir / "generator")
  config.discriminator = str(model_dir / "discriminator")
  config.keypoint_refiner = str(model_dir / "keypoint_refiner")
  config.data.resolution = RESOLUTION
  config.train.num_steps = 3
  result = prior_trainer.train(config, workdir=str(root / "prior"))
  os.rename(os.path.join(result["export_dir"], "prior_predictor"), model_dir / "prior_predictor")
  return str(model_dir), os.path.join(result["export_dir"], "inpainter")


def test_trained_structural_model_loads_inpaints_and_exports_one_saved_model(structural_model_dir, tmp_path):
  import subprocess
  import sys
  from pgi_tf import hub
  from pgi_tf.inference import loading
  from pgi_tf.errors import InputError

  model_dir, inpainter_path = structural_model_dir
  p_metadata = hub.read_metadata(os.path.join(model_dir, "prior_predictor"))
  assert p_metadata["structural_prior"] == "silhouette" and p_metadata["condition_dim"] == 2 * NUM_RAYS
  assert p_metadata["input_names"] == ["masked_images", "masks", "condition"]
  assert p_metadata["lambda_latent"] == 1.0  # trained with latent consistency under S
  models = loading.load_models(model_dir=model_dir, structural_prior="silhouette")
  assert isinstance(models.structural_prior, structural.silhouette.SilhouettePrior)
  with pytest.raises(InputError, match="is conditioned on silhouette"):
    loading.load_models(model_dir=model_dir, structural_prior="none")
  inpainter = loading.make_inpainter(models)
  rng = np.random.default_rng(4)
  images = _garment_like(rng, 3)
  masks = np.zeros((3, RESOLUTION, RESOLUTION, 1), np.float32)
  masks[:, 4:12, 8:] = 1.0
  expected = inpainter.inpaint(images, masks, mode="single")
  # The exported pipeline (detect -> refine -> P -> G -> Eq. 8) in a process without pgi_tf.
  np.savez(tmp_path / "data.npz", images=images, masks=masks)
  completed = subprocess.run(
      [sys.executable, "-c", _FRESH_PROCESS, inpainter_path, str(tmp_path / "data.npz"), str(tmp_path / "out.npz")],
      cwd=str(tmp_path), capture_output=True, text=True, timeout=180,
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=""))
  assert completed.returncode == 0, completed.stderr[-3000:]
  served = np.load(tmp_path / "out.npz")
  for key in ("z", "generated", "inpainted"):
    np.testing.assert_allclose(served[key], expected[key].numpy(), atol=1e-5)
  np.testing.assert_allclose(served["structural_prior"],
                             models.structural_prior((1 - masks) * images, masks).numpy(), atol=1e-6)
  known = masks < 0.5
  assert np.array_equal(np.where(known, served["inpainted"], 0), np.where(known, images, 0))


def test_evaluation_labels_learned_rows_per_model_and_keeps_classical_rows_once():
  from pgi_tf.evaluation import images as image_evaluation
  rows = [{"hole_ratio": 0.1, "method": "single", "psnr_db": 1.0}, {"hole_ratio": 0.1, "method": "telea", "psnr_db": 2.0}]
  examples = {(0.1, "single"): "a", (0.1, "telea"): "b", (0.1, "masked"): "m"}
  merged = image_evaluation.merge_labelled(([], {}, []), (rows, examples, ["single", "telea"]),
                                     label=image_evaluation.model_label({"structural_prior": "none"}))
  merged = image_evaluation.merge_labelled(merged, ([{"hole_ratio": 0.1, "method": "single", "psnr_db": 3.0}],
                                              {(0.1, "single"): "c"}, ["single"]),
                                     label=image_evaluation.model_label({"structural_prior": "silhouette"}))
  all_rows, all_examples, methods = merged
  assert methods == ["single [M_z]", "telea", "single [M_z+S (silhouette)]"]
  assert [r["method"] for r in all_rows] == methods
  assert all_examples[(0.1, "single [M_z+S (silhouette)]")] == "c" and all_examples[(0.1, "masked")] == "m"
  table = image_evaluation.to_markdown(all_rows, title="t")
  assert "| single [M_z+S (silhouette)] → PSNR (dB) ↑ | 3.00 |" in table


def test_evaluate_binary_refuses_explicit_model_with_several_priors(tmp_path):
  import subprocess
  import sys
  repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
  completed = subprocess.run(
      [sys.executable, "-m", "binaries.evaluate", "--structural_prior=none,silhouette", "--model_dir=x",
       f"--output_dir={tmp_path}"], cwd=repo, capture_output=True, text=True, timeout=120,
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
  assert completed.returncode == 2
  assert completed.stderr.strip().splitlines()[-1] == (
      "error: --structural_prior=none,silhouette: several priors use the bundled models; "
      "drop --model_dir/--generator/--prior_predictor or give one prior")


def test_hole_switches_from_points_equal_the_switches_detected_on_the_masked_image():
  from pgi_tf.data import masks as masks_lib
  rng = np.random.default_rng(5)
  images = _garment_like(rng, 40, resolution=32)
  masks = np.concatenate([masks_lib.sample_masks(masks_lib.MaskSpec(kind="ratio", hole_ratio=r), count=20,
                                                 height=32, width=32, rng=rng) for r in (0.1, 0.4)])
  points, _ = silhouette.silhouette_keypoints(images, num_rays=16)
  _, detected_switches = silhouette.silhouette_keypoints((1 - masks) * images, masks, num_rays=16)
  computed = silhouette.hole_switches(points.numpy(), masks, num_rays=16)
  np.testing.assert_array_equal(computed, detected_switches.numpy())
  assert 0.05 < 1 - computed.mean() < 0.95  # the masks hide some rays, not all


def test_refiner_training_uses_the_hole_switch_sampler_for_its_share_of_batches():
  from pgi_tf.models import keypoint_refiner
  shapes = np.random.default_rng(0).uniform(0.2, 0.8, (64, NUM_RAYS, 2)).astype(np.float32)
  calls = []

  def sampler(rng, targets):
    calls.append(len(targets))
    switches = np.ones(targets.shape[:2], np.float32)
    switches[:, :NUM_RAYS // 2] = 0.0  # a contiguous sector hidden
    return switches

  config = keypoint_refiner.KeypointRefinerConfig(num_keypoints=NUM_RAYS, hidden_units=(8, 8, 8))
  refiner_training.train_keypoint_refiner(shapes_train=shapes, steps=20, batch_size=4, seed=0, config=config,
                                          switch_sampler=sampler, sampler_fraction=0.5)
  assert 4 <= len(calls) <= 16 and set(calls) == {4}  # about half of the 20 batches
  calls.clear()
  refiner_training.train_keypoint_refiner(shapes_train=shapes, steps=5, batch_size=4, seed=0, config=config)
  assert not calls
