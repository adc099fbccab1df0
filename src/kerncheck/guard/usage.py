"""Is a block device in use? Every source of truth the kernel offers, and "unknown" when one is unreadable.

A device counts as used when any of these holds for it, for the whole disk it belongs to, or for one of its
partitions:

* mounted in **any** mount namespace (every ``/proc/<pid>/mountinfo``, one read per namespace), read-only or
  not, directly or through a bind mount (matched by ``major:minor``, and by mount source for filesystems
  with anonymous device numbers such as btrfs);
* a mounted multi-device btrfs lists it in ``/sys/fs/btrfs/*/devices``;
* active swap (``/proc/swaps``), or a swap file lives on it;
* a loop device's backing file lives on it (``losetup``'s ``BACK-MAJ:MIN`` comes from the kernel, so this
  also catches a filesystem lazily unmounted while the loop device keeps it busy);
* another block device holds it (``/sys/class/block/*/holders``: device-mapper, LVM, md, multipath, bcache);
* the kernel refuses an exclusive open (``O_EXCL`` on a block device fails with EBUSY while it is mounted
  anywhere, swapped on or claimed by a holder) — the final word, also for mounts no process can see.

Unreadable sources are returned as ``unknown`` reasons: the caller must refuse on them.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Optional

from kerncheck import blockdev
from kerncheck.blockdev import BlockDevError, BlockDevice
from kerncheck.host import CommandTimeout, CommandUnavailable, Host, HostError, NotFound
from kerncheck.parsers.mountinfo import MountEntry, MountinfoError, parse_mountinfo, parse_swaps


@dataclass
class Mount:
    """A mount of one of the examined devices, and where it was seen."""

    device: BlockDevice
    entry: MountEntry
    namespace: str  # "mnt:[4026531841]" (or "pid N" when the namespace link is unreadable)
    pid: int
    own_namespace: bool

    def describe(self) -> str:
        how = "read-only" if self.entry.read_only else "read-write"
        bind = f", bind mount of {self.entry.root}" if self.entry.is_bind else ""
        where = "" if self.own_namespace else f" in another mount namespace ({self.namespace}, e.g. PID {self.pid})"
        return f"{self.device.path} is mounted {how} at {self.entry.mount_point} ({self.entry.fstype}{bind}){where}"


@dataclass
class Usage:
    """What uses a device: ``reasons`` (in use), ``unknown`` (could not tell), ``mounts`` (for advice)."""

    target: BlockDevice
    examined: list[BlockDevice] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    mounts: list[Mount] = field(default_factory=list)

    @property
    def free(self) -> bool:
        return not self.reasons and not self.unknown


def related_devices(host: Host, dev: BlockDevice) -> list[BlockDevice]:
    """The device, its partitions (for a disk) or its whole disk (for a partition): they share blocks."""
    related = [dev]
    if dev.partition:
        related.append(blockdev.whole_disk(host, dev))
    else:
        related.extend(blockdev.partitions(host, dev))
    return related


def mount_tables(host: Host) -> tuple[list[tuple[str, int, bool, list[MountEntry]]], list[str]]:
    """One mount table per mount namespace: ``[(namespace, pid, is_own, entries)]`` and unreadable sources.

    Namespaces are told apart by their ``/proc/<pid>/ns/mnt`` link; a process that hides it (not dumpable)
    still shows its mount table, which is then read and compared by content.
    """
    unknown: list[str] = []
    tables: list[tuple[str, int, bool, list[MountEntry]]] = []
    seen_ns: set[str] = set()
    seen_text: set[int] = set()

    def add(pid: int, label: str, own: bool) -> None:
        try:
            ns = host.readlink(f"{label}/ns/mnt")
        except NotFound:
            if not own:
                return  # the process exited
            ns = ""
        except HostError:
            ns = ""
        if ns and ns in seen_ns:
            return
        try:
            text = host.read_text(f"{label}/mountinfo")
            entries = parse_mountinfo(text)
        except NotFound:
            if own:
                unknown.append(f"cannot read this namespace's mount table {label}/mountinfo (no such file)")
            return
        except HostError as exc:
            unknown.append(f"cannot read {label}/mountinfo ({exc.reason}): its mounts are unknown")
            return
        except MountinfoError as exc:
            unknown.append(f"{label}/mountinfo is not in mountinfo format ({exc})")
            return
        if not ns and hash(text) in seen_text:
            return
        seen_ns.add(ns)
        seen_text.add(hash(text))
        tables.append((ns or f"namespace of PID {pid}", pid, own, entries))

    add(os.getpid(), "/proc/self", True)
    try:
        pids = sorted(int(n) for n in host.listdir("/proc") if n.isdigit())
    except HostError as exc:
        unknown.append(f"cannot list processes in /proc ({exc.reason}): mounts in other namespaces unknown")
        return tables, unknown
    if not pids:
        unknown.append("/proc lists no processes (is procfs mounted?): mounts in other namespaces unknown")
    for pid in pids:
        add(pid, f"/proc/{pid}", False)
    return tables, unknown


def _source_device(host: Host, source: str, cache: dict[str, Optional[BlockDevice]]) -> Optional[BlockDevice]:
    if source not in cache:
        try:
            cache[source] = blockdev.by_node(host, source) if source.startswith("/dev/") else None
        except BlockDevError:
            cache[source] = None
    return cache[source]


def find_mounts(host: Host, devices: Iterable[BlockDevice], usage: Usage) -> None:
    by_devno = {d.devno: d for d in devices}
    by_name = {d.name: d for d in by_devno.values()}
    tables, unknown = mount_tables(host)
    usage.unknown.extend(unknown)
    sources: dict[str, Optional[BlockDevice]] = {}
    seen: set[tuple[str, str, str]] = set()
    for ns, pid, is_own, entries in tables:
        for entry in entries:
            dev = by_devno.get(entry.devno)
            if dev is None and entry.source.startswith("/dev/"):
                src = _source_device(host, entry.source, sources)
                dev = by_name.get(src.name) if src else None
            if dev is None:
                continue
            key = (dev.name, entry.mount_point, entry.root)
            if key in seen and not is_own:
                continue  # the same mount, inherited by another namespace: report it once
            seen.add(key)
            usage.mounts.append(Mount(dev, entry, ns, pid, is_own))
    for mount in usage.mounts:
        usage.reasons.append(mount.describe())


def find_btrfs(host: Host, devices: Iterable[BlockDevice], usage: Usage) -> None:
    names = {d.name: d for d in devices}
    for path in host.glob("/sys/fs/btrfs/*/devices/*"):
        name = os.path.basename(path)
        if name in names:
            fsid = path.split("/")[4]
            usage.reasons.append(f"{names[name].path} is a member of the mounted btrfs filesystem {fsid}")


def find_swap(host: Host, devices: Iterable[BlockDevice], usage: Usage) -> None:
    devs = {d.name: d for d in devices}
    devnos = {d.devno: d for d in devs.values()}
    try:
        swaps = parse_swaps(host.read_text("/proc/swaps"))
    except NotFound:
        if host.exists("/proc/self"):
            return  # procfs is there: this kernel has no swap support at all
        usage.unknown.append("cannot read /proc/swaps (is procfs mounted?)")
        return
    except HostError as exc:
        usage.unknown.append(f"cannot read /proc/swaps ({exc.reason})")
        return
    except MountinfoError as exc:
        usage.unknown.append(str(exc))
        return
    for swap in swaps:
        if swap.type == "partition":
            try:
                dev = blockdev.by_node(host, swap.filename)
            except BlockDevError as exc:
                usage.unknown.append(f"swap device {swap.filename} cannot be identified ({exc})")
                continue
            if dev.name in devs:
                usage.reasons.append(f"{dev.path} is in use as swap (/proc/swaps: {swap.filename})")
            continue
        if swap.deleted:
            usage.unknown.append(f"swap file {swap.filename} was deleted: cannot tell which filesystem holds it")
            continue
        try:
            st = host.stat(swap.filename)
        except HostError as exc:
            usage.unknown.append(f"swap file {swap.filename}: {exc.reason}: cannot tell which filesystem holds it")
            continue
        major, minor = blockdev._major_minor(st.device)
        holder = devnos.get(f"{major}:{minor}")
        if holder is None and major == 0:
            holder_dev = blockdev.device_of_mount(host, swap.filename)
            holder = devs.get(holder_dev.name) if holder_dev else None
        if holder is not None:
            usage.reasons.append(f"the swap file {swap.filename} lives on {holder.path}")


def _losetup_backing(host: Host) -> Optional[dict[str, tuple[str, str]]]:
    """Loop device name → (backing file, ``major:minor`` of the filesystem holding it), from the kernel."""
    try:
        result = host.run(["losetup", "--list", "--json", "--output", "NAME,BACK-FILE,BACK-MAJ:MIN"], timeout=30)
    except (CommandUnavailable, CommandTimeout):
        return None
    if result.returncode != 0:
        return None
    if not result.stdout.strip():
        return {}
    try:
        rows = json.loads(result.stdout).get("loopdevices", [])
    except (ValueError, AttributeError):
        return None
    out: dict[str, tuple[str, str]] = {}
    for row in rows:
        name = os.path.basename(str(row.get("name", "")))
        out[name] = (str(row.get("back-file") or ""), str(row.get("back-maj:min") or "").strip())
    return out


def find_loops(host: Host, devices: Iterable[BlockDevice], usage: Usage) -> None:
    """Loop devices whose backing file lives on one of ``devices``."""
    devs = {d.name: d for d in devices}
    devnos = {d.devno: d for d in devs.values()}
    loops = [os.path.basename(os.path.dirname(p)) for p in host.glob(f"{blockdev.SYS_BLOCK}/loop*/loop")]
    if not loops:
        return
    kernel_view = _losetup_backing(host)
    for name in loops:
        if name in devs:
            continue  # the device itself being a loop device is not a use of it
        backing = None
        backing_devno = ""
        if kernel_view is not None and name in kernel_view:
            backing, backing_devno = kernel_view[name]
        if not backing:
            try:
                backing = host.read_text(f"{blockdev.SYS_BLOCK}/{name}/loop/backing_file").strip()
            except NotFound:
                continue  # detached meanwhile
            except HostError as exc:
                usage.unknown.append(f"cannot read the backing file of /dev/{name} ({exc.reason})")
                continue
        holder = devnos.get(backing_devno) if backing_devno else None
        if holder is None and backing_devno and not backing_devno.startswith("0:"):
            continue  # the kernel says the backing file is on another device
        if holder is None:
            holder = _holder_by_path(host, backing, devs, usage, name)
        if holder is not None:
            usage.reasons.append(f"/dev/{name} is a loop device backed by {backing}, a file on {holder.path}")


def _holder_by_path(host: Host, backing: str, devs: dict[str, BlockDevice], usage: Usage,
                    loop: str) -> Optional[BlockDevice]:
    """Fallback without the kernel's device number: locate the backing file by its path (fails closed)."""
    if backing.endswith(" (deleted)") or not backing.startswith("/"):
        usage.unknown.append(f"/dev/{loop} is backed by {backing!r}, whose filesystem cannot be determined")
        return None
    try:
        st = host.stat(backing)
        dev = blockdev.device_of_mount(host, backing)
    except (HostError, BlockDevError) as exc:
        usage.unknown.append(f"/dev/{loop} is backed by {backing}, which cannot be located ({exc})")
        return None
    major, minor = blockdev._major_minor(st.device)
    for d in devs.values():
        if d.devno == f"{major}:{minor}" or (dev is not None and dev.name == d.name):
            return d
    return None


