"""Property tests of the record parsers: never raise, true line numbers, and the fast counting rule agrees
exactly with what the parser yields (however the input is cut into regions, whichever engine finds the
special lines)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kerncheck.logs.prefilter import ENGINES, Prefilter
from kerncheck.logs.records import (
    CONTINUATION_FORMATS,
    FORMATS,
    RecordReader,
    detect_format,
    iter_records,
    special_line_prefixes,
)

LINES = {
    "kmsg": [b"6,1,2,-;usb 1-1: new device", b"3,416,567073405,-;Memory cgroup out of memory: Killed process 1 (x)",
             b" SUBSYSTEM=acpi", b" DEVICE=+acpi:PNP0A08:00", b"4,7,8,c,caller=T1;frag\\x0a", b"12,9,9,-;user"],
    "dmesg": [b"[    0.000000] Linux version 6.1.0", b"<3>[ 5.5] EXT4-fs error (device sda1): x",
              b"kern  :err   : [ 1.0] I/O error, dev sda, sector 8", b"[Thu Nov 26 06:35:35 2026] BUG: x",
              b"                        res 41/40:00", b"2026-11-26T06:35:35,250994+00:00 msg", b"[ 1.0][ T1] msg"],
    "console": [b"\x1b[2J\x1b[01;01HSeaBIOS", b"[    2.3] Kernel panic - not syncing: VFS\r", b"progress\rdone\r",
                b" <TASK>", b"[  584.3][   T31] INFO: t", b"** replaying previous printk message **"],
    "pstore": [b"Panic#2 Part1", b"<4>[  412.1] BUG: soft lockup - CPU#1 stuck for 22s! [k:1]", b"Oops#1 Part2\r"],
    "syslog": [b"Nov 26 05:02:29 web1 kernel: [  748.1] EXT4-fs (sda1): x", b"Nov  6 05:02:32 web1 CRON[1]: (root) x",
               b"<2>1 2026-11-26T05:02:30Z web1 kernel - - - msg", b"-- Boot 454278dc735f40ab980c963e729b426e --",
               b"                                res 41/40", b"2025-11-26T05:02:29+0000 web1 kernel: x#012y"],
    "journal-json": [b'{"_TRANSPORT":"kernel","PRIORITY":"3","MESSAGE":"I/O error, dev sda, sector 8"}',
                     b'{"MESSAGE":[99,97,255],"PRIORITY":"4"}', b'{"MESSAGE":', b"[1,2,3]", b'"just a string"'],
}
NOISE = [b"", b"\r", b" ", b"\t", b"  \r", b"\x00\xff\xfe", b"garbage \x1b[0m", b"\xc3\xa9\xe2\x82", b"#"]


def document(fmt: str):
    line = st.sampled_from(LINES[fmt] + NOISE) | st.binary(max_size=40).map(lambda b: b.replace(b"\n", b""))
    return st.tuples(st.lists(line, max_size=40), st.booleans()).map(
        lambda t: b"\n".join(t[0]) + (b"\n" if t[1] and t[0] else b""))


def _check(fmt: str, data: bytes, cuts: list[int]) -> None:
    recs = list(RecordReader(fmt, "fuzz").records(data))
    nlines = data.count(b"\n") + (bool(data) and not data.endswith(b"\n"))
    lines = [r.line for r in recs]
    assert lines == sorted(set(lines)) and all(1 <= n <= nlines for n in lines)
    assert all(isinstance(r.text, str) for r in recs)
    # One region …
    assert RecordReader(fmt).count(data, 0, len(data)) == (nlines, len(recs))
    # … or the input cut at line starts into regions counted by one reader in order.
    starts = sorted({0, *(data.rfind(b"\n", 0, c) + 1 for c in cuts), len(data)})
    reader = RecordReader(fmt)
    total_lines = total_records = 0
    for a, b in zip(starts, starts[1:]):
        n, r = reader.count(data, a, b)
        total_lines += n
        total_records += r
    assert (total_lines, total_records) == (nlines, len(recs))


@pytest.mark.parametrize("fmt", FORMATS)
def test_counting_rule_matches_the_parser(fmt):
    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(document(fmt), st.lists(st.integers(0, 2000), max_size=6))
    def run(data, cuts):
        _check(fmt, data, [c % (len(data) + 1) for c in cuts])

    run()


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("fmt", ["kmsg", "dmesg", "console", "pstore", "syslog"])
def test_engines_find_the_same_special_lines(engine, fmt):
    indented = fmt in CONTINUATION_FORMATS
    try:
        prefilter = Prefilter(["BUG: "], engine=engine, special=special_line_prefixes(fmt), indented=indented)
    except ValueError as exc:
        pytest.skip(str(exc))

    @settings(max_examples=60, deadline=None)
    @given(document(fmt))
    def run(data):
        reader = RecordReader(fmt)
        prefilter.forget()
        assert prefilter.special_lines(data) == reader.special_lines(data, 0, len(data))
        if indented:
            assert prefilter.indented_lines(data) == reader.indented_lines(data, 0, len(data))
        fast = RecordReader(fmt).count(data, 0, len(data), prefilter.special_lines(data),
                                       prefilter.indented_lines(data))
        assert fast == RecordReader(fmt).count(data, 0, len(data))

    run()


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600), st.text(max_size=30))
def test_detection_and_every_parser_survive_arbitrary_bytes(data, name):
    fmt = detect_format(data, name)
    assert fmt is None or fmt in FORMATS
    for each in FORMATS:
        for rec in iter_records(data, "fuzz", each):
            assert rec.line >= 1


FRAGMENTS = [b"\n", b"\r", b" ", b"\t", b"a", b"3,1", b"6,2,3,-;", b"<3>", b"kern  :err   : ", b"BUG: ", b"Oops",
             b"XFS (", b"Kernel panic - not syncing", b"invoked oom-killer", b" error, dev sda, sector", b"\n\n",
             b"Panic#1 Part1", b"-- ", b"[ 1.0] "]


@pytest.mark.parametrize("engine", ["hyperscan", "re2"])
@pytest.mark.parametrize("fmt", ["kmsg", "dmesg", "pstore", "syslog", "journal-json"])
def test_fast_engines_find_what_re_finds(engine, fmt):
    """Candidates and special lines of hyperscan and RE2 equal Python re's, with the real pattern set."""
    from kerncheck.logs.scan import _prefilter

    reference = _prefilter(fmt, True)
    try:
        fast = Prefilter(reference.patterns, engine=engine, special=reference.special, indented=reference.indented)
    except ValueError as exc:
        pytest.skip(str(exc))
    slow = Prefilter(reference.patterns, engine="re", special=reference.special, indented=reference.indented)

    def candidates(p: Prefilter, data: bytes) -> list[int]:
        p.forget()
        out, pos = [], 0
        while True:
            hit = p.first_end(data, pos, len(data))
            if hit is None:
                return out
            out.append(data.rfind(b"\n", 0, hit - 1) + 1)
            nl = data.find(b"\n", hit - 1)
            pos = len(data) if nl < 0 else nl + 1

    @settings(max_examples=400, deadline=None)
    @given(st.lists(st.sampled_from(FRAGMENTS), max_size=60))
    def run(parts):
        data = b"".join(parts)
        assert candidates(fast, data) == candidates(slow, data)
        fast.forget()
        slow.forget()
        assert fast.special_lines(data) == slow.special_lines(data)
        assert fast.indented_lines(data) == slow.indented_lines(data)

    run()
