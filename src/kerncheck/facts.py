"""Facts about a host that several checks share, read once through the Host and cached."""

from __future__ import annotations

import functools
import re
from typing import Any, Optional

from kerncheck.host import CommandUnavailable, Host, HostError, NotFound
from kerncheck.parsers.cmdline import Cmdline, parse_cmdline
from kerncheck.parsers.meminfo import IomemRange, iomem_total, parse_iomem, parse_meminfo
from kerncheck.parsers.osrelease import OsRelease, parse_os_release
from kerncheck.parsers.sysctl import parse_sysctl_a, sysctl_path


def version_key(version: str) -> tuple[Any, ...]:
    """Sort key for kernel release strings: numbers compare as numbers.

    >>> sorted(["5.14.0-70.el9", "5.14.0-362.el9", "5.4.0-1"], key=version_key)
    ['5.4.0-1', '5.14.0-70.el9', '5.14.0-362.el9']
    """
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.findall(r"\d+|[A-Za-z]+", version))


class Context:
    """What a check receives: the Host plus lazily computed, cached facts about it."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self._cache: dict[str, Any] = {}

    def read_optional(self, path: str) -> Optional[str]:
        """File text, or ``None`` when it does not exist (other errors propagate)."""
        try:
            return self.host.read_text(path)
        except NotFound:
            return None

    def first_existing(self, *paths: str) -> Optional[tuple[str, str]]:
        """``(path, text)`` of the first of these files that exists."""
        for path in paths:
            text = self.read_optional(path)
            if text is not None:
                return path, text
        return None

    @functools.cached_property
    def cmdline(self) -> Optional[Cmdline]:
        text = self.read_optional("/proc/cmdline")
        return parse_cmdline(text) if text is not None else None

    @functools.cached_property
    def meminfo(self) -> dict[str, int]:
        text = self.read_optional("/proc/meminfo")
        return parse_meminfo(text) if text is not None else {}

    @functools.cached_property
    def iomem(self) -> list[IomemRange]:
        text = self.read_optional("/proc/iomem")
        return parse_iomem(text) if text is not None else []

    @property
    def mem_total(self) -> Optional[int]:
        """RAM usable by the kernel (MemTotal), in bytes."""
        return self.meminfo.get("MemTotal")

    @functools.cached_property
    def ram_bytes(self) -> Optional[int]:
        """Installed RAM as the kernel's crashkernel code sees it: System RAM in ``/proc/iomem``
        when its addresses are readable, else MemTotal (a little smaller than the real figure)."""
        system_ram = iomem_total(self.iomem, "System RAM")
        if system_ram and self.mem_total and system_ram >= self.mem_total:
            return system_ram
        return self.mem_total

    @functools.cached_property
    def _sysctl_a(self) -> dict[str, str]:
        if self.host.is_live:
            return {}
        try:
            return parse_sysctl_a(self.host.run(["sysctl", "-a"]).stdout)
        except CommandUnavailable:
            return {}

    def sysctl(self, name: str) -> Optional[str]:
        """A sysctl value (``kernel.sysrq``), or ``None`` when this kernel/snapshot does not have it."""
        text = self.read_optional(sysctl_path(name))
        if text is not None:
            return text.strip()
        return self._sysctl_a.get(name)

    def sysctl_int(self, name: str) -> Optional[int]:
        value = self.sysctl(name)
        if value is None:
            return None
        try:
            return int(value.split()[0])
        except (ValueError, IndexError):
            return None

    @functools.cached_property
    def os_release(self) -> Optional[OsRelease]:
        found = self.first_existing("/etc/os-release", "/usr/lib/os-release")
        return parse_os_release(found[1]) if found else None

    @property
    def family(self) -> str:
        """Distribution family: ``rhel``, ``debian``, ``suse`` or ``unknown``."""
        return self.os_release.family if self.os_release else "unknown"

    @functools.cached_property
    def kernel_release(self) -> Optional[str]:
        text = self.read_optional("/proc/sys/kernel/osrelease")
        if text:
            return text.strip()
        for argv in (["uname", "-r"], ["uname", "-a"]):
            try:
                out = self.host.run(argv).stdout.split()
            except CommandUnavailable:
                continue
            if argv[1] == "-r" and out:
                return out[0]
            if len(out) >= 3:
                return out[2]
        meta = getattr(self.host, "meta", {})
        kernel = meta.get("kernel") if isinstance(meta, dict) else None
        return kernel if isinstance(kernel, str) else None

    @functools.cached_property
    def hostname(self) -> Optional[str]:
        name = self.sysctl("kernel.hostname") or (self.read_optional("/etc/hostname") or "").strip()
        if name:
            return name
        meta = getattr(self.host, "meta", {})
        value = meta.get("hostname") if isinstance(meta, dict) else None
        return value if isinstance(value, str) else None

    @functools.cached_property
    def in_container(self) -> Optional[str]:
        """Why this looks like a container (kdump belongs to the host kernel there), else ``None``."""
        for marker in ("/run/.containerenv", "/run/systemd/container"):
            if self.host.exists(marker):
                return f"{marker} exists"
        try:
            environ = self.host.read_bytes("/proc/1/environ")
        except HostError:
            environ = b""
        for var in environ.split(b"\0"):
            if var.startswith(b"container="):
                return f"PID 1 runs with {var.decode(errors='replace')}"
        cgroup = self.read_optional("/proc/1/cgroup") or ""
        for marker in ("/docker/", "/docker-", "/kubepods", "/lxc/", "/libpod-", "/machine.slice/"):
            if marker in cgroup:
                return f"PID 1 is in cgroup {marker.strip('/-')}"
        return None

    def cached(self, key: str, compute: Any) -> Any:
        """Memoise an expensive computation shared by several checks (e.g. the kernel-log scan)."""
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]
