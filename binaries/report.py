r"""Renders RESULTS.md and the bundled models' MODEL_CARD.md from the results JSONs
(pgi_tf/evaluation/report.py, model_cards.py): no number by hand.

  python -m binaries.report                # rewrites RESULTS.md and hub_modules/*/MODEL_CARD.md
  python -m binaries.report --check        # exit 1 if any differs from what the JSONs give
"""

from binaries import _main  # noqa: F401

import os
import sys

from absl import flags

from pgi_tf import files
from pgi_tf.evaluation import model_cards
from pgi_tf.evaluation import report

_CHECK = flags.DEFINE_boolean("check", False, "Compare instead of writing; exit 1 when RESULTS.md is stale.")
_REPO = flags.DEFINE_string("repo", os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                            "Repository root (results/ and RESULTS.md).")


def main(argv):
  del argv
  text, used = report.render(_REPO.value)
  documents = {report.RESULTS_FILE: text, **model_cards.render_all(_REPO.value)}
  if _CHECK.value:
    for relative, expected in documents.items():
      path = os.path.join(_REPO.value, relative)
      current = open(path).read() if os.path.isfile(path) else ""
      if current != expected:
        sys.stderr.write(f"error: {path}: stale; run python -m binaries.report\n")
        sys.exit(1)
    print(f"{os.path.join(_REPO.value, report.RESULTS_FILE)} and {len(documents) - 1} model cards: up to date "
          f"({len(used)} JSON files)")
    return
  for relative, document in documents.items():
    files.write_text(os.path.join(_REPO.value, relative), document)
  print(f"wrote {report.RESULTS_FILE} from {len(used)} JSON files and {len(documents) - 1} model cards")


if __name__ == "__main__":
  _main.run(main)
