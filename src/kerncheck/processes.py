"""Running processes of a host as kerncheck needs them (name, argv, RSS, memory cgroup), through the Host.

Processes come and go while they are read: one that vanishes half-way is simply left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from kerncheck.host import Host, HostError
from kerncheck.memcgroups import MemoryHierarchy, process_cgroup
from kerncheck.parsers.procfs import parse_cmdline, parse_status


@dataclass(frozen=True)
class Process:
    pid: int
    comm: str
    argv: tuple[str, ...]
    rss_kb: int
    threads: Optional[int]
    uid: Optional[int]
    memcg: Optional[str]  # memory cgroup path, None when unknown

    @property
    def label(self) -> str:
        return f"{self.comm} (pid {self.pid})"


def pids(host: Host) -> list[int]:
    try:
        return sorted(int(n) for n in host.listdir("/proc") if n.isdigit())
    except HostError:
        return []


def read_process(host: Host, pid: int, hierarchy: Optional[MemoryHierarchy] = None) -> Optional[Process]:
    """One process, or ``None`` if it is gone, unreadable or a kernel thread (no RSS)."""
    try:
        status = parse_status(host.read_text(f"/proc/{pid}/status"))
    except (HostError, ValueError):
        return None
    if status.rss_kb is None:
        return None
    try:
        argv = tuple(parse_cmdline(host.read_bytes(f"/proc/{pid}/cmdline")))
    except HostError:
        argv = ()
    memcg = process_cgroup(host, pid, hierarchy) if hierarchy else None
    return Process(pid, status.name, argv, status.rss_kb, status.threads, status.uid, memcg)


def processes(host: Host, hierarchy: Optional[MemoryHierarchy] = None) -> list[Process]:
    """Every user-space process that could be read."""
    out = []
    for pid in pids(host):
        proc = read_process(host, pid, hierarchy)
        if proc is not None:
            out.append(proc)
    return out


def rss_kb(host: Host, pid: int) -> Optional[int]:
    """Current VmRSS of a process, ``None`` once it has exited."""
    try:
        return parse_status(host.read_text(f"/proc/{pid}/status")).rss_kb
    except (HostError, ValueError):
        return None
