"""Tests of clips: readers (clip_files), FaceForensics holes (clip_masks), moving Fashion-MNIST,
the tf.data pipelines (sequences) and sliding windows (windows)."""

import os

import cv2
import numpy as np
import pytest

from pgi_tf.data import clip_files
from pgi_tf.data import clip_masks
from pgi_tf.data import fashion_mnist
from pgi_tf.data import moving_fashion_mnist as moving_fmnist
from pgi_tf.data import sequences
from pgi_tf.data import windows as clip_windows
from pgi_tf.errors import InputError
from tests import fixtures_data

# ------------------------------------------------------------------------- helpers


def _fashion_dir(tmp_path):
  # 24 training images: 22 "train" + 2 "val" (validation_size = 24 // 12); 5 test images.
  return fixtures_data.make_fashion_mnist(tmp_path / "fmnist", train_count=24, test_count=5)


def _write_frames(folder, values, *, size=(12, 16), names=None):
  """Grey PNG frames of constant value values[i], named frame<i+1>.png (natural order test)."""
  os.makedirs(folder, exist_ok=True)
  names = names or [f"frame{i + 1}.png" for i in range(len(values))]
  for name, value in zip(names, values):
    fixtures_data.write_image(os.path.join(folder, name),
                              np.full((*size, 1), value, np.uint8)[:, :, 0])
  return str(folder)


def _write_avi(path, frames_rgb_uint8, *, fps=10):
  height, width = frames_rgb_uint8.shape[1:3]
  writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (width, height))
  if not writer.isOpened():
    pytest.skip("this OpenCV build cannot write MJPG .avi")
  for frame in frames_rgb_uint8:
    writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
  writer.release()
  return str(path)


def _assert_one_line_naming(error, path):
  message = str(error.value)
  assert "\n" not in message
  assert str(path) in message


# ------------------------------------------------------------------------- readers


def test_frame_folder_natural_order_and_range(tmp_path):
  values = [0, 40, 80, 120, 160, 200, 255]
  # Alphabetical order would put frame10 before frame2; natural order must not.
  names = ["frame1.png", "frame2.png", "frame3.png", "frame9.png", "frame10.png",
           "frame11.png", "frame100.png"]
  folder = _write_frames(tmp_path / "clip", values, names=names)
  with open(os.path.join(folder, "notes.txt"), "w") as f:
    f.write("not a frame")
  clip = clip_files.read_frame_folder(folder)
  assert clip.shape == (7, 12, 16, 1) and clip.dtype == np.float32
  np.testing.assert_allclose(clip[:, 0, 0, 0], np.array(values) / 127.5 - 1.0, atol=1e-6)
  assert clip_files.read_clip(folder, max_frames=3).shape[0] == 3
  with pytest.raises(InputError, match="has 1 channel, the model needs 3"):
    clip_files.read_frame_folder(folder, channels=3)


def test_video_round_trip_mjpg_avi(tmp_path):
  levels = np.array([30, 90, 150, 210, 250], np.uint8)
  frames = np.zeros((5, 32, 48, 3), np.uint8)
  frames[..., 0] = levels[:, None, None]          # red varies per frame
  frames[..., 2] = 255 - levels[:, None, None]    # blue the opposite: checks BGR -> RGB
  path = _write_avi(tmp_path / "clip.avi", frames)
  clip = clip_files.read_video(path)
  assert clip.shape == (5, 32, 48, 3) and clip.dtype == np.float32
  expected = frames.astype(np.float32) / 127.5 - 1.0
  # MJPG is lossy (and subsamples chroma): compare frame means per channel.
  np.testing.assert_allclose(clip.mean(axis=(1, 2)), expected.mean(axis=(1, 2)), atol=0.06)
  assert clip_files.read_clip(path, max_frames=2).shape == (2, 32, 48, 3)
  grey = clip_files.read_video(path, channels=1)
  assert grey.shape == (5, 32, 48, 1)
  expected_grey = cv2.cvtColor(frames[0], cv2.COLOR_RGB2GRAY).mean() / 127.5 - 1.0
  assert abs(grey[0].mean() - expected_grey) < 0.06
  assert clip_files.video_frame_count(path) == 5


def test_list_clips_folders_and_videos(tmp_path):
  root = tmp_path / "clips"
  _write_frames(root / "clip10", [1, 2])
  _write_frames(root / "clip2", [1, 2])
  frames = np.zeros((2, 16, 16, 3), np.uint8)
  _write_avi(root / "clip3.avi", frames)
  (root / "README.txt").write_text("ignored")
  (root / ".hidden").mkdir()
  names = [os.path.basename(p) for p in clip_files.list_clips(str(root))]
  assert names == ["clip2", "clip3.avi", "clip10"]


