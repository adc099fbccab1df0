"""``kerncheck oom``: the OOM investigation report — what was killed, how often, how big, which limit, next step."""

from __future__ import annotations

import argparse
import sys

HELP = "investigate OOM kills: victims, RSS at each kill, limits, leak trends, Java heaps vs limits"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="*", metavar="PATH", help="kernel log files to read (dmesg, kern.log, journal "
                   "JSON, …); without PATH the live host is investigated")
    p.add_argument("--live", action="store_true",
                   help="investigate the running host too (its kernel log, earlier boots from journald, "
                        "processes, cgroups, JVMs); the default when no PATH is given")
    p.add_argument("--root", metavar="DIR", help="a snapshot directory or extracted sosreport instead of /")
    p.add_argument("--watch-seconds", type=float, default=0.0, metavar="N",
                   help="sample the RSS of the victims, the largest processes and --pid for N seconds and fit "
                        "a trend (live host only)")
    p.add_argument("--pid", type=int, action="append", default=[], metavar="PID",
                   help="also watch this process's RSS (repeatable)")
    p.add_argument("--interval", type=float, default=1.0, metavar="S", help="seconds between RSS samples")
    p.add_argument("--format", choices=("text", "json"), default="text")


def run(args: argparse.Namespace) -> int:
    from kerncheck.facts import Context
    from kerncheck.host import HostError, open_host
    from kerncheck.oom.investigate import investigate

    if args.watch_seconds < 0 or args.interval <= 0:
        print("kerncheck oom: --watch-seconds must be ≥ 0 and --interval > 0", file=sys.stderr)
        return 3
    live = args.live or not args.paths or args.root is not None
    try:
        host = open_host(args.root)
    except HostError as exc:
        print(f"kerncheck oom: {exc}", file=sys.stderr)
        return 3
    if args.watch_seconds and not host.is_live:
        print("kerncheck oom: --watch-seconds needs the live host, not a snapshot", file=sys.stderr)
        return 3
    report = investigate(Context(host), args.paths, live=live, watch_seconds=args.watch_seconds,
                         watch_pids=args.pid, interval=args.interval)
    if args.format == "json":
        from kerncheck.render.json import dump

        dump(report.to_json())
    else:
        from kerncheck.render.oomreport import render_oom

        render_oom(report)
    return report.exit_status
