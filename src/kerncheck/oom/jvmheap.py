"""Java heaps against the memory they must fit in: the cgroup limit of the JVM, else the host's RAM.

The maximum heap comes from the JVM's options (:mod:`kerncheck.parsers.jvm`: command line, ``@argfiles``,
``JAVA_TOOL_OPTIONS``/``JDK_JAVA_OPTIONS``/``_JAVA_OPTIONS``) and HotSpot's own ergonomics. A JVM needs
memory beyond its heap (metaspace, code cache, GC structures, thread stacks); kerncheck adds a stated
estimate of that. Only the JVM option variables of a process environment are ever read or kept.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import Any, Optional

from kerncheck.host import AccessDenied, CommandUnavailable, Host, HostError
from kerncheck.memcgroups import MemoryHierarchy, MemoryLimit, memory_limit
from kerncheck.parsers.jvm import ENV_VARS, JvmOptions, expand_argfiles, parse_environ, parse_jvm_options
from kerncheck.parsers.units import MiB, human
from kerncheck.processes import Process

WARN_SHARE = 0.75
# Beyond the heap: GC/remembered-set structures ≈ 10 % of the heap, plus metaspace, code cache and the VM
# itself (≈ 96 MiB for a mid-sized application), plus one stack per thread.
GC_OVERHEAD = 0.10
VM_BASE = 96 * MiB
# What `kerncheck collect` runs to keep only the JVM option variables of every process environment.
ENV_COMMAND = ("sh", "-c", "grep -asHz -E '^(" + "|".join(ENV_VARS) + ")=' /proc/[0-9]*/environ")
_ENV_RECORD = re.compile(rb"^/proc/(\d+)/environ:(.*)$", re.S)


def is_java(proc: Process) -> bool:
    return (bool(proc.argv) and posixpath.basename(proc.argv[0]) == "java") or proc.comm == "java"


@dataclass
class JvmFit:
    proc: Process
    options: JvmOptions
    heap_bytes: int
    native_bytes: int
    limit_bytes: int
    limit_source: str  # "memory cgroup /x (memory.limit_in_bytes)" or "host RAM"
    env_note: Optional[str] = None  # why the environment could not be read, if so
    neighbours: list[JvmFit] = field(default_factory=list)  # other JVMs under the same limit

    @property
    def need_bytes(self) -> int:
        return self.heap_bytes + self.native_bytes

    @property
    def share(self) -> float:
        return self.need_bytes / self.limit_bytes

    @property
    def scope_need_bytes(self) -> int:
        return self.need_bytes + sum(n.need_bytes for n in self.neighbours)

    @property
    def severity(self) -> Optional[str]:
        if self.heap_bytes >= self.limit_bytes or self.scope_need_bytes >= self.limit_bytes:
            return "critical"
        if self.scope_need_bytes >= WARN_SHARE * self.limit_bytes:
            return "warning"
        return None

    @property
    def subject(self) -> str:
        main = f" {posixpath.basename(self.options.main)}" if self.options.main else ""
        return f"java{main} (pid {self.proc.pid})"

    def message(self) -> str:
        text = (f"max heap {human(self.heap_bytes)} ({self.options.heap_source()}) + ~{human(self.native_bytes)} "
                f"beyond the heap = {self.share:.0%} of {human(self.limit_bytes)} ({self.limit_source})")
        if self.neighbours:
            others = ", ".join(n.subject for n in self.neighbours)
            text += (f"; with {others} under the same limit: "
                     f"{self.scope_need_bytes / self.limit_bytes:.0%}")
        text += f"; RSS now {human(self.proc.rss_kb * 1024)}"
        if self.severity == "critical" and self.heap_bytes >= self.limit_bytes:
            text += ". The heap alone reaches the limit: the kernel kills the JVM before its GC even has to work"
        elif self.severity == "critical":
            text += ". Heap plus JVM overhead exceeds the limit: the JVM is OOM-killed once the heap fills"
        elif self.severity == "warning":
            text += ". Little room is left for the page cache, off-heap buffers and other processes"
        if self.env_note:
            text += f" ({self.env_note})"
        return text

    def fix(self) -> str:
        target = int(self.limit_bytes * 0.6)
        return (f"Size the heap to leave room outside it: -Xmx{target // MiB}m (≈ 60 % of "
                f"{human(self.limit_bytes)}) or -XX:MaxRAMPercentage=60, or raise the limit; do not just restart it.")

    def to_json(self) -> dict[str, Any]:
        return {"pid": self.proc.pid, "main": self.options.main, "memcg": self.proc.memcg,
                "heap_bytes": self.heap_bytes, "heap_source": self.options.heap_source(),
                "native_estimate_bytes": self.native_bytes, "limit_bytes": self.limit_bytes,
                "limit_source": self.limit_source, "share": round(self.share, 3),
                "rss_bytes": self.proc.rss_kb * 1024, "severity": self.severity,
                "same_limit": [n.proc.pid for n in self.neighbours],
                "unreadable_argfiles": self.options.unreadable_argfiles, "environment": self.env_note}


def snapshot_environments(host: Host) -> dict[int, dict[str, str]]:
    """JVM option variables per PID from a snapshot's filtered environment record (see ENV_COMMAND)."""
    out: dict[int, dict[str, str]] = {}
    result = host.run(list(ENV_COMMAND))
    for record in result.stdout.encode("utf-8", "surrogateescape").split(b"\0"):
        m = _ENV_RECORD.match(record)
        if m:
            out.setdefault(int(m.group(1)), {}).update(parse_environ(m.group(2)))
    return out