@pytest.mark.parametrize("case", ["empty_folder", "missing", "unreadable_video",
                                  "empty_video", "mixed_sizes", "no_clips"])
def test_bad_inputs_give_one_line_input_error(tmp_path, case):
  if case == "empty_folder":
    path = tmp_path / "empty"
    path.mkdir()
    call = lambda: clip_files.read_clip(str(path))  # noqa: E731
    named = path
  elif case == "missing":
    path = tmp_path / "nothing_here"
    call = lambda: clip_files.read_clip(str(path))  # noqa: E731
    named = path
  elif case == "unreadable_video":
    path = tmp_path / "broken.avi"
    path.write_bytes(b"RIFF this is not really a video" * 10)
    call = lambda: clip_files.read_video(str(path))  # noqa: E731
    named = path
  elif case == "empty_video":
    path = tmp_path / "zero.mp4"
    path.write_bytes(b"")
    call = lambda: clip_files.read_clip(str(path))  # noqa: E731
    named = path
  elif case == "mixed_sizes":
    folder = _write_frames(tmp_path / "mixed", [10, 20], size=(12, 16))
    _write_frames(folder, [30], size=(12, 18), names=["frame3.png"])
    call = lambda: clip_files.read_frame_folder(folder)  # noqa: E731
    named = os.path.join(folder, "frame3.png")
  else:
    path = tmp_path / "no_clips"
    path.mkdir()
    (path / "notes.txt").write_text("x")
    call = lambda: clip_files.list_clips(str(path))  # noqa: E731
    named = path
  with pytest.raises(InputError) as error:
    call()
  _assert_one_line_naming(error, named)


# ------------------------------------------------------------------------- FaceForensics protocol


def test_faceforensics_crop_centre_square():
  # 40 x 60 frame: the centred 40 x 40 square (columns 10..49) is -1, the margins +1.
  frames = np.ones((2, 40, 60, 3), np.float32)
  frames[:, :, 10:50] = -1.0
  frames[1, :20, 10:50] = 0.5  # top half of the square in frame 1
  cropped = clip_files.faceforensics_crop(frames, size=20)
  assert cropped.shape == (2, 20, 20, 3) and cropped.dtype == np.float32
  np.testing.assert_allclose(cropped[0], -1.0, atol=1e-6)      # no margin pixel leaks in
  np.testing.assert_allclose(cropped[1, :10], 0.5, atol=1e-6)  # area resize of 2x2 blocks
  np.testing.assert_allclose(cropped[1, 10:], -1.0, atol=1e-6)
  tall = clip_files.faceforensics_crop(np.zeros((1, 70, 50, 1), np.float32))
  assert tall.shape == (1, 128, 128, 1)


@pytest.mark.parametrize("height,width", [(128, 128), (32, 32), (40, 64)])
def test_rectangle_clip_masks_side_fractions_and_inside(height, width):
  rng = np.random.default_rng(0)
  for motion in ("fixed", "moving"):
    for _ in range(25):
      masks = clip_masks.rectangle_clip_masks(rng, num_frames=6, height=height, width=width,
                                              motion=motion)
      assert masks.shape == (6, height, width, 1) and masks.dtype == np.float32
      assert set(np.unique(masks)) <= {0.0, 1.0}
      boxes = []
      for frame in masks[..., 0]:
        rows, cols = np.nonzero(frame)
        rect_h, rect_w = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
        assert frame.sum() == rect_h * rect_w  # exactly one solid rectangle, inside the image
        assert 0.35 * height <= rect_h <= 0.5 * height
        assert 0.35 * width <= rect_w <= 0.5 * width
        boxes.append((rows.min(), cols.min(), rect_h, rect_w))
      assert len({box[2:] for box in boxes}) == 1  # the size is fixed for the clip
      if motion == "fixed":
        assert len(set(boxes)) == 1


def test_moving_rectangles_drift_with_bounded_steps():
  rng = np.random.default_rng(1)
  moved = 0
  for _ in range(20):
    masks = clip_masks.rectangle_clip_masks(rng, num_frames=8, height=64, width=64,
                                            motion="moving", max_step=3)
    corners = np.array([[np.nonzero(f)[0].min(), np.nonzero(f)[1].min()] for f in masks[..., 0]])
    steps = np.abs(np.diff(corners, axis=0))
    assert steps.max() <= 3
    moved += int(steps.any())
  assert moved >= 18  # a 7-step random walk almost never stays put


