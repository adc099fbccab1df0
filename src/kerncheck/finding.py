"""Findings of audit checks: status, severity and the evidence behind them."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Optional


class Status(str, Enum):
    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"
    ERROR = "error"


class Severity(str, Enum):
    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"info": 0, "warning": 1, "critical": 2}[self.value]

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls(text.lower())
        except ValueError:
            raise ValueError(f"unknown severity {text!r} (critical, warning or info)") from None


@dataclass
class Result:
    """What a check function returns; the runner turns it into a :class:`Finding`.

    ``severity`` overrides the check's declared severity (e.g. a crashkernel that is a little small is a
    warning, one that cannot boot is critical). ``subject`` names the device, kernel or path a
    per-item finding is about.
    """

    status: Status
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)
    severity: Optional[Severity] = None
    fix: Optional[str] = None
    subject: Optional[str] = None


def passed(message: str, evidence: Optional[dict[str, Any]] = None, subject: Optional[str] = None) -> Result:
    return Result(Status.PASS, message, evidence or {}, subject=subject)


def failed(message: str, evidence: Optional[dict[str, Any]] = None, *, severity: Optional[Severity] = None,
           fix: Optional[str] = None, subject: Optional[str] = None) -> Result:
    return Result(Status.FAIL, message, evidence or {}, severity, fix, subject)


def skipped(reason: str, evidence: Optional[dict[str, Any]] = None, subject: Optional[str] = None) -> Result:
    return Result(Status.SKIP, reason, evidence or {}, subject=subject)


def errored(reason: str, evidence: Optional[dict[str, Any]] = None, subject: Optional[str] = None) -> Result:
    return Result(Status.ERROR, reason, evidence or {}, subject=subject)


@dataclass
class Finding:
    id: str
    status: Status
    severity: Severity
    title: str
    message: str
    evidence: dict[str, Any]
    fix: str
    subject: Optional[str] = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "status": self.status.value,
            "severity": self.severity.value,
            "title": self.title,
            "message": self.message,
            "evidence": self.evidence,
            "fix": self.fix,
        }
        if self.subject is not None:
            out["subject"] = self.subject
        return out


def exit_status(findings: list[Finding]) -> int:
    """Nagios convention: 0 ok, 1 warnings, 2 critical, 3 nothing could be evaluated."""
    evaluated = [f for f in findings if f.status in (Status.PASS, Status.FAIL)]
    if not evaluated:
        return 3
    worst = max((f.severity.rank for f in evaluated if f.status is Status.FAIL), default=0)
    return worst
