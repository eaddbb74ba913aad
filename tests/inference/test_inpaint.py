"""Inference (pgi_tf.inference.inpainting): Eq. 8 keeps known pixels in every mode, Yeh et al.'s search
(Eq. 2) lowers its loss and stays in z's support, the hybrid, Poisson blending, the exported
inpainter in a fresh process, and the same-generator check for P."""

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from pgi_tf.inference import export as inference_export
from pgi_tf import hub
from pgi_tf.inference import inpainting
from pgi_tf import losses
from pgi_tf.errors import InputError
from tests import tiny_models


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
  return tiny_models.shared_model_dirs(tmp_path_factory)


@pytest.fixture(scope="module")
def inpainter(tiny):
  return inpainting.Inpainter(
      generator=hub.load_generator(tiny.generator), discriminator=hub.load_discriminator(tiny.discriminator),
      prior_predictor=hub.load_prior_predictor(tiny.prior_predictor, generator_path=tiny.generator),
      z_dim=tiny_models.Z_DIM)


def _batch(count=4, seed=0):
  """Images in [-1, 1] that are exact uint8 levels, and rectangular holes of several shapes."""
  rng = np.random.default_rng(seed)
  images = rng.integers(0, 256, (count, 16, 16, 1)).astype(np.float32) / 127.5 - 1.0
  masks = np.zeros((count, 16, 16, 1), np.float32)
  for i in range(count):
    top, left = rng.integers(0, 8, 2)
    masks[i, top: top + 4 + 2 * i % 8, left: left + 6] = 1.0
  return images.astype(np.float32), masks


def _assert_known_pixels_exact(images, masks, inpainted):
  known = masks[..., 0] < 0.5
  assert np.array_equal(np.asarray(inpainted)[known], images[known])


def test_compose_hand_checked_2x2():
  images = np.array([[[[0.5], [-0.25]], [[1.0], [-1.0]]]], np.float32)
  generated = np.array([[[[0.1], [0.2]], [[0.3], [0.4]]]], np.float32)
  masks = np.array([[[[0.0], [1.0]], [[1.0], [0.0]]]], np.float32)
  expected = np.array([[[[0.5], [0.2]], [[0.3], [-1.0]]]], np.float32)
  np.testing.assert_array_equal(inpainting.compose(images=images, masks=masks, generated_images=generated).numpy(),
                                expected)


def test_compose_keeps_known_pixels_bit_exact_for_any_float():
  rng = np.random.default_rng(1)
  images = rng.standard_normal((2, 8, 8, 3)).astype(np.float32) * np.float32(1e-7)  # tiny values too
  generated = rng.standard_normal((2, 8, 8, 3)).astype(np.float32) * 1e6
  masks = (rng.uniform(size=(2, 8, 8, 1)) > 0.5).astype(np.float32)
  out = inpainting.compose(images=images, masks=masks, generated_images=generated).numpy()
  _assert_known_pixels_exact(images, masks, out)
  hole = masks[..., 0] > 0.5
  assert np.array_equal(out[hole], generated[hole])


@pytest.mark.parametrize("mode,kwargs", [("single", {}), ("iterative", {"iterations": 10}),
                                         ("hybrid", {"refine_steps": 5})])
def test_known_pixels_equal_input_exactly(inpainter, mode, kwargs):
  images, masks = _batch()
  out = inpainter.inpaint(images, masks, mode=mode, **kwargs)
  inpainted, generated = out["inpainted"].numpy(), out["generated"].numpy()
  assert inpainted.shape == images.shape and out["z"].shape == (4, tiny_models.Z_DIM)
  _assert_known_pixels_exact(images, masks, inpainted)
  hole = masks[..., 0] > 0.5
  np.testing.assert_array_equal(inpainted[hole], generated[hole])  # the hole is G(z), Eq. 8


def _yeh_loss(inpainter, images, masks, z):
  weights = losses.yeh_importance_weights(masks, window=7)
  generated = inpainter.generator(z)
  return losses.yeh_contextual_loss(masked_images=(1.0 - masks) * images, generated_images=generated,
                                    weights=weights).numpy()


