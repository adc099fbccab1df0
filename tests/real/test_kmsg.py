"""The log engine against this machine's real kernel: its /dev/kmsg, a forged userspace line, a real OOM kill."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest

from kerncheck.host import LiveHost
from kerncheck.logs.records import iter_records
from kerncheck.logs.scan import scan_host
from kerncheck.logs.sources import live_kmsg

from .memcg import MemoryCgroup

pytestmark = pytest.mark.real
REPO = Path(__file__).resolve().parent.parent.parent


def _kmsg_or_skip() -> bytes:
    if not os.path.exists("/dev/kmsg"):
        pytest.skip("no /dev/kmsg on this machine")
    try:
        return live_kmsg(LiveHost())[1]
    except Exception as exc:  # permission (dmesg_restrict) or a container without the device
        pytest.skip(f"/dev/kmsg is not readable here: {exc}")


def scan_live(*extra: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "kerncheck", "scan", "--live", "--format", "json", *extra],
                          capture_output=True, text=True, timeout=120, cwd=str(REPO),
                          env=dict(os.environ, PYTHONPATH=str(REPO / "src")))
    assert done.returncode in (0, 1, 2), done.stderr
    assert "Traceback" not in done.stderr
    return json.loads(done.stdout)


def test_reads_the_real_ring_buffer():
    data = _kmsg_or_skip()
    records = list(iter_records(data, "/dev/kmsg"))
    assert records, "the ring buffer is never empty on a running kernel"
    assert all(r.seq is not None and r.level is not None for r in records)
    seqs = [r.seq for r in records]
    assert seqs == sorted(seqs)
    kernel = [r for r in records if r.is_kernel]
    assert kernel and all(r.facility == 0 for r in kernel)
    assert not any(r.text.startswith(" ") and "=" in r.text and r.text.split("=")[0].strip().isupper()
                   for r in records), "dictionary lines must go to fields, not text"
    result = scan_host(LiveHost())
    assert result.sources == ["/dev/kmsg"] and not result.errors
    assert result.records >= len(records) - 5  # the buffer moves on between the two reads
    assert result.lost_records >= 0


def _write_kmsg(line: bytes, marker: str, attempts: int = 20) -> None:
    """Write a line into /dev/kmsg until it shows up (userspace writes are rate-limited by default)."""
    for _ in range(attempts):
        with open("/dev/kmsg", "wb", buffering=0) as fh:
            fh.write(line)
        if marker.encode() in _kmsg_or_skip():
            return
        time.sleep(0.6)
    pytest.skip("userspace writes to /dev/kmsg are being rate-limited away (printk_devkmsg=ratelimit)")


def test_forged_error_line_from_userspace_is_not_kernel_evidence():
    _kmsg_or_skip()
    if os.geteuid() != 0:
        pytest.skip("writing /dev/kmsg needs root")
    marker = f"kerncheck-forged-{uuid.uuid4().hex[:8]}"
    _write_kmsg(f"<3>EXT4-fs error (device {marker}): ext4_find_entry:1455: inode #2: comm ls: forged\n".encode(),
                marker)
    (rec,) = [r for r in iter_records(_kmsg_or_skip(), "/dev/kmsg") if marker in r.text]
    assert rec.level == 3 and rec.facility == 1  # LOG_USER: userspace cannot write facility 0
    assert rec.userspace and not rec.is_kernel
    doc = scan_live()
    assert not [i for i in doc["incidents"] if marker in json.dumps(i)]
    shown = [i for i in scan_live("--include-userspace")["incidents"] if marker in json.dumps(i)]
    assert shown and all(i["userspace"] is True and i["title"].startswith("[userspace]") for i in shown)


def test_real_memcg_oom_kill_is_reported_with_the_victim():
    _kmsg_or_skip()
    comm = f"kcscan-{uuid.uuid4().hex[:6]}"
    with MemoryCgroup.create(limit_mb=48) as cg:
        victim = cg.oom_kill(comm=comm, allocate_mb=256)
    assert victim.returncode == -9
    deadline = time.monotonic() + 10
    while True:
        doc = scan_live()
        ours = [i for i in doc["incidents"] if i["kind"] == "oom_kill" and (i["process"] or {}).get("comm") == comm]
        if ours or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert ours, f"no oom_kill for {comm} in {[i['title'] for i in doc['incidents']]}"
    (incident,) = ours
    assert incident["process"] == {"pid": victim.pid, "comm": comm}
    assert incident["source"] == "/dev/kmsg" and incident["severity"] in ("warning", "critical")
    assert any(f"Killed process {victim.pid} ({comm})" in line for line in incident["evidence"])
    assert incident["first_line"] >= 1
    # This boot's records carry wall clock times (boot time + seconds since boot): it just happened.
    seen = datetime.fromisoformat(incident["first_seen"])
    assert abs((datetime.now(timezone.utc) - seen).total_seconds()) < 120
    recent = scan_live("--since", "10m")["incidents"]
    assert [i for i in recent if (i["process"] or {}).get("comm") == comm]


def test_unprivileged_live_scan_says_why(tmp_path):
    """As nobody, with kernel.dmesg_restrict=1 the ring buffer is closed: a clear message and exit 3."""
    import shutil

    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root (to drop to nobody) and setpriv")
    if Path("/proc/sys/kernel/dmesg_restrict").read_text().strip() != "1":
        pytest.skip("kernel.dmesg_restrict is 0 here: unprivileged users may read the ring buffer")
    done = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
                           sys.executable, "-m", "kerncheck", "scan", "--live"],
                          capture_output=True, text=True, timeout=60, cwd=str(REPO),
                          env=dict(os.environ, PYTHONPATH=str(REPO / "src")))
    assert done.returncode == 3
    assert "kerncheck scan: /dev/kmsg: permission denied (reading it needs root or CAP_SYSLOG" in done.stderr
    assert "Traceback" not in done.stderr
