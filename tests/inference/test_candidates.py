"""K candidate latents (pgi_tf.inference.candidates, a K-head P): shapes, the choice by Eq. 4, the
order, warm starting K heads from one, and an Inpainter / export on a K-candidate P."""

import dataclasses
import os

import numpy as np
import pytest
import tensorflow as tf

from pgi_tf import hub
from pgi_tf import losses
from pgi_tf.inference import candidates
from pgi_tf.inference import inpainting
from pgi_tf.inference import loading
from pgi_tf.models import prior_predictor as prior_lib
from tests import tiny_models


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
  return tiny_models.shared_model_dirs(tmp_path_factory)


def test_choose_and_order_by_hand():
  values = tf.constant([[[10.0], [11.0], [12.0]], [[20.0], [21.0], [22.0]]])
  scores = tf.constant([[0.3, 0.1, 0.2], [0.0, 0.5, 0.4]])
  np.testing.assert_array_equal(candidates.choose(values, scores), [[11.0], [20.0]])
  np.testing.assert_array_equal(candidates.order(values, scores)[..., 0], [[11.0, 12.0, 10.0], [20.0, 22.0, 21.0]])


def test_flatten_repeat_unflatten_keep_example_major_order():
  z = tf.reshape(tf.range(2 * 3 * 4, dtype=tf.float32), [2, 3, 4])
  flat = candidates.flatten(z)
  np.testing.assert_array_equal(flat[4], z[1, 1])  # row n * K + k
  np.testing.assert_array_equal(candidates.repeat(tf.constant([[1.0], [2.0]]), 3)[:, 0], [1, 1, 1, 2, 2, 2])
  np.testing.assert_array_equal(candidates.unflatten(flat, 3), z)
  assert candidates.count(z) == 3 and candidates.count(z[:, 0]) == 1


def test_scores_are_eq4_of_each_candidate():
  rng = np.random.default_rng(0)
  masked = rng.uniform(-1, 1, (2, 8, 8, 1)).astype(np.float32)
  masks = np.zeros((2, 8, 8, 1), np.float32)
  masks[:, 2:5, 3:7] = 1.0
  masked *= 1.0 - masks
  generated = rng.uniform(-1, 1, (6, 8, 8, 1)).astype(np.float32)
  scores = candidates.scores(masked_images=masked, masks=masks, generated_images=generated, k=3).numpy()
  for n in range(2):
    for k in range(3):
      expected = losses.contextual_loss(target_images=masked[n:n + 1], generated_images=generated[3 * n + k][None],
                                        weights=losses.contextual_weights(masks[n:n + 1]), masks=masks[n:n + 1])
      np.testing.assert_allclose(scores[n, k], expected.numpy()[0], rtol=1e-6)


def test_k_head_p_has_k_outputs_and_spread_heads_keeps_head_zero():
  one = tiny_models.build_tiny_prior_predictor(seed=3)
  many = prior_lib.build_prior_predictor(dataclasses.replace(tiny_models.PRIOR_CONFIG, num_candidates=4))
  prior_lib.spread_heads(one, many, seed=0, bias_spread=0.5)
  rng = np.random.default_rng(1)
  images = rng.uniform(-1, 1, (5, 16, 16, 1)).astype(np.float32)
  masks = (rng.uniform(size=(5, 16, 16, 1)) < 0.3).astype(np.float32)
  z_one, z_many = one([images, masks]).numpy(), many([images, masks]).numpy()
  assert z_many.shape == (5, 4, tiny_models.Z_DIM)
  np.testing.assert_allclose(z_many[:, 0], z_one, atol=1e-6)
  assert np.abs(z_many[:, 1:] - z_one[:, None]).mean() > 0.05  # the other heads start elsewhere
  assert np.all(np.abs(z_many) < 1.0)  # every candidate is in U[-1, 1]'s support


