"""Tests for pgi_tf/data/masks.py: hole geometry, ratios, determinism, PNG I/O and errors."""
import os

import ml_collections
import numpy as np
from PIL import Image
import pytest
from scipy import ndimage

from pgi_tf.data import masks
from pgi_tf.errors import InputError

SPECS = {
    "square": masks.MaskSpec(kind="square"),
    "ratio": masks.MaskSpec(kind="ratio", hole_ratio=0.1),
    "central": masks.MaskSpec(kind="central"),
    "central_ratio": masks.MaskSpec(kind="central", hole_ratio=0.4),
    "rectangle": masks.MaskSpec(kind="rectangle", min_side=10, max_side=20),
    "rectangle_fraction": masks.MaskSpec(kind="rectangle", min_side_fraction=0.35,
                                         max_side_fraction=0.5),
    "free_form": masks.MaskSpec(kind="free_form"),
}
RANDOM_SPECS = [name for name in SPECS if not name.startswith("central")]


def _draw(spec, count, height, width, seed=0, **kwargs):
  return masks.sample_masks(spec, count=count, height=height, width=width,
                            rng=np.random.default_rng(seed), **kwargs)


def _bounding_box(mask):
  """(top, left, height, width) of the hole of a [H, W, 1] mask."""
  rows = np.flatnonzero(mask[:, :, 0].any(axis=1))
  cols = np.flatnonzero(mask[:, :, 0].any(axis=0))
  return rows[0], cols[0], rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def _write_png(path, array, mode=None):
  Image.fromarray(array, mode=mode).save(path)
  return str(path)


@pytest.fixture
def mask_folder(tmp_path):
  """Three 16x16 PNG masks with holes in different places, written out of name order."""
  folder = tmp_path / "masks"
  folder.mkdir()
  expected = []
  for index in range(3):
    mask = np.zeros((16, 16, 1), np.float32)
    mask[index * 4:index * 4 + 3, 2:9] = 1.0
    expected.append(mask)
  for index in (2, 0, 1):
    masks.save_mask_png(str(folder / f"mask_{index:02d}.png"), expected[index])
  (folder / "notes.txt").write_text("not a mask")
  return str(folder), np.stack(expected)


# --- every kind: shape, dtype, binary values -------------------------------------------

@pytest.mark.parametrize("name", sorted(SPECS))
@pytest.mark.parametrize("height,width", [(32, 32), (48, 80)])
def test_shape_dtype_binary(name, height, width):
  drawn = _draw(SPECS[name], 20, height, width)
  assert drawn.shape == (20, height, width, 1)
  assert drawn.dtype == np.float32
  assert set(np.unique(drawn)) == {0.0, 1.0}
  ratios = masks.hole_ratio(drawn)
  assert np.all(ratios > 0) and np.all(ratios < 1)
  masks.validate_mask(drawn, name="drawn")


def test_file_kind_shape_dtype_binary(mask_folder):
  folder, expected = mask_folder
  drawn = _draw(masks.MaskSpec(kind="file", directory=folder), 5, 16, 16)
  assert drawn.shape == (5, 16, 16, 1) and drawn.dtype == np.float32
  # Sorted name order, cycled: files 0, 1, 2, 0, 1.
  np.testing.assert_array_equal(drawn, expected[[0, 1, 2, 0, 1]])
  np.testing.assert_array_equal(
      _draw(masks.MaskSpec(kind="file", directory=folder), 2, 16, 16, first_index=2),
      expected[[2, 0]])


def test_file_kind_shuffled_uses_seed(mask_folder):
  folder, expected = mask_folder
  spec = masks.MaskSpec(kind="file", directory=folder, shuffle_files=True)
  first = _draw(spec, 30, 16, 16, seed=1)
  np.testing.assert_array_equal(first, _draw(spec, 30, 16, 16, seed=1))
  # Every drawn mask is one of the files, and all three files appear.
  matches = [[np.array_equal(mask, file_mask) for file_mask in expected] for mask in first]
  assert all(any(row) for row in matches)
  assert np.all(np.any(matches, axis=0))


# --- hole-to-image ratio (Table 1) ------------------------------------------------------

