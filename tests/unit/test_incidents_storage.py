"""Filesystem, block, SCSI/ATA, NVMe, MCE and EDAC errors, with the exact lines kernel-log-formats.md quotes
(§10–§12) in the output formats the records layer reads (dmesg, dmesg -r, kmsg with dictionaries)."""

# ruff: noqa: E501  (literal kernel log lines are kept whole)

from __future__ import annotations

from kerncheck.logs.incidents import build_incidents
from kerncheck.logs.records import iter_records


def scan(text: str, fmt: str = "dmesg"):
    return build_incidents(iter_records(text.encode(), "t", fmt=fmt))


ATA_MEDIUM_CHAIN = """\
[ 5012.118822] ata1.00: exception Emask 0x0 SAct 0x1000 SErr 0x0 action 0x0
[ 5012.118830] ata1.00: failed command: READ FPDMA QUEUED
[ 5012.118838] ata1.00: cmd 60/08:60:10:2d:2a/00:00:0c:00:00/40 tag 12 ncq dma 4096 in
                        res 41/40:00:10:2d:2a/00:00:0c:00:00/40 Emask 0x409 (media error) <F>
[ 5012.118842] ata1.00: error: { UNC }
[ 5012.121001] sd 0:0:0:0: [sda] tag#12 FAILED Result: hostbyte=DID_OK driverbyte=DRIVER_SENSE
[ 5012.121006] sd 0:0:0:0: [sda] tag#12 Sense Key : Medium Error [current]
[ 5012.121010] sd 0:0:0:0: [sda] tag#12 Add. Sense: Unrecovered read error - auto reallocate failed
[ 5012.121018] blk_update_request: critical medium error, dev sda, sector 204090640 op 0x0:(READ) flags 0x0 phys_seg 1 prio class 0
"""


def test_ata_scsi_block_medium_error_chain_is_one_incident_on_the_disk():
    (inc,) = scan(ATA_MEDIUM_CHAIN)
    assert (inc.kind, inc.severity, inc.device) == ("medium_error", "critical", "sda")
    assert inc.details["sector"] == 204090640 and inc.first_line == 1
    assert inc.title == "medium error on sda at sector 204090640"
    assert "replace the disk" in inc.advice


def test_block_io_error_6_1_without_function_prefix_and_buffer_io_error():
    text = ("<3>[  812.000001] I/O error, dev sdb, sector 1234 op 0x0:(READ) flags 0x0 phys_seg 1 prio class 2\n"
            "<3>[  812.000050] Buffer I/O error on dev sdb1, logical block 154, async page read\n")
    (inc,) = scan(text)
    assert (inc.kind, inc.device, inc.details["sector"]) == ("io_error", "sdb", 1234)
    assert inc.details["devices"] == ["sdb", "sdb1"]


def test_el7_block_error_line():
    (inc,) = scan("[  100.5] blk_update_request: I/O error, dev sda, sector 1234\n")
    assert (inc.kind, inc.device, inc.details["sector"]) == ("io_error", "sda", 1234)


def test_io_errors_on_two_disks_minutes_apart_are_two_incidents():
    text = ("[  100.000000] blk_update_request: I/O error, dev sda, sector 10\n"
            "[  400.000000] blk_update_request: I/O error, dev sdc, sector 20\n")
    assert [i.device for i in scan(text)] == ["sda", "sdc"]


def test_ext4_error_then_journal_abort_then_read_only_remount():
    text = """\
<2>[  748.100000] EXT4-fs error (device sda1): ext4_find_entry:1455: inode #2: comm ls: reading directory lblock 0
<3>[  748.100100] Aborting journal on device sda1-8.
<2>[  748.123456] EXT4-fs (sda1): Remounting filesystem read-only
"""
    err, ro = scan(text)
    assert (err.kind, err.device, err.function, err.details["fs"]) == ("fs_error", "sda1", "ext4_find_entry", "ext4")
    assert err.title == "ext4 error on sda1 in ext4_find_entry" and "kerncheck fsck" in err.advice
    assert (ro.kind, ro.device, ro.first_line, ro.severity) == ("fs_readonly", "sda1", 3, "critical")
    assert "kerncheck fsck" in ro.advice


