#!/usr/bin/env bash
# The test suite, after installing what it needs. Usage: bash scripts/test.sh [pytest args]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh
bash scripts/setup_browser.sh  # headless Chromium for the demo page's browser test (~20 s once)
# Two pytest-xdist workers, one test file each at a time (module fixtures run once): under 6 min on
# 2 cores for 820 tests (a third worker does not help: the suite is CPU-bound). PGI_TF_TEST_WORKERS=0: one process.
exec "${PYTHON:-python3}" -m pytest -q -p no:cacheprovider -p no:benchmark -n "${PGI_TF_TEST_WORKERS:-2}" --dist loadfile tests "$@"
