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
  """{"revision": HEAD's hash, "dirty": uncommitted changes to tracked code files} ("unknown"
  outside git)."""
  def git(*args):
    return subprocess.run(["git", "-C", repo, *args], capture_output=True, text=True, timeout=20)
  try:
    head = git("rev-parse", "HEAD")
    # Code only: results/ and RESULTS.md are what runs write, so a run that follows another one
    # is not "dirty" because its predecessor rewrote a results file.
    status = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)results",
                 ":(exclude)RESULTS.md")
  except (OSError, subprocess.TimeoutExpired):
    return {"revision": "unknown", "dirty": None}
  if head.returncode != 0:
    return {"revision": "unknown", "dirty": None}
  return {"revision": head.stdout.strip(), "dirty": bool(status.stdout.strip())}


def machine() -> dict:
  return {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
          "cpu_count": os.cpu_count(), "python": platform.python_version(), "tensorflow": tf.__version__,
          "gpus": len(tf.config.list_physical_devices("GPU"))}


class Run:
  """One run's provenance: the command and the git revision are taken when the run starts (the
  code that ran), the wall time and finishing time when `record()` is called (at writing)."""

  def __init__(self, argv: list[str] | None = None):
    self.started = time.time()
    self.command = command_line(argv)
    self.git = git_revision()

  def record(self) -> dict:
    return {"command": self.command, "git_revision": self.git["revision"], "git_dirty": self.git["dirty"],
            "machine": machine(), "wall_time_s": round(time.time() - self.started, 1),
            "finished_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}


def start(argv: list[str] | None = None) -> Run:
  """Call when the run starts; `.record()` when its results are written."""
  return Run(argv)
