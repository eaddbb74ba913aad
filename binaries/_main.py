"""Runs an absl main so that bad input is one line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # binaries speak through absl logging

from absl import app  # noqa: E402
from absl import flags  # noqa: E402

from pgi_tf.errors import InputError  # noqa: E402

EXIT_BAD_INPUT = 2


def _fail(message: str) -> None:
  sys.stderr.write(f"error: {message}\n")
  sys.stderr.flush()
  sys.exit(EXIT_BAD_INPUT)


def _parse_flags(argv: list[str]) -> list[str]:
  try:
    return flags.FLAGS(argv)
  except flags.Error as e:
    _fail(str(e).splitlines()[0])
  except InputError as e:
    _fail(str(e))
  except (OSError, SyntaxError, ImportError, AttributeError, TypeError, ValueError) as e:
    # e.g. a --config file that does not exist or does not parse.
    _fail(f"bad flag value: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
  return argv


def run(main) -> None:
  """app.run(main) with InputError -> `error: <message>` and exit 2."""

  def guarded_main(argv):
    try:
      return main(argv)
    except InputError as e:
      _fail(str(e))
    except OSError as e:
      # ml_collections reports a --config file that failed to load lazily, on first use.
      if "Failed loading config file" not in str(e):
        raise
      details = [line.strip() for line in str(e).splitlines() if line.strip()][2:4]
      _fail("--config: cannot load the config file: " + " ".join(details))
    except KeyboardInterrupt:
      sys.stderr.write("interrupted: the last checkpoint is intact; run the same command to resume\n")
      sys.exit(130)

  app.run(guarded_main, flags_parser=_parse_flags)


def define_gan_flags(names=("generator", "discriminator", "photo_realism")) -> dict:
  """--generator / --discriminator / --photo_realism for trainers whose frozen G and D come from a
  config (config.generator, ...): the same swap the inference binaries offer, without --config. prefixes."""
  definitions = {
      "generator": lambda: flags.DEFINE_string(
          "generator", None, "Overrides config.generator: a registry name (progan-128, biggan-256, ... : "
          "pgi_tf/generators/), a TF-Hub handle, a module directory or standin:NAME[@R]."),
      "discriminator": lambda: flags.DEFINE_string(
          "discriminator", None, "Overrides config.discriminator: a D or critic module directory, or none."),
      "photo_realism": lambda: flags.DEFINE_enum(
          "photo_realism", None, ["auto", "discriminator", "critic", "off"],
          "Overrides config.photo_realism: which D scores Eq. 5 (pgi_tf/generators/photo_realism.py)."),
  }
  return {name: definitions[name]() for name in names}


def apply_gan_flags(config, gan_flags: dict) -> None:
  """Copies the given --generator / --discriminator / --photo_realism into the config."""
  for name, holder in gan_flags.items():
    if holder.value is not None:
      config[name] = holder.value


def number_list(flag: str, values: list[str], cast, *, low: float, high: float) -> list:
  """A list flag of distinct numbers in [low, high] (e.g. --seeds=0,1), or a one-line error."""
  try:
    numbers = [cast(v) for v in values]
  except ValueError:
    kind = "integers" if cast is int else "numbers"
    raise InputError(f"--{flag}={','.join(values)}: expected a comma-separated list of {kind}") from None
  if not numbers or any(not low <= n <= high for n in numbers) or len(set(numbers)) != len(numbers):
    raise InputError(f"--{flag}={','.join(values)}: expected distinct values in [{low}, {high}]")
  return numbers


def refuse_test_split(split: str) -> None:
  """Tools that choose something run on validation data only."""
  if split == "test":
    raise InputError("--split=test: choices are made on the validation split; the test split only reports")
