"""smartctl JSON parsing and SMART verdicts: literal outputs of this machine's smartctl, and the real corpus."""

from __future__ import annotations

import json
import shutil

import pytest

from kerncheck.disks.health import CRITICAL, RANK, WARNING, smart_reasons
from kerncheck.disks.smarthistory import SmartHistory
from kerncheck.parsers.smartctl import SmartctlOutputError, parse_smartctl_json
from tests.conftest import shared_path

# smartctl 7.3 on this VM: `smartctl --json -a /dev/vda` (virtio-blk has no SMART device type).
VIRTIO = """{
  "json_format_version": [1, 0],
  "smartctl": {"version": [7, 3], "svn_revision": "5338", "platform_info": "x86_64-linux-6.18.44-fc-v657",
    "build_info": "(local build)", "argv": ["smartctl", "--json", "-a", "/dev/vda"],
    "messages": [{"string": "/dev/vda: Unable to detect device type", "severity": "error"}],
    "exit_status": 1},
  "local_time": {"time_t": 1795674162, "asctime": "Thu Nov 26 06:22:42 2026 UTC"}
}"""
# The same smartctl run as user nobody with `-d sat`: the open fails with EACCES.
NO_PERMISSION = """{
  "json_format_version": [1, 0],
  "smartctl": {"version": [7, 3], "svn_revision": "5338", "platform_info": "x86_64-linux-6.18.44-fc-v657",
    "build_info": "(local build)", "argv": ["smartctl", "--json", "-a", "-d", "sat", "/dev/vda"],
    "messages": [{"string": "Smartctl open device: /dev/vda [SAT] failed: Permission denied",
                  "severity": "error"}],
    "exit_status": 2},
  "local_time": {"time_t": 1795674162, "asctime": "Thu Nov 26 06:22:42 2026 UTC"}
}"""

CORPUS_CRITICAL = {
    "ST3500418AS_12.json",  # 304 reallocated sectors
    "SEAGATE_ST373453LC_26.json",  # 260 grown defects
    "nvme-null-SAMSUNG_MZWLL3T2HAJQ-00005-nvme0.json",  # health FAILED, critical_warning 0x10
}
CORPUS_WARNING = {
    "ST3500418AS_11.json",  # 1 reallocated sector
    "MB0500EBNCR_13.json", "MB0500EBNCR_14.json",  # 187 Reported_Uncorrect 1
    "sat-Intel_S3520_Series_SSDs-INTEL_SSDSC2BB016T7-sdc.json",  # 1 reallocated
    "sat-Intel_S4510_S4610_S4500_S4600_Series_SSDs-INTEL_SSDSC2KB240G7-sdd.json",  # 4 reallocated
    "sat-Phison_Driven_SSDs-KINGSTON_SKC400S371T-sda.json",  # 1 retired block (attribute 5)
    "sat-Seagate_Constellation_ES.3-ST3000NM0033-9ZM178-sdc.json",  # 1 reallocated
}


def test_no_device_type_is_unavailable_not_healthy() -> None:
    report = parse_smartctl_json(VIRTIO, "/dev/vda")
    assert report.unavailable == "/dev/vda: Unable to detect device type"
    assert report.health_passed is None and not report.attributes and not report.permission_denied
    assert report.exit_flags == ["command line did not parse, or the device type is unknown"]
    assert report.device == "/dev/vda" and report.observed_at == 1795674162


def test_permission_denied_says_run_as_root() -> None:
    report = parse_smartctl_json(NO_PERMISSION, "/dev/vda")
    assert report.permission_denied
    assert "run as root" in (report.unavailable or "")


@pytest.mark.parametrize("text", ["", "not json", "[]", '{"device": {"name": "/dev/sda"}}', "\x00\xff"])
def test_garbage_is_rejected_with_a_reason(text: str) -> None:
    with pytest.raises(SmartctlOutputError):
        parse_smartctl_json(text)


def test_wrongly_typed_fields_do_not_crash() -> None:
    report = parse_smartctl_json(json.dumps({
        "smartctl": {"exit_status": "x", "messages": "nope"}, "device": [], "wwn": {"naa": "5"},
        "ata_smart_attributes": {"table": [None, {"id": "a"}, {"id": 5, "raw": "12"}]},
        "nvme_smart_health_information_log": [], "smart_status": {"passed": "yes"}}))
    assert report.exit_status == 0 and report.health_passed is None
    assert report.attributes[5].raw == 0 and report.nvme is None and report.wwn == ""


def test_packed_raw_value_uses_the_count() -> None:
    report = parse_smartctl_json(json.dumps({"smartctl": {"exit_status": 0}, "ata_smart_attributes": {"table": [
        {"id": 188, "name": "Command_Timeout", "value": 100, "worst": 99, "thresh": 0, "when_failed": "",
         "flags": {"prefailure": False}, "raw": {"value": 8590065666, "string": "2 2 2"}}]}}))
    assert report.attributes[188].raw == 2


def test_failed_latest_self_test_and_failing_attribute_are_critical() -> None:
    report = parse_smartctl_json(json.dumps({
        "smartctl": {"exit_status": 0xC0}, "smart_status": {"passed": True},
        "ata_smart_attributes": {"table": [
            {"id": 1, "name": "Raw_Read_Error_Rate", "value": 5, "worst": 5, "thresh": 6, "when_failed": "now",
             "flags": {"prefailure": True}, "raw": {"value": 1, "string": "1"}}]},
        "ata_smart_self_test_log": {"standard": {"revision": 1, "count": 2, "table": [
            {"type": {"value": 2, "string": "Extended offline"},
             "status": {"value": 121, "string": "Completed: read failure", "remaining_percent": 90,
                        "passed": False}, "lifetime_hours": 40410, "lba": 204090640},
            {"type": {"value": 1, "string": "Short offline"},
             "status": {"value": 0, "string": "Completed without error", "passed": True},
             "lifetime_hours": 40100}]}}}))
    reasons, _ = smart_reasons(report)
    texts = [r.text for r in reasons if r.severity == CRITICAL]
    assert any("self-test failed: Extended offline: Completed: read failure at 40410" in t for t in texts)
    assert any("Raw_Read_Error_Rate is at or below its failure threshold now" in t for t in texts)


