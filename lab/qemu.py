"""One guest boot under QEMU (TCG): serial console to a file, a hard timeout, and nothing left behind.

QEMU ends on its own when the guest powers off or panics (``panic=-1`` reboots at once, ``-no-reboot``
turns the reboot into an exit). A boot that overruns its timeout is terminated, then killed, and always
reaped; QEMU also runs under coreutils ``timeout``, so it ends even if the harness itself dies.
At most two guests run at once on this machine, whoever starts them: each boot holds one of two slot
lock files in the cache directory for its lifetime (``KERNCHECK_LAB_GUESTS=1`` allows only one).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from lab.errors import LabError, LabUnavailable

MAX_GUESTS = 2
SLOT_WAIT = 600.0  # seconds to wait for a free guest slot before giving up
KILL_GRACE = 5.0


def qemu_binary() -> str:
    found = shutil.which("qemu-system-x86_64")
    if not found:
        raise LabUnavailable("qemu-system-x86_64 is not installed (Debian package qemu-system-x86)")
    return found


def max_guests() -> int:
    try:
        wanted = int(os.environ.get("KERNCHECK_LAB_GUESTS", MAX_GUESTS))
    except ValueError:
        wanted = MAX_GUESTS
    return max(1, min(MAX_GUESTS, wanted))


@contextlib.contextmanager
def guest_slot(root: Path, timeout: float = SLOT_WAIT) -> Iterator[int]:
    """Hold one of the machine-wide guest slots (a ``flock`` on ``root/slots/<n>``)."""
    slots = root / "slots"
    slots.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout
    while True:
        for n in range(max_guests()):
            fd = os.open(slots / str(n), os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                continue
            try:
                yield n
            finally:
                os.close(fd)
            return
        if time.monotonic() > deadline:
            raise LabError(f"no free guest slot within {timeout:.0f} s ({max_guests()} guests already run)")
        time.sleep(0.25)


@dataclass(frozen=True)
class BootSpec:
    kernel: Path
    initrd: Path
    append: str
    mem: str = "512M"
    smp: int = 2
    timeout: float = 60.0
    drives: tuple[Path, ...] = ()

    def argv(self, console: Path) -> list[str]:
        argv = [qemu_binary(), "-accel", "tcg", "-cpu", "max", "-smp", str(self.smp), "-m", self.mem,
                "-nodefaults", "-display", "none", "-no-reboot", "-serial", f"file:{console}",
                "-kernel", str(self.kernel), "-initrd", str(self.initrd)]
        for drive in self.drives:
            argv += ["-drive", f"file={drive},format=raw,if=virtio"]
        return [*argv, "-append", self.append]


@dataclass
class BootResult:
    console: str  # serial output, CRLF normalised to LF, otherwise as printed
    returncode: Optional[int]
    timed_out: bool
    wall: float
    stderr: str = ""
    argv: list[str] = field(default_factory=list)
    pid: int = 0  # QEMU's, already reaped


def normalise(raw: bytes) -> str:
    """Serial bytes as text: CRLF → LF, undecodable bytes replaced; nothing else is touched."""
    return raw.decode("utf-8", errors="replace").replace("\r\n", "\n")


def _stop(proc: subprocess.Popen) -> None:
    """Terminate, then kill, QEMU's process group, and reap it."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(KILL_GRACE)
    proc.wait()


def boot(spec: BootSpec, slot_root: Path, extra_argv: Sequence[str] = ()) -> BootResult:
    """Boot once and return the console; raises :class:`LabError` only when QEMU could not start."""
    with tempfile.TemporaryDirectory(prefix="kerncheck-lab-") as tmp:
        console = Path(tmp) / "console.log"
        console.touch()
        argv = [*spec.argv(console), *extra_argv]
        # A backstop that needs no Python: should this process die, coreutils' timeout still ends QEMU.
        backstop = shutil.which("timeout")
        if backstop:
            argv = [backstop, "--kill-after=5", f"{spec.timeout + 15:.0f}", *argv]
        with guest_slot(slot_root), open(Path(tmp) / "stderr", "w+b") as err:
            started = time.monotonic()
            try:
                proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                                        start_new_session=True)
            except OSError as exc:
                raise LabUnavailable(f"cannot start {argv[0]}: {exc.strerror}") from None
            timed_out = False
            try:
                proc.wait(spec.timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                _stop(proc)
            wall = time.monotonic() - started
            err.seek(0)
            stderr = err.read().decode(errors="replace").strip()
        text = normalise(console.read_bytes())
    if not text and proc.returncode not in (0, None) and not timed_out:
        raise LabError(f"QEMU exited with status {proc.returncode} and no console output: {stderr[-500:]}")
    return BootResult(text, proc.returncode, timed_out, wall, stderr, argv, proc.pid)
