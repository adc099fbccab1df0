"""Live kernel log sources: this boot's ring buffer (``/dev/kmsg``) and earlier boots (journald).

The ring buffer is read by :meth:`kerncheck.host.LiveHost.kernel_log` (non-blocking to the end, 8 KiB
reads, ``EPIPE`` skipped); records overwritten meanwhile show up as sequence-number gaps, which the scan
driver counts as ``lost_records``.
"""

from __future__ import annotations

from typing import Any, Optional

from kerncheck.host import CommandTimeout, CommandUnavailable, HostError
from kerncheck.logs.scan import SourceError

JOURNAL_TIMEOUT = 120.0


def live_kmsg(host: Any) -> tuple[str, bytes]:
    """``(source name, raw records)`` of the current boot's kernel ring buffer."""
    try:
        name, data = host.kernel_log()
        return name, data
    except HostError as exc:
        hint = " (reading it needs root or CAP_SYSLOG when kernel.dmesg_restrict=1)" if "denied" in exc.reason else ""
        raise SourceError(exc.path, exc.reason + hint) from None


def journal_argv(boot: int) -> list[str]:
    return ["journalctl", "-k", "-b", str(boot), "-o", "json", "--no-pager"]


def journal_boot(host: Any, boot: int) -> tuple[str, bytes]:
    """``(source name, journalctl -o json output)`` of the kernel log of boot ``boot`` (0 this, -1 the
    previous one, …); ``SourceError`` with journalctl's own reason when journald has no such boot."""
    argv = journal_argv(boot)
    name = " ".join(argv[:4])
    try:
        result = host.run(argv, timeout=JOURNAL_TIMEOUT)
    except CommandUnavailable:
        raise SourceError(name, "journalctl is not installed: earlier boots can only be read from journald") from None
    except CommandTimeout as exc:
        raise SourceError(name, str(exc)) from None
    why = " ".join(line.strip() for line in result.stderr.splitlines() if line.strip())
    if result.returncode not in (0, None):
        raise SourceError(name, f"journald has no such boot ({why or f'journalctl exit status {result.returncode}'})")
    if not result.stdout.strip():
        raise SourceError(name, f"journald holds no kernel records for boot {boot}" + (f" ({why})" if why else ""))
    return name, result.stdout.encode("utf-8")


def steal_percent(host: Any) -> Optional[float]:
    """Share of CPU time the hypervisor took from this VM since boot (``/proc/stat`` steal column)."""
    try:
        text = host.read_text("/proc/stat")
    except HostError:
        return None
    return steal_from_stat(text)


def boot_time(host: Any) -> Optional[float]:
    """When this machine booted, in epoch seconds (``/proc/stat`` ``btime``), ``None`` if unknown."""
    try:
        text = host.read_text("/proc/stat")
    except HostError:
        return None
    for line in text.splitlines():
        if line.startswith("btime "):
            try:
                return float(line.split()[1])
            except (IndexError, ValueError):
                return None
    return None


def steal_from_stat(text: str) -> Optional[float]:
    """Steal time in percent of all CPU time from ``/proc/stat``'s ``cpu`` line (``None`` if absent).

    >>> steal_from_stat("cpu  100 0 100 700 0 0 0 100 0 0\\ncpu0 1 2 3 4\\n")
    10.0
    """
    for line in text.splitlines():
        parts = line.split()
        if parts and parts[0] == "cpu" and len(parts) >= 9:
            try:
                values = [int(v) for v in parts[1:9]]
            except ValueError:
                return None
            total = sum(values)
            return round(100.0 * values[7] / total, 2) if total else None
    return None
