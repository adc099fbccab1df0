"""The fsck guard: run fsck only on a filesystem that nothing uses; when in doubt, refuse.

:func:`evaluate` resolves the device the way the system would, examines every use of it
(:mod:`kerncheck.guard.usage`) and returns a :class:`FsckVerdict` with the reasons, the advice (root
filesystem, XFS) and the exact argv; :func:`run_fsck` runs that argv and passes fsck's status through.
"""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Optional

from kerncheck import blockdev
from kerncheck.blockdev import BlockDevError, BlockDevice
from kerncheck.guard.usage import Usage, examine
from kerncheck.host import CommandTimeout, CommandUnavailable, Host, HostError

REFUSED = 64  # fsck's own statuses are 0-32 and 128: 64 can only mean "kerncheck refused"
# blkid TYPEs that are containers or swap, not filesystems: fsck on them damages what is inside.
NOT_FILESYSTEMS = {
    "swap": "a swap area", "LVM2_member": "an LVM physical volume", "linux_raid_member": "an md RAID member",
    "crypto_LUKS": "a LUKS-encrypted volume", "zfs_member": "a ZFS pool member", "bcache": "a bcache device",
    "ceph_bluestore": "a Ceph BlueStore device", "isw_raid_member": "an Intel RAID member",
    "ddf_raid_member": "a DDF RAID member", "drbd": "a DRBD device",
}
_TAGS = ("UUID=", "LABEL=", "PARTUUID=", "PARTLABEL=")


@dataclass
class FsckVerdict:
    spec: str
    allowed: bool = False
    device: Optional[BlockDevice] = None
    node: Optional[str] = None  # the device node fsck is given
    fstype: Optional[str] = None
    reasons: list[str] = field(default_factory=list)  # why it is refused
    advice: list[str] = field(default_factory=list)  # what to do instead / what to know
    argv: list[str] = field(default_factory=list)
    usage: Optional[Usage] = None

    @property
    def command(self) -> str:
        return shlex.join(self.argv) if self.argv else ""

    def summary(self) -> str:
        """One line for the system log."""
        what = f"{self.spec}" + (f" ({self.device.path})" if self.device and self.device.path != self.spec else "")
        if self.allowed:
            return f"fsck allowed on {what}: {self.command}"
        return f"fsck refused on {what}: " + "; ".join(self.reasons) + (f" (command: {self.command})"
                                                                          if self.command else "")

    def render(self) -> str:
        lines: list[str] = []
        target = self.device.path if self.device else self.spec
        kind = f", {self.fstype}" if self.fstype else ""
        origin = f", from {self.spec}" if self.device and self.spec != self.device.path else ""
        if self.allowed:
            examined = ", ".join(d.path for d in self.usage.examined) if self.usage else target
            lines.append(f"kerncheck fsck: SAFE: {target}{kind}{origin} is not in use (checked {examined}: "
                         "mounts in every mount namespace, swap, loop devices, holders, exclusive open)")
        else:
            lines.append(f"kerncheck fsck: REFUSED: {target}{kind}{origin}")
            lines += [f"  - {r}" for r in self.reasons]
        for line in self.advice:
            lines.append(f"  what to do: {line}")
        if self.command:
            lines.append(f"  command: {self.command}")
        return "\n".join(lines)


def check_fsck_args(host: Host, args: Sequence[str]) -> list[str]:
    """Problems with the user's extra arguments: they must not widen the run to other filesystems."""
    problems: list[str] = []
    for arg in args:
        if arg == "-A" or (arg.startswith("-") and not arg.startswith("--") and arg[1:].isalpha() and "A" in arg):
            problems.append(f"fsck argument {arg!r} checks every filesystem in /etc/fstab; "
                            "kerncheck fsck guards one device at a time")
        elif arg.startswith(_TAGS):
            problems.append(f"fsck argument {arg!r} names another filesystem; check one device at a time")
        elif arg.startswith("/"):
            try:
                st = host.stat(arg)
            except HostError:
                continue  # not an existing path: an option value such as an undo file to be created
            if st.is_block_device or st.is_dir:
                problems.append(f"fsck argument {arg!r} names another filesystem; check one device at a time")
    return problems


def _fstype(host: Host, node: str) -> Optional[str]:
    """The on-disk type from a low-level probe (no cache), or ``None`` when unknown."""
    try:
        result = host.run(["blkid", "-c", "/dev/null", "-p", "-o", "export", node], timeout=30)
    except (CommandUnavailable, CommandTimeout, HostError):
        return None
    for line in result.stdout.splitlines():
        key, _, value = line.partition("=")
        if key == "TYPE" and value:
            return value
    return None