def test_rectangle_mask_errors():
  rng = np.random.default_rng(0)
  with pytest.raises(InputError, match="motion='jitter'"):
    clip_masks.rectangle_clip_masks(rng, num_frames=2, height=32, width=32, motion="jitter")
  with pytest.raises(InputError, match="no integer side"):
    clip_masks.rectangle_clip_masks(rng, num_frames=2, height=4, width=4,
                                    min_side_fraction=0.3, max_side_fraction=0.45)


# ------------------------------------------------------------------------- moving Fashion-MNIST


def test_moving_fashion_mnist_deterministic_and_moving(tmp_path):
  data_dir = _fashion_dir(tmp_path)
  kwargs = dict(split="train", num_clips=4, num_frames=10, resolution=32, data_dir=data_dir)
  clips, meta = moving_fmnist.moving_fashion_mnist(seed=3, return_metadata=True, **kwargs)
  again = moving_fmnist.moving_fashion_mnist(seed=3, **kwargs)
  other = moving_fmnist.moving_fashion_mnist(seed=4, **kwargs)
  assert clips.shape == (4, 10, 32, 32, 1) and clips.dtype == np.float32
  assert clips.min() >= -1.0 and clips.max() <= 1.0
  np.testing.assert_array_equal(clips, again)
  assert not np.array_equal(clips, other)
  # Clip i depends only on (seed, split, i): a later slice reproduces it.
  tail = moving_fmnist.moving_fashion_mnist(seed=3, first_clip=2, **{**kwargs, "num_clips": 2})
  np.testing.assert_array_equal(tail, clips[2:])
  positions = meta["positions"][:, :, 0]                 # [N, T, 2]
  travel = 32 - moving_fmnist.default_item_size(32)
  assert moving_fmnist.default_item_size(32) == 20
  assert positions.min() >= 0 and positions.max() <= travel
  velocities = np.abs(np.diff(positions, axis=1))
  assert velocities.max() <= moving_fmnist.DEFAULT_MAX_SPEED
  assert all(velocities[i].sum() > 0 for i in range(4))  # every garment moves


def test_moving_fashion_mnist_renders_source_images(tmp_path):
  data_dir = _fashion_dir(tmp_path)
  # item_size 28 = native: each frame must contain the source image exactly at its position.
  clips, meta = moving_fmnist.moving_fashion_mnist(
      split="val", num_clips=3, num_frames=5, resolution=32, item_size=28, seed=0,
      data_dir=data_dir, return_metadata=True)
  train_file, _ = fashion_mnist.load_fashion_mnist(data_dir=data_dir, split="train")
  full_file = np.concatenate([train_file, fashion_mnist.load_fashion_mnist(
      data_dir=data_dir, split="val")[0]])
  for n in range(3):
    source = full_file[meta["source_indices"][n, 0]].astype(np.float32) / 127.5 - 1.0
    for t in range(5):
      top, left = meta["positions"][n, t, 0]
      np.testing.assert_allclose(clips[n, t, top:top + 28, left:left + 28, 0], source, atol=1e-6)
      outside = np.ones((32, 32), bool)
      outside[top:top + 28, left:left + 28] = False
      assert np.all(clips[n, t, :, :, 0][outside] == -1.0)  # black background


def test_moving_fashion_mnist_splits_disjoint(tmp_path):
  data_dir = _fashion_dir(tmp_path)
  sources = {}
  for split in ("train", "val", "test"):
    _, meta = moving_fmnist.moving_fashion_mnist(split=split, num_clips=40, num_frames=2,
                                                 items_per_clip=2, seed=0, data_dir=data_dir,
                                                 return_metadata=True)
    sources[split] = set(meta["source_indices"].ravel().tolist())
  # train and val index the training file (rows 0..21 and 22..23); test indexes t10k.
  assert sources["train"] <= set(range(22)) and len(sources["train"]) > 10
  assert sources["val"] <= {22, 23}
  assert sources["test"] <= set(range(5))


@pytest.mark.skipif(not os.path.isdir(fashion_mnist.DEFAULT_DATA_DIR),
                    reason="real Fashion-MNIST not installed")
def test_moving_fashion_mnist_real_split_rule():
  _, train = moving_fmnist.moving_fashion_mnist(split="train", num_clips=30, num_frames=1, seed=0,
                                                return_metadata=True)
  _, val = moving_fmnist.moving_fashion_mnist(split="val", num_clips=30, num_frames=1, seed=0,
                                              return_metadata=True)
  assert train["source_indices"].max() < 55000
  assert val["source_indices"].min() >= 55000 and val["source_indices"].max() < 60000


