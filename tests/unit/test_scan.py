"""The scan driver: the fast path (prefilter, skip, count) finds exactly what parsing every record finds.

Inputs are real kernel output: the QEMU lab's console logs of a real Debian 6.1 kernel (tests/data/qemu,
panics, oopses, lockups, hung tasks, OOM kills…) and records from this machine's /dev/kmsg.
"""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import os
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest

from kerncheck.logs import scan as scan_mod
from kerncheck.logs.aggregate import aggregate
from kerncheck.logs.incidents import build_incidents
from kerncheck.logs.records import iter_records
from kerncheck.logs.scan import ScanResult, scan_bytes, scan_host, scan_paths, scan_text

from .test_records import KMSG

QEMU = Path(__file__).resolve().parent.parent / "data" / "qemu"
GOLDEN = sorted(QEMU.glob("*.log"))


def key(incidents):
    return [(i.source, i.first_line, i.kind, i.title, i.function, i.count, i.severity) for i in incidents]


def slow(data: bytes, source: str, fmt=None):
    """Every record parsed and fed: the reference the fast path must equal."""
    records = list(iter_records(data, source, fmt))
    return aggregate(build_incidents(records)), len(records)


def kmsg_from_console(data: bytes) -> bytes:
    """A console log re-encoded as raw /dev/kmsg records (the same text, levels, timestamps)."""
    out = []
    for seq, rec in enumerate(iter_records(data, "x", "console")):
        text = rec.text.encode().replace(b"\\", b"\\x5c").replace(b"\n", b"\\x0a")
        out.append(b"%d,%d,%d,-;%s\n" % (4 if rec.level is None else rec.level, seq, int((rec.ts_mono or 0) * 1e6),
                                          text))
    return b"".join(out)


@pytest.fixture(autouse=True)
def fresh_prefilters():
    scan_mod._prefilter.cache_clear()
    yield
    scan_mod._prefilter.cache_clear()


@pytest.mark.skipif(not GOLDEN, reason="tests/data/qemu holds no golden console logs")
@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.stem)
def test_fast_path_equals_parsing_everything_on_real_kernel_logs(path):
    data = path.read_bytes()
    fast = scan_bytes(data, path.name)
    expected, nrecords = slow(data, path.name)
    assert not fast.errors
    assert fast.records == nrecords
    assert key(fast.incidents) == key(expected)
    kmsg = kmsg_from_console(data)
    fast_kmsg = scan_bytes(kmsg, path.name, input_format="kmsg")
    assert key(fast_kmsg.incidents) == key(slow(kmsg, path.name, "kmsg")[0])
    assert fast_kmsg.records == nrecords and fast_kmsg.lost_records == 0


def test_the_lab_logs_hold_incidents():
    if not GOLDEN:
        pytest.skip("tests/data/qemu holds no golden console logs")
    kinds = {i.kind for p in GOLDEN for i in scan_bytes(p.read_bytes(), p.name).incidents}
    assert {"panic", "soft_lockup", "oom_kill", "hung_task"} <= kinds


@pytest.mark.parametrize("block", [64, 1000, 4096])
@pytest.mark.parametrize("fmt", ["console", "kmsg"])
def test_block_boundaries_change_nothing(tmp_path, monkeypatch, block, fmt):
    if not GOLDEN:
        pytest.skip("tests/data/qemu holds no golden console logs")
    data = b"".join(p.read_bytes() for p in GOLDEN[:6])
    if fmt == "kmsg":
        data = kmsg_from_console(data)
    log = tmp_path / "all.log"
    log.write_bytes(data)
    whole = scan_paths([str(log)], input_format=fmt)
    monkeypatch.setattr(scan_mod, "BLOCK_SIZE", block)
    pieces = scan_paths([str(log)], input_format=fmt)
    assert key(pieces.incidents) == key(whole.incidents) and pieces.records == whole.records
    assert whole.incidents


@pytest.mark.parametrize("engine", ["re2", "re"])
def test_every_engine_gives_the_same_result(monkeypatch, engine):
    data = b"".join(p.read_bytes() for p in GOLDEN[:4]) if GOLDEN else KMSG
    reference = scan_bytes(data, "x")
    monkeypatch.setenv("KERNCHECK_PREFILTER", engine)
    try:
        result = scan_bytes(data, "x")
    except ValueError as exc:
        pytest.skip(str(exc))
    assert scan_mod._prefilter("console", False).engine == engine
    assert key(result.incidents) == key(reference.incidents) and result.records == reference.records


def test_kmsg_from_this_machine_and_lost_records():
    result = scan_bytes(KMSG, "/dev/kmsg")
    assert result.records == 6 and result.lost_records == 606 - 0 + 1 - 6
    (oom,) = result.incidents
    assert oom.kind == "oom_kill" and oom.process == {"pid": 3522, "comm": "kc-oom-victim"} and oom.first_line == 7
    gapless = b"".join(b"6,%d,%d,-;line %d\n" % (i, i, i) for i in range(5, 50))
    assert scan_bytes(gapless, "k").lost_records == 0


