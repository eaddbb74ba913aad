"""Tests for pgi_tf.losses: hand-computed 4x4 examples, scipy cross-checks, graph modes."""

import math

import numpy as np
import pytest
import scipy.ndimage
import tensorflow as tf

from pgi_tf import losses
from pgi_tf.errors import InputError

LOG2 = math.log(2.0)


def _batch(array_2d) -> np.ndarray:
  """[H, W] -> [1, H, W, 1] float32."""
  return np.asarray(array_2d, np.float32)[np.newaxis, :, :, np.newaxis]


# A 4x4 mask with a 2x2 hole in the middle, used by several hand examples.
CENTRE_HOLE = _batch([[0, 0, 0, 0],
                      [0, 1, 1, 0],
                      [0, 1, 1, 0],
                      [0, 0, 0, 0]])


# --------------------------------------------------------------------------------------------
# Eq. 3: contextual weights
# --------------------------------------------------------------------------------------------


def test_contextual_weights_hand_example_two_holes():
  # Hole pixels at (row 1, col 2) and (row 3, col 0). Distances worked out by hand:
  # d(i, j) = min(|i - 1| + |j - 2|, |i - 3| + |j - 0|).
  mask = _batch([[0, 0, 0, 0],
                 [0, 0, 1, 0],
                 [0, 0, 0, 0],
                 [1, 0, 0, 0]])
  expected_distance = np.array([[3, 2, 1, 2],
                                [2, 1, 0, 1],
                                [1, 2, 1, 2],
                                [0, 1, 2, 3]], np.float32)
  distance = losses.prior._manhattan_distance_to_hole(tf.constant(mask[..., 0] > 0.5))
  np.testing.assert_array_equal(distance.numpy()[0], expected_distance)

  weights = losses.contextual_weights(mask).numpy()[0, :, :, 0]
  expected_weights = np.where(mask[0, :, :, 0] > 0, 0.0, 0.99 ** expected_distance)
  np.testing.assert_allclose(weights, expected_weights, rtol=0, atol=1e-6)
  assert weights[1, 2] == 0.0 and weights[3, 0] == 0.0
  np.testing.assert_allclose(weights[0, 0], 0.99 ** 3, rtol=1e-6)  # 0.970299


def test_contextual_weights_centre_hole_literal():
  weights = losses.contextual_weights(CENTRE_HOLE).numpy()[0, :, :, 0]
  expected = np.array([[0.9801, 0.99, 0.99, 0.9801],
                       [0.99, 0.0, 0.0, 0.99],
                       [0.99, 0.0, 0.0, 0.99],
                       [0.9801, 0.99, 0.99, 0.9801]], np.float32)
  np.testing.assert_allclose(weights, expected, rtol=0, atol=1e-6)