@pytest.mark.parametrize("requested", [0.1, 0.4])
@pytest.mark.parametrize("size", [32, 64])
def test_ratio_masks_within_one_percent(requested, size):
  drawn = _draw(masks.MaskSpec(kind="ratio", hole_ratio=requested), 1000, size, size)
  ratios = masks.hole_ratio(drawn)
  assert np.all(np.abs(ratios - requested) <= 0.01 * requested), ratios.min()
  assert abs(ratios.mean() - requested) <= 0.01 * requested
  # The realised area is the pixel count closest to the request.
  np.testing.assert_array_equal(drawn.sum(axis=(1, 2, 3)), round(requested * size * size))
  # One compact hole: a single 4-connected component whose bounding box is near square
  # and barely larger than the hole (a block plus at most one partial row).
  for mask in drawn[:100]:
    _, num_components = ndimage.label(mask[:, :, 0])
    assert num_components == 1
    _, _, box_height, box_width = _bounding_box(mask)
    assert max(box_height, box_width) <= min(box_height, box_width) + 2
    assert box_height * box_width - mask.sum() < max(box_height, box_width)
  # Uniform placement fully inside the image: holes reach every border across draws.
  assert drawn[:, 0].any() and drawn[:, -1].any()
  assert drawn[:, :, 0].any() and drawn[:, :, -1].any()
  assert len({_bounding_box(mask)[:2] for mask in drawn}) > 100


def test_ratio_masks_non_square_and_large_ratio():
  drawn = _draw(masks.MaskSpec(kind="ratio", hole_ratio=0.9), 200, 32, 48)
  ratios = masks.hole_ratio(drawn)
  assert np.all(np.abs(ratios - 0.9) <= 0.01 * 0.9)
  assert np.all(ratios < 1)


# --- square, rectangle and central holes (§6.3, §6.4) -----------------------------------

def test_square_32_at_64_px():
  drawn = _draw(masks.MaskSpec(kind="square"), 500, 64, 64)
  np.testing.assert_array_equal(drawn.sum(axis=(1, 2, 3)), 1024)
  boxes = np.array([_bounding_box(mask) for mask in drawn])
  np.testing.assert_array_equal(boxes[:, 2:], 32)  # hole == its 32x32 bounding box
  tops, lefts = boxes[:, 0], boxes[:, 1]
  assert tops.min() >= 0 and tops.max() <= 32 and lefts.min() >= 0 and lefts.max() <= 32
  # Offsets uniform over 0..32 inclusive: both extremes appear in 500 draws.
  assert {tops.min(), tops.max(), lefts.min(), lefts.max()} == {0, 32}


def test_rectangle_side_range_96_to_128_at_256():
  drawn = _draw(masks.MaskSpec(kind="rectangle", min_side=96, max_side=128), 150, 256, 256)
  boxes = np.array([_bounding_box(mask) for mask in drawn])
  np.testing.assert_array_equal(drawn.sum(axis=(1, 2, 3)), boxes[:, 2] * boxes[:, 3])
  sides = boxes[:, 2:]
  assert sides.min() >= 96 and sides.max() <= 128
  assert sides.min() <= 98 and sides.max() >= 126  # the whole range is used
  assert not np.array_equal(sides[:, 0], sides[:, 1])  # sides drawn independently
  assert np.all(boxes[:, 0] + sides[:, 0] <= 256) and np.all(boxes[:, 1] + sides[:, 1] <= 256)


def test_rectangle_side_fractions_at_128():
  # [0.35 l, 0.5 l] with l = 128 (§6.4): integer sides 45..64.
  spec = masks.MaskSpec(kind="rectangle", min_side_fraction=0.35, max_side_fraction=0.5)
  drawn = _draw(spec, 300, 128, 128)
  sides = np.array([_bounding_box(mask)[2:] for mask in drawn])
  # Per axis (height, width), both ends of the inclusive range are drawn.
  np.testing.assert_array_equal(sides.min(axis=0), [45, 45])
  np.testing.assert_array_equal(sides.max(axis=0), [64, 64])


