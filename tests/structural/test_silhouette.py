"""Silhouette keypoints (the generic structural prior, beyond the paper): hand-built shapes, switches, geometry."""

import numpy as np
import pytest
import skimage.draw
import tensorflow as tf

from pgi_tf.errors import InputError
from pgi_tf.structural import silhouette

# R = 9: the centre is pixel (4, 4) and the 9 samples of an axis ray fall every half pixel,
# so every pixel of a row / column ray is visited and the expected points are exact.
R = 9
LAST = R - 1


def _canvas(*, resolution=R, channels=1, background=-1.0):
  return np.full((resolution, resolution, channels), background, np.float32)


def _square():
  """Foreground rows 2..6, cols 2..6 (inclusive), centred on pixel (4, 4)."""
  image = _canvas()
  image[2:7, 2:7] = 1.0
  return image


def _keypoints(images, masks=None, **kwargs):
  points, switches = silhouette.silhouette_keypoints(np.asarray(images, np.float32), masks, **kwargs)
  return points.numpy(), switches.numpy()


def _as_pixels(points):
  """(x, y) in [0, 1] -> (col, row) pixels."""
  return np.rint(points * LAST).astype(int)


# --------------------------------------------------------------------------- hand-built shapes

def test_square_eight_rays_hit_edges_and_corners():
  points, switches = _keypoints(_square()[None], num_rays=8)
  # Ray k at 2πk/8 counter-clockwise from +x, y down: right, up-right, up, up-left, left, ...
  expected_col_row = [(6, 4), (6, 2), (4, 2), (2, 2), (2, 4), (2, 6), (4, 6), (6, 6)]
  np.testing.assert_array_equal(_as_pixels(points[0]), expected_col_row)
  np.testing.assert_allclose(points[0] * LAST, expected_col_row, atol=1e-5)  # exactly on pixels
  np.testing.assert_array_equal(switches, np.ones((1, 8)))
  assert points.dtype == np.float32 and switches.dtype == np.float32


def test_off_centre_rectangle_and_rays_without_foreground_sit_at_the_centre():
  image = _canvas()
  image[3:6, 5:8] = 1.0  # rows 3..5, cols 5..7: only the right ray crosses it
  points, switches = _keypoints(image[None], num_rays=4)
  np.testing.assert_array_equal(_as_pixels(points[0]), [(7, 4), (4, 4), (4, 4), (4, 4)])
  np.testing.assert_array_equal(switches[0], [1, 1, 1, 1])  # "no extent" is visible, not hidden


def test_wide_rectangle_four_rays():
  image = _canvas()
  image[3:6, 0:8] = 1.0  # rows 3..5, cols 0..7
  points, _ = _keypoints(image[None], num_rays=4)
  np.testing.assert_array_equal(_as_pixels(points[0]), [(7, 4), (4, 3), (0, 4), (4, 5)])


def test_disc_keypoints_lie_on_the_circle_along_their_rays():
  resolution, radius, num_rays = 33, 10.0, 16
  centre = (resolution - 1) / 2
  rows, cols = np.mgrid[:resolution, :resolution]
  image = np.where(np.hypot(rows - centre, cols - centre) <= radius, 1.0, -1.0)[..., None]
  points, switches = _keypoints(image[None], num_rays=num_rays)
  cols_rows = points[0] * (resolution - 1)
  distance = np.hypot(cols_rows[:, 0] - centre, cols_rows[:, 1] - centre)
  assert np.all(distance <= radius + 1e-6) and np.all(distance >= radius - 1.0), distance
  angle = np.arctan2(-(cols_rows[:, 1] - centre), cols_rows[:, 0] - centre) % (2 * np.pi)
  expected_angle = 2 * np.pi * np.arange(num_rays) / num_rays
  angle_error = np.abs((angle - expected_angle + np.pi) % (2 * np.pi) - np.pi)
  assert np.all(angle_error < np.arctan(0.75 / radius)), angle_error  # within ~half a pixel
  # Axis rays are exact: (26, 16), (16, 6), (6, 16), (16, 26).
  np.testing.assert_array_equal(np.rint(points[0, ::4] * (resolution - 1)).astype(int),
                                [(26, 16), (16, 6), (6, 16), (16, 26)])
  np.testing.assert_array_equal(switches, np.ones((1, num_rays)))


