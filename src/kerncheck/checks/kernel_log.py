"""What this boot's kernel log says: errors, lockups and hung tasks, filesystems that hit errors."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any, Optional

from kerncheck.facts import Context
from kerncheck.finding import Result, Severity, failed, passed, skipped
from kerncheck.host import HostError
from kerncheck.logs.boots import current_boot
from kerncheck.logs.model import Incident
from kerncheck.parsers.mountinfo import MountinfoError, parse_mountinfo
from kerncheck.registry import check, collects

EXT4_ERROR_FILES = ("errors_count", "first_error_time", "first_error_func", "first_error_errcode",
                    "last_error_time", "last_error_func", "last_error_errcode")
collects("/proc/self/mountinfo", "/proc/sys/kernel/hung_task_detect_count",
         *(f"/sys/fs/ext4/*/{name}" for name in EXT4_ERROR_FILES))

STALL_KINDS = ("soft_lockup", "hard_lockup", "rcu_stall", "hung_task")
FS_KINDS = ("fs_error", "fs_readonly")
SCAN_HINT = "Run `kerncheck scan --live` for the full report with evidence and advice."


def _scan(ctx: Context) -> Any:
    """This boot's kernel log as a ``ScanResult`` with repeats folded, or the reason it could not be read."""

    def compute() -> Any:
        scan = current_boot(ctx)
        if isinstance(scan, str):
            return scan
        from kerncheck.logs.aggregate import aggregate

        return replace(scan, incidents=aggregate(scan.incidents))

    return ctx.cached("kernel_log", compute)


def _unusable(scan: Any) -> Optional[str]:
    if isinstance(scan, str):
        return scan
    if not scan.records:
        notes = "; ".join(str(e) for e in scan.errors)
        return "the kernel log has no records" + (f" ({notes})" if notes else "")
    return None


def _worst(incidents: list[Incident]) -> Severity:
    return Severity.CRITICAL if any(i.severity == "critical" for i in incidents) else Severity.WARNING


def _line(inc: Incident) -> str:
    where = f" [{inc.module}]" if inc.module and inc.module not in inc.title else ""
    cause = f", cause {inc.cause}" if inc.cause and inc.cause != "unknown" else ""
    times = f" ×{inc.count}" if inc.count > 1 else ""
    return f"{inc.kind}: {inc.title}{where}{cause}{times} (line {inc.first_line})"


@check(id="KC501", title="Kernel errors since boot", severity=Severity.WARNING)
def kernel_errors(ctx: Context) -> Result:
    """Summarise this boot's kernel errors and crashes (everything but lockups and filesystem errors).

    What it checks:
        Reads the current boot's kernel log (``/dev/kmsg``, or the captured ``dmesg`` of a snapshot) with the
        log engine and summarises the incidents: oopses, BUGs, WARNINGs, sanitizer reports, OOM kills,
        disk, NVMe and machine-check errors, and every other message at level err or above (0–3). Lockups
        and hung tasks are KC502's, filesystem errors KC503's.
    Why it matters:
        "The server is running fine" while the log fills with I/O errors, OOM kills or oopses is footgun 1:
        the evidence is there weeks before the outage, and a tainted, oopsed kernel is not trustworthy.
    Fix:
        Read the full report with ``kerncheck scan --live`` (text or JSON) and act on each incident's
        advice: replace failing disks, fix the memory limit or leak behind OOM kills, update the kernel or
        the module named as culprit of an oops.
    References:
        Documentation/admin-guide/bug-hunting.rst; ``kerncheck explain <kind>`` for every incident kind.
    """
    scan = _scan(ctx)
    reason = _unusable(scan)
    if reason:
        return skipped(reason)
    found = [i for i in scan.incidents if i.kind not in STALL_KINDS + FS_KINDS]
    evidence: dict[str, Any] = {"source": ", ".join(scan.sources), "records": scan.records}
    if not found:
        return passed(f"no kernel errors in {scan.records} records since boot", evidence)
    kinds: Counter[str] = Counter()
    for inc in found:
        kinds[inc.kind] += inc.count
    evidence["by_kind"] = dict(kinds.most_common())
    ranked = sorted(found, key=lambda i: (i.severity != "critical", -i.count, i.first_line))
    evidence["incidents"] = [_line(i) for i in ranked[:10]]
    summary = ", ".join(f"{n} {kind}" for kind, n in kinds.most_common())
    return failed(f"{sum(kinds.values())} kernel error events since boot: {summary}", evidence,
                  severity=_worst(found), fix=f"{ranked[0].advice} {SCAN_HINT}")


