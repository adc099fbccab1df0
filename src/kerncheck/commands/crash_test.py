"""``kerncheck crash-test``: the guarded kdump drill, and ``--verify`` after the reboot."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any, Optional

if TYPE_CHECKING:
    from kerncheck.host import Host

HELP = ("crash this host on purpose to prove kdump works — only inside a maintenance window, drained, "
        "with kdump armed and the hostname confirmed; --verify finds the dump after the reboot")
USAGE_STATUS = 64  # a usage error is a refusal too: nothing was crashed


def add_arguments(p: argparse.ArgumentParser) -> None:
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true",
                      help="run every preflight check and print what would happen; crash nothing")
    mode.add_argument("--verify", action="store_true",
                      help="after the reboot: find the dump of the recorded test and report on it")
    p.add_argument("--yes-really-crash", metavar="HOSTNAME",
                   help="confirm without a terminal (automation): must name this host")
    p.add_argument("--config", metavar="FILE", help="configuration file (default /etc/kerncheck/kerncheck.toml)")
    p.add_argument("--root", metavar="DIR", default="/",
                   help="act on a host re-rooted at DIR: every file read, the state file and the trigger "
                        "are under DIR (rehearsals and tests; default /)")


def _load_config(args: argparse.Namespace, host_root: str) -> tuple[dict[str, Any], Optional[str]]:
    import os

    from kerncheck.config import DEFAULT_PATH, ConfigError, load_config

    path = args.config
    if path is None and host_root != "/":
        candidate = os.path.join(host_root, DEFAULT_PATH.lstrip("/"))
        path = candidate if os.path.exists(candidate) else None
        if path is None:
            return {}, None
    try:
        return load_config(path), None
    except ConfigError as exc:
        return {}, str(exc)


def run(args: argparse.Namespace) -> int:
    import os
    from datetime import datetime, timezone

    from kerncheck.guard import crashtest as ct
    from kerncheck.guard.log import NOTICE, WARNING, log_verdict
    from kerncheck.guard.record import save_record, state_file_of
    from kerncheck.host import HostError, LiveHost

    if not os.path.isdir(args.root):
        print(f"kerncheck crash-test: REFUSED: --root {args.root} is not a directory", file=sys.stderr)
        return ct.REFUSED
    host = LiveHost(args.root)
    tag = "kerncheck-crash-test"
    config, config_error = _load_config(args, host.root)

    if args.verify:
        return _verify(host, config, config_error)

    state_file = state_file_of(config)
    if ct.staging_advice_due(host, state_file):
        print(f"kerncheck crash-test: {ct.STAGING_ADVICE}", file=sys.stderr)
        ct.mark_staging_advice_shown(host, state_file)

    now = datetime.fromtimestamp(host.now(), timezone.utc)
    tty = sys.stdin is not None and sys.stdin.isatty()
    pre = ct.preflight(host, config, config_error, now, args.yes_really_crash, tty)
    report = [f"  ok    {line}" for line in pre.passed] + [f"  FAIL  {line}" for line in pre.failures]
    host_name = pre.hostname or "this host"
    if args.dry_run:
        verdict = "would go ahead" if pre.ok else f"would REFUSE ({len(pre.failures)} failed)"
        print(f"kerncheck crash-test --dry-run on {host_name}: {verdict}")
        print("\n".join(report))
        if pre.ok:
            confirm = ("ask for the hostname on the terminal" if pre.needs_typed_confirmation
                       else "take --yes-really-crash as the confirmation")
            print(f"  then: {confirm}; record the test in {state_file}; write 'c' to {ct.TRIGGER} "
                  f"(kernel panic; kdump saves the dump under {pre.dump_path}); after the reboot run "
                  "`kerncheck crash-test --verify`")
        log_verdict(host, tag, f"dry run on {host_name}: {verdict}: " + "; ".join(pre.failures), NOTICE)
        return 0 if pre.ok else ct.REFUSED

    if not pre.ok:
        print(f"kerncheck crash-test: REFUSED on {host_name}:", file=sys.stderr)
        print("\n".join(report), file=sys.stderr)
        log_verdict(host, tag, f"refused on {host_name}: " + "; ".join(pre.failures), WARNING)
        return ct.REFUSED
    print(f"kerncheck crash-test on {host_name}: every preflight check passed:", file=sys.stderr)
    print("\n".join(report), file=sys.stderr)
    if pre.needs_typed_confirmation and ct.confirm(pre.hostname or "", sys.stdin, sys.stderr) is None:
        print("kerncheck crash-test: REFUSED: that is not this host's name", file=sys.stderr)
        log_verdict(host, tag, f"refused on {host_name}: the typed hostname did not match", WARNING)
        return ct.REFUSED
    record = ct.new_record(host, pre)
    try:
        save_record(host, record, state_file)
    except HostError as exc:
        print(f"kerncheck crash-test: REFUSED: cannot record the test in {state_file} ({exc}); without the "
              "record --verify could not find the dump", file=sys.stderr)
        log_verdict(host, tag, f"refused on {host_name}: cannot write {state_file}: {exc}", WARNING)
        return ct.REFUSED
    log_verdict(host, tag, f"CRASHING {host_name} ({pre.kernel}) for a kdump test now; expected dump under "
                           f"{pre.dump_path}", WARNING)
    print(f"kerncheck crash-test: recorded in {state_file}. Crashing {host_name} now. After the reboot run "
          "`kerncheck crash-test --verify`.", file=sys.stderr)
    sys.stderr.flush()
    sys.stdout.flush()
    try:
        ct.trigger(host)
    except HostError as exc:
        print(f"kerncheck crash-test: the crash could not be triggered: {exc}", file=sys.stderr)
        log_verdict(host, tag, f"trigger failed on {host_name}: {exc}", WARNING)
        return 1
    if host.root == "/":
        print("kerncheck crash-test: the kernel did not crash (the write to /proc/sysrq-trigger returned)",
              file=sys.stderr)
        return 1
    print(f"kerncheck crash-test: wrote 'c' to {host.local_path(ct.TRIGGER)} (re-rooted host: nothing crashed)",
          file=sys.stderr)
    return 0


def _verify(host: Host, config: dict[str, Any], config_error: Optional[str]) -> int:
    from kerncheck.guard import crashtest as ct
    from kerncheck.guard.record import load_record, state_file_of
    from kerncheck.host import HostError

    if config_error is not None:
        print(f"kerncheck crash-test: note: {config_error}; using the default state file", file=sys.stderr)
    state_file = state_file_of(config)
    try:
        record = load_record(host, state_file)
    except HostError as exc:
        print(f"kerncheck crash-test --verify: cannot read the record: {exc}", file=sys.stderr)
        return 3
    if record is None:
        print(f"kerncheck crash-test --verify: no crash test is recorded in {state_file}; run "
              "`kerncheck crash-test` first", file=sys.stderr)
        return 3
    outcome = ct.verify(host, record)
    label = {True: "OK", False: "FAILED", None: "UNKNOWN"}[outcome.ok]
    print(f"kerncheck crash-test --verify: {label}: {outcome.message}")
    print(f"  test: {record.summary()}")
    for line in outcome.details:
        print(f"  {line}")
    try:
        ct.record_verification(host, record, outcome, state_file)
    except HostError as exc:
        print(f"kerncheck crash-test --verify: note: the outcome could not be saved in {state_file}: {exc}",
              file=sys.stderr)
    return outcome.exit_status
