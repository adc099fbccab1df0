"""A cheap test that tells which lines of a block may start an incident, built once from ``patterns.PREFILTER``.

Python's ``re`` runs the full PREFILTER alternation at roughly 25 µs a line, too slow for 100 k records/s.
So every pattern is reduced to literals that any of its matches must contain (``EXT4-fs ``, ``invoked
oom-killer``, …), read from the pattern's own parse tree. A block of lines is searched for each literal
with ``bytes.find`` (C speed, rare hits), and only the lines holding one are checked with the patterns that
literal came from. Patterns without a usable literal are searched over the whole block as one regex.
Every line that matches PREFILTER is marked (a property test checks it on generated matches); the
reverse need not hold.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Sequence
from typing import Any, Optional

_parser: Any
_c: Any
try:  # Python ≥ 3.11 keeps the regex parser here; sre_parse is its deprecated alias
    _parser = importlib.import_module("re._parser")
    _c = importlib.import_module("re._constants")
except ImportError:  # pragma: no cover - Python < 3.11
    _parser = importlib.import_module("sre_parse")
    _c = importlib.import_module("sre_constants")

MIN_ALNUM = 3  # a literal with fewer letters/digits ("sd", ": [") would mark most lines
MAX_VARIANTS = 16  # [Ss]ys[Rr]q → 4 spellings; beyond this many, give up on the literal


def _class_chars(items: Any) -> Optional[list[str]]:
    chars = []
    for op, av in items:
        if op is not _c.LITERAL:
            return None
        chars.append(chr(av))
    return chars if len(chars) <= 4 else None


def _alnum(s: str) -> int:
    return sum(ch.isalnum() for ch in s)


def required_literals(parsed: Any) -> Optional[list[str]]:
    """Strings one of which every match of the parsed pattern contains, or ``None`` if none are known."""
    options: list[list[str]] = []
    run = [""]

    def end_run() -> None:
        nonlocal run
        if all(run):
            options.append(run)
        run = [""]

    for op, av in parsed:
        if op is _c.LITERAL:
            run = [r + chr(av) for r in run]
            continue
        chars = _class_chars(av) if op is _c.IN else None
        if chars and len(run) * len(chars) <= MAX_VARIANTS:
            run = [r + ch for r in run for ch in chars]
            continue
        end_run()
        if op is _c.SUBPATTERN:
            sub = required_literals(av[-1])
            if sub:
                options.append(sub)
        elif op is _c.BRANCH:
            alts = [required_literals(branch) for branch in av[1]]
            if all(alts):
                options.append([lit for alt in alts if alt for lit in alt])
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT) and av[0] >= 1:
            sub = required_literals(av[2])
            if sub:
                options.append(sub)
    end_run()
    usable = [o for o in options if min(_alnum(s) for s in o) >= MIN_ALNUM]
    if not usable:
        return None
    return max(usable, key=lambda o: (min(_alnum(s) for s in o), -len(o)))


class Prefilter:
    def __init__(self, patterns: Sequence[str], extra: Sequence[str] = ()) -> None:
        """``patterns``: the engine's PREFILTER; ``extra``: the format's level patterns (multi-line ``^``,
        e.g. a journal ``"PRIORITY":"[0-3]"``) so that records at level err or worse are candidates too."""
        self.regex = re.compile("|".join(f"(?:{p})" for p in patterns))
        self._by_literal: dict[bytes, list[re.Pattern[str]]] = {}
        residual = list(extra)
        for pattern in patterns:
            literals = required_literals(_parser.parse(pattern))
            if literals is None:
                residual.append(pattern)
                continue
            compiled = re.compile(pattern)
            for lit in literals:
                self._by_literal.setdefault(lit.encode(), []).append(compiled)
        self._residual = re.compile("|".join(f"(?:{p})" for p in residual).encode(), re.M) if residual else None

    def matches(self, text: str) -> bool:
        return self.regex.search(text) is not None

    def mark(self, block: bytes) -> list[int]:
        """Sorted offsets of the starts of the lines of ``block`` that may open an incident."""
        marked: set[int] = set()
        for lit, regexes in self._by_literal.items():
            i = block.find(lit)
            while i != -1:
                start = block.rfind(b"\n", 0, i) + 1
                end = block.find(b"\n", i)
                end = len(block) if end < 0 else end
                if start not in marked and any(r.search(block[start:end].decode("utf-8", "replace"))
                                               for r in regexes):
                    marked.add(start)
                i = block.find(lit, end)
        if self._residual is not None:
            for m in self._residual.finditer(block):
                marked.add(block.rfind(b"\n", 0, m.start()) + 1)
        return sorted(marked)
