"""The watcher's durable state: where it is in its source, what it already emitted, what is still open.

One JSON file, ``state.json`` in the state directory, replaced atomically (write a temporary file, fsync,
rename, fsync the directory), so a crash leaves either the previous or the next state, never half of one.
The state is saved together with the event queue (:mod:`.outbox`) after every batch that produced events
and at least once a second otherwise; a restart resumes from it. Saves that carry events are made visible
at once (they survive the process being killed) and are fsynced by the next save at most a second later
(group commit: an fsync costs milliseconds on the alert path; a power loss can cost the last second).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Optional

from kerncheck.atomicfile import atomic_write

SCHEMA = "kerncheck.watch-state/1"
STATE_FILE = "state.json"


class StateError(Exception):
    """The state directory or file cannot be used; the message says which and why."""


@dataclass
class WatchState:
    """Everything a restart needs. ``position`` is source specific (see :mod:`.follow`).

    ``emitted`` holds the keys of incidents emitted from records after ``position``: those records are
    read again after a restart (an incident in progress must be rebuilt whole), and the keys stop the
    incidents they produce from being emitted twice.
    """

    source: str = ""
    position: dict[str, Any] = field(default_factory=dict)
    emitted: list[str] = field(default_factory=list)
    tracker: dict[str, Any] = field(default_factory=dict)  # as loaded; saved from ``tracker_text``
    tracker_text: str = "{}"
    counters: dict[str, Any] = field(default_factory=dict)
    events: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "source": self.source, "position": self.position, "emitted": self.emitted,
                "tracker": self.tracker, "counters": self.counters, "events": self.events}


def prepare_dir(path: str) -> None:
    """Create the state directory (mode 0700) or explain why it cannot be used."""
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
    except OSError as exc:
        raise StateError(f"state directory {path}: {exc.strerror or exc}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise StateError(f"state directory {path}: not writable")


def load(directory: str) -> Optional[WatchState]:
    """The saved state, ``None`` when there is none; a corrupt file is an error, never silently reset."""
    path = os.path.join(directory, STATE_FILE)
    try:
        with open(path, "rb") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise StateError(f"{path}: unreadable state ({exc}); move it away to start afresh") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise StateError(f"{path}: not a {SCHEMA} file; move it away to start afresh")
    return WatchState(
        source=str(data.get("source", "")),
        position=dict(data.get("position") or {}),
        emitted=list(data.get("emitted") or []),
        tracker=dict(data.get("tracker") or {}),
        counters=dict(data.get("counters") or {}),
        events=dict(data.get("events") or {}),
    )


def save(directory: str, state: WatchState, durable: bool = True) -> None:
    """Write the state; the tracker part is ``state.tracker_text``, JSON already serialised."""
    fields = state.to_json()
    del fields["tracker"]
    text = json.dumps(fields, separators=(",", ":"))[:-1] + ',"tracker":' + state.tracker_text + "}"
    atomic_write(os.path.join(directory, STATE_FILE), text.encode(), durable=durable)
