"""Disk health per physical disk: SMART, the kernel log and filesystem error counters, joined.

Every source is mapped back to the whole disk at the bottom of the block-device stack
(:mod:`kerncheck.blockdev`), so ``EXT4-fs error (device dm-3)`` or ``/sys/fs/ext4/sdb1/errors_count``
lands on ``/dev/sdb``. SMART counters are compared with the last run (:mod:`kerncheck.disks.smarthistory`):
growth of remapped, pending or uncorrectable sectors means the disk is failing *now*.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Optional

from kerncheck import blockdev
from kerncheck.blockdev import BlockDevError, BlockDevice
from kerncheck.disks.smarthistory import Observation, SmartHistory
from kerncheck.facts import Context
from kerncheck.host import CommandTimeout, CommandUnavailable, Host, HostError
from kerncheck.logs.model import Incident
from kerncheck.parsers.mountinfo import MountEntry
from kerncheck.parsers.smartctl import (
    OFFLINE_UNCORRECTABLE,
    PENDING,
    REALLOCATED,
    REPORTED_UNCORRECT,
    SmartctlOutputError,
    SmartReport,
    parse_smartctl_json,
)

CRITICAL, WARNING, INFO = "critical", "warning", "info"
RANK = {INFO: 0, WARNING: 1, CRITICAL: 2}
SMART_TIMEOUT = 60.0
# Remapped sectors (ATA 5) or grown defects (SCSI) from which the disk counts as failing even without
# history: the spare area is being consumed at a rate no healthy disk shows.
HEAVY_REMAPPING = 100
NVME_WEAR_WARNING = 90
NVME_FAILING_BITS = 0x3D  # every critical_warning bit except 0x02 (temperature)
# Counters whose increase between runs means media damage is spreading (CRC errors mean cabling instead).
GROWTH_CRITICAL = {
    "reallocated_sectors": "reallocated sectors",
    "pending_sectors": "pending (unreadable) sectors",
    "offline_uncorrectable": "offline-uncorrectable sectors",
    "reported_uncorrect": "uncorrectable errors reported to the host",
    "media_errors": "NVMe media errors",
    "grown_defects": "grown defects",
    "uncorrected_read_errors": "uncorrected read errors",
    "uncorrected_write_errors": "uncorrected write errors",
    "uncorrected_verify_errors": "uncorrected verify errors",
}
# Kernel-log incident kinds that concern a device, with the severity they give the disk.
DEVICE_KINDS = {"medium_error": CRITICAL, "fs_readonly": CRITICAL, "io_error": WARNING,
                "nvme_error": WARNING, "fs_error": WARNING}
VIRTUAL_PREFIXES = ("loop", "ram", "zram", "nbd", "fd", "sr")

REPLACE = ("The disk is actively failing: replace it, don't wait. Copy what matters off it now (ddrescue "
           "for unreadable areas), make sure the backups are not on it (KC302), then swap it.")
DEGRADING = ("Plan the replacement: run a long self-test (smartctl -t long {dev}) and re-run kerncheck "
             "disks daily; any growth of these counters turns this into a failing disk.")
CHECK_PATH = ("The media looks healthy but I/O fails on the way to it: check the cable/backplane, the "
              "controller or HBA firmware, and the kernel log around the first error.")
CHECK_FS = ("The filesystem recorded errors: plan an offline check (kerncheck fsck, never on a mounted "
            "filesystem) and look at the disk's kernel log entries around the first error.")


@dataclass(frozen=True)
class Reason:
    severity: str
    text: str
    source: str  # smart, kernel-log, filesystem

    def to_json(self) -> dict[str, str]:
        return {"severity": self.severity, "source": self.source, "text": self.text}


@dataclass
class FsErrors:
    """A filesystem on the disk with its own error record."""

    device: str
    fstype: str
    mount_point: Optional[str]
    errors: int
    first_error: Optional[str] = None  # "2026-11-26 05:02:29 UTC in ext4_find_entry"
    last_error: Optional[str] = None
    read_only: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"device": self.device, "fstype": self.fstype, "mount_point": self.mount_point,
                "errors": self.errors, "first_error": self.first_error, "last_error": self.last_error,
                "read_only": self.read_only}


@dataclass
class DiskHealth:
    name: str  # kernel name: sdb
    description: str  # /dev/sdb (or "/dev/dm-0 (device-mapper …)")
    smart: Optional[SmartReport] = None
    smart_unavailable: Optional[str] = None  # why there is no SMART verdict
    growth: dict[str, tuple[int, int]] = field(default_factory=dict)
    previous_at: Optional[int] = None
    incidents: list[Incident] = field(default_factory=list)
    filesystems: list[FsErrors] = field(default_factory=list)
    reasons: list[Reason] = field(default_factory=list)

    @property
    def path(self) -> str:
        return "/dev/" + self.name.replace("!", "/")

    @property
    def severity(self) -> Optional[str]:
        worst = [r.severity for r in self.reasons if r.severity != INFO]
        return max(worst, key=RANK.__getitem__) if worst else None

    @property
    def state(self) -> str:
        """``failing``, ``degraded``, ``healthy`` or ``unknown`` (no SMART and nothing wrong seen)."""
        if self.severity == CRITICAL:
            return "failing"
        if self.severity == WARNING:
            return "degraded"
        return "healthy" if self.smart is not None and self.smart_unavailable is None else "unknown"

    @property
    def advice(self) -> str:
        sources = {r.source for r in self.reasons if r.severity != INFO}
        if self.severity == CRITICAL and ("smart" in sources or any(
                i.kind == "medium_error" for i in self.incidents)):
            return REPLACE
        if "smart" in sources:
            return DEGRADING.format(dev=self.path) if self.severity == WARNING else REPLACE
        if "kernel-log" in sources:
            return CHECK_PATH if self.severity == WARNING or not self.filesystems else CHECK_FS
        if "filesystem" in sources:
            return CHECK_FS
        return ""

    def to_json(self) -> dict[str, Any]:
        smart: Optional[dict[str, Any]] = None
        if self.smart is not None:
            s = self.smart
            smart = {"type": s.dev_type, "protocol": s.protocol, "model": s.model, "serial": s.serial,
                     "health_passed": s.health_passed, "exit_status": s.exit_status, "exit_flags": s.exit_flags,
                     "power_on_hours": s.power_on_hours, "counters": s.counters()}
            if s.nvme is not None:
                smart["nvme_critical_warning"] = s.nvme.critical_warning
        return {
            "device": self.path, "description": self.description, "state": self.state,
            "severity": self.severity, "smart": smart, "smart_unavailable": self.smart_unavailable,
            "growth": {k: {"before": a, "now": b} for k, (a, b) in self.growth.items()},
            "previous_observation": _iso(self.previous_at) if self.previous_at else None,
            "kernel_log": [incident_json(i) for i in self.incidents],
            "filesystems": [f.to_json() for f in self.filesystems],
            "reasons": [r.to_json() for r in self.reasons], "advice": self.advice,
        }


@dataclass
class DiskSurvey:
    disks: list[DiskHealth] = field(default_factory=list)
    unmapped: list[Incident] = field(default_factory=list)  # device incidents for devices not present now
    # Device incidents of earlier boots: kernel names (sda, dm-3) can change across boots, so they are listed,
    # not pinned on today's disks.
    earlier_boots: list[Incident] = field(default_factory=list)
    unmapped_fs: list[FsErrors] = field(default_factory=list)  # filesystems with errors on no known disk
    log_sources: list[str] = field(default_factory=list)
    log_error: Optional[str] = None
    log_notes: list[str] = field(default_factory=list)  # earlier boots not in the journal, unreadable parts …
    smartctl_missing: Optional[str] = None
    history_path: Optional[str] = None
    history_error: Optional[str] = None
    topology_error: Optional[str] = None


def _iso(epoch: Optional[float]) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(epoch)) if epoch else "?"


def incident_json(inc: Incident) -> dict[str, Any]:
    return {"kind": inc.kind, "severity": inc.severity, "title": inc.title, "device": inc.device,
            "count": inc.count, "first_seen": inc.first_seen, "last_seen": inc.last_seen, "source": inc.source}


# -- SMART ------------------------------------------------------------------------------------------
def smart_reasons(report: SmartReport, previous: Optional[Observation] = None
                  ) -> tuple[list[Reason], dict[str, tuple[int, int]]]:
    """Judge one SMART report, and its counters against the previous run's; returns (reasons, growth)."""
    reasons: list[Reason] = []

    def add(severity: str, text: str) -> None:
        reasons.append(Reason(severity, text, "smart"))

    if report.health_passed is False:
        add(CRITICAL, "SMART overall health self-assessment: FAILED")
    attrs = report.attributes
    for attr in attrs.values():
        if attr.failing_now:
            add(CRITICAL, f"attribute {attr.id} {attr.name} is at or below its failure threshold now "
                          f"(value {attr.value}, threshold {attr.thresh})")
        elif attr.when_failed == "past" and attr.prefailure:
            add(WARNING, f"attribute {attr.id} {attr.name} fell to its failure threshold in the past")
    pending = attrs[PENDING].raw if PENDING in attrs else 0
    if pending:
        add(CRITICAL, f"{pending} sector(s) pending reallocation (197 Current_Pending_Sector): the disk "
                      "cannot read them")
    offline = attrs[OFFLINE_UNCORRECTABLE].raw if OFFLINE_UNCORRECTABLE in attrs else 0
    if offline:
        add(CRITICAL, f"{offline} offline-uncorrectable sector(s) (198)")
    if REALLOCATED in attrs and attrs[REALLOCATED].raw:
        count = attrs[REALLOCATED].raw
        add(CRITICAL if count >= HEAVY_REMAPPING else WARNING,
            f"{count} reallocated sector(s) (5 {attrs[REALLOCATED].name})")
    if REPORTED_UNCORRECT in attrs and attrs[REPORTED_UNCORRECT].raw:
        add(WARNING, f"{attrs[REPORTED_UNCORRECT].raw} uncorrectable error(s) reported to the host (187)")
    if report.scsi_grown_defects:
        count = report.scsi_grown_defects
        add(CRITICAL if count >= HEAVY_REMAPPING else WARNING, f"{count} grown defect(s) in the SCSI defect list")
    uncorrected = {k: v for k, v in report.scsi_uncorrected.items() if v}
    if uncorrected:
        add(WARNING, "uncorrected SCSI errors: " + ", ".join(f"{v} {k}" for k, v in uncorrected.items()))
    if report.nvme is not None:
        nv = report.nvme
        if nv.critical_warning & NVME_FAILING_BITS:
            add(CRITICAL, f"NVMe critical warning 0x{nv.critical_warning:02x}: " + "; ".join(nv.warnings))
        elif nv.critical_warning:
            add(WARNING, f"NVMe critical warning 0x{nv.critical_warning:02x}: " + "; ".join(nv.warnings))
        if nv.spare_below_threshold and not nv.critical_warning & 1:
            add(CRITICAL, f"NVMe available spare {nv.available_spare} % is below its threshold "
                          f"{nv.available_spare_threshold} %")
        if nv.percentage_used >= 100:
            add(CRITICAL, f"NVMe endurance used: {nv.percentage_used} % (past its rated life)")
        elif nv.percentage_used >= NVME_WEAR_WARNING:
            add(WARNING, f"NVMe endurance used: {nv.percentage_used} %")
        if nv.media_errors:
            add(WARNING, f"{nv.media_errors} NVMe media and data integrity error(s)")
    latest = next((t for t in report.self_tests if not t.in_progress), None)
    if latest is not None and latest.failed:
        at = f" at {latest.hours} power-on hours" if latest.hours is not None else ""
        add(CRITICAL, f"the latest self-test failed: {latest.kind}: {latest.status}{at}")
    elif any(t.failed for t in report.self_tests):
        add(INFO, "an older self-test failed; the latest one passed")
    if report.smart_disabled:
        add(INFO, "SMART is disabled on the drive, so it will not warn by itself (smartctl -s on)")
    if report.exit_status & (1 << 2):
        add(INFO, "some SMART data could not be read (smartctl exit bit 2)")
    if report.exit_status & (1 << 6):
        add(INFO, "the drive's own error log has entries (smartctl exit bit 6)")

    growth: dict[str, tuple[int, int]] = {}
    if previous is not None:
        now = report.counters()
        when = f" since {_iso(previous.observed_at)}" if previous.observed_at else " since the last run"
        for key, before in previous.counters.items():
            after = now.get(key)
            if after is None or after <= before:
                continue
            growth[key] = (before, after)
            if key in GROWTH_CRITICAL:
                add(CRITICAL, f"{GROWTH_CRITICAL[key]} grew from {before} to {after}{when}")
            elif key == "crc_errors":
                reasons.append(Reason(WARNING, f"interface CRC errors grew from {before} to {after}{when}: "
                                               "replace the cable or check the backplane", "smart"))
    return reasons, growth


