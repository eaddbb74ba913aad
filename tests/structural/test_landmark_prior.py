"""M_{z+S} with the facial-landmark prior (§4.2): dlib -> f -> S, the Inpainter, training, export.

No face data set exists offline, so the models are tiny and untrained; the face is the
astronaut's (`skimage.data.astronaut()`), cropped around dlib's box on the full photograph and
resized to 64 px: the smallest DCGAN size at which dlib's detector still finds it with
upsample=1 (at 32 px it needs upsample=2, at 16 px it finds nothing).
"""

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from pgi_tf import hub
from pgi_tf.inference import inpainting
from pgi_tf.data import landmarks
from pgi_tf.errors import InputError
from pgi_tf.models import dcgan
from pgi_tf.models import prior_predictor as prior_lib
from pgi_tf.structural import face_detection
from pgi_tf import structural

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FACE_REFINER = os.path.join(REPO, structural.landmarks.BUNDLED_FACE_REFINER)
RESOLUTION, Z_DIM, CONDITION_DIM = 64, 8, 136


@pytest.fixture(scope="module")
def face():
  """The astronaut's face, a 1.5x square around dlib's box, at 64 px in [-1, 1]: [64, 64, 3]."""
  import skimage.data
  photo = skimage.data.astronaut()
  left, top, right, bottom = face_detection.detect_face_landmarks(photo).box
  half = 0.75 * (right - left)
  centre_x, centre_y = (left + right) / 2, (top + bottom) / 2
  crop = Image.fromarray(photo).crop((int(centre_x - half), int(centre_y - half),
                                      int(centre_x + half), int(centre_y + half)))
  pixels = np.asarray(crop.resize((RESOLUTION, RESOLUTION), Image.BICUBIC), np.float32)
  return pixels / 127.5 - 1.0


@pytest.fixture(scope="module")
def refiner():
  return hub.load_keypoint_refiner(FACE_REFINER)


def _masks(count):
  """A 20 x 48 hole over the mouth and chin of the 64 px face: dlib still finds the face (a
  24 x 48 hole from row 36 up is enough to hide it), 16 of the 68 points are hidden."""
  masks = np.zeros((count, RESOLUTION, RESOLUTION, 1), np.float32)
  masks[:, 44:64, 8:56] = 1.0
  return masks


def _conditioned_models(seed=0):
  config = dcgan.DCGANConfig(resolution=RESOLUTION, channels=3, z_dim=Z_DIM, condition_dim=CONDITION_DIM,
                             generator_base_channels=4, discriminator_base_channels=4, max_channels=16)
  tf.keras.utils.set_random_seed(seed)
  generator, discriminator = dcgan.build_gan(config)
  predictor = prior_lib.build_prior_predictor(prior_lib.PriorPredictorConfig(
      resolution=RESOLUTION, channels=3, z_dim=Z_DIM, base_channels=4, condition_dim=CONDITION_DIM))
  return generator, discriminator, predictor


# --------------------------------------------------------------------------- detection

def test_detection_is_dlib_on_the_masked_image_and_falls_back_to_the_whole_image(face):
  masks = _masks(2)
  grey = np.zeros_like(face)  # flat mid grey: no face for dlib's detector
  masked = (1.0 - masks) * np.stack([face, grey])
  found = structural.landmarks.detect_landmarks(masked, masks)
  assert found.points.shape == (2, 68, 2) and found.switches.shape == (2, 68)
  assert found.used_fallback.tolist() == [False, True]
  # Image 0: exactly face_detection's answer on the masked uint8 image; the hole hides points.
  direct = face_detection.detect_face_landmarks(face_detection.masked_image_uint8(masked[0], masks[0]),
                                                mask=masks[0])
  assert direct.box_source == "detector"
  np.testing.assert_array_equal(found.points[0], direct.points)
  np.testing.assert_array_equal(found.switches[0], direct.switches)
  assert 0 < found.switches[0].sum() < 68
  # Image 1: the shape predictor in the box (0, 0, 63, 63), so K = pixels / 63 where visible.
  fallback = face_detection.detect_face_landmarks(masked[1], mask=masks[1], box=(0, 0, 63, 63))
  visible = found.switches[1] > 0.5
  np.testing.assert_allclose(found.points[1][visible], fallback.points_px[visible] / 63.0, atol=1e-6)
  assert np.all(found.points[1][~visible] == 0.0)