@check(id="KC502", title="No lockups, hung tasks or RCU stalls", severity=Severity.CRITICAL)
def lockups(ctx: Context) -> Result:
    """Report soft/hard lockups, hung tasks and RCU stalls of this boot, with their culprit and cause.

    What it checks:
        The current boot's kernel log for ``BUG: soft lockup``, ``Watchdog detected hard LOCKUP``,
        ``INFO: task … blocked for more than N seconds`` and RCU stall reports; each is named by its culprit
        function (and module) and soft lockups by cause: a NIC driver, a filesystem, spinlock contention or
        hypervisor steal time. ``kernel.hung_task_detect_count`` catches hung tasks whose reports were
        suppressed (``hung_task_warnings``) or have left the ring buffer.
    Why it matters:
        A CPU stuck for 20+ seconds or a task blocked for minutes is a box on its way to a hang; treating
        "BUG: soft lockup" as noise is footgun 8. The backtrace says where to look.
    Fix:
        Follow the cause: update the NIC driver/firmware (nic_driver); check the disk and filesystem behind
        it (filesystem, and hung tasks waiting on I/O); find the lock holder (spinlock_contention); on a VM
        with steal time, fix host overcommit. Run ``kerncheck scan --live`` for the backtraces.
    References:
        Documentation/admin-guide/lockup-watchdogs.rst; Documentation/RCU/stallwarn.rst;
        Documentation/admin-guide/sysctl/kernel.rst (hung_task_*).
    """
    scan = _scan(ctx)
    reason = _unusable(scan)
    counter = ctx.sysctl_int("kernel.hung_task_detect_count")
    if reason and not counter:
        return skipped(reason)
    found = [] if reason else [i for i in scan.incidents if i.kind in STALL_KINDS]
    evidence: dict[str, Any] = {}
    if not reason:
        evidence.update({"source": ", ".join(scan.sources), "records": scan.records})
    if counter is not None:
        evidence["kernel.hung_task_detect_count"] = counter
    logged_hung = sum(i.count for i in found if i.kind == "hung_task")
    if not found and not counter:
        return passed("no lockups, hung tasks or RCU stalls since boot", evidence)
    if found:
        evidence["incidents"] = [_line(i) for i in found[:10]]
        stuck = [i.details.get("stuck_in") for i in found if i.details.get("stuck_in")]
        if stuck:
            evidence["stuck_in"] = sorted(set(stuck))
    parts = [f"{n} {kind}" for kind, n in Counter(i.kind for i in found).most_common()]
    if counter and counter > logged_hung:
        parts.append(f"the kernel counted {counter} hung tasks, {logged_hung} reported in the log")
    severity = Severity.CRITICAL if any(i.kind != "hung_task" for i in found) else Severity.WARNING
    advice = found[0].advice if found else "Hung tasks were detected but their reports are gone from the log: " \
        "check the journal of this boot and sysrq-w on the next occurrence."
    return failed("since boot: " + "; ".join(parts), evidence, severity=severity, fix=f"{advice} {SCAN_HINT}")


def _epoch(text: Optional[str]) -> Optional[str]:
    try:
        value = int((text or "").split()[0])
    except (ValueError, IndexError):
        return None
    return datetime.fromtimestamp(value, tz=timezone.utc).isoformat() if value else None


def _ext4_errors(ctx: Context) -> dict[str, dict[str, Any]]:
    """ext4's persistent error record per device (``/sys/fs/ext4/<dev>/errors_count`` …), only non-zero."""
    out: dict[str, dict[str, Any]] = {}
    for path in ctx.host.glob("/sys/fs/ext4/*/errors_count"):
        dev = path.split("/")[4]
        try:
            count = int(ctx.host.read_text(path).split()[0])
        except (HostError, ValueError, IndexError):
            continue
        if count <= 0:
            continue
        info: dict[str, Any] = {"errors_count": count}
        for name in ("first_error", "last_error"):
            when = _epoch(ctx.read_optional(f"/sys/fs/ext4/{dev}/{name}_time"))
            func = (ctx.read_optional(f"/sys/fs/ext4/{dev}/{name}_func") or "").strip()
            if when:
                info[f"{name}_time"] = when
            if func:
                info[f"{name}_func"] = func
        out[dev] = info
    return out


def _kernel_remounted_ro(ctx: Context) -> tuple[dict[str, dict[str, Any]], Optional[str]]:
    """Mounts the kernel made read-only after an error: the superblock is ``ro`` while the mount itself is
    ``rw`` (a deliberate ``ro`` mount is read-only at both levels), or ext4's ``emergency_ro`` (6.12+)."""
    text = ctx.read_optional("/proc/self/mountinfo")
    if text is None:
        return {}, None
    try:
        mounts = parse_mountinfo(text)
    except MountinfoError as exc:
        return {}, str(exc)
    out: dict[str, dict[str, Any]] = {}
    for m in mounts:
        forced = "emergency_ro" in m.super_options or ("rw" in m.options and "ro" in m.super_options)
        if forced and m.source.startswith("/dev/"):
            try:
                dev = ctx.host.realpath(m.source).rsplit("/", 1)[-1]  # /dev/mapper/vg-root → dm-3
            except HostError:
                dev = m.source.rsplit("/", 1)[-1]
            entry = out.setdefault(dev, {"source": m.source, "mount_points": [], "fstype": m.fstype})
            entry["mount_points"].append(m.mount_point)
            entry["super_options"] = ",".join(m.super_options)
    return out, None


