"""KC301 disk health per physical disk, KC302 backups on the same filesystem or disk as their data."""

from __future__ import annotations

from kerncheck import blockdev
from kerncheck.config import ConfigError
from kerncheck.disks.backups import BackupPlacement, survey_backups
from kerncheck.disks.health import CRITICAL, DiskHealth, DiskSurvey, physical_disks, smart_argv, survey_host
from kerncheck.facts import Context
from kerncheck.finding import Result, Severity, errored, failed, passed, skipped
from kerncheck.host import HostError
from kerncheck.registry import check, collects, collects_from

collects(
    "/sys/class/block/*/dev", "/sys/class/block/*/partition", "/sys/class/block/*/removable",
    "/sys/class/block/*/device",
    "/sys/class/block/*/slaves/*", "/sys/class/block/*/holders/*", "/sys/class/block/*/dm/name",
    "/sys/class/block/*/dm/uuid", "/sys/class/block/*/md/level", "/sys/class/block/*/loop/backing_file",
    "/sys/dev/block/*", "/sys/fs/ext4/*/errors_count", "/sys/fs/ext4/*/first_error_time",
    "/sys/fs/ext4/*/first_error_func", "/sys/fs/ext4/*/last_error_time", "/sys/fs/ext4/*/last_error_func",
    "/etc/kerncheck/kerncheck.toml",
)


@collects_from("commands")
def _smartctl_per_disk(ctx: Context) -> list[list[str]]:
    try:
        return [smart_argv(d.path) for d in physical_disks(ctx.host)]
    except (blockdev.BlockDevError, HostError):
        return []


def disk_result(dh: DiskHealth, survey: DiskSurvey) -> Result:
    """The KC301 finding for one disk."""
    evidence: dict[str, object] = {"state": dh.state}
    if dh.smart is not None:
        s = dh.smart
        evidence["smart"] = f"{s.model or '?'} ({s.protocol or s.dev_type}), health " + (
            "PASSED" if s.health_passed else "FAILED" if s.health_passed is False else "unknown")
        evidence["counters"] = s.counters()
    if dh.growth:
        evidence["growth"] = {k: f"{a} → {b}" for k, (a, b) in dh.growth.items()}
    if dh.smart_unavailable:
        evidence["smart unavailable"] = dh.smart_unavailable
    if dh.incidents:
        evidence["kernel log"] = [f"{i.kind} {i.device} ×{i.count}: {i.title}" for i in dh.incidents[:10]]
    if survey.log_error:
        evidence["kernel log unavailable"] = survey.log_error
    if survey.history_error:
        evidence["counter history"] = survey.history_error
    problems = [r for r in dh.reasons if r.severity != "info"]
    if problems:
        severity = Severity.CRITICAL if dh.severity == CRITICAL else Severity.WARNING
        head = "actively failing" if severity is Severity.CRITICAL else "degrading"
        return failed(f"{dh.description} is {head}: " + "; ".join(r.text for r in problems), evidence,
                      severity=severity, fix=dh.advice, subject=dh.path)
    notes = [r.text for r in dh.reasons]
    if dh.smart is None:
        log = ("the kernel log shows no errors for it" if not survey.log_error
               else "and the kernel log could not be read")
        return skipped(f"no SMART verdict for {dh.description}: {dh.smart_unavailable}; {log}", evidence,
                       subject=dh.path)
    log = "no disk errors in the kernel log" if not survey.log_error else "kernel log not read"
    extra = f" ({'; '.join(notes)})" if notes else ""
    return passed(f"{dh.description}: SMART health PASSED, no remapped, pending or uncorrectable sectors, "
                  f"{log}{extra}", evidence, subject=dh.path)


@check(id="KC301", title="Disk health (SMART, kernel log, fs errors)", severity=Severity.CRITICAL)
def disk_health(ctx: Context) -> list[Result]:
    """Judge every physical disk from SMART, its kernel-log errors and the error records of its filesystems.

    What it checks:
        For each whole disk backed by hardware, `smartctl --json -a`: overall health, ATA attributes
        5 (reallocated), 187 (reported uncorrectable), 197 (pending), 198 (offline uncorrectable),
        199 (interface CRC errors), failing/failed-in-the-past attributes, the latest self-test; NVMe
        critical_warning, media errors, endurance used and available spare vs its threshold; the SCSI grown
        defect list and uncorrected error counters. Counters are compared with the previous run (state
        file /var/lib/kerncheck/smart-counters.json, or $KERNCHECK_STATE_DIR) and any growth is reported.
        Kernel-log incidents (medium, I/O, NVMe, filesystem errors including XFS shutdowns, which leave
        no mark in sysfs, read-only remounts) and ext4 error counters (/sys/fs/ext4/*/errors_count) are
        mapped from partitions, device-mapper/LVM and md devices back to the disk they sit on.
        Critical: failed health, an attribute failing now, pending or offline-uncorrectable sectors,
        growth of any media counter, 100+ remapped sectors or grown defects, an NVMe critical warning
        other than temperature, a failed latest self-test, medium errors or a read-only remount in the
        kernel log. Warning: a few remapped sectors, uncorrectable errors reported earlier, NVMe media
        errors or wear ≥ 90 %, I/O errors, filesystem errors.
        Without smartctl (or without root) the disk is skipped, never passed, unless the kernel log
        already shows it failing.
    Why it matters:
        Disks announce their death: pending and reallocated sectors climb, reads fail with medium errors,
        ext4 starts logging errors — often for weeks while "the server is running fine". A disk whose
        counters grow between two runs is failing now; the time to copy the data off is before the next
        read error hits something that matters.
    Fix:
        Replace a failing disk now: copy the data off first (ddrescue for unreadable areas), confirm the
        backups are on another disk (KC302). For a degrading disk run a long self-test
        (`smartctl -t long /dev/X`) and re-check daily. I/O errors with healthy SMART point at cables,
        backplane or controller.
    References:
        smartctl(8) (exit status bits), smartmontools wiki "BadBlockHowto";
        Backblaze drive stats: SMART 5, 187, 188, 197, 198 and failure rates;
        NVMe Base Specification, SMART / Health Information log page (critical warning bits).
    """
    try:
        survey = survey_host(ctx)
    except ConfigError as exc:
        return [errored(str(exc))]
    if survey.topology_error:
        return [skipped(f"cannot list the block devices: {survey.topology_error}")]
    if not survey.disks:
        return [skipped("no physical disk found in /sys/class/block (virtual machine without disks, container, "
                        "or a snapshot without sysfs)")]
    results = [disk_result(dh, survey) for dh in survey.disks]
    for fs in survey.unmapped_fs:
        results.append(failed(f"{fs.fstype} on {fs.device} has recorded {fs.errors} error(s) (first {fs.first_error}), "
                              "but the disk under it could not be determined", fs.to_json(),
                              severity=Severity.WARNING, subject=f"/dev/{fs.device}",
                              fix="Check the disk under this filesystem (smartctl -a, kernel log) and plan an offline "
                                  "fsck (kerncheck fsck)."))
    return results


