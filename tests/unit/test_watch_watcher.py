"""The watch loop in-process on a real followed file: prefilter + engine + tracker + durable outbox.

Crashes are simulated by dropping a watcher without its shutdown (nothing saved after the last commit);
the restarted watcher must neither repeat nor lose an incident.
"""

from __future__ import annotations

import io
import time
from pathlib import Path

from kerncheck.watch.follow import FileFollower
from kerncheck.watch.settings import WatchSettings
from kerncheck.watch.sinks import StdoutSink
from kerncheck.watch.watcher import Watcher

PREFIX = "Nov 26 06:42:05 db1 kernel: "


def kern(*messages: str, ts: float = 1864.2) -> str:
    return "".join(f"{PREFIX}[{ts + i * 0.0001:12.6f}] {m}\n" for i, m in enumerate(messages))


def oom(comm: str, pid: int) -> list[str]:
    """A memory-cgroup OOM report as this machine's 6.18 kernel printed it (condensed)."""
    return [
        f"{comm} invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0",
        f"CPU: 1 UID: 0 PID: {pid} Comm: {comm} Not tainted 6.18.44-fc-v657 #1 PREEMPT(none) ",
        "Call Trace:",
        " <TASK>",
        " dump_stack_lvl+0x57/0x80",
        " dump_header+0x43/0x1c0",
        " oom_kill_process.cold+0x8/0x8a",
        " out_of_memory+0x214/0x500",
        " mem_cgroup_out_of_memory+0xc0/0x110",
        " try_charge_memcg+0x422/0x6f0",
        " </TASK>",
        "memory: usage 49152kB, limit 49152kB, failcnt 0",
        "Tasks state (memory values in pages):",
        "[  pid  ]   uid  tgid total_vm      rss rss_anon rss_file rss_shmem pgtables_bytes swapents "
        "oom_score_adj name",
        f"[  {pid}]     0 {pid}    14695    13715    12224     1491         0   159744        0             0 {comm}",
        f"oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/t,task_memcg=/t,"
        f"task={comm},pid={pid},uid=0",
        f"Memory cgroup out of memory: Killed process {pid} ({comm}) total-vm:58780kB, anon-rss:48896kB, "
        "file-rss:5964kB, shmem-rss:0kB, UID:0 pgtables:156kB oom_score_adj:0",
    ]


BENIGN = ["e1000e 0000:00:19.0 eth0: NIC Link is Up 1000 Mbps Full Duplex, Flow Control: Rx/Tx",
          "loop0: detected capacity change from 0 to 81920",
          "audit: type=1400 audit(1764139325.123:77): apparmor=\"STATUS\" operation=\"profile_load\""]


def io_error(sector: int) -> str:
    return f"I/O error, dev sdb, sector {sector} op 0x0:(READ) flags 0x0 phys_seg 1 prio class 0"


class Harness:
    def __init__(self, tmp: Path, log: Path, from_start: bool = False, **settings) -> None:
        self.out = io.StringIO()
        self.settings = WatchSettings(state_dir=str(tmp / "state"), audit_interval=0, **settings)
        self.w = Watcher(lambda pos: FileFollower(str(log), pos, from_start=from_start), str(log), self.settings,
                         [StdoutSink(self.out)], host="db1")

    def run(self, steps: int = 5) -> None:
        """Read what the file holds (already written: no waiting, so no quiet-time flush)."""
        for _ in range(steps):
            self.w.last_entry_at = time.time()
            self.w.step(0)

    def flush(self) -> None:
        """Past the quiet time after the last record, so an incident still open is closed."""
        self.w.last_entry_at -= 10
        self.w.step(0)

    def events(self) -> list[dict]:
        """Events released to the sinks (committed), in order."""
        items = self.w.outbox.wait("stdout", 100000, timeout=0)
        if items:
            self.w.outbox.delivered("stdout", items[-1].n)
        return [q.event for q in items]

    def crash(self) -> None:
        """Stop without saving anything more (as SIGKILL would); release the descriptors only."""
        self.w.follower.close()
        self.w.outbox.close()


def oom_events(events: list[dict]) -> list[str]:
    return [e["process"]["comm"] for e in events if e["kind"] == "oom_kill"]


def test_incidents_thresholds_and_userspace_lines(tmp_path):
    log = tmp_path / "kern.log"
    log.write_text(kern(*BENIGN))
    h = Harness(tmp_path, log, from_start=True)
    with open(log, "a") as fh:
        fh.write(kern(*BENIGN, *oom("java", 4242), *BENIGN))
        fh.write("Nov 26 06:42:06 db1 myapp[99]: EXT4-fs error (device sda1): not from the kernel\n")
        fh.write(kern(io_error(1), io_error(2), *BENIGN, io_error(3), *BENIGN))
    h.run()
    h.flush()
    events = h.events()
    assert oom_events(events) == ["java"]
    oom_event = next(e for e in events if e["kind"] == "oom_kill")
    assert oom_event["state"] == "open" and oom_event["host"] == "db1" and oom_event["process"]["pid"] == 4242
    assert oom_event["source"] == str(log)
    io = [e for e in events if e["kind"] in ("io_error", "medium_error")]
    assert len(io) == 1 and io[0]["device"] == "sdb"  # one alert, after the third error on sdb
    assert not any("not from the kernel" in str(e) for e in events)
    assert h.w.metrics.saved["records"] == 3 + 3 + len(oom("java", 1)) + 3 + 1 + 9  # skipped ones counted too
    h.w.shutdown()