def _random_masks(rng, height, width, count):
  """Masks with one or several rectangular holes, or scattered single-pixel holes."""
  masks = np.zeros((count, height, width, 1), np.float32)
  for n in range(count):
    if n % 3 == 2:
      masks[n, ..., 0] = rng.random((height, width)) < 0.03
    else:
      for _ in range(1 + n % 3):
        top, left = rng.integers(0, height), rng.integers(0, width)
        masks[n, top:top + rng.integers(1, height // 2 + 2),
              left:left + rng.integers(1, width // 2 + 2), 0] = 1.0
    if not masks[n].any():
      masks[n, rng.integers(0, height), rng.integers(0, width), 0] = 1.0
  return masks


@pytest.mark.parametrize("height,width", [(7, 5), (16, 16), (32, 24), (5, 33), (1, 9)])
def test_contextual_weights_match_scipy_taxicab(height, width):
  rng = np.random.default_rng(height * 100 + width)
  masks = _random_masks(rng, height, width, count=4)
  weights = losses.contextual_weights(masks).numpy()
  distance = losses.prior._manhattan_distance_to_hole(tf.constant(masks[..., 0] > 0.5)).numpy()
  for n in range(len(masks)):
    known = 1 - masks[n, ..., 0].astype(np.int32)
    scipy_distance = scipy.ndimage.distance_transform_cdt(known, metric="taxicab")
    np.testing.assert_array_equal(distance[n], scipy_distance)
    expected = np.where(known == 0, 0.0, 0.99 ** scipy_distance.astype(np.float64))
    np.testing.assert_allclose(weights[n, ..., 0], expected, rtol=0, atol=1e-6)


def test_contextual_weights_without_hole_is_plain_l1_and_decay_is_used():
  no_hole = np.zeros((2, 5, 6, 1), np.float32)
  np.testing.assert_array_equal(losses.contextual_weights(no_hole).numpy(), 1.0)
  # A mixed batch: only the example without a hole falls back to ones.
  mixed = np.concatenate([no_hole[:1], np.pad(CENTRE_HOLE, [[0, 0], [0, 1], [0, 2], [0, 0]])])
  weights = losses.contextual_weights(mixed, decay=0.5).numpy()
  np.testing.assert_array_equal(weights[0], 1.0)
  assert weights[1, 4, 5, 0] == pytest.approx(0.5 ** 5)   # (4,5) to (2,2): 2 + 3
  # Unbatched [H, W, 1] input keeps its rank.
  assert losses.contextual_weights(CENTRE_HOLE[0]).shape == (4, 4, 1)
  with pytest.raises(InputError, match="decay"):
    losses.contextual_weights(CENTRE_HOLE, decay=1.5)
  with pytest.raises(InputError, match="masks"):
    losses.contextual_weights(np.zeros((1, 4, 4, 3), np.float32))


def test_contextual_weights_unknown_batch_and_size_in_tf_function():
  masks = _random_masks(np.random.default_rng(3), 12, 10, count=3)
  eager = losses.contextual_weights(masks).numpy()
  batch_unknown = tf.function(
      losses.contextual_weights, input_signature=[tf.TensorSpec([None, 12, 10, 1], tf.float32)])
  all_unknown = tf.function(
      losses.contextual_weights, input_signature=[tf.TensorSpec([None, None, None, 1], tf.float32)])
  np.testing.assert_array_equal(batch_unknown(masks).numpy(), eager)
  np.testing.assert_array_equal(all_unknown(masks).numpy(), eager)
  output_spec = batch_unknown.get_concrete_function().structured_outputs
  assert output_spec.shape.as_list() == [None, 12, 10, 1]


# --------------------------------------------------------------------------------------------
# Eq. 4-7 on 4x4 hand examples
# --------------------------------------------------------------------------------------------


def test_contextual_loss_hand_value():
  target = np.zeros((1, 4, 4, 1), np.float32)
  generated = np.full((1, 4, 4, 1), 0.5, np.float32)
  generated[CENTRE_HOLE > 0] = 9.0  # inside the hole: W = 0, must not count
  weights = losses.contextual_weights(CENTRE_HOLE)
  loss = losses.contextual_loss(target_images=target, generated_images=generated, weights=weights,
                                masks=CENTRE_HOLE)
  # 0.5 * (4 corners * 0.9801 + 8 edges * 0.99) / 12 known pixels = 0.5 * 11.8404 / 12
  np.testing.assert_allclose(loss.numpy(), [0.4933500], rtol=1e-6)


def test_contextual_and_gradient_losses_weigh_every_hole_size_alike():
  """Eq. 4 and Eq. 6 per known pixel: the same per-pixel error gives the same loss for a 1-pixel
  hole and a 12-pixel hole (a mean over all H * W pixels would give 15/16 vs 4/16 of it)."""
  small = np.zeros((1, 4, 4, 1), np.float32)
  small[0, 0, 0, 0] = 1.0
  big = np.ones((1, 4, 4, 1), np.float32)
  big[0, 1:3, 1:3, 0] = 0.0          # only the 2x2 centre is known
  masks = np.concatenate([small, big])
  target = np.zeros((2, 4, 4, 1), np.float32)
  generated = np.full((2, 4, 4, 1), 0.25, np.float32)
  ones = np.ones_like(masks) * (1.0 - masks)   # W = 1 on every known pixel
  loss = losses.contextual_loss(target_images=target, generated_images=generated, weights=ones,
                                masks=masks)
  np.testing.assert_allclose(loss.numpy(), [0.25, 0.25], rtol=1e-6)
  # Eq. 6: G has a ramp of slope 0.5 along the width, I_d is flat: every known x-pair mismatches
  # by 0.5 and every y-pair by 0, in both examples.
  ramp = np.tile(0.5 * np.arange(4, dtype=np.float32)[None, None, :, None], (2, 4, 1, 1))
  difference = losses.gradient_difference_loss(masked_images=target, generated_images=ramp,
                                               masks=masks)
  np.testing.assert_allclose(difference.numpy(), [0.5, 0.5], rtol=1e-6)
  # No known pixel at all: 0, not NaN.
  everything = np.ones((1, 4, 4, 1), np.float32)
  assert losses.contextual_loss(target_images=target[:1], generated_images=generated[:1],
                                weights=np.zeros_like(everything), masks=everything).numpy()[0] == 0.0
  assert losses.gradient_difference_loss(masked_images=target[:1], generated_images=ramp[:1],
                                         masks=everything).numpy()[0] == 0.0


def test_photo_realism_loss_hand_values():
  loss = losses.photo_realism_loss(fake_logits=np.array([[0.0], [math.log(3.0)]], np.float32))
  # log(1 - sigmoid(0)) = log(0.5); log(1 - sigmoid(log 3)) = log(1 - 0.75) = log(0.25)
  np.testing.assert_allclose(loss.numpy(), [-0.6931472, -1.3862944], rtol=1e-6)
  # Stable where the naive formula would give log(0) = -inf.
  assert losses.photo_realism_loss(fake_logits=[200.0]).numpy()[0] == pytest.approx(-200.0)


# Shared gradient-difference example: I_d is a horizontal ramp (I_d = column index) outside
# the centre hole and 0 inside; G is a vertical ramp (G = 2 * row) outside and 100 inside.
GD_MASKED = _batch([[0, 1, 2, 3],
                    [0, 0, 0, 3],
                    [0, 0, 0, 3],
                    [0, 1, 2, 3]])
GD_GENERATED = _batch([[0, 0, 0, 0],
                       [2, 100, 100, 2],
                       [4, 100, 100, 4],
                       [6, 6, 6, 6]])


def test_gradient_difference_loss_hand_value():
  loss = losses.gradient_difference_loss(
      masked_images=GD_MASKED, generated_images=GD_GENERATED, masks=CENTRE_HOLE)
  # x: 6 pairs with both ends known (rows 0 and 3), each |1 - 0| = 1 -> 6 / 6 = 1.0
  # y: 6 pairs with both ends known (cols 0 and 3), each |0 - 2| = 2 -> 12 / 6 = 2.0
  np.testing.assert_allclose(loss.numpy(), [3.0], rtol=1e-6)
  # Full image I instead of I_d: the hole's content is never read.
  full_image = GD_MASKED + 55.0 * CENTRE_HOLE
  same = losses.gradient_difference_loss(
      masked_images=full_image, generated_images=GD_GENERATED, masks=CENTRE_HOLE)
  np.testing.assert_allclose(same.numpy(), [3.0], rtol=1e-6)


def test_combined_prior_loss_hand_value():
  total = losses.combined_prior_loss(contextual=[0.3700125], photo_realism=[-0.6931472],
                                     gradient_difference=[1.5], lambda_realism=0.5,
                                     lambda_gradient=0.1)
  # 0.3700125 + 0.5 * (-0.6931472) + 0.1 * 1.5
  np.testing.assert_allclose(total.numpy(), [0.1734389], rtol=1e-6)


def test_prior_losses_hand_values():
  out = losses.prior_losses(images_or_masked=GD_MASKED, generated_images=GD_GENERATED,
                            masks=CENTRE_HOLE, fake_logits=[[math.log(3.0)]],
                            lambda_realism=0.5, lambda_gradient=0.1)
  # Contextual, by hand: known-pixel |I_d - G| times W, summed row by row:
  #   row 0: 0*.9801 + 1*.99 + 2*.99 + 3*.9801 = 5.9103
  #   row 1: 2*.99 + 1*.99 = 2.97;   row 2: 4*.99 + 1*.99 = 4.95
  #   row 3: 6*.9801 + 5*.99 + 4*.99 + 3*.9801 = 17.7309     sum 31.5612 / 12 known = 2.6301
  np.testing.assert_allclose(out["contextual"].numpy(), [2.6301], rtol=1e-6)
  np.testing.assert_allclose(out["photo_realism"].numpy(), [-1.3862944], rtol=1e-6)
  np.testing.assert_allclose(out["gradient_difference"].numpy(), [3.0], rtol=1e-6)
  # 2.6301 + 0.5 * (-1.3862944) + 0.1 * 3.0
  np.testing.assert_allclose(out["total"].numpy(), [2.2369528], rtol=1e-6)

  no_discriminator = losses.prior_losses(
      images_or_masked=GD_MASKED, generated_images=GD_GENERATED, masks=CENTRE_HOLE,
      fake_logits=None, lambda_realism=0.5, lambda_gradient=0.1,
      weights=losses.contextual_weights(CENTRE_HOLE))
  np.testing.assert_array_equal(no_discriminator["photo_realism"].numpy(), [0.0])
  np.testing.assert_allclose(no_discriminator["total"].numpy(), [2.6301 + 0.3], rtol=1e-6)


# --------------------------------------------------------------------------------------------
# Eq. 1: GAN losses and the gradient penalty
# --------------------------------------------------------------------------------------------

REAL_LOGITS = np.array([[0.0], [2.0]], np.float32)
FAKE_LOGITS = np.array([[0.0], [-1.0]], np.float32)


@pytest.mark.parametrize("kind,expected_d,expected_g", [
    # softplus(-r) + softplus(f): [2 log 2, log(1 + e^-2) + log(1 + e^-1)]; G: softplus(-f)
    ("non_saturating", [2 * LOG2, 0.1269280 + 0.3132617], [LOG2, 1.3132617]),
    # relu(1 - r) + relu(1 + f): [1 + 1, 0 + 0]; G: -f
    ("hinge", [2.0, 0.0], [0.0, 1.0]),
    # f - r: [0, -3]; G: -f
    ("wgan_gp", [0.0, -3.0], [0.0, 1.0]),
])
def test_gan_losses_hand_values(kind, expected_d, expected_g):
  d_loss = losses.discriminator_loss(kind=kind, real_logits=REAL_LOGITS, fake_logits=FAKE_LOGITS)
  g_loss = losses.generator_loss(kind=kind, fake_logits=FAKE_LOGITS)
  assert d_loss.shape == (2,) and g_loss.shape == (2,)
  np.testing.assert_allclose(d_loss.numpy(), expected_d, rtol=1e-6, atol=1e-7)
  np.testing.assert_allclose(g_loss.numpy(), expected_g, rtol=1e-6, atol=1e-7)


def test_gan_loss_unknown_kind():
  with pytest.raises(InputError, match=r"kind='lsgan'.*non_saturating, hinge, wgan_gp"):
    losses.discriminator_loss(kind="lsgan", real_logits=REAL_LOGITS, fake_logits=FAKE_LOGITS)
  with pytest.raises(InputError, match="kind='lsgan'"):
    losses.generator_loss(kind="lsgan", fake_logits=FAKE_LOGITS)


@pytest.mark.parametrize("norm,expected", [(1.0, 0.0), (3.0, 4.0), (0.5, 0.25)])
def test_gradient_penalty_linear_critic(norm, expected):
  rng = np.random.default_rng(0)
  direction = rng.normal(size=(1, 4, 4, 3)).astype(np.float32)
  direction *= norm / np.linalg.norm(direction)
  critic = lambda x: tf.reduce_sum(x * direction, axis=[1, 2, 3])  # grad = direction everywhere
  penalty = losses.gradient_penalty(
      discriminator_fn=critic, real_images=rng.normal(size=(3, 4, 4, 3)).astype(np.float32),
      fake_images=rng.normal(size=(3, 4, 4, 3)).astype(np.float32),
      interpolation_weights=rng.random((3, 1, 1, 1)).astype(np.float32))
  np.testing.assert_allclose(penalty.numpy(), [expected] * 3, atol=1e-5)


def test_gradient_penalty_uses_per_example_interpolation():
  # D(x) = 0.5 * ||x||^2 -> grad = x_hat = w * real + (1 - w) * fake = w (real = 1, fake = 0).
  # ||grad|| = w * sqrt(16) = 4w:  w = 0.25 -> 0;  w = 0.5 -> (2 - 1)^2 = 1;  w = 1 -> 9.
  critic = lambda x: 0.5 * tf.reduce_sum(tf.square(x), axis=[1, 2, 3])
  penalty = losses.gradient_penalty(
      discriminator_fn=critic, real_images=np.ones((3, 4, 4, 1), np.float32),
      fake_images=np.zeros((3, 4, 4, 1), np.float32),
      interpolation_weights=np.array([0.25, 0.5, 1.0], np.float32).reshape(3, 1, 1, 1))
  np.testing.assert_allclose(penalty.numpy(), [0.0, 1.0, 9.0], atol=1e-5)


# --------------------------------------------------------------------------------------------
# Yeh et al.
# --------------------------------------------------------------------------------------------


def _yeh_weights_brute_force(mask_2d, window):
  height, width = mask_2d.shape
  radius = window // 2
  weights = np.zeros((height, width))
  for i in range(height):
    for j in range(width):
      if mask_2d[i, j] > 0.5:
        continue
      holes = 0
      for di in range(-radius, radius + 1):
        for dj in range(-radius, radius + 1):
          y, x = i + di, j + dj
          if 0 <= y < height and 0 <= x < width and mask_2d[y, x] > 0.5:
            holes += 1
      weights[i, j] = holes / window ** 2
  return weights


@pytest.mark.parametrize("height,width,window", [(9, 7, 7), (16, 16, 3), (6, 11, 5)])
def test_yeh_importance_weights_match_brute_force(height, width, window):
  masks = _random_masks(np.random.default_rng(height + width + window), height, width, count=3)
  weights = losses.yeh_importance_weights(masks, window=window).numpy()
  for n in range(len(masks)):
    np.testing.assert_allclose(weights[n, ..., 0],
                               _yeh_weights_brute_force(masks[n, ..., 0], window), atol=1e-6)


def test_yeh_importance_weights_hand_value_and_errors():
  # Centre hole, 3x3 window: a corner sees 1 hole pixel, an edge pixel 2 -> 1/9 and 2/9.
  weights = losses.yeh_importance_weights(CENTRE_HOLE, window=3).numpy()[0, :, :, 0]
  np.testing.assert_allclose(weights, np.array([[1, 2, 2, 1],
                                                [2, 0, 0, 2],
                                                [2, 0, 0, 2],
                                                [1, 2, 2, 1]]) / 9.0, atol=1e-6)
  with pytest.raises(InputError, match="window=4"):
    losses.yeh_importance_weights(CENTRE_HOLE, window=4)


def test_yeh_losses_hand_values():
  weights = _batch([[0.5, 0.0], [1.0, 0.25]])
  masked = _batch([[0.0, 0.0], [1.0, 0.0]])
  generated = _batch([[2.0, 9.0], [2.0, 4.0]])
  # Un-normalised weighted L1: 0.5 * 2 + 0 * 9 + 1 * 1 + 0.25 * 4 = 3
  loss = losses.yeh_contextual_loss(masked_images=masked, generated_images=generated,
                                    weights=weights)
  np.testing.assert_allclose(loss.numpy(), [3.0], rtol=1e-6)
  np.testing.assert_allclose(losses.yeh_perceptual_loss(fake_logits=[0.0, math.log(3.0)]).numpy(),
                             [-0.6931472, -1.3862944], rtol=1e-6)


# --------------------------------------------------------------------------------------------
# Graph modes: eager == tf.function == XLA, and per-example losses under MirroredStrategy
# --------------------------------------------------------------------------------------------


def _random_stage2_batch(seed=0, batch=4, height=8, width=6, channels=3):
  rng = np.random.default_rng(seed)
  return dict(
      images_or_masked=rng.uniform(-1, 1, (batch, height, width, channels)).astype(np.float32),
      generated_images=rng.uniform(-1, 1, (batch, height, width, channels)).astype(np.float32),
      masks=_random_masks(rng, height, width, batch),
      fake_logits=rng.normal(size=(batch, 1)).astype(np.float32))


def test_eager_tf_function_and_xla_agree():
  inputs = _random_stage2_batch()

  def all_losses(images_or_masked, generated_images, masks, fake_logits):
    out = losses.prior_losses(images_or_masked=images_or_masked, generated_images=generated_images,
                              masks=masks, fake_logits=fake_logits, lambda_realism=0.003,
                              lambda_gradient=0.1)
    out["d_hinge"] = losses.discriminator_loss(kind="hinge", real_logits=fake_logits + 1.0,
                                               fake_logits=fake_logits)
    out["yeh"] = losses.yeh_contextual_loss(
        masked_images=images_or_masked, generated_images=generated_images,
        weights=losses.yeh_importance_weights(masks))
    return out

  eager = all_losses(**inputs)
  graph = tf.function(all_losses)(**inputs)
  xla = tf.function(all_losses, jit_compile=True)(**inputs)
  for name, value in eager.items():
    assert value.shape == (4,), name
    np.testing.assert_allclose(graph[name].numpy(), value.numpy(), rtol=1e-6, err_msg=name)
    np.testing.assert_allclose(xla[name].numpy(), value.numpy(), rtol=1e-5, err_msg=name)


def test_per_example_losses_under_mirrored_strategy():
  strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
  inputs = _random_stage2_batch(seed=1, batch=4)
  expected = np.mean(losses.prior_losses(lambda_realism=0.003, lambda_gradient=0.1,
                                         **inputs)["total"].numpy())
  dataset = tf.data.Dataset.from_tensor_slices(inputs).batch(4)
  distributed = strategy.experimental_distribute_dataset(dataset)

  @tf.function
  def replica_loss(batch):
    per_example = losses.prior_losses(lambda_realism=0.003, lambda_gradient=0.1, **batch)["total"]
    return tf.nn.compute_average_loss(per_example, global_batch_size=4)

  batch = next(iter(distributed))
  total = strategy.reduce(tf.distribute.ReduceOp.SUM, strategy.run(replica_loss, args=(batch,)),
                          axis=None)
  np.testing.assert_allclose(total.numpy(), expected, rtol=1e-5)
