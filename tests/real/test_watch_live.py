"""``kerncheck watch`` on this machine's real /dev/kmsg with real memory-cgroup OOM kills.

A userspace line is never alerted as kernel; an OOM kill reaches stdout and a webhook within 2 s; a watcher
killed with SIGKILL and restarted neither repeats nor loses an incident; a webhook receiver that is down for
30 s gets every alert exactly once when it comes back.
"""

from __future__ import annotations

import os
import signal
import time
import uuid

import pytest

from tests.real.memcg import MemoryCgroup
from tests.real.watchproc import Receiver, WatchProcess, free_port

pytestmark = pytest.mark.real


@pytest.fixture
def kmsg():
    if not os.access("/dev/kmsg", os.R_OK | os.W_OK):
        pytest.skip("/dev/kmsg is not readable and writable here (needs root)")


@pytest.fixture
def memcg():
    with MemoryCgroup.create(limit_mb=48) as cg:
        yield cg


def victim_name() -> str:
    return f"kcw{uuid.uuid4().hex[:8]}"  # ≤ 15 chars: the kernel's comm


def oom_of(comm: str):
    return lambda e: e["kind"] == "oom_kill" and (e.get("process") or {}).get("comm") == comm


def test_user_line_is_not_alerted_and_a_real_oom_kill_is_within_2s(kmsg, memcg, tmp_path):
    marker = uuid.uuid4().hex[:8]
    hook = Receiver(free_port())
    hook.start()
    try:
        with WatchProcess(tmp_path, "--source", "kmsg", "--webhook", f"http://127.0.0.1:{hook.port}/k") as w:
            userspace_before = w.metric("kerncheck_userspace_records_total")
            with open("/dev/kmsg", "w") as fh:  # looks like kernel errors, but comes from userspace
                fh.write(f"<2>EXT4-fs error (device sda1): ext4_find_entry:1455: inode #2: comm {marker}: "
                         "reading directory lblock 0\n")
            with open("/dev/kmsg", "w") as fh:
                fh.write(f"<0>Kernel panic - not syncing: {marker}\n")
            comm = victim_name()
            victim = memcg.oom_kill(comm=comm)
            killed_at = time.monotonic()
            arrived, event = w.wait_for(oom_of(comm), timeout=10)
            assert arrived - killed_at <= 2.0, f"OOM event after {arrived - killed_at:.2f}s"
            assert event["process"]["pid"] == victim.pid
            assert event["state"] == "open" and event["id"] and event["source"] == "/dev/kmsg"
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and not any(e["id"] == event["id"] for e in hook.events()):
                time.sleep(0.05)
            assert [e["id"] for e in hook.events() if e["id"] == event["id"]] == [event["id"]]
            assert w.metric("kerncheck_userspace_records_total") >= userspace_before + 2
            assert not [e for _, e in w.events if marker in str(e)], "a userspace line was alerted as kernel"
            sample = 'kerncheck_incidents_total{kind="oom_kill",severity="' + event["severity"] + '"}'
            assert w.metric(sample) >= 1
    finally:
        hook.stop()


def test_sigkill_and_restart_neither_repeats_nor_loses_an_incident(kmsg, memcg, tmp_path):
    first, second, third = victim_name(), victim_name(), victim_name()
    w = WatchProcess(tmp_path, "--source", "kmsg")
    try:
        memcg.oom_kill(comm=first)
        w.wait_for(oom_of(first), timeout=10)
        time.sleep(1.2)  # let the position be saved once after the incident (COMMIT_EVERY)
    finally:
        w.stop(signal.SIGKILL)
    memcg.oom_kill(comm=second)  # while the watcher is down
    w2 = WatchProcess(tmp_path, "--source", "kmsg")
    try:
        w2.wait_for(oom_of(second), timeout=10)
        memcg.oom_kill(comm=third)
        w2.wait_for(oom_of(third), timeout=10)
        time.sleep(0.5)
    finally:
        w2.stop()
    seen = [e["process"]["comm"] for _, e in w.events + w2.events
            if e["kind"] == "oom_kill" and e["process"]["comm"] in (first, second, third)]
    assert sorted(seen) == sorted([first, second, third]), seen


def test_sigkill_mid_delivery_replays_without_duplicates(kmsg, memcg, tmp_path):
    """Killed right after the OOM report is read (before the periodic save): the restart replays the
    records since the last checkpoint and must recognise the incident it already emitted."""
    comm = victim_name()
    w = WatchProcess(tmp_path, "--source", "kmsg")
    try:
        memcg.oom_kill(comm=comm)
        w.wait_for(oom_of(comm), timeout=10)
    finally:
        w.stop(signal.SIGKILL)
    w2 = WatchProcess(tmp_path, "--source", "kmsg")
    try:
        time.sleep(1.5)
    finally:
        w2.stop()
    seen = [e for _, e in w.events + w2.events if e["kind"] == "oom_kill" and e["process"]["comm"] == comm]
    assert len(seen) == 1, seen


def test_webhook_outage_of_30s_delivers_every_alert_exactly_once(kmsg, memcg, tmp_path):
    port = free_port()
    hook = Receiver(port)  # not started: the receiver is down
    comms = [victim_name() for _ in range(3)]
    with WatchProcess(tmp_path, "--source", "kmsg", "--webhook", f"http://127.0.0.1:{port}/hook") as w:
        down_at = time.monotonic()
        for comm in comms:
            memcg.oom_kill(comm=comm)
            w.wait_for(oom_of(comm), timeout=10)
        failures_name = next(line.split("{", 1)[1].split("}", 1)[0] for line in w.metrics().splitlines()
                             if line.startswith('kerncheck_sink_queue_events{sink="webhook-'))
        assert w.metric(f"kerncheck_sink_queue_events{{{failures_name}}}") >= 3
        time.sleep(max(0.0, 30 - (time.monotonic() - down_at)))
        assert hook.events() == []
        hook.start()
        try:
            deadline = time.monotonic() + 40  # the next retry comes within the 30 s backoff cap
            while time.monotonic() < deadline and len([e for e in hook.events() if
                                                       (e.get("process") or {}).get("comm") in comms]) < 3:
                time.sleep(0.2)
            time.sleep(1)
            got = [e["process"]["comm"] for e in hook.events() if (e.get("process") or {}).get("comm") in comms]
            assert got == comms  # each once, in order
            assert w.metric(f"kerncheck_sink_failures_total{{{failures_name}}}") >= 1
        finally:
            hook.stop()
