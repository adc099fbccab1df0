"""Human-readable ``kerncheck scan`` report: incidents grouped by severity, with evidence and advice."""

from __future__ import annotations

from typing import IO, Any, Optional

from rich.markup import escape

from kerncheck.logs.model import SEVERITIES, Incident
from kerncheck.render.text import SEVERITY_STYLE, console

EVIDENCE_LINES = 8


def _where(incident: Incident) -> str:
    where = f"{incident.source}:{incident.first_line}" if incident.first_line else incident.source
    seen = incident.first_seen or ""
    if incident.count > 1 and incident.last_seen and incident.last_seen != incident.first_seen:
        seen = f"{seen} … {incident.last_seen}"
    return f"{where}  {seen}".rstrip()


def _facts(incident: Incident) -> list[str]:
    facts = []
    if incident.function:
        facts.append(f"culprit {incident.function}" + (f" [{incident.module}]" if incident.module else ""))
    elif incident.module:
        facts.append(f"module {incident.module}")
    if incident.cause:
        facts.append(f"cause {incident.cause}")
    if incident.device:
        facts.append(f"device {incident.device}")
    if incident.process:
        proc = incident.process
        facts.append(f"process {proc.get('comm', '?')} (pid {proc.get('pid', '?')})")
    if incident.taint:
        facts.append("tainted " + ",".join(str(t) for t in incident.taint))
    return facts


def render_scan(result: Any, stream: Optional[IO[str]] = None, evidence_lines: int = EVIDENCE_LINES) -> None:
    """Print a :class:`~kerncheck.logs.scan.ScanResult` for a person."""
    con = console(stream)
    incidents: list[Incident] = result.incidents
    for severity in SEVERITIES:
        group = [i for i in incidents if i.severity == severity]
        if not group:
            continue
        style = SEVERITY_STYLE.get(severity, "")
        con.print(f"[{style}]{severity.upper()}[/] — {len(group)} incident(s)")
        con.print()
        for inc in group:
            times = f" ×{inc.count}" if inc.count > 1 else ""
            con.print(f"  [{style}]{escape(inc.kind)}{times}[/]  [bold]{escape(inc.title)}[/]")
            con.print(f"    [dim]{escape(_where(inc))}[/]")
            facts = _facts(inc)
            if facts:
                con.print("    " + escape(" · ".join(facts)))
            shown = inc.evidence[:evidence_lines]
            for line in shown:
                con.print(f"    [dim]│[/] {escape(line)}", soft_wrap=True)
            if len(inc.evidence) > len(shown):
                con.print(f"    [dim]│ … {len(inc.evidence) - len(shown)} more line(s) (--format json shows all)[/]")
            if inc.advice:
                con.print(f"    [cyan]advice:[/] {escape(inc.advice)}", soft_wrap=True)
            con.print()
    counts = {s: sum(1 for i in incidents if i.severity == s) for s in SEVERITIES}
    lost = f", {result.lost_records} lost (overwritten while reading)" if result.lost_records else ""
    if not result.sources:
        con.print("[magenta]Nothing scanned:[/] no source could be read (see the messages above).")
    elif not incidents:
        con.print(f"[green]No kernel incidents[/] in {result.records} record(s){lost} from "
                  f"{len(result.sources)} source(s).")
    else:
        con.print(f"{len(incidents)} incident(s): {counts['critical']} critical, {counts['warning']} warning, "
                  f"{counts['info']} info — in {result.records} record(s){lost} from {len(result.sources)} source(s).")
