"""``kerncheck collect``: snapshot this host for an offline or central audit."""

from __future__ import annotations

import argparse
import sys

HELP = "capture the files and command outputs the checks need into a .tar.gz (no secrets)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    out = p.add_mutually_exclusive_group()
    out.add_argument("-o", "--output", metavar="FILE.tar.gz", help="archive to write (default: "
                     "kerncheck-<host>-<time>.tar.gz in the current directory)")
    out.add_argument("--dir", metavar="DIR", help="write an unpacked snapshot directory, not an archive")


def run(args: argparse.Namespace) -> int:
    import os

    from kerncheck.collect import collect_archive, collect_into, default_archive_name
    from kerncheck.facts import Context
    from kerncheck.host import LiveHost

    host = LiveHost("/")
    if args.dir:
        if os.path.exists(args.dir) and os.listdir(args.dir):
            print(f"kerncheck collect: {args.dir} is not empty", file=sys.stderr)
            return 3
        os.makedirs(args.dir, exist_ok=True)
        report = collect_into(host, args.dir)
        where = args.dir
    else:
        where = args.output or default_archive_name(Context(host).hostname)
        report = collect_archive(host, where)
    print(f"kerncheck collect: wrote {where}: {report.files} files, {report.stat_only} file records, "
          f"{report.commands} command outputs; {len(report.skipped)} unreadable (listed in "
          f"kerncheck-snapshot.json)", file=sys.stderr)
    return 0