def smart_argv(dev: str) -> list[str]:
    return ["smartctl", "--json", "-a", dev]


def read_smart(host: Host, dev: str) -> tuple[Optional[SmartReport], Optional[str], bool]:
    """Run (or look up) ``smartctl --json -a DEV``: (report, why unavailable, smartctl missing)."""
    try:
        result = host.run(smart_argv(dev), timeout=SMART_TIMEOUT)
    except CommandUnavailable as exc:
        return None, f"smartctl is not available ({exc.reason}): install smartmontools", True
    except CommandTimeout as exc:
        return None, f"smartctl did not answer: {exc.reason}", False
    if not result.stdout.strip():
        err = result.stderr.strip().splitlines()
        return None, f"smartctl printed nothing (exit {result.returncode}{': ' + err[-1] if err else ''})", False
    try:
        report = parse_smartctl_json(result.stdout, dev)
    except SmartctlOutputError as exc:
        return None, f"unreadable smartctl output: {exc}", False
    return report, report.unavailable, False


# -- mapping to physical disks ------------------------------------------------------------------------
def physical_disks(host: Host, only: Sequence[str] = ()) -> list[BlockDevice]:
    """Whole disks backed by hardware (a ``device`` link in sysfs), or the ``only`` ones as named."""
    if only:
        found: dict[str, BlockDevice] = {}
        for spec in only:
            dev = blockdev.resolve(host, spec)
            for disk in blockdev.physical_disks(host, dev):
                found.setdefault(disk.name, disk)
        return list(found.values())
    disks = []
    for name in host.listdir(blockdev.SYS_BLOCK):
        base = f"{blockdev.SYS_BLOCK}/{name}"
        if name.startswith(VIRTUAL_PREFIXES) or host.exists(f"{base}/partition"):
            continue
        if not _has_device_link(host, base) or (host.exists(f"{base}/slaves") and host.listdir(f"{base}/slaves")):
            continue
        try:
            if host.read_text(f"{base}/removable").strip() == "1":
                continue
        except HostError:
            pass
        disks.append(blockdev.by_name(host, name))
    return disks


