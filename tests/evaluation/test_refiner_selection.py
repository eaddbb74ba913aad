"""The refiner sweeps on val: hidden-keypoint errors by hand, and the binary's files for the
silhouette and the face refiner."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from pgi_tf.evaluation import silhouette_completion
from pgi_tf.structural import silhouette

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _disc_images():
  """Two 16 px images: a filled disc of radius 5 and one of radius 3, white on black."""
  yy, xx = np.mgrid[:16, :16]
  images = []
  for radius in (5.0, 3.0):
    inside = (yy - 7.5) ** 2 + (xx - 7.5) ** 2 <= radius ** 2
    images.append(np.where(inside, 1.0, -1.0).astype(np.float32)[..., None])
  return np.stack(images)


def test_completion_errors_count_hidden_keypoints_only():
  images = _disc_images()
  masks = np.zeros((2, 16, 16, 1), np.float32)
  masks[:, :, 8:] = 1.0                                    # the right half is the hole
  targets, _ = silhouette.silhouette_keypoints(images, num_rays=8)
  detected, switches = silhouette.silhouette_keypoints((1 - masks) * images, masks, num_rays=8)
  hidden = switches.numpy() < 0.5
  assert 0 < hidden.mean() < 1
  oracle = lambda points, d: targets.numpy()                # perfect completion -> 0 error
  errors = silhouette_completion.completion_errors(oracle, images, masks, num_rays=8,
                                                   mean_shape=np.full((8, 2), 0.5, np.float32))
  assert errors["mean_hidden_error_refined"] == 0.0
  assert errors["hidden_fraction"] == hidden.mean()
  # A refiner that puts every point at the image centre: error = distance of each hidden true
  # point from (0.5, 0.5), by hand.
  centre = lambda points, d: np.full(points.shape, 0.5, np.float32)
  errors = silhouette_completion.completion_errors(centre, images, masks, num_rays=8,
                                                   mean_shape=np.full((8, 2), 0.5, np.float32))
  by_hand = np.linalg.norm(targets.numpy() - 0.5, axis=-1)[hidden].mean()
  np.testing.assert_allclose(errors["mean_hidden_error_refined"], by_hand, rtol=1e-6)
  # No hole: nothing hidden, no error.
  none = silhouette_completion.completion_errors(centre, images, np.zeros_like(masks), num_rays=8,
                                                 mean_shape=np.full((8, 2), 0.5, np.float32))
  assert none == {"hidden_fraction": 0.0, "mean_hidden_error_refined": 0.0,
                  "mean_hidden_error_mean_shape_fill": 0.0}


def _run(args, cwd=REPO):
  return subprocess.run([sys.executable, "-m", "binaries.sweep_refiner", *args], cwd=cwd,
                        capture_output=True, text=True, timeout=300)


def test_sweep_refiner_writes_its_choice_and_refuses_test(tmp_path):
  refused = _run(["--config=configs/keypoint_refiner_fashion_mnist32.py:smoke", "--split=test",
                  f"--output_dir={tmp_path / 'refused'}"])
  assert refused.returncode == 2
  assert refused.stderr.strip().splitlines()[-1] == (
      "error: --split=test: choices are made on the validation split; the test split only reports")
  assert not (tmp_path / "refused").exists()
  completed = _run(["--config=configs/keypoint_refiner_fashion_mnist32.py:smoke", "--num_images=20",
                    "--values=0,0.9", "--seeds=3", f"--output_dir={tmp_path / 'out'}",
                    f"--workdir={tmp_path / 'work'}"])
  assert completed.returncode == 0, completed.stderr[-2000:]
  report = json.loads((tmp_path / "out" / "results.json").read_text())
  assert (report["split"], report["sample"], report["seeds"]) == ("val", "20 images", [3])
  assert report["parameter"] == "train.hole_drop_fraction"
  assert [(r["value"], r["condition"]) for r in report["rows"]] == [
      (0.0, "10% holes"), (0.0, "40% holes"), (0.9, "10% holes"), (0.9, "40% holes")]
  at_40 = {r["value"]: r["error_refined"] for r in report["rows"] if r["condition"] == "40% holes"}
  assert report["chosen"]["value"] == min(at_40, key=at_40.get)
  assert report["provenance"]["command"].startswith("python -m binaries.sweep_refiner")
  assert "**chosen**" in (tmp_path / "out" / "table.md").read_text()
  bad = _run(["--config=configs/keypoint_refiner_fashion_mnist32.py:smoke", "--values=0,1.5",
              f"--output_dir={tmp_path / 'bad'}"])
  assert bad.returncode == 2 and bad.stderr.strip().splitlines()[-1].startswith("error: --values=0,1.5")


def test_sweep_refiner_chooses_the_face_refiner_on_lfw_validation_faces(tmp_path):
  completed = _run(["--config=configs/keypoint_refiner_faces.py:smoke", "--num_images=2", "--values=0",
                    "--seeds=0", f"--output_dir={tmp_path / 'out'}", f"--workdir={tmp_path / 'work'}"])
  assert completed.returncode == 0, completed.stderr[-2000:]
  report = json.loads((tmp_path / "out" / "results.json").read_text())
  assert report["parameter"] == "data.lfw_dlib_fraction" and report["choose_by"] == "all halves"
  rows = {r["condition"]: r for r in report["rows"]}
  assert list(rows) == ["right half", "left half", "bottom half", "top half", "all halves"]
  assert all(r["num_faces"] == 2 for r in rows.values())
  sides = [rows[c]["error_refined"] for c in ("right half", "left half", "bottom half", "top half")]
  assert rows["all halves"]["error_refined"] == pytest.approx(np.mean(sides))
  assert report["chosen"]["value"] == 0.0
