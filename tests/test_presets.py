"""Every paper preset under configs/: a header that names its row and says how to run it, a
:smoke variant that really is smaller, and a test somewhere under tests/ that runs that variant."""

import importlib
import os
import re

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRESETS = sorted(name[:-3] for name in os.listdir(os.path.join(REPO, "configs"))
                 if name.endswith(".py") and name != "__init__.py" and not name.endswith("_defaults.py"))


def _test_sources() -> dict[str, str]:
  sources = {}
  for root, _, names in os.walk(os.path.join(REPO, "tests")):
    for name in names:
      if name.endswith(".py") and name != "test_presets.py":
        with open(os.path.join(root, name)) as f:
          sources[os.path.join(root, name)] = f.read()
  return sources


def test_there_are_presets_for_every_published_table():
  assert len(PRESETS) >= 20
  text = " ".join(importlib.import_module(f"configs.{name}").__doc__ for name in PRESETS)
  for row in ("Table 1", "Table 2", "Table 3", "Fig. 4", "Fig. 6"):
    assert row in text


@pytest.mark.parametrize("name", PRESETS)
def test_preset_header_names_its_row_and_commands(name):
  doc = importlib.import_module(f"configs.{name}").__doc__
  first_line = doc.strip().splitlines()[0]
  assert re.search(r"Table \d|Fig\. \d|§\d", first_line), first_line
  for field in ("Paper:", "Run", "Smoke:", "Expect", "Differs from the paper:"):
    assert field in doc, f"configs/{name}.py: header has no {field!r}"
  assert f"configs/{name}.py:smoke" in doc or f"configs/{name}.py" in doc


@pytest.mark.parametrize("name", PRESETS)
def test_smoke_variant_is_smaller_and_exercised_by_a_test(name):
  module = importlib.import_module(f"configs.{name}")
  full, smoke = module.get_config(), module.get_config("smoke")
  assert smoke.train.num_steps < full.train.num_steps
  assert smoke.train.batch_size <= full.train.batch_size
  # A test runs the smoke variant: by file (":smoke" on a command line), by module
  # (`<name>.get_config("smoke")`), or by name in a table of presets next to get_config("smoke").
  users = [path for path, text in _test_sources().items()
           if f"configs/{name}.py:smoke" in text or f'{name}.get_config("smoke")' in text
           or (f'"{name}' in text and 'get_config("smoke")' in text)]
  assert users, f"configs/{name}.py:smoke is not run by any test"
