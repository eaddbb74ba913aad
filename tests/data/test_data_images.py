"""Tests for pgi_tf.data.images: range conversion, checked loading, listing, pre-flight, crops."""
import os
import re

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from pgi_tf.data import images as images_lib
from pgi_tf.errors import InputError
from tests import fixtures_data as fx


def starts_with(path, rest=""):
  """Regex: the message starts with `path` (escaped) followed by `rest` (a regex)."""
  return "^" + re.escape(str(path)) + rest


# ----------------------------------------------------------------------------- value range


def test_to_model_range_hand_values_numpy_and_tf():
  pixels = np.array([0, 51, 127, 128, 255], np.uint8)
  expected = np.array([-1.0, 51 / 127.5 - 1, -0.5 / 127.5, 0.5 / 127.5, 1.0], np.float32)
  np.testing.assert_allclose(images_lib.to_model_range(pixels), expected, atol=1e-7)
  as_tensor = images_lib.to_model_range(tf.constant(pixels))
  assert isinstance(as_tensor, tf.Tensor) and as_tensor.dtype == tf.float32
  np.testing.assert_allclose(as_tensor.numpy(), expected, atol=1e-7)


def test_to_uint8_inverts_to_model_range_and_clips():
  every_level = np.arange(256, dtype=np.uint8)
  round_trip = images_lib.to_uint8(images_lib.to_model_range(every_level))
  np.testing.assert_array_equal(round_trip, every_level)
  np.testing.assert_array_equal(
      images_lib.to_uint8(tf.constant(images_lib.to_model_range(every_level))).numpy(),
      every_level)
  np.testing.assert_array_equal(images_lib.to_uint8(np.array([-3.0, 0.0, 7.0])),
                                np.array([0, 128, 255], np.uint8))


@pytest.mark.parametrize("size", [(16, 16), (32, 32), (128, 128)])
def test_resize_to_model_matches_pillow_bilinear(size):
  """TF bilinear+antialias and Pillow's BILINEAR are the same triangle filter (Pillow widens it
  when shrinking); they agree to Pillow's uint8 rounding."""
  pixels = np.random.default_rng(0).integers(0, 256, (64, 64, 3)).astype(np.uint8)
  ours = images_lib.resize_to_model(tf.constant(pixels), resolution=size[0]).numpy()
  pillow = np.asarray(Image.fromarray(pixels).resize(size, Image.BILINEAR))
  assert ours.shape == (size[0], size[1], 3)
  np.testing.assert_allclose((ours + 1.0) * 127.5, pillow, atol=1.0 + 1e-3)


def test_resize_to_model_keeps_same_size_exact():
  pixels = np.random.default_rng(1).integers(0, 256, (2, 32, 32, 1)).astype(np.uint8)
  out = images_lib.resize_to_model(tf.constant(pixels), resolution=32).numpy()
  np.testing.assert_array_equal(out, images_lib.to_model_range(pixels))


@pytest.mark.parametrize("value", [0, 8, 48, 1024, 64.0, True])
def test_unsupported_resolution_names_flag(value):
  with pytest.raises(InputError, match=r"^resolution=.*unsupported resolution"):
    images_lib.check_resolution(value)


@pytest.mark.parametrize("value", [0, 2, 4])
def test_unsupported_channels_names_flag(value):
  with pytest.raises(InputError, match=r"^channels=.*choose 1 or 3"):
    images_lib.check_channels(value)


# ----------------------------------------------------------------------------- load_image


def test_load_image_rgb_grey_and_rgba(tmp_path):
  rgb = np.random.default_rng(2).integers(0, 256, (5, 7, 3)).astype(np.uint8)
  np.testing.assert_array_equal(
      images_lib.load_image(fx.write_image(tmp_path / "rgb.png", rgb), channels=3), rgb)
  grey = np.arange(35, dtype=np.uint8).reshape(5, 7)
  loaded = images_lib.load_image(fx.write_image(tmp_path / "grey.png", grey), channels=1)
  assert loaded.shape == (5, 7, 1)
  np.testing.assert_array_equal(loaded[..., 0], grey)
  rgba = np.dstack([rgb, np.full((5, 7), 9, np.uint8)])
  Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
  # Alpha is dropped, colour kept as is (not composited).
  np.testing.assert_array_equal(images_lib.load_image(str(tmp_path / "rgba.png"), channels=3),
                                rgb)


