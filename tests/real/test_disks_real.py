"""Disk health and backup placement against real devices of this machine: loop devices with real ext4
filesystems (on image files in a temp dir, or in tmpfs), a real ext4 error raised through the kernel's own
``trigger_fs_error``, and the real ``smartctl`` run against this VM's disks."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

from kerncheck.checks.disks import placement_result
from kerncheck.cli import main
from kerncheck.disks.backups import survey_backups
from kerncheck.disks.health import assess
from kerncheck.disks.smarthistory import SmartHistory
from kerncheck.facts import Context
from kerncheck.finding import Severity, Status
from kerncheck.host import LiveHost
from tests.real.blocklab import BlockLab, run

pytestmark = pytest.mark.real


@pytest.fixture
def shm_dir():
    """A directory in tmpfs: a loop device whose image lives there is on no disk at all."""
    if not os.path.isdir("/dev/shm"):
        pytest.skip("no /dev/shm tmpfs")
    path = Path(tempfile.mkdtemp(prefix="kerncheck-test-", dir="/dev/shm"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def backups_of(data: Path, backup: Path) -> Any:
    ctx = Context(LiveHost())
    ctx.cached("kerncheck.config:disks", lambda: {"backup_paths": [str(backup)], "data_paths": [str(data)]})
    survey = survey_backups(ctx)
    (placement,) = survey.placements
    return placement, placement_result(placement, {})


def test_backup_inside_the_data_filesystem(lab: BlockLab) -> None:
    data = lab.mount(lab.loop(lab.image("data")))
    (data / "backup").mkdir()
    placement, result = backups_of(data, data / "backup")
    assert result.status is Status.FAIL and result.severity is Severity.WARNING
    assert placement.overlaps[0].same_filesystem
    assert f"same filesystem as data {data}" in result.message


def test_backup_on_another_loop_device_on_the_same_disk(lab: BlockLab) -> None:
    data = lab.mount(lab.loop(lab.image("data")))
    backup = lab.mount(lab.loop(lab.image("backup")))
    placement, result = backups_of(data, backup)
    (overlap,) = placement.overlaps
    # Both images are files on the same filesystem: the loop devices lead back to the same physical disk.
    assert not overlap.same_filesystem and overlap.shared_disks
    assert result.status is Status.FAIL and "same physical disk" in result.message


def test_backup_on_a_different_disk_passes(lab: BlockLab, shm_dir: Path) -> None:
    data = lab.mount(lab.loop(lab.image("data")))
    backup = lab.mount(lab.loop(lab.image("backup", directory=shm_dir)))
    placement, result = backups_of(data, backup)
    assert placement.overlaps == []
    assert result.status is Status.PASS, result.message
    assert "share neither filesystem nor disk" in result.message


def test_ext4_errors_on_a_partition_land_on_its_disk(lab: BlockLab, tmp_path: Path, monkeypatch, capsys) -> None:
    """A real ext4 error (the kernel's trigger_fs_error) on loopNp1 is reported for the disk loopN."""
    monkeypatch.setenv("KERNCHECK_STATE_DIR", str(tmp_path / "state"))
    if shutil.which("sfdisk") is None:
        pytest.skip("needs sfdisk (util-linux fdisk)")
    image = lab.image("parted", mkfs=None)
    run(["sfdisk", "-q", str(image)], input="label: dos\n,\n")
    disk = lab.loop(image, partitions=True)
    (part,) = lab.partitions(disk, 1)
    lab.mkfs(part, "ext4")
    mnt = lab.mount(part, options=["errors=continue"])
    name = os.path.basename(part)
    with open(f"/sys/fs/ext4/{name}/trigger_fs_error", "w") as fh:
        fh.write("kerncheck test error\n")

    survey = assess(LiveHost(), [], SmartHistory.load(), only=[part])
    (health,) = survey.disks
    assert health.path == disk
    (fs,) = [f for f in health.filesystems if f.device == name]
    assert fs.errors == 1 and fs.mount_point == str(mnt) and "trigger_test_error" in (fs.first_error or "")
    assert health.smart is None and "Unable to detect device type" in (health.smart_unavailable or "")
    assert health.state == "degraded" and "ext4 on " + name in health.reasons[0].text

    # The same through the CLI, with the kernel log read by the log engine.
    pytest.importorskip("kerncheck.logs.scan", reason="the log engine has not landed")
    rc = main(["disks", part, "--format", "json"])
    (entry,) = json.loads(capsys.readouterr().out)["disks"]
    # Loop device names are reused: errors other tests provoked on an earlier loopN may be in this boot's log
    # too (and may be worse), so the verdict is at least "degraded" and our own error must be among them.
    assert entry["device"] == disk and entry["state"] in ("degraded", "failing") and rc in (1, 2)
    assert any(k["kind"] == "fs_error" and k["device"] == name and "trigger_test_error" in k["title"]
               for k in entry["kernel_log"]), entry["kernel_log"]


def test_this_machines_disks_have_no_smart_and_are_not_passed(tmp_path: Path, monkeypatch, capsys) -> None:
    """smartctl (Debian smartmontools) against the VM's own disks: no SMART → skip, never pass."""
    if shutil.which("smartctl") is None:
        pytest.skip("smartctl is not installed (Debian package smartmontools)")
    pytest.importorskip("kerncheck.logs.scan", reason="the log engine has not landed")
    monkeypatch.setenv("KERNCHECK_STATE_DIR", str(tmp_path))
    rc = main(["disks", "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema"] == "kerncheck.disks/1"
    assert doc["smartctl_missing"] is None
    kc301 = [f for f in doc["findings"] if f["id"] == "KC301"]
    for disk in doc["disks"]:
        if disk["smart"] is None:
            assert disk["smart_unavailable"] and disk["state"] in ("unknown", "degraded", "failing")
    assert all(f["status"] != "pass" for f in kc301 if "no SMART" in f["message"])
    assert rc in (0, 1, 2, 3)


def test_missing_smartctl_is_a_skip_with_the_reason(tmp_path: Path, monkeypatch, capsys) -> None:
    pytest.importorskip("kerncheck.logs.scan", reason="the log engine has not landed")
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH without smartctl: LiveHost finds no such command
    monkeypatch.setenv("KERNCHECK_STATE_DIR", str(tmp_path))
    main(["disks", "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    if not doc["disks"]:
        pytest.skip("no physical disk on this machine")
    assert "install smartmontools" in doc["smartctl_missing"]
    for f in doc["findings"]:
        if f["id"] == "KC301":
            assert f["status"] in ("skip", "fail")
            if f["status"] == "skip":
                assert "smartctl is not available" in f["message"]


def test_xfs_shutdown_is_reported_for_its_disk(lab: BlockLab, tmp_path: Path, monkeypatch, capsys) -> None:
    """XFS keeps no shutdown flag in sysfs: the kernel log's shutdown report is the evidence."""
    pytest.importorskip("kerncheck.logs.scan", reason="the log engine has not landed")
    if shutil.which("xfs_io") is None or shutil.which("mkfs.xfs") is None:
        pytest.skip("needs xfsprogs")
    monkeypatch.setenv("KERNCHECK_STATE_DIR", str(tmp_path / "state"))
    dev = lab.loop(lab.image("xfs", size_mb=320, mkfs="xfs"))
    mnt = lab.mount(dev)
    run(["xfs_io", "-x", "-c", "shutdown", str(mnt)])
    rc = main(["disks", dev, "--format", "json"])
    (entry,) = json.loads(capsys.readouterr().out)["disks"]
    assert entry["device"] == dev and entry["state"] in ("degraded", "failing") and rc in (1, 2)
    name = os.path.basename(dev)
    assert any(k["kind"] == "fs_error" and k["device"] == name and "shut down" in k["title"]
               for k in entry["kernel_log"]), entry["kernel_log"]
