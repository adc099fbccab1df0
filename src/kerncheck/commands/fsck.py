"""``kerncheck fsck DEVICE [--dry-run] [-- FSCK-ARGS…]``: fsck only what nothing uses."""

from __future__ import annotations

import argparse
import sys

HELP = "run fsck on DEVICE only if it is not in use anywhere (mounts in any namespace, swap, loop, holders)"
USAGE_STATUS = 64  # a usage error is a refusal too: fsck was not run


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.usage = "kerncheck fsck [-h] [--dry-run] DEVICE [-- FSCK-ARGS ...]"
    p.add_argument("device", metavar="DEVICE",
                   help="/dev path or symlink (by-uuid, by-label, mapper…), UUID=, LABEL=, PARTUUID=, "
                        "PARTLABEL=, a mount point, or major:minor")
    p.add_argument("--dry-run", action="store_true", help="print the verdict and the exact command; run nothing")
    p.epilog = "FSCK-ARGS after `--` are passed to fsck before the device, e.g. kerncheck fsck /dev/sdb1 -- -f -n"
    parse = p.parse_known_args

    # Everything after the first `--` belongs to fsck, wherever DEVICE and --dry-run stand (argparse alone
    # would bind an empty FSCK-ARGS to the first positional chunk), and a stray argument is a usage error of
    # this command (exit 64), not an unrecognized argument of the top-level parser.
    def parse_known_args(args=None, namespace=None):
        args = list(sys.argv[1:] if args is None else args)
        fsck_args: list[str] = []
        if "--" in args:
            cut = args.index("--")
            args, fsck_args = args[:cut], args[cut + 1:]
        ns, rest = parse(args, namespace)
        if rest:
            p.error(f"unrecognized arguments: {' '.join(rest)} (fsck arguments go after `--`)")
        ns.fsck_args = fsck_args
        return ns, rest

    p.parse_known_args = parse_known_args  # type: ignore[method-assign]


def run(args: argparse.Namespace) -> int:
    from kerncheck.guard.fsck import REFUSED, evaluate, run_fsck
    from kerncheck.guard.log import NOTICE, WARNING, log_verdict
    from kerncheck.host import CommandUnavailable, LiveHost

    host = LiveHost("/")
    verdict = evaluate(host, args.device, args.fsck_args)
    tag = "kerncheck-fsck"
    prefix = "dry run: " if args.dry_run else ""
    logged = log_verdict(host, tag, prefix + verdict.summary(), NOTICE if verdict.allowed else WARNING)
    print(verdict.render(), file=sys.stderr)
    if not logged:
        print("kerncheck fsck: note: the verdict could not be sent to the system log (/dev/log)", file=sys.stderr)
    if not verdict.allowed:
        return REFUSED
    if args.dry_run:
        print(verdict.command)
        return 0
    try:
        status = run_fsck(verdict.argv)
    except CommandUnavailable as exc:
        print(f"kerncheck fsck: REFUSED: cannot run {exc}", file=sys.stderr)
        log_verdict(host, tag, f"fsck could not be run on {verdict.spec}: {exc}", WARNING)
        return REFUSED
    log_verdict(host, tag, f"fsck on {verdict.spec} exited {status}: {verdict.command}", NOTICE)
    return status
