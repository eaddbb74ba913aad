"""Video inpainting (pgi_tf/inference/video.py) and the Table 3 ablation (pgi_tf/evaluation/video.py).

Library tests run on the tiny 16 px models of tests/tiny_models.py and a tiny exported sequence
prior (W = 4, 16 LSTM units). The binaries (`inpaint --video`, `evaluate --sequences`) run in two
background runners started before the first test (tiny_models.start_binary_cases: TensorFlow
imported once per binary, one forked child per case), so they overlap with the in-process tests.
"""

import json
import os
import re

import cv2
import numpy as np
import pytest
from PIL import Image

from pgi_tf import hub
from pgi_tf.inference import loading
from pgi_tf.inference import video as video_inference
from pgi_tf.evaluation import video as video_evaluation
from pgi_tf.data import windows as clip_windows
from pgi_tf.errors import InputError
from pgi_tf.metrics import temporal
from pgi_tf.models import prior_predictor as prior_lib
from pgi_tf.models import sequence_prior as sequence_lib
from tests import fixtures_data
from tests import tiny_models

R, C, Z = tiny_models.RESOLUTION, tiny_models.CHANNELS, tiny_models.Z_DIM
WINDOW = 4
CLIP_LENGTHS = {"a": 6, "b": 3}  # frame folders: 6 (not a multiple of W) and 3 (< W) frames
VIDEO_FRAMES = 5                 # c.avi


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
  return tiny_models.shared_model_dirs(tmp_path_factory)


@pytest.fixture(scope="module")
def sequence_prior_dir(tiny, tmp_path_factory):
  """A randomly initialised grouped prior (W = 4) exported for the tiny G."""
  import keras
  keras.utils.set_random_seed(3)
  config = sequence_lib.SequencePriorConfig(
      frame=prior_lib.PriorPredictorConfig(resolution=R, channels=C, z_dim=Z, base_channels=8), lstm_units=16)
  model = sequence_lib.build_sequence_prior(config)
  metadata = hub.sequence_prior_metadata(
      generator_path=tiny.generator, generator_metadata=hub.read_metadata(tiny.generator), window=WINDOW,
      per_frame=False)
  path = str(tmp_path_factory.mktemp("sequence_prior") / "sequence_prior")
  hub.export_sequence_prior(model, path, metadata=metadata)
  return path


def _frames(count, seed):
  """Smooth moving blobs, uint8 [T, 16, 16]."""
  rng = np.random.default_rng(seed)
  y, x = np.mgrid[:R, :R]
  cy, cx, vy, vx = rng.uniform(4, 12), rng.uniform(4, 12), rng.uniform(-1, 1), rng.uniform(-1, 1)
  return np.stack([np.clip(255 - 6 * ((y - cy - vy * t) ** 2 + (x - cx - vx * t) ** 2), 0, 255)
                   for t in range(count)]).astype(np.uint8)


def _hole(t, top=4, left=3):
  mask = np.zeros((R, R), np.uint8)
  mask[top + t % 2:top + 6 + t % 2, left:left + 7] = 255
  return mask


