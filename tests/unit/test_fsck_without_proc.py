"""A host whose /proc is missing (a chroot, procfs not mounted): every unknown source is a refusal."""

from __future__ import annotations

from pathlib import Path

from kerncheck.guard.fsck import evaluate

from .test_blockdev import build_sysfs


def test_no_procfs_means_refuse_with_each_unknown_named(tmp_path: Path):
    host = build_sysfs(tmp_path)  # sysfs only: sdb1 is an md member (holders), nothing else is known
    verdict = evaluate(host, "8:17")
    assert not verdict.allowed
    reasons = "\n".join(verdict.reasons)
    for fragment in (
        "/dev/sdb1 is held by another block device: /dev/md0 (md RAID raid1)",
        "unknown, so refusing: cannot read this namespace's mount table /proc/self/mountinfo",
        "unknown, so refusing: cannot list processes in /proc",
        "unknown, so refusing: cannot read /proc/swaps",
        "no device node for sdb1 (8:17) exists at /dev/sdb1",
    ):
        assert fragment in reasons, reasons
    assert verdict.argv == []  # nothing that could be run


def test_free_device_in_the_tree_is_still_refused_without_proc(tmp_path: Path):
    host = build_sysfs(tmp_path)
    (tmp_path / "sys/devices/virtual/block/dm-1/holders").mkdir(exist_ok=True)
    verdict = evaluate(host, "253:1")  # dm-1 has no holders: only the unknowns stand in the way
    assert not verdict.allowed
    assert all(r.startswith("unknown, so refusing") or r.startswith("no device node") for r in verdict.reasons)