def test_batch_examples_are_independent():
  empty = _canvas()
  points, switches = _keypoints(np.stack([_square(), empty, _square()]), num_rays=8)
  np.testing.assert_array_equal(points[0], points[2])
  np.testing.assert_allclose(points[1], np.full((8, 2), 0.5))  # no foreground: all at the centre
  np.testing.assert_array_equal(switches, np.ones((3, 8)))


def test_flatten_orders_x0_y0_x1_y1_and_unflatten_inverts():
  points = np.arange(2 * 3 * 2, dtype=np.float32).reshape(2, 3, 2)
  flat = silhouette.flatten(points).numpy()
  np.testing.assert_array_equal(flat[0], [0, 1, 2, 3, 4, 5])
  np.testing.assert_array_equal(silhouette.unflatten(flat, 3).numpy(), points)


# --------------------------------------------------------------------------- switches

def _hole(*pixels):
  mask = np.zeros((R, R, 1), np.float32)
  for row, col in pixels:
    mask[row, col] = 1.0
  return mask


@pytest.mark.parametrize("hole_pixels,right_visible,right_col_row", [
    ([], 1, (6, 4)),
    ([(4, 8)], 0, None),          # beyond the point, on its ray to the border: hidden
    ([(4, 7)], 0, None),          # just outside the object, still on the ray: hidden
    ([(4, 6)], 0, None),          # the point itself: the seen point moves in, a hole lies beyond
    ([(4, 5)], 1, (6, 4)),        # between the centre and the point: the point is still exact
    ([(4, 2), (4, 3)], 1, (6, 4)),  # on the opposite (left) ray: does not concern the right ray
    ([(0, 0), (8, 8)], 1, (6, 4)),  # off every axis ray
])
def test_switch_is_one_iff_no_hole_sample_lies_outwards_of_the_point(hole_pixels, right_visible,
                                                                     right_col_row):
  image = _square()
  points, switches = _keypoints(image[None], _hole(*hole_pixels)[None], num_rays=4)
  assert switches[0, 0] == right_visible
  if right_visible:
    np.testing.assert_array_equal(_as_pixels(points[0, 0]), right_col_row)
  else:
    np.testing.assert_array_equal(points[0, 0], [0.0, 0.0])  # hidden -> x = y = 0
  # The up and down rays never see these holes (none is in column 4).
  np.testing.assert_array_equal(switches[0, [1, 3]], [1, 1])
  np.testing.assert_array_equal(_as_pixels(points[0, [1, 3]]), [(4, 2), (4, 6)])


def test_hole_on_the_left_ray_hides_only_the_left_point():
  points, switches = _keypoints(_square()[None], _hole((4, 1))[None], num_rays=4)
  np.testing.assert_array_equal(switches[0], [1, 1, 0, 1])
  np.testing.assert_array_equal(points[0, 2], [0.0, 0.0])


def test_pixels_under_the_hole_are_ignored():
  mask = _hole((4, 5), (2, 4))
  bright = _square()
  bright[mask[..., 0] > 0] = 1.0
  dark = _square()
  dark[mask[..., 0] > 0] = -1.0
  np.testing.assert_array_equal(_keypoints(bright[None], mask[None], num_rays=8)[0],
                                _keypoints(dark[None], mask[None], num_rays=8)[0])


def _reference_keypoints(image, mask, *, num_rays, threshold, background):
  """Plain-numpy loops over each ray: the rule of the module docstring, written independently."""
  pixels = silhouette.ray_sample_pixels(image.shape[0], num_rays=num_rays)
  foreground = np.max(np.abs(image - background), axis=-1) > threshold
  hole = mask[..., 0] > 0.5
  points, switches = np.zeros((num_rays, 2), np.float32), np.zeros(num_rays, np.float32)
  for k in range(num_rays):
    samples = [tuple(p) for p in pixels[k]]
    seen = [foreground[p] and not hole[p] for p in samples]
    outermost = max([i for i, s in enumerate(seen) if s], default=0)
    if not any(hole[p] for p in samples[outermost:]):
      switches[k] = 1.0
      row, col = samples[outermost]
      points[k] = (col / (image.shape[0] - 1), row / (image.shape[0] - 1))
  return points, switches