def test_load_image_16_bit_grey_scaled(tmp_path):
  Image.fromarray(np.array([[0, 257 * 100, 65535]], np.uint16)).save(tmp_path / "deep.png")
  np.testing.assert_array_equal(images_lib.load_image(str(tmp_path / "deep.png"))[..., 0],
                                [[0, 100, 255]])


def test_load_image_channel_mismatch_messages(tmp_path):
  grey = fx.write_image(tmp_path / "img.png", np.zeros((4, 4), np.uint8))
  with pytest.raises(InputError) as error:
    images_lib.load_image(grey, channels=3)
  assert str(error.value) == f"{grey}: has 1 channel, the model needs 3"
  rgb = fx.write_image(tmp_path / "rgb.jpg", np.zeros((4, 4, 3), np.uint8))
  with pytest.raises(InputError) as error:
    images_lib.load_image(rgb, channels=1)
  assert str(error.value) == (f"{rgb}: has 3 channels, the model needs 1 (binaries/inpaint.py --grayscale converts "
                              "colour images for a grey model)")


@pytest.mark.parametrize("name", ["broken.png", "broken.jpg"])
def test_load_image_truncated_names_file(tmp_path, name):
  path = fx.write_image(tmp_path / name,
                        np.random.default_rng(3).integers(0, 256, (64, 64, 3)))
  fx.truncate_file(path, keep_fraction=0.6)
  with pytest.raises(InputError, match=starts_with(path, r": cannot read image")):
    images_lib.load_image(path)


def test_load_image_missing_and_not_an_image(tmp_path):
  with pytest.raises(InputError, match="nothere.png: no such image file"):
    images_lib.load_image(str(tmp_path / "nothere.png"))
  text = tmp_path / "notes.png"
  text.write_text("not an image")
  with pytest.raises(InputError, match=starts_with(text, r": cannot read image")):
    images_lib.load_image(str(text))


# ----------------------------------------------------------------------------- pre-flight


@pytest.mark.parametrize("name", ["cut.png", "cut.jpg"])
def test_check_image_file_finds_truncation_without_decoding(tmp_path, name):
  path = fx.write_image(tmp_path / name,
                        np.random.default_rng(4).integers(0, 256, (64, 64, 3)))
  assert images_lib.check_image_file(path, channels=3) == (64, 64)
  fx.truncate_file(path, keep_fraction=0.8)
  with pytest.raises(InputError) as error:
    images_lib.check_image_file(path)
  assert str(error.value).startswith(f"{path}: ") and "\n" not in str(error.value)


def test_check_image_file_mode_and_format(tmp_path):
  grey = fx.write_image(tmp_path / "g.jpg", np.zeros((6, 5), np.uint8))
  assert images_lib.check_image_file(grey) == (6, 5)  # No channel requirement given.
  with pytest.raises(InputError, match=starts_with(grey, r": has 1 channel, the model needs 3")):
    images_lib.check_image_file(grey, channels=3)
  Image.new("RGB", (4, 4)).save(tmp_path / "pic.png", "BMP")  # Misnamed BMP.
  with pytest.raises(InputError, match=r"pic.png: is BMP, only PNG and JPEG"):
    images_lib.check_image_file(str(tmp_path / "pic.png"))


def test_check_image_files_reports_first_bad_file_in_order(tmp_path):
  paths = [fx.write_image(tmp_path / f"{i:03d}.png", np.full((8, 8, 3), i, np.uint8))
           for i in range(70)]  # >= 64 files: the threaded path.
  fx.truncate_file(paths[65])
  fx.truncate_file(paths[40])
  with pytest.raises(InputError, match=starts_with(paths[40], r": ")):
    images_lib.check_image_files(paths, channels=3)
  assert images_lib.check_image_files(paths[:30], channels=3) == [(8, 8)] * 30


