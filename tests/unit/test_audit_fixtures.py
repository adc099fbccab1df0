"""Every fixture host gives the expected status for every check it lists, and JSON follows the contract."""

from __future__ import annotations

import json

import pytest

from kerncheck.audit import run_audit
from kerncheck.finding import Status
from kerncheck.host import SnapshotHost
from tests.conftest import FIXTURE_HOSTS

SCENARIOS = sorted(p.parent.name for p in FIXTURE_HOSTS.glob("*/kerncheck-expected.json"))
WORST_FIRST = [Status.FAIL, Status.ERROR, Status.SKIP, Status.PASS]


def statuses(report) -> dict[str, str]:
    """Worst status per check ID (per-item checks such as KC104 give several findings)."""
    out: dict[str, Status] = {}
    for f in report.findings:
        prev = out.get(f.id)
        if prev is None or WORST_FIRST.index(f.status) < WORST_FIRST.index(prev):
            out[f.id] = f.status
    return {k: v.value for k, v in out.items()}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_fixture_statuses(scenario: str) -> None:
    root = FIXTURE_HOSTS / scenario
    expected = json.loads((root / "kerncheck-expected.json").read_text())
    got = statuses(run_audit(SnapshotHost(str(root)), ids=sorted(expected)))
    assert {k: got.get(k) for k in expected} == expected


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_audit_json_contract(scenario: str) -> None:
    doc = run_audit(SnapshotHost(str(FIXTURE_HOSTS / scenario))).to_json()
    json.dumps(doc)  # serialisable
    assert doc["schema"] == "kerncheck.audit/1"
    assert {"root", "kernel", "memory_bytes"} <= set(doc["host"])
    assert isinstance(doc["host"]["memory_bytes"], int)
    for f in doc["findings"]:
        assert {"id", "status", "severity", "title", "evidence", "fix"} <= set(f)
        assert f["status"] in ("pass", "fail", "skip", "error")
        assert f["severity"] in ("critical", "warning", "info")
        assert isinstance(f["evidence"], dict)
        assert f["status"] != "error", f  # no fixture may crash a check


def test_bigbox_64m_is_critical_and_names_sysrq_keys() -> None:
    report = run_audit(SnapshotHost(str(FIXTURE_HOSTS / "bigbox-64m")), ids=["KC102", "KC201"])
    by_id = {f.id: f for f in report.findings}
    assert by_id["KC102"].status is Status.FAIL and by_id["KC102"].severity.value == "critical"
    assert "64M reserved" in by_id["KC102"].message and "512M" in by_id["KC102"].message
    sysrq = by_id["KC201"]
    assert sysrq.status is Status.FAIL and sysrq.evidence["kernel.sysrq"] == "16"
    assert "w t m u b" in sysrq.message
    assert "184" in sysrq.fix
    assert report.exit_status == 2


def test_upgraded_kernel_without_kdump_initrd_is_named() -> None:
    report = run_audit(SnapshotHost(str(FIXTURE_HOSTS / "upgraded-no-initrd")), ids=["KC104"])
    failing = [f for f in report.findings if f.status is Status.FAIL]
    assert [f.subject for f in failing] == ["6.1.0-21-amd64"]
    assert failing[0].message.startswith("default boot kernel: ")
    assert "no kdump initrd" in failing[0].message


def test_rhel_build_id_of_debug_symbols_is_compared() -> None:
    report = run_audit(SnapshotHost(str(FIXTURE_HOSTS / "rhel9-ready")), ids=["KC104"])
    (finding,) = report.findings
    assert finding.evidence["build-id (running)"] == finding.evidence["build-id (symbols)"]


def test_ubuntu_recent_pstore_record_is_reported() -> None:
    report = run_audit(SnapshotHost(str(FIXTURE_HOSTS / "ubuntu2204-pstore")), ids=["KC203"])
    (finding,) = report.findings
    assert finding.status is Status.FAIL
    assert any("dmesg-ramoops-0" in key for key in finding.evidence)
    assert "panic: kernel panic: Fatal exception" in finding.message  # the log engine read the record


def test_empty_snapshot_cannot_be_evaluated(tmp_path) -> None:
    report = run_audit(SnapshotHost(str(tmp_path)), ids=["KC1", "KC2"])
    assert report.exit_status == 3
    assert all(f.status in (Status.SKIP, Status.ERROR, Status.PASS) for f in report.findings)


def test_kc105_follows_the_configured_crash_test_record(tmp_path) -> None:
    import shutil

    root = tmp_path / "host"
    shutil.copytree(FIXTURE_HOSTS / "sles15-high-low", root)
    (root / "srv/kc").mkdir(parents=True)
    shutil.move(str(root / "var/lib/kerncheck/crash-test.json"), root / "srv/kc/ct.json")
    stat = json.loads((root / "kerncheck-stat.json").read_text())
    stat["/srv/kc/ct.json"] = stat.pop("/var/lib/kerncheck/crash-test.json")
    (root / "kerncheck-stat.json").write_text(json.dumps(stat))
    config = root / "etc/kerncheck/kerncheck.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[crash_test]\nstate_file = "/srv/kc/ct.json"\n')
    (finding,) = run_audit(SnapshotHost(str(root)), ids=["KC105"]).findings
    assert finding.status is Status.PASS and "crash-test verified" in finding.message
    config.write_text("[crash_test\n")
    (finding,) = run_audit(SnapshotHost(str(root)), ids=["KC105"]).findings
    assert finding.status is Status.FAIL and "invalid TOML" in finding.message