def test_random_blobs_and_holes_match_a_numpy_reference():
  rng = np.random.default_rng(0)
  resolution, num_rays, count = 16, 12, 24
  images = np.where(rng.random((count, resolution, resolution, 1)) < 0.3, 0.8, -1.0).astype(np.float32)
  masks = np.zeros((count, resolution, resolution, 1), np.float32)
  for n in range(count):
    top, left = rng.integers(0, resolution - 4, size=2)
    height, width = rng.integers(1, 8, size=2)
    masks[n, top:top + height, left:left + width] = 1.0
  points, switches = _keypoints(images, masks, num_rays=num_rays, background=-1.0)
  hidden = 0
  for n in range(count):
    expected_points, expected_switches = _reference_keypoints(
        images[n], masks[n], num_rays=num_rays, threshold=silhouette.DEFAULT_THRESHOLD, background=-1.0)
    np.testing.assert_array_equal(switches[n], expected_switches)
    np.testing.assert_allclose(points[n], expected_points, atol=1e-6)
    hidden += int((expected_switches == 0).sum())
  assert 0 < hidden < count * num_rays  # the case mixes visible and hidden points


# --------------------------------------------------------------------------- background

def test_background_colour_is_estimated_from_the_border():
  background = np.array([0.4, -0.2, 0.1], np.float32)
  object_colour = np.array([-0.6, 0.7, 0.1], np.float32)  # differs by > 0.2 in two channels
  image = np.broadcast_to(background, (R, R, 3)).copy()
  image[2:7, 2:7] = object_colour
  black = _canvas(channels=3)
  black[2:7, 2:7] = 1.0
  points, _ = _keypoints(image[None], num_rays=8)
  np.testing.assert_allclose(points, _keypoints(black[None], num_rays=8)[0])
  # With the wrong fixed background everything is foreground: every point on the border.
  points_wrong, _ = _keypoints(image[None], num_rays=8, background=-1.0)
  cols_rows = _as_pixels(points_wrong[0])
  assert ((cols_rows == 0) | (cols_rows == LAST)).any(axis=-1).all()


def test_border_pixels_under_the_hole_do_not_shift_the_background():
  image = np.full((R, R, 1), 0.5, np.float32)  # grey background
  image[2:7, 2:7] = -0.5
  mask = np.zeros((R, R, 1), np.float32)
  mask[0:2, :] = 1.0            # hide the top rows ...
  corrupted = image.copy()
  corrupted[0:2, :] = -1.0      # ... and put dark junk under the hole
  # Without the hole the junk would pull the border mean to ~0.0, and nothing would be
  # foreground at threshold 0.45; with it, the mean of the known border is 0.5 again.
  expected, _ = _keypoints(image[None], mask[None], num_rays=8, threshold=0.45)
  got, switches = _keypoints(corrupted[None], mask[None], num_rays=8, threshold=0.45)
  np.testing.assert_allclose(got, expected)
  np.testing.assert_array_equal(_as_pixels(got[0, [0, 4, 6]]), [(6, 4), (2, 4), (4, 6)])
  assert switches[0, 2] == 0  # the up ray ends in the hole


def test_threshold_separates_faint_objects():
  image = _canvas()
  image[2:7, 2:7] = -0.85  # 0.15 above the black background
  faint, _ = _keypoints(image[None], num_rays=4)
  np.testing.assert_allclose(faint[0], np.full((4, 2), 0.5))
  seen, _ = _keypoints(image[None], num_rays=4, threshold=0.1)
  np.testing.assert_array_equal(_as_pixels(seen[0]), [(6, 4), (4, 2), (2, 4), (4, 6)])


# --------------------------------------------------------------------------- graph use and errors