def _node(host: Host, dev: BlockDevice, spec: str) -> Optional[str]:
    """A device node that really is ``dev``: ``/dev/<name>``, else the path the user gave."""
    for candidate in (dev.path, spec):
        if not candidate.startswith("/"):
            continue
        try:
            if blockdev.by_node(host, candidate).name == dev.name:
                return host.realpath(candidate) if candidate == spec else candidate
        except BlockDevError:
            continue
    return None


def _root_advice(host: Host) -> str:
    if host.is_dir("/run/systemd/system"):
        how = ("this host runs systemd: boot once with `fsck.mode=force fsck.repair=yes` on the kernel "
               "command line (e.g. `grubby --update-kernel=DEFAULT --args=fsck.mode=force` or edit the boot "
               "entry at the GRUB prompt)")
    else:
        how = "this host does not run systemd: `touch /forcefsck` and reboot; the boot scripts check it"
    return (f"{how}; or boot a rescue system and check the unmounted filesystem there. Never fsck the "
            "mounted root filesystem")


def evaluate(host: Host, spec: str, fsck_args: Sequence[str] = ()) -> FsckVerdict:
    """Decide whether ``fsck [fsck_args] DEVICE`` is safe; every unknown is a refusal."""
    verdict = FsckVerdict(spec)
    verdict.reasons.extend(check_fsck_args(host, fsck_args))
    try:
        dev = blockdev.resolve(host, spec)
    except BlockDevError as exc:
        verdict.reasons.append(f"cannot resolve {spec}: {exc}")
        if spec.startswith("/") and host.is_file(spec):
            verdict.advice.append("kerncheck fsck guards block devices; for an image file make sure no loop "
                                  "device uses it (`losetup -j FILE`) and nothing mounts it, then run fsck "
                                  "directly")
        return verdict
    verdict.device = dev
    verdict.node = _node(host, dev, spec)
    if verdict.node is None:
        verdict.reasons.append(f"no device node for {dev.name} ({dev.devno}) exists at {dev.path}")
    else:
        verdict.argv = ["fsck", *fsck_args, verdict.node]
        verdict.fstype = _fstype(host, verdict.node)
    try:
        if host.read_text(f"{dev.sysfs}/size").strip() == "0":
            verdict.reasons.append(f"{dev.path} is empty (size 0: no medium, or a loop device with no file)")
    except HostError as exc:
        verdict.reasons.append(f"unknown, so refusing: cannot read the size of {dev.path} ({exc.reason})")
    usage = examine(host, dev)
    verdict.usage = usage
    verdict.reasons.extend(usage.reasons)
    verdict.reasons.extend(f"unknown, so refusing: {u}" for u in usage.unknown)
    if not verdict.fstype:
        verdict.fstype = next((m.entry.fstype for m in usage.mounts if m.device.name == dev.name), None)
    if verdict.fstype in NOT_FILESYSTEMS:
        verdict.reasons.append(f"{dev.path} holds {NOT_FILESYSTEMS[verdict.fstype]} ({verdict.fstype}), not a "
                               "filesystem fsck can check")
    own_mounts = [m for m in usage.mounts if m.device.name == dev.name]
    if any(m.entry.mount_point == "/" and (m.own_namespace or m.pid == 1) for m in own_mounts):
        verdict.reasons.insert(0, f"{dev.path} is the root filesystem")
        verdict.advice.append(_root_advice(host))
    elif usage.mounts:
        places = sorted({m.entry.mount_point for m in usage.mounts if m.own_namespace})
        others = sorted({(m.pid, m.entry.mount_point) for m in usage.mounts if not m.own_namespace})
        steps = [f"`umount {shlex.quote(p)}`" for p in places]
        steps += [f"`nsenter -t {pid} -m umount {shlex.quote(p)}`" for pid, p in others]
        verdict.advice.append("stop what uses the filesystem and unmount it everywhere (" + ", ".join(steps) +
                              "), then run kerncheck fsck again")
    if verdict.fstype == "xfs":
        verdict.advice.append("XFS is not repaired by fsck (fsck.xfs only exits 0): once it is unmounted, "
                              f"check it with `xfs_repair -n {dev.path}` and repair with `xfs_repair {dev.path}`")
    verdict.allowed = not verdict.reasons
    return verdict


def run_fsck(argv: Sequence[str]) -> int:
    """Run fsck on the terminal (it may ask questions) and return its status unchanged.

    A status that would collide with the refusal code cannot come from fsck (its bits are 1-32 and 128);
    death by a signal becomes 128+N like a shell reports it.
    """
    try:
        proc = subprocess.run(list(argv), check=False)
    except FileNotFoundError:
        raise CommandUnavailable(argv[0], "command not found (install util-linux / e2fsprogs)") from None
    return proc.returncode if proc.returncode >= 0 else 128 - proc.returncode
