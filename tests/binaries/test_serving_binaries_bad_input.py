"""Bad input to the binaries added for serving (export, calibrate_domain, benchmark's new suites):
one `error: <flag or file>: ...` line, exit code 2, nothing written (issue 14's rule for every binary)."""

import os

import pytest

from tests import tiny_models

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _one_error_line(run, pattern):
  lines = run.stderr.strip().splitlines()
  assert run.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: "), run.stderr[-1500:]
  assert pattern in lines[0], lines[0]


@pytest.fixture(scope="module")
def root(tmp_path_factory):
  path = tmp_path_factory.mktemp("serving_bad_input")
  (path / "a_file.txt").write_text("not a folder")
  (path / "user").mkdir()
  (path / "user" / "notes.txt").write_text("mine")
  return path


def test_export_bad_input(root):
  cases = {
      "no-model-dir": ([f"--model_dir={root}/nope", f"--export_dir={root}/e1"], f"--model_dir={root}/nope: no such directory"),
      "no-p": ([f"--model_dir={root}/user", f"--export_dir={root}/e2"], "has no prior_predictor/"),
      "export-dir-a-file": ([f"--export_dir={root}/a_file.txt"], "--export_dir="),
      "export-dir-user-folder": ([f"--export_dir={root}/user"], "--export_dir="),
      "export-dir-missing": ([], "--export_dir"),
  }
  runs = tiny_models.run_binary_cases("binaries.export", [args for args, _ in cases.values()],
                                      workdir=str(root / "export_runs"))
  for (name, (_, pattern)), run in zip(cases.items(), runs):
    _one_error_line(run, pattern)
  assert not any(os.path.exists(root / e) for e in ("e1", "e2"))
  assert sorted(os.listdir(root / "user")) == ["notes.txt"] and (root / "a_file.txt").read_text() == "not a folder"


def test_calibrate_domain_and_benchmark_bad_input(root):
  calibrate = tiny_models.run_binary_cases("binaries.calibrate_domain", [
      ["--split=test", f"--domain_file={root}/d1.json"],
      ["--num_images=5", f"--domain_file={root}/d2.json"],
      ["--hole_ratio=1.5", f"--domain_file={root}/d3.json"],
  ], workdir=str(root / "calibrate_runs"))
  _one_error_line(calibrate[0], "--split=test")
  _one_error_line(calibrate[1], "--num_images")
  _one_error_line(calibrate[2], "--hole_ratio")
  assert not any(os.path.exists(root / f"d{i}.json") for i in (1, 2, 3))
  benchmark = tiny_models.run_binary_cases("binaries.benchmark", [
      ["--suites=serving_backend", f"--output_dir={root}/b1"],
  ], workdir=str(root / "benchmark_runs"))
  _one_error_line(benchmark[0], "--suites: unknown suite 'serving_backend'")