def test_iterative_search_lowers_yeh_loss(inpainter, tiny):
  # Targets G can reproduce, so the search has a minimum to walk to.
  images = inpainter.generator(tf.random.stateless_uniform([4, tiny_models.Z_DIM], [7, 7], -1, 1)).numpy()
  _, masks = _batch()
  start = inpainter.sample_z(4, seed=3)
  out = inpainter.inpaint(images, masks, mode="iterative", iterations=40, seed=3)
  before = _yeh_loss(inpainter, images, masks, start)
  after = _yeh_loss(inpainter, images, masks, out["z"])
  assert np.all(after < before), (before, after)
  assert after.sum() < 0.8 * before.sum(), (before, after)  # 40 steps: about 0.67 here


def test_iterative_z_stays_in_support(tiny):
  # A huge Adam step would throw z far outside U[-1, 1]^d without the projection.
  wild = inpainting.Inpainter(generator=hub.load_generator(tiny.generator), z_dim=tiny_models.Z_DIM,
                           iterative=inpainting.IterativeConfig(learning_rate=5.0))
  images, masks = _batch()
  z = wild.inpaint(images, masks, mode="iterative", iterations=20, seed=0)["z"].numpy()
  assert np.all(z >= -1.0) and np.all(z <= 1.0)
  assert np.any(np.abs(z) == 1.0), "with this step size some coordinates must sit on the boundary"


def test_iterative_is_deterministic_for_a_seed(inpainter):
  images, masks = _batch()
  first = inpainter.inpaint(images, masks, mode="iterative", iterations=5, seed=11)
  again = inpainter.inpaint(images, masks, mode="iterative", iterations=5, seed=11)
  other = inpainter.inpaint(images, masks, mode="iterative", iterations=5, seed=12)
  np.testing.assert_array_equal(first["z"].numpy(), again["z"].numpy())
  np.testing.assert_array_equal(first["inpainted"].numpy(), again["inpainted"].numpy())
  assert not np.array_equal(first["z"].numpy(), other["z"].numpy())


def test_hybrid_with_zero_refine_steps_equals_single(inpainter):
  images, masks = _batch()
  single = inpainter.inpaint(images, masks, mode="single")
  hybrid = inpainter.inpaint(images, masks, mode="hybrid", refine_steps=0)
  refined = inpainter.inpaint(images, masks, mode="hybrid", refine_steps=5)
  for key in ("z", "generated", "inpainted"):
    np.testing.assert_array_equal(hybrid[key].numpy(), single[key].numpy())
  assert not np.array_equal(refined["z"].numpy(), single["z"].numpy())


def test_eager_equals_tf_function(inpainter):
  images, masks = _batch()
  compiled = inpainter.inpaint(images, masks, mode="single")
  tf.config.run_functions_eagerly(True)
  try:
    eager = inpainter.inpaint(images, masks, mode="single")
  finally:
    tf.config.run_functions_eagerly(False)
  for key in ("z", "inpainted"):
    np.testing.assert_allclose(eager[key].numpy(), compiled[key].numpy(), atol=1e-6)


def test_single_mode_without_prior_predictor_is_refused(tiny):
  bare = inpainting.Inpainter(generator=hub.load_generator(tiny.generator), z_dim=tiny_models.Z_DIM)
  images, masks = _batch()
  with pytest.raises(ValueError, match="prior predictor"):
    bare.inpaint(images, masks, mode="single")
  with pytest.raises(ValueError, match="mode='fast'"):
    bare.inpaint(images, masks, mode="fast")


def test_poisson_blend_keeps_known_and_changes_hole(inpainter):
  images, masks = _batch()
  generated = inpainter.inpaint(images, masks, mode="single")["generated"].numpy()
  blended = inpainting.poisson_blend(images=images, generated_images=generated, masks=masks)
  assert blended.shape == images.shape and blended.dtype == np.float32
  _assert_known_pixels_exact(images, masks, blended)
  hole = masks[..., 0] > 0.5
  assert np.abs(blended[hole] - generated[hole]).mean() > 1e-3
  assert np.all(blended >= -1.0) and np.all(blended <= 1.0)


def test_prior_predictor_of_another_generator_is_refused(tiny):
  with pytest.raises(InputError, match=r"^--prior_predictor=.*other_model.*another generator"):
    hub.load_prior_predictor(tiny.other_prior_predictor, generator_path=tiny.generator)
  with pytest.raises(InputError, match=r"^--prior_predictor=.*another generator"):
    inference_export.export_inpainter(os.path.join(os.path.dirname(tiny.model_dir), "never_written"),
                         prior_predictor_path=tiny.other_prior_predictor, generator_path=tiny.generator)
  assert not os.path.exists(os.path.join(os.path.dirname(tiny.model_dir), "never_written"))


