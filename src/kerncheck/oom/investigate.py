"""``kerncheck oom``: what the OOM killer killed, how often, how big, under which limit, and what to do next.

Joins the kill history (:mod:`kerncheck.oom.history`), live RSS trends (:mod:`kerncheck.oom.rsstrend`), Java
heaps against their limits (:mod:`kerncheck.oom.jvmheap`) and cgroups close to their limits
(:mod:`kerncheck.oom.cgroupfill`) into one report with the ``kerncheck.oom/1`` JSON schema.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Optional

from kerncheck.facts import Context
from kerncheck.logs.boots import BootLogs, file_incidents, host_incidents
from kerncheck.memcgroups import MemoryHierarchy, memory_hierarchy
from kerncheck.oom.cgroupfill import CgroupFill, assess_cgroups
from kerncheck.oom.history import CRITICAL, Verdict, VictimGroup, group_kills
from kerncheck.oom.jvmheap import JvmFit, assess_jvms
from kerncheck.oom.rsstrend import Trend, sample
from kerncheck.processes import Process, processes, read_process

SCHEMA = "kerncheck.oom/1"
TOP_BY_RSS = 5  # the largest processes are always among those watched
RANK = {None: 0, "info": 0, "warning": 1, "critical": 2}


@dataclass
class LiveState:
    procs: list[Process]
    hierarchy: Optional[MemoryHierarchy]
    host_ram: int


def live_state(ctx: Context) -> Optional[LiveState]:
    """Processes and memory cgroups of the host (``None`` when no process information is readable)."""

    def compute() -> Optional[LiveState]:
        hierarchy = memory_hierarchy(ctx.host)
        procs = processes(ctx.host, hierarchy)
        if not procs or not ctx.mem_total:
            return None
        return LiveState(procs, hierarchy, ctx.mem_total)

    return ctx.cached("kerncheck.live-processes", compute)


def jvm_fits(ctx: Context) -> list[JvmFit]:
    state = live_state(ctx)
    if state is None:
        return []
    return ctx.cached("kerncheck.jvm-fits", lambda: assess_jvms(ctx.host, state.procs, state.host_ram,
                                                                 state.hierarchy))


def cgroup_fills(ctx: Context) -> list[CgroupFill]:
    state = live_state(ctx)
    if state is None:
        return []
    return ctx.cached("kerncheck.cgroup-fills", lambda: assess_cgroups(ctx.host, state.procs, state.host_ram,
                                                                        state.hierarchy))


def oom_groups(ctx: Context, logs: BootLogs) -> list[VictimGroup]:
    """Victim groups of the host's own logs, judged against the host's RAM."""
    return group_kills(logs.incidents, ctx.mem_total // 1024 if ctx.mem_total else None)


@dataclass
class OomReport:
    host: dict[str, Any]
    logs: BootLogs
    groups: list[VictimGroup] = field(default_factory=list)
    jvms: list[JvmFit] = field(default_factory=list)
    cgroups: list[CgroupFill] = field(default_factory=list)
    trends: list[Trend] = field(default_factory=list)
    processes_read: bool = False
    watch_seconds: float = 0.0

    @property
    def severity(self) -> Optional[str]:
        found = [g.severity for g in self.groups] + [j.severity for j in self.jvms]
        found += [c.severity for c in self.cgroups] + ["warning" for t in self.trends if t.growing]
        return max(found, key=lambda s: RANK[s], default=None) if any(found) else None

    @property
    def evaluated(self) -> bool:
        return self.logs.error is None or self.processes_read

    @property
    def exit_status(self) -> int:
        if not self.evaluated:
            return 3
        return RANK[self.severity]

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA, "host": self.host, "severity": self.severity, "exit_status": self.exit_status,
            "sources": self.logs.sources, "log_error": self.logs.error, "notes": self.logs.notes,
            "victims": [g.to_json() for g in self.groups],
            "jvms": [j.to_json() for j in self.jvms],
            "cgroups": [c.to_json() for c in self.cgroups],
            "trends": {"watch_seconds": self.watch_seconds, "processes": [t.to_json() for t in self.trends]},
        }


def _watch_list(state: LiveState, groups: list[VictimGroup], pids: Sequence[int], ctx: Context) -> list[Process]:
    chosen: dict[int, Process] = {}
    victims = {g.comm for g in groups}
    for proc in state.procs:
        if proc.comm in victims:
            chosen[proc.pid] = proc
    for proc in sorted(state.procs, key=lambda p: -p.rss_kb)[:TOP_BY_RSS]:
        chosen.setdefault(proc.pid, proc)
    for pid in pids:
        extra = read_process(ctx.host, pid, state.hierarchy)
        if extra is not None:
            chosen.setdefault(pid, extra)
    return list(chosen.values())


def _apply_trends(groups: list[VictimGroup], trends: list[Trend]) -> None:
    """A victim that is running again and still growing is a leak suspect, whatever its kill history says."""
    for trend in trends:
        if not trend.growing:
            continue
        for group in groups:
            same = group.comm == trend.proc.comm and (group.memcg is None or trend.proc.memcg in (None, group.memcg))
            if same and not any(v.name == "leak_suspected" for v in group.verdicts):
                group.verdicts.append(Verdict("leak_suspected", CRITICAL,
                                              f"running again and growing: {trend.describe()}"))


def investigate(ctx: Context, paths: Sequence[str] = (), live: bool = True, watch_seconds: float = 0.0,
                watch_pids: Sequence[int] = (), interval: float = 1.0) -> OomReport:
    """The full OOM investigation of a host (``live``) and/or of log files (``paths``)."""
    from kerncheck.audit import host_info

    logs = BootLogs()
    if live:
        found = host_incidents(ctx)
        logs.incidents += found.incidents
        logs.sources += found.sources
        logs.notes += found.notes
        logs.error = found.error
    if paths:
        found = file_incidents(paths)
        logs.incidents += found.incidents
        logs.sources += found.sources
        logs.notes += found.notes
        if not live:
            logs.error = None if found.sources else "none of the given files could be read"
    report = OomReport(host_info(ctx) if live else {"root": None, "kind": "files"}, logs)
    # RAM is known for the host only: a log file may come from any machine.
    report.groups = oom_groups(ctx, logs) if live else group_kills(logs.incidents, None)
    if live:
        state = live_state(ctx)
        report.processes_read = state is not None
        report.jvms = jvm_fits(ctx)
        report.cgroups = cgroup_fills(ctx)
        if state is not None and watch_seconds > 0 and ctx.host.is_live:
            report.watch_seconds = watch_seconds
            report.trends = sample(ctx.host, _watch_list(state, report.groups, watch_pids, ctx), watch_seconds,
                                   interval)
            _apply_trends(report.groups, report.trends)
    return report