def find_holders(host: Host, devices: Iterable[BlockDevice], usage: Usage) -> None:
    for dev in devices:
        try:
            above = blockdev.holders(host, dev)
        except BlockDevError as exc:
            usage.unknown.append(f"cannot read the holders of {dev.path} ({exc})")
            continue
        if above:
            chain = ", ".join(blockdev.describe(host, h) for h in above)
            usage.reasons.append(f"{dev.path} is held by another block device: {chain}")


def exclusive_open_probe(host: Host, dev: BlockDevice, usage: Usage) -> None:
    """Ask the kernel: an ``O_EXCL`` open of a block device fails with EBUSY while anything claims it."""
    if not host.is_live:
        return
    node = host.local_path(dev.path)
    try:
        st = os.stat(node)
    except OSError:
        return  # no node in this (test) tree: the other sources stand alone
    if not (st.st_mode & 0o170000 == 0o060000 and st.st_rdev == os.makedev(dev.major, dev.minor)):
        return
    try:
        fd = os.open(node, os.O_RDONLY | os.O_EXCL | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.EBUSY:
            usage.reasons.append(f"the kernel reports {dev.path} busy (an exclusive open failed with EBUSY): "
                                 "it is mounted, swapped on or claimed somewhere, possibly where no process "
                                 "can see it")
        elif exc.errno in (errno.EACCES, errno.EPERM):
            why = "run as root" if os.geteuid() != 0 else "a device cgroup or security module forbids it"
            usage.unknown.append(f"cannot open {dev.path} to ask the kernel whether it is busy (permission "
                                 f"denied: {why})")
        else:
            usage.unknown.append(f"cannot open {dev.path} exclusively ({exc.strerror})")
        return
    os.close(fd)


def examine(host: Host, dev: BlockDevice) -> Usage:
    """Everything that uses ``dev`` (or a device sharing its blocks), and every source that was unreadable."""
    usage = Usage(dev)
    try:
        usage.examined = related_devices(host, dev)
    except BlockDevError as exc:
        usage.examined = [dev]
        usage.unknown.append(f"cannot read the partition layout of {dev.path} ({exc})")
    find_mounts(host, usage.examined, usage)
    find_btrfs(host, usage.examined, usage)
    find_swap(host, usage.examined, usage)
    find_loops(host, usage.examined, usage)
    find_holders(host, usage.examined, usage)
    # A partition's whole disk is busy whenever a sibling partition is mounted: probe downwards only.
    for d in usage.examined:
        if d is dev or (not dev.partition and d.partition):
            exclusive_open_probe(host, d, usage)
    return usage
