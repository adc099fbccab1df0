"""The lab's cases: what each boot provokes, how the guest is booted, and the text that proves it happened.

``expect`` are regular expressions that must all match the console (kernel text, plus the ``QLAB:``
markers init writes to ``/dev/kmsg``). A case the emulator cannot produce carries a ``limit``: it still
runs when asked, and the lab reports the limit with the evidence instead of pretending.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from lab.errors import UnknownCase

PANIC_LINE = r"Kernel panic - not syncing: "


@dataclass(frozen=True)
class Case:
    name: str
    summary: str
    expect: tuple[str, ...]
    panics: bool  # the boot ends in a kernel panic, not in init's poweroff
    mem: str = "512M"
    append: tuple[str, ...] = ()
    timeout: float = 60.0
    kdump: bool = False  # first-kernel kdump initramfs (kexec, capture kernel) and a dump disk
    crashkernel: Optional[str] = None
    init_case: Optional[str] = None  # qcase= for init, when it differs from the name
    limit: Optional[str] = None  # why this emulator cannot produce the incident

    @property
    def qcase(self) -> str:
        return self.init_case or self.name

    @property
    def kernel_args(self) -> tuple[str, ...]:
        args = ("console=ttyS0,115200", "panic=-1", "printk.time=1", f"qcase={self.qcase}", *self.append)
        return (*args, f"crashkernel={self.crashkernel}") if self.crashkernel else args

    @property
    def done_marker(self) -> str:
        return rf"QLAB: case {self.qcase} done"

    def all_expectations(self) -> tuple[str, ...]:
        return self.expect if self.panics else (*self.expect, self.done_marker)


def _kdump(name: str, size: str, summary: str, capture: tuple[str, ...] = ()) -> Case:
    """A kdump drill; only ``capture`` makes the capture kernel's success part of the expectation (the
    sweep sizes report their outcome instead)."""
    return Case(name, summary, (r"QSTATE-DONE", PANIC_LINE + "sysrq triggered crash", *capture), panics=True,
                mem="1G", timeout=150.0, kdump=True, crashkernel=size, init_case="kdump")


CASES: tuple[Case, ...] = (
    Case("panic", "panic() from a module", (PANIC_LINE + "crashtest: PANIC requested",), panics=True),
    Case("bug", "BUG() in a module (invalid opcode oops)",
         (r"kernel BUG at \S*crashtest\.c:\d+!", r"invalid opcode: 0000 \[#1\]"), panics=False),
    Case("warning", "WARN() in a module",
         (r"WARNING: CPU: \d+ PID: \d+ at \S*crashtest\.c:\d+ crashtest_warning", r"---\[ end trace"),
         panics=False),
    Case("oops", "NULL pointer write in a module",
         (r"BUG: kernel NULL pointer dereference, address: 0+\b", r"Oops: 0002 \[#1\]"), panics=False),
    Case("gpf", "write to a non-canonical address in a module",
         (r"general protection fault, probably for non-canonical address 0xdead000000000000",), panics=False),
    Case("atomic_sleep", "sleeping with preemption disabled", (r"BUG: scheduling while atomic: sh/\d+/",),
         panics=False),
    Case("oops_panic", "NULL pointer write with oops=panic",
         (r"Oops: 0002 \[#1\]", PANIC_LINE + "Fatal exception"), panics=True, append=("oops=panic",),
         init_case="oops"),
    Case("soft_lockup", "14 s spin with preemption disabled (watchdog_thresh=3)",
         (r"watchdog: BUG: soft lockup - CPU#\d+ stuck for \d+s! \[sh:\d+\]",), panics=False, timeout=90.0),
    Case("rcu_stall", "7 s spin with preemption disabled (rcu_cpu_stall_timeout=3)",
         (r"rcu: INFO: rcu_\w+ (self-)?detected stalls?",), panics=False, timeout=90.0,
         append=("rcupdate.rcu_cpu_stall_timeout=3",)),
    Case("hung_task", "30 s uninterruptible sleep (hung_task_timeout_secs=4)",
         (r"INFO: task sh:\d+ blocked for more than \d+ seconds\.",), panics=False, timeout=90.0),
    Case("oom", "global OOM: tail /dev/zero in a 256M guest",
         (r"invoked oom-killer", r"Out of memory: Killed process \d+ \(tail\)"), panics=False, mem="256M"),
    Case("memcg_oom", "memory-cgroup OOM: tail /dev/zero in a 32M cgroup v2",
         (r"invoked oom-killer", r"Memory cgroup out of memory: Killed process \d+ \(tail\)"), panics=False),
    Case("sysrq_c", "SysRq c (the crash trigger)",
         (r"sysrq: Trigger a crash", PANIC_LINE + "sysrq triggered crash"), panics=True),
    Case("sysrq_t", "SysRq t (task dump, not a crash)", (r"sysrq: Show State", r"task:init\s+state:"),
         panics=False),
    Case("sysrq_w", "SysRq w with one task in D state (not a crash)",
         (r"sysrq: Show Blocked State", r"task:sh\s+state:D"), panics=False),
    Case("init_exit", "PID 1 exits with status 3",
         (PANIC_LINE + r"Attempted to kill init! exitcode=0x00000300",), panics=True),
    Case("hard_lockup", "12 s spin with interrupts disabled (needs an NMI watchdog)",
         (r"Watchdog detected hard LOCKUP on cpu \d+",), panics=False, timeout=90.0,
         limit="TCG emulates no PMU, so the perf NMI watchdog never runs and a hard lockup goes unreported"),
    _kdump("kdump", "192M", "kdump drill: kexec -p, SysRq c, makedumpfile + vmcore-dmesg to a virtio disk",
           (r"QLAB: capture kernel up", r"QLAB: makedumpfile exit=0", r"QLAB: wrote dump to /dev/vda")),
    _kdump("kdump_128m", "128M", "kdump drill with crashkernel=128M"),
    _kdump("kdump_96m", "96M", "kdump drill with crashkernel=96M"),
    _kdump("kdump_64m", "64M", "kdump drill with crashkernel=64M"),
    Case("kdump_state", "readiness state with crashkernel=192M and the capture kernel loaded",
         (r"QSTATE-DONE",), panics=False, mem="1G", kdump=True, crashkernel="192M"),
    Case("kdump_state_none", "readiness state without crashkernel= (nothing loaded)",
         (r"QSTATE-DONE",), panics=False, mem="1G", kdump=True, init_case="kdump_state"),
)

BY_NAME = {case.name: case for case in CASES}
SWEEP = ("kdump_64m", "kdump_96m", "kdump_128m", "kdump")


def get(name: str) -> Case:
    try:
        return BY_NAME[name]
    except KeyError:
        raise UnknownCase(f"unknown case {name!r}; `python -m lab list` shows them") from None