def _write_clips(root):
  """clips/{a,b}/ frame folders, clips/c.avi, and masks/{a,b,c}/ plus a bad mask set."""
  clips, masks, bad_masks = (os.path.join(root, n) for n in ("clips", "masks", "bad_masks"))
  for seed, (name, count) in enumerate(CLIP_LENGTHS.items()):
    for t, frame in enumerate(_frames(count, seed)):
      tiny_models.write_png(os.path.join(clips, name, f"f{t}.png"), frame)
      tiny_models.write_png(os.path.join(masks, name, f"f{t}.png"), _hole(t))
      if t < count - 1 or name != "a":  # bad: clip a's last mask frame is missing
        tiny_models.write_png(os.path.join(bad_masks, name, f"f{t}.png"), _hole(t))
  writer = cv2.VideoWriter(os.path.join(clips, "c.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 8, (R, R))
  for frame in _frames(VIDEO_FRAMES, 7):
    writer.write(np.repeat(frame[..., None], 3, -1))
  writer.release()
  for t in range(VIDEO_FRAMES):
    for folder in (masks, bad_masks):
      tiny_models.write_png(os.path.join(folder, "c", f"m{t}.png"), _hole(t, top=6))
  return clips, masks, bad_masks


@pytest.fixture(scope="module", autouse=True)
def binary_runs(tiny, sequence_prior_dir, tmp_path_factory):
  """Starts every CLI case of this file in the background; tests collect the results."""
  root = str(tmp_path_factory.mktemp("video_cli"))
  clips, masks, bad_masks = _write_clips(root)
  fashion = fixtures_data.make_fashion_mnist(os.path.join(root, "fashion"), train_count=4, test_count=6)
  extractor = os.path.join(root, "video_extractor")
  temporal.export_tiny_video_extractor(extractor, image_size=R, channels=3, feature_dim=4)
  out = lambda name: os.path.join(root, "out", name)  # noqa: E731
  model = f"--model_dir={tiny.model_dir}"
  inpaint_cases = {
      "per_frame": [model, "--video", f"--input={clips}", f"--masks={masks}", f"--window={WINDOW}"],
      "sequence_moving": [model, "--video", f"--input={clips}", "--masks=", "--mask_kind=rectangle",
                          "--mask_motion=moving", f"--sequence_prior={sequence_prior_dir}", "--overlap=1",
                          "--batch_size=2"],
      "bad_mask_count": [model, "--video", f"--input={clips}", f"--masks={bad_masks}"],
      "bundled_default": ["--video", f"--input={clips}", "--masks=", "--mask_kind=rectangle"],
      "iterative_video": [model, "--video", f"--input={clips}", f"--masks={masks}", "--mode=iterative"],
  }
  evaluate_cases = {
      "sequences": [model, "--sequences", f"--sequence_models=M_{{z+L}}={sequence_prior_dir}", "--num_clips=3",
                    "--num_frames=6", f"--data_dir={fashion}", "--mask_motion=moving", "--batch_size=4",
                    f"--video_fd_extractor=savedmodel:{extractor}"],
  }
  inpaint_pending = tiny_models.start_binary_cases(
      "binaries.inpaint", [[*a, f"--output_dir={out(n)}"] for n, a in inpaint_cases.items()],
      workdir=os.path.join(root, "runner_inpaint"), parallel=2)
  evaluate_pending = tiny_models.start_binary_cases(
      "binaries.evaluate", [[*a, f"--output_dir={out(n)}"] for n, a in evaluate_cases.items()],
      workdir=os.path.join(root, "runner_evaluate"), parallel=1)
  runs = {"root": root, "clips": clips, "masks": masks, "out": out}

  def results():
    if "inpaint" not in runs:
      runs.update(zip(inpaint_cases, inpaint_pending.results()))
      runs.update(zip(evaluate_cases, evaluate_pending.results()))
      runs["inpaint"] = True
    return runs

  yield results
  inpaint_pending.stop()
  evaluate_pending.stop()


def _models(tiny):
  return loading.load_models(model_dir=tiny.model_dir, discriminator="none")


def _clip(count, seed):
  frames = _frames(count, seed).astype(np.float32)[..., None] / 127.5 - 1.0
  masks = np.stack([_hole(t) for t in range(count)]).astype(np.float32)[..., None] / 255.0
  return frames, masks


# --------------------------------------------------------------------------- windows

def test_windows_every_frame_once_from_its_causal_window_and_eq8_exact(tiny, sequence_prior_dir):
  models = _models(tiny)
  layer = hub.load_sequence_prior(sequence_prior_dir, generator_path=tiny.generator)
  lengths = (3, 4, 6, 9)  # < W, = W, and two that are not multiples of W
  clips = [_clip(n, seed=n) for n in lengths]
  make = lambda overlap: video_inference.VideoInpainter(  # noqa: E731
      generator=models.generator, z_dim=Z, sequence_prior=layer, overlap=overlap)
  for overlap in (0, 1, 3):
    video = make(overlap)
    assert (video.window, video.overlap, video.temporal) == (WINDOW, overlap, "lstm")
    results = video.inpaint_sequences([c[0] for c in clips], [c[1] for c in clips], batch_size=3)
    assert video.tracing_count == 1  # one compiled function for every batch of windows
    for (frames, masks), result in zip(clips, results):
      num_frames = len(frames)
      assert result["inpainted"].shape == frames.shape and result["z"].shape == (num_frames, Z)
      # Every frame's z is the prior's output for it in the earliest window that contains it.
      windows, starts = clip_windows.split_windows(frames, window=WINDOW, overlap=overlap)
      window_masks, _ = clip_windows.split_windows(masks, window=WINDOW, overlap=overlap)
      direct = layer([(1 - window_masks) * windows, window_masks]).numpy()
      for t in range(num_frames):
        k = next(k for k, s in enumerate(starts) if s <= t < s + WINDOW)
        np.testing.assert_allclose(result["z"][t], direct[k, t - starts[k]], atol=1e-5)
      # Eq. 8 exactly: known pixels are the input's, hole pixels are G(z)'s.
      hole = np.broadcast_to(masks > 0.5, frames.shape)
      np.testing.assert_array_equal(result["inpainted"][~hole], frames[~hole])
      np.testing.assert_array_equal(result["inpainted"][hole], result["generated"][hole])
      np.testing.assert_allclose(result["generated"], models.generator(result["z"]).numpy(), atol=1e-5)
  # With overlap, later windows' burn-in frames change the state: frame 4 of a 9-frame clip differs
  # between overlap 0 (window start, zero state) and overlap 3 (4th frame of its window).
  z_by_overlap = [make(o).inpaint_sequences([clips[3][0]], [clips[3][1]])[0]["z"] for o in (0, 3)]
  assert np.abs(z_by_overlap[0][4] - z_by_overlap[1][4]).max() > 1e-4


def test_per_frame_mode_equals_the_image_inpainter_frame_by_frame(tiny):
  models = _models(tiny)
  video = video_inference.make_video_inpainter(models, window=3, overlap=1)
  assert video.temporal == "per_frame"
  frames, masks = _clip(7, seed=2)
  result = video.inpaint(frames[None], masks[None])
  single = loading.make_inpainter(models).inpaint(frames, masks, mode="single")
  for key in ("inpainted", "generated", "z"):
    np.testing.assert_allclose(result[key][0], single[key].numpy(), atol=1e-5, err_msg=key)


def test_smooth_latents_by_hand():
  z = np.array([[0.0], [4.0], [0.0], [8.0]], np.float32)
  # One pass of [1/4, 1/2, 1/4], ends repeated: [0+0+1, 0+2+0, 1+0+2, 0+4+2].
  np.testing.assert_allclose(video_inference.smooth_latents(z, 1)[:, 0], [1.0, 2.0, 3.0, 6.0])
  np.testing.assert_allclose(video_inference.smooth_latents(z, 0), z)
  batched = video_inference.smooth_latents(np.stack([z, 2 * z]), 1)  # [N, T, d]: along T per clip
  np.testing.assert_allclose(batched[1, :, 0], [2.0, 4.0, 6.0, 12.0])
  # A linear trajectory (constant motion) is kept wherever the ends' repetition has not reached:
  # k passes change at most k frames at each end.
  line = np.linspace(-1, 1, 20, dtype=np.float32)[:, None]
  np.testing.assert_allclose(video_inference.smooth_latents(line, 3)[3:-3], line[3:-3], atol=1e-6)


def test_latent_smoothing_draws_g_of_the_smoothed_z_and_keeps_known_pixels(tiny):
  models = _models(tiny)
  plain = video_inference.make_video_inpainter(models, window=3, overlap=1)
  smooth = video_inference.make_video_inpainter(models, window=3, overlap=1, latent_smoothing=2)
  frames, masks = _clip(7, seed=5)
  raw = plain.inpaint(frames[None], masks[None])
  out = smooth.inpaint(frames[None], masks[None])
  z = video_inference.smooth_latents(raw["z"][0], 2)
  np.testing.assert_allclose(out["z"][0], z, atol=1e-6)
  np.testing.assert_allclose(out["generated"][0], models.generator(z).numpy(), atol=1e-5)
  known = masks < 0.5
  np.testing.assert_array_equal(out["inpainted"][0][np.broadcast_to(known, frames.shape)],
                                frames[np.broadcast_to(known, frames.shape)])
  rows = video_evaluation.load_sequence_models(models=models, entries=[], window=3, overlap=1, latent_smoothing=[1, 2])
  assert [r.label for r in rows] == ["M_z", "M_z + z smoothing x1", "M_z + z smoothing x2"]
  assert [r.inpainter.latent_smoothing for r in rows] == [0, 1, 2]
  with pytest.raises(InputError, match=r"--latent_smoothing=-1"):
    video_inference.make_video_inpainter(models, latent_smoothing=-1)


def test_bad_windows_and_missing_priors_are_input_errors(tiny):
  models = _models(tiny)
  with pytest.raises(InputError, match=r"--overlap=4: must be in 0..3"):
    video_inference.make_video_inpainter(models, window=4, overlap=4)
  with pytest.raises(InputError, match=r"--window=0"):
    video_inference.make_video_inpainter(models, window=0)
  without_p = loading.Models(generator=models.generator, discriminator=None, prior_predictor=None,
                                   metadata=models.metadata)
  with pytest.raises(InputError, match=r"--sequence_prior: empty"):
    video_inference.make_video_inpainter(without_p)


def test_gif_has_one_frame_per_time_step_even_for_a_static_clip(tmp_path):
  still = np.zeros((5, 8, 8, 1), np.float32)  # identical frames: PIL would merge them without the timeline
  path = str(tmp_path / "still.gif")
  assert video_inference.write_side_by_side_gif(path, [still, still, still]) == 5
  with Image.open(path) as gif:
    assert gif.n_frames == 5
    assert gif.size[0] == 128 // 8 * (3 * 8 + 4 * 2)  # 3 panels + padding, upscaled to >= 128 px


def test_sequence_model_labels_and_parsing():
  assert video_evaluation.model_label(temporal_kind="per_frame", structural_prior="none") == "M_z"
  assert video_evaluation.model_label(temporal_kind="lstm", structural_prior="none") == "M_{z+L}"
  assert video_evaluation.model_label(temporal_kind="per_frame", structural_prior="silhouette") == "M_{z+S}"
  assert video_evaluation.model_label(temporal_kind="lstm", structural_prior="silhouette") == "M_{z+S+L}"
  assert video_evaluation.parse_sequence_models(["M_{z+L}=a/b", "c"]) == [("M_{z+L}", "a/b"), ("", "c")]
  with pytest.raises(InputError, match=r"--sequence_models: the name 'x' is used twice"):
    video_evaluation.parse_sequence_models(["x=a", "x=b"])


# --------------------------------------------------------------------------- binaries/inpaint.py --video

def _written(folder):
  return sorted(os.listdir(folder))


def test_cli_one_folder_per_clip_with_every_frame_and_a_gif(binary_runs):
  runs = binary_runs()
  expected_frames = {**CLIP_LENGTHS, "c": VIDEO_FRAMES}
  for case in ("per_frame", "sequence_moving"):
    run, output_dir = runs[case], runs["out"](case)
    assert run.returncode == 0, run.stderr[-3000:]
    assert _written(output_dir) == ["a", "b", "c", "results.json"]
    for name, count in expected_frames.items():
      names = ([f"f{t}.png" for t in range(count)] if name != "c"
               else [f"frame_{t:05d}.png" for t in range(count)])
      assert _written(os.path.join(output_dir, name)) == sorted(names + [video_inference.GIF_FILENAME])
      with Image.open(os.path.join(output_dir, name, video_inference.GIF_FILENAME)) as gif:
        assert gif.n_frames == count
    results = json.loads(open(os.path.join(output_dir, "results.json")).read())
    assert results["clips"] == 3 and results["frames"] == sum(expected_frames.values())
    assert results["merge_policy"] == "causal"
  per_frame = json.loads(open(os.path.join(runs["out"]("per_frame"), "results.json")).read())
  assert (per_frame["temporal"], per_frame["window"], per_frame["overlap"]) == ("per_frame", WINDOW, 0)
  moving = json.loads(open(os.path.join(runs["out"]("sequence_moving"), "results.json")).read())
  assert (moving["temporal"], moving["window"], moving["overlap"]) == ("lstm", WINDOW, 1)
  # Known pixels of the frame folders' outputs equal the input bytes; the hole is filled.
  for name, count in CLIP_LENGTHS.items():
    for t in range(count):
      original = tiny_models.read_png(os.path.join(runs["clips"], name, f"f{t}.png"))
      result = tiny_models.read_png(os.path.join(runs["out"]("per_frame"), name, f"f{t}.png"))
      hole = tiny_models.read_png(os.path.join(runs["masks"], name, f"f{t}.png")) > 127
      np.testing.assert_array_equal(result[~hole], original[~hole])
      assert np.mean(result[hole] != original[hole]) > 0.5


def test_cli_default_is_the_bundled_sequence_prior(binary_runs):
  """--video without --model_dir / --sequence_prior: the bundled M_{z+L} (hub_modules/fashion_mnist32)."""
  runs = binary_runs()
  run, output_dir = runs["bundled_default"], runs["out"]("bundled_default")
  assert run.returncode == 0, run.stderr[-3000:]
  results = json.loads(open(os.path.join(output_dir, "results.json")).read())
  assert results["sequence_prior"] == os.path.join("hub_modules", "fashion_mnist32", "sequence_prior")
  assert results["z_from"] == "sequence prior" and results["temporal"] == "lstm"
  assert (results["window"], results["overlap"], results["resolution"]) == (8, 4, 32)


def test_cli_bad_input_is_one_error_line_and_writes_nothing(binary_runs):
  runs = binary_runs()
  expected = {"bad_mask_count": r"^error: --masks=.*bad_masks/a: 5 mask frames for the 6 frames of clip .*clips/a$",
              "iterative_video": r"^error: --mode=iterative: --video inpaints in one pass"}
  for case, pattern in expected.items():
    run = runs[case]
    assert run.returncode == 2, (case, run.stderr[-2000:])
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and re.match(pattern, lines[0]), (case, run.stderr)
    assert not os.path.exists(runs["out"](case))


# --------------------------------------------------------------------------- binaries/evaluate.py --sequences

def test_evaluate_sequences_writes_table3_rows_for_two_models(binary_runs):
  runs = binary_runs()
  run, output_dir = runs["sequences"], runs["out"]("sequences")
  assert run.returncode == 0, run.stderr[-3000:]
  assert _written(output_dir) == ["examples.gif", "examples.png", "results.json", "table.md"]
  results = json.loads(open(os.path.join(output_dir, "results.json")).read())
  rows = results["rows"]
  assert [r["model"] for r in rows] == ["M_z", "M_{z+L}"]
  assert [r["temporal"] for r in rows] == ["per_frame", "lstm"]
  for row in rows:
    assert np.isfinite(row["psnr_db"]) and row["flicker"] > 0 and row["video_fd"] >= 0
    assert (row["num_clips"], row["num_frames"]) == (3, 6)
  assert [(r["window"], r["overlap"]) for r in rows] == [(video_inference.DEFAULT_PER_FRAME_WINDOW, 0),
                                                          (WINDOW, WINDOW // 2)]
  assert rows[0]["flicker_change"] == 0 and rows[1]["reference"] == "M_z"
  assert rows[1]["psnr_change_db"] == pytest.approx(rows[1]["psnr_db"] - rows[0]["psnr_db"])
  table = open(os.path.join(output_dir, "table.md")).read()
  assert "| M_z | P per frame" in table and "| M_{z+L} | sequence prior" in table
  assert "flicker ↓" in table and "PSNR (dB) ↑" in table and "computed with: savedmodel:" in table
  with Image.open(os.path.join(output_dir, "examples.gif")) as gif:
    assert gif.n_frames == 6


def test_evaluate_sequences_metrics_match_the_library(tiny, sequence_prior_dir, tmp_path):
  """The library path behind --sequences: the rows' numbers are the temporal metrics of the outputs."""
  fashion = fixtures_data.make_fashion_mnist(str(tmp_path / "fashion"), train_count=4, test_count=6)
  models = _models(tiny)
  rows_models = video_evaluation.load_sequence_models(models=models, entries=[sequence_prior_dir])
  assert [m.label for m in rows_models] == ["M_z", "M_{z+L}"]
  clips, masks = video_evaluation.evaluation_clips(num_clips=2, num_frames=5, resolution=R, seed=1,
                                                   motion="fixed", data_dir=fashion)
  again, _ = video_evaluation.evaluation_clips(num_clips=2, num_frames=5, resolution=R, seed=1,
                                               motion="fixed", data_dir=fashion)
  np.testing.assert_array_equal(clips, again)  # seeded
  assert all((masks[i] == masks[i, :1]).all() for i in range(2))  # fixed holes
  rows, outputs = video_evaluation.evaluate_sequences(sequence_models=rows_models, clips=clips, masks=masks)
  for row in rows:
    out = outputs[row["model"]]
    assert row["psnr_db"] == pytest.approx(np.mean(temporal.per_frame_psnr(out, clips)))
    assert row["flicker"] == pytest.approx(np.nanmean(temporal.flicker(out, clips, masks)))
  # M_z's outputs are the image inpainter's, frame by frame.
  single = loading.make_inpainter(models).inpaint(clips.reshape(-1, R, R, C), masks.reshape(-1, R, R, 1))
  np.testing.assert_allclose(outputs["M_z"].reshape(-1, R, R, C), single["inpainted"].numpy(), atol=1e-5)
