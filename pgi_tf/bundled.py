"""Where the bundled models, samples and presets live, in a checkout and after `pip install .`.

The installed layout is the repository's: `pgi_tf/`, `binaries/`, `configs/` and `hub_modules/`
sit side by side (in site-packages after an install, pyproject.toml). Flags, presets and the
library name bundled files by their repository path (`hub_modules/fashion_mnist32`,
`configs/fashion_mnist32_prior.py`); `resolve` maps such a path to the copy next to this package
when it does not exist from the current directory, so every command also works from any folder.
A path that exists from the current directory (a checkout, or the user's own `hub_modules/`)
is always taken as given.
"""

from __future__ import annotations

import os

# The parent of pgi_tf/: the repository root in a checkout, site-packages after an install.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUNDLED_FOLDERS = ("hub_modules", "configs")
# Values that wrap a path: "savedmodel:<path>" (feature extractors), "<path>:<variant>" (presets).
_KNOWN_PREFIXES = ("savedmodel:",)


def resolve(path: str) -> str:
  """`path` itself, or the bundled copy of a relative `hub_modules/...` / `configs/...` path that does
  not exist from the current directory. Keeps a "savedmodel:" prefix and a ":variant" suffix."""
  if not isinstance(path, str) or not path:
    return path
  prefix = next((p for p in _KNOWN_PREFIXES if path.startswith(p)), "")
  body = path[len(prefix):]
  relative, sep, variant = body.partition(":")
  parts = os.path.normpath(relative).split(os.sep)
  if os.path.isabs(relative) or parts[0] not in BUNDLED_FOLDERS or os.path.exists(relative):
    return path
  bundled = os.path.join(ROOT, relative)
  if not os.path.exists(bundled):
    return path  # let the caller's own check name the missing path as the user wrote it
  return f"{prefix}{bundled}{sep}{variant}"


def resolve_tree(config) -> None:
  """resolve() on every string value of an ml_collections ConfigDict, in place (nested dicts too)."""
  for key, value in list(config.items()):
    if isinstance(value, str):
      resolved = resolve(value)
      if resolved != value:
        config[key] = resolved
    elif hasattr(value, "items") and hasattr(value, "lock"):
      resolve_tree(value)
