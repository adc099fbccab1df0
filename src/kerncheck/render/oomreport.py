"""Text report of ``kerncheck oom``: victims with their kills and verdicts, JVM heaps, cgroups, RSS trends."""

from __future__ import annotations

from typing import IO, Optional

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from kerncheck.oom.investigate import OomReport
from kerncheck.parsers.units import human
from kerncheck.render.text import SEVERITY_STYLE, console


def _kb(value: Optional[int]) -> str:
    return human(value * 1024) if value is not None else "?"


def say(con: Console, indent: int, markup: str, label: str = "", label_width: int = 0) -> None:
    """Print a paragraph whose wrapped lines keep the indentation (after an optional fixed-width label)."""
    hang = indent + (label_width + 1 if label_width else 0)
    lines = Text.from_markup(markup).wrap(con, max(20, con.width - hang))
    for i, line in enumerate(lines):
        head = Text(" " * indent)
        if label_width:
            head += Text.from_markup(label) if i == 0 else Text("")
            head.pad_right(hang - head.cell_len)
        line.rstrip()
        con.print(head + line, soft_wrap=True)


def _label(severity: Optional[str]) -> str:
    if not severity:
        return "[green]OK[/]"
    return f"[{SEVERITY_STYLE[severity]}]{severity.upper()}[/]"


def render_oom(report: OomReport, stream: Optional[IO[str]] = None) -> None:
    con = console(stream)
    host = report.host
    if host.get("kind") == "files":
        con.print("[bold]kerncheck oom[/] — log files")
    else:
        ram = human(host["memory_bytes"]) if host.get("memory_bytes") else "unknown"
        say(con, 0, f"[bold]kerncheck oom[/] — {escape(str(host.get('hostname') or '?'))} "
                  f"({escape(str(host.get('kind')))} {escape(str(host.get('root')))}, "
                  f"kernel {escape(str(host.get('kernel') or '?'))}, {ram} RAM)")
    con.print()
    con.print("[bold]OOM kills[/]")
    if not report.groups:
        say(con, 2, "none in " + (escape(", ".join(report.logs.sources)) or "any readable kernel log"))
    for group in report.groups:
        say(con, 2, f"[bold]{escape(group.subject)}[/]  {_label(group.severity)}")
        say(con, 4, f"{escape(group.summary())}")
        for kill in group.kills:
            scope = "global OOM" if kill.global_oom else "memcg OOM"
            limit = f", limit {_kb(kill.limit_kb)}" if kill.limit_kb else ""
            times = f" ×{kill.count}" if kill.count > 1 else ""
            boot = f" (boot {kill.boot})" if kill.boot not in ("current",) and kill.boot.startswith("-") else ""
            invoker = f"  invoked by {escape(kill.invoker)}" if kill.invoker and kill.invoker != kill.comm else ""
            say(con, 4, f"· {escape(str(kill.when or '?'))}{escape(boot)}  pid {kill.pid}{times}  "
                      f"RSS {_kb(kill.rss_kb)}  {scope}{escape(limit)}{invoker}")
        largest = sorted(group.kills[-1].largest_tasks, key=lambda t: -(t.get("rss_kb") or 0))[:3]
        if largest:
            say(con, 4, "largest tasks at the last kill: " + escape(", ".join(
                f"{t.get('comm')} ({t.get('pid')}) {_kb(t.get('rss_kb'))}" for t in largest)))
        for verdict in group.verdicts:
            say(con, 4, f"[{SEVERITY_STYLE[verdict.severity]}]{verdict.name.replace('_', ' ')}[/]: "
                      f"{escape(verdict.reason)}")
        say(con, 4, f"[cyan]next:[/] {escape(group.next_step())}")
    con.print()
    if report.jvms:
        con.print("[bold]Java heaps[/]")
        for fit in report.jvms:
            say(con, 2, f"[bold]{escape(fit.subject)}[/]  {_label(fit.severity)}")
            say(con, 4, escape(fit.message()))
            if fit.severity:
                say(con, 4, f"[cyan]fix:[/] {escape(fit.fix())}")
        con.print()
    full = [c for c in report.cgroups if c.severity]
    if report.cgroups:
        con.print("[bold]Memory cgroups with a limit[/]")
        for fill in report.cgroups[:10]:
            say(con, 2, f"[bold]{escape(fill.subject)}[/]  {_label(fill.severity)}")
            say(con, 4, escape(fill.message()))
        con.print()
    if report.watch_seconds:
        con.print(f"[bold]RSS trend over {report.watch_seconds:g} s[/]")
        for trend in sorted(report.trends, key=lambda t: (not t.growing, t.proc.pid)):
            style = "yellow" if trend.growing else "dim"
            say(con, 2, f"[{style}]{escape(trend.describe())}[/]" + (" (exited)" if trend.exited else ""))
        con.print()
    notes = list(report.logs.notes)
    if report.logs.error:
        notes.insert(0, report.logs.error)
    say(con, 0, f"[dim]kernel log: {escape(', '.join(report.logs.sources) or 'none')}"
        + (f"; {escape('; '.join(notes))}" if notes else "") + "[/]")
    crit = sum(1 for g in report.groups if g.severity == "critical")
    con.print(f"{len(report.groups)} victim group(s) ({crit} critical), {len(report.jvms)} JVM(s), "
              f"{len(full)} cgroup(s) near their limit — exit {report.exit_status}")