def _has_device_link(host: Host, base: str) -> bool:
    """Hardware behind the block device: its sysfs ``device`` link (in a snapshot the link's target may be
    absent, the link itself is enough)."""
    if host.exists(f"{base}/device"):
        return True
    try:
        host.readlink(f"{base}/device")
    except HostError:
        return False
    return True


def disks_of(host: Host, name: str, disks: Iterable[BlockDevice]) -> list[str]:
    """The physical disks (kernel names) a device named in the kernel log sits on.

    Handles block devices (``sda1``, ``dm-3``, ``nvme0n1``), NVMe controllers (``nvme0``) and libata
    links/ports (``ata3``, ``ata3.00``), which are matched through the disks' sysfs device paths.
    """
    candidates = list(disks)
    names = [d.name for d in candidates]
    try:
        return [d.name for d in blockdev.physical_disks(host, blockdev.by_name(host, name.replace("/", "!")))]
    except (BlockDevError, HostError):
        pass
    if name.startswith("nvme") and "n" not in name[4:]:
        return [n for n in names if n.startswith(name + "n")]
    if name.startswith("ata"):
        port = name.split(".")[0]
        out = []
        for d in candidates:
            try:
                parts = host.realpath(d.sysfs).split("/")
            except HostError:
                continue
            if port in parts:
                out.append(d.name)
        return out
    return []


