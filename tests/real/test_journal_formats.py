"""Real journalctl output in every format the scanner reads, from a journal file written by
systemd-journal-remote (this machine runs no journald): json, short, short-iso, short-precise,
short-monotonic, short-iso-precise."""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest

from kerncheck.logs.records import detect_format, iter_records
from kerncheck.logs.scan import scan_bytes

pytestmark = pytest.mark.real
JOURNAL_REMOTE = "/lib/systemd/systemd-journal-remote"
BOOT = "454278dc735f40ab980c963e729b426e"
MESSAGES = [
    ("kernel", 3, b"EXT4-fs error (device sdb1): ext4_find_entry:1455: inode #2: comm ls: reading directory lblock 0"),
    ("kernel", 4, b"ata1.00: cmd 60/08:60:10:2d:2a/00:00:0c:00:00/40 tag 12 ncq dma 4096 in\n"
                  b"         res 41/40:00:10:2d:2a/00:00:0c:00:00/40 Emask 0x409 (media error) <F>"),
    ("syslog", 3, b"EXT4-fs error (device sda1): forged by a daemon"),
    ("kernel", 0, b"Kernel panic - not syncing: Fatal exception"),
    ("kernel", 4, b"caf\xc3\xa9 \xff not UTF-8"),
]


def _field(name: str, value: bytes) -> bytes:
    if b"\n" in value or any(c > 127 for c in value):
        return name.encode() + b"\n" + len(value).to_bytes(8, "little") + value + b"\n"
    return name.encode() + b"=" + value + b"\n"


@pytest.fixture(scope="module")
def journal(tmp_path_factory):
    if not shutil.which("journalctl") or not shutil.which(JOURNAL_REMOTE):
        pytest.skip("journalctl and systemd-journal-remote (Debian package systemd-journal-remote) are needed")
    path = tmp_path_factory.mktemp("journal") / "kernel.journal"
    now = int(time.time() * 1e6)
    export = b""
    for i, (transport, prio, message) in enumerate(MESSAGES):
        ident = b"kernel" if transport == "kernel" else b"smartd"
        export += (f"__REALTIME_TIMESTAMP={now + i}\n__MONOTONIC_TIMESTAMP={5000000 + i * 1000}\n_BOOT_ID={BOOT}\n"
                   f"_HOSTNAME=web1\n_TRANSPORT={transport}\nPRIORITY={prio}\n"
                   f"SYSLOG_FACILITY={0 if transport == 'kernel' else 3}\n").encode()
        export += b"SYSLOG_IDENTIFIER=" + ident + b"\n"
        if transport == "kernel":
            export += f"_SOURCE_MONOTONIC_TIMESTAMP={5000000 + i * 1000}\n".encode()
        export += _field("MESSAGE", message) + b"\n"
    done = subprocess.run([JOURNAL_REMOTE, f"--output={path}", "-"], input=export, capture_output=True, timeout=30)
    assert done.returncode == 0, done.stderr.decode()
    return path


def journalctl(path, fmt: str) -> bytes:
    done = subprocess.run(["journalctl", "--file", str(path), "-o", fmt, "--no-pager"], capture_output=True,
                          timeout=30, env={"TZ": "UTC", "LC_ALL": "C", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


def test_json(journal):
    data = journalctl(journal, "json")
    assert detect_format(data) == "journal-json"
    recs = list(iter_records(data, "j"))
    assert [r.level for r in recs] == [3, 4, 3, 0, 4]
    assert [r.userspace for r in recs] == [False, False, True, False, False]
    assert recs[1].text.count("\n") == 1 and recs[4].text == "café \ufffd not UTF-8"
    assert recs[0].ts_mono == pytest.approx(5.0)
    kinds = [(i.kind, i.first_line) for i in scan_bytes(data, "j").incidents]
    assert ("fs_error", 1) in kinds and ("panic", 4) in kinds
    assert not [i for i in scan_bytes(data, "j").incidents if i.device == "sda1"]


@pytest.mark.parametrize("fmt", ["short", "short-iso", "short-precise", "short-monotonic", "short-iso-precise"])
def test_short_formats(journal, fmt):
    data = journalctl(journal, fmt)
    assert detect_format(data) == "syslog", data.decode(errors="replace")
    recs = list(iter_records(data, "j"))
    assert len(recs) == 5 and [r.line for r in recs] == [1, 2, 4, 5, 6]
    assert recs[0].text.startswith("EXT4-fs error (device sdb1)") and recs[0].is_kernel
    assert recs[1].text.endswith("(media error) <F>") and recs[1].text.count("\n") == 1
    assert recs[2].userspace and recs[2].fields["SYSLOG_IDENTIFIER"] == "smartd"
    assert recs[3].text == "Kernel panic - not syncing: Fatal exception"
    result = scan_bytes(data, "j")
    assert {"fs_error", "panic"} <= {i.kind for i in result.incidents}
    assert not [i for i in result.incidents if i.device == "sda1"]  # the daemon's line is not kernel evidence
