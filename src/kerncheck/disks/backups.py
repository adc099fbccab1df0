"""Backups that would die with the data they protect: same filesystem, or the same physical disk.

Backup and data locations come from the ``[disks]`` table of the host's ``/etc/kerncheck/kerncheck.toml``
(``backup_paths``, ``data_paths``; shell patterns allowed), else from common locations. Each location is
mapped to its mount and, through :mod:`kerncheck.blockdev`, to the physical disks under it — following
loop devices to the disk that holds their image file.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any, Optional

from kerncheck import blockdev
from kerncheck.blockdev import BlockDevError
from kerncheck.config import DEFAULT_PATH, ConfigError, section
from kerncheck.facts import Context
from kerncheck.host import Host, HostError
from kerncheck.parsers.mountinfo import MountEntry

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python < 3.11
    import tomli as tomllib

DEFAULT_BACKUP_PATTERNS = (
    "/var/backups", "/backup*", "/srv/backup*", "/var/lib/pgsql/backups", "/var/lib/pgsql/*/backups",
    "/var/lib/postgresql/backups", "/var/lib/autopostgresqlbackup", "/var/lib/automysqlbackup",
    "/var/opt/gitlab/backups", "/var/lib/mysql-backup*",
)
DEFAULT_DATA_PATTERNS = (
    "/", "/home", "/srv", "/var/www", "/var/lib/mysql", "/var/lib/pgsql", "/var/lib/postgresql",
    "/var/lib/mongodb", "/var/lib/docker", "/var/lib/elasticsearch", "/var/lib/redis", "/var/opt/gitlab",
)
# What Debian's own daily housekeeping keeps in /var/backups: not anybody's backups.
DEBIAN_HOUSEKEEPING = ("dpkg.", "apt.extended_states", "alternatives.tar", "passwd.", "group.", "shadow.",
                       "gshadow.", "infodir.bak", "aptitude.pkgstates")
NETWORK_FS = ("nfs", "nfs4", "cifs", "smb3", "sshfs", "fuse.sshfs", "glusterfs", "fuse.glusterfs", "ceph",
              "fuse.s3fs", "fuse.rclone", "9p", "virtiofs")
MAX_LOOP_DEPTH = 8


def disk_settings(ctx: Context) -> dict[str, Any]:
    """The ``[disks]`` table of the host's configuration file (empty when there is none)."""

    def load() -> dict[str, Any]:
        try:
            text = ctx.read_optional(DEFAULT_PATH)
        except HostError as exc:
            raise ConfigError(f"{DEFAULT_PATH}: {exc.reason}") from None
        if text is None:
            return {}
        try:
            return section(tomllib.loads(text), "disks")
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{DEFAULT_PATH}: invalid TOML: {exc}") from None

    return ctx.cached("kerncheck.config:disks", load)


def _path_list(settings: dict[str, Any], key: str) -> Optional[list[str]]:
    value = settings.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.startswith("/") for v in value):
        raise ConfigError(f"[disks] {key} must be a list of absolute paths")
    return value


@dataclass
class Location:
    path: str
    mount: Optional[MountEntry]
    disks: list[str] = field(default_factory=list)  # physical disks (kernel names), empty when none/unknown
    note: Optional[str] = None  # why the disks are unknown, or that it is remote

    @property
    def where(self) -> str:
        if self.mount is None:
            return "unknown filesystem"
        disks = ", ".join("/dev/" + d for d in self.disks) or self.mount.source
        return f"{self.mount.fstype} {self.mount.mount_point} on {disks}"

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "mount_point": self.mount.mount_point if self.mount else None,
                "fstype": self.mount.fstype if self.mount else None,
                "source": self.mount.source if self.mount else None,
                "disks": ["/dev/" + d for d in self.disks], "note": self.note}


@dataclass
class Overlap:
    other: Location
    role: str  # "data" or "kdump target"
    same_filesystem: bool
    shared_disks: list[str]

    def describe(self) -> str:
        what = f"{self.role} {self.other.path}"
        if self.same_filesystem:
            return f"same filesystem as {what} ({self.other.mount.mount_point if self.other.mount else '?'})"
        return f"same physical disk ({', '.join('/dev/' + d for d in self.shared_disks)}) as {what}"


@dataclass
class BackupPlacement:
    backup: Location
    overlaps: list[Overlap] = field(default_factory=list)
    compared_with: list[Location] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"backup": self.backup.to_json(),
                "overlaps": [{"with": o.other.path, "role": o.role, "same_filesystem": o.same_filesystem,
                              "shared_disks": ["/dev/" + d for d in o.shared_disks]} for o in self.overlaps],
                "compared_with": [c.path for c in self.compared_with]}


