"""Per-process files of procfs: ``/proc/PID/status``, ``/proc/PID/cgroup``, ``/proc/PID/cmdline``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class ProcStatus:
    name: str  # comm, at most 15 characters
    pid: int
    uid: Optional[int]
    rss_kb: Optional[int]  # VmRSS; absent for kernel threads
    threads: Optional[int]


def parse_status(text: str) -> ProcStatus:
    """``/proc/PID/status`` → the fields kerncheck uses.

    >>> s = parse_status("Name:\\tjava\\nPid:\\t4321\\nUid:\\t1000\\t1000\\t1000\\t1000\\n"
    ...                  "VmRSS:\\t  2097152 kB\\nThreads:\\t57\\n")
    >>> s.name, s.pid, s.uid, s.rss_kb, s.threads
    ('java', 4321, 1000, 2097152, 57)
    """
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key] = value.strip()

    def number(key: str) -> Optional[int]:
        parts = fields.get(key, "").split()
        return int(parts[0]) if parts and parts[0].isdigit() else None

    if "Pid" not in fields or number("Pid") is None:
        raise ValueError("not a /proc/PID/status file: no Pid line")
    return ProcStatus(name=fields.get("Name", ""), pid=number("Pid") or 0, uid=number("Uid"),
                      rss_kb=number("VmRSS"), threads=number("Threads"))


@dataclass(frozen=True)
class CgroupMembership:
    hierarchy: int  # 0 for the cgroup v2 unified hierarchy
    controllers: tuple[str, ...]
    path: str


def parse_proc_cgroup(text: str) -> list[CgroupMembership]:
    """``/proc/PID/cgroup``: one ``id:controllers:path`` line per hierarchy.

    >>> [m.path for m in parse_proc_cgroup("4:memory:/kubepods/pod1/c1\\n0::/system.slice/x.service\\n")]
    ['/kubepods/pod1/c1', '/system.slice/x.service']
    """
    out = []
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3 or not parts[0].isdigit():
            continue
        out.append(CgroupMembership(int(parts[0]), tuple(c for c in parts[1].split(",") if c), parts[2]))
    return out


def parse_cmdline(data: bytes) -> list[str]:
    """``/proc/PID/cmdline``: NUL-separated argv (a process may rewrite it into one space-separated string)."""
    args = [a.decode("utf-8", "replace") for a in data.split(b"\0")]
    while args and args[-1] == "":
        args.pop()
    return args
