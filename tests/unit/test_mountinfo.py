"""mountinfo and /proc/swaps parsing, with lines in the kernel's exact format."""

from __future__ import annotations

import pytest

from kerncheck.parsers.mountinfo import MountinfoError, parse_mountinfo, parse_swaps

# Captured from real kernels: this test VM (6.18), a systemd host with shared propagation and btrfs
# subvolumes (6.1), a bind mount of a sub-directory, a mount point with a space, and an autofs entry.
MOUNTINFO = """\
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard,resv_strict,resuid=65534,resgid=65534
22 27 0:21 / /proc rw,relatime - proc proc rw
28 27 0:25 / /mnt/tools ro,nosuid,nodev,relatime - tmpfs tools_unavailable ro,size=4k,mode=755
29 1 0:27 /@ / rw,relatime shared:1 - btrfs /dev/nvme0n1p2 rw,compress=zstd:1,ssd,space_cache=v2,subvolid=256,subvol=/@
74 29 0:27 /@home /home rw,relatime shared:38 master:1 - btrfs /dev/nvme0n1p2 rw,compress=zstd:1,subvol=/@home
212 27 7:3 /sub /tmp/pytest-of-root/bind0 rw,relatime - ext4 /dev/loop3 rw
213 27 7:4 / /media/usb\\040stick ro,nosuid,nodev,relatime - vfat /dev/loop4 ro,fmask=0022,dmask=0022
40 23 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
"""


def test_mountinfo_fields():
    entries = parse_mountinfo(MOUNTINFO)
    assert len(entries) == 8
    root = entries[0]
    assert (root.mount_id, root.parent_id, root.devno, root.mount_point, root.fstype, root.source) == (
        27, 1, "254:0", "/", "ext4", "/dev/vda")
    assert not root.read_only and not root.is_bind and root.optional_fields == ()
    assert entries[2].read_only


def test_btrfs_subvolumes_have_anonymous_numbers_and_a_root():
    home = parse_mountinfo(MOUNTINFO)[4]
    assert (home.major, home.root, home.source) == (0, "/@home", "/dev/nvme0n1p2")
    assert home.optional_fields == ("shared:38", "master:1")


def test_bind_mount_and_escaped_mount_point():
    entries = parse_mountinfo(MOUNTINFO)
    assert entries[5].is_bind and entries[5].root == "/sub"
    assert entries[6].mount_point == "/media/usb stick" and entries[6].read_only


@pytest.mark.parametrize("line", [
    "27 1 254:0 / / rw,relatime ext4 /dev/vda rw",  # no separator
    "x 1 254:0 / / rw - ext4 /dev/vda rw",
    "27 1 254 / / rw - ext4 /dev/vda rw",
    "27 1 254:0 / / rw -",
])
def test_malformed_lines_are_errors_not_skipped(line: str):
    with pytest.raises(MountinfoError):
        parse_mountinfo(line + "\n")


def test_swaps_real_format():
    # /proc/swaps of this VM with swap on a loop device (cat -A showed the tabs), plus a deleted swap file.
    text = ("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
            "/dev/loop0                              partition\t16380\t\t0\t\t-2\n"
            "/var/swap\\040file (deleted)             file\t\t1048572\t\t512\t\t-3\n")
    loop, swapfile = parse_swaps(text)
    assert (loop.filename, loop.type, loop.size_kib, loop.used_kib, loop.priority) == (
        "/dev/loop0", "partition", 16380, 0, -2)
    assert (swapfile.filename, swapfile.type, swapfile.deleted, swapfile.used_kib) == (
        "/var/swap file", "file", True, 512)
    assert parse_swaps("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n") == []
    with pytest.raises(MountinfoError):
        parse_swaps("/dev/sda2 partition lots 0 -2\n")
