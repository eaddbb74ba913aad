#!/usr/bin/env bash
# The main job on a fresh machine: installs what it needs, then runs it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh
exec "${PYTHON:-python3}" -m binaries.train_gan --config=configs/fashion_mnist32.py:smoke --workdir=runs/demo "$@"
