"""Block devices: resolve what a user names, and walk the topology (partitions, holders, slaves, disks).

Everything is read through a :class:`~kerncheck.host.Host` (sysfs, ``/dev``, ``/proc/self/mountinfo``, and
``blkid`` run read-only with no cache file), so it works against the live machine, a re-rooted test tree
and, where the files were captured, a snapshot.

A device is identified by its kernel name (``sda1``, ``loop0p2``, ``dm-3``, ``md127``, ``nvme0n1p1``) as
in ``/sys/class/block``; sysfs spells ``/`` in names as ``!`` (``cciss!c0d0`` is ``/dev/cciss/c0d0``).

Public API:

* :func:`resolve` — a user's spec (``/dev/…`` path or symlink, ``/dev/disk/by-*/…``, ``/dev/mapper/…``,
  ``UUID=``/``LABEL=``/``PARTUUID=``/``PARTLABEL=``, a mount point, ``major:minor``) → :class:`BlockDevice`;
* :func:`by_name`, :func:`by_number`, :func:`by_node` — lookups by kernel name, device number, device node;
* :func:`whole_disk`, :func:`partitions` — partition ↔ disk;
* :func:`holders`, :func:`slaves` — devices stacked on / under a device (dm, LVM, md, multipath, bcache),
  recursively; :func:`physical_disks` — the whole disks at the bottom of a stack;
* :func:`mount_of`, :func:`device_of_mount` — the mount (and device) holding a path, in this namespace;
* :func:`loop_backing_file`, :func:`describe` — human detail about a device.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Optional

from kerncheck.host import CommandTimeout, CommandUnavailable, Host, HostError, NotFound
from kerncheck.parsers.mountinfo import MountEntry, MountinfoError, parse_mountinfo

SYS_BLOCK = "/sys/class/block"
SYS_DEV_BLOCK = "/sys/dev/block"
TAG_DIRS = {"UUID": "by-uuid", "LABEL": "by-label", "PARTUUID": "by-partuuid", "PARTLABEL": "by-partlabel"}


class BlockDevError(Exception):
    """A device spec could not be resolved, or the topology could not be read; ``str()`` says why."""


@dataclass(frozen=True)
class BlockDevice:
    name: str  # kernel name as in /sys/class/block
    major: int
    minor: int
    partition: bool = False

    @property
    def devno(self) -> str:
        return f"{self.major}:{self.minor}"

    @property
    def path(self) -> str:
        """The conventional device node."""
        return "/dev/" + self.name.replace("!", "/")

    @property
    def sysfs(self) -> str:
        return f"{SYS_BLOCK}/{self.name}"

    def __str__(self) -> str:
        return self.path


def _major_minor(rdev: int) -> tuple[int, int]:
    # Linux dev_t encoding (glibc gnu_dev_major/minor), as os.major/os.minor compute it.
    major = ((rdev >> 8) & 0xFFF) | ((rdev >> 32) & ~0xFFF)
    minor = (rdev & 0xFF) | ((rdev >> 12) & ~0xFF)
    return major, minor


def parse_devno(text: str) -> Optional[tuple[int, int]]:
    """``"259:3"`` → ``(259, 3)``; anything else → ``None``.

    >>> parse_devno("7:0"), parse_devno(" 254:0  "), parse_devno("sda")
    ((7, 0), (254, 0), None)
    """
    major, sep, minor = text.strip().partition(":")
    if not sep or not major.isdigit() or not minor.isdigit():
        return None
    return int(major), int(minor)


def by_name(host: Host, name: str) -> BlockDevice:
    """The device with this kernel name (``loop0p1``)."""
    base = f"{SYS_BLOCK}/{name}"
    try:
        numbers = parse_devno(host.read_text(f"{base}/dev"))
    except NotFound:
        raise BlockDevError(f"no block device named {name} ({base} does not exist)") from None
    except HostError as exc:
        raise BlockDevError(f"cannot read {base}/dev: {exc.reason}") from None
    if numbers is None:
        raise BlockDevError(f"{base}/dev does not hold major:minor")
    return BlockDevice(name, numbers[0], numbers[1], host.exists(f"{base}/partition"))


def by_number(host: Host, major: int, minor: int) -> BlockDevice:
    """The device with this number, via the ``/sys/dev/block/M:m`` link."""
    link = f"{SYS_DEV_BLOCK}/{major}:{minor}"
    if not host.exists(link):
        raise BlockDevError(f"no block device {major}:{minor} ({link} does not exist)")
    return by_name(host, posixpath.basename(host.realpath(link)))


def by_node(host: Host, path: str) -> BlockDevice:
    """The device a block-device node (or a symlink to one) stands for."""
    try:
        st = host.stat(path)
    except NotFound:
        raise BlockDevError(f"{path}: no such file or device") from None
    except HostError as exc:
        raise BlockDevError(f"{path}: {exc.reason}") from None
    if not st.is_block_device:
        raise BlockDevError(f"{path} is not a block device")
    return by_number(host, *_major_minor(st.rdev))


def whole_disk(host: Host, dev: BlockDevice) -> BlockDevice:
    """The disk a partition belongs to (a whole disk is its own)."""
    if not dev.partition:
        return dev
    parent = posixpath.basename(posixpath.dirname(host.realpath(dev.sysfs)))
    return by_name(host, parent)


def partitions(host: Host, dev: BlockDevice) -> list[BlockDevice]:
    """Partitions of a whole disk (sub-directories of its sysfs directory with a ``partition`` file)."""
    if dev.partition:
        return []
    real = host.realpath(dev.sysfs)
    try:
        names = host.listdir(real)
    except HostError as exc:
        raise BlockDevError(f"cannot list {real}: {exc.reason}") from None
    return [by_name(host, n) for n in names if host.exists(f"{real}/{n}/partition")]


def _related(host: Host, dev: BlockDevice, kind: str) -> list[BlockDevice]:
    path = f"{dev.sysfs}/{kind}"
    try:
        names = host.listdir(path)
    except NotFound:
        return []  # partitions of some kernels have no slaves/ directory: nothing stacked there
    except HostError as exc:
        raise BlockDevError(f"cannot list {path}: {exc.reason}") from None
    return [by_name(host, n) for n in names]


def holders(host: Host, dev: BlockDevice, recursive: bool = True) -> list[BlockDevice]:
    """Devices built on top of ``dev`` (dm/LVM/multipath/md/bcache), nearest first."""
    return _walk(host, dev, "holders", recursive)


def slaves(host: Host, dev: BlockDevice, recursive: bool = True) -> list[BlockDevice]:
    """Devices ``dev`` is built from, nearest first."""
    return _walk(host, dev, "slaves", recursive)


def _walk(host: Host, dev: BlockDevice, kind: str, recursive: bool) -> list[BlockDevice]:
    seen: dict[str, BlockDevice] = {}
    queue = [dev]
    while queue:
        current = queue.pop(0)
        for nxt in _related(host, current, kind):
            if nxt.name not in seen and nxt.name != dev.name:
                seen[nxt.name] = nxt
                if recursive:
                    queue.append(nxt)
    return list(seen.values())


def physical_disks(host: Host, dev: BlockDevice) -> list[BlockDevice]:
    """The whole disks at the bottom of ``dev``'s stack (itself, or its disk, when nothing is under it)."""
    bottom = [d for d in [dev, *slaves(host, dev)] if not _related(host, d, "slaves")]
    disks: dict[str, BlockDevice] = {}
    for d in bottom:
        disk = whole_disk(host, d)
        disks.setdefault(disk.name, disk)
    return list(disks.values())


