#!/usr/bin/env bash
# Installs what the demo page's browser test needs (tests/demo/test_demo_browser.py): headless
# Chromium and its WebDriver from Debian (`chromium`, `chromium-driver`; ~20 s, ~130 packages on a
# fresh bookworm; Selenium comes with requirements/test.txt). A fast no-op when both are present.
# Run by scripts/test.sh. Usage: bash scripts/setup_browser.sh
set -euo pipefail

if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "setup_browser: installing Debian packages chromium chromium-driver" >&2
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi
