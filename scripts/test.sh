#!/usr/bin/env bash
# The test suite, after installing what it needs. Usage: bash scripts/test.sh [pytest args]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh
bash scripts/setup_browser.sh  # headless Chromium for the demo page's browser test (~20 s once)
# Two pytest-xdist workers, one test file each at a time (module fixtures run once): about 4 min on
# 2 cores instead of 6.5 serially. PGI_TF_TEST_WORKERS=0 runs in one process.
exec "${PYTHON:-python3}" -m pytest -q -p no:cacheprovider -p no:benchmark -n "${PGI_TF_TEST_WORKERS:-2}" --dist loadfile tests "$@"
