"""`folders.inpaint_files` streams and resumes (issue 14): results.json says "running" until the
end, a rerun over a killed run's folder skips the finished outputs (and gives the same bytes as
an uninterrupted run), a rerun with other settings starts over, and a killed writer's hidden
temporary files are removed and never read as inputs."""

import json
import os

import numpy as np
import pytest

from pgi_tf.data import masks as masks_lib
from pgi_tf.inference import folders
from pgi_tf.inference import loading
from tests import tiny_models

NUM_IMAGES = 7


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
  tiny = tiny_models.shared_model_dirs(tmp_path_factory)
  root = str(tmp_path_factory.mktemp("streaming"))
  images = os.path.join(root, "images")
  for index in range(NUM_IMAGES):
    pixels = np.random.default_rng(index).integers(0, 256, (16, 16)).astype(np.uint8)
    tiny_models.write_png(os.path.join(images, f"img{index}.png"), pixels)
  models = loading.load_models(model_dir=tiny.model_dir)
  return models, images, root


def _run(models, images, output_dir, **overrides):
  kwargs = dict(models=models, input_path=images, output_dir=output_dir,
                mask_spec=masks_lib.MaskSpec(kind="ratio", hole_ratio=0.3), batch_size=3, seed=5)
  kwargs.update(overrides)
  return folders.inpaint_files(**kwargs)


def _outputs(output_dir):
  return {name: open(os.path.join(output_dir, name), "rb").read()
          for name in sorted(os.listdir(output_dir)) if name.startswith("img")}


def test_a_killed_run_resumes_where_it_stopped_with_the_same_bytes(setup):
  models, images, root = setup
  whole = os.path.join(root, "whole")
  summary = _run(models, images, whole)
  assert summary["status"] == "complete" and summary["resumed_skipped"] == 0
  assert json.load(open(os.path.join(whole, "results.json")))["status"] == "complete"
  expected = _outputs(whole)
  assert len(expected) == NUM_IMAGES

  # What a kill after the first batch leaves: results.json "running", 3 outputs, a temporary file.
  killed = os.path.join(root, "killed")
  _run(models, images, killed)
  record = json.load(open(os.path.join(killed, "results.json")))
  record["status"] = "running"
  with open(os.path.join(killed, "results.json"), "w") as f:
    json.dump(record, f)
  for name in sorted(expected)[3:]:
    os.remove(os.path.join(killed, name))
  open(os.path.join(killed, ".tmp-img4.png.abc.png"), "wb").close()
  resumed = _run(models, images, killed)
  assert resumed["resumed_skipped"] == 3
  assert _outputs(killed) == expected                    # generated holes are per image: same bytes
  assert not [n for n in os.listdir(killed) if n.startswith(".tmp-")]
  assert json.load(open(os.path.join(killed, "results.json")))["status"] == "complete"


def test_other_settings_or_a_complete_run_start_over(setup):
  models, images, root = setup
  output_dir = os.path.join(root, "again")
  _run(models, images, output_dir)
  assert _run(models, images, output_dir)["resumed_skipped"] == 0   # complete: run again in full
  record = json.load(open(os.path.join(output_dir, "results.json")))
  record["status"] = "running"
  with open(os.path.join(output_dir, "results.json"), "w") as f:
    json.dump(record, f)
  other = _run(models, images, output_dir, seed=6)                  # another seed: other holes
  assert other["resumed_skipped"] == 0


def test_results_json_is_running_while_the_images_are_written(setup, monkeypatch):
  models, images, root = setup
  output_dir = os.path.join(root, "watched")
  seen = []
  original = folders.full_resolution_result  # called once per image, just before its PNG is written

  def spy(**kwargs):
    seen.append(json.load(open(os.path.join(output_dir, "results.json")))["status"])
    return original(**kwargs)

  monkeypatch.setattr(folders, "full_resolution_result", spy)
  _run(models, images, output_dir)
  assert seen == ["running"] * NUM_IMAGES


def test_images_are_read_one_batch_at_a_time(setup, monkeypatch):
  """Memory does not grow with the folder: no more than one batch of images is read ahead of
  the outputs written (counted at every read)."""
  models, images, root = setup
  reads, ahead = [], []
  original_load = folders.images_lib.load_image
  original_write = folders.full_resolution_result

  def load(path, **kwargs):
    reads.append(path)
    ahead.append(len(reads) - len(written))
    return original_load(path, **kwargs)

  written = []

  def write(**kwargs):
    written.append(kwargs["original"])
    return original_write(**kwargs)

  monkeypatch.setattr(folders.images_lib, "load_image", load)
  monkeypatch.setattr(folders, "full_resolution_result", write)
  _run(models, images, os.path.join(root, "batches"), batch_size=2)
  assert len(reads) == NUM_IMAGES and max(ahead) == 2


def test_grayscale_converts_colour_inputs_for_a_grey_model(setup, tmp_path):
  """--grayscale: a colour image into the 1-channel model is converted with PIL's "L" first; the
  output's known pixels are that conversion, bit for bit. Without it the image is refused with a
  line that names the flag."""
  from PIL import Image
  from pgi_tf.errors import InputError
  models, _, root = setup
  colour = os.path.join(root, "colour")
  rgb = np.random.default_rng(3).integers(0, 256, (20, 24, 3)).astype(np.uint8)
  tiny_models.write_png(os.path.join(colour, "c.png"), rgb)
  with pytest.raises(InputError, match=r"c\.png: has 3 channels, the model needs 1 .*--grayscale"):
    _run(models, colour, str(tmp_path / "refused"))
  output_dir = str(tmp_path / "grey")
  summary = _run(models, colour, output_dir, grayscale=True)
  assert summary["settings"]["grayscale"] is True
  result = tiny_models.read_png(os.path.join(output_dir, "c.png"))
  grey = np.asarray(Image.fromarray(rgb).convert("L"))
  assert result.shape[:2] == grey.shape
  hole = masks_lib.sample_masks(masks_lib.MaskSpec(kind="ratio", hole_ratio=0.3), count=1, height=20, width=24,
                                rng=np.random.default_rng([5, 0]))[0][..., 0] > 0.5
  assert np.array_equal(result.reshape(grey.shape)[~hole], grey[~hole])
  assert not np.array_equal(result.reshape(grey.shape)[hole], grey[hole])
