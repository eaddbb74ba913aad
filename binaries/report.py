r"""Renders RESULTS.md from the results JSONs (pgi_tf/evaluation/report.py): no number by hand.

  python -m binaries.report                # rewrites RESULTS.md
  python -m binaries.report --check        # exit 1 if RESULTS.md differs from what the JSONs give
"""

from binaries import _main  # noqa: F401

import os
import sys

from absl import flags

from pgi_tf import files
from pgi_tf.evaluation import report

_CHECK = flags.DEFINE_boolean("check", False, "Compare instead of writing; exit 1 when RESULTS.md is stale.")
_REPO = flags.DEFINE_string("repo", os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                            "Repository root (results/ and RESULTS.md).")


def main(argv):
  del argv
  text, used = report.render(_REPO.value)
  path = os.path.join(_REPO.value, report.RESULTS_FILE)
  if _CHECK.value:
    current = open(path).read() if os.path.isfile(path) else ""
    if current != text:
      sys.stderr.write(f"error: {path}: stale; run python -m binaries.report\n")
      sys.exit(1)
    print(f"{path}: up to date ({len(used)} JSON files)")
    return
  files.write_text(path, text)
  print(f"wrote {path} from {len(used)} JSON files")


if __name__ == "__main__":
  _main.run(main)