def loop_backing_file(host: Host, dev: BlockDevice) -> Optional[str]:
    """The file behind a loop device as the kernel names it (may end in `` (deleted)``), else ``None``."""
    try:
        return host.read_text(f"{SYS_BLOCK}/{dev.name}/loop/backing_file").rstrip("\n")
    except NotFound:
        return None


def describe(host: Host, dev: BlockDevice) -> str:
    """``/dev/dm-0 (device-mapper vg-root, LVM)``, ``/dev/md0 (md RAID)``, ``/dev/loop1 (loop on /x.img)``."""
    base = f"{SYS_BLOCK}/{dev.name}"
    try:
        if host.exists(f"{base}/dm/name"):
            name = host.read_text(f"{base}/dm/name").strip()
            uuid = host.read_text(f"{base}/dm/uuid").strip() if host.exists(f"{base}/dm/uuid") else ""
            prefixes = {"LVM-": "LVM", "mpath-": "multipath", "CRYPT-": "dm-crypt", "part": "kpartx partition"}
            kind = next((k for p, k in prefixes.items() if uuid.startswith(p)), "")
            return f"{dev.path} (device-mapper {name}{', ' + kind if kind else ''})"
        if host.exists(f"{base}/md"):
            level = host.read_text(f"{base}/md/level").strip() if host.exists(f"{base}/md/level") else "md"
            return f"{dev.path} (md RAID {level})"
        if host.exists(f"{base}/bcache"):
            return f"{dev.path} (bcache)"
        backing = loop_backing_file(host, dev)
        if backing:
            return f"{dev.path} (loop on {backing})"
    except HostError:
        pass
    return dev.path


def own_mounts(host: Host) -> list[MountEntry]:
    """The mount table of this process's namespace (``/proc/self/mountinfo``)."""
    try:
        return parse_mountinfo(host.read_text("/proc/self/mountinfo"))
    except HostError as exc:
        raise BlockDevError(f"cannot read the mount table /proc/self/mountinfo: {exc.reason}") from None
    except MountinfoError as exc:
        raise BlockDevError(str(exc)) from None


