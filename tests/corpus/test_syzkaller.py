"""Score the incident engine on syzkaller's real crash reports (``shared/corpus/syzkaller``).

For every report the first crash-class incident is compared with the manifest: its ``kind``, and its
culprit ``function`` against any of the manifest's ``functions`` after stripping the syscall prefixes
syzkaller strips from titles (both sides). Reports of kind ``none`` must produce no crash-class incident.
``kind_ambiguous`` reports are scored separately and printed, not asserted. Run with ``-s`` to see the table.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Optional

import pytest

from kerncheck.logs.incidents import CRASH_KINDS, build_incidents
from kerncheck.logs.records import iter_records
from tests.conftest import shared_path

pytestmark = pytest.mark.corpus

# Syscall entry prefixes (all architectures syzkaller runs on).
_SYSCALL_PREFIX = re.compile(
    r"^(?:__(?:x64|ia32|x32|arm64|riscv|s390x?)_(?:compat_)?sys_|__se_(?:compat_)?sys_|__do_(?:compat_)?sys_|"
    r"(?:compat_)?SyS_|(?:compat_)?sys_|ksys_)"
)
KIND_TARGET = 0.95
FUNCTION_TARGET = 0.85


def normalise(function: Optional[str]) -> Optional[str]:
    return _SYSCALL_PREFIX.sub("", function) if function else function


def console_log(path: Path) -> bytes:
    """The raw console text of a report file: after the header block, before an optional ``REPORT:``."""
    raw = path.read_bytes()
    _, sep, body = raw.partition(b"\n\n")
    body = body if sep else b""
    cut = re.search(rb"(?m)^REPORT:\r?$", body)
    return body[:cut.start()] if cut else body


def test_console_log_extraction_keeps_only_the_console_text(tmp_path):
    report = tmp_path / "r"
    report.write_bytes(b"TITLE: x\nTYPE: DoS\n\n[    1.000000] BUG: x\nline\n\nREPORT:\nBUG: x\n")
    assert console_log(report) == b"[    1.000000] BUG: x\nline\n\n"


@pytest.fixture(scope="module")
def scores():
    base = shared_path("corpus", "syzkaller")
    rows = [json.loads(line) for line in (base / "manifest.jsonl").read_text().splitlines() if line.strip()]
    table: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # n, kind ok, with function, function ok
    misses: list[str] = []
    for row in rows:
        records = iter_records(console_log(base / row["file"]), row["file"], fmt="console")
        first = next((i for i in build_incidents(records) if i.kind in CRASH_KINDS), None)
        got = first.kind if first else "none"
        key = row["kind"] + (" (ambiguous)" if row.get("kind_ambiguous") else "")
        cell = table[key]
        cell[0] += 1
        cell[1] += got == row["kind"]
        if row.get("function"):
            cell[2] += 1
            wanted = {normalise(f) for f in row.get("functions") or [row["function"]]}
            cell[3] += first is not None and normalise(first.function) in wanted
            if first is None or normalise(first.function) not in wanted:
                misses.append(f"{row['file']}: want {sorted(wanted)} got {first.function if first else None}")
        if got != row["kind"]:
            misses.append(f"{row['file']}: kind {row['kind']} got {got}")
    return dict(table), misses


def _print_table(table: dict[str, list[int]]) -> tuple[list[int], list[int]]:
    main, ambiguous = [0, 0, 0, 0], [0, 0, 0, 0]
    print(f"\n{'kind':24} {'n':>4} {'kind ok':>8} {'fn ok':>10}")
    for key in sorted(table):
        n, kind_ok, with_fn, fn_ok = table[key]
        print(f"{key:24} {n:4} {kind_ok:8} {fn_ok:5}/{with_fn:<4}")
        total = ambiguous if key.endswith("(ambiguous)") else main
        for i, v in enumerate(table[key]):
            total[i] += v
    for name, t in (("scored", main), ("ambiguous", ambiguous)):
        if t[0] and t[2]:
            print(f"{name:24} {t[0]:4} {t[1]:8} {t[3]:5}/{t[2]:<4}  kind {t[1] / t[0]:.1%}  function {t[3] / t[2]:.1%}")
    return main, ambiguous


def test_syzkaller_kind_and_culprit_accuracy(scores):
    table, misses = scores
    main, _ = _print_table(table)
    print("\n".join(["misses:", *misses]))
    assert main[0] >= 300, "the corpus should hold a few hundred scored reports"
    assert main[1] / main[0] >= KIND_TARGET
    assert main[3] / main[2] >= FUNCTION_TARGET


def test_logs_without_a_crash_produce_no_crash_incident(scores):
    table, _ = scores
    n, ok, _, _ = table["none"]
    assert n > 0 and ok == n


def test_every_opener_line_in_the_corpus_matches_the_prefilter():
    """The fast scanner only looks near prefilter hits: no opener may be missed (see patterns.PREFILTER)."""
    from kerncheck.logs.patterns import PREFILTER, match_opener

    combined = re.compile("|".join(f"(?:{p})" for p in PREFILTER).encode())
    base = shared_path("corpus", "syzkaller")
    checked, missed = 0, []
    for path in sorted((base / "report").iterdir()):
        for rec in iter_records(console_log(path), path.name, fmt="console"):
            if match_opener(rec.text):
                checked += 1
                if not combined.search(rec.text.encode(errors="replace")):
                    missed.append(f"{path.name}:{rec.line}: {rec.text}")
    assert checked > 400 and missed == []
