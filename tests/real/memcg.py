"""Real memory-cgroup OOM kills for tests (cgroup v1 ``memory.limit_in_bytes`` or v2 ``memory.max``).

    with MemoryCgroup.create(limit_mb=48) as cg:       # skips the test with a reason if impossible
        victim = cg.oom_kill(comm="kc-oom-victim", allocate_mb=256)
    victim.pid, victim.comm, victim.returncode          # -9: killed by the OOM killer

The cgroup is removed on exit, also when the test fails.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from typing import Optional

import pytest

V1_ROOT = "/sys/fs/cgroup/memory"
V2_ROOT = "/sys/fs/cgroup"

# The child names itself (comm), then allocates and touches memory in 1 MiB steps until killed.
_HOG = r"""
import sys, time
with open('/proc/self/comm', 'w') as fh:
    fh.write(sys.argv[1])
step = int(sys.argv[3]) if len(sys.argv) > 3 else 0
hold = []
for _ in range(int(sys.argv[2])):
    hold.append(bytearray(1 << 20))
    if step:
        time.sleep(step / 1000)
time.sleep(float(sys.argv[4]) if len(sys.argv) > 4 else 0)
"""


@dataclass
class Victim:
    pid: int
    comm: str
    returncode: Optional[int]


def _read(path: str) -> str:
    with open(path) as fh:
        return fh.read()


def _write(path: str, value: str) -> None:
    with open(path, "w") as fh:
        fh.write(value)


class MemoryCgroup:
    def __init__(self, path: str, version: int, limit_bytes: int) -> None:
        self.path = path
        self.version = version
        self.limit_bytes = limit_bytes

    @classmethod
    def create(cls, limit_mb: int = 48, name: Optional[str] = None) -> MemoryCgroup:
        """Create a memory cgroup with a hard limit, or skip the calling test with the reason."""
        if os.geteuid() != 0:
            pytest.skip("memory cgroups need root")
        name = name or f"kerncheck-test-{uuid.uuid4().hex[:8]}"
        limit = limit_mb << 20
        if os.path.isfile(os.path.join(V1_ROOT, "memory.limit_in_bytes")):
            path = os.path.join(V1_ROOT, name)
            os.mkdir(path)
            cg = cls(path, 1, limit)
            try:
                _write(os.path.join(path, "memory.limit_in_bytes"), str(limit))
                swap = os.path.join(path, "memory.memsw.limit_in_bytes")
                if os.path.exists(swap):
                    _write(swap, str(limit))
            except OSError as exc:
                cg.remove()
                pytest.skip(f"cannot set a cgroup v1 memory limit: {exc}")
            return cg
        controllers = os.path.join(V2_ROOT, "cgroup.controllers")
        if os.path.isfile(controllers) and "memory" in _read(controllers).split():
            try:
                _write(os.path.join(V2_ROOT, "cgroup.subtree_control"), "+memory")
            except OSError:
                pass
            path = os.path.join(V2_ROOT, name)
            os.mkdir(path)
            cg = cls(path, 2, limit)
            try:
                _write(os.path.join(path, "memory.max"), str(limit))
                if os.path.exists(os.path.join(path, "memory.swap.max")):
                    _write(os.path.join(path, "memory.swap.max"), "0")
            except OSError as exc:
                cg.remove()
                pytest.skip(f"cannot set a cgroup v2 memory.max: {exc}")
            return cg
        pytest.skip("no memory cgroup controller (neither v1 memory.limit_in_bytes nor v2 memory.max)")

    @property
    def kernel_path(self) -> str:
        """The cgroup path as the kernel prints it in OOM reports (``/kerncheck-test-…``)."""
        return "/" + os.path.basename(self.path)

    def spawn(self, comm: str, allocate_mb: int, step_ms: int = 0, hold_s: float = 0) -> subprocess.Popen:
        """Start a process inside the cgroup that allocates ``allocate_mb`` MiB (slowly if ``step_ms``)."""
        procs = os.path.join(self.path, "cgroup.procs")

        def join() -> None:
            _write(procs, str(os.getpid()))

        return subprocess.Popen(
            [sys.executable, "-c", _HOG, comm, str(allocate_mb), str(step_ms), str(hold_s)],
            preexec_fn=join, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        )

    def oom_kill(self, comm: str = "kc-oom-victim", allocate_mb: int = 256, timeout: float = 30) -> Victim:
        """Run a hog past the limit and wait until the OOM killer kills it."""
        proc = self.spawn(comm, allocate_mb)
        try:
            rc = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise AssertionError(f"{comm} was not OOM-killed within {timeout}s") from None
        return Victim(proc.pid, comm[:15], rc)

    def remove(self) -> None:
        procs = os.path.join(self.path, "cgroup.procs")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                pids = [int(p) for p in _read(procs).split()]
            except OSError:
                break
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.05)
        for _ in range(50):
            try:
                os.rmdir(self.path)
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.1)

    def __enter__(self) -> MemoryCgroup:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()
