"""The durable event queue: commit visibility, crash truncation, per-sink cursors, bounded backlog."""

from __future__ import annotations

import os

from kerncheck.watch.outbox import Outbox


def _drain(box: Outbox, sink: str) -> list[int]:
    items = box.wait(sink, 1000, timeout=0)
    if items:
        box.delivered(sink, items[-1].n)
    return [q.event["i"] for q in items]


def test_staged_events_reach_sinks_only_after_release(tmp_path):
    box = Outbox(str(tmp_path), {"stdout": "stdout"}, queue_max=100)
    box.stage({"i": 1})
    assert box.wait("stdout", 10, timeout=0) == []
    box.prepare()
    assert box.wait("stdout", 10, timeout=0) == []
    box.release()
    assert _drain(box, "stdout") == [1]
    assert _drain(box, "stdout") == []


def test_uncommitted_tail_is_cut_at_restart_and_cursors_survive(tmp_path):
    d = str(tmp_path)
    box = Outbox(d, {"stdout": "stdout", "am": "alertmanager"}, queue_max=100)
    for i in range(3):
        box.stage({"i": i})
    committed = box.prepare()
    box.release()
    assert _drain(box, "stdout") == [0, 1, 2]
    box.stage({"i": 99})  # written, but the state naming it was never saved: a crash here
    box.prepare()
    box.close()

    again = Outbox(d, {"stdout": "stdout", "am": "alertmanager"}, queue_max=100, committed=committed)
    assert again.next_n == 4  # event 99 is produced again from the replayed records, with the same number
    assert _drain(again, "stdout") == []  # delivered before the crash: not again
    assert _drain(again, "am") == [0, 1, 2]  # never delivered to this sink: still there


def test_refresh_events_go_only_to_the_sink_kinds_named(tmp_path):
    box = Outbox(str(tmp_path), {"stdout": "stdout", "am": "alertmanager"}, queue_max=100)
    box.stage({"i": 1})
    box.stage({"i": 2}, to=("alertmanager",))
    box.prepare()
    box.release()
    assert _drain(box, "stdout") == [1]
    assert _drain(box, "am") == [1, 2]


def test_backlog_is_bounded_and_drops_the_oldest(tmp_path):
    box = Outbox(str(tmp_path), {"hook": "webhook"}, queue_max=5)
    for i in range(12):
        box.stage({"i": i})
    box.prepare()
    box.release()
    assert box.dropped["hook"] == 7
    assert _drain(box, "hook") == [7, 8, 9, 10, 11]


def test_a_new_sink_does_not_get_the_history(tmp_path):
    d = str(tmp_path)
    box = Outbox(d, {"stdout": "stdout"}, queue_max=100)
    box.stage({"i": 1})
    committed = box.prepare()
    box.release()
    box.close()
    again = Outbox(d, {"stdout": "stdout", "hook": "webhook"}, queue_max=100, committed=committed)
    assert _drain(again, "hook") == []
    assert _drain(again, "stdout") == [1]


def test_compaction_keeps_undelivered_events_and_removes_the_old_log(tmp_path, monkeypatch):
    import kerncheck.watch.outbox as outbox_mod

    monkeypatch.setattr(outbox_mod, "COMPACT_BYTES", 2000)
    d = str(tmp_path)
    box = Outbox(d, {"a": "stdout", "b": "webhook"}, queue_max=1000)
    for i in range(100):
        box.stage({"i": i, "pad": "x" * 20})
    box.prepare()
    box.release()
    box.delivered("a", 100)
    box.delivered("b", 90)
    box.stage({"i": 100, "pad": ""})
    committed = box.prepare()
    box.release()
    assert committed["generation"] == 1
    assert sorted(os.listdir(d)) == ["cursor.a", "cursor.b", "events.1.jsonl"]
    box.close()
    again = Outbox(d, {"a": "stdout", "b": "webhook"}, queue_max=1000, committed=committed)
    assert _drain(again, "b") == list(range(90, 101))
    assert _drain(again, "a") == [100]