# A fresh interpreter with TensorFlow only: the exported SavedModel must not need pgi_tf.
_FRESH_PROCESS_SCRIPT = r"""
import sys
import numpy as np
import tensorflow as tf
assert "pgi_tf" not in sys.modules
path, data, out = sys.argv[1:4]
arrays = np.load(data)
model = tf.saved_model.load(path)
served = model.signatures["serving_default"](images=tf.constant(arrays["images"]),
                                             masks=tf.constant(arrays["masks"]))
as_uint8 = model.signatures["inpaint_uint8"](images=tf.constant(arrays["images_u8"]),
                                             masks=tf.constant(arrays["masks_u8"]))
np.savez(out, inpainted=served["inpainted"].numpy(), generated=served["generated"].numpy(),
         z=served["z"].numpy(), inpainted_u8=as_uint8["inpainted"].numpy())
assert "pgi_tf" not in sys.modules
"""


def test_exported_inpainter_in_a_fresh_process(inpainter, tiny, tmp_path):
  export_path = str(tmp_path / "inpainter")
  inference_export.export_inpainter(export_path, prior_predictor_path=tiny.prior_predictor, generator_path=tiny.generator)
  metadata = hub.read_metadata(export_path)
  assert metadata["kind"] == "inpainter" and metadata["signature"] == "serving_default"
  images, masks = _batch()
  images_u8 = np.round((images + 1.0) * 127.5).astype(np.uint8)
  masks_u8 = (masks * 255).astype(np.uint8)
  np.savez(tmp_path / "data.npz", images=images, masks=masks, images_u8=images_u8, masks_u8=masks_u8)
  completed = subprocess.run(
      [sys.executable, "-c", _FRESH_PROCESS_SCRIPT, export_path, str(tmp_path / "data.npz"),
       str(tmp_path / "out.npz")], cwd=str(tmp_path), capture_output=True, text=True, timeout=120,
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=""))
  assert completed.returncode == 0, completed.stderr[-3000:]
  served = np.load(tmp_path / "out.npz")
  expected = inpainter.inpaint(images, masks, mode="single")
  for key in ("z", "generated", "inpainted"):
    np.testing.assert_allclose(served[key], expected[key].numpy(), atol=1e-5)
  _assert_known_pixels_exact(images, masks, served["inpainted"])
  inpainted_u8 = served["inpainted_u8"]
  assert inpainted_u8.dtype == np.uint8 and inpainted_u8.shape == images_u8.shape
  known = masks[..., 0] < 0.5
  assert np.array_equal(inpainted_u8[known], images_u8[known])
  expected_u8 = np.round((expected["inpainted"].numpy() + 1.0) * 127.5)
  hole = ~known
  assert np.abs(inpainted_u8[hole].astype(np.float32) - expected_u8[hole]).max() <= 1


def test_iterative_default_steps_follow_the_paper():
  # §6.3.1: 1000 steps at 64 px (and below), 1500 at 128 px.
  from pgi_tf.inference import inpainting as inpaint_lib
  inpainter = inpaint_lib.Inpainter(generator=lambda z: z, z_dim=2)
  assert inpainter.iterations_for(32) == 1000 and inpainter.iterations_for(64) == 1000
  assert inpainter.iterations_for(128) == 1500
  fixed = inpaint_lib.Inpainter(generator=lambda z: z, z_dim=2,
                                iterative=inpaint_lib.IterativeConfig(iterations=7))
  assert fixed.iterations_for(128) == 7


def test_poisson_blend_never_reads_the_pixels_under_the_hole():
  # The ground truth under the hole must not leak into the blend: any hole content, same result.
  rng = np.random.default_rng(0)
  images = rng.uniform(-1, 1, (6, 16, 16, 1)).astype(np.float32)
  generated = rng.uniform(-1, 1, (6, 16, 16, 1)).astype(np.float32)
  masks = np.zeros((6, 16, 16, 1), np.float32)
  masks[:, 4:11, 5:12] = 1.0
  reference = inpainting.poisson_blend(images=images, generated_images=generated, masks=masks)
  for fill in (-1.0, 1.0):
    other = images * (1 - masks) + masks * fill
    np.testing.assert_array_equal(
        inpainting.poisson_blend(images=other, generated_images=generated, masks=masks), reference)
  np.testing.assert_array_equal(reference * (1 - masks), images * (1 - masks))  # Eq. 8 outside
  assert np.abs(reference - images)[masks > 0.5].max() > 0.1  # the hole was filled, not copied
