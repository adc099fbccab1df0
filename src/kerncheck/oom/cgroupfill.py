"""Memory cgroups whose processes already fill most of their limit: the next spike is an OOM kill."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from kerncheck.host import Host
from kerncheck.memcgroups import MemoryHierarchy, MemoryLimit, memory_limit
from kerncheck.parsers.units import human
from kerncheck.processes import Process

WARN_SHARE = 0.90


@dataclass
class CgroupFill:
    limit: MemoryLimit
    rss_bytes: int  # sum of VmRSS of the processes under the limiting cgroup (shared pages counted per process)
    members: list[Process]

    @property
    def share(self) -> float:
        return self.rss_bytes / self.limit.limit_bytes if self.limit.limit_bytes else 0.0

    @property
    def severity(self) -> Optional[str]:
        return "warning" if self.share >= WARN_SHARE else None

    @property
    def subject(self) -> str:
        return f"memory cgroup {self.limit.set_by}"

    def message(self) -> str:
        top = sorted(self.members, key=lambda p: -p.rss_kb)[:3]
        biggest = ", ".join(f"{p.label} {human(p.rss_kb * 1024)}" for p in top)
        limit = self.limit.limit_bytes or 0
        return (f"{len(self.members)} process(es) hold {human(self.rss_bytes)} RSS = {self.share:.0%} of the "
                f"{human(limit)} limit ({self.limit.file}); largest: {biggest}")

    def to_json(self) -> dict[str, Any]:
        return {"cgroup": self.limit.set_by, "limit_bytes": self.limit.limit_bytes, "rss_bytes": self.rss_bytes,
                "share": round(self.share, 3),
                "processes": len(self.members), "severity": self.severity}


def assess_cgroups(host: Host, procs: list[Process], host_ram: int,
                   hierarchy: Optional[MemoryHierarchy]) -> list[CgroupFill]:
    """Every cgroup whose effective limit is below the host's RAM, with the RSS of the processes under it."""
    if hierarchy is None:
        return []
    limits: dict[str, Optional[MemoryLimit]] = {}
    groups: dict[str, CgroupFill] = {}
    for proc in procs:
        if not proc.memcg:
            continue
        if proc.memcg not in limits:
            limits[proc.memcg] = memory_limit(host, hierarchy, proc.memcg)
        limit = limits[proc.memcg]
        if limit is None or limit.limit_bytes is None or limit.limit_bytes >= host_ram or limit.set_by is None:
            continue
        fill = groups.setdefault(limit.set_by, CgroupFill(limit, 0, []))
        fill.rss_bytes += proc.rss_kb * 1024
        fill.members.append(proc)
    return sorted(groups.values(), key=lambda f: -f.share)
