"""The watcher's Prometheus metrics (``--metrics-addr``), on a registry of its own.

Counters survive restarts: their values are saved in the watcher state and restored at start, so
``increase()`` over a restart is neither lost nor doubled. Process health (CPU, RSS, open files, start
time) comes from prometheus-client's process collector.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.exposition import start_http_server

from kerncheck import __version__
from kerncheck.watch.textfile import AuditGauges
from kerncheck.watch.tracker import Condition


def parse_addr(text: str) -> tuple[str, int]:
    """``127.0.0.1:9777``, ``[::1]:9777`` or ``:9777`` (all addresses) → (host, port)."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--metrics-addr {text!r}: expected HOST:PORT, e.g. 127.0.0.1:9777")
    return host.strip("[]") or "0.0.0.0", int(port)


class WatchMetrics:
    def __init__(self, source: str) -> None:
        disable_created_metrics()  # *_created series only double the output; Prometheus does not need them
        self.registry = CollectorRegistry()
        r = self.registry
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        Gauge("kerncheck_watch_info", "The running watcher", ["version", "source"],
              registry=r).labels(version=__version__, source=source).set(1)
        self.incidents = Counter("kerncheck_incidents", "Kernel incidents classified, by kind and severity",
                                 ["kind", "severity"], registry=r)
        self.condition = Gauge("kerncheck_condition", "Open alert conditions (1 while open, 0 once resolved)",
                               ["kind", "device"], registry=r)
        self.lost = Counter("kerncheck_kmsg_lost_records", "Kernel log records lost before the watcher read them",
                            registry=r)
        self.records = Counter("kerncheck_records", "Kernel log records read", registry=r)
        self.userspace = Counter("kerncheck_userspace_records",
                                 "Records in the kernel log written by userspace (never alerted as kernel)",
                                 registry=r)
        self.last_record = Gauge("kerncheck_last_record_timestamp_seconds",
                                 "Unix time at which the watcher last read a kernel log record", registry=r)
        self.delivered = Counter("kerncheck_sink_delivered", "Events delivered, per sink", ["sink"], registry=r)
        self.failures = Counter("kerncheck_sink_failures", "Failed delivery attempts, per sink", ["sink"],
                                registry=r)
        self.dropped = Gauge("kerncheck_sink_dropped_events", "Events dropped because a sink's queue was full",
                             ["sink"], registry=r)
        self.backlog = Gauge("kerncheck_sink_queue_events", "Events waiting for delivery, per sink", ["sink"],
                             registry=r)
        self.audit = AuditGauges(r)
        self._condition_labels: set[tuple[str, str]] = set()
        self.saved: dict[str, Any] = {"incidents": {}, "lost": 0, "records": 0, "userspace": 0}

    def restore(self, saved: dict[str, Any]) -> None:
        for key, value in saved.get("incidents", {}).items():
            kind, severity = key.split("|", 1)
            self.count_incident(kind, severity, int(value))
        self.count_records(int(saved.get("records", 0)), int(saved.get("userspace", 0)), int(saved.get("lost", 0)))

    def count_incident(self, kind: str, severity: str, n: int = 1) -> None:
        self.incidents.labels(kind=kind, severity=severity).inc(n)
        key = f"{kind}|{severity}"
        self.saved["incidents"][key] = self.saved["incidents"].get(key, 0) + n

    def count_records(self, records: int, userspace: int, lost: int) -> None:
        if records:
            self.records.inc(records)
            self.saved["records"] += records
        if userspace:
            self.userspace.inc(userspace)
            self.saved["userspace"] += userspace
        if lost:
            self.lost.inc(lost)
            self.saved["lost"] += lost

    def set_conditions(self, conditions: Iterable[Condition]) -> None:
        counts: dict[tuple[str, str], int] = {}
        for cond in conditions:
            label = (cond.kind, cond.device or "")
            counts[label] = counts.get(label, 0) + 1
        for labels in self._condition_labels - set(counts):  # resolved conditions drop to 0, not out of sight
            self.condition.labels(*labels).set(0)
        self._condition_labels.update(counts)
        for (kind, device), n in counts.items():
            self.condition.labels(kind=kind, device=device).set(n)

    def serve(self, addr: str) -> None:
        host, port = parse_addr(addr)
        start_http_server(port, addr=host, registry=self.registry)
