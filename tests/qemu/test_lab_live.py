"""Each lab case, live: the real kernel produces the incident, and kerncheck reports it as it should."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from kerncheck.cli import COMMANDS
from lab import assess, cases, dump, qemu
from lab.run import CaseRun, Guest

pytestmark = pytest.mark.qemu
REPO = Path(__file__).resolve().parent.parent.parent
ORDINARY = [c.name for c in cases.CASES if not c.kdump and not c.limit]


def _scan(run: CaseRun, tmp_path: Path) -> dict:
    if "scan" not in COMMANDS:
        pytest.skip("`kerncheck scan` (issue 3, the log engine) is not registered yet")
    log = tmp_path / f"{run.case.name}.log"
    log.write_text(run.console)
    return assess.scan(log)


@pytest.mark.parametrize("case_name", ORDINARY)
def test_kernel_produces_the_incident_and_kerncheck_reports_it(case_name, lab_runs, tmp_path):
    run = lab_runs[case_name]
    assert run.ok, f"{run.verdict()}\n--- console tail ---\n{run.console[-3000:]}"
    assert run.returncode == 0 and not run.timed_out
    report = _scan(run, tmp_path)
    assert assess.judge(assess.EXPECTED[case_name], report) == [], report["incidents"]


@pytest.mark.parametrize("case_name", ["hard_lockup"])
def test_hard_lockup_is_reported_as_an_emulator_limit(case_name, lab_runs, tmp_path):
    run = lab_runs[case_name]
    assert not run.timed_out, "the interrupts-off spin is bounded; the guest must still power off"
    assert not run.ok and run.verdict().startswith("not produced — known limit: TCG emulates no PMU")
    assert "Perf NMI watchdog permanently disabled" in run.verdict()
    report = _scan(run, tmp_path)
    assert assess.judge(assess.EXPECTED[case_name], report) == [], report["incidents"]


@pytest.mark.parametrize("case_name", ["kdump"])
def test_kdump_drill_captures_a_real_dump_that_kerncheck_finds(case_name, lab_runs, tmp_path):
    run = lab_runs[case_name]
    assert run.ok, f"{run.verdict()}\n--- console tail ---\n{run.console[-3000:]}"
    assert run.kdump is not None and run.kdump.code == "captured", run.kdump
    assert run.vmcore is not None and dump.vmcore_header(run.vmcore) == "KDUMP   "
    assert run.vmcore.stat().st_size > 1 << 20
    assert "Kernel panic - not syncing: sysrq triggered crash" in (run.vmcore_dmesg or "")
    snap = run.write_snapshot(tmp_path / "after-reboot")
    crash_dirs = list((snap / "var" / "crash").iterdir())
    assert len(crash_dirs) == 1 and (crash_dirs[0] / "vmcore-dmesg.txt").exists()
    kc203 = assess.audit(snap, ("KC203",))["KC203"]
    assert kc203["status"] == "fail", kc203  # recent unread evidence: read it before rebooting past it
    assert any(crash_dirs[0].name in key and "vmcore" in key for key in kc203["evidence"]), kc203
    if "scan" not in COMMANDS:
        pytest.skip("`kerncheck scan` (issue 3, the log engine) is not registered yet")
    report = assess.scan(crash_dirs[0] / "vmcore-dmesg.txt")
    assert assess.judge(assess.Expected("panic", function="sysrq_handle_crash", comm="init"), report) == [], \
        report["incidents"]


@pytest.mark.parametrize("case_name", ["kdump_64m", "kdump_96m", "kdump_128m"])
def test_crashkernel_sweep_and_kc102_warning_before_the_crash(case_name, lab_runs, tmp_path):
    run = lab_runs[case_name]
    assert run.ok, f"{run.verdict()}\n--- console tail ---\n{run.console[-3000:]}"
    assert run.kdump is not None
    findings = assess.audit(run.write_snapshot(tmp_path / "before-crash"), ("KC101", "KC102"))
    if case_name == "kdump_64m":  # the 64M region cannot even hold the capture kernel
        assert run.kdump.code == "not_loaded" and "locate_hole failed" in run.kdump.detail
        assert findings["KC101"]["status"] == "fail", findings["KC101"]
    elif case_name == "kdump_96m":  # loads, boots, runs out of memory while dumping
        assert run.kdump.code == "capture_failed" and "deadlocked on memory" in run.kdump.detail
    else:
        assert run.kdump.code == "captured", run.kdump
    if run.kdump.code != "captured":
        assert findings["KC102"]["status"] == "fail", findings["KC102"]


@pytest.mark.parametrize("case_name", ["kdump_state", "kdump_state_none"])
def test_audit_of_the_real_kernel_readiness_state(case_name, lab_runs, tmp_path):
    run = lab_runs[case_name]
    assert run.ok, run.verdict()
    findings = assess.audit(run.write_snapshot(tmp_path / "snap"), ("KC101", "KC102"))
    expected = "pass" if case_name == "kdump_state" else "fail"
    assert findings["KC101"]["status"] == expected, findings["KC101"]
    assert findings["KC102"]["status"] == expected, findings["KC102"]


def test_overrunning_guest_is_killed_and_reaped(lab_guest: Guest):
    spec = qemu.BootSpec(lab_guest.kernel.vmlinuz, lab_guest.images.initrd,
                         " ".join(cases.get("hung_task").kernel_args), timeout=3.0)
    result = qemu.boot(spec, lab_guest.root)
    assert result.timed_out and result.returncode is not None
    with pytest.raises(ProcessLookupError):
        os.kill(result.pid, 0)


def test_cli_run_writes_the_console_log(lab_guest: Guest, tmp_path):
    out = tmp_path / "panic.log"
    proc = subprocess.run([sys.executable, "-m", "lab", "run", "panic", "--out", str(out)], cwd=REPO,
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert re.match(r"panic: \d+\.\d s, ok$", proc.stdout.strip().splitlines()[-1])
    text = out.read_text()
    assert "\r" not in text and "Kernel panic - not syncing: crashtest: PANIC requested" in text
