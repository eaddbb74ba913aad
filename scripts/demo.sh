#!/usr/bin/env bash
# The main job on a fresh machine: installs what it needs, then inpaints the bundled sample
# images with the bundled Fashion-MNIST model (one pass, Eq. 8). Extra args go to binaries/inpaint.py.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh
exec "${PYTHON:-python3}" -m binaries.inpaint --output_dir=runs/demo "$@"
