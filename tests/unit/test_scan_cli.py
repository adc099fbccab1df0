"""``kerncheck scan`` as a user runs it: exit statuses, text/json/jsonl output, filters, bad sources."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from kerncheck.cli import main
from kerncheck.commands.scan import parse_since

from .test_records import KMSG

REPO = Path(__file__).resolve().parent.parent.parent
PANIC = b"[    2.345678] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)\n"
EXT4 = b"<3>[  748.123456] EXT4-fs error (device sda1): ext4_find_entry:1455: inode #2: comm ls: reading directory\n"
QUIET = b"[    0.000000] Linux version 6.1.0-18-amd64 (debian-kernel@lists.debian.org)\n"


def write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_exit_statuses_follow_the_worst_incident(tmp_path, capsys):
    assert main(["scan", write(tmp_path, "quiet.log", QUIET)]) == 0
    assert main(["scan", write(tmp_path, "oom.log", KMSG)]) == 1  # an OOM kill is a warning
    assert main(["scan", write(tmp_path, "panic.log", PANIC)]) == 2
    assert main(["scan", str(tmp_path / "missing.log")]) == 3
    err = capsys.readouterr().err
    assert f"kerncheck scan: {tmp_path / 'missing.log'}: no such file" in err


def test_json_output_is_the_scan_contract(tmp_path, capsys):
    panic, oom = write(tmp_path, "panic.log", PANIC), write(tmp_path, "oom.log", KMSG)
    assert main(["scan", "--format", "json", panic, oom, str(tmp_path / "nope")]) == 2
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert doc["schema"] == "kerncheck.scan/1" and doc["sources"] == [panic, oom]
    # Ordered by source name, then line; "sources" keeps the order given.
    assert [(i["source"], i["kind"]) for i in doc["incidents"]] == [(oom, "oom_kill"), (panic, "panic")]
    assert doc["records"] == 7 and doc["lost_records"] == 601
    assert "nope: no such file" in captured.err


def test_jsonl_is_one_incident_per_line(tmp_path, capsys):
    main(["scan", "--format", "jsonl", write(tmp_path, "a.log", PANIC + EXT4)])
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["kind"] for line in lines] == ["panic", "fs_error"]


def test_text_report_groups_by_severity(tmp_path, capsys):
    main(["scan", write(tmp_path, "a.log", KMSG + b"3,700,900000000,-;Kernel panic - not syncing: Fatal exception\n")])
    out = capsys.readouterr().out
    assert out.index("CRITICAL") < out.index("WARNING")
    assert "advice:" in out and "kc-oom-victim" in out and "\x1b[" not in out  # no colour off a terminal
    assert "2 incident(s): 1 critical, 1 warning, 0 info" in out


def test_filters(tmp_path, capsys):
    log = write(tmp_path, "a.log", KMSG + b"3,700,900000000,-;Kernel panic - not syncing: Fatal exception\n")
    assert main(["scan", "--format", "json", "--min-severity", "critical", log]) == 2
    assert [i["kind"] for i in json.loads(capsys.readouterr().out)["incidents"]] == ["panic"]
    iso = write(tmp_path, "iso.log", b"2026-11-20T05:02:29,123456+00:00 Kernel panic - not syncing: old\n"
                                     b"2026-11-26T05:02:29,123456+00:00 EXT4-fs error (device sda1): x:1: comm a: b\n")
    assert main(["scan", "--format", "json", "--since", "2026-11-25", iso]) == 2  # fs errors are critical
    assert [i["kind"] for i in json.loads(capsys.readouterr().out)["incidents"]] == ["fs_error"]
    assert main(["scan", "--since", "last tuesday", iso]) == 3
    assert "cannot read --since" in capsys.readouterr().err


def test_parse_since():
    now = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)
    assert parse_since("2h", now) == now - timedelta(hours=2)
    assert parse_since("3d", now) == now - timedelta(days=3)
    assert parse_since("today", now) == datetime(2026, 11, 26, tzinfo=timezone.utc)
    assert parse_since("2026-11-25T10:00:00+01:00", now) == datetime(2026, 11, 25, 9, tzinfo=timezone.utc)
    assert parse_since("2026-11-25 10:00", now).tzinfo is not None


def test_input_format_override_and_unknown_format(tmp_path, capsys):
    log = write(tmp_path, "a.txt", b"Kernel panic - not syncing: x\n")
    assert main(["scan", "--input-format", "dmesg", log]) == 2
    assert main(["scan", "--input-format", "xml", log]) == 3
    assert "unknown input format 'xml'" in capsys.readouterr().err


def test_userspace_lines_only_with_include_userspace(tmp_path, capsys):
    log = write(tmp_path, "x.log", b"user  :err   : [ 1285.734304] EXT4-fs error (device sda1): kerncheck-test\n")
    assert main(["scan", "--format", "json", log]) == 0
    assert json.loads(capsys.readouterr().out)["incidents"] == []
    assert main(["scan", "--format", "json", "--include-userspace", log]) == 0  # shown, never a verdict
    (incident,) = json.loads(capsys.readouterr().out)["incidents"]
    assert incident["userspace"] is True and incident["title"].startswith("[userspace]")


def test_standard_input(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(PANIC)))
    assert main(["scan", "--format", "json", "-"]) == 2
    assert json.loads(capsys.readouterr().out)["sources"] == ["<stdin>"]


def test_boot_without_journald_says_why(monkeypatch, capsys, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))  # no journalctl at all
    assert main(["scan", "--boot", "-1"]) == 3
    captured = capsys.readouterr()
    assert "journalctl is not installed" in captured.err
    assert "Nothing scanned: no source could be read" in captured.out


@pytest.mark.skipif(shutil.which("journalctl") is None, reason="journalctl is not installed")
def test_boot_that_journald_does_not_have(capsys):
    # This machine runs no journald: journalctl finds no such boot (or no journal files at all).
    assert main(["scan", "--boot", "-99"]) == 3
    err = capsys.readouterr().err
    assert "journalctl -k -b -99: journald" in err


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root and setpriv")
def test_unreadable_file_as_an_unprivileged_user(tmp_path):
    shared = Path(subprocess.run(["mktemp", "-d", "/tmp/kc-scan-XXXXXX"], capture_output=True, text=True,
                                 check=True).stdout.strip())
    try:
        shared.chmod(0o755)
        secret, fine = shared / "secret.log", shared / "fine.log"
        secret.write_bytes(PANIC)
        secret.chmod(0o000)
        fine.write_bytes(KMSG)
        fine.chmod(0o644)
        nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable]
        probe = subprocess.run([*nobody, "-c", "pass"], capture_output=True, text=True, timeout=30, check=False)
        if probe.returncode != 0:
            pytest.skip(f"this interpreter cannot run as nobody: {probe.stderr.strip()[:200]}")
        done = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-m",
                               "kerncheck", "scan", "--format", "json", str(secret), str(fine)],
                              capture_output=True, text=True, timeout=60, cwd=str(REPO),
                              env=dict(os.environ, PYTHONPATH=str(REPO / "src")))
    finally:
        shutil.rmtree(shared)
    assert done.returncode == 1, done.stderr
    assert f"{secret}: permission denied" in done.stderr and "Traceback" not in done.stderr
    assert json.loads(done.stdout)["sources"] == [str(fine)]


def test_progress_bar_only_on_a_terminal_and_for_large_inputs(tmp_path):
    import pty

    from kerncheck.commands.scan import PROGRESS_MIN_BYTES

    line = b"[    1.000000] usb 1-1: new high-speed USB device number 2 using xhci_hcd\n"
    big = write(tmp_path, "big.log", line * (PROGRESS_MIN_BYTES // len(line) + 1000) + PANIC)
    argv = [sys.executable, "-m", "kerncheck", "scan", "--format", "json", big]
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"), COLUMNS="100")
    piped = subprocess.run(argv, capture_output=True, timeout=120, env=env)
    assert piped.returncode == 2 and piped.stderr == b""
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=slave, env=env)
        os.close(slave)
        out, _ = proc.communicate(timeout=120)
        seen = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(master)
    assert proc.returncode == 2 and json.loads(out)["incidents"][0]["kind"] == "panic"
    assert b"scanning" in seen