def test_prior_is_f_of_the_detections_eagerly_and_inside_tf_function(face, refiner):
  masks = _masks(1)
  masked = (1.0 - masks) * face[None]
  prior = structural.landmarks.LandmarkPrior(refiner)
  found = prior.detect(masked, masks)
  expected = refiner(found.points, found.switches).reshape(1, CONDITION_DIM)
  np.testing.assert_allclose(prior(masked, masks).numpy(), expected, atol=1e-6)
  traced = tf.function(prior)(tf.constant(masked), tf.constant(masks))
  np.testing.assert_allclose(traced.numpy(), expected, atol=1e-6)
  detected, switches, refined = prior.keypoints(masked, masks)
  np.testing.assert_array_equal(detected.numpy(), found.points)
  # keep_visible=False (the paper's K_f): f moves the visible points too; True keeps dlib's there.
  visible = switches.numpy()[0] > 0.5
  assert np.abs(refined.numpy()[0][visible] - found.points[0][visible]).max() > 1e-4
  kept = structural.landmarks.LandmarkPrior(refiner, keep_visible=True).keypoints(masked, masks)[2].numpy()[0]
  np.testing.assert_array_equal(kept[visible], found.points[0][visible])
  np.testing.assert_allclose(kept[~visible], refined.numpy()[0][~visible], atol=1e-6)


def test_inpainter_conditions_p_and_g_on_the_refined_landmarks_of_the_masked_image(face, refiner):
  generator, discriminator, predictor = _conditioned_models()
  seen = tf.Variable(tf.zeros([2, CONDITION_DIM]))  # what G was conditioned on (inside tf.function)

  def recording_generator(inputs):
    seen.assign(inputs[1])
    return generator(inputs)

  prior = structural.landmarks.LandmarkPrior(refiner)
  inpainter = inpainting.Inpainter(generator=recording_generator, discriminator=discriminator,
                                prior_predictor=predictor, z_dim=Z_DIM, structural_prior=prior)
  images = np.stack([face, face[:, ::-1]])
  masks = _masks(2)
  found = prior.detect((1 - masks) * images, masks)
  expected = refiner(found.points, found.switches).reshape(2, CONDITION_DIM)
  for mode in ("single", "iterative"):
    result = inpainter.inpaint(images, masks, mode=mode, iterations=2)
    np.testing.assert_allclose(seen.numpy(), expected, atol=1e-6)
    generated = generator([result["z"], tf.constant(expected)], training=False).numpy()
    np.testing.assert_allclose(result["inpainted"].numpy(), (1 - masks) * images + masks * generated,
                               atol=1e-5)  # Eq. 8
    known = masks < 0.5
    np.testing.assert_array_equal(np.where(known, result["inpainted"].numpy(), 0), np.where(known, images, 0))


def test_gan_condition_is_the_full_dlib_shape_of_the_real_image(face):
  from configs import celeba64_landmarks
  from pgi_tf.train import gan
  config = celeba64_landmarks.get_config("smoke")
  assert gan.condition_dim(config) == CONDITION_DIM
  assert gan.model_config(config).condition_dim == CONDITION_DIM
  condition_fn = gan.structural_prior_fn(config)
  images = np.stack([face, np.zeros_like(face)])
  conditions = tf.function(condition_fn)(tf.constant(images)).numpy()
  assert conditions.shape == (2, CONDITION_DIM)
  assert -0.2 < conditions.min() and conditions.max() < 1.2  # box coordinates, a little outside [0, 1]
  found = face_detection.detect_face_landmarks(face)
  np.testing.assert_allclose(conditions[0], landmarks.normalize_to_box(found.points_px, found.box).reshape(-1),
                             atol=1e-6)
  # The flat image: whole-image box, so every point is its pixel / 63 (none dropped: no switches).
  grey = face_detection.detect_face_landmarks(images[1], box=(0, 0, 63, 63))
  np.testing.assert_allclose(conditions[1], grey.points_px.reshape(-1) / 63.0, atol=1e-6)
  config.train.jit_compile = True
  with pytest.raises(InputError, match=r"^--config.train.jit_compile=True: the landmark prior runs dlib"):
    gan.check_structural_prior(config)


