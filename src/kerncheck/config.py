"""The configuration file (``/etc/kerncheck/kerncheck.toml`` by default, ``--config`` to override).

Each feature reads its own table (``[crash_test]``, ``[watch]``, ``[disks]`` …) and validates it; this module
only finds, reads and parses the file. A file that was asked for but cannot be read or parsed is an
error (the guards refuse on it); an absent default file is an empty configuration.
"""

from __future__ import annotations

import sys
from typing import Any, Optional

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python < 3.11
    import tomli as tomllib

DEFAULT_PATH = "/etc/kerncheck/kerncheck.toml"


class ConfigError(Exception):
    """The configuration file is unreadable or invalid; the message says where and why."""


def load_config(path: Optional[str] = None) -> dict[str, Any]:
    """Parse the configuration; ``path=None`` reads the default file if it exists."""
    target = path or DEFAULT_PATH
    try:
        with open(target, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        if path is None:
            return {}
        raise ConfigError(f"{target}: no such file") from None
    except PermissionError:
        raise ConfigError(f"{target}: permission denied") from None
    except OSError as exc:
        raise ConfigError(f"{target}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{target}: invalid TOML: {exc}") from None


def parse_config(text: str, where: str = DEFAULT_PATH) -> dict[str, Any]:
    """Parse configuration text (e.g. read through a Host from a snapshot)."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: invalid TOML: {exc}") from None


def section(config: dict[str, Any], name: str) -> dict[str, Any]:
    """A table of the configuration (empty when absent); a non-table value is an error."""
    value = config.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"[{name}] must be a table, not {type(value).__name__}")
    return value