@pytest.mark.parametrize("size,side", [(64, 0), (256, 96), (256, 128)])
def test_central_square_is_centred_and_symmetric(size, side):
  spec = masks.MaskSpec(kind="central", size=side)
  drawn = _draw(spec, 3, size, size)
  mask = drawn[0]
  expected_side = side or size // 2
  assert mask.sum() == expected_side ** 2
  np.testing.assert_array_equal(mask, mask[::-1])
  np.testing.assert_array_equal(mask, mask[:, ::-1])
  np.testing.assert_array_equal(mask, np.swapaxes(mask, 0, 1))
  np.testing.assert_array_equal(drawn[1], mask)  # central holes do not move


def test_central_ratio_is_centred():
  drawn = _draw(masks.MaskSpec(kind="central", hole_ratio=0.1), 1, 64, 64)[0, :, :, 0]
  assert abs(drawn.mean() - 0.1) <= 0.001
  centre_row, centre_col = ndimage.center_of_mass(drawn)
  assert abs(centre_row - 31.5) <= 1.0 and abs(centre_col - 31.5) <= 1.0


# --- free-form strokes ------------------------------------------------------------------

def test_free_form_strokes_vary_and_respect_cap():
  drawn = _draw(masks.MaskSpec(kind="free_form", max_hole_ratio=0.15), 200, 64, 64)
  ratios = masks.hole_ratio(drawn)
  assert np.all(ratios > 0) and np.all(ratios <= 0.15)
  assert len(np.unique(ratios)) > 50  # irregular, not a fixed shape
  uncapped = masks.hole_ratio(_draw(masks.MaskSpec(kind="free_form"), 200, 64, 64))
  assert uncapped.max() > 0.15 and np.all(uncapped < 1)
  # Strokes are thick: most hole pixels have a hole neighbour on both sides horizontally
  # or vertically (a thin 1-px scribble would fail this).
  interior = ndimage.binary_erosion(drawn[:, :, :, 0], structure=np.ones((1, 3, 3)))
  assert interior.sum() > 0.3 * drawn.sum()


def test_free_form_cap_too_small_is_an_input_error():
  spec = masks.MaskSpec(kind="free_form", max_hole_ratio=0.0001)
  with pytest.raises(InputError, match=r"^mask\.max_hole_ratio=0\.0001: allows no hole pixel"):
    _draw(spec, 1, 32, 32)


# --- determinism ------------------------------------------------------------------------

@pytest.mark.parametrize("name", RANDOM_SPECS)
def test_seeded_determinism(name):
  spec = SPECS[name]
  first = _draw(spec, 16, 32, 32, seed=7)
  np.testing.assert_array_equal(first, _draw(spec, 16, 32, 32, seed=7))
  assert not np.array_equal(first, _draw(spec, 16, 32, 32, seed=8))
  # One mask at a time from the generator: splitting the draw does not change it.
  rng = np.random.default_rng(7)
  halves = [masks.sample_masks(spec, count=8, height=32, width=32, rng=rng) for _ in range(2)]
  np.testing.assert_array_equal(first, np.concatenate(halves))


def test_mask_dataset_deterministic_across_iterations():
  spec = masks.MaskSpec(kind="ratio", hole_ratio=0.4)
  dataset = masks.make_mask_dataset(spec, height=32, width=32, seed=3, chunk_size=8)
  assert dataset.element_spec.shape == (32, 32, 1)
  first = np.stack([m.numpy() for m in dataset.take(20)])
  second = np.stack([m.numpy() for m in dataset.take(20)])
  np.testing.assert_array_equal(first, second)
  np.testing.assert_array_equal(first, _draw(spec, 20, 32, 32, seed=3))  # chunking is invisible
  other = masks.make_mask_dataset(spec, height=32, width=32, seed=4)
  assert not np.array_equal(first, np.stack([m.numpy() for m in other.take(20)]))


def test_mask_dataset_cycles_files_in_sorted_order(mask_folder):
  folder, expected = mask_folder
  dataset = masks.make_mask_dataset(masks.MaskSpec(kind="file", directory=folder),
                                    height=16, width=16, seed=0, chunk_size=2)
  got = np.stack([m.numpy() for m in dataset.take(7)])
  np.testing.assert_array_equal(got, expected[[0, 1, 2, 0, 1, 2, 0]])