def test_load_structural_prior_landmarks_and_its_errors(refiner):
  prior = structural.load_structural_prior("landmarks", refiner_path=FACE_REFINER, upsample=2)
  assert isinstance(prior, structural.landmarks.LandmarkPrior) and prior.upsample == 2 and not prior.keep_visible
  assert structural.condition_dim("landmarks") == CONDITION_DIM
  with pytest.raises(InputError, match=r"^--keypoint_refiner: the landmarks prior needs a trained keypoint "
                                       r"refiner \(e.g. the bundled face refiner hub_modules/face_landmarks"):
    structural.load_structural_prior("landmarks", refiner_path="")
  silhouette_refiner = os.path.join(REPO, "hub_modules", "fashion_mnist32_silhouette", "keypoint_refiner")
  with pytest.raises(InputError, match=r"refines 16 keypoints; the landmark prior needs a 68-point"):
    structural.load_structural_prior("landmarks", refiner_path=silhouette_refiner, flag="--config.keypoint_refiner")


# --------------------------------------------------------------------------- end to end

_FRESH_PROCESS = r"""
import sys
import numpy as np
import tensorflow as tf
model = tf.saved_model.load(sys.argv[1])
data = np.load(sys.argv[2])
inputs = {k: tf.constant(data[k]) for k in ("images", "masks", "keypoints", "switches")}
out = model.signatures["serving_default"](**inputs)
as_uint8 = model.signatures["inpaint_uint8"](
    images=tf.constant(data["images_uint8"]), masks=tf.constant(data["masks_uint8"]),
    keypoints=inputs["keypoints"], switches=inputs["switches"])
np.savez(sys.argv[3], uint8=as_uint8["inpainted"].numpy(), **{k: v.numpy() for k, v in out.items()})
assert "pgi_tf" not in sys.modules and "dlib" not in sys.modules
"""


@pytest.fixture(scope="module")
def celeba_dir(tmp_path_factory):
  """A CelebA-format fixture: 3 training images, flat colours (no face for dlib: the fallback)."""
  import fixtures_data
  data_dir = tmp_path_factory.mktemp("celeba")
  fixtures_data.make_celeba_aligned(data_dir)
  return str(data_dir)


@pytest.fixture(scope="module", autouse=True)
def gan_smoke_run(tmp_path_factory, celeba_dir):
  """The landmark GAN preset through binaries/train_gan.py, in the background while the rest runs."""
  import tiny_models
  root = tmp_path_factory.mktemp("landmark_gan")
  workdir = str(root / "run")
  pending = tiny_models.start_binary_cases("binaries.train_gan", [[
      "--config=configs/celeba64_landmarks.py:smoke", f"--workdir={workdir}",
      f"--config.data.data_dir={celeba_dir}", f"--config.model.z_dim={Z_DIM}",
      "--config.model.generator_base_channels=4", "--config.model.discriminator_base_channels=4",
      "--config.train.num_steps=2", "--config.train.batch_size=2", "--config.train.sample_grid_size=2",
      "--config.train.checkpoint_every=2"]], workdir=str(root / "cases"))
  yield pending, workdir
  pending.stop()


@pytest.fixture(scope="module")
def landmark_model_dir(tmp_path_factory, celeba_dir):
  """A tiny landmark M_{z+S} model dir: G(z, S), D(x, S) (untrained, condition_dim 136), the
  bundled face refiner, and P(I_d, M, S) trained 2 steps by train_prior on the preset."""
  from configs import celeba64_landmarks_prior
  from pgi_tf import hub
  from pgi_tf.train import prior as prior_trainer

  root = tmp_path_factory.mktemp("landmarks")
  model_dir = root / "model"
  generator, discriminator, _ = _conditioned_models(seed=3)
  metadata = hub.gan_metadata(resolution=RESOLUTION, channels=3, z_dim=Z_DIM, condition_dim=CONDITION_DIM,
                              extra={"structural_prior": "landmarks"})
  hub.export_generator(generator, str(model_dir / "generator"), metadata=metadata)
  hub.export_discriminator(discriminator, str(model_dir / "discriminator"), metadata=metadata)
  shutil.copytree(FACE_REFINER, model_dir / "keypoint_refiner")
  config = celeba64_landmarks_prior.get_config("smoke")
  config.generator = str(model_dir / "generator")
  config.discriminator = str(model_dir / "discriminator")
  config.keypoint_refiner = str(model_dir / "keypoint_refiner")
  config.data.data_dir = celeba_dir
  config.prior.base_channels = 4
  config.train.num_steps = 2
  config.train.batch_size = 2
  config.train.sample_grid_size = 2
  result = prior_trainer.train(config, workdir=str(root / "prior"))
  os.rename(os.path.join(result["export_dir"], "prior_predictor"), model_dir / "prior_predictor")
  return str(model_dir), os.path.join(result["export_dir"], "inpainter"), result