def _fs_errors(host: Host, mounts: list[MountEntry]) -> list[tuple[str, FsErrors]]:
    """ext4 filesystems with error records in ``/sys/fs/ext4/<dev>/``, as (kernel device name, record)."""
    out: list[tuple[str, FsErrors]] = []
    try:
        names = host.listdir("/sys/fs/ext4")
    except HostError:
        return out
    for name in names:
        base = f"/sys/fs/ext4/{name}"
        try:
            count = int(host.read_text(f"{base}/errors_count").strip() or 0)
        except (HostError, ValueError):
            continue
        record = FsErrors(device=name, fstype="ext4", mount_point=None, errors=count)
        try:
            dev = blockdev.by_name(host, name)
            entry = next((m for m in mounts if m.major == dev.major and m.minor == dev.minor), None)
            if entry:
                record.mount_point, record.read_only = entry.mount_point, entry.read_only
        except (BlockDevError, HostError):
            pass
        if count:
            record.first_error = _ext4_when(host, base, "first")
            record.last_error = _ext4_when(host, base, "last")
        out.append((name, record))
    return out


def _ext4_when(host: Host, base: str, which: str) -> Optional[str]:
    try:
        stamp = int(host.read_text(f"{base}/{which}_error_time").strip() or 0)
        func = host.read_text(f"{base}/{which}_error_func").strip() if host.exists(f"{base}/{which}_error_func") else ""
    except (HostError, ValueError):
        return None
    if not stamp:
        return None
    return _iso(stamp) + (f" in {func}" if func else "")


