"""Run the registered checks against a Host and collect their findings."""

from __future__ import annotations

import traceback
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Optional

from kerncheck import registry
from kerncheck.facts import Context
from kerncheck.finding import Finding, Result, Severity, Status, exit_status
from kerncheck.host import Host, HostError

SCHEMA = "kerncheck.audit/1"


@dataclass
class AuditReport:
    host: dict[str, Any]
    findings: list[Finding]

    @property
    def exit_status(self) -> int:
        return exit_status(self.findings)

    def to_json(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "host": self.host, "findings": [f.to_json() for f in self.findings]}


def _finding(spec: registry.CheckSpec, result: Result) -> Finding:
    severity = result.severity if result.status is Status.FAIL and result.severity else spec.severity
    return Finding(
        id=spec.id,
        status=result.status,
        severity=severity,
        title=spec.title,
        message=result.message,
        evidence=result.evidence,
        fix=result.fix if result.fix is not None else (spec.fix if result.status is Status.FAIL else ""),
        subject=result.subject,
    )


def run_check(spec: registry.CheckSpec, ctx: Context, debug: bool = False) -> list[Finding]:
    """Run one check; host errors and bugs become ``error`` findings, never tracebacks."""
    try:
        outcome = spec.func(ctx)
        results = [outcome] if isinstance(outcome, Result) else list(outcome)
        if not results:
            results = [Result(Status.ERROR, "check returned no result")]
    except HostError as exc:
        results = [Result(Status.ERROR, f"could not read the host: {exc}")]
    except Exception as exc:  # a bug in a check must not hide the other checks
        detail = traceback.format_exc() if debug else f"{type(exc).__name__}: {exc}"
        results = [Result(Status.ERROR, f"internal error in check: {detail}")]
    return [_finding(spec, r) for r in results]


def select(ids: Optional[Iterable[str]] = None,
           skip: Optional[Iterable[str]] = None) -> list[registry.CheckSpec]:
    """Checks to run: all, or those whose ID starts with one of ``ids`` (``KC1`` selects KC1xx)."""
    checks = list(registry.load_all().values())
    if ids:
        wanted = [i.upper() for i in ids]
        checks = [c for c in checks if any(c.id.startswith(w) for w in wanted)]
    if skip:
        unwanted = [i.upper() for i in skip]
        checks = [c for c in checks if not any(c.id.startswith(u) for u in unwanted)]
    return checks


def host_info(ctx: Context) -> dict[str, Any]:
    return {
        "root": ctx.host.root,
        "kind": ctx.host.kind,
        "hostname": ctx.hostname,
        "kernel": ctx.kernel_release,
        "memory_bytes": ctx.mem_total or 0,
        "distribution": ctx.os_release.pretty_name if ctx.os_release else None,
        "family": ctx.family,
    }


def run_audit(host: Host, ids: Optional[Iterable[str]] = None, skip: Optional[Iterable[str]] = None,
              min_severity: Optional[Severity] = None, debug: bool = False) -> AuditReport:
    ctx = Context(host)
    findings: list[Finding] = []
    for spec in select(ids, skip):
        if min_severity is not None and spec.severity.rank < min_severity.rank:
            continue
        findings.extend(run_check(spec, ctx, debug))
    return AuditReport(host_info(ctx), findings)
