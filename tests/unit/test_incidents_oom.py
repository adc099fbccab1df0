"""OOM kills from real kernel output: this machine's memory-cgroup OOM (raw /dev/kmsg, 6.18, cgroup v1),
the QEMU lab's global and cgroup v2 OOMs (Debian 6.1 console), and the kill-line variants of older eras
(3.10 "or sacrifice child", RHEL 7's ", UID N,", 4.19) from kernel-log-formats.md."""

# ruff: noqa: E501  (literal kernel log lines are kept whole)

from __future__ import annotations

from pathlib import Path

from kerncheck.logs.incidents import build_incidents
from kerncheck.logs.records import iter_records

DATA = Path(__file__).resolve().parent.parent / "data"


def incidents(data: bytes, fmt: str, source: str = "t"):
    return build_incidents(iter_records(data, source, fmt=fmt))


def test_real_memcg_oom_from_this_machines_kmsg():
    """Captured with tests/real/memcg.py (48 MiB cgroup v1 limit) from /dev/kmsg on kernel 6.18."""
    (inc,) = incidents((DATA / "kmsg" / "memcg-oom-v1-6.18.kmsg").read_bytes(), "kmsg")
    assert inc.kind == "oom_kill" and inc.severity == "warning"
    assert inc.process == {"pid": 11733, "comm": "kc-oom-victim"}
    assert inc.first_line == 1
    d = inc.details
    assert d["victim"] == {"pid": 11733, "comm": "kc-oom-victim", "uid": 0, "total_vm_kb": 58780,
                           "anon_rss_kb": 48896, "file_rss_kb": 6036, "shmem_rss_kb": 0, "pgtables_kb": 152,
                           "oom_score_adj": 0}
    assert d["constraint"] == "CONSTRAINT_MEMCG" and d["global_oom"] is False
    assert d["oom_memcg"] == d["task_memcg"] == "/kerncheck-test-326dbd04"
    assert (d["memcg_usage_kb"], d["memcg_limit_kb"]) == (49152, 49152)
    assert d["invoker"] == "kc-oom-victim" and d["gfp_mask"] == "0xcc0(GFP_KERNEL)" and d["order"] == 0
    # 6.18's table has rss_anon/rss_file/rss_shmem columns; rss is 13733 pages of 4 KiB.
    assert d["largest_tasks"] == [{"pid": 11733, "uid": 0, "comm": "kc-oom-victim", "rss_kb": 13733 * 4,
                                   "total_vm_kb": 14695 * 4, "oom_score_adj": 0}]
    assert inc.function is None  # the culprit of an OOM kill is its victim, not a stack frame
    assert "/kerncheck-test-326dbd04" in inc.title and "48 MiB" in inc.advice
    assert any(e.startswith("Memory cgroup out of memory: Killed process 11733") for e in inc.evidence)


def test_qemu_global_oom():
    (inc,) = incidents((DATA / "qemu" / "oom.log").read_bytes(), "console", "oom.log")
    assert inc.kind == "oom_kill" and inc.process == {"pid": 95, "comm": "tail"}
    d = inc.details
    assert d["constraint"] == "CONSTRAINT_NONE" and d["global_oom"] is True and d["oom_memcg"] is None
    assert d["victim"]["anon_rss_kb"] == 179152 and d["victim"]["shmem_rss_kb"] == 1344
    assert d["largest_tasks"][0] == {"pid": 95, "uid": 0, "comm": "tail", "rss_kb": 45125 * 4,
                                     "total_vm_kb": 45376 * 4, "oom_score_adj": 0}
    assert "system-wide" in inc.title and "whole machine" in inc.advice


def test_qemu_memcg_oom_cgroup_v2():
    (inc,) = incidents((DATA / "qemu" / "memcg_oom.log").read_bytes(), "console", "memcg_oom.log")
    assert inc.process == {"pid": 97, "comm": "tail"}
    assert inc.details["oom_memcg"] == "/box" and inc.details["memcg_limit_kb"] == 32768


def test_el7_kill_line_with_uid():
    text = (b"Out of memory: Kill process 4321 (java) score 912 or sacrifice child\n"
            b"Killed process 4321 (java), UID 1000, total-vm:8123456kB, anon-rss:3712000kB, file-rss:0kB, "
            b"shmem-rss:0kB\n")
    (inc,) = incidents(text, "console")
    v = inc.details["victim"]
    assert (v["pid"], v["comm"], v["uid"], v["anon_rss_kb"], v["shmem_rss_kb"]) == (4321, "java", 1000, 3712000, 0)
    assert inc.details["global_oom"] is True


def test_3_10_kill_lines_without_shmem():
    text = (b"[ 1234.567890] Out of memory: Kill process 812 (mysqld) score 811 or sacrifice child\n"
            b"[ 1234.567990] Killed process 812 (mysqld) total-vm:2455916kB, anon-rss:1608340kB, file-rss:0kB\n")
    (inc,) = incidents(text, "dmesg")
    assert inc.process == {"pid": 812, "comm": "mysqld"}
    assert inc.details["victim"]["shmem_rss_kb"] is None and inc.details["victim"]["uid"] is None
    assert inc.first_line == 1


def test_4_19_memcg_report_without_summary_line():
    """4.19 prints "Task in … killed as a result of limit of …" and no oom-kill: summary."""
    text = b"""[  100.000001] stress invoked oom-killer: gfp_mask=0x6000c0(GFP_KERNEL), nodemask=(null), order=0, oom_score_adj=0
[  100.000002] stress cpuset=/ mems_allowed=0
[  100.000003] Task in /kubepods/pod1/c1 killed as a result of limit of /kubepods/pod1
[  100.000004] memory: usage 102400kB, limit 102400kB, failcnt 71
[  100.000005] Tasks state (memory values in pages):
[  100.000006] [  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name
[  100.000007] [   4321]  1000  4321    27014    25600   253952        0           999 stress
[  100.000008] Memory cgroup out of memory: Kill process 4321 (stress) score 1999 or sacrifice child
[  100.000009] Killed process 4321 (stress) total-vm:108056kB, anon-rss:102140kB, file-rss:260kB, shmem-rss:0kB
"""
    (inc,) = incidents(text, "dmesg")
    d = inc.details
    assert d["oom_memcg"] == "/kubepods/pod1" and d["task_memcg"] == "/kubepods/pod1/c1"
    assert d["constraint"] == "CONSTRAINT_MEMCG" and d["global_oom"] is False
    assert d["victim"]["uid"] == 1000 and d["victim"]["oom_score_adj"] == 999  # from the task table
    assert d["gfp_mask"] == "0x6000c0(GFP_KERNEL)"


def test_kill_line_alone_still_reports_the_victim():
    """A report whose header scrolled out of the ring buffer: the kill line is enough."""
    text = (b"<3>[  748.1] Out of memory: Killed process 4321 (java) total-vm:8123456kB, anon-rss:2097152kB, "
            b"file-rss:20480kB, shmem-rss:0kB, UID:1000 pgtables:4560kB oom_score_adj:999\n")
    (inc,) = incidents(text, "dmesg")
    assert inc.kind == "oom_kill" and inc.details["victim"]["oom_score_adj"] == 999


def test_two_oom_kills_are_two_incidents():
    one = (DATA / "kmsg" / "memcg-oom-v1-6.18.kmsg").read_bytes()
    found = incidents(one + one, "kmsg")
    assert [i.kind for i in found] == ["oom_kill", "oom_kill"]
    assert found[1].first_line == one.count(b"\n") + 1
