"""The two data types of the log engine: a kernel log :class:`Record` and a classified :class:`Incident`.

Everything that reads logs (``scan``, ``watch``, ``oom``, ``disks``, audit checks) shares these types, and
``Incident.to_json()`` is the ``kerncheck.scan/1`` incident contract of DESIGN.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Optional

KINDS = (
    "panic", "oops", "bug", "warning", "kasan", "kmsan", "kcsan", "ubsan", "kfence", "soft_lockup",
    "hard_lockup", "hung_task", "rcu_stall", "oom_kill", "deadlock", "memory_leak", "fs_error",
    "fs_readonly", "io_error", "medium_error", "nvme_error", "mce", "edac", "other",
)
SEVERITIES = ("critical", "warning", "info")
KERNEL_FACILITY = 0


@dataclass
class Record:
    """One kernel log record, from any input format.

    ``level`` and ``facility`` are ``None`` when the format does not carry them (plain ``dmesg``, a serial
    console). ``line`` is the 1-based line of the input where the record starts. ``fields`` holds the
    ``/dev/kmsg`` dictionary (``SUBSYSTEM``, ``DEVICE``) or journald fields, never part of ``text``.
    """

    text: str
    source: str = ""
    line: int = 0
    level: Optional[int] = None
    facility: Optional[int] = None
    seq: Optional[int] = None
    ts_mono: Optional[float] = None  # seconds since boot
    wallclock: Optional[datetime] = None
    caller: Optional[str] = None  # "T123" (task) or "C1" (CPU) from CONFIG_PRINTK_CALLER
    fields: dict[str, str] = field(default_factory=dict)
    userspace: bool = False  # known not to come from the kernel (facility ≠ 0, or a non-kernel syslog tag)

    @property
    def is_kernel(self) -> bool:
        return not self.userspace and self.facility in (None, KERNEL_FACILITY)


@dataclass
class Incident:
    """One classified kernel event (an oops with its trace, an OOM kill with its report, …)."""

    kind: str
    severity: str
    title: str
    source: str = ""
    first_line: int = 0
    function: Optional[str] = None  # the culprit frame
    module: Optional[str] = None
    cause: Optional[str] = None  # soft lockups: nic_driver, filesystem, spinlock_contention, …
    device: Optional[str] = None
    process: Optional[dict[str, Any]] = None  # {"pid": int, "comm": str}
    count: int = 1
    first_seen: Optional[str] = None  # ISO 8601 wall clock, else "+<seconds since boot>s"
    last_seen: Optional[str] = None
    evidence: list[str] = field(default_factory=list)
    advice: str = ""
    taint: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)  # kind-specific: OOM victim, stuck_in, …

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "severity": self.severity,
            "title": self.title,
            "function": self.function,
            "module": self.module,
            "cause": self.cause,
            "device": self.device,
            "process": self.process,
            "count": self.count,
            "source": self.source,
            "first_line": self.first_line,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "evidence": self.evidence,
            "advice": self.advice,
            "taint": self.taint,
        }
        out.update({k: v for k, v in self.details.items() if k not in out})
        return out
