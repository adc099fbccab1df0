"""The incident engine's contracts: prefilter coverage and syntax, taint decoding, aggregation, kind docs, and
property-based tests of the builder (arbitrary input, truncation, interleaving)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kerncheck import registry
from kerncheck.logs.aggregate import aggregate
from kerncheck.logs.incidents import IncidentBuilder, build_incidents
from kerncheck.logs.model import KINDS, SEVERITIES, Incident, Record
from kerncheck.logs.patterns import PREFILTER, match_opener
from kerncheck.logs.records import iter_records
from kerncheck.logs.taint import decode_taint, taint_from_line
from tests.conftest import REPO
from tests.unit import kernel_reports as kr

REPORTS = {name: getattr(kr, name) for name in dir(kr) if name.isupper()}
GOLDEN = sorted((REPO / "tests" / "data" / "qemu").glob("*.log"))
KMSG = REPO / "tests" / "data" / "kmsg" / "memcg-oom-v1-6.18.kmsg"


def _all_raw_lines() -> list[str]:
    lines: list[str] = []
    for text in REPORTS.values():
        lines += text.splitlines()
    for path in [*GOLDEN, KMSG]:
        lines += path.read_text(errors="replace").splitlines()
    return lines


# -- prefilter --------------------------------------------------------------------------------------------------
def test_prefilter_uses_only_syntax_shared_by_re_re2_and_hyperscan():
    for pattern in PREFILTER:
        re.compile(pattern)
        assert not re.search(r"\(\?[=!<]|\\[1-9]|\(\?P", pattern), pattern  # lookarounds, backrefs, named groups
        assert not pattern.startswith("^"), pattern  # raw lines carry timestamps and prefixes


@pytest.mark.parametrize("engine", ["re2", "hyperscan"])
def test_prefilter_compiles_in_the_fast_engines(engine):
    from kerncheck.logs.prefilter import Prefilter

    pytest.importorskip({"re2": "re2", "hyperscan": "hyperscan"}[engine])
    assert Prefilter(PREFILTER, engine=engine).engine == engine


def test_every_opener_line_of_real_logs_matches_the_prefilter():
    combined = re.compile("|".join(f"(?:{p})" for p in PREFILTER))
    openers = [ln for ln in _all_raw_lines() if match_opener(_message(ln))]
    assert len(openers) > 50
    missed = [ln for ln in openers if not combined.search(ln)]
    assert missed == []


def _message(raw: str) -> str:
    """The message of a console/kmsg line (what the builder sees)."""
    raw = re.sub(r"^\d+,\d+,\d+,[-c+][^;]*;", "", raw)
    return re.sub(r"^\s*\[\s*\d+\.\d+\](?:\[\s*[TC]\d+\])? ?", "", raw)


# -- taint ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("line, names", [
    ("CPU: 2 PID: 4321 Comm: bash Tainted: G           OE     5.15.0-91-generic #101-Ubuntu",
     ["OOT_MODULE", "UNSIGNED_MODULE"]),
    ("CPU: 0 PID: 1400 Comm: kworker/0:2 Tainted: G             L   4.15.0-rc1+ #198", ["SOFTLOCKUP"]),
    ("CPU: 185 PID: 11718 Comm: dbus-daemon Kdump: loaded Tainted: G        W         4.20.0-rc2+ #4", ["WARN"]),
    ("CPU: 1 PID: 95 Comm: sh Tainted: P      D    O      6.1.0-56-amd64 #1", ["PROPRIETARY_MODULE", "DIE",
                                                                               "OOT_MODULE"]),
    ("Tainted: [W]=WARN, [O]=OOT_MODULE", ["WARN", "OOT_MODULE"]),
    ("CPU: 0 PID: 11733 Comm: kc-oom-victim Not tainted 6.18.44-fc-v657 #1 PREEMPT(none)", []),
    ("Hardware name: QEMU Standard PC", None),
])
def test_taint_from_line(line, names):
    assert taint_from_line(line) == names


def test_decode_taint_knows_every_letter_and_flags_unknown_ones():
    assert decode_taint("PFSRMBUDAWCIOELKXTNJ") == [
        "PROPRIETARY_MODULE", "FORCED_MODULE", "CPU_OUT_OF_SPEC", "FORCED_RMMOD", "MACHINE_CHECK", "BAD_PAGE",
        "USER", "DIE", "OVERRIDDEN_ACPI_TABLE", "WARN", "CRAP", "FIRMWARE_WORKAROUND", "OOT_MODULE",
        "UNSIGNED_MODULE", "SOFTLOCKUP", "LIVEPATCH", "AUX", "RANDSTRUCT", "TEST", "FWCTL"]
    assert decode_taint("G   H") == ["UNKNOWN_H"]


# -- aggregation ------------------------------------------------------------------------------------------------
def test_identical_oom_kills_fold_with_count_and_first_last_seen():
    one = KMSG.read_bytes()
    shifted = one.replace(b",937977", b",999977")  # the same kill again, 62 s later
    incs = build_incidents(iter_records(one + shifted, "kmsg", fmt="kmsg"))
    (folded,) = aggregate(incs)
    assert folded.count == 2 and folded.first_line == 1
    assert (folded.first_seen, folded.last_seen) == ("+937.977459s", "+999.977839s")


def test_different_kinds_devices_and_messages_stay_apart_and_order_is_source_then_line():
    def inc(kind, line, source="a", **kw):
        return Incident(kind=kind, severity="warning", title=kw.pop("title", kind), source=source, first_line=line,
                        **kw)

    folded = aggregate([
        inc("io_error", 9, device="sda"), inc("io_error", 3, device="sdb"), inc("io_error", 5, device="sda"),
        inc("other", 7, title="eth0: link down 1"), inc("other", 8, title="usb 3-1: device descriptor read, error -71"),
        inc("other", 11, title="eth0: link down 2"), inc("panic", 1, source="b"),
    ])
    assert [(i.source, i.first_line, i.kind, i.count) for i in folded] == [
        ("a", 3, "io_error", 1), ("a", 5, "io_error", 2), ("a", 7, "other", 2), ("a", 8, "other", 1),
        ("b", 1, "panic", 1)]


def test_aggregate_filters_by_severity_and_time():
    from datetime import datetime, timezone

    old = Incident(kind="oops", severity="critical", title="x", first_seen="2026-01-01T00:00:00+00:00",
                   last_seen="2026-01-01T00:00:00+00:00")
    new = Incident(kind="warning", severity="warning", title="y", first_line=2,
                   first_seen="2026-06-01T00:00:00+00:00", last_seen="2026-06-01T00:00:00+00:00")
    assert aggregate([old, new], min_severity="critical") == [old]
    assert [i.title for i in aggregate([old, new], since=datetime(2026, 3, 1, tzinfo=timezone.utc))] == ["y"]
    with pytest.raises(ValueError):
        aggregate([old], min_severity="fatal")


# -- documentation ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_is_documented(kind):
    doc = registry.lookup(kind)
    assert set(doc.sections) == set(registry.SECTIONS)


# -- properties -------------------------------------------------------------------------------------------------
def _check(incidents: list[Incident], n_lines: int) -> None:
    for inc in incidents:
        assert inc.kind in KINDS and inc.severity in SEVERITIES and inc.title
        assert 0 <= inc.first_line <= n_lines
        assert len(inc.evidence) <= 40
        inc.to_json()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(max_size=200), max_size=40), st.lists(st.sampled_from([None, 0, 3, 6]), min_size=1))
def test_arbitrary_text_never_breaks_the_builder(texts, levels):
    builder = IncidentBuilder("fuzz")
    out: list[Incident] = []
    for i, text in enumerate(texts):
        out += builder.feed(Record(text=text, source="fuzz", line=i + 1, level=levels[i % len(levels)]))
    out += builder.finish()
    assert builder.idle
    _check(out, len(texts))


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(REPORTS)), st.integers(min_value=1, max_value=400))
def test_truncated_reports_keep_their_kind(name, cut):
    records = list(iter_records(REPORTS[name].encode(), name, fmt="console"))
    full = build_incidents(records)
    part = build_incidents(records[:cut])
    _check(part, len(records))
    if part and full and part[0].first_line == full[0].first_line:
        assert part[0].kind == full[0].kind or {part[0].kind, full[0].kind} <= {"oops", "bug", "panic", "warning"}


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["OOPS_5_15", "SOFT_LOCKUP_4_15", "KASAN_4_14", "HUNG_TASK_JBD2_4_20", "LOCKDEP_CIRCULAR_4_15"]),
       st.lists(st.integers(min_value=0, max_value=60), max_size=8),
       st.sampled_from(["usb 1-1: new high-speed USB device number 2 using xhci_hcd",
                        "IPv6: ADDRCONF(NETDEV_CHANGE): eth0: link becomes ready",
                        " ? some_function+0x10/0x20", "random.c: crng init done"]))
def test_lines_from_another_cpu_do_not_change_the_report(name, positions, noise):
    records = list(iter_records(REPORTS[name].encode(), name, fmt="console"))
    baseline = [(i.kind, i.function) for i in build_incidents(records)]
    mixed = list(records)
    for pos in sorted(positions, reverse=True):
        mixed.insert(min(pos, len(mixed)), Record(text=noise, source=name, line=0, caller="C7"))
    tagged = [r if r.caller else Record(**{**r.__dict__, "caller": "T1"}) for r in mixed]
    assert [(i.kind, i.function) for i in build_incidents(tagged)] == baseline


def test_golden_logs_have_one_crash_incident_per_provoked_case():
    for path in GOLDEN:
        incs = build_incidents(iter_records(path.read_bytes(), path.name))
        _check(incs, path.read_bytes().count(b"\n") + 1)
    assert Path(KMSG).exists()


@pytest.mark.parametrize("text", ["Kernel panic - not syncing: " + "A" * 1_000_000, "BUG: " + "(" * 1_000_000,
                                  " " + "+0x1/0x2 " * 100_000, "a_b." * 250_000])
def test_one_megabyte_lines_inside_and_outside_a_report(text):
    for before in ([], [Record(text="BUG: kernel NULL pointer dereference, address: 0", line=1)]):
        incidents = build_incidents([*before, Record(text=text, line=2, level=3)])
        _check(incidents, 2)
        assert all(len(e) <= 300 for i in incidents for e in i.evidence)