# --- PNG input / output -----------------------------------------------------------------

def test_png_round_trip(tmp_path):
  original = _draw(masks.MaskSpec(kind="free_form"), 1, 40, 24)[0]
  path = str(tmp_path / "mask.png")
  masks.save_mask_png(path, original)
  with Image.open(path) as image:
    assert image.mode == "L" and image.size == (24, 40)
    assert set(np.unique(np.array(image))) == {0, 255}  # white = hole
  loaded = masks.load_mask_png(path, height=40, width=24)
  assert loaded.dtype == np.float32 and loaded.shape == (40, 24, 1)
  np.testing.assert_array_equal(loaded, original)


def test_threshold_half_range_for_grey_rgb_and_16_bit(tmp_path):
  grey = np.array([[100, 200], [0, 255]], np.uint8)
  np.testing.assert_array_equal(
      masks.load_mask_png(_write_png(tmp_path / "grey.png", grey))[:, :, 0], [[0, 1], [0, 1]])
  # RGB -> luminance 0.299 R + 0.587 G + 0.114 B: pure red 76 (known), pure green 150 (hole).
  rgb = np.zeros((1, 3, 3), np.uint8)
  rgb[0, 0] = (255, 0, 0)
  rgb[0, 1] = (0, 255, 0)
  rgb[0, 2] = (255, 255, 255)
  np.testing.assert_array_equal(
      masks.load_mask_png(_write_png(tmp_path / "rgb.png", rgb))[:, :, 0], [[0, 1, 1]])
  deep = np.array([[20000, 40000]], np.uint16)  # 16-bit: threshold 32767.5
  np.testing.assert_array_equal(
      masks.load_mask_png(_write_png(tmp_path / "deep.png", deep))[:, :, 0], [[0, 1]])


def test_size_mismatch_is_an_error_unless_resize(tmp_path):
  path = str(tmp_path / "mask.png")
  small = np.zeros((30, 32, 1), np.float32)
  small[10:20, 10:20] = 1
  masks.save_mask_png(path, small)
  with pytest.raises(InputError) as error:
    masks.load_mask_png(path, height=32, width=32)
  assert str(error.value) == f"{path}: mask is 30x32, image is 32x32"
  resized = masks.load_mask_png(path, height=60, width=64, resize=True)
  assert resized.shape == (60, 64, 1)
  np.testing.assert_array_equal(resized, np.repeat(np.repeat(small, 2, axis=0), 2, axis=1))


def test_file_kind_size_mismatch_and_resize_flag(mask_folder):
  folder, expected = mask_folder
  with pytest.raises(InputError, match=r"mask_00\.png: mask is 16x16, image is 32x32$"):
    _draw(masks.MaskSpec(kind="file", directory=folder), 1, 32, 32)
  spec = masks.MaskSpec(kind="file", directory=folder, resize_files=True)
  np.testing.assert_array_equal(_draw(spec, 1, 32, 32)[0],
                                np.kron(expected[0], np.ones((2, 2, 1), np.float32)))


# --- error messages ---------------------------------------------------------------------

def test_unreadable_and_missing_files_name_the_file(tmp_path):
  broken = tmp_path / "broken.png"
  broken.write_bytes(b"this is not a png")
  with pytest.raises(InputError, match=r"^.*broken\.png: cannot read mask PNG") as error:
    masks.load_mask_png(str(broken))
  assert "\n" not in str(error.value)
  with pytest.raises(InputError, match=r"missing\.png: cannot read mask PNG"):
    masks.load_mask_png(str(tmp_path / "missing.png"))


def test_mask_folder_errors_name_the_folder_or_file(tmp_path, mask_folder):
  missing = str(tmp_path / "nowhere")
  with pytest.raises(InputError, match=r"nowhere: mask directory does not exist$"):
    _draw(masks.MaskSpec(kind="file", directory=missing), 1, 16, 16)
  empty = tmp_path / "empty"
  empty.mkdir()
  with pytest.raises(InputError, match=r"empty: mask directory has no PNG files$"):
    masks.make_mask_dataset(masks.MaskSpec(kind="file", directory=str(empty)),
                            height=16, width=16, seed=0)
  folder, _ = mask_folder
  masks.save_mask_png(os.path.join(folder, "mask_03.png"), np.zeros((16, 16)))
  masks.save_mask_png(os.path.join(folder, "mask_04.png"), np.ones((16, 16)))
  spec = masks.MaskSpec(kind="file", directory=folder)
  with pytest.raises(InputError, match=r"mask_03\.png: mask has no hole pixels$"):
    _draw(spec, 4, 16, 16)
  with pytest.raises(InputError, match=r"mask_04\.png: mask covers the whole image"):
    _draw(spec, 1, 16, 16, first_index=4)


