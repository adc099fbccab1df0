"""``python -m lab``: the real-kernel lab's command line (run it from the repository root).

Exit status: 0 the case did what it should, 1 the guest ran but the case failed (expected text missing,
timeout, a known emulator limit), 2 the lab could not run a guest at all (QEMU missing, download failed…),
3 usage error.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

from lab import assess, cases
from lab.errors import LabError, LabUnavailable, UnknownCase

EXIT_FAILED, EXIT_UNAVAILABLE, EXIT_USAGE = 1, 2, 3


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m lab", description="Boot a real Linux kernel under QEMU and "
                                "provoke one kernel incident per boot.")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the cases")
    prep = sub.add_parser("prepare", help="download the current Debian kernel and build the guest images")
    run = sub.add_parser("run", help="boot one case and write its console log")
    run.add_argument("case", help="case name (see `list`)")
    run.add_argument("--out", required=True, type=Path, help="write the normalised console log here")
    run.add_argument("--snapshot", type=Path, metavar="DIR",
                     help="also write the guest's readiness state (and any saved dump) as a snapshot "
                          "directory for `kerncheck audit --root`")
    run.add_argument("--timeout", type=float, help="override the case's boot timeout (seconds)")
    suite = sub.add_parser("suite", help="run several cases (default: all), write <case>.log for each")
    suite.add_argument("names", nargs="*", metavar="CASE")
    suite.add_argument("--out-dir", required=True, type=Path)
    suite.add_argument("--jobs", type=int, default=2, help="guests at once (at most 2)")
    sweep = sub.add_parser("sweep", help="kdump drill at each crashkernel size, with KC101/KC102/KC203")
    sweep.add_argument("--out-dir", required=True, type=Path)
    sweep.add_argument("--jobs", type=int, default=1, help="guests at once (at most 2)")
    for q in (prep, run, suite, sweep):
        q.add_argument("--offline", action="store_true", help="use the newest cached kernel, never apt")
    return p


def _list() -> int:
    print(f"{'case':<18} {'mem':>5} {'budget':>7}  what")
    for case in cases.CASES:
        extra = f"  [known limit: {case.limit}]" if case.limit else ""
        print(f"{case.name:<18} {case.mem:>5} {case.timeout:>6.0f}s  {case.summary}{extra}")
    return 0


def _prepare(args: argparse.Namespace) -> int:
    from lab.run import Guest

    started = time.monotonic()
    guest = Guest.prepare(args.offline)
    print(f"kernel  {guest.kernel.ref.abi} ({guest.kernel.ref.version}) in {guest.kernel.path}")
    print(f"images  {guest.images.path}")
    if guest.images.kdump_missing:
        print(f"kdump   unavailable: missing {', '.join(guest.images.kdump_missing)}")
    print(f"ready in {time.monotonic() - started:.1f} s")
    return 0


def _run(args: argparse.Namespace) -> int:
    from lab.run import Guest, run_case

    case = cases.get(args.case)
    guest = Guest.prepare(args.offline)
    outdir = args.snapshot.parent / f".{args.snapshot.name}.dumps" if args.snapshot else None
    if outdir:
        outdir.mkdir(parents=True, exist_ok=True)
    result = run_case(case, guest, outdir, args.timeout)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(result.console)
    if args.snapshot and result.state is not None:
        result.write_snapshot(args.snapshot)
        print(f"snapshot written to {args.snapshot}")
    if outdir:
        for leftover in outdir.iterdir():
            leftover.unlink()
        outdir.rmdir()
    print(f"{case.name}: {result.wall:.1f} s, {result.verdict()}")
    return 0 if result.ok else EXIT_FAILED


def _suite(args: argparse.Namespace) -> int:
    from lab.run import CaseRun, Guest, run_many

    selected = [cases.get(name) for name in args.names] if args.names else list(cases.CASES)
    guest = Guest.prepare(args.offline)
    args.out_dir.mkdir(parents=True, exist_ok=True)

    def done(run: CaseRun) -> None:
        log = args.out_dir / f"{run.case.name}.log"
        log.write_text(run.console)
        try:
            expected = assess.EXPECTED[run.case.name]
            report = assess.scan(log)
            problems = assess.judge(expected, report)
            verdict = assess.summary(expected, report) + (f" WRONG: {'; '.join(problems)}" if problems else "")
        except LabError as exc:
            verdict = f"scan n/a: {exc}"
        print(f"{run.case.name:<18} {run.wall:6.1f} s  {run.verdict()}  | kerncheck: {verdict}", flush=True)

    started = time.monotonic()
    runs = run_many(selected, guest, args.jobs, done=done)
    failed = [run.case.name for run in runs if not run.ok]
    print(f"{len(runs)} cases in {time.monotonic() - started:.1f} s; failed: {', '.join(failed) or 'none'}")
    return EXIT_FAILED if failed else 0


def _sweep(args: argparse.Namespace) -> int:
    from lab.run import Guest, run_case

    guest = Guest.prepare(args.offline)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name in cases.SWEEP:
        case = cases.get(name)
        statuses: dict[str, str] = {}
        with tempfile.TemporaryDirectory(prefix="kerncheck-lab-dumps-") as dumps:
            result = run_case(case, guest, Path(dumps))
            (args.out_dir / f"{name}.log").write_text(result.console)
            if result.state is not None:
                snap = result.write_snapshot(args.out_dir / f"{name}.snapshot")
                try:
                    findings = assess.audit(snap, ("KC101", "KC102", "KC203"))
                    statuses = {key: f"{f['status']} ({f['severity']}): {f['title']}" for key, f in findings.items()}
                except LabError as exc:
                    statuses = {"audit": str(exc)}
        print(f"crashkernel={case.crashkernel}: {result.wall:.1f} s, {result.verdict()}", flush=True)
        for check, status in sorted(statuses.items()):
            print(f"    {check}: {status}", flush=True)
    return 0


def main(argv: Optional[list[str]] = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "list":
            return _list()
        handler = {"prepare": _prepare, "run": _run, "suite": _suite, "sweep": _sweep}[args.command]
        return handler(args)
    except UnknownCase as exc:
        print(f"lab: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except LabUnavailable as exc:
        print(f"lab: cannot run a guest: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except LabError as exc:
        print(f"lab: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except KeyboardInterrupt:
        return 130
