"""Where a number comes from: the command, git revision, machine and wall time of the run that
wrote a results JSON. Every binary that writes a number for RESULTS.md records this beside it."""

from __future__ import annotations

import datetime
import os
import platform
import shlex
import subprocess
import sys
import time

import tensorflow as tf

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def command_line(argv: list[str] | None = None) -> str:
  """The command as a user would type it: `python -m binaries.<name> <args>` for a binary."""
  argv = list(sys.argv if argv is None else argv)
  program = argv[0] if argv else ""
  name = os.path.splitext(os.path.basename(program))[0]
  head = (["python", "-m", f"binaries.{name}"] if os.path.basename(os.path.dirname(program)) == "binaries"
          else ["python", program])
  return " ".join(shlex.quote(part) for part in head + argv[1:])


def git_revision(repo: str = REPO) -> dict:
  """{"revision": HEAD's hash, "dirty": uncommitted changes to tracked files} ("unknown" outside git)."""
  def git(*args):
    return subprocess.run(["git", "-C", repo, *args], capture_output=True, text=True, timeout=20)
  try:
    head = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
  except (OSError, subprocess.TimeoutExpired):
    return {"revision": "unknown", "dirty": None}
  if head.returncode != 0:
    return {"revision": "unknown", "dirty": None}
  return {"revision": head.stdout.strip(), "dirty": bool(status.stdout.strip())}


def machine() -> dict:
  return {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
          "cpu_count": os.cpu_count(), "python": platform.python_version(), "tensorflow": tf.__version__,
          "gpus": len(tf.config.list_physical_devices("GPU"))}


def provenance(*, started: float, argv: list[str] | None = None) -> dict:
  """The record for a results JSON; `started` is the run's time.time() at start."""
  git = git_revision()
  return {"command": command_line(argv), "git_revision": git["revision"], "git_dirty": git["dirty"],
          "machine": machine(), "wall_time_s": round(time.time() - started, 1),
          "finished_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
