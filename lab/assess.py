"""What kerncheck must report for each case's console, and the check of a ``kerncheck.scan/1`` report.

The expectations follow DESIGN.md's scan contract: the incident ``kind``; the culprit ``function`` (the
module's own function, never ``delay_tsc``, ``schedule`` or ``dump_stack``); the ``module``; the task;
the OOM victim. SysRq ``t``/``w`` dumps, the hard-lockup attempt the emulator cannot detect and the plain
readiness-state boots must yield no crash-class incident at all.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from lab.errors import LabError

SCHEMA = "kerncheck.scan/1"
# Incident kinds that mean the kernel crashed, hung or killed something (not info-level noise).
CRASH_KINDS = frozenset({"panic", "oops", "bug", "warning", "kasan", "kmsan", "kcsan", "ubsan", "kfence",
                         "soft_lockup", "hard_lockup", "hung_task", "rcu_stall", "oom_kill", "deadlock"})


@dataclass(frozen=True)
class Expected:
    """The incident a case must produce; ``kind=None`` means no crash-class incident at all."""

    kind: Optional[str]
    function: Optional[str] = None
    module: Optional[str] = None
    comm: Optional[str] = None  # the reporting task
    victim: Optional[str] = None  # the OOM victim's comm
    title: Optional[str] = None  # a substring of the title
    also: frozenset[str] = frozenset()  # further crash kinds this console must hold
    tolerated: frozenset[str] = frozenset()  # crash kinds it may hold, depending on interpretation
    several: bool = False  # more than one incident of ``kind`` is right (two kernels in one console)


def _module_case(kind: str, function: str) -> Expected:
    return Expected(kind, function=function, module="crashtest", comm="sh")


EXPECTED: dict[str, Expected] = {
    "panic": _module_case("panic", "crashtest_panic"),
    "bug": _module_case("bug", "crashtest_bug"),
    "warning": _module_case("warning", "crashtest_warning"),
    "oops": _module_case("oops", "crashtest_null_deref"),
    "gpf": _module_case("oops", "crashtest_gpf"),
    # The scheduler resets the preempt count when it reports the bug; the module's preempt_enable() then
    # underflows it, and the shell's exit trips a second, distinct report in do_task_dead.
    "atomic_sleep": Expected("bug", function="crashtest_atomic_sleep", module="crashtest", comm="sh",
                             several=True),
    "oops_panic": _module_case("oops", "crashtest_null_deref"),
    "soft_lockup": _module_case("soft_lockup", "crashtest_soft_lockup"),
    "rcu_stall": _module_case("rcu_stall", "crashtest_rcu_stall"),
    "hung_task": _module_case("hung_task", "crashtest_hung_task"),
    "oom": Expected("oom_kill", victim="tail"),
    "memcg_oom": Expected("oom_kill", victim="tail"),
    "sysrq_c": Expected("panic", function="sysrq_handle_crash", comm="init"),
    "sysrq_t": Expected(None),
    "sysrq_w": Expected(None),
    "init_exit": Expected("panic", comm="init", title="kill init"),
    # No NMI watchdog under TCG, so no hard-lockup report. While one vCPU spins with interrupts off, the
    # other may genuinely soft-lock waiting for its IPI (smp_call_function): a real report, tolerated.
    "hard_lockup": Expected(None, tolerated=frozenset({"soft_lockup"})),
    "kdump": Expected("panic", function="sysrq_handle_crash", comm="init"),
    "kdump_128m": Expected("panic", function="sysrq_handle_crash", comm="init"),
    # The capture kernel ran out of memory: makedumpfile is OOM-killed, then "System is deadlocked on memory".
    # The allocation failure that follows is a kernel warning (warn_alloc) in its own right.
    "kdump_96m": Expected("panic", function="sysrq_handle_crash", comm="init", also=frozenset({"oom_kill"}),
                          tolerated=frozenset({"warning"}), several=True),
    "kdump_64m": Expected("panic", function="sysrq_handle_crash", comm="init"),
    "kdump_state": Expected(None),
    "kdump_state_none": Expected(None),
}


def scan(path: Path, timeout: float = 120.0) -> dict[str, Any]:
    """``kerncheck scan --format json PATH`` (the real command line), parsed."""
    argv = [sys.executable, "-m", "kerncheck", "scan", "--format", "json", str(path)]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise LabError(f"kerncheck scan {path} took more than {timeout:.0f} s") from None
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        raise LabError(f"kerncheck scan {path} printed no JSON (exit {proc.returncode}): "
                       f"{proc.stderr.strip()[-400:]}") from None
    if report.get("schema") != SCHEMA:
        raise LabError(f"kerncheck scan {path}: schema {report.get('schema')!r}, expected {SCHEMA}")
    return report


def audit(root: Path, checks: tuple[str, ...], timeout: float = 120.0) -> dict[str, dict[str, Any]]:
    """``kerncheck audit --root ROOT --check … --format json``: check ID → finding."""
    argv = [sys.executable, "-m", "kerncheck", "audit", "--root", str(root), "--format", "json"]
    for check in checks:
        argv += ["--check", check]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise LabError(f"kerncheck audit --root {root} took more than {timeout:.0f} s") from None
    try:
        findings = json.loads(proc.stdout)["findings"]
    except (ValueError, KeyError, TypeError):
        raise LabError(f"kerncheck audit --root {root} printed no audit JSON (exit {proc.returncode}): "
                       f"{proc.stderr.strip()[-400:]}") from None
    return {finding["id"]: finding for finding in findings}


def victim_comm(incident: dict[str, Any]) -> Optional[str]:
    victim = incident.get("victim")
    if isinstance(victim, dict):
        return victim.get("comm")
    return victim if isinstance(victim, str) else None


def main_incident(expected: Expected, report: dict[str, Any]) -> Optional[dict[str, Any]]:
    return next((i for i in report["incidents"] if i["kind"] == expected.kind), None)


def judge(expected: Expected, report: dict[str, Any]) -> list[str]:
    """Every way ``report`` falls short of ``expected`` (empty: kerncheck got it right)."""
    incidents = report["incidents"]
    crash_kinds = sorted({i["kind"] for i in incidents if i["kind"] in CRASH_KINDS})
    if expected.kind is None:
        problems = [f"reported a crash-class incident: {i['kind']} {i['title']!r}"
                    for i in incidents if i["kind"] in CRASH_KINDS - expected.tolerated]
        problems += [f"reported a critical incident: {i['kind']} {i['title']!r}"
                     for i in incidents if i["severity"] == "critical" and i["kind"] not in CRASH_KINDS]
        return problems
    allowed = {expected.kind} | expected.also
    problems = [f"unexpected incident kind {kind}" for kind in crash_kinds
                if kind not in allowed | expected.tolerated]
    problems += [f"no {kind} incident" for kind in sorted(allowed) if kind not in crash_kinds]
    incident = main_incident(expected, report)
    if incident is None:
        return problems
    if not expected.several and sum(1 for i in incidents if i["kind"] == expected.kind) > 1:
        problems.append(f"{expected.kind} split into several incidents")
    wanted = {"function": expected.function, "module": expected.module}
    for key, value in wanted.items():
        if value is not None and incident.get(key) != value:
            problems.append(f"{key} {incident.get(key)!r}, expected {value!r}")
    if expected.comm is not None and (incident.get("process") or {}).get("comm") != expected.comm:
        problems.append(f"process {incident.get('process')!r}, expected comm {expected.comm!r}")
    if expected.victim is not None and victim_comm(incident) != expected.victim:
        problems.append(f"OOM victim {incident.get('victim')!r}, expected comm {expected.victim!r}")
    if expected.title is not None and expected.title not in incident.get("title", ""):
        problems.append(f"title {incident.get('title')!r} lacks {expected.title!r}")
    return problems


def summary(expected: Expected, report: dict[str, Any]) -> str:
    """``kind/function`` of the case's incident as kerncheck reported it (for tables)."""
    if expected.kind is None:
        kinds = sorted({i["kind"] for i in report["incidents"]})
        return "no crash incident" + (f" (other: {', '.join(kinds)})" if kinds else "")
    incident = main_incident(expected, report)
    if incident is None:
        return f"no {expected.kind} incident"
    detail = incident.get("function") or victim_comm(incident) or "-"
    return f"{incident['kind']}/{detail}"
