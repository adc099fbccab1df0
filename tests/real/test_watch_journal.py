"""The journal follower against real ``journalctl -f -o json --after-cursor`` on a real journal file.

This machine runs no journald; systemd-journal-remote (Debian package of that name) writes kernel
entries in journal export format into a journal file, and the follower runs journalctl on that file.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time

import pytest

from kerncheck.watch.follow import JournalFollower

pytestmark = pytest.mark.real
JOURNAL_REMOTE = "/lib/systemd/systemd-journal-remote"
BOOT = "454278dc735f40ab980c963e729b426e"


def append_entries(path, messages, start=0, facility=0):
    if not shutil.which("journalctl") or not shutil.which(JOURNAL_REMOTE):
        pytest.skip("journalctl and systemd-journal-remote (Debian package systemd-journal-remote) are needed")
    now = int(time.time() * 1e6)
    transport = "kernel" if facility == 0 else "syslog"
    data = "".join(
        f"__REALTIME_TIMESTAMP={now + i}\n__MONOTONIC_TIMESTAMP={1000000 + start + i}\n_BOOT_ID={BOOT}\n"
        f"_TRANSPORT={transport}\nSYSLOG_FACILITY={facility}\nSYSLOG_IDENTIFIER=kernel\nPRIORITY=3\n"
        f"_SOURCE_MONOTONIC_TIMESTAMP={1000000 + start + i}\nMESSAGE={msg}\n\n"
        for i, msg in enumerate(messages))
    done = subprocess.run([JOURNAL_REMOTE, f"--output={path}", "-"], input=data.encode(), capture_output=True,
                          timeout=30)
    assert done.returncode == 0, done.stderr.decode()


def read_all(f: JournalFollower, n: int, timeout: float = 10) -> list:
    """``(message, block, offset after the entry, line after it)`` of the next ``n`` entries."""
    got: list = []
    deadline = time.monotonic() + timeout
    while len(got) < n and time.monotonic() < deadline:
        for block in f.read(0.2):
            pos, line = 0, block.line
            for raw in block.data.splitlines(keepends=True):
                pos, line = pos + len(raw), line + 1
                got.append((json.loads(raw)["MESSAGE"], block, pos, line))
    return got


def test_follows_kernel_entries_and_resumes_after_the_saved_cursor(tmp_path):
    journal = tmp_path / "kernel.journal"
    append_entries(journal, ["first", "second"])
    f = JournalFollower(None, from_start=True, extra_args=("--file", str(journal)))
    try:
        got = read_all(f, 2)
        assert [g[0] for g in got] == ["first", "second"]
        pos = f.position_after(f.token(*got[0][1:]))  # only "first" handled
        append_entries(journal, ["third"], start=2, facility=1)  # userspace: not -k
        append_entries(journal, ["fourth"], start=3)
        assert [g[0] for g in read_all(f, 1)] == ["fourth"]
    finally:
        f.close()
    assert pos["cursor"].startswith("s=") and pos["line"] == 1
    again = JournalFollower(pos, extra_args=("--file", str(journal)))
    try:
        got = read_all(again, 2)
    finally:
        again.close()
    assert [g[0] for g in got] == ["second", "fourth"]
    assert [g[3] - 1 for g in got] == [2, 3]  # line numbers continue from the saved position


OOM_LINES = [
    "{comm} invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0",
    "CPU: 1 UID: 0 PID: {pid} Comm: {comm} Not tainted 6.18.44-fc-v657 #1 PREEMPT(none) ",
    "Call Trace:",
    " <TASK>",
    " dump_stack_lvl+0x57/0x80",
    " oom_kill_process.cold+0x8/0x8a",
    " out_of_memory+0x214/0x500",
    " </TASK>",
    "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/t,task_memcg=/t,"
    "task={comm},pid={pid},uid=0",
    "Memory cgroup out of memory: Killed process {pid} ({comm}) total-vm:58780kB, anon-rss:48896kB, "
    "file-rss:5964kB, shmem-rss:0kB, UID:0 pgtables:156kB oom_score_adj:0",
]


def test_the_watcher_on_journal_resumes_after_its_cursor_without_repeating(tmp_path):
    import signal

    from tests.real.watchproc import WatchProcess

    journal = tmp_path / "kernel.journal"
    append_entries(journal, [line.format(comm="first", pid=11) for line in OOM_LINES] + ["eth0: link up"])
    args = ("--source", "journal", "--journal-file", str(journal), "--from-start")
    w = WatchProcess(tmp_path, *args)
    try:
        w.wait_for(lambda e: e["kind"] == "oom_kill" and e["process"]["comm"] == "first", 10)
        time.sleep(1.2)  # the position is saved at least once a second
    finally:
        w.stop(signal.SIGKILL)
    append_entries(journal, [line.format(comm="second", pid=12) for line in OOM_LINES] + ["eth0: link up"],
                   start=100)
    w2 = WatchProcess(tmp_path, *args)
    try:
        w2.wait_for(lambda e: e["kind"] == "oom_kill" and e["process"]["comm"] == "second", 10)
        time.sleep(0.5)
    finally:
        w2.stop()
    comms = [e["process"]["comm"] for _, e in w.events + w2.events if e["kind"] == "oom_kill"]
    assert comms == ["first", "second"]
    assert all(e["source"] == "journal" for _, e in w.events + w2.events)


def test_the_system_journal_live(tmp_path):
    """On a machine whose journald reads the kernel log: a real OOM kill reaches the watcher through it."""
    import os

    from tests.real.memcg import MemoryCgroup
    from tests.real.watchproc import WatchProcess

    if not os.path.exists("/run/systemd/journal/socket") or not shutil.which("journalctl"):
        pytest.skip("no journald runs on this machine (no /run/systemd/journal/socket): the journal follower "
                    "is tested above on journal files written by systemd-journal-remote")
    with MemoryCgroup.create(limit_mb=48) as cg, WatchProcess(tmp_path, "--source", "journal") as w:
        victim = cg.oom_kill(comm="kcjournal")
        _, event = w.wait_for(lambda e: e["kind"] == "oom_kill" and e["process"]["comm"] == "kcjournal", 15)
        assert event["process"]["pid"] == victim.pid and event["source"] == "journal"
