"""kerncheck on real kernel text: the golden console logs the QEMU lab captured (no QEMU needed here).

``tests/data/qemu/<case>.log`` is the serial console of one boot of Debian's kernel, CRLF normalised and
otherwise exactly as printed; ``python -m lab suite --out-dir tests/data/qemu`` regenerates them.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from kerncheck.cli import COMMANDS
from lab import assess, cases
from lab.errors import LabError
from lab.run import kdump_outcome, limit_evidence, missing_expectations
from lab.snapshot import parse_state, write_snapshot

GOLDEN = Path(__file__).resolve().parent.parent / "data" / "qemu"


def golden(name: str) -> Path:
    return GOLDEN / f"{name}.log"


def test_every_case_has_a_normalised_golden_log():
    for case in cases.CASES:
        raw = golden(case.name).read_bytes()
        assert b"\r" not in raw, case.name
        assert re.search(rb"^\[\s*0\.000000\] Linux version 6\.", raw, re.M), case.name


@pytest.mark.parametrize("case", [c for c in cases.CASES if not c.limit], ids=lambda c: c.name)
def test_golden_log_shows_the_provoked_incident(case):
    assert missing_expectations(case, golden(case.name).read_text()) == []


def test_hard_lockup_is_a_documented_limit_not_a_silent_pass():
    case = cases.get("hard_lockup")
    console = golden("hard_lockup").read_text()
    assert missing_expectations(case, console) == [r"Watchdog detected hard LOCKUP on cpu \d+"]
    assert "Perf NMI watchdog permanently disabled" in limit_evidence(console)
    assert re.search(r"crashtest: hard lockup: spinning \d+ s with interrupts disabled", console)


def test_kdump_outcomes_of_the_crashkernel_sweep():
    small = kdump_outcome(golden("kdump_64m").read_text(), None)
    assert small.code == "not_loaded" and "Could not find a free area of memory" in small.detail
    oom = kdump_outcome(golden("kdump_96m").read_text(), None)
    assert oom.code == "capture_failed"
    assert "Killed process" in oom.detail and "System is deadlocked on memory" in oom.detail
    for name in ("kdump", "kdump_128m"):
        console = golden(name).read_text()
        assert re.search(r"QLAB: makedumpfile exit=0", console) and "QLAB: wrote dump to /dev/vda" in console


def _snapshot(name: str, dest: Path) -> Path:
    return write_snapshot(parse_state(golden(name).read_text()), dest, f"golden {name}")


def test_readiness_state_becomes_a_snapshot(tmp_path):
    snap = _snapshot("kdump_state", tmp_path / "snap")
    assert (snap / "proc/cmdline").read_text().split()[-1] == "crashkernel=192M"
    assert (snap / "sys/kernel/kexec_crash_loaded").read_text() == "1\n"
    assert (snap / "sys/kernel/kexec_crash_size").read_text() == "201326592\n"
    assert re.search(r"^ *[0-9a-f]+-[0-9a-f]+ : Crash kernel$", (snap / "proc/iomem").read_text(), re.M)
    assert (snap / "proc/meminfo").read_text().startswith("MemTotal:")
    assert (snap / "commands/dmesg.rc").read_text() == "0\n"
    assert "Reserving 192MB of memory" in (snap / "commands/dmesg").read_text()
    assert not (snap / "sys/kernel/kexec/crash_loaded").exists()  # 6.1 has only the flat sysfs names


def test_damaged_state_is_refused():
    console = golden("kdump_state").read_text()
    damaged = re.sub(r"^QSTATE /proc/iomem: .*Crash kernel\n", "", console, flags=re.M)
    with pytest.raises(LabError, match=r"/proc/iomem: \d+ of \d+ lines arrived"):
        parse_state(damaged)
    with pytest.raises(LabError, match="no complete readiness state"):
        parse_state(golden("panic").read_text())


def test_audit_says_armed_only_with_crashkernel_and_a_loaded_capture_kernel(tmp_path):
    armed = assess.audit(_snapshot("kdump_state", tmp_path / "armed"), ("KC101", "KC102"))
    assert armed["KC101"]["status"] == "pass", armed["KC101"]
    assert armed["KC102"]["status"] == "pass", armed["KC102"]
    bare = assess.audit(_snapshot("kdump_state_none", tmp_path / "bare"), ("KC101", "KC102"))
    assert bare["KC101"]["status"] == "fail" and bare["KC101"]["severity"] == "critical", bare["KC101"]
    assert bare["KC102"]["status"] == "fail", bare["KC102"]


@pytest.mark.parametrize("name", ["kdump_64m", "kdump_96m"])
def test_kc102_warned_before_the_crash_for_sizes_whose_capture_failed(name, tmp_path):
    assert kdump_outcome(golden(name).read_text(), None).code != "captured"
    findings = assess.audit(_snapshot(name, tmp_path / name), ("KC101", "KC102"))
    assert findings["KC102"]["status"] == "fail", findings["KC102"]


@pytest.mark.parametrize("name", sorted(assess.EXPECTED))
def test_kerncheck_scan_classifies_the_real_kernel_text(name, tmp_path):
    if "scan" not in COMMANDS:
        pytest.skip("`kerncheck scan` (issue 3, the log engine) is not registered yet")
    log = tmp_path / f"{name}.log"
    shutil.copyfile(golden(name), log)
    report = assess.scan(log)
    assert assess.judge(assess.EXPECTED[name], report) == [], report["incidents"]
