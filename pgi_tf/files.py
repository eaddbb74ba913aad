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
import math
import os
import shutil
import sys
import tempfile
from typing import Any, Callable, Iterator

import tqdm

from pgi_tf.errors import InputError

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


# --------------------------------------------------------------------------- output locations

def _real(path: str) -> str:
  return os.path.realpath(os.path.abspath(path))


def _inside(path: str, folder: str) -> bool:
  """Whether `path` is `folder` or below it (real paths: symlinks resolved)."""
  path, folder = _real(path), _real(folder)
  return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def check_output_dir(path: str, *, flag: str, inputs: dict[str, str] | None = None) -> str:
  """Checks an output folder before any work starts; returns it. Nothing is created.

  One-line InputError when `path` is empty, is a file, cannot be created or written, or is one of
  the `inputs` folders ({flag: path}) or inside one: outputs there would overwrite the inputs or be
  read back as inputs on the next run. Writability is tested by creating and deleting a
  temporary file in the folder, or in its nearest existing parent when it does not exist yet
  (os.access says yes to root for read-only mounts)."""
  if not path or not path.strip():
    raise InputError(f"{flag}=: empty; give a folder")
  for input_flag, input_path in (inputs or {}).items():
    if input_path and os.path.isdir(input_path) and _inside(path, input_path):
      raise InputError(f"{flag}={path}: is {'' if _real(path) == _real(input_path) else 'inside '}"
                       f"{input_flag}={input_path}; outputs would overwrite or mix with the inputs, "
                       "choose another folder")
  existing = os.path.abspath(path)
  while not os.path.exists(existing) and os.path.dirname(existing) != existing:
    existing = os.path.dirname(existing)
  if not os.path.isdir(existing):
    what = "is a file, not a folder" if existing == os.path.abspath(path) else f"cannot be made: {existing} is a file"
    raise InputError(f"{flag}={path}: {what}")
  try:
    fd, probe = tempfile.mkstemp(prefix=TEMP_PREFIX + "probe.", dir=existing)
    os.close(fd)
    os.remove(probe)
  except OSError as e:
    raise InputError(f"{flag}={path}: cannot write there ({e.strerror or type(e).__name__})") from None
  return path


def check_replaceable_directory(path: str, *, flag: str, marker: str, overwrite: bool = False) -> None:
  """An export location may be replaced only when it is absent, an empty folder or a folder this
  program wrote (it holds `marker`); anything else is the user's and is refused (--overwrite to
  replace it anyway; never a file)."""
  if not path:
    raise InputError(f"{flag}=: empty; give a folder")
  if not os.path.lexists(path):
    return
  if not os.path.isdir(path) or os.path.islink(path):
    raise InputError(f"{flag}={path}: exists and is not a folder; choose another path")
  entries = [e for e in os.listdir(path) if not e.startswith(TEMP_PREFIX)]
  if entries and marker not in entries and not overwrite:
    raise InputError(f"{flag}={path}: holds files this program did not write ({entries[0]}, ...); choose "
                     "another folder, or pass --overwrite to replace it")


def remove_temporaries(folder: str, *, recursive: bool = False) -> int:
  """Deletes the `.tmp-*` files and folders a killed writer of this module left in `folder` (and
  below it when recursive); returns how many. Called when the same command starts again."""
  removed = 0
  if not os.path.isdir(folder):
    return 0
  for root, dirs, names in os.walk(folder):
    for name in [n for n in names + dirs if n.startswith(TEMP_PREFIX)]:
      target = os.path.join(root, name)
      if os.path.isdir(target) and not os.path.islink(target):
        shutil.rmtree(target, ignore_errors=True)
      else:
        with contextlib.suppress(OSError):
          os.remove(target)
      removed += 1
    dirs[:] = [d for d in dirs if not d.startswith(TEMP_PREFIX)] if recursive else []
  return removed


# --------------------------------------------------------------------------- atomic writes

def write_text(path: str, text: str) -> None:
  """Writes `text` to `path` atomically."""
  with atomic_path(path) as tmp:
    with open(tmp, "w") as f:
      f.write(text)


def finite_json(value: Any) -> Any:
  """`value` with every NaN / Inf float replaced by None: strict JSON parsers reject NaN."""
  if isinstance(value, float):
    return value if math.isfinite(value) else None
  if isinstance(value, dict):
    return {k: finite_json(v) for k, v in value.items()}
  if isinstance(value, (list, tuple)):
    return [finite_json(v) for v in value]
  return value


def write_json(path: str, value: Any, *, indent: int = 2, sort_keys: bool = False) -> None:
  """Writes `value` as strict JSON to `path` atomically (NaN / Inf become null)."""
  write_text(path, json.dumps(finite_json(value), indent=indent, sort_keys=sort_keys, allow_nan=False))


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


def cache_dir(*parts: str) -> str:
  """$PGI_TF_CACHE (default ~/.cache/pgi_tf) joined with parts: where derived files made once and
  reused live (offline stand-ins, TFLite exports). Not created here."""
  root = os.environ.get("PGI_TF_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "pgi_tf")
  return os.path.join(root, *parts)


def warn(message: str) -> None:
  """`warning: <message>` on stderr, on its own line even while a progress bar is drawn."""
  tqdm.tqdm.write(f"warning: {message}", file=sys.stderr)


def progress_bar(*, total: int, initial: int, description: str, unit: str = "step") -> tqdm.tqdm:
  """A progress bar on stderr; quiet (mininterval 30 s) when stderr is not a terminal."""
  interactive = sys.stderr.isatty()
  return tqdm.tqdm(total=total, initial=initial, desc=description, unit=unit,
                   dynamic_ncols=True, mininterval=0.5 if interactive else 30.0, file=sys.stderr)
