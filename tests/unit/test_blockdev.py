"""Block-device topology through the Host: a sysfs tree laid out exactly like the kernel's (relative
symlinks from /sys/class/block and /sys/dev/block into /sys/devices), plus the real sysfs of this machine."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kerncheck import blockdev
from kerncheck.blockdev import BlockDevError
from kerncheck.guard.usage import Usage, find_holders
from kerncheck.host import AccessDenied, LiveHost

# name → (major:minor, parent directory under /sys/devices, partition?)
SCSI = "devices/pci0000:00/0000:00:10.0/host0/target0:0:0"
LAYOUT = {
    "sda": ("8:0", f"{SCSI}/0:0:0:0/block", False),
    "sda1": ("8:1", f"{SCSI}/0:0:0:0/block/sda", True),
    "sdb": ("8:16", f"{SCSI}/0:0:1:0/block", False),
    "sdb1": ("8:17", f"{SCSI}/0:0:1:0/block/sdb", True),
    "md0": ("9:0", "devices/virtual/block", False),
    "dm-0": ("253:0", "devices/virtual/block", False),
    "dm-1": ("253:1", "devices/virtual/block", False),
}
STACK = [("sda1", "md0"), ("sdb1", "md0"), ("md0", "dm-0"), ("md0", "dm-1")]  # (lower, upper)


def build_sysfs(root: Path) -> LiveHost:
    sys = root / "sys"
    paths: dict[str, Path] = {}
    for name, (devno, parent, partition) in LAYOUT.items():
        d = sys / parent / name
        d.mkdir(parents=True)
        (d / "dev").write_text(devno + "\n")
        (d / "size").write_text("2097152\n")
        (d / "holders").mkdir()
        if partition:
            (d / "partition").write_text(name[-1] + "\n")
        else:
            (d / "slaves").mkdir()
        paths[name] = d
    (sys / "class/block").mkdir(parents=True)
    (sys / "dev/block").mkdir(parents=True)
    for name, d in paths.items():
        rel = os.path.relpath(d, sys / "class/block")
        (sys / "class/block" / name).symlink_to(rel)
        (sys / "dev/block" / LAYOUT[name][0]).symlink_to(os.path.relpath(d, sys / "dev/block"))
    for lower, upper in STACK:
        (paths[lower] / "holders" / upper).symlink_to(os.path.relpath(paths[upper], paths[lower] / "holders"))
        (paths[upper] / "slaves" / lower).symlink_to(os.path.relpath(paths[lower], paths[upper] / "slaves"))
    (paths["md0"] / "md").mkdir()
    (paths["md0"] / "md/level").write_text("raid1\n")
    for dm, (name, uuid) in {"dm-0": ("vg-root", "LVM-abc"), "dm-1": ("vg-swap", "LVM-def")}.items():
        (paths[dm] / "dm").mkdir()
        (paths[dm] / "dm/name").write_text(name + "\n")
        (paths[dm] / "dm/uuid").write_text(uuid + "\n")
    return LiveHost(str(root))


@pytest.fixture
def host(tmp_path: Path) -> LiveHost:
    return build_sysfs(tmp_path)


def names(devs: list[blockdev.BlockDevice]) -> list[str]:
    return [d.name for d in devs]


def test_lookups(host: LiveHost):
    sda1 = blockdev.by_name(host, "sda1")
    assert (sda1.major, sda1.minor, sda1.partition, sda1.path, sda1.devno) == (8, 1, True, "/dev/sda1", "8:1")
    assert blockdev.by_number(host, 253, 0).name == "dm-0"
    assert blockdev.resolve(host, "9:0").name == "md0"
    with pytest.raises(BlockDevError, match="no block device 8:99"):
        blockdev.by_number(host, 8, 99)
    with pytest.raises(BlockDevError, match="give a /dev path"):
        blockdev.resolve(host, "sda1")


def test_partition_and_disk(host: LiveHost):
    sda1 = blockdev.by_name(host, "sda1")
    assert blockdev.whole_disk(host, sda1).name == "sda"
    assert names(blockdev.partitions(host, blockdev.by_name(host, "sda"))) == ["sda1"]
    assert blockdev.partitions(host, sda1) == []


def test_holders_and_slaves_recursive(host: LiveHost):
    sda1 = blockdev.by_name(host, "sda1")
    assert names(blockdev.holders(host, sda1)) == ["md0", "dm-0", "dm-1"]
    assert names(blockdev.holders(host, sda1, recursive=False)) == ["md0"]
    dm0 = blockdev.by_name(host, "dm-0")
    assert names(blockdev.slaves(host, dm0)) == ["md0", "sda1", "sdb1"]
    assert names(blockdev.physical_disks(host, dm0)) == ["sda", "sdb"]
    assert names(blockdev.physical_disks(host, blockdev.by_name(host, "sdb"))) == ["sdb"]


def test_describe_names_the_stack(host: LiveHost):
    assert blockdev.describe(host, blockdev.by_name(host, "dm-0")) == "/dev/dm-0 (device-mapper vg-root, LVM)"
    assert blockdev.describe(host, blockdev.by_name(host, "md0")) == "/dev/md0 (md RAID raid1)"
    usage = Usage(blockdev.by_name(host, "sdb1"))
    find_holders(host, [usage.target], usage)
    assert usage.reasons == ["/dev/sdb1 is held by another block device: /dev/md0 (md RAID raid1), "
                             "/dev/dm-0 (device-mapper vg-root, LVM), /dev/dm-1 (device-mapper vg-swap, LVM)"]


class DeniedHolders(LiveHost):
    def listdir(self, path: str) -> list[str]:
        if path.endswith("/holders"):
            raise AccessDenied(path, "permission denied")
        return super().listdir(path)


def test_unreadable_holders_are_unknown(tmp_path: Path):
    host = build_sysfs(tmp_path)
    denied = DeniedHolders(host.root)
    usage = Usage(blockdev.by_name(denied, "sdb1"))
    find_holders(denied, [usage.target], usage)
    assert usage.reasons == []
    assert usage.unknown == ["cannot read the holders of /dev/sdb1 (cannot list /sys/class/block/sdb1/holders: "
                             "permission denied)"]


def test_cciss_style_names_map_to_dev_paths():
    dev = blockdev.BlockDevice("cciss!c0d0p1", 104, 1, True)
    assert dev.path == "/dev/cciss/c0d0p1"


def test_real_sysfs_of_this_machine():
    real = LiveHost("/")
    entries = real.listdir("/sys/class/block") if real.exists("/sys/class/block") else []
    if not entries:
        pytest.skip("this machine has no /sys/class/block")
    for name in entries:
        dev = blockdev.by_name(real, name)
        assert blockdev.by_number(real, dev.major, dev.minor).name == name
        disk = blockdev.whole_disk(real, dev)
        assert not disk.partition
        if dev.partition:
            assert name in names(blockdev.partitions(real, disk))
    root_dev = blockdev.device_of_mount(real, "/")
    if root_dev is not None:
        st = os.stat("/")
        assert (root_dev.major, root_dev.minor) == (os.major(st.st_dev), os.minor(st.st_dev))
