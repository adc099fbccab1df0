"""``kerncheck disks``: health of every physical disk, and backups that share a disk with their data."""

from __future__ import annotations

import argparse
import sys

HELP = "disk health per physical disk (SMART + kernel log + fs errors, growth between runs) and backup placement"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("devices", nargs="*", metavar="DEVICE",
                   help="only these devices (/dev/…, UUID=…, a mount point); their physical disks are judged")
    p.add_argument("--root", metavar="DIR", help="a snapshot directory or extracted sosreport instead of /")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--state-file", metavar="PATH",
                   help="SMART counter history (default /var/lib/kerncheck/smart-counters.json, or "
                        "$KERNCHECK_STATE_DIR/smart-counters.json)")
    p.add_argument("--config", metavar="FILE", help="configuration file with a [disks] table "
                   "(default: /etc/kerncheck/kerncheck.toml of the host)")


def run(args: argparse.Namespace) -> int:
    from kerncheck import registry
    from kerncheck.audit import host_info, run_check
    from kerncheck.blockdev import BlockDevError
    from kerncheck.config import ConfigError, load_config, section
    from kerncheck.disks.backups import survey_backups
    from kerncheck.disks.health import survey_host
    from kerncheck.disks.smarthistory import SmartHistory
    from kerncheck.facts import Context
    from kerncheck.host import HostError, open_host

    try:
        host = open_host(args.root)
    except HostError as exc:
        print(f"kerncheck disks: {exc}", file=sys.stderr)
        return 3
    ctx = Context(host)
    if args.config:
        try:
            settings = section(load_config(args.config), "disks")
        except ConfigError as exc:
            print(f"kerncheck disks: {exc}", file=sys.stderr)
            return 3
        ctx.cached("kerncheck.config:disks", lambda: settings)
    ctx.cached("kerncheck.smart-history", lambda: SmartHistory.load(args.state_file))
    try:
        survey = survey_host(ctx, tuple(args.devices))
    except ConfigError as exc:
        print(f"kerncheck disks: {exc}", file=sys.stderr)
        return 3
    if survey.topology_error:
        print(f"kerncheck disks: {survey.topology_error}", file=sys.stderr)
        return 3
    if args.devices:
        ctx.cached("kerncheck.disk-survey:", lambda: survey)  # KC301/KC302 judge the named disks only
    checks = registry.load_all()
    findings = run_check(checks["KC301"], ctx, args.debug)
    backups = None
    if not args.devices:
        findings += run_check(checks["KC302"], ctx, args.debug)
        try:
            backups = survey_backups(ctx)
        except (ConfigError, BlockDevError):
            backups = None
    from kerncheck.finding import exit_status

    status = exit_status(findings)
    if args.format == "json":
        from kerncheck.disks.health import incident_json
        from kerncheck.render.json import dump

        dump({
            "schema": "kerncheck.disks/1", "host": host_info(ctx), "exit_status": status,
            "disks": [d.to_json() for d in survey.disks],
            "unmapped_incidents": [incident_json(i) for i in survey.unmapped],
            "earlier_boot_incidents": [incident_json(i) for i in survey.earlier_boots],
            "unmapped_filesystem_errors": [f.to_json() for f in survey.unmapped_fs],
            "backups": [p.to_json() for p in backups.placements] if backups else [],
            "findings": [f.to_json() for f in findings],
            "kernel_log": {"sources": survey.log_sources, "error": survey.log_error, "notes": survey.log_notes},
            "smart_history": {"path": survey.history_path, "error": survey.history_error},
            "smartctl_missing": survey.smartctl_missing,
        })
    else:
        from kerncheck.render.diskreport import render_disks

        render_disks(host_info(ctx), survey, findings, status)
    return status
