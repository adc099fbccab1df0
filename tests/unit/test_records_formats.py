# ruff: noqa: E501 - journalctl's JSON lines are kept verbatim
"""Record parsing of journal, syslog, pstore and crash-dump formats, with literal text.

The journalctl outputs are real: systemd 252's journalctl printed them from a journal file that
systemd-journal-remote wrote (tests/real/test_journal_formats.py does the same at test time).
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from kerncheck.logs.records import RecordReader, detect_format, iter_records

# journalctl --file k.journal -o json (kernel records, one userspace record, a non-UTF-8 MESSAGE as a byte
# array, a repeated field as an array, a multi-line ATA record).
JOURNAL_JSON = r"""{"_TRANSPORT":"kernel","_UDEV_SYSNAME":"sda1","_BOOT_ID":"454278dc735f40ab980c963e729b426e","__REALTIME_TIMESTAMP":"1764133349123456","__MONOTONIC_TIMESTAMP":"748123456","_KERNEL_DEVICE":"b8:1","_KERNEL_SUBSYSTEM":"block","__CURSOR":"s=4adca63568f04e9d8490edcf0671ae97;i=1;b=454278dc735f40ab980c963e729b426e;m=2c977540;t=644784d9c6580;x=720f4551ac6c0d12","MESSAGE":"EXT4-fs (sda1): Remounting filesystem read-only","_SOURCE_MONOTONIC_TIMESTAMP":"748123456","SYSLOG_FACILITY":"0","SYSLOG_IDENTIFIER":"kernel","PRIORITY":"2","_UDEV_DEVNODE":"/dev/sda1"}
{"__CURSOR":"s=4adca63568f04e9d8490edcf0671ae97;i=2;b=454278dc735f40ab980c963e729b426e;m=2c977928;t=644784d9c6968;x=5930ac686f30b00","_SOURCE_MONOTONIC_TIMESTAMP":"748124456","__MONOTONIC_TIMESTAMP":"748124456","_TRANSPORT":"kernel","SYSLOG_IDENTIFIER":"kernel","MESSAGE":"ata1.00: cmd 60/08:60:10:2d:2a/00:00:0c:00:00/40 tag 12 ncq dma 4096 in\n         res 41/40:00:10:2d:2a/00:00:0c:00:00/40 Emask 0x409 (media error) <F>","PRIORITY":"3","__REALTIME_TIMESTAMP":"1764133349124456","_BOOT_ID":"454278dc735f40ab980c963e729b426e","SYSLOG_FACILITY":"0"}
{"_SOURCE_MONOTONIC_TIMESTAMP":"748125456","_TRANSPORT":"kernel","__MONOTONIC_TIMESTAMP":"748125456","MESSAGE":[99,97,102,195,169,32,255,32,105,110,118,97,108,105,100,32,117,116,102,45,56,32,105,110,32,97,32,107,101,114,110,101,108,32,109,101,115,115,97,103,101],"SYSLOG_FACILITY":"0","__CURSOR":"s=4adca63568f04e9d8490edcf0671ae97;i=3;b=454278dc735f40ab980c963e729b426e;m=2c977d10;t=644784d9c6d50;x=b36a551e43809727","_BOOT_ID":"454278dc735f40ab980c963e729b426e","PRIORITY":"4","SYSLOG_IDENTIFIER":"kernel","__REALTIME_TIMESTAMP":"1764133349125456"}
{"_PID":"4321","SYSLOG_FACILITY":"4","__REALTIME_TIMESTAMP":"1764133349126456","PRIORITY":"3","SYSLOG_IDENTIFIER":"sshd","__CURSOR":"s=4adca63568f04e9d8490edcf0671ae97;i=4;b=454278dc735f40ab980c963e729b426e;m=2c9780f8;t=644784d9c7138;x=a78badf92423c3ae","__MONOTONIC_TIMESTAMP":"748126456","_BOOT_ID":"454278dc735f40ab980c963e729b426e","MESSAGE":"error: kex_exchange_identification: Connection closed by remote host","_TRANSPORT":"syslog"}
{"_KERNEL_DEVICE":["+scsi:0:0:0:0","+scsi:0:0:0:1"],"SYSLOG_FACILITY":"0","__CURSOR":"s=4adca63568f04e9d8490edcf0671ae97;i=5;b=454278dc735f40ab980c963e729b426e;m=2c9784e0;t=644784d9c7520;x=d24c750b3cf1b4b9","__MONOTONIC_TIMESTAMP":"748127456","_BOOT_ID":"454278dc735f40ab980c963e729b426e","MESSAGE":"kc-sample: kernel record with a repeated field","_TRANSPORT":"kernel","__REALTIME_TIMESTAMP":"1764133349127456","_SOURCE_MONOTONIC_TIMESTAMP":"748127456","PRIORITY":"3","SYSLOG_IDENTIFIER":"kernel"}
"""


def records(data, fmt=None, source="test.log"):
    if isinstance(data, str):
        data = data.encode()
    return list(iter_records(data, source, fmt))


def test_journal_json():
    assert detect_format(JOURNAL_JSON.encode()) == "journal-json"
    ext4, ata, blob, sshd, repeated = records(JOURNAL_JSON)
    assert ext4.text == "EXT4-fs (sda1): Remounting filesystem read-only"
    assert ext4.level == 2 and ext4.facility == 0 and ext4.is_kernel
    assert ext4.ts_mono == pytest.approx(748.123456)
    assert ext4.wallclock == datetime(2025, 11, 26, 5, 2, 29, 123456, tzinfo=timezone.utc)
    assert ext4.fields["DEVICE"] == "b8:1" and ext4.fields["SUBSYSTEM"] == "block"
    assert ext4.fields["UDEV_DEVNODE"] == "/dev/sda1"
    assert ata.text.count("\n") == 1 and ata.text.endswith("(media error) <F>") and ata.level == 3
    assert blob.text == "café \ufffd invalid utf-8 in a kernel message" and blob.level == 4
    assert sshd.userspace and sshd.facility == 4 and not sshd.is_kernel and sshd.ts_mono == pytest.approx(748.126456)
    assert repeated.fields["DEVICE"] == "+scsi:0:0:0:0\n+scsi:0:0:0:1"
    assert [r.line for r in (ext4, ata, blob, sshd, repeated)] == [1, 2, 3, 4, 5]


def test_old_journald_kernel_records_without_facility_and_json_seq():
    # journald before systemd 03e334a1 set SYSLOG_FACILITY only for non-kernel facilities; json-seq adds RS.
    line = ('\x1e{"_TRANSPORT":"kernel","PRIORITY":"0","MESSAGE":"Kernel panic - not syncing: Fatal exception",'
            '"__MONOTONIC_TIMESTAMP":"12000000"}\n')
    (rec,) = records(line, "journal-json")
    assert rec.is_kernel and rec.facility == 0 and rec.level == 0 and rec.ts_mono == 12.0


def test_broken_journal_json_line_is_kept_as_text():
    recs = records(JOURNAL_JSON.splitlines()[0] + '\n{"MESSAGE": "trunc\n', "journal-json")
    assert recs[1].text == '{"MESSAGE": "trunc' and recs[1].level is None and recs[1].line == 2


# journalctl -o short / short-iso / short-precise / short-monotonic / short-iso-precise, with _HOSTNAME=web1.
SHORT = {
    "short": "Nov 26 05:02:29 web1 kernel: EXT4-fs (sda1): Remounting filesystem read-only\n"
             "Nov 26 05:02:29 web1 sshd[4321]: error: kex_exchange_identification: Connection closed by remote host\n",
    "short-iso": "2025-11-26T05:02:29+0000 web1 kernel: EXT4-fs (sda1): Remounting filesystem read-only\n"
                 "2025-11-26T05:02:29+0000 web1 sshd[4321]: error: kex_exchange_identification: Connection closed"
                 " by remote host\n",
    "short-precise": "Nov 26 05:02:29.123456 web1 kernel: EXT4-fs (sda1): Remounting filesystem read-only\n"
                     "Nov 26 05:02:29.124456 web1 sshd[4321]: error: kex_exchange_identification: Connection "
                     "closed by remote host\n",
    "short-monotonic": "[  748.123456] web1 kernel: EXT4-fs (sda1): Remounting filesystem read-only\n"
                       "[  748.124456] web1 sshd[4321]: error: kex_exchange_identification: Connection closed by"
                       " remote host\n",
    "short-iso-precise": "2025-11-26T05:02:29.123456+0000 web1 kernel: EXT4-fs (sda1): Remounting filesystem "
                         "read-only\n2025-11-26T05:02:29.124456+0000 web1 sshd[4321]: error: "
                         "kex_exchange_identification: Connection closed by remote host\n",
    "short-iso (systemd ≥ 255)": "2025-11-26T05:02:29+00:00 web1 kernel: EXT4-fs (sda1): Remounting filesystem "
                                 "read-only\n2025-11-26T05:02:29+00:00 web1 sshd[4321]: error: "
                                 "kex_exchange_identification: Connection closed by remote host\n",
}


@pytest.mark.parametrize("variant", sorted(SHORT))
def test_journalctl_short_variants(variant):
    text = SHORT[variant]
    assert detect_format(text.encode()) == "syslog"
    kernel, sshd = records(text)
    assert kernel.text == "EXT4-fs (sda1): Remounting filesystem read-only" and kernel.is_kernel
    assert sshd.userspace and sshd.fields["SYSLOG_IDENTIFIER"] == "sshd"
    assert sshd.text.startswith("error: kex_exchange_identification")
    if variant == "short-monotonic":
        assert kernel.ts_mono == pytest.approx(748.123456) and kernel.wallclock is None
    else:
        assert kernel.wallclock is not None and kernel.wallclock.hour == 5 and kernel.wallclock.second == 29
    if "precise" in variant:
        assert kernel.wallclock is not None and kernel.wallclock.microsecond == 123456


def test_journalctl_short_without_hostname_and_multi_line_record():
    # Entries without _HOSTNAME (journalctl --file of an exported journal): "DATE kernel: msg"; the second
    # line of a multi-line record is indented by the prefix width.
    text = ("[  748.123456] kernel: EXT4-fs (sda1): Remounting filesystem read-only\n"
            "[  748.124456] kernel: ata1.00: cmd 60/08:60:10:2d:2a/00:00:0c:00:00/40 tag 12 ncq dma 4096 in\n"
            "                                res 41/40:00:10:2d:2a/00:00:0c:00:00/40 Emask 0x409 (media error) <F>\n"
            "[  748.125456] kernel: [41B blob data]\n"
            "[  748.126456] sshd[4321]: error: kex_exchange_identification: Connection closed by remote host\n"
            "[  748.127456] kernel: kc-sample: kernel record with a repeated field\n")
    assert detect_format(text.encode()) == "syslog"
    recs = records(text)
    assert [r.line for r in recs] == [1, 2, 4, 5, 6]
    assert recs[1].text.endswith("\nres 41/40:00:10:2d:2a/00:00:0c:00:00/40 Emask 0x409 (media error) <F>")
    assert [r.userspace for r in recs] == [False, False, False, True, False]
    assert RecordReader("syslog").count(text.encode(), 0, len(text)) == (6, 5)


def test_journal_markers_are_not_records():
    text = ("-- Journal begins at Mon 2025-11-24 07:00:01 UTC, ends at Wed 2025-11-26 05:02:29 UTC. --\n"
            "Nov 26 05:02:29 web1 kernel: EXT4-fs (sda1): Remounting filesystem read-only\n"
            "-- Boot 454278dc735f40ab980c963e729b426e --\n"
            "Nov 26 05:03:00 web1 kernel: Linux version 6.1.0-18-amd64\n")
    recs = records(text)
    assert [r.line for r in recs] == [2, 4]
    assert RecordReader("syslog").count(text.encode(), 0, len(text)) == (4, 2)


def test_kern_log_rsyslog_traditional_with_and_without_kernel_timestamp():
    text = ("Nov 26 05:02:29 web1 kernel: [  748.123456] EXT4-fs (sda1): Remounting filesystem read-only\n"
            "Nov 26 05:02:30 web1 kernel: EXT4-fs error (device sda1): ext4_find_entry:1455: inode #2: comm ls: "
            "reading directory lblock 0\n"
            "Nov  6 05:02:31 web1 kernel: [  749.000001] ata1.00: cmd 60/08:60:10:2d:2a/00:00:0c:00:00/40 tag 12 "
            "ncq dma 4096 in#012         res 41/40:00:10:2d:2a/00:00:0c:00:00/40 Emask 0x409 (media error) <F>\n"
            "Nov  6 05:02:32 web1 CRON[1234]: (root) CMD (run-parts /etc/cron.hourly)\n")
    assert detect_format(text.encode(), "/var/log/kern.log") == "syslog"
    reader = RecordReader("syslog", year=2025)
    recs = list(reader.records(text.encode()))
    assert recs[0].text == "EXT4-fs (sda1): Remounting filesystem read-only"
    assert recs[0].ts_mono == pytest.approx(748.123456)
    assert recs[0].wallclock == datetime(2025, 11, 26, 5, 2, 29)
    assert recs[1].ts_mono is None and recs[1].text.startswith("EXT4-fs error (device sda1)")
    assert recs[2].wallclock == datetime(2025, 11, 6, 5, 2, 31)
    assert recs[2].text.split("\n")[1] == "         res 41/40:00:10:2d:2a/00:00:0c:00:00/40 Emask 0x409 (media error) <F>"
    assert recs[3].userspace and recs[3].fields["SYSLOG_IDENTIFIER"] == "CRON"


def test_rsyslog_file_format_and_rfc5424():
    text = ("2026-11-26T05:02:29.123456+00:00 web1 kernel: BUG: soft lockup - CPU#3 stuck for 23s! "
            "[kworker/3:1:1234]\n"
            "<2>1 2026-11-26T05:02:30.000001+01:00 web1 kernel - - - EXT4-fs (sda1): Remounting filesystem read-only\n"
            '<11>1 2026-11-26T05:02:31Z web1 myapp 99 ID47 [exampleSDID@32473 iut="3"] EXT4-fs error (device sda1): '
            "fake\n")
    assert detect_format(text.encode()) == "syslog"
    a, b, c = records(text)
    assert a.text.startswith("BUG: soft lockup") and a.is_kernel
    assert a.wallclock == datetime(2026, 11, 26, 5, 2, 29, 123456, tzinfo=timezone.utc)
    assert b.level == 2 and b.facility == 0 and b.is_kernel and b.text.startswith("EXT4-fs (sda1)")
    assert b.wallclock is not None and b.wallclock.utcoffset().total_seconds() == 3600
    assert c.userspace and c.facility == 1 and c.level == 3 and c.text == "EXT4-fs error (device sda1): fake"


# A ramoops record as the kernel writes it: "<reason>#<count> Part<n>" then kmsg_dump's syslog-style lines.
PSTORE = b"""Panic#2 Part1
<6>[    0.000000] Linux version 6.1.0-18-amd64 (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC
<4>[  412.123456] BUG: soft lockup - CPU#1 stuck for 22s! [kworker/1:2:123]
<4>[  412.123470] RIP: 0010:ixgbe_xmit_frame_ring+0x3c1/0xf20 [ixgbe]
<0>[  412.200000] Kernel panic - not syncing: softlockup: hung tasks
\x00\x00\x00
"""


def test_pstore_ramoops_file():
    assert detect_format(PSTORE, "/sys/fs/pstore/dmesg-ramoops-0") == "pstore"
    assert detect_format(PSTORE) == "pstore"  # the header alone says so
    recs = records(PSTORE)
    assert [r.line for r in recs] == [2, 3, 4, 5, 6]
    assert recs[1].text == "BUG: soft lockup - CPU#1 stuck for 22s! [kworker/1:2:123]" and recs[1].level == 4
    assert recs[3].level == 0 and recs[3].ts_mono == pytest.approx(412.2)
    assert recs[4].text == ""  # the NUL padding after the record
    assert RecordReader("pstore").count(PSTORE, 0, len(PSTORE)) == (6, 5)


def test_vmcore_dmesg_and_makedumpfile_output_are_dmesg():
    # vmcore-dmesg.txt as written by kdump on Debian 12 (kexec-tools) and makedumpfile --dump-dmesg of an
    # old kernel's log buffer (syslog prefixes kept).
    vmcore = (b"[    0.000000] Linux version 6.1.0-56-amd64 (debian-kernel@lists.debian.org)\n"
              b"[    2.805451] sysrq: Trigger a crash\n"
              b"[    2.805460] Kernel panic - not syncing: sysrq triggered crash\n")
    old = b"<6>[    0.000000] Linux version 3.10.0-1160.el7.x86_64\n<0>[  9.0] Kernel panic - not syncing: x\n"
    assert detect_format(vmcore, "/var/crash/127.0.0.1-2026-11-26-05:02:29/vmcore-dmesg.txt") == "dmesg"
    assert detect_format(old) == "dmesg"
    assert records(vmcore)[2].text == "Kernel panic - not syncing: sysrq triggered crash"
    assert records(old)[1].level == 0