def test_a_crash_in_the_middle_of_a_report_neither_loses_nor_repeats_it(tmp_path):
    log = tmp_path / "kern.log"
    log.write_text("")
    h = Harness(tmp_path, log)
    report = oom("postgres", 777)
    with open(log, "a") as fh:
        fh.write(kern(*BENIGN, *report[:8]))
    h.run()
    h.w.commit(0)  # the periodic save happens while the report is half read
    assert h.events() == []
    assert h.w.metrics.saved["records"] == 11
    h.crash()
    with open(log, "a") as fh:
        fh.write(kern(*report[8:], *BENIGN, ts=1865.0))
    h2 = Harness(tmp_path, log)
    h2.run()
    h2.flush()
    assert oom_events(h2.events()) == ["postgres"]
    h2.w.shutdown()


OOPS = ["BUG: kernel NULL pointer dereference, address: 0000000000000008",
        "#PF: supervisor read access in kernel mode",
        "#PF: error_code(0x0000) - not-present page",
        "Oops: 0000 [#1] PREEMPT SMP NOPTI",
        "CPU: 0 PID: 1234 Comm: insmod Tainted: G           O      6.1.0 #1",
        "RIP: 0010:crash_init+0x11/0x1000 [crashmod]",
        "Call Trace:",
        " <TASK>",
        " do_one_initcall+0x41/0x200",
        " do_init_module+0x4c/0x1f0",
        " </TASK>",
        "Modules linked in: crashmod(O+)",
        "---[ end trace 0000000000000000 ]---"]


def test_a_crash_after_emitting_does_not_emit_again_on_replay(tmp_path):
    log = tmp_path / "kern.log"
    log.write_text("")
    h = Harness(tmp_path, log)
    with open(log, "a") as fh:  # the oops is emitted when the OOM report opens: the builder never idles
        fh.write(kern(*OOPS, *oom("redis", 10)[:6]))
    h.run()
    assert not h.w.idle
    h.w.commit(0)
    first = [e["kind"] for e in h.events()]
    assert first == ["oops"]
    h.crash()
    with open(log, "a") as fh:
        fh.write(kern(*oom("redis", 10)[6:], *BENIGN, ts=1865.0))
    h2 = Harness(tmp_path, log)
    h2.run()
    h2.flush()
    assert [(e["kind"], (e.get("process") or {}).get("comm")) for e in h2.events()] == [("oom_kill", "redis")]
    assert h2.w.metrics.saved["incidents"] == {"oops|critical": 1, "oom_kill|warning": 1}
    assert {c.kind: c.count for c in h2.w.tracker.conditions()} == {"oops": 1, "oom_kill": 1}
    h2.w.shutdown()


def test_events_committed_but_not_delivered_before_a_crash_are_delivered_after(tmp_path):
    log = tmp_path / "kern.log"
    log.write_text("")
    h = Harness(tmp_path, log)
    with open(log, "a") as fh:
        fh.write(kern(*oom("java", 1), *BENIGN))
    h.run()
    h.flush()
    h.crash()  # the event was committed (saved with the state) but never taken by the sink
    h2 = Harness(tmp_path, log)
    h2.run()
    assert oom_events(h2.events()) == ["java"]
    h2.w.shutdown()
    h3 = Harness(tmp_path, log)  # delivered and acknowledged: never again
    h3.run()
    assert h3.events() == []
    h3.w.shutdown()


def test_folding_and_clearing_through_the_loop(tmp_path):
    log = tmp_path / "kern.log"
    log.write_text("")
    h = Harness(tmp_path, log, repeat_interval=3600)
    with open(log, "a") as fh:
        for pid in range(20):  # an OOM storm of one service: one condition
            fh.write(kern(*oom("java", 1000 + pid), ts=2000.0 + pid))
        fh.write(kern(*BENIGN, ts=2100.0))
    h.run(10)
    h.flush()
    events = h.events()
    assert oom_events(events) == ["java"]
    cond = next(iter(h.w.tracker.conditions()))
    assert cond.count == 20
    h.w.next_tick = 0
    cond.last_at = time.time() - 601  # quiet for longer than the oom_kill clear_after (600 s)
    h.w.step(0)
    resolved = h.events()
    assert [(e["state"], e["id"]) for e in resolved] == [("resolved", events[0]["id"])]
    assert resolved[0]["count"] == 20
    h.w.shutdown()

