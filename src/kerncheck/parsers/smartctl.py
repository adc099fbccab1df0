"""``smartctl --json -a`` output (smartmontools ≥ 7.0) → :class:`SmartReport`.

Covers ATA/SATA (``ata_smart_attributes``, ``ata_smart_self_test_log``), NVMe
(``nvme_smart_health_information_log``, ``nvme_self_test_log``) and SCSI/SAS (``scsi_grown_defect_list``,
``scsi_error_counter_log``, ``scsi_self_test_N``), plus the ``smartctl.exit_status`` bit mask of
smartctl(8). A report whose device could not be opened or identified carries ``unavailable`` instead of
health data.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Optional

# smartctl(8) "RETURN VALUES": bit → meaning.
EXIT_BITS = {
    0: "command line did not parse, or the device type is unknown",
    1: "device open failed or the device did not identify itself",
    2: "a SMART command to the device failed or returned a bad checksum",
    3: "SMART health status: DISK FAILING",
    4: "prefail attributes at or below their threshold now",
    5: "attributes were at or below their threshold in the past",
    6: "the device error log contains errors",
    7: "the device self-test log contains errors",
}
# ATA attributes that count damaged or remapped media and failed transfers.
REALLOCATED, REPORTED_UNCORRECT, COMMAND_TIMEOUT = 5, 187, 188
PENDING, OFFLINE_UNCORRECTABLE, CRC_ERRORS = 197, 198, 199
WATCHED_ATTRIBUTES = (REALLOCATED, REPORTED_UNCORRECT, COMMAND_TIMEOUT, PENDING, OFFLINE_UNCORRECTABLE, CRC_ERRORS)
# NVMe critical_warning bits (NVMe base spec, SMART / Health Information log, byte 0).
NVME_WARNING_BITS = {
    0: "available spare below threshold",
    1: "temperature above or below threshold",
    2: "reliability degraded by media or internal errors",
    3: "media placed in read-only mode",
    4: "volatile memory backup device failed",
    5: "persistent memory region unreliable",
}
# Self-test results that mean the test found a fault (not merely aborted or interrupted).
_ATA_TEST_FAILED = range(3, 9)  # status >> 4: fatal, unknown, electrical, servo, read, handling damage
_NVME_TEST_FAILED = (5, 6, 7)  # fatal error, unknown segment failed, segment failed
_SCSI_TEST_FAILED = (4, 5, 6, 7)  # failed in unknown, first, second or another segment


class SmartctlOutputError(ValueError):
    """The text is not smartctl JSON output."""


@dataclass(frozen=True)
class AtaAttribute:
    id: int
    name: str
    value: Optional[int]  # normalised value, vendor scale (typically 100 or 200 = new)
    worst: Optional[int]
    thresh: Optional[int]
    raw: int  # the count for counter attributes (first field of a packed raw value)
    raw_string: str
    when_failed: str  # "", "past" or "now"
    prefailure: bool

    @property
    def failing_now(self) -> bool:
        return self.when_failed == "now"


@dataclass(frozen=True)
class SelfTest:
    kind: str
    status: str
    failed: bool
    hours: Optional[int]  # power-on hours when it ran
    in_progress: bool = False


@dataclass(frozen=True)
class NvmeHealth:
    critical_warning: int
    media_errors: int
    percentage_used: int
    available_spare: Optional[int]
    available_spare_threshold: Optional[int]
    error_log_entries: int
    unsafe_shutdowns: int

    @property
    def warnings(self) -> list[str]:
        return [text for bit, text in NVME_WARNING_BITS.items() if self.critical_warning & (1 << bit)]

    @property
    def spare_below_threshold(self) -> bool:
        return (self.available_spare is not None and self.available_spare_threshold is not None
                and self.available_spare < self.available_spare_threshold)


@dataclass
class SmartReport:
    device: str  # "/dev/sda"
    dev_type: str = ""  # smartctl -d type: sat, nvme, scsi, megaraid,0 …
    protocol: str = ""  # ATA, NVMe, SCSI
    model: str = ""
    serial: str = ""
    wwn: str = ""
    firmware: str = ""
    capacity_bytes: Optional[int] = None
    power_on_hours: Optional[int] = None
    temperature: Optional[int] = None
    observed_at: Optional[int] = None  # local_time.time_t of the run
    exit_status: int = 0
    messages: list[str] = field(default_factory=list)
    unavailable: Optional[str] = None  # why there is no SMART data, if there is none
    permission_denied: bool = False
    smart_disabled: bool = False  # the drive's SMART (SCSI: informational exceptions) is switched off
    health_passed: Optional[bool] = None
    attributes: dict[int, AtaAttribute] = field(default_factory=dict)
    self_tests: list[SelfTest] = field(default_factory=list)  # most recent first
    nvme: Optional[NvmeHealth] = None
    scsi_grown_defects: Optional[int] = None
    scsi_uncorrected: dict[str, int] = field(default_factory=dict)  # read/write/verify → errors

    @property
    def exit_flags(self) -> list[str]:
        return [text for bit, text in EXIT_BITS.items() if self.exit_status & (1 << bit)]

    @property
    def identity(self) -> str:
        """A key that follows the drive, not its name (``sda`` can change across boots)."""
        if self.wwn:
            return f"wwn:{self.wwn}"
        if self.serial:
            return f"{self.model or self.dev_type}:{self.serial}"
        return f"name:{self.device}"

    def counters(self) -> dict[str, int]:
        """The media counters whose growth between runs means the disk is degrading."""
        out: dict[str, int] = {}
        names = {REALLOCATED: "reallocated_sectors", REPORTED_UNCORRECT: "reported_uncorrect",
                 PENDING: "pending_sectors", OFFLINE_UNCORRECTABLE: "offline_uncorrectable",
                 CRC_ERRORS: "crc_errors"}
        for attr_id, key in names.items():
            if attr_id in self.attributes:
                out[key] = self.attributes[attr_id].raw
        if self.nvme is not None:
            out["media_errors"] = self.nvme.media_errors
            out["percentage_used"] = self.nvme.percentage_used
        if self.scsi_grown_defects is not None:
            out["grown_defects"] = self.scsi_grown_defects
        for kind, count in self.scsi_uncorrected.items():
            out[f"uncorrected_{kind}_errors"] = count
        return out


def _int(value: Any) -> Optional[int]:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d+", value.strip()):
        return int(value)
    return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _rows(value: Any) -> list[dict[str, Any]]:
    return [row for row in value if isinstance(row, dict)] if isinstance(value, list) else []


def _raw_count(raw: dict[str, Any]) -> int:
    """The count in an attribute's raw field.

    Some vendors pack several 16-bit fields into raw48 (Seagate's Command_Timeout prints ``"2 2 2"``);
    smartctl's string then starts with the count, so prefer its first number.

    >>> _raw_count({"value": 8590065666, "string": "2 2 2"})
    2
    >>> _raw_count({"value": 304, "string": "304"})
    304
    """
    text = str(raw.get("string", "")).strip()
    m = re.match(r"(\d+)", text)
    if m:
        return int(m.group(1))
    value = _int(raw.get("value"))
    return value if value is not None else 0


def _unavailable_reason(messages: list[str], exit_status: int) -> tuple[Optional[str], bool]:
    for msg in messages:
        if "Permission denied" in msg:
            return f"no permission to open the device ({msg}); run as root", True
    if exit_status & 0b11:
        return (messages[0] if messages else "smartctl could not open or identify the device"), False
    return None, False


def _ata_self_tests(log: Any) -> list[SelfTest]:
    tests = []
    for row in _rows(_dict(_dict(log).get("standard")).get("table")):
        status = _dict(row.get("status"))
        value = _int(status.get("value")) or 0
        passed = status.get("passed")
        failed = (passed is False) if isinstance(passed, bool) else (value >> 4) in _ATA_TEST_FAILED
        tests.append(SelfTest(str(_dict(row.get("type")).get("string", "?")), str(status.get("string", "?")),
                              failed, _int(row.get("lifetime_hours")), in_progress=(value >> 4) == 15))
    return tests


def _nvme_self_tests(log: Any) -> list[SelfTest]:
    tests = []
    for row in _rows(_dict(log).get("table")):
        result = _dict(row.get("self_test_result"))
        tests.append(SelfTest(str(_dict(row.get("self_test_code")).get("string", "?")),
                              str(result.get("string", "?")), _int(result.get("value")) in _NVME_TEST_FAILED,
                              _int(row.get("power_on_hours"))))
    return tests


def _scsi_self_tests(data: dict[str, Any]) -> list[SelfTest]:
    tests = []
    for i in range(20):
        row = data.get(f"scsi_self_test_{i}")
        if not isinstance(row, dict):
            continue
        result = _dict(row.get("result"))
        tests.append(SelfTest(str(_dict(row.get("code")).get("string", "?")), str(result.get("string", "?")),
                              _int(result.get("value")) in _SCSI_TEST_FAILED,
                              _int(_dict(row.get("power_on_time")).get("hours"))))
    return tests


def parse_smartctl_json(text: str, device: str = "") -> SmartReport:
    """Parse one ``smartctl --json`` document; ``device`` names it when smartctl did not.

    >>> r = parse_smartctl_json('{"smartctl": {"exit_status": 1, "messages": [{"string": '
    ...     '"/dev/vda: Unable to detect device type", "severity": "error"}]}}', "/dev/vda")
    >>> r.unavailable
    '/dev/vda: Unable to detect device type'
    """
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise SmartctlOutputError(f"not JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("smartctl"), dict):
        raise SmartctlOutputError("no 'smartctl' object: not `smartctl --json` output")
    meta = data["smartctl"]
    exit_status = _int(meta.get("exit_status")) or 0
    messages = [str(m.get("string", "")) for m in _rows(meta.get("messages"))]
    dev = _dict(data.get("device"))
    report = SmartReport(
        device=str(dev.get("name") or device or "?"),
        dev_type=str(dev.get("type", "")),
        protocol=str(dev.get("protocol", "")),
        model=str(data.get("model_name") or data.get("scsi_model_name") or ""),
        serial=str(data.get("serial_number", "")),
        firmware=str(data.get("firmware_version") or data.get("scsi_revision") or ""),
        exit_status=exit_status,
        messages=messages,
    )
    naa, oui, wwn_id = (_int(_dict(data.get("wwn")).get(k)) for k in ("naa", "oui", "id"))
    if naa is not None and oui is not None and wwn_id is not None:
        report.wwn = f"{naa:x}-{oui:06x}-{wwn_id:x}"
    report.capacity_bytes = (_int(_dict(data.get("user_capacity")).get("bytes"))
                             or _int(data.get("nvme_total_capacity")))
    report.power_on_hours = _int(_dict(data.get("power_on_time")).get("hours"))
    report.temperature = _int(_dict(data.get("temperature")).get("current"))
    report.observed_at = _int(_dict(data.get("local_time")).get("time_t"))

    report.unavailable, report.permission_denied = _unavailable_reason(messages, exit_status)
    support = _dict(data.get("smart_support"))
    report.smart_disabled = support.get("available") is True and support.get("enabled") is False

    passed = _dict(data.get("smart_status")).get("passed")
    if isinstance(passed, bool):
        report.health_passed = passed
    for row in _rows(_dict(data.get("ata_smart_attributes")).get("table")):
        if _int(row.get("id")) is None:
            continue
        raw = _dict(row.get("raw"))
        attr = AtaAttribute(
            id=int(row["id"]), name=str(row.get("name", "")), value=_int(row.get("value")),
            worst=_int(row.get("worst")), thresh=_int(row.get("thresh")),
            raw=_raw_count(raw), raw_string=str(raw.get("string", "")),
            when_failed=str(row.get("when_failed", "")),
            prefailure=bool(_dict(row.get("flags")).get("prefailure")),
        )
        report.attributes[attr.id] = attr
    report.self_tests = (_ata_self_tests(data.get("ata_smart_self_test_log"))
                         + _nvme_self_tests(data.get("nvme_self_test_log")) + _scsi_self_tests(data))
    nvme = data.get("nvme_smart_health_information_log")
    if isinstance(nvme, dict):
        report.nvme = NvmeHealth(
            critical_warning=_int(nvme.get("critical_warning")) or 0,
            media_errors=_int(nvme.get("media_errors")) or 0,
            percentage_used=_int(nvme.get("percentage_used")) or 0,
            available_spare=_int(nvme.get("available_spare")),
            available_spare_threshold=_int(nvme.get("available_spare_threshold")),
            error_log_entries=_int(nvme.get("num_err_log_entries")) or 0,
            unsafe_shutdowns=_int(nvme.get("unsafe_shutdowns")) or 0,
        )
    report.scsi_grown_defects = _int(data.get("scsi_grown_defect_list"))
    if report.unavailable is None and report.health_passed is None and not (
            report.attributes or report.nvme or report.scsi_grown_defects is not None):
        if support.get("available") is False:
            report.unavailable = "the device does not support SMART"
        elif report.smart_disabled:
            report.unavailable = "SMART is disabled on the device (enable it: smartctl -s on DEVICE)"
        else:
            report.unavailable = "smartctl returned no health data for the device"
    errlog = _dict(data.get("scsi_error_counter_log"))
    for kind in ("read", "write", "verify"):
        count = _int(_dict(errlog.get(kind)).get("total_uncorrected_errors"))
        if count is not None:
            report.scsi_uncorrected[kind] = count
    return report
