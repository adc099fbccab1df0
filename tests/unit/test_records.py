"""Record parsing of the plain-text formats: dmesg variants, serial consoles, syzkaller consoles, kmsg.

The dmesg and kmsg lines are copied from the test machine (kernel 6.18.44, util-linux 2.38.1): the same
memory-cgroup OOM kill printed by ``dmesg``, ``-r``, ``-x``, ``-T``, ``--time-format iso`` and ``-t``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from kerncheck.logs.records import RecordReader, canonical_format, detect_format, iter_records

OOM_TEXT = ("Memory cgroup out of memory: Killed process 21306 (kc-leaky-svc) total-vm:58780kB, "
            "anon-rss:48896kB, file-rss:5960kB, shmem-rss:0kB, UID:0 pgtables:156kB oom_score_adj:0")
HEADER_TEXT = "kc-leaky-svc invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0"

DMESG = f"""\
[ 1475.250994] {HEADER_TEXT}
[ 1475.251004] CPU: 0 UID: 0 PID: 21306 Comm: kc-leaky-svc Not tainted 6.18.44-fc-v657 #1 PREEMPT(none) 
[ 1475.251008] Call Trace:
[ 1475.251027]  <TASK>
[ 1475.251446] {OOM_TEXT}
"""
DMESG_R = f"""\
<4>[ 1475.250994] {HEADER_TEXT}
<4>[ 1475.251004] CPU: 0 UID: 0 PID: 21306 Comm: kc-leaky-svc Not tainted 6.18.44-fc-v657 #1 PREEMPT(none) 
<4>[ 1475.251008] Call Trace:
<4>[ 1475.251027]  <TASK>
<3>[ 1475.251446] {OOM_TEXT}
"""
DMESG_X = f"""\
kern  :warn  : [ 1475.250994] {HEADER_TEXT}
kern  :warn  : [ 1475.251004] CPU: 0 UID: 0 PID: 21306 Comm: kc-leaky-svc Not tainted 6.18.44-fc-v657 #1 PREEMPT(none) 
kern  :warn  : [ 1475.251008] Call Trace:
kern  :warn  : [ 1475.251027]  <TASK>
kern  :err   : [ 1475.251446] {OOM_TEXT}
"""
DMESG_T = f"""\
[Thu Nov 26 06:35:35 2026] {HEADER_TEXT}
[Thu Nov 26 06:35:35 2026] CPU: 0 UID: 0 PID: 21306 Comm: kc-leaky-svc Not tainted 6.18.44-fc-v657 #1 PREEMPT(none) 
[Thu Nov 26 06:35:35 2026] Call Trace:
[Thu Nov 26 06:35:35 2026]  <TASK>
[Thu Nov 26 06:35:35 2026] {OOM_TEXT}
"""
CPU_LINE = "CPU: 0 UID: 0 PID: 21306 Comm: kc-leaky-svc Not tainted 6.18.44-fc-v657 #1 PREEMPT(none) "
DMESG_ISO = f"""\
2026-11-26T06:35:35,250994+00:00 {HEADER_TEXT}
2026-11-26T06:35:35,251004+00:00 {CPU_LINE}
2026-11-26T06:35:35,251008+00:00 Call Trace:
2026-11-26T06:35:35,251027+00:00  <TASK>
2026-11-26T06:35:35,251446+00:00 {OOM_TEXT}
"""
DMESG_NO_TS = f"""\
{HEADER_TEXT}
CPU: 0 UID: 0 PID: 21306 Comm: kc-leaky-svc Not tainted 6.18.44-fc-v657 #1 PREEMPT(none) 
Call Trace:
 <TASK>
{OOM_TEXT}
"""


def records(text: str, fmt=None):
    return list(iter_records(text.encode(), "test.log", fmt))


@pytest.mark.parametrize("text", [DMESG, DMESG_R, DMESG_X, DMESG_T, DMESG_ISO, DMESG_NO_TS])
def test_every_dmesg_variant_gives_the_same_texts(text):
    recs = records(text)
    assert [r.text for r in recs] == [
        HEADER_TEXT,
        "CPU: 0 UID: 0 PID: 21306 Comm: kc-leaky-svc Not tainted 6.18.44-fc-v657 #1 PREEMPT(none) ",
        "Call Trace:", " <TASK>", OOM_TEXT]
    assert [r.line for r in recs] == [1, 2, 3, 4, 5]
    assert all(r.source == "test.log" and r.is_kernel for r in recs)


def test_dmesg_variants_keep_what_the_format_carries():
    plain = records(DMESG)
    assert detect_format(DMESG.encode()) == "dmesg"
    assert plain[4].ts_mono == pytest.approx(1475.251446) and plain[4].level is None
    raw = records(DMESG_R)
    assert [r.level for r in raw] == [4, 4, 4, 4, 3] and raw[4].facility == 0
    decoded = records(DMESG_X)
    assert [r.level for r in decoded] == [4, 4, 4, 4, 3] and decoded[0].ts_mono == pytest.approx(1475.250994)
    ctime = records(DMESG_T)
    assert ctime[4].wallclock == datetime(2026, 11, 26, 6, 35, 35) and ctime[4].ts_mono is None
    iso = records(DMESG_ISO)
    assert iso[4].wallclock == datetime(2026, 11, 26, 6, 35, 35, 251446, tzinfo=timezone.utc)
    assert detect_format(DMESG_NO_TS.encode()) == "console"  # no prefix: every line is a record


def test_dmesg_x_user_facility_is_userspace():
    # Written by a test into /dev/kmsg as "<3>EXT4-fs error …" and printed by dmesg -x on this machine.
    text = ("user  :err   : [ 1285.734304] EXT4-fs error (device sda1): kerncheck-test-05afe7ec\n"
            "kern  :err   : [ 1475.251446] " + OOM_TEXT + "\n")
    recs = records(text)
    assert recs[0].userspace and recs[0].facility == 1 and recs[0].level == 3 and not recs[0].is_kernel
    assert recs[1].is_kernel


def test_iso_time_format_with_old_util_linux_zone():
    # util-linux 2.24–2.31 printed strftime %z (+0000 / -0500) instead of +00:00.
    rec = records("2026-11-26T05:02:29,123456-0500 EXT4-fs (sda1): Remounting filesystem read-only\n")[0]
    assert rec.wallclock == datetime(2026, 11, 26, 5, 2, 29, 123456, tzinfo=timezone(timedelta(hours=-5)))
    assert rec.text == "EXT4-fs (sda1): Remounting filesystem read-only"


def test_dmesg_multi_line_record_stays_one_record():
    # libata prints "cmd …\n         res …" in one printk; dmesg indents the second line by the prefix width.
    text = ("[  748.123456] ata1.00: failed command: READ FPDMA QUEUED\n"
            "[  748.123457] ata1.00: cmd 60/08:60:10:2d:2a/00:00:0c:00:00/40 tag 12 ncq dma 4096 in\n"
            "                        res 41/40:00:10:2d:2a/00:00:0c:00:00/40 Emask 0x409 (media error) <F>\n"
            "[  748.123458] ata1.00: error: { UNC }\n")
    recs = records(text)
    assert len(recs) == 3
    assert recs[1].text == ("ata1.00: cmd 60/08:60:10:2d:2a/00:00:0c:00:00/40 tag 12 ncq dma 4096 in\n"
                            "         res 41/40:00:10:2d:2a/00:00:0c:00:00/40 Emask 0x409 (media error) <F>")
    assert [r.line for r in recs] == [1, 2, 4]
    reader = RecordReader("dmesg")
    assert reader.count(text.encode(), 0, len(text)) == (4, 3)


def test_syzkaller_console_with_caller_ids():
    # From shared/corpus/syzkaller/report/1000 (kernel console with CONFIG_PRINTK_CALLER).
    text = ("[  584.319520][   T31] INFO: t\n"
            "** replaying previous printk message **\n"
            "[  584.319520][   T31] INFO: task udevd:5612 blocked in I/O wait for more than 143 seconds.\n"
            "[  584.319554][   T31]       Tainted: G             L      syzkaller #0\n"
            "[  584.319601][   T31] Call trace:\n")
    assert detect_format(text.encode()) == "console"
    recs = records(text)
    assert [r.caller for r in recs] == ["T31", None, "T31", "T31", "T31"]
    assert recs[1].text == "** replaying previous printk message **" and recs[1].ts_mono is None
    assert recs[2].text.startswith("INFO: task udevd:5612 blocked")
    assert recs[3].text == "      Tainted: G             L      syzkaller #0"
    assert recs[4].ts_mono == pytest.approx(584.319601)


def test_dmesg_with_caller_ids_separated_by_a_space():
    # util-linux dmesg on a CONFIG_PRINTK_CALLER kernel: "[    0.000000] [    T0] Linux version …".
    recs = records("[    0.000000] [    T0] Linux version 6.1.0\n[    1.5] [   C1] clocksource: tsc\n")
    assert [(r.caller, r.text) for r in recs] == [("T0", "Linux version 6.1.0"), ("C1", "clocksource: tsc")]


def test_serial_console_capture_with_crlf_ansi_and_bios_noise():
    text = (b"\x1b[2J\x1b[01;01HSeaBIOS (version 1.16.2-debian-1.16.2-1)\r\n"
            b"Booting from ROM..\r\n"
            b"\x1b[0m[    0.000000] Linux version 6.1.0-18-amd64 (debian-kernel@lists.debian.org)\r\n"
            b"\r\n"
            b"[    2.345678] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)\r\n"
            b"progress 10%\rprogress 100%\r\n"
            b"[    2.345679] CPU: 0 PID: 1 Comm: swapper/0 Not tainted 6.1.0-18-amd64 #1  Debian 6.1.76-1\r\n")
    assert detect_format(text) == "console"
    recs = list(iter_records(text, "ttyS0.log"))
    assert [r.text for r in recs] == [
        "SeaBIOS (version 1.16.2-debian-1.16.2-1)", "Booting from ROM..",
        "Linux version 6.1.0-18-amd64 (debian-kernel@lists.debian.org)",
        "Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)",
        "progress 100%", "CPU: 0 PID: 1 Comm: swapper/0 Not tainted 6.1.0-18-amd64 #1  Debian 6.1.76-1"]
    assert [r.line for r in recs] == [1, 2, 3, 5, 6, 7]
    assert recs[3].ts_mono == pytest.approx(2.345678)
    assert RecordReader("console").count(text, 0, len(text)) == (7, 6)


KMSG = (b"5,0,0,-;Linux version 6.18.44-fc-v657 (builder@sandboxing) (gcc (GCC) 15.3.0, GNU ld (GNU Binutils)"
        b" 2.46) #1 SMP PREEMPT_DYNAMIC @0\n"
        b"6,89,206335,-;rcu: \\x09RCU restricting CPUs from NR_CPUS=256 to nr_cpu_ids=2.\n"
        b"6,187,260552,-;acpi PNP0A08:00: _OSC: OS supports [ExtendedConfig ASPM ClockPM Segments MSI HPX-Type3]\n"
        b" SUBSYSTEM=acpi\n"
        b" DEVICE=+acpi:PNP0A08:00\n"
        b"4,342,567069477,-; <TASK>\n"
        b"3,416,567073405,-;Memory cgroup out of memory: Killed process 3522 (kc-oom-victim) total-vm:58780kB,"
        b" anon-rss:48896kB, file-rss:6156kB, shmem-rss:0kB, UID:0 pgtables:152kB oom_score_adj:0\n"
        b"14,606,1379144382,-;kc-sample: user info with \\x5c backslash and \\x01 ctrl\n")


def test_kmsg_records_from_this_machine():
    assert detect_format(KMSG) == "kmsg"
    recs = list(iter_records(KMSG, "/dev/kmsg"))
    assert len(recs) == 6
    assert recs[0].seq == 0 and recs[0].level == 5 and recs[0].facility == 0 and recs[0].ts_mono == 0
    assert recs[1].text == "rcu: \tRCU restricting CPUs from NR_CPUS=256 to nr_cpu_ids=2."
    assert recs[2].fields == {"SUBSYSTEM": "acpi", "DEVICE": "+acpi:PNP0A08:00"}
    assert recs[2].text.endswith("HPX-Type3]") and recs[2].line == 3
    assert recs[3].text == " <TASK>" and recs[3].line == 6
    assert recs[4].level == 3 and recs[4].ts_mono == pytest.approx(567.073405) and recs[4].is_kernel
    assert recs[5].facility == 1 and recs[5].level == 6 and recs[5].userspace
    assert recs[5].text == "kc-sample: user info with \\ backslash and \x01 ctrl"
    assert RecordReader("kmsg").count(KMSG, 0, len(KMSG)) == (8, 6)


def test_kmsg_caller_multiline_and_utf8_escapes():
    raw = (b"4,7719,1234567,-,caller=T4242;ata1.00: cmd 60/08:60:10:2d:2a/00:00:0c:00:00/40 tag 12 ncq dma"
           b" 4096 in\\x0a         res 41/40:00:10:2d:2a/00:00:0c:00:00/40 Emask 0x409 (media error) <F>\n"
           b"6,7720,1234568,c;caf\\xc3\\xa9 \\xff\n")
    a, b = iter_records(raw, "k", "kmsg")
    assert a.caller == "T4242" and a.text.count("\n") == 1 and a.text.endswith("(media error) <F>")
    assert b.text == "café \ufffd"


def test_unparseable_kmsg_line_is_kept_as_text():
    _, b = iter_records(b"6,1,2,-;fine\nnot a header\n", "k", "kmsg")
    assert b.text == "not a header" and b.level is None and b.line == 2


def test_format_names_and_aliases():
    assert canonical_format("vmcore-dmesg") == "dmesg"
    assert canonical_format("serial") == "console"
    with pytest.raises(ValueError, match="unknown input format"):
        canonical_format("xml")


def test_not_a_kernel_log():
    with pytest.raises(ValueError, match="not a kernel log"):
        list(iter_records(b'127.0.0.1 - - [26/Nov/2026:05:02:29 +0000] "GET / HTTP/1.1" 200 612\n', "access"))
    assert detect_format(b"") is None


@pytest.mark.parametrize("line", [
    b"[    1.000000] usb 1-1: new high-speed USB device number 2 using xhci_hcd\n",
    b"[ 4012.345678] sd 0:0:0:0: [sda] tag#12 Sense Key : Medium Error [current]\n",
    b"[   12.000000] systemd[1]: Started systemd-udevd.service - Rule-based Manager for Device Events.\n"
    b"[   12.100000] EXT4-fs (vda): mounted filesystem r/w\n[   12.2] ACPI: button: Power Button [PWRF]\n",
])
def test_dmesg_full_of_one_subsystem_is_not_mistaken_for_journalctl(line):
    # "usb 1-1:" looks like "host tag:" of journalctl -o short-monotonic; only kernel:/name[pid]: tags count.
    text = line * 50 + b"[    2.345678] Kernel panic - not syncing: VFS: Unable to mount root fs\n"
    assert detect_format(text) == "dmesg"
    assert list(iter_records(text, "x"))[-1].text == "Kernel panic - not syncing: VFS: Unable to mount root fs"


def test_dmesg_delta_and_reltime_layouts():
    # dmesg -d and dmesg -e / --time-format reltime on this machine (util-linux 2.38.1).
    delta = (b"[    0.260554 <    0.000002>] acpi PNP0A08:00: PCIe port services disabled; not requesting _OSC "
             b"control\n"
             b"[    0.260662 <    0.000106>] PCI host bridge to bus 0000:00\n")
    reltime = (b"[Nov26 06:11] Linux version 6.18.44-fc-v657 (builder@sandboxing)\n"
               b"[  +0.000002] acpi PNP0A08:00: PCIe port services disabled; not requesting _OSC control\n")
    assert detect_format(delta) == detect_format(reltime) == "dmesg"
    a, b = iter_records(delta, "d")
    assert a.ts_mono == pytest.approx(0.260554) and b.text == "PCI host bridge to bus 0000:00"
    c, d = iter_records(reltime, "e")
    assert c.text.startswith("Linux version") and d.text.startswith("acpi PNP0A08:00:")
