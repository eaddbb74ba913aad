#!/usr/bin/env bash
# Installs what pgi_tf needs on a fresh machine; fast (a few seconds) when all is present.
# Sourced by scripts/demo.sh and scripts/test.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${PYTHON:-python3}"
# Real offline data: Fashion-MNIST's four IDX files from Debian's dataset-fashion-mnist.
if [ ! -f /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "setup: installing Debian package dataset-fashion-mnist" >&2
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq dataset-fashion-mnist >/dev/null
fi
# Python packages (pinned in requirements.txt). Skip pip when everything already imports.
if ! "$PYTHON" - <<'PY' 2>/dev/null
import importlib.metadata as m, os, sys
from packaging.requirements import Requirement
def requirements(path):  # following "-r other.txt" lines
  for line in open(path):
    line = line.split("#")[0].strip()
    if line.startswith("-r "):
      yield from requirements(os.path.join(os.path.dirname(path), line[3:].strip()))
    elif line:
      yield Requirement(line)
# Missing (raises) or a version outside the requirement's range: install.
sys.exit(any(not r.specifier.contains(m.version(r.name), prereleases=True) for r in requirements("requirements.txt")))
PY
then
  echo "setup: pip install -r requirements.txt" >&2
  "$PYTHON" -m pip install -q --disable-pip-version-check -r requirements.txt 2>&1 | grep -v -E "^WARNING: (Location|Running pip)" >&2 || true
fi
