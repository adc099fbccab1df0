"""Followers on real files: tail across rotation and truncation, resume from a saved position."""

from __future__ import annotations

import os
import threading
import time

import pytest

from kerncheck.watch.follow import FileFollower, JournalFollower, SequenceGaps, SourceError


def texts(blocks):
    return [line.decode() for b in blocks for line in b.data.splitlines()]


def append(path, *lines):
    with open(path, "a") as fh:
        fh.write("".join(line + "\n" for line in lines))


def test_sequence_gaps_skip_handled_records_and_count_lost_ones():  # the kmsg follower's bookkeeping
    g = SequenceGaps(skip_upto=10, last=10)
    assert [s for s in (9, 10, 11, 15, 16) if g.accept(s)] == [11, 15, 16]
    assert g.lost == 3
    fresh = SequenceGaps()  # started at the end: the first record is the baseline, nothing lost
    assert fresh.accept(500) and fresh.lost == 0
    new_boot = SequenceGaps(last=-1)  # a new boot read from the oldest record: 0..41 left the buffer
    assert new_boot.accept(42) and new_boot.lost == 42


def test_starts_at_the_end_without_a_position_and_reads_new_lines(tmp_path):
    log = tmp_path / "kern.log"
    append(log, "old line")
    f = FileFollower(str(log), None)
    try:
        assert f.read(0) == []
        append(log, "new 1", "new 2")
        got = f.read(1)
        assert texts(got) == ["new 1", "new 2"]
        block = got[0]
        assert block.line == 1
        assert f.position_after(f.token(block, len(block.data), 3)) == {
            "dev": os.stat(log).st_dev, "ino": os.stat(log).st_ino, "offset": os.path.getsize(log), "line": 2}
    finally:
        f.close()


def test_partial_lines_wait_for_their_newline(tmp_path):
    log = tmp_path / "kern.log"
    log.write_text("")
    f = FileFollower(str(log), None, from_start=True)
    try:
        with open(log, "a") as fh:
            fh.write("half")
            fh.flush()
            assert f.read(0.05) == []
            fh.write(" and the rest\n")
        assert texts(f.read(1)) == ["half and the rest"]
    finally:
        f.close()


def test_follows_rotation_by_rename_and_truncation_in_place(tmp_path):
    log = tmp_path / "kern.log"
    append(log, "a1")
    f = FileFollower(str(log), None, from_start=True)
    try:
        assert texts(f.read(1)) == ["a1"]
        append(log, "a2")  # written just before the rotation: must not be lost
        os.rename(log, tmp_path / "kern.log.1")
        append(log, "b1")
        got = texts(f.read(1))
        got += texts(f.read(1))
        assert got == ["a2", "b1"]
        with open(log, "w"):  # copytruncate; the truncation wakes the reader (inotify) before new writes
            pass
        assert f.read(1) == []
        append(log, "c1")
        assert texts(f.read(1)) == ["c1"]
    finally:
        f.close()


def test_inotify_wakes_the_reader_promptly(tmp_path):
    log = tmp_path / "kern.log"
    log.write_text("")
    f = FileFollower(str(log), None)
    try:
        timer = threading.Timer(0.2, append, (log, "late"))
        timer.start()
        started = time.monotonic()
        got = f.read(5)
        waited = time.monotonic() - started
        timer.join()
        assert texts(got) == ["late"]
        assert 0.15 < waited < 2
    finally:
        f.close()


def test_resume_from_a_saved_position_and_after_rotation_while_stopped(tmp_path):
    log = tmp_path / "kern.log"
    append(log, "l1", "l2")
    f = FileFollower(str(log), None, from_start=True)
    block = f.read(1)[0]
    pos = f.position_after(f.token(block, 3, 2))  # only "l1\n" was handled
    f.close()

    again = FileFollower(str(log), pos)
    assert texts(again.read(1)) == ["l2"]
    again.close()

    append(log, "l3")
    os.rename(log, tmp_path / "kern.log.1")  # rotated while the watcher was down
    append(log, "n1")
    third = FileFollower(str(log), pos)
    got = []
    for _ in range(4):
        got += texts(third.read(0.1))
    third.close()
    assert got == ["l2", "l3", "n1"]


def test_journal_follower_reports_journalctl_failure(tmp_path):
    try:
        f = JournalFollower(None, extra_args=("--file", str(tmp_path / "absent.journal")))
    except SourceError as exc:
        pytest.skip(f"journalctl unavailable: {exc}")
    try:
        with pytest.raises(SourceError, match="journalctl exited"):
            for _ in range(50):
                f.read(0.1)
    finally:
        f.close()
