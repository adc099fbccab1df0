"""Kernel-log incidents of a host across boots: this boot's log, and earlier boots where journald keeps them.

The current boot comes from the Host (``/dev/kmsg`` live, the captured log in a snapshot); earlier boots
from ``journalctl -k -b -N -o json``. A host without journald (or with a volatile journal) simply has no
earlier boots: that is recorded as a note, not an error. Log files given by the user are scanned as they
are, each its own source.

The scan folds repeated identical incidents into one; OOM investigations need every kill (its RSS, its
limit), so a source whose OOM kills were folded is read once more without folding.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Optional

from kerncheck.facts import Context
from kerncheck.host import CommandTimeout, CommandUnavailable, Host, HostError
from kerncheck.logs.model import Incident

PREVIOUS_BOOTS = 3
JOURNAL_TIMEOUT = 120.0


def journal_argv(boot: int) -> list[str]:
    return ["journalctl", "-k", "-b", f"-{boot}", "-o", "json", "--no-pager"]


@dataclass
class BootLogs:
    incidents: list[tuple[Incident, str]] = field(default_factory=list)  # (incident, "current"/"-1"/file)
    sources: list[str] = field(default_factory=list)
    error: Optional[str] = None  # the current boot's log could not be read
    notes: list[str] = field(default_factory=list)


def each_oom_kill(data: bytes, source: str) -> list[Incident]:
    """Every OOM kill of one input as its own incident (kernel records only, nothing folded)."""
    from kerncheck.logs.incidents import build_incidents
    from kerncheck.logs.records import iter_records

    try:
        records = (r for r in iter_records(data, source) if r.is_kernel)
        return [i for i in build_incidents(records) if i.kind == "oom_kill"]
    except ValueError:
        return []


def scan_input(data: bytes, source: str, steal_percent: Optional[float] = None) -> tuple[list[Incident], list[str]]:
    """Incidents of one input, with each OOM kill kept apart; also the problems met reading it."""
    from kerncheck.logs.scan import scan_bytes

    result = scan_bytes(data, source, steal_percent=steal_percent)
    incidents = result.incidents
    if any(i.kind == "oom_kill" and i.count > 1 for i in incidents):
        incidents = [i for i in incidents if i.kind != "oom_kill"] + each_oom_kill(data, source)
    return incidents, [e.message for e in result.errors]


def _previous_boots(host: Host, logs: BootLogs, boots: int) -> None:
    for n in range(1, boots + 1):
        argv = journal_argv(n)
        try:
            result = host.run(argv, timeout=JOURNAL_TIMEOUT)
        except CommandUnavailable as exc:
            if n == 1:
                logs.notes.append(f"earlier boots not read: journalctl: {exc.reason}")
            elif not host.is_live:
                logs.notes.append(f"boots before -{n - 1} were not captured")
            return
        except CommandTimeout as exc:
            logs.notes.append(f"earlier boots not read: {exc}")
            return
        if result.returncode not in (0, None) or not result.stdout.strip():
            why = (result.stderr.strip().splitlines() or ["no kernel records"])[-1]
            if n == 1:
                logs.notes.append(f"no earlier boot in the journal ({why})")
            return
        source = " ".join(argv[:4])
        incidents, errors = scan_input(result.stdout.encode("utf-8"), source)
        logs.sources.append(source)
        logs.notes += errors
        logs.incidents += [(inc, f"-{n}") for inc in incidents]


def host_incidents(ctx: Context, boots: int = PREVIOUS_BOOTS) -> BootLogs:
    """Incidents of this boot and up to ``boots`` earlier ones, computed once per Context."""

    def compute() -> BootLogs:
        logs = BootLogs()
        try:
            name, data = ctx.host.kernel_log()
        except HostError as exc:
            logs.error = f"kernel log unreadable: {exc}"
        else:
            from kerncheck.logs.sources import steal_percent  # the log engine loads only when there is a log

            incidents, errors = scan_input(data, name, steal_percent(ctx.host) if ctx.host.is_live else None)
            logs.sources.append(name)
            logs.notes += errors
            logs.incidents += [(inc, "current") for inc in incidents]
        _previous_boots(ctx.host, logs, boots)
        return logs

    return ctx.cached(f"kerncheck.boot-logs:{boots}", compute)


def _read_log(path: str) -> Optional[bytes]:
    """A log file's content, decompressed (gzip, xz, bzip2); ``None`` when it cannot be read here."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(6)
        if head.startswith(b"\x1f\x8b"):
            with gzip.open(path, "rb") as gz:
                return gz.read()
        if head.startswith(b"\xfd7zXZ"):
            with lzma.open(path, "rb") as xz:
                return xz.read()
        if head.startswith(b"BZh"):
            with bz2.open(path, "rb") as bz:
                return bz.read()
        with open(path, "rb") as fh:
            return fh.read()
    except (OSError, EOFError, lzma.LZMAError):
        return None


def file_incidents(paths: Sequence[str]) -> BootLogs:
    """Incidents of log files named by the user (each file is its own source)."""
    from kerncheck.logs.scan import scan_paths

    logs = BootLogs()
    scan = scan_paths(list(paths))
    logs.sources += list(scan.sources)
    logs.notes += [str(e) for e in scan.errors]
    for source in scan.sources:
        incidents = [i for i in scan.incidents if i.source == source]
        if any(i.kind == "oom_kill" and i.count > 1 for i in incidents):
            data = _read_log(source)
            if data is not None:
                incidents = [i for i in incidents if i.kind != "oom_kill"] + each_oom_kill(data, source)
        logs.incidents += [(inc, source) for inc in incidents]
    return logs
