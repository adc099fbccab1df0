"""Kernel-log incidents of a host across boots: this boot's log, and earlier boots where journald keeps them.

The current boot comes from the Host (``/dev/kmsg`` live, the captured log in a snapshot); earlier boots
from ``journalctl -k -b -N -o json``. A host without journald (or with a volatile journal) simply has no
earlier boots: that is recorded as a note, not an error. Log files given by the user are scanned as they
are, each its own source.

Nothing is folded here: OOM investigations need every kill (its RSS, its limit); consumers that want
repeats folded apply :func:`kerncheck.logs.aggregate.aggregate`. The current boot is scanned once per
audit and shared by every check (:func:`current_boot`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional, Union

from kerncheck.facts import Context
from kerncheck.host import CommandTimeout, CommandUnavailable, Host, HostError
from kerncheck.logs.model import Incident

if TYPE_CHECKING:
    from kerncheck.logs.scan import ScanResult

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


def current_boot(ctx: Context) -> Union[ScanResult, str]:
    """This boot's kernel log scanned once per Context, every incident kept apart (consumers fold as
    they need: ``aggregate``); a string says why the log could not be read."""

    def compute() -> Union[ScanResult, str]:
        from kerncheck.logs.scan import scan_host  # the log engine loads only when a check needs it

        try:
            return scan_host(ctx.host, fold=False)
        except HostError as exc:
            return f"kernel log unreadable: {exc}"

    return ctx.cached("kerncheck.current-boot-log", compute)


def scan_input(data: bytes, source: str) -> tuple[list[Incident], list[str]]:
    """Incidents of one input, each OOM kill kept apart; also the problems met reading it."""
    from kerncheck.logs.scan import scan_bytes

    result = scan_bytes(data, source, fold=False)
    return result.incidents, [e.message for e in result.errors]


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
        current = current_boot(ctx)
        if isinstance(current, str):
            logs.error = current
        else:
            logs.sources += current.sources
            logs.notes += [e.message for e in current.errors]
            logs.incidents += [(inc, "current") for inc in current.incidents]
        _previous_boots(ctx.host, logs, boots)
        return logs

    return ctx.cached(f"kerncheck.boot-logs:{boots}", compute)


def file_incidents(paths: Sequence[str]) -> BootLogs:
    """Incidents of log files named by the user (each file is its own source)."""
    from kerncheck.logs.scan import scan_paths

    logs = BootLogs()
    scan = scan_paths(list(paths), fold=False)
    logs.sources += list(scan.sources)
    logs.notes += [str(e) for e in scan.errors]
    logs.incidents += [(inc, inc.source) for inc in scan.incidents]
    return logs
