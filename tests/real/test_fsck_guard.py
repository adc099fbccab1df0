"""The fsck guard against real loop devices, real mounts, real namespaces, real swap and the real e2fsck.

Every test builds its devices on image files in a temp dir (see ``blocklab.py``), and everything is torn
down afterwards; each refusal is asserted by its reason, not just by the exit status.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kerncheck.blockdev import resolve
from kerncheck.guard.fsck import REFUSED, evaluate
from kerncheck.host import AccessDenied, LiveHost

from .blocklab import BlockLab, require, run

pytestmark = pytest.mark.real
HOST = LiveHost("/")


def kerncheck(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kerncheck", *args], capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL, check=False)


def blkid_value(dev: str, tag: str) -> str:
    return run(["blkid", "-c", "/dev/null", "-p", "-o", "value", "-s", tag, dev]).stdout.strip()


def assert_refused(spec: str, *fragments: str) -> None:
    verdict = evaluate(HOST, spec)
    assert not verdict.allowed, verdict.render()
    text = "\n".join(verdict.reasons)
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} not among the reasons:\n{text}"


def test_mounted_by_path_refuses_via_cli_with_64(lab: BlockLab):
    dev = lab.loop(lab.image("a"))
    mnt = lab.mount(dev)
    proc = kerncheck("fsck", dev, "--", "-f", "-n")
    assert proc.returncode == REFUSED == 64
    assert f"{dev} is mounted read-write at {mnt} (ext4)" in proc.stderr
    assert "REFUSED" in proc.stderr and f"umount {mnt}" in proc.stderr


def test_mounted_by_uuid_and_label(lab: BlockLab):
    dev = lab.loop(lab.image("b", label="kc5-label-b"))
    mnt = lab.mount(dev)
    uuid = blkid_value(dev, "UUID")
    assert resolve(HOST, f"UUID={uuid}").path == dev
    assert_refused(f"UUID={uuid}", f"is mounted read-write at {mnt}")
    assert_refused("LABEL=kc5-label-b", f"is mounted read-write at {mnt}")


def test_mounted_by_udev_style_symlink(lab: BlockLab, tmp_path: Path):
    dev = lab.loop(lab.image("c"))
    mnt = lab.mount(dev)
    uuid = blkid_value(dev, "UUID")
    link = Path(f"/dev/disk/by-uuid/{uuid}")
    if not link.exists():  # no udev here: make the link ourselves, as udev would
        link = tmp_path / "disk" / "by-uuid" / uuid
        link.parent.mkdir(parents=True)
        link.symlink_to(dev)
    assert resolve(HOST, str(link)).path == dev
    assert_refused(str(link), f"{dev} is mounted read-write at {mnt}")


def test_mount_point_and_major_minor_resolve_to_the_device(lab: BlockLab):
    dev = lab.loop(lab.image("d"))
    mnt = lab.mount(dev)
    st = os.stat(dev)
    assert resolve(HOST, str(mnt)).path == dev
    assert resolve(HOST, f"{os.major(st.st_rdev)}:{os.minor(st.st_rdev)}").path == dev
    assert_refused(str(mnt), f"is mounted read-write at {mnt}")


def test_read_only_mount(lab: BlockLab):
    dev = lab.loop(lab.image("e"))
    mnt = lab.mount(dev, options=["ro"])
    assert_refused(dev, f"{dev} is mounted read-only at {mnt}")


def test_only_a_bind_mount_remains(lab: BlockLab):
    dev = lab.loop(lab.image("f"))
    mnt = lab.mount(dev)
    (mnt / "sub").mkdir()
    bound = lab.bind(mnt / "sub")
    lab.umount(mnt)
    assert_refused(dev, f"{dev} is mounted read-write at {bound} (ext4, bind mount of /sub)")


def test_mounted_only_in_another_mount_namespace(lab: BlockLab):
    dev = lab.loop(lab.image("g"))
    proc, mnt = lab.mount_in_new_namespace(dev)
    own = Path("/proc/self/mountinfo").read_text()
    assert str(mnt) not in own  # invisible here: only the scan of every namespace can see it
    assert_refused(dev, f"is mounted read-write at {mnt}", "in another mount namespace")
    verdict = evaluate(HOST, dev)
    assert any(f"nsenter -t {proc.pid} -m umount {mnt}" in a for a in verdict.advice), verdict.advice


def test_loop_device_backed_by_a_file_on_it_even_after_lazy_umount(lab: BlockLab):
    outer = lab.loop(lab.image("outer", size_mb=40))
    mnt = lab.mount(outer)
    inner_image = lab.image("inner", size_mb=8, directory=mnt)
    inner = lab.loop(inner_image)
    assert_refused(outer, f"{inner} is a loop device backed by {inner_image}, a file on {outer}")
    # Lazily unmounted: the filesystem is in no mount table any more, but the loop device keeps it busy.
    lab.umount(mnt, lazy=True)
    assert str(mnt) not in Path("/proc/self/mountinfo").read_text()
    assert_refused(outer, f"{inner} is a loop device backed by", f"a file on {outer}")
    assert_refused(outer, f"the kernel reports {outer} busy")


def test_swap_on_the_device(lab: BlockLab):
    dev = lab.loop(lab.image("s", mkfs=None))
    lab.swap(dev)
    assert_refused(dev, f"{dev} is in use as swap", "holds a swap area")


def test_device_mapper_linear_target_over_it(lab: BlockLab):
    dev = lab.loop(lab.image("dm"))
    mapped = lab.dm_linear(dev, f"kc5test{os.getpid()}")
    assert_refused(dev, f"{dev} is held by another block device", "device-mapper")
    assert evaluate(HOST, mapped).allowed  # the mapped device itself is free to check


def test_partitions_of_a_partitioned_loop_disk(lab: BlockLab):
    require("sfdisk")
    image = lab.image("disk", size_mb=40, mkfs=None)
    run(["sfdisk", "--quiet", str(image)], input="label: dos\n,16M\n,\n")
    disk = lab.loop(image, partitions=True)
    p1, p2 = lab.partitions(disk, 2)
    lab.mkfs(p1, "ext4")
    lab.mkfs(p2, "ext4")
    mnt = lab.mount(p1)
    assert_refused(disk, f"{p1} is mounted read-write at {mnt}")
    assert_refused(p1, f"{p1} is mounted read-write at {mnt}")
    sibling = evaluate(HOST, p2)  # the unmounted sibling partition shares no blocks with p1
    assert sibling.allowed, sibling.render()
    assert sibling.argv == ["fsck", p2]


class HiddenMountinfoHost(LiveHost):
    """The live machine, except that mount tables cannot be read (as for a non-root user or no procfs)."""

    def read_bytes(self, path: str, limit=None, offset: int = 0) -> bytes:
        if path.endswith("/mountinfo"):
            raise AccessDenied(path, "permission denied")
        return super().read_bytes(path, limit, offset)


def test_unreadable_mountinfo_refuses_an_unmounted_device(lab: BlockLab):
    dev = lab.loop(lab.image("h"))
    assert evaluate(HOST, dev).allowed  # genuinely unused ...
    verdict = evaluate(HiddenMountinfoHost("/"), dev)  # ... but unknown means no
    assert not verdict.allowed
    assert any("cannot read this namespace's mount table" in r or "/proc/self/mountinfo" in r
               for r in verdict.reasons), verdict.reasons
    assert all(r.startswith("unknown, so refusing") for r in verdict.reasons), verdict.reasons


def test_unmounted_ext4_runs_real_e2fsck_and_passes_its_status_through(lab: BlockLab):
    require("fsck", "e2fsck", "debugfs")
    image = lab.image("fsck")
    run(["debugfs", "-w", "-R", "sif <2> links_count 7", str(image)])  # a real inconsistency
    dev = lab.loop(image)
    dry = kerncheck("fsck", dev, "--dry-run", "--", "-f", "-n")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.strip() == f"fsck -f -n {dev}"
    checked = kerncheck("fsck", dev, "--", "-f", "-n")
    assert checked.returncode == 4, checked.stdout + checked.stderr  # errors left uncorrected
    assert "SAFE" in checked.stderr
    repaired = kerncheck("fsck", dev, "--", "-f", "-y")
    assert repaired.returncode == 1, repaired.stdout + repaired.stderr  # errors corrected
    clean = kerncheck("fsck", f"UUID={blkid_value(dev, 'UUID')}", "--", "-f", "-n")
    assert clean.returncode == 0, clean.stdout + clean.stderr


def test_xfs_mounted_refuses_with_xfs_repair_advice_and_unmounted_runs(lab: BlockLab):
    require("mkfs.xfs", "fsck")
    dev = lab.loop(lab.image("xfs", size_mb=300, mkfs="xfs"))
    mnt = lab.mount(dev)
    verdict = evaluate(HOST, dev)
    assert not verdict.allowed and verdict.fstype == "xfs"
    assert any(f"xfs_repair -n {dev}" in a for a in verdict.advice)
    assert any(f"is mounted read-write at {mnt} (xfs)" in r for r in verdict.reasons)
    lab.umount(mnt)
    proc = kerncheck("fsck", dev)
    assert proc.returncode == 0, proc.stdout + proc.stderr  # fsck.xfs itself does nothing and exits 0
    assert "xfs_repair" in proc.stderr


def test_extra_arguments_cannot_widen_the_run(lab: BlockLab):
    dev = lab.loop(lab.image("i"))
    other = lab.loop(lab.image("j"))
    proc = kerncheck("fsck", dev, "--", "-f", other)
    assert proc.returncode == REFUSED
    assert f"fsck argument '{other}' names another filesystem" in proc.stderr
    assert "checks every filesystem in /etc/fstab" in evaluate(HOST, dev, ["-A"]).reasons[0]


def test_usage_errors_and_unknown_devices_refuse_with_64(tmp_path: Path):
    assert kerncheck("fsck").returncode == REFUSED
    missing = kerncheck("fsck", "LABEL=kc5-no-such-label-anywhere")
    assert missing.returncode == REFUSED
    assert "no block device has LABEL=kc5-no-such-label-anywhere" in missing.stderr
    (tmp_path / "plain").write_text("x")
    plain = kerncheck("fsck", str(tmp_path / "plain"))
    assert plain.returncode == REFUSED and "is not a block device" in plain.stderr
