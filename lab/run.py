"""Run a case: prepare the guest (kernel cache, images, dump disk), boot once, judge the console."""

from __future__ import annotations

import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from lab import cache, dump, images, qemu
from lab.cases import Case
from lab.errors import LabError
from lab.snapshot import CrashDump, GuestState, parse_state, write_snapshot


@dataclass(frozen=True)
class Guest:
    """Everything a boot needs, prepared once per process."""

    kernel: cache.Kernel
    images: images.Images
    root: Path

    @classmethod
    def prepare(cls, offline: bool = False) -> Guest:
        qemu.qemu_binary()  # fail early and clearly when QEMU is missing
        root = cache.cache_root()
        kernel = cache.kernel(root, offline=offline)
        return cls(kernel, images.images(kernel), root)


@dataclass
class KdumpOutcome:
    code: str  # captured | no_reservation | not_loaded | capture_failed | no_capture
    detail: str

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}" if self.detail else self.code


@dataclass
class CaseRun:
    case: Case
    console: str
    wall: float
    returncode: Optional[int]
    timed_out: bool
    missing: list[str] = field(default_factory=list)
    state: Optional[GuestState] = None
    state_error: Optional[str] = None
    vmcore: Optional[Path] = None
    vmcore_dmesg: Optional[str] = None
    kdump: Optional[KdumpOutcome] = None

    @property
    def ok(self) -> bool:
        return not self.timed_out and not self.missing and not self.state_error

    def verdict(self) -> str:
        """One line: what happened, and why the case failed if it did."""
        if self.timed_out:
            return f"guest did not finish within {self.case.timeout:.0f} s and was killed"
        if self.missing and self.case.limit:
            evidence = limit_evidence(self.console)
            return f"not produced — known limit: {self.case.limit}" + (f" (guest: {evidence!r})" if evidence else "")
        if self.missing:
            return "expected text missing: " + "; ".join(self.missing)
        if self.state_error:
            return self.state_error
        return "ok" + (f"; kdump {self.kdump}" if self.kdump else "")

    def write_snapshot(self, dest: Path) -> Path:
        if self.state is None:
            raise LabError(self.state_error or f"case {self.case.name} prints no readiness state")
        dumps: tuple[CrashDump, ...] = ()
        if self.vmcore is not None and self.vmcore_dmesg is not None:
            dumps = (CrashDump(self.vmcore, self.vmcore_dmesg),)
        return write_snapshot(self.state, dest, f"kerncheck QEMU lab, case {self.case.name}", dumps)


def limit_evidence(console: str) -> Optional[str]:
    m = re.search(r"^.*NMI watchdog.*(disabled|not|fail).*$", console, re.M | re.I)
    return m.group(0).strip() if m else None


def missing_expectations(case: Case, console: str) -> list[str]:
    return [pattern for pattern in case.all_expectations() if not re.search(pattern, console, re.M)]


def kdump_outcome(console: str, saved: Optional[dump.SavedDump]) -> KdumpOutcome:
    """What became of the crash: dump saved, or where the chain broke, with the guest's own words."""
    if saved is not None and saved.makedumpfile_rc == 0:
        return KdumpOutcome("captured", "")
    if re.search(r"QLAB: no crashkernel reservation", console):
        return KdumpOutcome("no_reservation", "no crashkernel= region, nothing to load")
    m = re.search(r"QLAB: kexec -p exit=(\d+) kexec_crash_loaded=(\d)", console)
    if m and m.group(2) != "1":
        errors = re.findall(r"^(?:Could not find|locate_hole failed|Cannot load|kexec_load failed).*$",
                            console, re.M)
        return KdumpOutcome("not_loaded", f"kexec -p exit {m.group(1)}: {' / '.join(errors) or 'no message'}")
    tail = capture_kernel_console(console)
    if tail is None:
        return KdumpOutcome("no_capture", "the capture kernel never started")
    if saved is not None:
        return KdumpOutcome("capture_failed", f"makedumpfile exit {saved.makedumpfile_rc}")
    found = [re.search(pattern, tail, re.M) for pattern in
             (r"Out of memory: Killed process \d+ \(\S+\)", r"Kernel panic - not syncing: .*$")]
    detail = " / ".join(m.group(0).strip() for m in found if m)
    return KdumpOutcome("capture_failed", detail or "the capture kernel saved nothing")


def capture_kernel_console(console: str) -> Optional[str]:
    """The capture kernel's part of a kdump console: from the first boot banner after the first panic."""
    panic = re.search(r"Kernel panic - not syncing: ", console)
    if not panic:
        return None
    banner = re.compile(r"^\[\s*0\.000000\] Linux version ", re.M).search(console, panic.end())
    return console[banner.start():] if banner else None


def run_case(case: Case, guest: Guest, outdir: Optional[Path] = None, timeout: Optional[float] = None) -> CaseRun:
    """Boot ``case`` once. Dump files (kdump cases) are written to ``outdir``, which the caller owns."""
    with tempfile.TemporaryDirectory(prefix="kerncheck-lab-case-") as tmp:
        work = Path(tmp)
        drives: tuple[Path, ...] = ()
        initrd = guest.images.initrd
        if case.kdump:
            initrd = guest.images.kdump_initrd
            drives = (dump.create_disk(work / "dumpdisk.img"),)
        spec = qemu.BootSpec(guest.kernel.vmlinuz, initrd, " ".join(case.kernel_args), mem=case.mem,
                             timeout=timeout or case.timeout, drives=drives)
        result = qemu.boot(spec, guest.root)
        run = CaseRun(case, result.console, result.wall, result.returncode, result.timed_out,
                      missing_expectations(case, result.console))
        if "QSTATE-BEGIN" in result.console or case.kdump:
            try:
                run.state = parse_state(result.console)
            except LabError as exc:
                run.state_error = str(exc)
        if case.kdump and case.qcase == "kdump":
            saved = dump.read_disk(drives[0], work)
            run.kdump = kdump_outcome(result.console, saved)
            if saved is not None and saved.makedumpfile_rc == 0:
                run.vmcore_dmesg = saved.dmesg
                if outdir is not None:
                    run.vmcore = dump.rebuild_vmcore(saved.flat, outdir / f"{case.name}.vmcore")
    return run


def run_many(cases: list[Case], guest: Guest, jobs: int, outdir: Optional[Path] = None,
             done: Optional[Callable[[CaseRun], None]] = None) -> list[CaseRun]:
    """Run ``cases`` with at most ``jobs`` guests at a time (and never more than the machine-wide cap)."""
    jobs = max(1, min(jobs, qemu.max_guests()))

    def one(case: Case) -> CaseRun:
        run = run_case(case, guest, outdir)
        if done:
            done(run)
        return run

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(one, cases))
