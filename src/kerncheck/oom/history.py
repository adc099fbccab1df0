"""OOM kills from the kernel log, grouped by victim and cgroup, with verdicts on *why* they keep happening.

Input is the log engine's ``oom_kill`` incidents (``process`` = the victim, ``details`` = victim sizes,
constraint, memcg paths and limit, the largest tasks of the dump table). Verdicts:

* ``recurring_victim`` — the same process name in the same cgroup was killed two or more times;
* ``leak_suspected`` — its RSS at the kill grew from kill to kill (or, live, its RSS keeps growing);
* ``limit_too_low`` — memcg kills at a limit far below the host's RAM, without growth across kills;
* ``host_undersized`` — global OOM with no single task holding most of the memory;
* ``dominant_task`` — global OOM where one task held most of the memory.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Optional

from kerncheck.logs.model import Incident
from kerncheck.parsers.units import human

CRITICAL, WARNING = "critical", "warning"
LEAK_GROWTH = 1.20  # RSS at the last kill ≥ 120 % of the first …
LEAK_TOLERANCE = 0.98  # … and no kill more than 2 % below the one before
LIMIT_FAR_BELOW_RAM = 0.5  # memcg limits under half the host's RAM could be raised
DOMINANT_SHARE = 0.5  # a task holding half of the dumped RSS dominates a global OOM


@dataclass(frozen=True)
class Kill:
    pid: Optional[int]
    comm: str
    rss_kb: Optional[int]  # anon + file + shmem RSS of the victim when it was killed
    anon_rss_kb: Optional[int]
    constraint: Optional[str]
    global_oom: bool
    memcg: Optional[str]  # the cgroup the victim ran in (task_memcg), else the OOM memcg
    oom_memcg: Optional[str]
    limit_kb: Optional[int]  # the memcg limit the OOM hit
    usage_kb: Optional[int]
    invoker: Optional[str]
    largest_tasks: tuple[dict[str, Any], ...]
    when: Optional[str]  # as the log engine printed it (ISO wall clock or "+<s>s" since boot)
    boot: str  # "current", "-1", … or the file it came from
    source: str
    line: int
    count: int = 1  # > 1 when the log engine folded identical kills into one incident

    @property
    def epoch(self) -> Optional[float]:
        return _wall(self.when)

    @property
    def since_boot(self) -> Optional[float]:
        if self.when and self.when.startswith("+") and self.when.endswith("s"):
            try:
                return float(self.when[1:-1])
            except ValueError:
                return None
        return None

    def to_json(self) -> dict[str, Any]:
        return {"when": self.when, "boot": self.boot, "pid": self.pid, "rss_kb": self.rss_kb,
                "anon_rss_kb": self.anon_rss_kb, "constraint": self.constraint, "global_oom": self.global_oom,
                "memcg": self.memcg, "oom_memcg": self.oom_memcg, "memcg_limit_kb": self.limit_kb,
                "memcg_usage_kb": self.usage_kb, "invoker": self.invoker,
                "largest_tasks": list(self.largest_tasks), "source": self.source, "first_line": self.line,
                "count": self.count}


@dataclass(frozen=True)
class Verdict:
    name: str
    severity: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"verdict": self.name, "severity": self.severity, "reason": self.reason}


@dataclass
class VictimGroup:
    comm: str
    memcg: Optional[str]
    kills: list[Kill] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)

    @property
    def kill_count(self) -> int:
        return sum(k.count for k in self.kills)

    @property
    def subject(self) -> str:
        return f"{self.comm} in {self.memcg}" if self.memcg else self.comm

    @property
    def severity(self) -> str:
        return CRITICAL if any(v.severity == CRITICAL for v in self.verdicts) else WARNING

    @property
    def is_memcg(self) -> bool:
        return any((not k.global_oom and (k.constraint or "").endswith("MEMCG")) or k.oom_memcg for k in self.kills)

    def intervals(self) -> list[float]:
        """Seconds between consecutive kills whose times can be compared (same clock, same boot)."""
        out = []
        for a, b in zip(self.kills, self.kills[1:]):
            if a.epoch is not None and b.epoch is not None:
                out.append(b.epoch - a.epoch)
            elif a.boot == b.boot and a.since_boot is not None and b.since_boot is not None:
                out.append(b.since_boot - a.since_boot)
        return [x for x in out if x >= 0]

    def summary(self) -> str:
        n = self.kill_count
        text = f"killed {n} time{'s' if n != 1 else ''}"
        gaps = self.intervals()
        if gaps:
            text += f", every {_duration(statistics.median(gaps))} (median)"
        sizes = [k.rss_kb for k in self.kills if k.rss_kb is not None]
        if sizes:
            text += ", RSS at kill " + " → ".join(human(s * 1024) for s in sizes)
        limits = sorted({k.limit_kb for k in self.kills if k.limit_kb})
        if limits:
            text += ", memcg limit " + " → ".join(human(x * 1024) for x in limits)
        elif any(k.global_oom for k in self.kills):
            text += ", global OOM (the whole host ran out)"
        return text

    def next_step(self) -> str:
        names = {v.name for v in self.verdicts}
        if "leak_suspected" in names:
            return (f"Find the leak before the next restart: watch {self.comm}'s RSS "
                    "(kerncheck oom --live --watch-seconds 300), take a heap or allocation profile (jcmd PID "
                    "GC.heap_dump, jemalloc/heaptrack, tracemalloc); raising the limit only delays the next kill.")
        if "limit_too_low" in names:
            return ("The workload needs more than its limit: measure its peak (memory.max_usage_in_bytes / "
                    "memory.peak) and set the limit to that plus ~25 %, or shrink its working set (heap, workers).")
        if "host_undersized" in names:
            return ("The host as a whole ran out: add RAM or move workloads off, and give each service its own "
                    "memory limit so the OOM killer stops picking victims at random.")
        if "dominant_task" in names:
            return ("One process held most of the RAM: cap it (cgroup limit, JVM -Xmx) and find out why it grew; "
                    "see the largest tasks below.")
        return ("Check what it was doing when killed (the largest tasks, the memcg limit) before restarting it; "
                "a restart loop hides the cause.")

    def to_json(self) -> dict[str, Any]:
        gaps = self.intervals()
        return {"victim": self.comm, "memcg": self.memcg, "kill_count": self.kill_count,
                "severity": self.severity,
                "interval_seconds": {"min": min(gaps), "median": statistics.median(gaps), "max": max(gaps)}
                if gaps else None,
                "rss_at_kill_kb": [k.rss_kb for k in self.kills],
                "verdicts": [v.to_json() for v in self.verdicts], "summary": self.summary(),
                "next_step": self.next_step(), "kills": [k.to_json() for k in self.kills]}


def _wall(when: Optional[str]) -> Optional[float]:
    if not when or when.startswith("+"):
        return None
    try:
        stamp = datetime.fromisoformat(when.replace("Z", "+00:00").replace(",", "."))
    except ValueError:
        return None
    return stamp.timestamp() if stamp.tzinfo else None


def _duration(seconds: float) -> str:
    """``0.3 s``, ``42 s``, ``1.5 h``, ``3 d``."""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}".replace(".0 ", " ")
    return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"


def _int(value: Any) -> Optional[int]:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def kill_from_incident(inc: Incident, boot: str) -> Kill:
    d = inc.details
    victim: dict[str, Any] = d["victim"] if isinstance(d.get("victim"), dict) else {}
    proc = inc.process or {}
    parts = [_int(victim.get(k)) for k in ("anon_rss_kb", "file_rss_kb", "shmem_rss_kb")]
    rss = sum(p for p in parts if p is not None) if any(p is not None for p in parts) else None
    tasks: list[Any] = d["largest_tasks"] if isinstance(d.get("largest_tasks"), list) else []
    constraint = d.get("constraint") if isinstance(d.get("constraint"), str) else None
    oom_memcg = d.get("oom_memcg") if isinstance(d.get("oom_memcg"), str) else None
    task_memcg = d.get("task_memcg") if isinstance(d.get("task_memcg"), str) else None
    global_oom = bool(d.get("global_oom")) or (constraint == "CONSTRAINT_NONE" and not oom_memcg)
    return Kill(
        pid=_int(victim.get("pid")) or _int(proc.get("pid")),
        comm=str(victim.get("comm") or proc.get("comm") or "?"),
        rss_kb=rss, anon_rss_kb=parts[0], constraint=constraint, global_oom=global_oom,
        memcg=task_memcg or oom_memcg, oom_memcg=oom_memcg,
        limit_kb=_int(d.get("memcg_limit_kb")), usage_kb=_int(d.get("memcg_usage_kb")),
        invoker=d.get("invoker") if isinstance(d.get("invoker"), str) else None,
        largest_tasks=tuple(t for t in tasks if isinstance(t, dict)),
        when=inc.first_seen, boot=boot, source=inc.source, line=inc.first_line, count=max(1, inc.count),
    )


def _rising(sizes: list[int]) -> bool:
    return (len(sizes) >= 2 and sizes[-1] >= LEAK_GROWTH * sizes[0]
            and all(b >= LEAK_TOLERANCE * a for a, b in zip(sizes, sizes[1:])))


def _dominance(kill: Kill) -> Optional[tuple[dict[str, Any], float]]:
    """The largest task of a global OOM's dump table and its share of the dumped RSS."""
    rows = [t for t in kill.largest_tasks if _int(t.get("rss_kb"))]
    if not rows:
        return None
    top = max(rows, key=lambda t: t["rss_kb"])
    return top, top["rss_kb"] / sum(t["rss_kb"] for t in rows)