def test_moving_fashion_mnist_errors(tmp_path):
  data_dir = _fashion_dir(tmp_path)
  with pytest.raises(InputError, match="max_speed=13"):
    moving_fmnist.moving_fashion_mnist(split="train", num_clips=1, num_frames=2, seed=0,
                                       data_dir=data_dir, max_speed=13)
  with pytest.raises(InputError, match="split='dev'"):
    moving_fmnist.moving_fashion_mnist(split="dev", num_clips=1, num_frames=2, seed=0,
                                       data_dir=data_dir)


# ------------------------------------------------------------------------- tf.data


def test_clip_dataset_moving_fashion_mnist(tmp_path):
  data_dir = _fashion_dir(tmp_path)
  kwargs = dict(split="train", num_frames=3, resolution=16, channels=1, batch_size=4,
                num_clips=6, data_dir=data_dir)
  first = [b.numpy() for b in sequences.make_clip_dataset(seed=5, **kwargs).take(3)]
  second = [b.numpy() for b in sequences.make_clip_dataset(seed=5, **kwargs).take(3)]
  assert first[0].shape == (4, 3, 16, 16, 1)
  for a, b in zip(first, second):
    np.testing.assert_array_equal(a, b)
  # One unshuffled pass = the clips of moving_fashion_mnist, last batch short.
  one_pass = np.concatenate(list(sequences.make_clip_dataset(
      seed=5, shuffle=False, repeat=False, **kwargs).as_numpy_iterator()))
  expected = moving_fmnist.moving_fashion_mnist(split="train", num_clips=6, num_frames=3,
                                                resolution=16, seed=5, data_dir=data_dir)
  np.testing.assert_array_equal(one_pass, expected)
  # channels=3 repeats the grey level (RGB generators).
  rgb = next(iter(sequences.make_clip_dataset(seed=5, shuffle=False, repeat=False, **{**kwargs, "channels": 3})))
  np.testing.assert_array_equal(rgb.numpy(), np.repeat(expected[:4], 3, axis=-1))


