"""OOM verdicts from ``oom_kill`` incidents shaped as the log engine's contract (DESIGN.md, issue 3/7).

End-to-end coverage with the real kernel's OOM reports is in ``test_oom_fixture.py`` and ``tests/real``.
"""

from __future__ import annotations

from typing import Optional

from kerncheck.logs.model import Incident
from kerncheck.oom.history import group_kills
from kerncheck.oom.rsstrend import Trend
from kerncheck.processes import Process

GiB_KB = 1 << 20


def kill(comm: str, pid: int, anon_kb: int, when: str, *, memcg: Optional[str] = "/app", limit_kb: Optional[int] = None,
         global_oom: bool = False, tasks: Optional[list[dict]] = None, count: int = 1) -> Incident:
    details = {
        "victim": {"pid": pid, "comm": comm, "uid": 0, "total_vm_kb": anon_kb * 2, "anon_rss_kb": anon_kb,
                   "file_rss_kb": 1024, "shmem_rss_kb": 0, "pgtables_kb": 100, "oom_score_adj": 0},
        "constraint": "CONSTRAINT_NONE" if global_oom else "CONSTRAINT_MEMCG",
        "global_oom": global_oom, "oom_memcg": None if global_oom else memcg, "task_memcg": memcg,
        "memcg_limit_kb": limit_kb, "memcg_usage_kb": limit_kb, "invoker": comm, "largest_tasks": tasks or [],
    }
    return Incident("oom_kill", "warning", f"OOM kill of {comm}", source="k", first_line=pid,
                    process={"pid": pid, "comm": comm}, first_seen=when, last_seen=when, count=count, details=details)


def names(group) -> list[str]:
    return [v.name for v in group.verdicts]


def test_recurring_and_growing_is_a_leak_not_a_limit_problem() -> None:
    incidents = [(kill("billing", 10, 47000, "+100.0s", limit_kb=49152), "current"),
                 (kill("billing", 11, 63000, "+160.0s", limit_kb=65536), "current"),
                 (kill("billing", 12, 95000, "+220.0s", limit_kb=98304), "current")]
    (group,) = group_kills(incidents, 16 * GiB_KB)
    assert group.kill_count == 3 and group.intervals() == [60.0, 60.0]
    assert names(group) == ["recurring_victim", "leak_suspected"]
    assert "raised 48M → 64M → 96M" in group.verdicts[1].reason
    assert group.severity == "critical" and "Find the leak" in group.next_step()
    assert "every 1 min (median)" in group.summary()


def test_same_size_kills_at_a_small_limit_mean_the_limit_is_too_low() -> None:
    incidents = [(kill("worker", p, 510000, f"2026-11-2{p}T10:00:00+00:00", limit_kb=524288), "current")
                 for p in (1, 2)]
    (group,) = group_kills(incidents, 64 * GiB_KB)
    assert names(group) == ["recurring_victim", "limit_too_low"]
    assert group.intervals() == [86400.0]


def test_victims_are_grouped_by_name_and_cgroup_across_boots() -> None:
    incidents = [(kill("java", 1, 100, "+5.0s", memcg="/a"), "-1"),
                 (kill("java", 2, 100, "+9.0s", memcg="/b"), "current"),
                 (kill("java", 3, 100, "+3.0s", memcg="/a"), "current")]
    groups = {g.memcg: g for g in group_kills(incidents, None)}
    assert [k.pid for k in groups["/a"].kills] == [1, 3]  # the previous boot first
    assert groups["/a"].intervals() == []  # "+Ns" of two boots cannot be compared
    assert groups["/b"].kill_count == 1 and groups["/b"].severity == "warning"


def test_global_oom_without_a_dominant_task_means_the_host_is_too_small() -> None:
    table = [{"pid": i, "uid": 0, "comm": f"w{i}", "rss_kb": 300000, "total_vm_kb": 0, "oom_score_adj": 0}
             for i in range(5)]
    (group,) = group_kills([(kill("w1", 1, 300000, "+1.0s", memcg=None, global_oom=True, tasks=table), "current")],
                           2 * GiB_KB)
    assert names(group) == ["host_undersized"]
    table[0]["rss_kb"] = 5000000
    (group,) = group_kills([(kill("w0", 0, 5000000, "+1.0s", memcg=None, global_oom=True, tasks=table), "current")],
                           2 * GiB_KB)
    assert names(group) == ["dominant_task"] and "w0 (pid 0)" in group.verdicts[0].reason


def test_folded_incidents_count_every_kill() -> None:
    (group,) = group_kills([(kill("cron-job", 5, 1000, "+1.0s", count=4), "current")], None)
    assert group.kill_count == 4 and names(group)[0] == "recurring_victim"


def test_rss_trend_fit_separates_growth_from_noise() -> None:
    proc = Process(1, "leaky", ("leaky",), 1000, 1, 0, None)
    growing = Trend(proc, [(t, 20000 + 800 * t) for t in range(10)])
    noisy = Trend(proc, [(t, 20000 + (300 if t % 2 else -300)) for t in range(10)])
    slope, r2 = growing.fit() or (0, 0)
    assert abs(slope - 800) < 1e-6 and r2 > 0.99 and growing.growing
    assert not noisy.growing and "keeps growing" in growing.describe()
    assert Trend(proc, [(0, 1), (1, 2)]).fit() is None
