"""The watch loop: follower → prefilter → incident builder → tracker → durable outbox → sinks.

Exactly-once across restarts rests on three rules. (1) The saved position is a *checkpoint*: the last
entry after which the incident builder held nothing in progress, so a restart replays whole incidents.
(2) Incidents emitted from records after the checkpoint are remembered by key (source, first line,
kind) in the same atomic state write, and not emitted again when the replay produces them. (3) Events
reach the sinks only after the state that produced them is saved (written at once, fsynced within a
second; see :mod:`.outbox` and :mod:`.state`).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections import deque
from datetime import datetime, timezone
from typing import Any, Callable, Optional, Protocol

from kerncheck.logs import patterns
from kerncheck.logs.incidents import IncidentBuilder
from kerncheck.logs.model import Incident
from kerncheck.logs.prefilter import Prefilter
from kerncheck.logs.records import LEVEL_PATTERNS, RecordReader
from kerncheck.watch import state as state_mod
from kerncheck.watch.follow import Block
from kerncheck.watch.metrics import WatchMetrics
from kerncheck.watch.outbox import Outbox
from kerncheck.watch.settings import WatchSettings
from kerncheck.watch.sinks import Sink, SinkWorker
from kerncheck.watch.tracker import Tracker

log = logging.getLogger("kerncheck.watch")

FLUSH_AFTER = 0.25  # an incident in progress is closed after this long without a new record
COMMIT_EVERY = 1.0  # the position is saved at least this often while records flow
TICK_EVERY = 1.0  # conditions are checked for clearing this often
SHUTDOWN_GRACE = 5.0  # on stop, sinks get this long to deliver what is queued (the rest stays on disk)
LEVEL_ERR = 3
PROC_STAT = "/proc/stat"


class Follower(Protocol):
    name: str
    source: str
    source_id: str
    parses_everything: bool
    reader: RecordReader
    boot_wall: Optional[float]

    def read(self, timeout: float) -> list[Block]: ...
    def token(self, block: Block, pos: int, line: int) -> Any: ...
    def position_after(self, token: Any) -> dict[str, Any]: ...
    def take_lost(self) -> int: ...
    def close(self) -> None: ...


class RecentSteal:
    """Hypervisor steal time over the last minute, from successive ``/proc/stat`` samples: the engine
    blames a soft lockup on the hypervisor when steal is high *now*, not averaged since boot.

    >>> r = RecentSteal()
    >>> r.sample("cpu  100 0 100 700 0 0 0 100 0 0", 0.0); r.sample("cpu  150 0 150 800 0 0 0 300 0 0", 30.0)
    >>> r.percent
    50.0
    """

    WINDOW = 60.0

    def __init__(self) -> None:
        self._samples: deque[tuple[float, int, int]] = deque()
        self.percent: Optional[float] = None

    def sample(self, stat: str, now: float) -> None:
        for line in stat.splitlines():
            parts = line.split()
            if parts and parts[0] == "cpu" and len(parts) >= 9:
                values = [int(v) for v in parts[1:9]]
                self._samples.append((now, values[7], sum(values)))
                break
        while len(self._samples) > 2 and now - self._samples[1][0] >= self.WINDOW:
            self._samples.popleft()
        if len(self._samples) >= 2:
            (_, s0, t0), (_, s1, t1) = self._samples[0], self._samples[-1]
            self.percent = round(100.0 * (s1 - s0) / (t1 - t0), 2) if t1 > t0 else None


def lost_records_incident(n: int, source: str, now: float) -> Incident:
    from kerncheck.watch.tracker import iso

    return Incident(
        kind="other", severity="warning", source=source, first_seen=iso(now), last_seen=iso(now),
        title=f"{n} kernel log records lost before kerncheck could read them",
        advice="The kernel ring buffer wrapped (a message flood, or the watcher was stopped too long): the "
               "lost records may have held errors. Raise log_buf_len= on the kernel command line and check "
               "what flooded the log (`kerncheck scan --live`).",
        details={"lost_records": n},
    )


class Watcher:
    def __init__(self, follower_factory: Callable[[Optional[dict[str, Any]]], Follower], source: str,
                 settings: WatchSettings, sinks: list[Sink], metrics: Optional[WatchMetrics] = None,
                 host: Optional[str] = None) -> None:
        self.settings = settings
        self.host = host or socket.gethostname()
        self.metrics = metrics or WatchMetrics(source)
        state_mod.prepare_dir(settings.state_dir)
        saved = state_mod.load(settings.state_dir)
        same_source = saved is not None and saved.source == source
        if saved is not None and not same_source:
            log.warning("state in %s is for source %r, not %r: starting at the present",
                        settings.state_dir, saved.source, source)
        self.state = saved if saved is not None else state_mod.WatchState()
        self.state.source = source
        self.follower = follower_factory(self.state.position if same_source else None)
        self.replayed = set(self.state.emitted) if same_source else set()
        self.emitted: list[str] = list(self.replayed)
        self.tracker = Tracker(settings, self.host)
        self.tracker.restore(self.state.tracker)
        self.metrics.restore(self.state.counters)
        self.metrics.set_conditions(self.tracker.conditions())
        self.sinks = sinks
        self.outbox = Outbox(settings.state_dir, {s.name: s.kind for s in sinks}, settings.queue_max,
                             self.state.events)
        self.stop = threading.Event()
        self._sink_stop = threading.Event()
        self._workers = [SinkWorker(s, self.outbox, self._sink_stop, self._delivered, self._failed) for s in sinks]
        self.builder = IncidentBuilder(self.follower.source)
        self.steal = RecentSteal()
        self.idle = True
        self.place: Optional[tuple[Block, int, int]] = None  # (block, offset, line) after the last record read
        self.checkpoint: Optional[tuple[Block, int, int]] = None  # the last place where the builder was idle
        self.dirty = self.unsynced = False
        self.last_entry_at = self.last_commit_at = self.next_tick = 0.0
        self.prefilter = Prefilter(list(patterns.PREFILTER) + list(LEVEL_PATTERNS.get(self.follower.reader.fmt, ())))

    # --- sinks' callbacks (sink threads) ----------------------------------------------------------
    def _delivered(self, sink: str, n: int) -> None:
        self.metrics.delivered.labels(sink=sink).inc(n)
        self.metrics.backlog.labels(sink=sink).set(self.outbox.backlog(sink))

    def _failed(self, sink: str, reason: str) -> None:
        self.metrics.failures.labels(sink=sink).inc()
        log.warning("sink %s: %s (will retry)", sink, reason)

    # --- the loop -------------------------------------------------------------------------------------
    def run(self) -> None:
        for worker in self._workers:
            worker.start()
        try:
            while not self.stop.is_set():
                self.step(FLUSH_AFTER if not self.idle else 1.0)
        finally:
            self.shutdown()

    def step(self, timeout: float) -> None:
        blocks = self.follower.read(timeout)
        now = time.time()
        if blocks:
            for block in blocks:
                self._process(block, now)
            self.metrics.last_record.set(now)
            self.dirty = True
            self.last_entry_at = now
        elif not self.idle and now - self.last_entry_at >= FLUSH_AFTER:
            self._emit(self.builder.finish(), now)
            self.idle = True
            self.emitted.clear()
            self.checkpoint = self.place
        lost = self.follower.take_lost()
        if lost:
            self.metrics.count_records(0, 0, lost)
            self._emit([lost_records_incident(lost, self.follower.source, now)], now, dedupe=False)
        if now >= self.next_tick:
            self.next_tick = now + TICK_EVERY
            self._sample_steal(now)
            self._stage(self.tracker.tick(now))
        due = now - self.last_commit_at >= COMMIT_EVERY
        if self.outbox.has_staged():
            self.commit(now, durable=due)  # alert latency: visible at once, fsynced within COMMIT_EVERY
        elif (self.dirty or self.unsynced) and due:
            self.commit(now)

    def _sample_steal(self, now: float) -> None:
        try:
            with open(PROC_STAT) as fh:
                self.steal.sample(fh.read(), now)
        except (OSError, ValueError):
            return
        self.builder.steal_percent = self.steal.percent

    def _process(self, block: Block, now: float) -> None:
        """Feed the block's records to the builder: while it is idle, only the prefilter's candidates."""
        data, reader, follower = block.data, self.follower.reader, self.follower
        end = len(data)
        if self.checkpoint is None:  # nothing read yet since the start: a restart begins before this block
            self.checkpoint = (block, 0, block.line)
        if follower.parses_everything:
            record, _, _ = reader.next_record(data, 0, end, block.line)
            if record is None:
                return
            self.metrics.count_records(1, int(not record.is_kernel), 0)
            if record.ts_mono is not None and follower.boot_wall is not None:
                record.wallclock = datetime.fromtimestamp(follower.boot_wall + record.ts_mono, timezone.utc)
            if record.is_kernel and (not self.idle or (record.level is not None and record.level <= LEVEL_ERR)
                                     or self._candidate(record.text.encode())):
                self._feed(record, now)
            self.place = (block, end, block.line)
            if self.idle:
                self.checkpoint = self.place
            return
        pos, line, records, userspace = 0, block.line, 0, 0
        while pos < end:
            if self.idle:
                skip_to = self._next_candidate(data, pos, end)
                if skip_to > pos:
                    lines, n = reader.count(data, pos, skip_to)
                    records += n
                    pos, line = skip_to, line + lines
                    self.place = self.checkpoint = (block, pos, line)
                    continue
            record, pos, line = reader.next_record(data, pos, end, line)
            if record is None:
                break
            records += 1
            if not record.is_kernel:
                userspace += 1
            else:
                self._feed(record, now)
            self.place = (block, pos, line)
            if self.idle:
                self.checkpoint = self.place
        self.prefilter.forget()
        self.metrics.count_records(records, userspace, 0)

    def _next_candidate(self, data: bytes, pos: int, end: int) -> int:
        """Start of the first line at or after ``pos`` that may open an incident (``end`` if none)."""
        match_end = self.prefilter.first_end(data, pos, end)
        if match_end is None:
            return end
        return max(pos, data.rfind(b"\n", pos, max(match_end - 1, pos)) + 1)

    def _candidate(self, text: bytes) -> bool:
        found = self.prefilter.first_end(text, 0, len(text)) is not None
        self.prefilter.forget()
        return found

    def _feed(self, record: Any, now: float) -> None:
        found = self.builder.feed(record)
        if found:
            self._emit(found, now)
        self.idle = self.builder.idle
        if self.idle:
            self.emitted.clear()  # everything up to the new checkpoint is complete and emitted

    def _emit(self, incidents: list[Incident], now: float, dedupe: bool = True) -> None:
        for inc in incidents:
            if dedupe:
                key = f"{self.follower.source_id}|{inc.first_line}|{inc.kind}"
                if key in self.replayed:
                    self.replayed.discard(key)
                    continue
                self.emitted.append(key)
            self.metrics.count_incident(inc.kind, inc.severity, max(inc.count, 1))
            self._stage(self.tracker.observe(inc, now))

    def _stage(self, emitted: list[Any]) -> None:
        for item in emitted:
            event = dict(item.event, host=self.host)
            self.outbox.stage(event, to=("alertmanager",) if item.refresh else None)
        if emitted:
            self.metrics.set_conditions(self.tracker.conditions())

    def commit(self, now: float, durable: bool = True) -> None:
        """Save position, dedupe keys, conditions, counters and the event log together; release events."""
        if self.checkpoint is not None:
            self.state.position = self.follower.position_after(self.follower.token(*self.checkpoint))
        self.state.emitted = list(self.emitted)
        self.state.tracker_text = self.tracker.to_json_text()
        self.state.counters = self.metrics.saved
        self.state.events = self.outbox.prepare(durable)
        state_mod.save(self.settings.state_dir, self.state, durable)
        self.outbox.release()
        for sink in self.sinks:
            self.metrics.backlog.labels(sink=sink.name).set(self.outbox.backlog(sink.name))
            self.metrics.dropped.labels(sink=sink.name).set(self.outbox.dropped[sink.name])
        self.dirty = False
        self.unsynced = not durable
        if durable:
            self.last_commit_at = now

    def shutdown(self) -> None:
        """Save the state (an incident in progress is replayed at the next start), drain the sinks briefly."""
        self.commit(time.time())
        running = [w for w in self._workers if w.is_alive()]
        deadline = time.monotonic() + SHUTDOWN_GRACE
        while running and time.monotonic() < deadline and any(self.outbox.backlog(s.name) for s in self.sinks):
            time.sleep(0.05)
        self._sink_stop.set()
        self.outbox.wake()
        for worker in running:
            worker.join(SHUTDOWN_GRACE)
        self.follower.close()
        self.outbox.close()


def periodic_audit(metrics: WatchMetrics, interval: float, stop: threading.Event) -> threading.Thread:
    """Run the audit now and every ``interval`` seconds in a background thread, for kerncheck_check_status."""
    from kerncheck.audit import run_audit
    from kerncheck.host import LiveHost

    def loop() -> None:
        while not stop.is_set():
            started = time.monotonic()
            try:
                report = run_audit(LiveHost())
                metrics.audit.update(report.findings, time.time(), time.monotonic() - started)
            except Exception as exc:  # the watcher must outlive a failing audit; the gauge shows its age
                log.warning("periodic audit failed: %s: %s", type(exc).__name__, exc)
            if stop.wait(interval):
                return

    thread = threading.Thread(target=loop, name="audit", daemon=True)
    thread.start()
    return thread

