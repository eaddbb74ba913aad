"""RESULTS.md is rendered from results JSONs only: the committed file equals a fresh rendering,
a JSON without provenance is not rendered, and a hand edit is caught."""

import json
import os
import shutil
import subprocess
import sys

from pgi_tf.evaluation import report

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