def placement_result(placement: BackupPlacement, failing: dict[str, str]) -> Result:
    backup = placement.backup
    evidence: dict[str, object] = {"backup": backup.where}
    if backup.note:
        evidence["note"] = backup.note
    if placement.compared_with:
        evidence["compared with"] = [f"{o.path}: {o.where}" for o in placement.compared_with]
    overlaps = [o for o in placement.overlaps if o.role == "data" or o.same_filesystem]
    if overlaps:
        shared = sorted({d for o in overlaps for d in (o.shared_disks or backup.disks)})
        dying = [d for d in shared if d in failing]
        text = f"backups in {backup.path} ({backup.where}) share the " + "; the ".join(o.describe() for o in overlaps)
        if dying:
            text += f". /dev/{dying[0]} is failing ({failing[dying[0]]}): data and backups go together"
        return failed(text, evidence, severity=Severity.CRITICAL if dying else Severity.WARNING,
                      fix="Move the backups to another disk, better another host (NFS/S3/backup server); keep "
                          "a local copy only as a convenience.", subject=backup.path)
    if backup.note and backup.note.startswith("network filesystem"):
        return passed(f"backups in {backup.path} are on a {backup.note}", evidence, subject=backup.path)
    if backup.mount is None or not backup.disks:
        return skipped(f"cannot tell which disk holds {backup.path}: {backup.note or 'unknown mount'}", evidence,
                       subject=backup.path)
    others = ", ".join(o.path for o in placement.compared_with) or "nothing"
    return passed(f"backups in {backup.path} ({backup.where}) share neither filesystem nor disk with {others}",
                  evidence, subject=backup.path)


@check(id="KC302", title="Backups not on the same volume as their data", severity=Severity.WARNING)
def backups_apart(ctx: Context) -> list[Result]:
    """Find backups that live on the same filesystem or physical disk as the data they protect.

    What it checks:
        Backup locations from `[disks] backup_paths` in /etc/kerncheck/kerncheck.toml (else the common
        ones that hold something: /var/backups without Debian's own housekeeping files, /backup*,
        /srv/backup*, PostgreSQL/MySQL/GitLab dump directories) against the data locations from
        `[disks] data_paths` (else /, /home, /srv, /var/www and the usual database directories) and the
        kdump dump path. Each path is mapped to its mount and to the physical disks under it (through
        LVM, device-mapper, md and loop devices). Same filesystem or same disk: warning; critical when that
        disk is failing (KC301). Same filesystem as the kdump dump path: warning (a vmcore fills it).
    Why it matters:
        A backup on the disk it protects dies with it: the day the disk fails, the restore fails too and
        recovery takes days instead of hours. Backups sharing the kdump filesystem also compete for space
        with a crash dump the size of RAM.
    Fix:
        Keep backups on another disk, better another machine (backup server, NFS, object storage), and
        declare the locations in /etc/kerncheck/kerncheck.toml:
        `[disks]` / `backup_paths = ["/backup"]` / `data_paths = ["/var/lib/postgresql"]`.
    References:
        The 3-2-1 backup rule (three copies, two media, one off site);
        kdump.conf(5) `path` and dump targets.
    """
    try:
        survey = survey_backups(ctx)
    except ConfigError as exc:
        return [errored(str(exc))]
    except blockdev.BlockDevError as exc:
        return [skipped(f"cannot read the mount table: {exc}")]
    results: list[Result] = [skipped(f"configured backup path {p} does not exist", subject=p) for p in survey.missing]
    if not survey.placements:
        if not results:
            results.append(skipped("no backup location configured ([disks] backup_paths in "
                                   "/etc/kerncheck/kerncheck.toml) and none of the common ones holds anything"))
        return results
    failing: dict[str, str] = {}
    try:
        disks = survey_host(ctx)
        failing = {d.name: (d.reasons[0].text if d.reasons else d.state) for d in disks.disks if d.state == "failing"}
    except ConfigError:
        pass
    return results + [placement_result(p, failing) for p in survey.placements]