def test_xfs_metadata_io_error_and_shutdown():
    text = """\
[ 9001.000001] XFS (dm-3): metadata I/O error in "xfs_trans_read_buf_map" at daddr 0x1a2b3c len 8 error 5
[ 9001.000002] XFS (dm-3): Log I/O Error (0x2) detected at xlog_ioend_work+0x6d/0x70 [xfs] (fs/xfs/xfs_log.c:1378).  Shutting down filesystem.
[ 9001.000003] XFS (dm-3): Please unmount the filesystem and rectify the problem(s)
"""
    (inc,) = scan(text)
    assert (inc.kind, inc.device, inc.details["fs"], inc.details["shutdown"]) == ("fs_error", "dm-3", "xfs", True)


def test_btrfs_error_and_forced_readonly():
    text = """\
[  50.000001] BTRFS: error (device sdb1) in btrfs_commit_transaction:2345: errno=-5 IO failure
[  50.000002] BTRFS info (device sdb1): forced readonly
"""
    err, ro = scan(text)
    assert (err.kind, err.device, err.function, err.details["fs"]) == ("fs_error", "sdb1", "btrfs_commit_transaction",
                                                                       "btrfs")
    assert (ro.kind, ro.device) == ("fs_readonly", "sdb1")


def test_nvme_timeout_and_status_error():
    text = """\
[ 300.000001] nvme nvme0: I/O 123 QID 4 timeout, aborting
[ 300.000002] nvme nvme0: Abort status: 0x0
[ 900.000001] nvme0n1: Read(0x2) @ LBA 1953525, 8 blocks, Unrecovered Read Error (sct 0x2 / sc 0x81) DNR
"""
    timeout, medium = scan(text)
    assert (timeout.kind, timeout.device) == ("nvme_error", "nvme0")
    assert (medium.kind, medium.device, medium.details["sector"]) == ("medium_error", "nvme0n1", 1953525)


def test_edac_corrected_error_is_a_warning_and_uncorrected_is_critical():
    ce = ("[ 1.0] EDAC MC0: 1 CE memory read error on CPU_SrcID#0_Ha#0_Chan#2_DIMM#0 (channel:2 slot:0 "
          "page:0x7d2a6 offset:0x340 grain:32 syndrome:0x0 - area:DRAM err_code:0001:0092)\n")
    (inc,) = scan(ce)
    assert (inc.kind, inc.severity, inc.details["uncorrected"], inc.details["error_count"]) == (
        "edac", "warning", False, 1)
    (ue,) = scan(ce.replace(" CE ", " UE "))
    assert ue.severity == "critical" and ue.details["uncorrected"] is True


def test_machine_check_exception_and_corrected_events():
    text = ("<0>[ 10.0] mce: [Hardware Error]: CPU 0: Machine Check Exception: 5 Bank 4: b200000000070f0f\n"
            "<0>[ 10.0] mce: [Hardware Error]: RIP !INEXACT! 10:<ffffffff8100b0a0> {mwait_idle+0x30/0x40}\n"
            "<6>[ 99.0] mce: [Hardware Error]: Machine check events logged\n")
    fatal, logged = scan(text)
    assert (fatal.kind, fatal.severity) == ("mce", "critical")
    assert (logged.kind, logged.severity, logged.details["corrected"]) == ("mce", "warning", True)


def test_ghes_corrected_event():
    text = ("<4>[ 5.0] {1}[Hardware Error]: Hardware error from APEI Generic Hardware Error Source: 0\n"
            "<4>[ 5.0] {1}[Hardware Error]: event severity: corrected\n")
    (inc,) = scan(text)
    assert (inc.kind, inc.severity, inc.details["event_severity"]) == ("mce", "warning", "corrected")


def test_kmsg_block_error_with_device_dictionary():
    data = (b"3,812,5012121018,-;blk_update_request: I/O error, dev sda, sector 2048 op 0x1:(WRITE) flags 0x800 "
            b"phys_seg 1 prio class 0\n SUBSYSTEM=block\n DEVICE=b8:0\n")
    (inc,) = build_incidents(iter_records(data, "kmsg", fmt="kmsg"))
    assert (inc.kind, inc.device, inc.details["sector"]) == ("io_error", "sda", 2048)
    assert inc.first_seen == "+5012.121018s"
