"""`pip install .` as a user does it: console commands from any folder, the bundled model and presets
found from the installed package, the same PNGs as the repository's `scripts/demo.sh` command.

The venv sees the machine's site-packages (TensorFlow is not downloaded again) and builds without
network (--no-build-isolation: the machine's setuptools); the package is installed from a copy of
the repository so the checkout is not written to.
"""

import json
import os
import shutil
import subprocess
import sys
import tomllib

import numpy as np
import pytest
from PIL import Image

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")


def test_every_binary_has_a_console_command():
  scripts = tomllib.load(open(os.path.join(REPO, "pyproject.toml"), "rb"))["project"]["scripts"]
  binaries = sorted(name[:-3] for name in os.listdir(os.path.join(REPO, "binaries"))
                    if name.endswith(".py") and not name.startswith("_") and name != "console.py")
  assert sorted(scripts) == sorted(f"pgi-{name.replace('_', '-')}" for name in binaries)
  assert all(target == f"binaries.console:{command[4:].replace('-', '_')}" for command, target in scripts.items())


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
  root = tmp_path_factory.mktemp("package")
  source = root / "source"
  shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(".git", "runs", "build", "*.egg-info", "__pycache__",
                                                              ".pytest_cache", "results"))
  venv = root / "venv"
  subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=120)
  python = venv / "bin" / "python"
  # The venv's own setuptools (ensurepip's) would shadow the machine's; the build uses the machine's.
  subprocess.run([str(python), "-m", "pip", "uninstall", "-q", "-y", "setuptools"], capture_output=True, timeout=120)
  install = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                            "--disable-pip-version-check", str(source)], capture_output=True, text=True, timeout=600)
  assert install.returncode == 0, install.stderr[-2000:]
  elsewhere = root / "elsewhere"  # a folder with no checkout in it
  elsewhere.mkdir()
  return {"venv": venv, "cwd": elsewhere, "root": root}


def _pngs(folder):
  return {name: np.asarray(Image.open(os.path.join(folder, name))) for name in sorted(os.listdir(folder))
          if name.endswith(".png") and name != "grid.png"}


def test_installed_library_is_the_package_not_the_checkout(installed):
  where = subprocess.run([str(installed["venv"] / "bin" / "python"), "-c", "import pgi_tf, hub_modules, configs; "
                          "print(pgi_tf.__file__)"], cwd=installed["cwd"], capture_output=True, text=True, timeout=120)
  assert where.returncode == 0, where.stderr[-1000:]
  assert "site-packages" in where.stdout and not where.stdout.startswith(REPO)


def _start(args, cwd):
  return subprocess.Popen(args, cwd=cwd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(process):
  stdout, stderr = process.communicate(timeout=300)
  return process.returncode, stdout, stderr


def test_pgi_inpaint_from_any_folder_equals_the_demo_command(installed):
  out = installed["cwd"] / "out"
  demo = installed["root"] / "demo"  # scripts/demo.sh's command, from the checkout; both run side by side
  ours = _start([str(installed["venv"] / "bin" / "pgi-inpaint"), f"--output_dir={out}"], installed["cwd"])
  reference = _start([sys.executable, "-m", "binaries.inpaint", f"--output_dir={demo}"], REPO)
  for process in (ours, reference):
    code, _, stderr = _finish(process)
    assert code == 0, stderr[-2000:]
  ours, theirs = _pngs(out), _pngs(demo)
  assert len(ours) == 8 and sorted(ours) == sorted(theirs)
  assert all(np.array_equal(ours[name], theirs[name]) for name in ours)
  assert json.load(open(out / "results.json"))["status"] == "complete"


def test_a_preset_by_its_repository_path_from_any_folder(installed):
  workdir = installed["cwd"] / "gan"
  command = str(installed["venv"] / "bin" / "pgi-train-gan")
  good = _start([command, "--config=configs/fashion_mnist32.py:smoke", f"--workdir={workdir}",
                 "--config.train.num_steps=2"], installed["cwd"])
  missing = _start([command, "--config=configs/no_such_preset.py", f"--workdir={workdir}_2"], installed["cwd"])
  code, _, stderr = _finish(good)
  assert code == 0, stderr[-2000:]
  assert os.path.isfile(workdir / "export" / "generator" / "saved_model.pb")
  code, _, stderr = _finish(missing)
  assert code == 2 and stderr.strip().startswith("error: ") and "no_such_preset" in stderr
