"""``kerncheck scan``: kernel logs in any format → classified incidents (oops, lockups, OOM kills, I/O errors…)."""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import datetime, timedelta
from typing import Any, Optional

HELP = "read kernel logs (files, the live ring buffer, earlier boots) and report classified incidents"
PROGRESS_MIN_BYTES = 32 << 20
_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|hours?|d|days?|w|weeks?)$")
_UNIT_SECONDS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "hours": 3600,
                 "d": 86400, "day": 86400, "days": 86400, "w": 604800, "week": 604800, "weeks": 604800}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="log files (dmesg output, kern.log/messages, journalctl output, raw /dev/kmsg captures, "
                        "serial consoles, pstore dmesg-* files, vmcore-dmesg.txt; .gz/.xz/.bz2/.zst too; - for "
                        "standard input). Without PATH, --live is implied")
    p.add_argument("--live", action="store_true", help="read this boot's kernel ring buffer (/dev/kmsg)")
    p.add_argument("--boot", type=int, action="append", metavar="N",
                   help="read boot N from journald (0 this boot, -1 the previous one); repeatable")
    p.add_argument("--input-format", metavar="FORMAT",
                   help="skip format detection: kmsg, dmesg, console, pstore, syslog or journal-json")
    p.add_argument("--since", metavar="TIME",
                   help="only incidents last seen at or after TIME: 2026-11-26, '2026-11-26 05:00', 2h, 3d, today")
    p.add_argument("--min-severity", choices=("critical", "warning", "info"),
                   help="hide incidents below this severity")
    p.add_argument("--include-userspace", action="store_true",
                   help="also report records written by userspace into the kernel log, marked [userspace] "
                        "(never kernel evidence)")
    p.add_argument("--format", choices=("text", "json", "jsonl"), default="text")


def parse_since(value: str, now: Optional[datetime] = None) -> datetime:
    """``2026-11-26``, ``2026-11-26 05:00[:00]``, ISO 8601 with zone, ``2h``/``30m``/``3d`` ago, ``today``,
    ``yesterday`` → an aware datetime (local time where no zone is given)."""
    now = now or datetime.now().astimezone()
    text = value.strip().lower()
    if text in ("today", "yesterday"):
        day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        return day - timedelta(days=1) if text == "yesterday" else day
    m = _RELATIVE.match(text)
    if m:
        return now - timedelta(seconds=float(m.group(1)) * _UNIT_SECONDS[m.group(2)])
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"cannot read --since {value!r}: use 2026-11-26, '2026-11-26 05:00', 2h or 3d") from None
    return parsed if parsed.tzinfo else parsed.astimezone()


def _progress() -> Any:
    """A transient progress bar on standard error (only used when that is a terminal)."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn

    from kerncheck.render.text import console

    return Progress("scanning", BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn(),
                    console=console(sys.stderr), transient=True)


def run(args: argparse.Namespace) -> int:
    from kerncheck.host import LiveHost
    from kerncheck.logs.records import canonical_format
    from kerncheck.logs.scan import ScanResult, SourceError, scan_sources, scan_stream
    from kerncheck.logs.sources import boot_time, journal_boot, live_kmsg, steal_percent

    prog = "kerncheck scan"
    try:
        if args.input_format:
            canonical_format(args.input_format)
        since = parse_since(args.since) if args.since else None
    except ValueError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 3
    paths = [p for p in args.paths if p != "-"]
    stdin = "-" in args.paths
    live = args.live or not (args.paths or args.boot)
    common: dict[str, Any] = {"input_format": args.input_format, "since": since,
                              "min_severity": args.min_severity, "include_userspace": args.include_userspace}

    result = ScanResult()
    memory: list[tuple[str, bytes]] = []
    errors: list[SourceError] = []
    host = LiveHost()
    if live:
        try:
            ring = live_kmsg(host)
        except SourceError as exc:
            errors.append(exc)
        else:  # this boot of this machine: steal time and wall clock times apply
            result.merge(scan_sources([ring], steal_percent=steal_percent(host), boot_time=boot_time(host),
                                      **common))
    for boot in args.boot or []:
        try:
            memory.append(journal_boot(host, boot))
        except SourceError as exc:
            errors.append(exc)
    if stdin:
        result.merge(scan_stream(sys.stdin.buffer, "<stdin>", **common))
    if memory:
        result.merge(scan_sources(memory, **common))
    if paths:
        result.merge(_scan_files(paths, common))
    result.incidents.sort(key=lambda i: (i.source, i.first_line))  # the contract's order across groups
    for err in errors + result.errors:
        print(f"{prog}: {err}", file=sys.stderr)

    if args.format == "json":
        from kerncheck.render.json import dump

        dump(result.to_json())
    elif args.format == "jsonl":
        for incident in result.incidents:
            sys.stdout.write(json.dumps(incident.to_json(), ensure_ascii=False, default=str) + "\n")
    else:
        from kerncheck.render.incidents import render_scan

        render_scan(result)
    return exit_status(result)


def _scan_files(paths: list[str], common: dict[str, Any]) -> Any:
    import os

    from kerncheck.logs.scan import scan_paths

    total = 0
    for path in paths:
        try:
            total += os.path.getsize(path)
        except OSError:
            pass
    if not (sys.stderr.isatty() and total >= PROGRESS_MIN_BYTES):
        return scan_paths(paths, **common)
    bar = _progress()
    task = bar.add_task("scan", total=total)
    with bar:
        return scan_paths(paths, progress=lambda done: bar.update(task, completed=done), **common)


def exit_status(result: Any) -> int:
    """0 nothing wrong, 1 warnings, 2 critical, 3 no source could be read. Userspace records never count."""
    if not result.sources:
        return 3
    kernel = [i for i in result.incidents if not i.details.get("userspace")]
    if any(i.severity == "critical" for i in kernel):
        return 2
    if any(i.severity == "warning" for i in kernel):
        return 1
    return 0
