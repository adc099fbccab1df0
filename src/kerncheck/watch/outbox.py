"""The durable event queue between the watcher and its sinks: an outage loses nothing, a restart repeats nothing.

Events are numbered (``n``) and appended to ``events.<generation>.jsonl`` in the state directory. An
event becomes visible to the sinks only once the watcher state that produced it is saved (the state
records the log's committed length), so an event written just before a crash is cut off at the restart
and produced again from the replayed records — never delivered twice. Every sink keeps its own cursor
(``cursor.<sink>``, the last ``n`` it delivered, replaced atomically after each delivery; not fsynced: after
a power loss an older cursor means a repeat, never a loss) and a backlog
bounded by ``queue_max``: beyond it the oldest undelivered events are dropped and counted.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any, Optional

from kerncheck.atomicfile import atomic_write

_LOG = re.compile(r"^events\.(\d+)\.jsonl$")
COMPACT_BYTES = 4 << 20


@dataclass
class Queued:
    n: int
    event: dict[str, Any]
    to: Optional[tuple[str, ...]] = None  # None: every sink; else only sinks of these kinds

    def wanted_by(self, kind: str) -> bool:
        return self.to is None or kind in self.to


class Outbox:
    def __init__(self, directory: str, sinks: dict[str, str], queue_max: int,
                 committed: Optional[dict[str, Any]] = None) -> None:
        """``sinks`` maps each sink's stable name to its kind; ``committed`` is ``WatchState.events``."""
        self.directory = directory
        self.sinks = dict(sinks)
        self.queue_max = queue_max
        self.dropped: dict[str, int] = dict.fromkeys(sinks, 0)
        self._cond = threading.Condition()
        self._events: deque[Queued] = deque()  # committed, not yet delivered by every sink
        self._staged: list[Queued] = []
        committed = committed or {}
        self.generation = int(committed.get("generation", 0))
        self._bytes = int(committed.get("bytes", 0))
        self.next_n = int(committed.get("next", 1))
        self._remove_uncommitted_logs()
        self._fh = open(self._path(self.generation), "a+b")  # noqa: SIM115 - held for the watcher's life
        self._fh.truncate(self._bytes)  # an uncommitted tail is produced again from the replayed records
        self.cursors = {name: self._read_cursor(name) for name in sinks}
        self._load()
        self._pending_old: Optional[int] = None
        self._compacted_bytes = 0  # log size right after the last compaction: compact again at twice that

    def _path(self, generation: int) -> str:
        return os.path.join(self.directory, f"events.{generation}.jsonl")

    def _remove_uncommitted_logs(self) -> None:
        for name in os.listdir(self.directory):
            m = _LOG.match(name)
            if m and int(m.group(1)) != self.generation:
                os.unlink(os.path.join(self.directory, name))

    def _cursor_path(self, sink: str) -> str:
        return os.path.join(self.directory, f"cursor.{sink}")

    def _read_cursor(self, sink: str) -> int:
        try:
            with open(self._cursor_path(sink)) as fh:
                return int(fh.read().strip() or 0)
        except FileNotFoundError:
            # A new sink starts at the present: it is not sent the history of the others.
            atomic_write(self._cursor_path(sink), str(self.next_n - 1).encode())
            return self.next_n - 1
        except ValueError:
            return 0

    def _load(self) -> None:
        oldest = min(self.cursors.values(), default=self.next_n - 1)
        self._fh.seek(0)
        for line in self._fh.read(self._bytes).splitlines():
            item = json.loads(line)
            if item["n"] > oldest:
                to = item.get("to")
                self._events.append(Queued(item["n"], item["event"], tuple(to) if to else None))
        self._fh.seek(0, os.SEEK_END)

    # --- the watcher's side -----------------------------------------------------------------------
    def stage(self, event: dict[str, Any], to: Optional[tuple[str, ...]] = None) -> None:
        """Queue an event; it is written now and released to the sinks by :meth:`release`."""
        item = Queued(self.next_n, event, to)
        self.next_n += 1
        line: dict[str, Any] = {"n": item.n, "event": event}
        if to:
            line["to"] = list(to)
        self._fh.write(json.dumps(line, separators=(",", ":")).encode() + b"\n")
        self._staged.append(item)

    def has_staged(self) -> bool:
        return bool(self._staged)

    def prepare(self, durable: bool = True) -> dict[str, Any]:
        """Write the staged events out (fsynced if ``durable``; compacting the log when due); returns what
        the state records."""
        self._fh.flush()
        if durable:
            os.fsync(self._fh.fileno())
        self._bytes = self._fh.tell()
        if self._bytes > max(COMPACT_BYTES, 2 * self._compacted_bytes):
            self._compact()
        return {"generation": self.generation, "bytes": self._bytes, "next": self.next_n}

    def _compact(self) -> None:
        with self._cond:
            live = list(self._events) + self._staged
        new_gen = self.generation + 1
        with open(self._path(new_gen), "wb") as out:
            for item in live:
                line: dict[str, Any] = {"n": item.n, "event": item.event}
                if item.to:
                    line["to"] = list(item.to)
                out.write(json.dumps(line, separators=(",", ":")).encode() + b"\n")
            out.flush()
            os.fsync(out.fileno())
        self._fh.close()
        self._pending_old = self.generation
        self.generation = new_gen
        self._fh = open(self._path(new_gen), "a+b")  # noqa: SIM115
        self._bytes = self._compacted_bytes = self._fh.tell()

    def release(self) -> None:
        """The state naming the prepared log is saved: hand the staged events to the sinks."""
        if self._pending_old is not None:
            os.unlink(self._path(self._pending_old))
            self._pending_old = None
        if not self._staged:
            return
        with self._cond:
            self._events.extend(self._staged)
            self._staged = []
            for name, kind in self.sinks.items():
                self._bound(name, kind)
            self._trim()
            self._cond.notify_all()

    def _bound(self, sink: str, kind: str) -> None:
        backlog = [q for q in self._events if q.n > self.cursors[sink] and q.wanted_by(kind)]
        excess = len(backlog) - self.queue_max
        if excess > 0:
            self.dropped[sink] += excess
            self._set_cursor(sink, backlog[excess - 1].n)

    def _trim(self) -> None:
        oldest = min(self.cursors.values(), default=self.next_n)
        while self._events and self._events[0].n <= oldest:
            self._events.popleft()

    # --- the sinks' side --------------------------------------------------------------------------
    def backlog(self, sink: str) -> int:
        with self._cond:
            kind = self.sinks[sink]
            return sum(1 for q in self._events if q.n > self.cursors[sink] and q.wanted_by(kind))

    def wait(self, sink: str, limit: int, timeout: Optional[float]) -> list[Queued]:
        """Up to ``limit`` undelivered events for ``sink``, waiting up to ``timeout`` for the first."""
        kind = self.sinks[sink]
        with self._cond:
            def ready() -> list[Queued]:
                cursor = self.cursors[sink]
                out = []
                for q in self._events:
                    if q.n > cursor and q.wanted_by(kind):
                        out.append(q)
                        if len(out) >= limit:
                            break
                return out

            items = ready()
            if not items and timeout != 0:
                self._cond.wait(timeout)
                items = ready()
            return items

    def delivered(self, sink: str, n: int) -> None:
        """``sink`` delivered every event up to ``n``: persist its cursor."""
        with self._cond:
            if n > self.cursors[sink]:
                self._set_cursor(sink, n)
                self._trim()

    def _set_cursor(self, sink: str, n: int) -> None:
        atomic_write(self._cursor_path(sink), str(n).encode(), durable=False)
        self.cursors[sink] = n

    def wake(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def close(self) -> None:
        self._fh.close()
