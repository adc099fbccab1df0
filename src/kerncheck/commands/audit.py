"""``kerncheck audit``: will this host capture evidence when it crashes?"""

from __future__ import annotations

import argparse
import sys

HELP = "audit crash readiness (kdump, crashkernel, SysRq, panic capture, disks, OOM) live or on a snapshot"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--root", metavar="DIR",
                   help="audit a snapshot (directory or .tar.gz from kerncheck collect) or a sosreport")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--check", action="append", metavar="ID",
                   help="run only these checks (an ID or prefix, e.g. KC1); repeatable")
    p.add_argument("--skip", action="append", metavar="ID",
                   help="skip these checks (ID or prefix); repeatable")
    p.add_argument("-v", "--verbose", action="store_true", help="show the evidence behind every finding")
    p.add_argument("--textfile", metavar="DIR",
                   help="also write kerncheck.prom (kerncheck_check_status{id}) atomically into DIR, "
                        "node_exporter's textfile collector directory")


def run(args: argparse.Namespace) -> int:
    import time

    from kerncheck.audit import run_audit
    from kerncheck.host import HostError, open_host

    try:
        host = open_host(args.root)
    except HostError as exc:
        print(f"kerncheck audit: {exc}", file=sys.stderr)
        return 3
    started = time.monotonic()
    report = run_audit(host, ids=args.check, skip=args.skip, debug=args.debug)
    finished = time.time()
    duration = time.monotonic() - started
    if args.format == "json":
        from kerncheck.render.json import dump

        dump(report.to_json())
    else:
        from kerncheck.render.text import render_audit

        render_audit(report, verbose=args.verbose)
    if args.textfile:
        from kerncheck.watch.textfile import write_textfile

        try:
            write_textfile(args.textfile, report.findings, finished, duration)
        except OSError as exc:
            print(f"kerncheck audit: --textfile {args.textfile}: {exc.strerror or exc}", file=sys.stderr)
            return 3
    return report.exit_status