def test_inside_tf_function_with_unknown_batch_size():
  @tf.function(input_signature=[tf.TensorSpec([None, R, R, 1], tf.float32),
                                tf.TensorSpec([None, R, R, 1], tf.float32)])
  def keypoints(images, masks):
    points, switches = silhouette.silhouette_keypoints(images, masks, num_rays=8)
    assert points.shape.as_list() == [None, 8, 2] and switches.shape.as_list() == [None, 8]
    return silhouette.flatten(points), switches

  images = np.stack([_square(), _canvas(), _square()])
  masks = np.stack([_hole(), _hole(), _hole((4, 8))])
  flat, switches = keypoints(images, masks)
  eager_points, eager_switches = _keypoints(images, masks, num_rays=8)
  np.testing.assert_array_equal(flat.numpy(), eager_points.reshape(3, 16))
  np.testing.assert_array_equal(switches.numpy(), eager_switches)
  assert switches.numpy()[2, 0] == 0
  # The same traced function takes another batch size without retracing.
  assert keypoints(images[:1], masks[:1])[0].shape == (1, 16)
  assert keypoints.experimental_get_tracing_count() == 1


@pytest.mark.parametrize("shape", [(1, 8, 9, 1), (8, 8, 1)])
def test_non_square_or_unbatched_input_is_an_input_error(shape):
  with pytest.raises(InputError, match=r"silhouette: images must be \[N, R, R, C\]"):
    silhouette.silhouette_keypoints(np.zeros(shape, np.float32))


def test_bad_ray_settings_are_input_errors():
  with pytest.raises(InputError, match="silhouette"):
    silhouette.ray_sample_pixels(1)
  with pytest.raises(InputError, match="num_rays=0"):
    silhouette.ray_sample_pixels(8, num_rays=0)


# --------------------------------------------------------------------------- ray geometry

@pytest.mark.parametrize("resolution,num_rays", [(8, 4), (9, 8), (16, 7), (32, 16), (33, 16)])
def test_ray_samples_are_the_nearest_pixels_of_an_independent_polar_ray(resolution, num_rays):
  pixels = silhouette.ray_sample_pixels(resolution, num_rays=num_rays)
  samples = pixels.shape[1]
  assert pixels.shape == (num_rays, resolution, 2) and pixels.dtype == np.int32
  assert pixels.min() >= 0 and pixels.max() <= resolution - 1
  centre = (resolution - 1) / 2
  for k in range(num_rays):
    angle = 2 * np.pi * k / num_rays
    direction = np.array([-np.sin(angle), np.cos(angle)])  # (row, col), y down
    # The ray leaves the square [0, R-1]^2 where its larger component reaches the wall.
    length = centre / np.max(np.abs(direction))
    ideal = centre + np.linspace(0, length, samples)[:, None] * direction
    # Nearest pixel, ties (exactly half-way) either side.
    assert np.all(np.abs(pixels[k] - ideal) <= 0.5 + 1e-6), (k, pixels[k], ideal)
    end = pixels[k, -1]
    assert np.any((end == 0) | (end == resolution - 1)), end  # the last sample is on the border
    # Within one pixel (Chebyshev) of skimage's Bresenham line from the centre pixel to the end.
    start = np.rint(ideal[0]).astype(int)
    line_rows, line_cols = skimage.draw.line(start[0], start[1], end[0], end[1])
    line = np.stack([line_rows, line_cols], axis=-1)
    chebyshev = np.abs(pixels[k][:, None, :] - line[None, :, :]).max(axis=-1).min(axis=1)
    assert chebyshev.max() <= 1, (k, pixels[k], line)
    # Monotone: every sample is at least as far from the centre as the one before (to rounding).
    radius = np.hypot(*(pixels[k] - centre).T)
    assert np.all(np.diff(radius) >= -1.0)


def test_axis_rays_of_an_odd_image_are_exactly_skimage_lines():
  resolution = 17
  pixels = silhouette.ray_sample_pixels(resolution, num_rays=4)
  ends = [(8, 16), (0, 8), (8, 0), (16, 8)]  # right, up, left, down
  for k, end in enumerate(ends):
    rows, cols = skimage.draw.line(8, 8, *end)
    assert set(map(tuple, pixels[k])) == set(zip(rows, cols)), k


def test_more_samples_per_ray_only_refine_the_ray():
  pixels = silhouette.ray_sample_pixels(32, num_rays=16, samples_per_ray=64)
  assert pixels.shape == (16, 64, 2)
  coarse = silhouette.ray_sample_pixels(32, num_rays=16)
  np.testing.assert_array_equal(pixels[:, -1], coarse[:, -1])  # same end points