def _environment(host: Host, pid: int, captured: Optional[dict[int, dict[str, str]]]) -> tuple[dict[str, str],
                                                                                             Optional[str]]:
    if captured is not None:
        return captured.get(pid, {}), None
    try:
        return parse_environ(host.read_bytes(f"/proc/{pid}/environ")), None
    except AccessDenied:
        return {}, "its environment is not readable without root: JAVA_TOOL_OPTIONS and friends not seen"
    except HostError as exc:
        return {}, f"environment not read: {exc.reason}"


def _argfile_reader(host: Host, pid: int) -> Any:
    def read(name: str) -> Optional[str]:
        path = name if name.startswith("/") else f"/proc/{pid}/cwd/{name}"
        try:
            return host.read_text(path)
        except HostError:
            return None
    return read


def assess_jvms(host: Host, procs: list[Process], host_ram: int,
                hierarchy: Optional[MemoryHierarchy]) -> list[JvmFit]:
    """Every running JVM with its heap, overhead estimate and the limit it must fit in."""
    captured: Optional[dict[int, dict[str, str]]] = None
    env_note: Optional[str] = None
    if not host.is_live:
        try:
            captured = snapshot_environments(host)
        except CommandUnavailable:
            captured, env_note = {}, "the JVM option variables were not captured in this snapshot"
    fits: list[JvmFit] = []
    limits: dict[str, Optional[MemoryLimit]] = {}
    for proc in procs:
        if not is_java(proc):
            continue
        env, note = _environment(host, proc.pid, captured)
        argv, unreadable = expand_argfiles(proc.argv, _argfile_reader(host, proc.pid))
        options = parse_jvm_options(argv, env)
        options.unreadable_argfiles = unreadable
        limit: Optional[MemoryLimit] = None
        if hierarchy is not None and proc.memcg:
            if proc.memcg not in limits:
                limits[proc.memcg] = memory_limit(host, hierarchy, proc.memcg)
            limit = limits[proc.memcg]
        cg_bytes = limit.limit_bytes if limit and limit.limit_bytes and limit.limit_bytes < host_ram else None
        heap = options.max_heap_bytes(host_ram, cg_bytes)
        native = int(GC_OVERHEAD * heap) + VM_BASE + (proc.threads or 1) * options.thread_stack_bytes
        source = f"{limit.file} of cgroup {limit.set_by}" if cg_bytes is not None and limit else "host RAM"
        fits.append(JvmFit(proc, options, heap, native, cg_bytes or host_ram, source, note or env_note))
    for fit in fits:
        fit.neighbours = [o for o in fits if o is not fit and o.limit_source == fit.limit_source
                          and o.limit_bytes == fit.limit_bytes]
    return fits