def mount_of(host: Host, path: str, mounts: Optional[list[MountEntry]] = None) -> Optional[MountEntry]:
    """The mount holding ``path`` (the last-mounted one at the longest matching mount point)."""
    target = host.realpath(path)
    best: Optional[MountEntry] = None
    for entry in mounts if mounts is not None else own_mounts(host):
        mp = entry.mount_point
        inside = target == mp or mp == "/" or target.startswith(mp.rstrip("/") + "/")
        if inside and (best is None or len(mp) >= len(best.mount_point)):
            best = entry
    return best


def device_of_mount_entry(host: Host, entry: MountEntry) -> Optional[BlockDevice]:
    """The block device behind a mount: its ``major:minor``, else (btrfs, anonymous numbers) its source."""
    if entry.major != 0 and host.exists(f"{SYS_DEV_BLOCK}/{entry.devno}"):
        return by_number(host, entry.major, entry.minor)
    if entry.source.startswith("/dev/"):
        try:
            return by_node(host, entry.source)
        except BlockDevError:
            return None
    return None


def device_of_mount(host: Host, path: str) -> Optional[BlockDevice]:
    """The block device of the filesystem holding ``path`` (``None`` for tmpfs, proc, network…)."""
    entry = mount_of(host, path)
    return device_of_mount_entry(host, entry) if entry else None


def _udev_encode(value: str) -> str:
    """How udev names a tag in ``/dev/disk/by-label``: unsafe characters become ``\\xNN``."""
    safe = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789#+-.:=@_")
    return "".join(ch if ch in safe else "".join(f"\\x{b:02x}" for b in ch.encode()) for ch in value)


def _resolve_tag(host: Host, tag: str, value: str) -> BlockDevice:
    """``UUID=…`` and friends: the udev link when it exists, and ``blkid`` (read-only) to find duplicates."""
    found: dict[str, BlockDevice] = {}
    for candidate in dict.fromkeys((value, _udev_encode(value))):
        link = f"/dev/disk/{TAG_DIRS[tag]}/{candidate}"
        if host.exists(link):
            dev = by_node(host, link)
            found[dev.name] = dev
    blkid_error = ""
    try:
        # -c /dev/null: probe devices, never read or write blkid's cache file.
        result = host.run(["blkid", "-c", "/dev/null", "-o", "device", "-t", f"{tag}={value}"], timeout=30)
        if result.returncode not in (0, 2):  # 2: nothing has this tag
            blkid_error = f"blkid exited {result.returncode}: {result.stderr.strip()}"
        for line in result.stdout.splitlines():
            if line.strip():
                dev = by_node(host, line.strip())
                found[dev.name] = dev
    except (CommandUnavailable, CommandTimeout) as exc:
        blkid_error = f"blkid: {exc.reason}"
    if len(found) > 1:
        names = ", ".join(d.path for d in found.values())
        raise BlockDevError(f"{tag}={value} is ambiguous: {names} all carry it (cloned disks?); name the device")
    if not found:
        why = f" ({blkid_error})" if blkid_error else ""
        raise BlockDevError(f"no block device has {tag}={value}{why}")
    return next(iter(found.values()))


def resolve(host: Host, spec: str) -> BlockDevice:
    """What the system would understand by ``spec``; raises :class:`BlockDevError` with the reason."""
    spec = spec.strip()
    tag, sep, value = spec.partition("=")
    if sep and tag.upper() in TAG_DIRS and value:
        return _resolve_tag(host, tag.upper(), value.strip("\"'"))
    numbers = parse_devno(spec)
    if numbers is not None:
        return by_number(host, *numbers)
    if not spec.startswith("/"):
        raise BlockDevError(f"{spec!r}: give a /dev path, UUID=, LABEL=, PARTUUID=, PARTLABEL=, a mount point "
                            "or major:minor")
    try:
        st = host.stat(spec)
    except NotFound:
        raise BlockDevError(f"{spec}: no such file or device") from None
    except HostError as exc:
        raise BlockDevError(f"{spec}: {exc.reason}") from None
    if st.is_block_device:
        return by_number(host, *_major_minor(st.rdev))
    if st.is_dir:
        target = host.realpath(spec)
        entry = mount_of(host, target)
        if entry is None or entry.mount_point != target:
            raise BlockDevError(f"{spec} is a directory but not a mount point")
        dev = device_of_mount_entry(host, entry)
        if dev is None:
            raise BlockDevError(f"{spec} is the mount point of a {entry.fstype} filesystem from "
                                f"{entry.source!r}, not of a block device")
        return dev
    raise BlockDevError(f"{spec} is not a block device")
