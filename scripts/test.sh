#!/usr/bin/env bash
# The test suite, after installing what it needs. Usage: bash scripts/test.sh [pytest args]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh
exec "${PYTHON:-python3}" -m pytest -q -p no:cacheprovider tests "$@"