def test_trained_landmark_model_trains_loads_inpaints_and_exports(landmark_model_dir, face, tmp_path):
  from pgi_tf import hub
  from pgi_tf.inference import loading

  model_dir, inpainter_path, prior_result = landmark_model_dir
  assert prior_result["step"] == 2 and np.isfinite(prior_result["losses"]["total"])
  p_metadata = hub.read_metadata(os.path.join(model_dir, "prior_predictor"))
  assert p_metadata["structural_prior"] == "landmarks" and p_metadata["condition_dim"] == CONDITION_DIM
  assert p_metadata["input_names"] == ["masked_images", "masks", "condition"]
  assert hub.read_metadata(inpainter_path)["input_names"] == ["images", "masks", "keypoints", "switches"]

  images = np.stack([face, np.zeros_like(face)])  # a face dlib finds, and the fallback
  masks = _masks(2)
  found = structural.landmarks.detect_landmarks((1 - masks) * images, masks)
  assert found.used_fallback.tolist() == [False, True]
  # The export in a process without pgi_tf (nor dlib), dlib's detections passed in; it runs
  # while this process inpaints the same batch with the Inpainter.
  images_uint8 = np.round((images + 1) * 127.5).astype(np.uint8)
  np.savez(tmp_path / "data.npz", images=images, masks=masks, keypoints=found.points, switches=found.switches,
           images_uint8=images_uint8, masks_uint8=(masks * 255).astype(np.uint8))
  served_process = subprocess.Popen(
      [sys.executable, "-c", _FRESH_PROCESS, inpainter_path, str(tmp_path / "data.npz"), str(tmp_path / "out.npz")],
      cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=""))
  try:
    models = loading.load_models(model_dir=model_dir)
    assert isinstance(models.structural_prior, structural.landmarks.LandmarkPrior)
    with pytest.raises(InputError, match="is conditioned on landmarks"):
      loading.load_models(model_dir=model_dir, structural_prior="silhouette")
    expected = loading.make_inpainter(models).inpaint(images, masks, mode="single")
    conditions = models.structural_prior((1 - masks) * images, masks).numpy()
    _, stderr = served_process.communicate(timeout=180)
  finally:
    if served_process.poll() is None:
      served_process.kill()
  assert served_process.returncode == 0, stderr[-3000:]
  served = np.load(tmp_path / "out.npz")
  for key in ("z", "generated", "inpainted"):
    np.testing.assert_allclose(served[key], expected[key].numpy(), atol=1e-5)
  np.testing.assert_allclose(served["structural_prior"], conditions, atol=1e-6)
  known = masks < 0.5
  assert np.array_equal(np.where(known, served["inpainted"], 0), np.where(known, images, 0))
  assert np.array_equal(np.where(known, served["uint8"], 0), np.where(known, images_uint8, 0))


def test_landmark_gan_preset_trains_and_exports_a_conditioned_generator(gan_smoke_run):
  import json
  from pgi_tf import hub
  pending, workdir = gan_smoke_run
  run = pending.results(timeout=300)[0]
  assert run.returncode == 0, run.stderr[-3000:]
  result = json.loads(run.stdout.strip().splitlines()[-1])
  assert result["step"] == 2 and np.isfinite(result["generator_loss"])
  assert "prior_following" not in result  # a silhouette measure
  assert os.path.isfile(result["fig6_same_z"]) and os.path.isfile(result["fig6_same_prior"])
  for name in ("generator", "discriminator"):
    metadata = hub.read_metadata(os.path.join(result["export_dir"], name))
    assert metadata["structural_prior"] == "landmarks" and metadata["condition_dim"] == CONDITION_DIM
    assert metadata["input_names"][-1] == "condition" and metadata["landmark_upsample"] == 1
