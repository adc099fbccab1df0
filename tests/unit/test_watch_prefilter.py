"""The block prefilter never misses a line that the engine's PREFILTER matches."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kerncheck.logs import patterns
from kerncheck.logs.records import LEVEL_PATTERNS
from kerncheck.watch.prefilter import Prefilter, _parser, required_literals

PF = Prefilter(patterns.PREFILTER)
PREFIX = b"Nov 26 06:42:05 db1 kernel: [ 1864.273873] "
BENIGN = b"Nov 26 06:42:05 db1 kernel: [ 1864.273000] e1000e 0000:00:19.0 eth0: NIC Link is Up 1000 Mbps\n"


@pytest.mark.parametrize("pattern", patterns.PREFILTER)
def test_every_pattern_is_covered_by_literals_or_the_residual_regex(pattern):
    literals = required_literals(_parser.parse(pattern))
    if literals is not None:
        assert all(sum(c.isalnum() for c in lit) >= 3 for lit in literals)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_generated_matches_are_marked_in_a_block(data):
    pattern = data.draw(st.sampled_from(patterns.PREFILTER))
    text = data.draw(st.from_regex(re.compile(pattern), fullmatch=True)
                     .filter(lambda s: "\n" not in s and "\r" not in s))
    line = PREFIX + text.encode()
    block = BENIGN + line + b"\n" + BENIGN
    assert PF.mark(block) == [len(BENIGN)], (pattern, text)


def test_benign_lines_are_not_marked_and_positions_are_line_starts():
    block = BENIGN * 3 + PREFIX + b"loop0: detected capacity change from 0 to 8\n"
    assert PF.mark(block) == []  # "detected" is a literal of the RCU pattern, verified away
    oom = PREFIX + b"Memory cgroup out of memory: Killed process 28280 (kcw-manual) total-vm:58780kB\n"
    scsi = PREFIX + b"sd 2:0:0:0: [sdb] tag#0 FAILED Result: hostbyte=DID_OK driverbyte=DRIVER_OK\n"
    block = BENIGN + oom + BENIGN + scsi
    assert PF.mark(block) == [len(BENIGN), 2 * len(BENIGN) + len(oom)]


def test_level_patterns_mark_err_records_of_the_journal():
    pf = Prefilter(patterns.PREFILTER, LEVEL_PATTERNS["journal-json"])
    err = b'{"MESSAGE":"something odd happened","PRIORITY":"3","_TRANSPORT":"kernel"}\n'
    info = b'{"MESSAGE":"something odd happened","PRIORITY":"6","_TRANSPORT":"kernel"}\n'
    assert pf.mark(info + err + info) == [len(info)]