def test_this_boots_log_gets_wall_clock_times():
    booted = datetime(2026, 11, 26, 5, 0, tzinfo=timezone.utc).timestamp()
    (oom,) = scan_bytes(KMSG, "/dev/kmsg", boot_time=booted).incidents
    assert datetime.fromisoformat(oom.first_seen) == datetime(2026, 11, 26, 5, 9, 27, 73405, tzinfo=timezone.utc)
    assert scan_bytes(KMSG, "/dev/kmsg", boot_time=booted, since=datetime(2026, 11, 26, 6, tzinfo=timezone.utc),
                      ).incidents == []
    assert scan_bytes(KMSG, "/dev/kmsg").incidents[0].first_seen == "+567.073405s"


def test_userspace_records_are_never_kernel_evidence():
    fake = (b"6,1,100,-;usb 1-1: new high-speed USB device number 2 using xhci_hcd\n"
            b"11,2,200,-;EXT4-fs error (device sda1): ext4_find_entry:1455: inode #2: comm ls: reading directory\n"
            b"3,3,300,-;EXT4-fs error (device sdb1): ext4_find_entry:1455: inode #2: comm ls: reading directory\n")
    result = scan_bytes(fake, "k")
    assert [(i.device, i.first_line) for i in result.incidents] == [("sdb1", 3)]
    shown = scan_bytes(fake, "k", include_userspace=True)
    user = [i for i in shown.incidents if i.details.get("userspace")]
    assert [(i.device, i.first_line) for i in user] == [("sda1", 2)]
    assert user[0].title.startswith("[userspace] ") and user[0].to_json()["userspace"] is True


def test_json_contract_and_order_across_sources(tmp_path):
    a, b = tmp_path / "b.log", tmp_path / "a.log"
    a.write_bytes(KMSG)
    b.write_bytes(KMSG + b"3,700,900000000,-;EXT4-fs error (device sdb1): ext4_lookup:1: comm ls: x\n")
    doc = scan_paths([str(a), str(b)]).to_json()
    assert list(doc) == ["schema", "incidents", "records", "lost_records", "sources"]
    assert doc["schema"] == "kerncheck.scan/1" and doc["sources"] == [str(a), str(b)] and doc["records"] == 13
    order = [(i["source"], i["first_line"]) for i in doc["incidents"]]
    assert order == sorted(order) and len(order) == 3
    for incident in doc["incidents"]:
        assert {"kind", "severity", "title", "function", "module", "cause", "device", "process", "count", "source",
                "first_line", "first_seen", "last_seen", "evidence", "advice"} <= set(incident)
    json.dumps(doc)


def test_scan_text_and_scan_host(tmp_path):
    text = (QEMU / "soft_lockup.log").read_text() if GOLDEN else KMSG.decode()
    assert [i.kind for i in scan_text(text)] == [i.kind for i in scan_bytes(text.encode(), "<text>").incidents]
    assert isinstance(scan_text("BUG: soft lockup - CPU#3 stuck for 23s! [kworker/3:1:1234]\n"), list)
    from kerncheck.host import LiveHost

    (tmp_path / "dev").mkdir()
    (tmp_path / "dev" / "kmsg").write_bytes(KMSG)
    result = scan_host(LiveHost(str(tmp_path)))
    assert result.sources == ["/dev/kmsg"] and [i.kind for i in result.incidents] == ["oom_kill"]


def _compressors(tmp_path: Path, data: bytes) -> dict[str, Path]:
    out = {"plain": tmp_path / "kern.log", "gzip": tmp_path / "kern.log.1.gz", "xz": tmp_path / "kern.log.2.xz",
           "bzip2": tmp_path / "kern.log.3.bz2"}
    out["plain"].write_bytes(data)
    out["gzip"].write_bytes(gzip.compress(data))
    out["xz"].write_bytes(lzma.compress(data))
    out["bzip2"].write_bytes(bz2.compress(data))
    if shutil.which("zstd"):
        out["zstd"] = tmp_path / "kern.log.4.zst"
        subprocess.run(["zstd", "-q", "-o", str(out["zstd"]), str(out["plain"])], check=True)
    return out