def _corpus():
    return sorted(shared_path("corpus", "smartctl").glob("*.json"))


def _worst(path) -> str | None:
    reasons, _ = smart_reasons(parse_smartctl_json(path.read_text()))
    worst = [r.severity for r in reasons if r.severity != "info"]
    return max(worst, key=RANK.__getitem__) if worst else None


@pytest.mark.corpus
def test_corpus_parses_completely() -> None:
    files = _corpus()
    assert len(files) == 168
    protocols = {}
    for path in files:
        report = parse_smartctl_json(path.read_text())
        assert report.unavailable is None, path.name
        assert report.health_passed is not None, path.name
        protocols[report.protocol] = protocols.get(report.protocol, 0) + 1
    assert protocols == {"ATA": 108, "NVMe": 55, "SCSI": 5}


@pytest.mark.corpus
def test_corpus_flags_exactly_the_failing_drives() -> None:
    verdicts = {p.name: _worst(p) for p in _corpus()}
    assert {n for n, v in verdicts.items() if v == CRITICAL} == CORPUS_CRITICAL
    assert {n for n, v in verdicts.items() if v == WARNING} == CORPUS_WARNING


@pytest.mark.corpus
@pytest.mark.parametrize(("before", "after", "expected"), [
    ("ST3500418AS_11.json", "ST3500418AS_12.json", "reallocated sectors grew from 1 to 304"),
    ("SEAGATE_ST373453LC_27.json", "SEAGATE_ST373453LC_26.json", "grown defects grew from 0 to 260"),
])
def test_growth_between_runs_is_critical(tmp_path, before: str, after: str, expected: str) -> None:
    state = tmp_path / "state" / "smart-counters.json"
    first = parse_smartctl_json(shared_path("corpus", "smartctl", before).read_text())
    history = SmartHistory.load(str(state))
    assert history.previous(first.identity, first.observed_at) is None
    history.record(first.identity, first.counters(), first.observed_at, first.device)
    assert history.save() and state.exists()

    second = parse_smartctl_json(shared_path("corpus", "smartctl", after).read_text())
    assert second.identity == first.identity  # same model + (redacted) serial: the same drive's history
    previous = SmartHistory.load(str(state)).previous(second.identity, second.observed_at)
    reasons, growth = smart_reasons(second, previous)
    assert any(r.severity == CRITICAL and expected in r.text for r in reasons), reasons
    assert growth


@pytest.mark.corpus
def test_a_healthy_drive_without_growth_stays_clean(tmp_path) -> None:
    path = shared_path("corpus", "smartctl", "WDC_WD20EFRX-68EUZN0_17.json")
    report = parse_smartctl_json(path.read_text())
    history = SmartHistory.load(str(tmp_path / "s.json"))
    history.record(report.identity, report.counters(), report.observed_at, report.device)
    reasons, growth = smart_reasons(report, history.previous(report.identity, report.observed_at))
    assert growth == {} and all(r.severity == "info" for r in reasons)


def test_history_is_atomic_and_survives_a_broken_file(tmp_path) -> None:
    state = tmp_path / "smart-counters.json"
    state.write_text("{half a file")
    history = SmartHistory.load(str(state))
    assert history.load_error and not history.entries
    history.record("wwn:5-000c50-1", {"pending_sectors": 0}, 100, "/dev/sda")
    assert history.save()
    assert json.loads(state.read_text())["drives"]["wwn:5-000c50-1"]["counters"] == {"pending_sectors": 0}
    assert [p.name for p in tmp_path.iterdir()] == ["smart-counters.json"]  # no temporary file left


def test_history_ignores_an_older_observation(tmp_path) -> None:
    history = SmartHistory.load(str(tmp_path / "s.json"))
    history.record("d", {"reallocated_sectors": 10}, 200, "/dev/sda")
    assert history.previous("d", 100) is None  # a snapshot older than what we saw: no growth claim
    history.record("d", {"reallocated_sectors": 1}, 100, "/dev/sda")
    assert history.entries["d"].counters == {"reallocated_sectors": 10}


def test_unwritable_state_is_reported_not_fatal(tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    history = SmartHistory.load(str(blocker / "sub" / "s.json"))  # a directory below a file cannot exist
    history.record("d", {"pending_sectors": 1}, 1, "/dev/sda")
    assert not history.save()
    assert "cannot write" in (history.save_error or "")


@pytest.mark.real
def test_real_smartctl_on_this_machine_reports_no_smart() -> None:
    """smartctl from Debian's smartmontools against this VM's own virtio disk."""
    from kerncheck.disks.health import physical_disks, read_smart
    from kerncheck.host import LiveHost

    if shutil.which("smartctl") is None:
        pytest.skip("smartctl is not installed (Debian package smartmontools)")
    host = LiveHost()
    disks = physical_disks(host)
    if not disks:
        pytest.skip("this machine has no hardware-backed disk in /sys/class/block")
    for disk in disks:
        report, unavailable, missing = read_smart(host, disk.path)
        assert not missing
        if report is not None and report.unavailable is None:
            continue  # a real SMART-capable disk: parsed above without error
        assert unavailable, disk
