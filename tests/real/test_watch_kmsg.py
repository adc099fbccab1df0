"""The kmsg follower on this machine's real /dev/kmsg: resume by sequence number, boot id, facility."""

from __future__ import annotations

import os
import uuid

import pytest

from kerncheck.watch.follow import KMSG_PATH, KmsgFollower, read_boot_id

pytestmark = pytest.mark.real


def kmsg_writable() -> None:
    if not os.access(KMSG_PATH, os.R_OK | os.W_OK):
        pytest.skip(f"{KMSG_PATH} is not readable and writable here (needs root)")


def inject(text: str) -> None:
    """A userspace line into the kernel log: facility LOG_USER whatever <N> prefix we give it."""
    with open(KMSG_PATH, "w") as fh:
        fh.write(text + "\n")


def read_until(f: KmsgFollower, marker: str, tries: int = 20) -> list:
    """``(raw record, seq)`` of the records read until one holds ``marker``."""
    got: list = []
    for _ in range(tries):
        got += [(b.data.decode(), b.line) for b in f.read(0.1)]
        if any(marker in raw for raw, _ in got):
            break
    return got


def test_user_line_is_read_from_the_end_with_its_user_facility():
    kmsg_writable()
    marker = f"kerncheck-test-{uuid.uuid4().hex[:8]}"
    f = KmsgFollower(None)
    try:
        inject(f"<3>EXT4-fs error (device sda1): {marker}")
        got = read_until(f, marker)
    finally:
        f.close()
    mine = [raw for raw, _ in got if marker in raw]
    assert len(mine) == 1
    prio = int(mine[0].split(",", 1)[0])
    assert prio >> 3 == 1  # LOG_USER: the kernel refuses facility 0 from userspace


def test_resume_in_the_same_boot_skips_what_was_handled():
    kmsg_writable()
    marker = f"kerncheck-test-{uuid.uuid4().hex[:8]}"
    f = KmsgFollower(None)
    try:
        inject(f"{marker} one")
        first = read_until(f, marker)
        pos = f.position_after(first[-1][1])  # the token of a kmsg block is its sequence number
        inject(f"{marker} two")
    finally:
        f.close()
    assert pos["boot_id"] == read_boot_id()
    again = KmsgFollower(pos)
    try:
        got = read_until(again, f"{marker} two")
    finally:
        again.close()
    assert [raw.split(";", 1)[1].strip() for raw, _ in got if marker in raw] == [f"{marker} two"]
    assert again.take_lost() == 0


def test_a_position_from_another_boot_reads_this_boot_from_its_oldest_record():
    kmsg_writable()
    f = KmsgFollower({"boot_id": "00000000-0000-0000-0000-000000000000", "seq": 10**9})
    try:
        got = [(b.data, b.line) for b in f.read(1)]
    finally:
        f.close()
    assert got, "the buffer of this boot is not empty"
    first_seq = got[0][1]
    # Whatever this boot logged before the oldest record still buffered counts as lost, nothing else.
    assert f.take_lost() >= first_seq
    assert [seq for _, seq in got] == sorted(seq for _, seq in got)


def test_records_lost_while_stopped_are_counted_and_raise_a_warning(tmp_path):
    """A saved position older than the oldest record still buffered (the ring buffer wrapped while the
    watcher was stopped): the gap becomes kerncheck_kmsg_lost_records_total and a warning event."""
    kmsg_writable()
    import io

    from kerncheck.watch.settings import WatchSettings
    from kerncheck.watch.sinks import StdoutSink
    from kerncheck.watch.watcher import Watcher

    probe = KmsgFollower(None, from_start=True)
    try:
        oldest = probe.read(1)[0].line
    finally:
        probe.close()
    settings = WatchSettings(state_dir=str(tmp_path / "state"), audit_interval=0)
    w = Watcher(lambda pos: KmsgFollower({"boot_id": read_boot_id(), "seq": oldest - 6}), "kmsg", settings,
                [StdoutSink(io.StringIO())])
    try:
        for _ in range(5):
            w.step(0.1)
        w.commit(0)
        events = [q.event for q in w.outbox.wait("stdout", 1000, timeout=0)]
    finally:
        w.shutdown()
    assert w.metrics.saved["lost"] == 5
    lost = [e for e in events if e.get("lost_records")]
    assert [(e["kind"], e["severity"], e["lost_records"]) for e in lost] == [("other", "warning", 5)]
    assert "5 kernel log records lost" in lost[0]["title"]