def test_rotated_compressed_logs(tmp_path, monkeypatch):
    data = (QEMU / "oom.log").read_bytes() if GOLDEN else KMSG
    files = _compressors(tmp_path, data)
    monkeypatch.setattr(scan_mod, "BLOCK_SIZE", 5000)
    results = {name: scan_paths([str(p)]) for name, p in files.items()}
    for name, result in results.items():
        assert not result.errors, name
        assert [(i.kind, i.first_line, i.title) for i in result.incidents] == \
            [(i.kind, i.first_line, i.title) for i in results["plain"].incidents]
        assert result.records == results["plain"].records
    truncated = tmp_path / "cut.log.gz"
    truncated.write_bytes(files["gzip"].read_bytes()[: len(files["gzip"].read_bytes()) // 2])
    cut = scan_paths([str(truncated)])
    assert cut.sources == [str(truncated)] and len(cut.errors) == 1
    assert "read stopped after line" in str(cut.errors[0])


def test_bad_inputs_get_a_message_each_and_the_rest_is_scanned(tmp_path):
    good = tmp_path / "good.log"
    good.write_bytes(KMSG)
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"")
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(bytes(range(256)) * 64)
    access = tmp_path / "access.log"
    access.write_text('127.0.0.1 - - [26/Nov/2026:05:02:29 +0000] "GET / HTTP/1.1" 200 612\n' * 50)
    nuls = tmp_path / "nuls.log"
    nuls.write_bytes(b"[    1.000000] ok\n\x00\x00\x00[    2.000000] Kernel panic - not syncing: x\x00y\n")
    utf8 = tmp_path / "utf8.log"
    utf8.write_bytes(b"[    1.000000] caf\xc3 \xff\xfe BUG: soft lockup - CPU#0 stuck for 22s! [k\xff:1]\n")
    huge = tmp_path / "huge.log"
    huge.write_bytes(b"[    1.000000] " + b"x" * (1 << 20) + b"\n[    2.000000] Kernel panic - not syncing: y\n")
    cut = tmp_path / "cut.log"
    cut.write_bytes(b"[    5.000000] BUG: unable to handle page fault for address: ffff\n"
                    b"[    5.000001] Oops: 0000 [#1] SMP\n[    5.000002] Call Trace:\n[    5.000003]  vfs_re")
    paths = [good, empty, garbage, access, tmp_path / "missing.log", tmp_path, nuls, utf8, huge, cut]
    result = scan_paths([str(p) for p in paths])
    messages = {e.source: e.message for e in result.errors}
    assert messages == {
        str(empty): "empty: no records to scan",
        str(garbage): "binary data, not a text log (use --input-format to scan it anyway)",
        str(access): "does not look like a kernel log: no line in a known kernel log format in its first 64 KiB "
                     "(use --input-format to scan it anyway)",
        str(tmp_path / "missing.log"): "no such file",
        str(tmp_path): "is a directory, not a log file",
    }
    assert result.sources == [str(p) for p in (good, nuls, utf8, huge, cut)]
    by_source = {s: [i.kind for i in result.incidents if i.source == s] for s in result.sources}
    assert by_source[str(good)] == ["oom_kill"]
    assert by_source[str(nuls)] == ["panic"] and by_source[str(utf8)] == ["soft_lockup"]
    assert by_source[str(huge)] == ["panic"] and by_source[str(cut)] == ["oops"]


def test_forced_format_scans_what_detection_refuses(tmp_path):
    odd = tmp_path / "odd.txt"
    odd.write_bytes(b"hello\nKernel panic - not syncing: Attempted to kill init! exitcode=0x00000009\n")
    assert scan_paths([str(odd)]).incidents[0].kind == "panic"  # kernel markers: plain console text
    result = scan_paths([str(odd)], input_format="dmesg")
    assert [i.kind for i in result.incidents] == ["panic"] and result.records == 2


def test_min_severity_and_since_filter():
    result = scan_bytes(KMSG, "k", min_severity="critical")
    assert result.incidents == [] and result.records == 6
    assert isinstance(scan_bytes(KMSG, "k"), ScanResult)


def test_small_inputs_skip_hyperscans_compile_time(monkeypatch):
    from kerncheck.logs.prefilter import preferred_engines

    monkeypatch.delenv("KERNCHECK_PREFILTER", raising=False)
    assert preferred_engines(30_000)[:2] == ["re2", "re"]
    assert preferred_engines(5 << 20)[:2] == ["re2", "hyperscan"]
    assert preferred_engines(None)[0] == "hyperscan"
    scan_bytes(KMSG, "k")
    assert scan_mod._prefilter.cache_info().currsize == 1
    assert scan_mod._prefilter("kmsg", False, scan_mod.SMALL_FOR_RE - 1).engine in ("re2", "re")


def test_pipes_are_read_and_devices_refused(tmp_path):
    import threading

    fifo = tmp_path / "dmesg.fifo"
    os.mkfifo(fifo)

    def feed() -> None:
        with open(fifo, "wb") as fh:  # like <(dmesg | gzip): a compressed pipe
            fh.write(gzip.compress(KMSG))

    writer = threading.Thread(target=feed)
    writer.start()
    devices = ["/dev/null", "/dev/kmsg"] if os.path.exists("/dev/kmsg") else ["/dev/null"]
    result = scan_paths([str(fifo), *devices])
    writer.join(10)
    assert result.sources == [str(fifo)] and [i.kind for i in result.incidents] == ["oom_kill"]
    assert [e.message for e in result.errors] == [
        "is a device, not a log file", "is a device, not a log file: for the kernel ring buffer use --live",
    ][:len(devices)]
