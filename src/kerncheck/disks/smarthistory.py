"""Last-seen SMART media counters per drive, kept between runs so that *growth* can be reported.

The state is kerncheck's own small JSON file on the machine running kerncheck (default
``/var/lib/kerncheck/smart-counters.json``; ``KERNCHECK_STATE_DIR`` or an explicit path overrides it),
keyed by the drive's identity (WWN, else model + serial) so a disk keeps its history when its kernel name
changes or when it is audited from a snapshot. Each entry holds the counters of the newest observation
(by smartctl's own ``local_time``) and is replaced only by a newer or equally new one. Writes are atomic
(temporary file + rename) and a failure to write is reported, never fatal.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Optional

from kerncheck.atomicfile import atomic_write

DEFAULT_DIR = "/var/lib/kerncheck"
FILE_NAME = "smart-counters.json"
SCHEMA = "kerncheck.smart-counters/1"


def default_path() -> str:
    return os.path.join(os.environ.get("KERNCHECK_STATE_DIR") or DEFAULT_DIR, FILE_NAME)


@dataclass(frozen=True)
class Observation:
    counters: dict[str, int]
    observed_at: Optional[int]  # seconds since the epoch, as smartctl reported its run
    device: str = ""


@dataclass
class SmartHistory:
    path: str
    entries: dict[str, Observation] = field(default_factory=dict)
    load_error: Optional[str] = None
    save_error: Optional[str] = None
    dirty: bool = False

    @classmethod
    def load(cls, path: Optional[str] = None) -> SmartHistory:
        """Read the state file; a missing file is an empty history, a broken one is reported and replaced."""
        history = cls(path or default_path())
        try:
            with open(history.path) as fh:
                data = json.load(fh)
        except FileNotFoundError:
            return history
        except (OSError, ValueError) as exc:
            history.load_error = f"{history.path}: {getattr(exc, 'strerror', None) or exc}"
            return history
        drives = data.get("drives") if isinstance(data, dict) else None
        if not isinstance(drives, dict):
            history.load_error = f"{history.path}: not a {SCHEMA} file"
            return history
        for key, entry in drives.items():
            if not isinstance(entry, dict) or not isinstance(entry.get("counters"), dict):
                continue
            counters = {k: v for k, v in entry["counters"].items() if isinstance(v, int)}
            seen = entry.get("observed_at")
            history.entries[key] = Observation(counters, seen if isinstance(seen, int) else None,
                                               str(entry.get("device", "")))
        return history

    def previous(self, identity: str, observed_at: Optional[int]) -> Optional[Observation]:
        """The stored observation to compare with, if it is not newer than this one."""
        prev = self.entries.get(identity)
        if prev is None:
            return None
        if prev.observed_at is not None and observed_at is not None and prev.observed_at > observed_at:
            return None  # an older snapshot audited after a newer one: no meaningful growth
        return prev

    def record(self, identity: str, counters: dict[str, int], observed_at: Optional[int], device: str) -> None:
        prev = self.entries.get(identity)
        if prev and prev.observed_at is not None and observed_at is not None and prev.observed_at > observed_at:
            return
        new = Observation(dict(counters), observed_at, device)
        if prev != new:
            self.entries[identity] = new
            self.dirty = True

    def save(self) -> bool:
        """Write the file atomically if anything changed; on failure keep the reason in ``save_error``."""
        if not self.dirty:
            return True
        data: dict[str, Any] = {"schema": SCHEMA, "drives": {
            key: {"counters": obs.counters, "observed_at": obs.observed_at, "device": obs.device}
            for key, obs in sorted(self.entries.items())}}
        try:
            os.makedirs(os.path.dirname(os.path.abspath(self.path)), mode=0o755, exist_ok=True)
            atomic_write(self.path, json.dumps(data, indent=1, sort_keys=True).encode())
        except OSError as exc:
            self.save_error = f"cannot write {self.path}: {exc.strerror or exc}"
            return False
        self.dirty = False
        return True
