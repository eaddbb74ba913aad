"""The package's layering: no import cycle, the library never imports train/, no module over 550
lines (scripts/import_graph.py), and the import graph tool itself catches a cycle."""

import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOL = os.path.join(REPO, "scripts", "import_graph.py")


def _run(root):
  return subprocess.run([sys.executable, TOOL, root, "--limit", "550"], capture_output=True, text=True)


def test_repository_layering_is_clean():
  result = _run(REPO)
  assert result.returncode == 0, result.stdout
  assert "cycles 0 (0 files), library->train 0, over 550 lines 0" in result.stdout


def test_tool_reports_a_cycle_and_a_library_import_of_train(tmp_path):
  package = tmp_path / "pgi_tf"
  (package / "train").mkdir(parents=True)
  (package / "__init__.py").write_text("")
  (package / "train" / "__init__.py").write_text("")
  (package / "train" / "loop.py").write_text("x = 1\n")
  (package / "a.py").write_text("from pgi_tf import b\n")
  (package / "b.py").write_text("from pgi_tf import a\nfrom pgi_tf.train import loop\n")
  result = _run(str(tmp_path))
  assert result.returncode == 1
  assert "cycle: pgi_tf.a <-> pgi_tf.b" in result.stdout
  assert "library module imports pgi_tf.train: pgi_tf.b" in result.stdout