def _device_of(name: str) -> str:
    """Journal devices (``sda1-8``) and /dev paths to the block device name."""
    return re.sub(r"-\d+$", "", name.rsplit("/", 1)[-1])


@check(id="KC503", title="Filesystems without recorded errors", severity=Severity.CRITICAL)
def filesystem_errors(ctx: Context) -> list[Result]:
    """Find filesystems that recorded errors or were remounted read-only by the kernel.

    What it checks:
        ext4's persistent error record (``/sys/fs/ext4/<dev>/errors_count``, ``first_error_time``,
        ``first_error_func``, …), mounts in ``/proc/self/mountinfo`` whose superblock is read-only while the
        mount is read-write (the mark of ``errors=remount-ro`` having fired), and filesystem errors and
        read-only remounts (ext4, jbd2, XFS, btrfs) in this boot's kernel log.
    Why it matters:
        A filesystem with errors keeps corrupting data until it is repaired; after a remount read-only every
        write fails. The tempting fix — fsck on the mounted filesystem, or ``touch /forcefsck`` without a
        backup — is footgun 7.
    Fix:
        Back up what is readable, check the disk first (``smartctl -a``, I/O errors in the log), then repair
        the unmounted filesystem during downtime with ``kerncheck fsck /dev/DEVICE`` (it refuses mounted
        filesystems). For the root filesystem boot a rescue system, or schedule ``fsck.mode=force`` for the
        next boot. Never run fsck, e2fsck -y or xfs_repair on a mounted filesystem.
    References:
        ext4(5) (errors=); e2fsck(8); xfs_repair(8); Documentation/filesystems/ext4/ (sysfs errors_count).
    """
    ext4 = _ext4_errors(ctx)
    remounted, mount_error = _kernel_remounted_ro(ctx)
    scan = _scan(ctx)
    reason = _unusable(scan)
    log = [] if reason else [i for i in scan.incidents if i.kind in FS_KINDS]
    has_ext4 = ctx.host.exists("/sys/fs/ext4")
    has_mounts = ctx.host.exists("/proc/self/mountinfo")
    if not has_ext4 and not has_mounts and not log:
        why = reason or "the kernel log shows no filesystem errors"
        return [skipped(f"{why}, but neither /sys/fs/ext4 nor /proc/self/mountinfo is available to show errors "
                        "recorded before this boot or read-only remounts")]
    devices: dict[str, dict[str, Any]] = {}
    for dev, info in ext4.items():
        devices.setdefault(dev, {})["ext4"] = info
    for dev, info in remounted.items():
        devices.setdefault(dev, {})["remounted_read_only"] = info
    for inc in log:
        dev = _device_of(inc.device or "?")
        devices.setdefault(dev, {}).setdefault("kernel_log", []).append(_line(inc))
    if not devices:
        evidence: dict[str, Any] = {"ext4_filesystems": len(ctx.host.glob("/sys/fs/ext4/*/errors_count"))}
        if not reason:
            evidence["records"] = scan.records
        if mount_error:
            evidence["mountinfo"] = mount_error
        return [passed("no filesystem has recorded errors or was remounted read-only", evidence)]
    results = []
    for dev, evidence in sorted(devices.items()):
        what = []
        if "ext4" in evidence:
            e = evidence["ext4"]
            what.append(f"ext4 recorded {e['errors_count']} error(s)"
                        + (f", first in {e['first_error_func']}" if e.get("first_error_func") else "")
                        + (f" at {e['first_error_time']}" if e.get("first_error_time") else ""))
        if "remounted_read_only" in evidence:
            points = ", ".join(evidence["remounted_read_only"]["mount_points"])
            what.append(f"remounted read-only by the kernel ({points})")
        if "kernel_log" in evidence:
            what.append(f"{len(evidence['kernel_log'])} filesystem error event(s) in the kernel log")
        target = f"/dev/{dev}" if not dev.startswith("/") else dev
        results.append(failed(f"{dev}: " + "; ".join(what), evidence, subject=dev,
                              fix=f"Back up, check the disk behind {dev} (smartctl -a, I/O errors), then repair "
                                  f"it unmounted during downtime: `kerncheck fsck {target}` (refuses mounted "
                                  "filesystems; for / use a rescue system or fsck.mode=force on the next boot). "
                                  "Never fsck a mounted filesystem."))
    return results
