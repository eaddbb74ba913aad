"""Runs an absl main so that bad input is one line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

import json
import os
import re
import sys
import traceback

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # binaries speak through absl logging


def _import_tensorflow_quietly() -> None:
  """TensorFlow's C++ start-up lines (oneDNN notice, CUDA stub probing on machines without a GPU)
  are written to file descriptor 2 before TF_CPP_MIN_LOG_LEVEL applies; they would turn every
  one-line error into several. Import TensorFlow and look for devices with fd 2 pointed at
  /dev/null, then restore it (Python errors raised here still reach the caller)."""
  saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
  os.dup2(devnull, 2)
  try:
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    tf.config.list_physical_devices()
  finally:
    os.dup2(saved, 2)
    os.close(saved)
    os.close(devnull)


if os.environ.get("PGI_TF_VERBOSE_STARTUP") != "1":
  _import_tensorflow_quietly()

from absl import app  # noqa: E402
from absl import flags  # noqa: E402

from pgi_tf import bundled  # noqa: E402
from pgi_tf import config_checks  # noqa: E402
from pgi_tf import files  # noqa: E402
from pgi_tf import hub  # noqa: E402
from pgi_tf.errors import InputError  # noqa: E402

EXIT_BAD_INPUT = 2

_OVERWRITE = flags.DEFINE_boolean(
    "overwrite", False, "Write into a non-empty --output_dir / --export_dir that holds files this program did "
    "not write (they may be replaced). Outputs never go into an input or mask folder, with or without it.")
_DETERMINISTIC = flags.DEFINE_boolean(
    "deterministic", False, "Turn on TensorFlow op determinism (tf.config.experimental.enable_op_determinism): "
    "with config.seed, the same command gives bit-identical results, also after a kill and resume; slower.")


def _fail(message: str) -> None:
  import tqdm  # pylint: disable=import-outside-toplevel
  if any(True for _ in getattr(tqdm.tqdm, "_instances", ())):
    sys.stderr.write("\n")  # a progress bar holds the current line: the error gets its own
  sys.stderr.write(f"error: {message}\n")
  sys.stderr.flush()
  sys.exit(EXIT_BAD_INPUT)


_LOCKED_KEY = re.compile(r'Key "([^"]+)" does not exist and cannot be added since the config is locked')
_DID_YOU_MEAN = re.compile(r'Did you mean "([^"]+)"(?: instead of "([^"]+)")?')
_USER_FRAME = re.compile(r'File "([^"]+)", line (\d+)')


def _user_frame(traceback_text: str) -> str:
  """" (file:line)" of the innermost traceback frame in the user's own code (not a library's, not
  this file), or ""."""
  frames = [m for m in _USER_FRAME.finditer(traceback_text) if "site-packages" not in m.group(1)
            and os.path.abspath(m.group(1)) != os.path.abspath(__file__)]
  return f" ({frames[-1].group(1)}:{frames[-1].group(2)})" if frames else ""


def _config_file_error(text: str) -> str:
  """The one line worth reading in ml_collections' "Error whilst parsing config file:" + traceback:
  the exception's last line and the frame of the user's own file."""
  lines = [line.strip() for line in text.splitlines() if line.strip()]
  return f"{lines[-1] if lines else text}{_user_frame(text)}"


def _bundled_argv(argv: list[str]) -> list[str]:
  """argv with relative `configs/...` and `hub_modules/...` paths that do not exist from the current
  directory pointed at the installed copies (pgi_tf.bundled), so `--config=configs/x.py:smoke` works
  from any folder after `pip install .`. A config file must be found before absl parses it."""
  resolved = []
  for token in argv:
    name, sep, value = token.partition("=")
    resolved.append(f"{name}{sep}{bundled.resolve(value)}" if token.startswith("--") and sep
                    else bundled.resolve(token))
  return resolved


def _resolve_bundled_flags() -> None:
  """Flag defaults and config values that name bundled files (`hub_modules/...`), resolved after
  parsing for the same reason as _bundled_argv."""
  for name in list(flags.FLAGS):
    holder = flags.FLAGS[name]
    if isinstance(holder.value, str):
      resolved = bundled.resolve(holder.value)
      if resolved != holder.value:
        holder.value = resolved
    elif hasattr(holder.value, "items") and hasattr(holder.value, "lock"):  # an ml_collections ConfigDict
      bundled.resolve_tree(holder.value)


def _parse_flags(argv: list[str]) -> list[str]:
  try:
    return flags.FLAGS(argv[:1] + _bundled_argv(argv[1:]))
  except flags.Error as e:
    text = str(e)
    first = text.splitlines()[0]
    if "Traceback" in text or first.rstrip().endswith(":"):
      first = f"{first.split(':', 1)[0]}: {_config_file_error(text)}"
    _fail(first)
  except InputError as e:
    _fail(str(e))
  except AttributeError as e:
    locked, hint = _LOCKED_KEY.search(str(e)), _DID_YOU_MEAN.search(str(e))
    key = locked.group(1) if locked else (hint.group(2) if hint else None)
    if key:  # a config file or --config.x.y=... names a key the preset does not have (configs lock them)
      _fail(f"--config: unknown key {key!r}" + (f" (did you mean {hint.group(1)!r}?)" if hint else "")
            + "; presets list every key their trainer reads")
    _fail(f"bad flag value: AttributeError: {_one_line(e)}")
  except SyntaxError as e:  # a --config file that does not parse
    _fail(f"--config: {e.filename}:{e.lineno}: {e.msg}")
  except Exception as e:  # noqa: BLE001 -- parsing runs only the user's flags and config files
    _fail(f"bad flag value: {type(e).__name__}: {_one_line(e)}{_user_frame(traceback.format_exc())}")
  return argv


def _one_line(text: str) -> str:
  lines = [line.strip() for line in str(text).splitlines() if line.strip()]
  return lines[0] if lines else ""


def _enable_determinism() -> None:
  if _DETERMINISTIC.value:
    import tensorflow as tf  # pylint: disable=import-outside-toplevel  (after TF_CPP_MIN_LOG_LEVEL is set)
    tf.config.experimental.enable_op_determinism()


def _check_config_flags() -> None:
  """Every --config value in range (pgi_tf.config_checks), before any work starts."""
  for name in list(flags.FLAGS):
    value = flags.FLAGS[name].value
    if hasattr(value, "items") and hasattr(value, "lock"):  # an ml_collections ConfigDict
      config_checks.check_config(value, flag=f"--{name}")


# Flags that name what a binary reads: no output may go into (or be) one of these folders.
INPUT_FLAGS = ("input", "masks", "data_dir", "model_dir", "generator", "discriminator", "prior_predictor",
               "keypoint_refiner", "class_predictor", "sequence_prior", "regression_inpainter", "landmark_refiner")
# Files this project writes into an --output_dir: a folder holding one of them is ours to write again.
RESULT_FILES = ("results.json", "benchmark.json")


def _flag_value(name: str):
  return flags.FLAGS[name].value if name in flags.FLAGS else None


def _check_output_flags() -> None:
  """Every output location valid before any work: --output_dir / --workdir a writable folder (or
  one that can be made) outside every input folder; a non-empty --output_dir of someone else's refused
  without --overwrite; --export_dir / --output (a module folder) replaceable only when it is ours."""
  values = {name: _flag_value(name) for name in INPUT_FLAGS}
  inputs = {f"--{name}": value for name, value in values.items() if isinstance(value, str) and value}
  for name in ("output_dir", "workdir"):
    if name not in flags.FLAGS:
      continue
    holder = flags.FLAGS[name]
    if holder.value is None or (holder.value == "" and holder.default == ""):
      continue  # optional and unset ("" = the binary's documented fallback)
    path = files.check_output_dir(holder.value, flag=f"--{name}", inputs=inputs)
    if name == "output_dir" and not _OVERWRITE.value and os.path.isdir(path):
      entries = [e for e in os.listdir(path) if not e.startswith(files.TEMP_PREFIX)]
      if entries and not any(marker in entries for marker in RESULT_FILES):
        raise InputError(f"--output_dir={path}: holds files this program did not write ({sorted(entries)[0]}, ...); "
                         "choose another folder, or pass --overwrite to write there anyway")
  for name in ("export_dir", "output"):
    value = _flag_value(name)
    if isinstance(value, str) and value:
      files.check_replaceable_directory(value, flag=f"--{name}", marker=hub.METADATA_FILENAME, overwrite=_OVERWRITE.value)


def guarded_call(main, argv) -> None:
  """main(argv) with the library's error types turned into `error: <message>` and exit 2.

  The one place binaries catch errors: InputError (bad flags, files, config values), OSError
  with a file name (a path that cannot be read or written), FloatingPointError (training or
  inference met non-finite numbers: the input or a loaded network holds NaN / Inf)."""
  try:
    _enable_determinism()
    _resolve_bundled_flags()
    _check_config_flags()
    _check_output_flags()
    return main(argv)
  except InputError as e:
    _fail(str(e))
  except FloatingPointError as e:
    _fail(f"non-finite numbers: {_one_line(e)} (a NaN / Inf in the data, a loaded network or the "
          "learning rate; lower the learning rate or check the inputs)")
  except OSError as e:
    # ml_collections reports a --config file that failed to load lazily, on first use.
    if "Failed loading config file" in str(e):
      details = [line.strip() for line in str(e).splitlines() if line.strip()][2:4]
      _fail("--config: cannot load the config file: " + " ".join(details))
    if e.filename is None:
      raise
    _fail(f"{e.filename}: {e.strerror or _one_line(e)}")
  except KeyboardInterrupt:
    sys.stderr.write("interrupted: the last checkpoint is intact; run the same command to resume\n")
    sys.exit(130)


def run(main) -> None:
  """app.run(main) with bad input -> `error: <message>` and exit 2 (guarded_call)."""
  app.run(lambda argv: guarded_call(main, argv), flags_parser=_parse_flags)


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


def json_line(value, **kwargs) -> str:
  """What a binary prints as its summary: strict JSON (NaN / Inf, e.g. the losses of a finished run
  that had no step left to take, become null)."""
  return json.dumps(files.finite_json(value), allow_nan=False, **kwargs)


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