def _three_candidate_models(tiny, tmp_path):
  """A 3-head P spread from a tiny one-head P, exported for the tiny G, and the model set using it."""
  many = prior_lib.build_prior_predictor(dataclasses.replace(tiny_models.PRIOR_CONFIG, num_candidates=3))
  prior_lib.spread_heads(tiny_models.build_tiny_prior_predictor(seed=5), many, bias_spread=1.0)
  path = str(tmp_path / "prior_predictor_k3")
  tiny_models.export_tiny_prior_predictor(many, path, generator_path=tiny.generator, num_candidates=3)
  return many, loading.load_models(model_dir=tiny.model_dir, prior_predictor=path)


def test_inpainter_pastes_the_best_candidate_and_returns_all_in_order(tiny, tmp_path):
  many, models = _three_candidate_models(tiny, tmp_path)
  inpainter = loading.make_inpainter(models)
  assert inpainter.num_candidates == 3
  rng = np.random.default_rng(2)
  images = rng.uniform(-1, 1, (4, 16, 16, 1)).astype(np.float32)
  masks = np.zeros((4, 16, 16, 1), np.float32)
  masks[:, 4:12, 2:10] = 1.0
  out = inpainter.inpaint(images, masks, mode="single")
  assert out["candidates"].shape == (4, 3, 16, 16, 1) and out["z"].shape == (4, tiny_models.Z_DIM)
  # By hand: every head through G, Eq. 4 of each, the lowest pasted.
  masked = (1 - masks) * images
  z_all = many([masked, masks]).numpy()
  per_head = []
  for k in range(3):
    generated = models.generator(z_all[:, k]).numpy()
    per_head.append(losses.contextual_loss(target_images=masked, generated_images=generated,
                                           weights=losses.contextual_weights(masks), masks=masks).numpy())
  per_head = np.stack(per_head, 1)
  best = per_head.argmin(1)
  np.testing.assert_allclose(out["z"], z_all[np.arange(4), best], atol=1e-5)
  np.testing.assert_allclose(out["candidates"][:, 0], out["inpainted"], atol=1e-6)
  # Candidates ordered best first: candidate k holds, in the hole, G of the head ranked k by Eq. 4.
  ranking = np.argsort(per_head, axis=1, kind="stable")
  for k in range(3):
    head_z = z_all[np.arange(4), ranking[:, k]]
    expected = inpainting.compose(images=images, masks=masks, generated_images=models.generator(head_z))
    np.testing.assert_allclose(out["candidates"][:, k], expected, atol=1e-5)
  # Known pixels untouched in every candidate (Eq. 8).
  np.testing.assert_array_equal(out["candidates"].numpy()[:, :, 0:4], np.repeat(images[:, None, 0:4], 3, 1))


def test_folder_front_end_writes_the_candidates_best_first(tiny, tmp_path):
  from pgi_tf.errors import InputError
  from pgi_tf.inference import folders
  many, models = _three_candidate_models(tiny, tmp_path)
  rng = np.random.default_rng(0)
  for name in ("a", "b"):
    tiny_models.write_png(str(tmp_path / "in" / f"{name}.png"), rng.integers(0, 256, (16, 16)))
  mask = np.zeros((16, 16), np.uint8)
  mask[4:12, 4:12] = 255  # white = hole
  tiny_models.write_png(str(tmp_path / "mask.png"), mask)
  out = tmp_path / "out"
  summary = folders.inpaint_files(models=models, input_path=str(tmp_path / "in"), output_dir=str(out),
                                  mask_path=str(tmp_path / "mask.png"), num_candidates=2, grid_upscale=1)
  strip = tiny_models.read_png(str(out / "candidates" / "a.png"))
  assert strip.shape[:2] == (16, 32) and summary["num_candidates"] == 2
  # The best alternative is the inpainted output itself.
  np.testing.assert_array_equal(strip[:, :16], tiny_models.read_png(str(out / "a.png")))
  assert (out / "candidates.png").is_file()
  with pytest.raises(InputError, match=r"--num_candidates=4: .*this P has 3"):
    folders.inpaint_files(models=models, input_path=str(tmp_path / "in"), output_dir=str(tmp_path / "x"),
                          mask_path=str(tmp_path / "mask.png"), num_candidates=4)
  assert not (tmp_path / "x").exists()