# ----------------------------------------------------------------------------- listing


def test_list_image_files_recursive_sorted_case_insensitive(tmp_path):
  fx.write_image(tmp_path / "b" / "z.png", np.zeros((2, 2, 3)))
  fx.write_image(tmp_path / "a" / "deep" / "y.JPG", np.zeros((2, 2, 3)))
  fx.write_image(tmp_path / "x.jpeg", np.zeros((2, 2, 3)))
  (tmp_path / "readme.txt").write_text("skip me")
  listed = images_lib.list_image_files(str(tmp_path))
  assert listed == sorted(listed)
  assert [os.path.relpath(p, tmp_path) for p in listed] == [
      os.path.join("a", "deep", "y.JPG"), os.path.join("b", "z.png"), "x.jpeg"]


def test_list_image_files_errors_name_directory(tmp_path):
  missing = tmp_path / "missing"
  with pytest.raises(InputError, match=starts_with(missing, r": image directory does not")):
    images_lib.list_image_files(str(tmp_path / "missing"))
  (tmp_path / "empty" / "sub").mkdir(parents=True)
  (tmp_path / "empty" / "sub" / "a.txt").write_text("x")
  empty = tmp_path / "empty"
  with pytest.raises(InputError, match=starts_with(empty, r": no .png/.jpg/.jpeg images")):
    images_lib.list_image_files(str(tmp_path / "empty"))


def test_split_file_selects_and_validates(tmp_path):
  for name in ("a.png", "b.png", "sub/c.jpg"):
    fx.write_image(tmp_path / "data" / name, np.zeros((2, 2, 3)))
  split = tmp_path / "split.txt"
  split.write_text("# test split\nsub/c.jpg\n\na.png\na.png\n")
  listed = images_lib.list_image_files(str(tmp_path / "data"), split_file=str(split))
  assert [os.path.relpath(p, tmp_path / "data") for p in listed] == [
      "a.png", os.path.join("sub", "c.jpg")]
  split.write_text("a.png\nghost.png\n")
  with pytest.raises(InputError, match=starts_with(split, r":2: ghost.png does not exist under")):
    images_lib.list_image_files(str(tmp_path / "data"), split_file=str(split))
  with pytest.raises(InputError, match=r"nosplit.txt: split file does not exist"):
    images_lib.list_image_files(str(tmp_path / "data"), split_file=str(tmp_path / "nosplit.txt"))
  split.write_text("# nothing\n")
  with pytest.raises(InputError, match=starts_with(split, r": split file lists no images")):
    images_lib.list_image_files(str(tmp_path / "data"), split_file=str(split))


# ----------------------------------------------------------------------------- crops


def test_crop_half_open_box_exact_and_clamped():
  image = tf.reshape(tf.range(6 * 8), [6, 8, 1])
  crop = images_lib.crop_half_open_box(image, top=1, left=2, bottom=4, right=7)
  np.testing.assert_array_equal(crop.numpy(), image.numpy()[1:4, 2:7])
  outside = images_lib.crop_half_open_box(image, top=-5, left=6, bottom=100, right=3)
  np.testing.assert_array_equal(outside.numpy(), image.numpy()[0:6, 6:7])


def test_celeba_aligned_face_crop_box():
  image = tf.reshape(tf.range(218 * 178), [218, 178, 1])
  crop = images_lib.celeba_aligned_face_crop(image).numpy()
  np.testing.assert_array_equal(crop, image.numpy()[55:163, 35:143])


def test_crop_square_around_box_shifts_inside():
  image = tf.reshape(tf.range(50 * 40), [50, 40, 1])
  crop = images_lib.crop_square_around_box(image, x=10, y=5, box_width=6, box_height=10).numpy()
  np.testing.assert_array_equal(crop, image.numpy()[5:15, 8:18])  # centre (13, 10), side 10
  near_edge = images_lib.crop_square_around_box(image, x=35, y=45, box_width=20, box_height=8)
  np.testing.assert_array_equal(near_edge.numpy(), image.numpy()[30:50, 20:40])
