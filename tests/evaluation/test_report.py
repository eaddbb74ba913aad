"""RESULTS.md is rendered from results JSONs only: the committed file equals a fresh rendering,
a JSON without provenance is not rendered, and a hand edit is caught."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from pgi_tf.evaluation import report
from pgi_tf.evaluation import tables

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_committed_results_md_is_exactly_what_the_jsons_render():
  text, used = report.render(REPO)
  assert open(os.path.join(REPO, "RESULTS.md")).read() == text, "RESULTS.md is stale: python -m binaries.report"
  for path in used:  # every rendered JSON says how it was made
    record = json.load(open(os.path.join(REPO, path)))["provenance"]
    assert record["command"].startswith("python -m binaries.") and len(record["git_revision"]) == 40


def _fake_repo(tmp_path, *, with_provenance=True):
  section = report.SECTIONS[0]
  target = tmp_path / section.path
  target.parent.mkdir(parents=True)
  rows = [{"hole_ratio": 0.1, "method": "single", "num_images": 7, "psnr_db": 31.234, "ssim": 0.9, "l1": 0.01,
           "ms_per_image": 1.5}]
  data = {"rows": rows, "notes": ["7 images"]}
  if with_provenance:
    data["provenance"] = {"command": "python -m binaries.evaluate --num_images=7", "git_revision": "a" * 40,
                          "git_dirty": False, "machine": {"cpu_count": 2, "processor": "x86_64", "gpus": 0,
                                                          "tensorflow": "2.21.0"},
                          "wall_time_s": 12.0, "finished_utc": "2026-12-01T00:00:00Z"}
  target.write_text(json.dumps(data))
  return tmp_path


def test_numbers_come_from_the_json_and_provenance_is_printed(tmp_path):
  text, used = report.render(str(_fake_repo(tmp_path)))
  assert used == [report.SECTIONS[0].path]
  assert "| single → PSNR (dB) ↑ | 31.23 |" in text
  assert "Written by `python -m binaries.evaluate --num_images=7` at git aaaaaaaaaa, 2 CPU cores" in text
  assert "12 s wall time" in text
  assert all(f"- {s.title} (`{s.path}`)" in text for s in report.SECTIONS[1:])


def test_a_json_without_provenance_is_not_rendered(tmp_path):
  text, used = report.render(str(_fake_repo(tmp_path, with_provenance=False)))
  assert used == [] and "31.23" not in text and f"- {report.SECTIONS[0].title}" in text


def test_binary_writes_and_check_catches_a_hand_edit(tmp_path):
  repo = _fake_repo(tmp_path)
  run = lambda *args: subprocess.run([sys.executable, "-m", "binaries.report", f"--repo={repo}", *args],
                                     cwd=REPO, capture_output=True, text=True, timeout=120)
  assert run().returncode == 0
  assert run("--check").returncode == 0
  results = repo / "RESULTS.md"
  results.write_text(results.read_text().replace("31.23", "33.23"))  # a number typed by hand
  checked = run("--check")
  assert checked.returncode == 1 and "stale" in checked.stderr
  shutil.rmtree(repo / "results")
  assert run("--check").returncode == 1


def test_git_dirty_means_code_changes_not_rewritten_results(tmp_path):
  from pgi_tf.evaluation import provenance
  git = lambda *args: subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)
  git("init", "-q")
  (tmp_path / "results").mkdir()
  (tmp_path / "results" / "r.json").write_text("{}")
  (tmp_path / "code.py").write_text("x = 1\n")
  git("add", "-A")
  git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "c")
  assert provenance.git_revision(str(tmp_path))["dirty"] is False
  (tmp_path / "results" / "r.json").write_text('{"a": 1}')  # a run rewrote its results
  assert provenance.git_revision(str(tmp_path))["dirty"] is False
  (tmp_path / "code.py").write_text("x = 2\n")
  record = provenance.git_revision(str(tmp_path))
  assert record["dirty"] is True and len(record["revision"]) == 40


def _sweep_rows(fd40_by_seed: dict[int, list[float]]) -> list[dict]:
  points = [(0.0, 0.0), (0.003, 0.0), (0.003, 1.0)]
  rows = []
  for seed, values in fd40_by_seed.items():
    for point, fd40 in zip(points, values):
      for ratio, fd in ((0.1, fd40 / 10), (0.4, fd40)):
        rows.append({"seed": seed, "lambda_realism": point[0], "lambda_gradient": point[1],
                     "hole_ratio": ratio, "psnr_db": 20.0, "frechet_distance": fd})
  return rows


def test_lambda_sweep_choice_takes_the_lowest_mean_fd_at_40_over_seeds():
  # Seed 0 prefers point 1 (2.0 < 3.0), seed 1 point 2 (2.5 < 4.0); means 3.5, 3.0, 2.75 -> point 2.
  rows = _sweep_rows({0: [5.0, 2.0, 3.0], 1: [2.0, 4.0, 2.5]})
  choice = tables.lambda_sweep_choice(rows)
  assert (choice["lambda_realism"], choice["lambda_gradient"]) == (0.003, 1.0)
  assert choice["mean_fd_40"] == pytest.approx(2.75)
  assert choice["ranks_by_seed"] == {"0": [3, 1, 2], "1": [1, 3, 2]}
  # Spearman by hand: d = (2, -2, 0), 1 - 6 * 8 / (3 * 8) = -1.
  assert choice["spearman_seed_rankings"] == pytest.approx(-1.0)
  text = tables.lambda_sweep_markdown(rows, steps=10, num_images=7, split="val")
  assert "| 0.003 | 1.0 | 20.00 / 20.00 | 20.00 / 20.00 | 0.300 / 0.250 | 3.000 / 2.500 | 2 / 2 **chosen** |" in text
  assert "Spearman correlation of the two seeds' rankings by FD 40%: -1.00" in text
  # Identical rankings give 1; one seed gives no correlation line (old single-seed JSONs).
  assert tables.spearman([1.0, 2.0, 3.0], [10.0, 20.0, 30.0]) == pytest.approx(1.0)
  single = [dict(r) for r in _sweep_rows({0: [5.0, 2.0, 3.0]})]
  for r in single:
    del r["seed"]
  assert "Spearman" not in tables.lambda_sweep_markdown(single, steps=10, num_images=7, split="val")
  assert tables.lambda_sweep_choice(single)["lambda_realism"] == 0.003


def test_model_cards_are_current_and_their_numbers_come_from_the_jsons():
  from pgi_tf.evaluation import model_cards  # pylint: disable=import-outside-toplevel
  rendered = model_cards.render_all(REPO)
  bundled = sorted(d for d in os.listdir(os.path.join(REPO, "hub_modules")) if d != "samples"
                   and os.path.isdir(os.path.join(REPO, "hub_modules", d)))
  assert sorted(os.path.dirname(p).split(os.sep)[-1] for p in rendered) == bundled, "a bundled model has no card"
  for relative, text in rendered.items():
    assert open(os.path.join(REPO, relative)).read() == text, f"{relative} is stale: python -m binaries.report"
  # The M_z card's 40% row is the test-split JSON's single row, formatted, not a number typed by hand.
  data = json.load(open(os.path.join(REPO, "results/table1_fashion_mnist32_test10000/results.json")))
  row = next(r for r in data["rows"] if r["method"] == "single" and r["hole_ratio"] == 0.4)
  card = rendered[os.path.join("hub_modules", "fashion_mnist32", model_cards.CARD_FILENAME)]
  assert f"| 0.4 | {row['psnr_db']:.4g} | {row['ssim']:.4g} | {row['frechet_distance']:.4g} |" in card