def incident_reasons(incidents: Sequence[Incident]) -> list[Reason]:
    """One reason per incident kind seen for the disk, with counts and the time span."""
    reasons = []
    by_kind: dict[str, list[Incident]] = {}
    for inc in incidents:
        by_kind.setdefault(inc.kind, []).append(inc)
    labels = {"medium_error": "medium errors (unreadable sectors)", "io_error": "I/O errors",
              "nvme_error": "NVMe controller errors/timeouts", "fs_error": "filesystem errors",
              "fs_readonly": "filesystem remounted read-only"}
    for kind, items in sorted(by_kind.items(), key=lambda kv: -RANK[DEVICE_KINDS[kv[0]]]):
        count = sum(i.count for i in items)
        devices = sorted({i.device for i in items if i.device})
        first = min((i.first_seen for i in items if i.first_seen), default=None)
        last = max((i.last_seen for i in items if i.last_seen), default=None)
        span = f", {first} … {last}" if first and last and first != last else (f", at {first}" if first else "")
        reasons.append(Reason(DEVICE_KINDS[kind], f"kernel log: {count} × {labels[kind]} on "
                                                  f"{', '.join(devices)}{span}", "kernel-log"))
    return reasons


def assess(host: Host, incidents: Sequence[Incident], history: Optional[SmartHistory],
           only: Sequence[str] = ()) -> DiskSurvey:
    """Build the health of every physical disk of ``host``; records SMART counters into ``history``."""
    survey = DiskSurvey()
    try:
        disks = physical_disks(host, only)
    except (BlockDevError, HostError) as exc:
        survey.topology_error = str(exc)
        return survey
    try:
        mounts = blockdev.own_mounts(host)
    except BlockDevError:
        mounts = []
    health = {d.name: DiskHealth(d.name, blockdev.describe(host, d)) for d in disks}
    for inc in incidents:
        if inc.kind not in DEVICE_KINDS or not inc.device:
            continue
        found = disks_of(host, inc.device, disks)
        targets = [n for n in found if n in health]
        if not found and not only:  # (found but not judged: a loop/zram device, or outside the named ones)
            survey.unmapped.append(inc)
        for name in targets:
            health[name].incidents.append(inc)
    for devname, record in _fs_errors(host, mounts):
        found = disks_of(host, devname, disks)
        for name in found:
            if name in health:
                health[name].filesystems.append(record)
        if not found and record.errors and not only:
            survey.unmapped_fs.append(record)
    for dh in health.values():
        report, unavailable, missing = read_smart(host, dh.path)
        if missing:
            survey.smartctl_missing = unavailable
        dh.smart_unavailable = unavailable
        if report is not None and unavailable is None:
            dh.smart = report
            previous = history.previous(report.identity, report.observed_at) if history else None
            reasons, dh.growth = smart_reasons(report, previous)
            dh.reasons.extend(reasons)
            dh.previous_at = previous.observed_at if previous else None
            if history is not None:
                history.record(report.identity, report.counters(), report.observed_at or int(host.now()),
                               dh.path)
        dh.reasons.extend(incident_reasons(dh.incidents))
        for fs in dh.filesystems:
            if fs.errors:
                where = f" mounted on {fs.mount_point}" if fs.mount_point else ""
                first = f"; first {fs.first_error}" if fs.first_error else ""
                last = f", last {fs.last_error}" if fs.last_error and fs.last_error != fs.first_error else ""
                dh.reasons.append(Reason(WARNING, f"{fs.fstype} on {fs.device}{where} has recorded {fs.errors} "
                                                  f"error(s){first}{last}", "filesystem"))
    survey.disks = sorted(health.values(), key=lambda d: d.name)
    if history is not None:
        survey.history_path = history.path
        if not history.save():
            survey.history_error = history.save_error
        elif history.load_error:
            survey.history_error = f"previous state unreadable, started afresh: {history.load_error}"
    return survey


def survey_host(ctx: Context, only: Sequence[str] = ()) -> DiskSurvey:
    """The disk survey of ``ctx.host``, computed once per run (KC301, KC302 and ``kerncheck disks`` share it)."""
    from kerncheck.logs.boots import host_incidents

    def compute() -> DiskSurvey:
        log = host_incidents(ctx)
        history = ctx.cached("kerncheck.smart-history", SmartHistory.load)
        survey = assess(ctx.host, [inc for inc, boot in log.incidents if boot == "current"], history, only)
        survey.earlier_boots = [inc for inc, boot in log.incidents
                                if boot != "current" and inc.kind in DEVICE_KINDS and inc.device]
        survey.log_sources, survey.log_error, survey.log_notes = log.sources, log.error, log.notes
        return survey

    return ctx.cached("kerncheck.disk-survey:" + ",".join(only), compute)

