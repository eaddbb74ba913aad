"""Writing files and showing progress: the one copy of each, used by every stage.

Atomic writes: a file or directory is written under a temporary name beside its target and
renamed over it in one step, so a crash leaves either the old content or the new, never half
of it. `tempfile.mkstemp` / `mkdtemp` create 0600 files and 0700 directories whatever the
umask; the results here get the permissions an ordinary `open()` / `os.makedirs()` would give
(0644 / 0755 under umask 022), because outputs are meant to be read by other users and tools.
Temporary names start with ".tmp-" (hidden, skipped by folder scans).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
from typing import Any, Callable, Iterator

import tqdm

TEMP_PREFIX = ".tmp-"


def _umask() -> int:
  # os.umask can only be read by setting it; set it straight back (not thread-safe, but the
  # window is two system calls and every writer here sets the same value back).
  mask = os.umask(0o022)
  os.umask(mask)
  return mask


def _give_ordinary_permissions(path: str, *, directory: bool) -> None:
  """What open() / os.makedirs() would have given: 0666 / 0777 less the umask. Only the
  temporary file or the top of a temporary directory needs it: what a writer creates inside
  that directory already gets the umask's permissions."""
  os.chmod(path, (0o777 if directory else 0o666) & ~_umask())


@contextlib.contextmanager
def atomic_path(path: str, *, suffix: str = "") -> Iterator[str]:
  """Yields a temporary file path beside `path`; on success it replaces `path` (atomically).

  For writers that want a file name (PIL's save, np.save, ...). The suffix keeps writers that
  choose the format from the name happy (e.g. ".png"). On an exception the temporary file is
  removed and `path` is left as it was.
  """
  directory = os.path.dirname(os.path.abspath(path))
  os.makedirs(directory, exist_ok=True)
  fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX + os.path.basename(path) + ".", suffix=suffix, dir=directory)
  os.close(fd)
  try:
    yield tmp
    _give_ordinary_permissions(tmp, directory=False)
    os.replace(tmp, path)
  finally:
    if os.path.exists(tmp):
      os.remove(tmp)


def write_text(path: str, text: str) -> None:
  """Writes `text` to `path` atomically."""
  with atomic_path(path) as tmp:
    with open(tmp, "w") as f:
      f.write(text)


def write_json(path: str, value: Any, *, indent: int = 2, sort_keys: bool = False) -> None:
  """Writes `value` as JSON to `path` atomically."""
  write_text(path, json.dumps(value, indent=indent, sort_keys=sort_keys))


def write_directory(path: str, write_fn: Callable[[str], None]) -> None:
  """Calls write_fn(tmp_dir), then moves tmp_dir to `path` in one rename.

  A crash leaves either the old directory or the new one, never a half-written one (a stale
  `.tmp-*` sibling may remain; loaders ignore it). An existing `path` is replaced.
  """
  path = os.path.abspath(path)
  parent = os.path.dirname(path)
  os.makedirs(parent, exist_ok=True)
  tmp_dir = tempfile.mkdtemp(prefix=TEMP_PREFIX + os.path.basename(path) + ".", dir=parent)
  try:
    write_fn(tmp_dir)
    _give_ordinary_permissions(tmp_dir, directory=True)
    if os.path.exists(path):
      old = tempfile.mkdtemp(prefix=TEMP_PREFIX + os.path.basename(path) + ".old.", dir=parent)
      os.rename(path, os.path.join(old, "previous"))
      os.rename(tmp_dir, path)
      shutil.rmtree(old, ignore_errors=True)
    else:
      os.rename(tmp_dir, path)
  finally:
    if os.path.exists(tmp_dir):
      shutil.rmtree(tmp_dir, ignore_errors=True)


def progress_bar(*, total: int, initial: int, description: str, unit: str = "step") -> tqdm.tqdm:
  """A progress bar on stderr; quiet (mininterval 30 s) when stderr is not a terminal."""
  interactive = sys.stderr.isatty()
  return tqdm.tqdm(total=total, initial=initial, desc=description, unit=unit,
                   dynamic_ncols=True, mininterval=0.5 if interactive else 30.0, file=sys.stderr)
