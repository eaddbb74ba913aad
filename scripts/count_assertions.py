"""Counts the assertions in a test tree (assert statements, pytest.raises / pytest.warns blocks and
assert* calls such as np.testing.assert_allclose or self.assertEqual), per file and in total.
Usage: python scripts/count_assertions.py [tests_dir]"""

import ast
import os
import sys


def count(path: str) -> int:
  tree = ast.parse(open(path).read())
  total = 0
  for node in ast.walk(tree):
    if isinstance(node, ast.Assert):
      total += 1
    elif isinstance(node, ast.Call):
      func = node.func
      name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
      if name.startswith("assert") or name in ("raises", "warns"):
        total += 1
  return total


def main(root: str) -> None:
  grand = 0
  for folder, _, files in sorted(os.walk(root)):
    for name in sorted(files):
      if name.endswith(".py"):
        n = count(os.path.join(folder, name))
        grand += n
        print(f"{n:5d}  {os.path.relpath(os.path.join(folder, name), root)}")
  print(f"{grand:5d}  total")


if __name__ == "__main__":
  main(sys.argv[1] if len(sys.argv) > 1 else "tests")