def judge(group: VictimGroup, host_ram_kb: Optional[int]) -> list[Verdict]:
    """The verdicts for one victim group (see the module docstring)."""
    verdicts: list[Verdict] = []
    n = group.kill_count
    if n >= 2:
        verdicts.append(Verdict("recurring_victim", CRITICAL,
                                f"{group.comm} was killed {n} times: restarting it brings the same kill back"))
    sizes = [k.rss_kb for k in group.kills if k.rss_kb is not None]
    leak = _rising(sizes)
    if leak:
        limits = [k.limit_kb for k in group.kills if k.limit_kb]
        raised = (f" while its limit was raised {' → '.join(human(x * 1024) for x in limits)}"
                  if len(set(limits)) > 1 else "")
        verdicts.append(Verdict("leak_suspected", CRITICAL,
                                "RSS at the kill grew " + " → ".join(human(s * 1024) for s in sizes)
                                + raised + ": it takes whatever memory it gets"))
    memcg_kills = [k for k in group.kills if not k.global_oom]
    limits = [k.limit_kb for k in memcg_kills if k.limit_kb]
    if memcg_kills and limits and not leak:
        limit = max(limits)
        if host_ram_kb is None or limit < LIMIT_FAR_BELOW_RAM * host_ram_kb:
            ram = f" on a host with {human(host_ram_kb * 1024)} RAM" if host_ram_kb else ""
            verdicts.append(Verdict("limit_too_low", WARNING,
                                    f"killed at its memcg limit of {human(limit * 1024)}{ram}, without growth "
                                    "across kills: the workload needs more than the limit allows"))
    for kill in group.kills:
        if not kill.global_oom:
            continue
        dom = _dominance(kill)
        if dom is None:
            continue
        top, share = dom
        if share < DOMINANT_SHARE:
            verdicts.append(Verdict("host_undersized", CRITICAL,
                                    f"global OOM and no task dominated (largest: {top.get('comm')} with "
                                    f"{share:.0%} of the dumped RSS): the host is too small for its load"))
        else:
            verdicts.append(Verdict("dominant_task", WARNING,
                                    f"global OOM with {top.get('comm')} (pid {top.get('pid')}) holding "
                                    f"{share:.0%} of the dumped RSS ({human(int(top['rss_kb']) * 1024)})"))
        break
    return verdicts


def group_kills(incidents: Iterable[tuple[Incident, str]], host_ram_kb: Optional[int]) -> list[VictimGroup]:
    """Group ``(oom_kill incident, boot)`` pairs by victim name and cgroup, oldest kill first, and judge them."""
    groups: dict[tuple[str, Optional[str]], VictimGroup] = {}
    order = {f"-{i}": -i for i in range(1, 100)}
    kills = [kill_from_incident(inc, boot) for inc, boot in incidents if inc.kind == "oom_kill"]
    kills.sort(key=lambda k: (order.get(k.boot, 0), k.epoch or 0.0, k.since_boot or 0.0, k.source, k.line))
    for kill in kills:
        groups.setdefault((kill.comm, kill.memcg), VictimGroup(kill.comm, kill.memcg)).kills.append(kill)
    for group in groups.values():
        group.verdicts = judge(group, host_ram_kb)
    return sorted(groups.values(), key=lambda g: (-len(g.verdicts), -g.kill_count, g.comm))
