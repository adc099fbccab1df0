"""Text report of ``kerncheck disks``: one block per disk, then where the backups are."""

from __future__ import annotations

from typing import IO, Any, Optional

from rich.console import Console
from rich.markup import escape

from kerncheck.disks.health import DiskHealth, DiskSurvey
from kerncheck.finding import Finding, Status
from kerncheck.parsers.units import human
from kerncheck.render.oomreport import say
from kerncheck.render.text import SEVERITY_STYLE, console

STATE_STYLE = {"failing": "bold red", "degraded": "yellow", "healthy": "green", "unknown": "dim"}
COUNTER_LABELS = {"reallocated_sectors": "reallocated", "pending_sectors": "pending",
                  "offline_uncorrectable": "offline-uncorrectable", "reported_uncorrect": "reported-uncorrect",
                  "crc_errors": "CRC errors", "media_errors": "media errors", "percentage_used": "wear %",
                  "grown_defects": "grown defects", "uncorrected_read_errors": "uncorrected reads",
                  "uncorrected_write_errors": "uncorrected writes",
                  "uncorrected_verify_errors": "uncorrected verifies"}


def row(con: Console, label: str, markup: str) -> None:
    """``label  text`` with the text's wrapped lines aligned under its start."""
    say(con, 2, markup, label, 8)


def _smart_line(dh: DiskHealth) -> str:
    if dh.smart is None:
        return f"no SMART: {dh.smart_unavailable}"
    s = dh.smart
    health = {True: "PASSED", False: "FAILED", None: "not reported"}[s.health_passed]
    parts = []
    for key, value in s.counters().items():
        text = f"{COUNTER_LABELS.get(key, key)} {value}"
        if key in dh.growth:
            text += f" (was {dh.growth[key][0]})"
        parts.append(text)
    return f"health {health}" + ("; " + ", ".join(parts) if parts else "")


def _identity(dh: DiskHealth) -> str:
    if dh.smart is None:
        return ""
    s = dh.smart
    bits = [s.model or "?", f"({s.protocol or s.dev_type})"]
    if s.capacity_bytes:
        bits.append(human(s.capacity_bytes))
    if s.power_on_hours is not None:
        bits.append(f"{s.power_on_hours} h powered on")
    return " ".join(bits)


def render_disks(host: dict[str, Any], survey: DiskSurvey, findings: list[Finding], status: int,
                 stream: Optional[IO[str]] = None) -> None:
    con = console(stream)
    say(con, 0, f"[bold]kerncheck disks[/] — {escape(str(host.get('hostname') or '?'))} "
              f"({escape(str(host.get('kind')))} {escape(str(host.get('root')))}, "
              f"kernel {escape(str(host.get('kernel') or '?'))})")
    con.print()
    if not survey.disks:
        say(con, 0, "no physical disk found in /sys/class/block (a VM without disks, a container, or a snapshot "
                    "without sysfs)")
        con.print()
    for dh in survey.disks:
        style = STATE_STYLE[dh.state]
        ident = f"  {escape(_identity(dh))}" if dh.smart is not None else ""
        con.print(f"[bold]{escape(dh.description)}[/]  [{style}]{dh.state.upper()}[/]{ident}")
        row(con, "SMART", escape(_smart_line(dh)))
        if dh.previous_at and not dh.growth:
            row(con, "history", "no growth since the previous run")
        if not dh.incidents:
            row(con, "kernel", ("log not read: " + escape(survey.log_error) if survey.log_error
                                else "no disk errors in the kernel log"))
        for fs in dh.filesystems:
            if not fs.errors:
                where = f" on {fs.mount_point}" if fs.mount_point else ""
                row(con, "fs", f"{escape(fs.fstype)} {escape(fs.device)}{escape(where)}: no errors recorded")
        for reason in dh.reasons:
            sev_style = SEVERITY_STYLE.get(reason.severity, "")
            row(con, f"[{sev_style}]{reason.severity}[/]", escape(reason.text))
        if dh.advice:
            row(con, "[cyan]⇒ next[/]", escape(dh.advice))
        con.print()
    for inc in survey.earlier_boots[:10]:
        say(con, 0, f"[dim]earlier boot ({escape(inc.source)}): {inc.count} × {escape(inc.kind)} on "
                    f"{escape(str(inc.device))} (device names can change across boots): {escape(inc.title)}[/]")
    for fs in survey.unmapped_fs:
        say(con, 0, f"[yellow]{escape(fs.fstype)} on {escape(fs.device)} has recorded {fs.errors} error(s), but its "
                    "disk could not be determined[/]")
    for inc in survey.unmapped[:10]:
        say(con, 0, f"[dim]kernel log, device not present now: {inc.count} × {escape(inc.kind)} on "
                  f"{escape(str(inc.device))}: {escape(inc.title)}[/]")
    backups = [f for f in findings if f.id == "KC302"]
    if backups:
        con.print("[bold]Backups[/]")
        for f in backups:
            if f.status is Status.FAIL:
                label = f"[{SEVERITY_STYLE[f.severity.value]}]{f.severity.value.upper()}[/]"
            else:
                label = {Status.PASS: "[green]OK[/]", Status.SKIP: "[dim]SKIP[/]"}.get(f.status, "ERROR")
            say(con, 2, f"{label} {escape(f.message)}")
            if f.status is Status.FAIL and f.fix:
                say(con, 5, f"[cyan]fix:[/] {escape(f.fix)}")
        con.print()
    sources = ", ".join(survey.log_sources) or "none"
    notes = ([survey.log_error] if survey.log_error else []) + survey.log_notes
    say(con, 0, f"[dim]kernel log: {escape(sources)}" + (f"; {escape('; '.join(notes))}" if notes else "") + "[/]")
    if survey.history_path and any(d.smart is not None for d in survey.disks):
        note = f" ({survey.history_error})" if survey.history_error else ""
        say(con, 0, f"[dim]SMART counters kept in {escape(survey.history_path)}{escape(note)}[/]")
    failing = sum(1 for d in survey.disks if d.state == "failing")
    degraded = sum(1 for d in survey.disks if d.state == "degraded")
    unknown = sum(1 for d in survey.disks if d.state == "unknown")
    con.print(f"{len(survey.disks)} disk(s): {failing} failing, {degraded} degraded, {unknown} without a SMART "
              f"verdict — exit {status}")
