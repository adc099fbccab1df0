"""Audit results as Prometheus gauges: served by ``kerncheck watch`` and written by ``audit --textfile``.

``kerncheck_check_status{id}`` follows the Nagios convention of the exit status: 0 ok, 1 warning,
2 critical, 3 unknown (every finding of the check was skipped or errored). A check that reports several
subjects (one per disk, per kernel) shows its worst failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Gauge, write_to_textfile

from kerncheck.finding import Finding, Status

TEXTFILE_NAME = "kerncheck.prom"
UNKNOWN = 3


def check_statuses(findings: Iterable[Finding]) -> dict[str, int]:
    by_id: dict[str, list[Finding]] = {}
    for f in findings:
        by_id.setdefault(f.id, []).append(f)
    out = {}
    for check_id, group in by_id.items():
        fails = [f.severity.rank for f in group if f.status is Status.FAIL]
        if fails:
            out[check_id] = max(fails)
        elif any(f.status is Status.PASS for f in group):
            out[check_id] = 0
        else:
            out[check_id] = UNKNOWN
    return out


class AuditGauges:
    """The audit metrics on a registry; :meth:`update` replaces the previous audit's values."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.status = Gauge("kerncheck_check_status",
                            "Audit check result: 0 ok, 1 warning, 2 critical, 3 unknown (Nagios convention)",
                            ["id"], registry=registry)
        self.last_run = Gauge("kerncheck_audit_last_run_timestamp_seconds",
                              "Unix time at which the last audit finished", registry=registry)
        self.duration = Gauge("kerncheck_audit_duration_seconds", "Wall time of the last audit",
                              registry=registry)

    def update(self, findings: Iterable[Finding], finished_at: float, duration: float) -> None:
        self.status.clear()
        for check_id, value in sorted(check_statuses(findings).items()):
            self.status.labels(id=check_id).set(value)
        self.last_run.set(finished_at)
        self.duration.set(duration)


def write_textfile(directory: str, findings: Iterable[Finding], finished_at: float, duration: float) -> str:
    """Write ``kerncheck.prom`` into node_exporter's textfile directory atomically; returns its path."""
    registry = CollectorRegistry()
    AuditGauges(registry).update(findings, finished_at, duration)
    path = os.path.join(directory, TEXTFILE_NAME)
    write_to_textfile(path, registry)  # writes a temporary file in the same directory, then renames it
    return path
