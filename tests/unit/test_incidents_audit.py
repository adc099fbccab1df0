"""KC501–KC503 on snapshot hosts: the fixture hosts (real ext4 error and memcg OOM captured on this machine,
the QEMU lab's soft lockup, a quiet boot) and variations of them in a temp dir."""

from __future__ import annotations

import shutil
from pathlib import Path

from kerncheck.audit import run_audit
from kerncheck.finding import Status
from kerncheck.host import SnapshotHost
from tests.conftest import FIXTURE_HOSTS


def findings(root: Path, *ids: str):
    report = run_audit(SnapshotHost(str(root)), ids=list(ids))
    return {(f.id, f.subject): f for f in report.findings}


def copy(name: str, tmp_path: Path) -> Path:
    dest = tmp_path / name
    shutil.copytree(FIXTURE_HOSTS / name, dest)
    return dest


def test_kc503_names_the_filesystem_from_all_three_sources():
    f = findings(FIXTURE_HOSTS / "ext4-remounted-ro-6.18", "KC503")[("KC503", "loop0")]
    assert f.status is Status.FAIL and f.severity.value == "critical"
    assert f.evidence["ext4"]["errors_count"] == 1 and f.evidence["ext4"]["first_error_func"] == "trigger_test_error"
    assert f.evidence["remounted_read_only"]["super_options"] == "rw,errors=remount-ro,emergency_ro"
    assert [e.split(":")[0] for e in f.evidence["kernel_log"]] == ["fs_error", "fs_readonly"]
    assert "kerncheck fsck /dev/loop0" in f.fix and "Never fsck a mounted filesystem" in f.fix


def test_kc501_summarises_the_oom_kill_and_leaves_filesystem_errors_to_kc503():
    f = findings(FIXTURE_HOSTS / "ext4-remounted-ro-6.18", "KC501")[("KC501", None)]
    assert f.status is Status.FAIL and f.evidence["by_kind"] == {"oom_kill": 1}
    assert "48 MiB" in f.fix and "kerncheck scan --live" in f.fix


def test_kc502_reports_the_soft_lockup_with_its_culprit():
    f = findings(FIXTURE_HOSTS / "softlockup-qemu-6.1", "KC502")[("KC502", None)]
    assert f.status is Status.FAIL and f.severity.value == "critical"
    assert f.evidence["incidents"] == ["soft_lockup: BUG: soft lockup in crashtest_soft_lockup (line 362)"]
    assert f.evidence["stuck_in"] == ["delay_tsc"]


def test_deliberate_read_only_mount_is_not_an_error(tmp_path):
    root = copy("kernel-log-clean-6.18", tmp_path)
    (root / "proc/self/mountinfo").write_text(
        "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard\n"
        "42 27 7:0 / /mnt/ro ro,relatime - ext4 /dev/loop0 ro,errors=remount-ro\n")
    assert findings(root, "KC503")[("KC503", None)].status is Status.PASS


def test_superblock_read_only_under_a_read_write_mount_is_a_kernel_remount(tmp_path):
    root = copy("kernel-log-clean-6.18", tmp_path)
    (root / "proc/self/mountinfo").write_text(
        "27 1 254:0 / / rw,relatime - ext4 /dev/vda ro,errors=remount-ro,data=ordered\n")
    f = findings(root, "KC503")[("KC503", "vda")]
    assert f.status is Status.FAIL and f.evidence["remounted_read_only"]["mount_points"] == ["/"]


def test_hung_tasks_counted_by_the_kernel_but_gone_from_the_log(tmp_path):
    root = copy("kernel-log-clean-6.18", tmp_path)
    (root / "proc/sys/kernel/hung_task_detect_count").write_text("3\n")
    f = findings(root, "KC502")[("KC502", None)]
    assert f.status is Status.FAIL and f.severity.value == "warning"
    assert "the kernel counted 3 hung tasks, 0 reported in the log" in f.message


def test_without_a_kernel_log_the_log_checks_skip(tmp_path):
    root = copy("kernel-log-clean-6.18", tmp_path)
    (root / "dev/kmsg").unlink()
    got = findings(root, "KC501", "KC502")
    assert got[("KC501", None)].status is Status.SKIP and "no kernel log" in got[("KC501", None)].message
    assert got[("KC502", None)].status is Status.SKIP


def test_ext4_error_record_from_an_earlier_boot_fails_without_log_evidence(tmp_path):
    root = copy("kernel-log-clean-6.18", tmp_path)
    (root / "sys/fs/ext4/vda/errors_count").write_text("7\n")
    (root / "sys/fs/ext4/vda/first_error_time").write_text("1700000000\n")
    (root / "sys/fs/ext4/vda/first_error_func").write_text("ext4_lookup\n")
    f = findings(root, "KC503")[("KC503", "vda")]
    assert f.status is Status.FAIL
    assert f.message == "vda: ext4 recorded 7 error(s), first in ext4_lookup at 2023-11-14T22:13:20+00:00"
