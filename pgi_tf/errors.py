"""The one error type that binaries turn into a one-line message and exit code 2."""


class InputError(ValueError):
  """Bad user input: a file, flag or config value that cannot be used.

  The message must be one line that names the file or flag and says what is wrong,
  e.g. "--config.data.resolution=48: unsupported resolution, choose one of 32, 64, 128".
  Binaries catch it (see `binaries/_main.py`), print it to stderr and exit with code 2.
  """