def test_validate_mask_messages():
  with pytest.raises(InputError, match=r"^eval\.png: mask has no hole pixels$"):
    masks.validate_mask(np.zeros((8, 8, 1)), name="eval.png")
  with pytest.raises(InputError, match=r"^eval\.png: mask covers the whole image"):
    masks.validate_mask(np.ones((8, 8)), name="eval.png")
  batch = np.zeros((3, 8, 8, 1))
  batch[:, 0, 0] = 1
  batch[2] = 0
  with pytest.raises(InputError, match=r"^batch\[2\]: mask has no hole pixels$"):
    masks.validate_mask(batch, name="batch")


@pytest.mark.parametrize("fields,message", [
    (dict(kind="blob"), r"^mask\.kind='blob': unknown mask kind, choose one of square, "),
    (dict(kind="ratio"), r"^mask\.hole_ratio=0\.0: must be > 0"),
    (dict(kind="ratio", hole_ratio=1.0), r"^mask\.hole_ratio=1\.0: must be in \[0, 1\)"),
    (dict(kind="rectangle"), r"^mask\.min_side/mask\.min_side_fraction: "),
    (dict(kind="rectangle", min_side=10, max_side=20, min_side_fraction=0.3),
     r"^mask\.min_side/mask\.min_side_fraction: "),
    (dict(kind="rectangle", min_side=20, max_side=10), r"^mask\.max_side=10: must be >= "),
    (dict(kind="free_form", min_strokes=0), r"^mask\.min_strokes=0: must be >= 1"),
    (dict(kind="file"), r"^mask\.directory='': file masks need a folder"),
])
def test_spec_validation_messages(fields, message):
  with pytest.raises(InputError, match=message):
    masks.MaskSpec(**fields)


@pytest.mark.parametrize("spec,message", [
    (masks.MaskSpec(kind="square", size=40), r"^mask\.size=40: a 40x40 hole does not fit"),
    (masks.MaskSpec(kind="square", size=32), r"^mask\.size=32: a 32x32 hole does not fit"),
    (masks.MaskSpec(kind="rectangle", min_side=10, max_side=33),
     r"^mask\.max_side=33: rectangle side up to 33 px does not fit the image height of 32"),
    (masks.MaskSpec(kind="ratio", hole_ratio=0.0001), r"^mask\.hole_ratio=0\.0001: gives 0 hole"),
])
def test_size_dependent_errors(spec, message):
  with pytest.raises(InputError, match=message):
    _draw(spec, 1, 32, 32)


# --- config helpers and hole_ratio ------------------------------------------------------

def test_from_config_and_to_dict():
  config = ml_collections.ConfigDict(dict(kind="rectangle", min_side=96, max_side=128))
  spec = masks.MaskSpec.from_config(config)
  assert (spec.kind, spec.min_side, spec.max_side) == ("rectangle", 96, 128)
  assert masks.MaskSpec.from_config(spec.to_dict()) == spec
  with pytest.raises(InputError, match=r"^mask\.hole_ratoi: unknown mask field"):
    masks.MaskSpec.from_config({"kind": "ratio", "hole_ratoi": 0.1})


def test_hole_ratio_values():
  batch = np.zeros((2, 4, 4, 1), np.float32)
  batch[0, :2] = 1  # 8 of 16
  batch[1, 0, 0] = 1  # 1 of 16
  np.testing.assert_allclose(masks.hole_ratio(batch), [0.5, 1 / 16])
  assert masks.hole_ratio(batch[0]).shape == ()
  assert float(masks.hole_ratio(batch[1, :, :, 0])) == 1 / 16
