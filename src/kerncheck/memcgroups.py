"""Memory cgroups of a host, v1 (``memory.limit_in_bytes``) or v2 (``memory.max``), read through the Host.

A limit is *effective* when it is the smallest along the path to the root: a container's own file may say
"unlimited" while its pod's cgroup is what the OOM killer enforces.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Optional

from kerncheck.host import Host, HostError
from kerncheck.parsers.mountinfo import MountinfoError, parse_mountinfo
from kerncheck.parsers.procfs import parse_proc_cgroup

UNLIMITED_FROM = 1 << 62  # v1 prints PAGE_COUNTER_MAX * PAGE_SIZE (9223372036854771712) for "no limit"


@dataclass(frozen=True)
class MemoryHierarchy:
    version: int  # 1 or 2
    mount_point: str  # where the memory controller is mounted on the host
    root: str  # the cgroup that mount shows (not "/" inside a cgroup namespace bind mount)

    def directory(self, cgroup: str) -> Optional[str]:
        """The host directory of a cgroup path as ``/proc/PID/cgroup`` and OOM reports print it."""
        root = self.root.rstrip("/")
        if root and not (cgroup == root or cgroup.startswith(root + "/")):
            return None
        rel = cgroup[len(root):].lstrip("/")
        return posixpath.join(self.mount_point, rel) if rel else self.mount_point


@dataclass(frozen=True)
class MemoryLimit:
    cgroup: str
    limit_bytes: Optional[int]  # the effective limit (smallest on the path), None = unlimited
    set_by: Optional[str]  # the cgroup whose limit that is
    usage_bytes: Optional[int]
    file: str  # memory.limit_in_bytes or memory.max


def memory_hierarchy(host: Host) -> Optional[MemoryHierarchy]:
    """Where the memory controller lives: a v1 ``memory`` mount, else a cgroup2 mount that offers it."""
    try:
        mounts = parse_mountinfo(host.read_text("/proc/self/mountinfo"))
    except (HostError, MountinfoError):
        mounts = []
    for m in mounts:
        if m.fstype == "cgroup" and "memory" in m.super_options:
            return MemoryHierarchy(1, m.mount_point, m.root)
    for m in mounts:
        if m.fstype == "cgroup2":
            try:
                controllers = host.read_text(posixpath.join(m.mount_point, "cgroup.controllers")).split()
            except HostError:
                continue
            if "memory" in controllers:
                return MemoryHierarchy(2, m.mount_point, m.root)
    if host.exists("/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        return MemoryHierarchy(1, "/sys/fs/cgroup/memory", "/")
    if host.exists("/sys/fs/cgroup/cgroup.controllers"):
        return MemoryHierarchy(2, "/sys/fs/cgroup", "/")
    return None


def process_cgroup(host: Host, pid: int, hierarchy: MemoryHierarchy) -> Optional[str]:
    """The memory cgroup of a process (``/kubepods/pod1/c1``), or ``None`` when it cannot be read."""
    try:
        members = parse_proc_cgroup(host.read_text(f"/proc/{pid}/cgroup"))
    except HostError:
        return None
    for m in members:
        if (hierarchy.version == 1 and "memory" in m.controllers) or (hierarchy.version == 2 and m.hierarchy == 0):
            return m.path
    return None


def _read_bytes_value(host: Host, path: str) -> Optional[int]:
    """A limit/usage file: a number, ``max`` (v2) or a huge v1 number both meaning unlimited → None."""
    try:
        text = host.read_text(path).strip()
    except HostError:
        return None
    if not text.isdigit():
        return None
    value = int(text)
    return None if value >= UNLIMITED_FROM else value


def memory_limit(host: Host, hierarchy: MemoryHierarchy, cgroup: str) -> Optional[MemoryLimit]:
    """The effective limit of ``cgroup`` (smallest on the path to the root) and its current usage."""
    limit_file = "memory.limit_in_bytes" if hierarchy.version == 1 else "memory.max"
    usage_file = "memory.usage_in_bytes" if hierarchy.version == 1 else "memory.current"
    leaf = hierarchy.directory(cgroup)
    if leaf is None or not host.is_dir(leaf):
        return None
    best: Optional[int] = None
    owner: Optional[str] = None
    path = cgroup.rstrip("/") or "/"
    while True:
        directory = hierarchy.directory(path)
        if directory is None:
            break
        value = _read_bytes_value(host, posixpath.join(directory, limit_file))
        if value is not None and (best is None or value < best):
            best, owner = value, path
        if path == "/" or directory == hierarchy.mount_point:
            break
        path = posixpath.dirname(path) or "/"
    usage = _read_bytes_value(host, posixpath.join(leaf, usage_file))
    return MemoryLimit(cgroup, best, owner, usage, limit_file)