def test_clip_dataset_folder_windows_are_consecutive(tmp_path):
  root = tmp_path / "faces"
  # Frame i of clip c has grey level 10 * i + 100 * c; 30 x 40 frames cropped to 16 px.
  _write_frames(root / "train" / "clip1", [10 * i for i in range(7)], size=(30, 40))
  _write_frames(root / "train" / "clip2", [100 + 10 * i for i in range(5)], size=(30, 40))
  _write_frames(root / "train" / "short", [200, 210], size=(30, 40))  # < num_frames: skipped
  _write_frames(root / "test" / "other", [0, 0, 0, 0], size=(30, 40))
  kwargs = dict(source="folder", split="train", num_frames=4, resolution=16, channels=1,
                batch_size=3, data_dir=str(root))
  batches = [b.numpy() for b in sequences.make_clip_dataset(seed=2, **kwargs).take(4)]
  again = [b.numpy() for b in sequences.make_clip_dataset(seed=2, **kwargs).take(4)]
  levels = np.round((np.concatenate(batches)[:, :, 0, 0, 0] + 1.0) * 127.5)
  assert batches[0].shape == (3, 4, 16, 16, 1)
  for a, b in zip(batches, again):
    np.testing.assert_array_equal(a, b)
  np.testing.assert_array_equal(np.diff(levels, axis=1), 10.0)  # consecutive frames
  assert set(levels[:, 0] // 100) == {0, 1}                    # both long clips, not "short"
  assert len(set(levels[:, 0].tolist())) > 2                  # random window starts
  with pytest.raises(InputError, match="no clip has num_frames=9"):
    sequences.make_clip_dataset(seed=0, **{**kwargs, "num_frames": 9})


def test_clip_dataset_folder_bad_frame_found_before_training(tmp_path):
  root = tmp_path / "faces"
  folder = _write_frames(root / "clip1", [1, 2, 3], size=(20, 20))
  bad = fixtures_data.truncate_file(os.path.join(folder, "frame2.png"))
  with pytest.raises(InputError) as error:
    sequences.make_clip_dataset(source="folder", split="train", num_frames=2, resolution=16,
                                channels=1, batch_size=1, seed=0, data_dir=str(root))
  _assert_one_line_naming(error, bad)


def test_clip_mask_dataset():
  kwargs = dict(num_frames=3, resolution=32, batch_size=2, motion="moving")
  first = sequences.make_clip_mask_dataset(seed=7, **kwargs)
  a = [b.numpy() for b in first.take(2)]
  b = [b.numpy() for b in sequences.make_clip_mask_dataset(seed=7, **kwargs).take(2)]
  assert a[0].shape == (2, 3, 32, 32, 1)
  np.testing.assert_array_equal(a[0], b[0])
  np.testing.assert_array_equal(a[1], b[1])
  assert not np.array_equal(a[0], a[1])
  with pytest.raises(InputError, match="kind='free_form'"):
    sequences.make_clip_mask_dataset(seed=0, kind="free_form", **kwargs)


def test_unknown_clip_source_is_an_error_and_the_table_is_complete(tmp_path):
  assert sequences.SOURCES == ("moving_fashion_mnist", "folder") == tuple(sequences.CLIP_SOURCES)
  assert all(callable(open_clips) for open_clips in sequences.CLIP_SOURCES.values())
  for source in ("cifar", "Folder", ""):
    with pytest.raises(InputError, match=r"^source='.*': choose one of moving_fashion_mnist, folder$"):
      sequences.make_clip_dataset(source=source, split="train", num_frames=2, resolution=16, channels=1,
                                  batch_size=1, seed=0, data_dir=str(tmp_path))


def test_sequences_keeps_the_names_its_callers_use():
  # binaries/inpaint.py, pgi_tf/evaluation/video.py, pgi_tf/inference/clips.py and
  # scripts/behaviour_inputs.py reach these through `sequences`.
  assert sequences.moving_fashion_mnist is moving_fmnist.moving_fashion_mnist
  assert sequences.rectangle_clip_masks is clip_masks.rectangle_clip_masks
  assert sequences.MASK_MOTIONS == clip_masks.MASK_MOTIONS == ("fixed", "moving")


# ------------------------------------------------------------------------- sliding windows


@pytest.mark.parametrize("policy", clip_windows.MERGE_POLICIES)
@pytest.mark.parametrize("overlap", [0, 1, 3])
@pytest.mark.parametrize("num_frames", [1, 4, 5, 6, 13])  # W = 5: 1, W-1, W, W+1, 2W+3
def test_windows_cover_every_frame_once(num_frames, overlap, policy):
  window = 5
  clip = np.arange(num_frames, dtype=np.float32)[:, None] * np.ones((1, 2), np.float32)
  windows, starts = clip_windows.split_windows(clip, window=window, overlap=overlap)
  assert windows.shape == (len(starts), window, 2)
  assert starts == clip_windows.window_starts(num_frames, window, overlap)
  assert starts[0] == 0
  assert starts[-1] == max(0, num_frames - window)  # the last window ends at the clip end
  if num_frames < window:  # padding repeats the last frame
    np.testing.assert_array_equal(windows[0, num_frames:, 0], num_frames - 1)
  # A "model" that tags each output with its window: output = frame index + 1000 * window.
  outputs = windows + 1000.0 * np.arange(len(starts))[:, None, None]
  merged = clip_windows.merge_windows(outputs, num_frames=num_frames, window=window,
                                   overlap=overlap, policy=policy)
  assert merged.shape == (num_frames, 2)
  np.testing.assert_array_equal(merged[:, 0] % 1000, np.arange(num_frames))  # each frame once
  sources = clip_windows.frame_sources(num_frames, window, overlap, policy=policy)
  np.testing.assert_array_equal(merged[:, 0] // 1000, [k for k, _ in sources])
  if policy == "causal":
    # Frames taken from later windows have at least `overlap` frames of LSTM context.
    assert all(position >= overlap for k, position in sources if k > 0)


def test_window_hand_examples():
  assert clip_windows.window_starts(13, 5, 0) == [0, 5, 8]
  assert clip_windows.window_starts(13, 5, 1) == [0, 4, 8]
  assert clip_windows.window_starts(6, 5, 3) == [0, 1]
  # 13 frames, W=5, overlap 0: windows [0..4], [5..9], [8..12]
  assert [k for k, _ in clip_windows.frame_sources(13, 5, 0, policy="causal")] == (
      [0] * 5 + [1] * 5 + [2] * 3)
  # central (window centre = position 2): frame 8 is at position 3 of window 1 (distance 1)
  # and 0 of window 2 (distance 2) -> window 1; frame 9 at 4 (2) vs 1 (1) -> window 2.
  assert [k for k, _ in clip_windows.frame_sources(13, 5, 0, policy="central")] == (
      [0] * 5 + [1] * 4 + [2] * 4)
  with pytest.raises(InputError, match="overlap=5"):
    clip_windows.window_starts(10, 5, 5)
  with pytest.raises(ValueError, match="window_outputs"):
    clip_windows.merge_windows(np.zeros((2, 5)), num_frames=13, window=5, overlap=0)
