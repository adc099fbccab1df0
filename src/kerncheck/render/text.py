"""Human-readable reports with rich; colour only when writing to a terminal."""

from __future__ import annotations

import sys
from typing import IO, Optional

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from kerncheck.audit import AuditReport
from kerncheck.finding import Finding, Status
from kerncheck.parsers.units import human

STATUS_STYLE = {
    Status.PASS: ("PASS", "green"),
    Status.FAIL: ("FAIL", "bold red"),
    Status.SKIP: ("SKIP", "dim"),
    Status.ERROR: ("ERROR", "magenta"),
}
SEVERITY_STYLE = {"critical": "bold red", "warning": "yellow", "info": "cyan"}


def console(stream: Optional[IO[str]] = None) -> Console:
    out = stream or sys.stdout
    return Console(file=out, highlight=False, soft_wrap=False,
                   width=None if out.isatty() else 120)


def _evidence_lines(finding: Finding) -> list[str]:
    lines = []
    for key, value in finding.evidence.items():
        text = value if isinstance(value, str) else repr(value)
        lines.append(f"{key}: {text}")
    return lines


def render_audit(report: AuditReport, stream: Optional[IO[str]] = None, verbose: bool = False) -> None:
    con = console(stream)
    host = report.host
    mem = human(host["memory_bytes"]) if host.get("memory_bytes") else "unknown RAM"
    kernel = escape(str(host.get("kernel") or "?"))
    distribution = escape(str(host.get("distribution") or "unknown distribution"))
    con.print(f"[bold]kerncheck audit[/] — {escape(str(host.get('hostname') or '?'))} "
              f"({escape(host['kind'])} {escape(host['root'])}, kernel {kernel}, {mem}, {distribution})")
    con.print()
    order = {Status.FAIL: 0, Status.ERROR: 1, Status.SKIP: 2, Status.PASS: 3}
    findings = sorted(report.findings, key=lambda f: (order[f.status], -f.severity.rank, f.id))
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False, expand=False)
    table.add_column("status", no_wrap=True)
    table.add_column("severity", no_wrap=True)
    table.add_column("check", no_wrap=True)
    table.add_column("finding", overflow="fold")
    for f in findings:
        label, style = STATUS_STYLE[f.status]
        sev = f.severity.value if f.status is Status.FAIL else ""
        title = f"[bold]{escape(f.title)}[/]"
        if f.subject:
            title += f" [dim]({escape(f.subject)})[/]"
        body = f"{title}\n{escape(f.message)}"
        if f.status is Status.FAIL and f.fix:
            body += f"\n[cyan]fix:[/] {escape(f.fix)}"
        if verbose and f.evidence:
            body += "\n" + "\n".join(f"[dim]{escape(line)}[/]" for line in _evidence_lines(f))
        table.add_row(f"[{style}]{label}[/]", f"[{SEVERITY_STYLE.get(sev, '')}]{sev}[/]" if sev else "",
                      f.id, body)
        table.add_row("", "", "", "")
    con.print(table)
    counts = {s: sum(1 for f in report.findings if f.status is s) for s in Status}
    crit = sum(1 for f in report.findings if f.status is Status.FAIL and f.severity.value == "critical")
    warn = counts[Status.FAIL] - crit
    con.print(f"{crit} critical, {warn} warning(s), {counts[Status.PASS]} passed, "
              f"{counts[Status.SKIP]} skipped, {counts[Status.ERROR]} error(s) — exit {report.exit_status}")