def underlying_disks(host: Host, dev: blockdev.BlockDevice, depth: int = 0) -> list[str]:
    """Physical disks under ``dev``; a loop device counts as the disks holding its image file, or as its own
    storage when that file is on no block device (tmpfs)."""
    out: list[str] = []
    for disk in blockdev.physical_disks(host, dev):
        backing = blockdev.loop_backing_file(host, disk) if disk.name.startswith("loop") else None
        if backing and depth < MAX_LOOP_DEPTH:
            path = backing[: -len(" (deleted)")] if backing.endswith(" (deleted)") else backing
            try:
                under = blockdev.device_of_mount(host, path)
            except (BlockDevError, HostError):
                under = None
            out += underlying_disks(host, under, depth + 1) if under is not None else [disk.name]
        else:
            out.append(disk.name)
    return list(dict.fromkeys(out))


def locate(host: Host, path: str, mounts: list[MountEntry]) -> Location:
    try:
        entry = blockdev.mount_of(host, path, mounts)
    except HostError as exc:
        return Location(path, None, note=exc.reason)
    loc = Location(path, entry)
    if entry is None:
        loc.note = "no mount holds it"
        return loc
    if entry.fstype in NETWORK_FS or entry.fstype.startswith("nfs"):
        loc.note = f"network filesystem ({entry.fstype} {entry.source})"
        return loc
    try:
        dev = blockdev.device_of_mount_entry(host, entry)
        if dev is not None:
            loc.disks = underlying_disks(host, dev)
        else:
            loc.note = f"{entry.fstype} has no block device"
    except (BlockDevError, HostError) as exc:
        loc.note = f"disk unknown: {exc}"
    return loc


def _has_backups(host: Host, path: str) -> bool:
    """A default location counts only when it holds something (and Debian's housekeeping is not it)."""
    try:
        names = host.listdir(path)
    except HostError:
        return False
    if path == "/var/backups":
        names = [n for n in names if not n.startswith(DEBIAN_HOUSEKEEPING)]
    return bool(names)


def _expand(host: Host, patterns: list[str]) -> list[str]:
    out: list[str] = []
    for pattern in patterns:
        if any(c in pattern for c in "*?["):
            out += [p for p in host.glob(pattern) if host.is_dir(p)]
        elif host.exists(pattern):
            out.append(pattern.rstrip("/") or "/")
    return list(dict.fromkeys(out))


@dataclass
class BackupSurvey:
    placements: list[BackupPlacement] = field(default_factory=list)
    configured: bool = False
    data: list[Location] = field(default_factory=list)
    kdump: Optional[Location] = None
    missing: list[str] = field(default_factory=list)  # configured paths that do not exist


def _within(path: str, other: str) -> bool:
    return path == other or other == "/" or path.startswith(other.rstrip("/") + "/")


def survey_backups(ctx: Context) -> BackupSurvey:
    """Where the backups are, and what they share a filesystem or disk with."""
    host = ctx.host
    settings = disk_settings(ctx)
    backups_cfg = _path_list(settings, "backup_paths")
    data_cfg = _path_list(settings, "data_paths")
    survey = BackupSurvey(configured=backups_cfg is not None)
    mounts = blockdev.own_mounts(host)
    if backups_cfg is not None:
        backup_paths = _expand(host, backups_cfg)
        survey.missing = [p for p in backups_cfg if not any(c in p for c in "*?[") and not host.exists(p)]
    else:
        backup_paths = [p for p in _expand(host, list(DEFAULT_BACKUP_PATTERNS)) if _has_backups(host, p)]
    data_paths = _expand(host, data_cfg if data_cfg is not None else list(DEFAULT_DATA_PATTERNS))
    survey.data = [locate(host, p, mounts) for p in data_paths]
    from kerncheck.kdumpconfig import kdump_setup

    setup = kdump_setup(ctx)
    if setup.configured and not setup.remote_target and not setup.fs_target:
        survey.kdump = locate(host, setup.dump_path, mounts)
    for path in backup_paths:
        backup = locate(host, path, mounts)
        placement = BackupPlacement(backup)
        others = [(d, "data") for d in survey.data if not _within(d.path, path)]
        if survey.kdump is not None:
            others.append((survey.kdump, "kdump target"))
        for other, role in others:
            placement.compared_with.append(other)
            if backup.mount is None or other.mount is None:
                continue
            same_fs = (backup.mount.devno == other.mount.devno and backup.mount.major != 0) or (
                backup.mount.mount_id == other.mount.mount_id)
            shared = [d for d in backup.disks if d in other.disks]
            if same_fs or shared:
                placement.overlaps.append(Overlap(other, role, same_fs, shared))
        survey.placements.append(placement)
    return survey
