"""blockdev against real loop devices: partitions, backing files, mounts and PARTUUID= resolution."""

from __future__ import annotations

import pytest

from kerncheck import blockdev
from kerncheck.host import LiveHost

from .blocklab import BlockLab, require, run

pytestmark = pytest.mark.real
HOST = LiveHost("/")


def test_partitioned_loop_disk_topology(lab: BlockLab):
    require("sfdisk")
    image = lab.image("topo", size_mb=40, mkfs=None)
    run(["sfdisk", "--quiet", str(image)], input="label: dos\nlabel-id: 0x5eed1234\n,16M\n,\n")
    disk_path = lab.loop(image, partitions=True)
    p1_path, p2_path = lab.partitions(disk_path, 2)
    lab.mkfs(p1_path, "ext4")
    disk = blockdev.resolve(HOST, disk_path)
    p1, p2 = blockdev.resolve(HOST, p1_path), blockdev.resolve(HOST, p2_path)
    assert (disk.partition, p1.partition, p2.partition) == (False, True, True)
    assert blockdev.whole_disk(HOST, p2) == disk
    assert [d.path for d in blockdev.partitions(HOST, disk)] == [p1_path, p2_path]
    assert blockdev.physical_disks(HOST, p2) == [disk]
    assert blockdev.holders(HOST, disk) == [] and blockdev.slaves(HOST, p1) == []
    assert blockdev.loop_backing_file(HOST, disk) == str(image)
    assert blockdev.describe(HOST, disk) == f"{disk_path} (loop on {image})"
    assert blockdev.resolve(HOST, "PARTUUID=5eed1234-02") == p2
    mnt = lab.mount(p1_path)
    (mnt / "deep/dir").mkdir(parents=True)
    assert blockdev.device_of_mount(HOST, str(mnt / "deep/dir")) == p1
    entry = blockdev.mount_of(HOST, str(mnt / "deep"))
    assert entry is not None and entry.mount_point == str(mnt)
    assert blockdev.resolve(HOST, str(mnt)) == p1
    with pytest.raises(blockdev.BlockDevError, match="is a directory but not a mount point"):
        blockdev.resolve(HOST, str(mnt / "deep"))
