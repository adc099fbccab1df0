"""Multi-pattern search over raw log bytes: where might an incident (or an error-level record) be?

The fast path of ``kerncheck scan``: one pass of a multi-pattern engine over a large block finds the few
candidate lines; only those (and the records after them) are parsed. Engines, fastest first:
hyperscan (``pip install hyperscan``; a dependency on x86-64 Linux), google-re2 (``pip install
google-re2``), then Python's ``re`` (always there, ~10× slower). ``KERNCHECK_PREFILTER=re|re2|hyperscan``
forces one (tests and benchmarks compare them). The patterns use the syntax the three share, with ``^``
matching at every line start.
"""

from __future__ import annotations

import bisect
import os
import re
from collections.abc import Sequence
from typing import Any, Optional

ENGINES = ("hyperscan", "re2", "re")
INDENTED = b"\n[ \t]"
SMALL_FOR_RE = 256 << 10
SMALL_FOR_RE2 = 64 << 20


def preferred_engines(size: Optional[int]) -> list[str]:
    """Engines to try, fastest overall first, for an input of ``size`` bytes (``None``: large or unknown).

    Hyperscan scans at ~1.5 GB/s but compiles the patterns in ~0.1 s; RE2 compiles in ~3 ms and scans at
    ~0.6 GB/s; ``re`` compiles in ~2 ms and scans at a few MB/s. A kernel ring buffer (≤ 1 MiB) is done
    before hyperscan has compiled.
    """
    if size is not None and size < SMALL_FOR_RE:
        return ["re2", "re", "hyperscan"]
    if size is not None and size < SMALL_FOR_RE2:
        return ["re2", "hyperscan", "re"]
    return list(ENGINES)


class Prefilter:
    """One pass over a block finds three things:

    * ``first_end(buf, pos, end)``: the end offset of the first candidate match that ends in ``buf[pos:end]``;
    * ``special_lines(buf)``: the starts of the lines that begin with one of the ``special`` prefixes
      (unanchored regexes matched at line starts: blank lines, headers);
    * ``indented_lines(buf)`` (with ``indented=True``): the starts of the lines that begin with a space or tab.

    Hyperscan 5.4 loses some matches that end at the end of the buffer when a database mixes ``^``/``$``
    anchors with patterns that match newlines; so for it ``^X`` is compiled as ``\nX`` (same end offset),
    line-start prefixes as ``\nP``, nothing uses ``$``, and the first line is checked with ``re``.
    """

    def __init__(self, patterns: Sequence[str], engine: Optional[str] = None, special: Sequence[str] = (),
                 indented: bool = False, size: Optional[int] = None) -> None:
        if not patterns:
            raise ValueError("a prefilter needs at least one pattern")
        self.patterns = tuple(patterns)
        self.special = tuple(special)
        self.indented = indented
        self._buf: Any = None
        self._ends: list[int] = []
        self._specials: list[int] = []
        self._indented: list[int] = []
        wanted = engine or os.environ.get("KERNCHECK_PREFILTER") or None
        order = [wanted] if wanted else preferred_engines(size)
        self.notes: list[str] = []
        self.engine = ""
        for name in order:
            if name not in ENGINES:
                raise ValueError(f"unknown prefilter engine {name!r} (known: {', '.join(ENGINES)})")
            try:
                getattr(self, "_compile_" + name)()
            except ImportError:
                self.notes.append(f"{name} is not installed")
                continue
            except Exception as exc:  # an engine that rejects a pattern: fall back to the next one
                self.notes.append(f"{name} rejected the patterns: {exc}")
                continue
            self.engine = name
            break
        if not self.engine:
            raise ValueError("no prefilter engine could compile the patterns: " + "; ".join(self.notes))

    # -- engines --------------------------------------------------------------------------------------------
    def _compile_hyperscan(self) -> None:
        import hyperscan

        expressions = [_newline_anchored(p) for p in self.patterns]
        for prefix in self.special:
            # "\r?\n" as one expression is among the combinations hyperscan gets wrong: split optional CRs.
            expressions += [b"\n" + alt.encode() for alt in _split_optional_cr(prefix)]
        if self.indented:
            expressions.append(INDENTED)  # must stay last: _collect tells it by its id
        db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        db.compile(expressions=expressions, ids=list(range(len(expressions))), elements=len(expressions),
                   flags=[hyperscan.HS_FLAG_MULTILINE] * len(expressions))
        self._hs = db
        self._hs_ids = (len(self.patterns), len(expressions) - 1 if self.indented else len(expressions))
        anchored = [p for p in self.patterns if p.startswith("^")]
        self._first_line = re.compile("|".join(f"(?:{p})" for p in anchored).encode()) if anchored else None
        self._first_special = re.compile(self._special_alternation()) if self.special else None

    def _compile_re2(self) -> None:
        import re2  # type: ignore[import-untyped,import-not-found,unused-ignore]

        options = re2.Options()
        options.max_mem = 256 << 20
        self._rx: Any = re2.compile(self._alternation(), options)
        self._special_rx: Any = re2.compile(self._special_alternation(), options) if self.special else None
        self._indented_rx: Any = re2.compile(b"(?m)^[ \t]", options) if self.indented else None

    def _compile_re(self) -> None:
        self._rx = re.compile(self._alternation())
        self._special_rx = re.compile(self._special_alternation()) if self.special else None
        self._indented_rx = re.compile(b"(?m)^[ \t]") if self.indented else None

    def _alternation(self) -> bytes:
        return b"(?m)" + b"|".join(b"(?:" + p.encode() + b")" for p in self.patterns)

    def _special_alternation(self) -> bytes:
        return b"(?m)^(?:" + b"|".join(b"(?:" + p.encode() + b")" for p in self.special) + b")"

    # -- search ----------------------------------------------------------------------------------------------
    def _scan(self, buf: Any) -> None:
        """Fill the three lists for ``buf`` (once per block)."""
        if self._buf is buf:
            return
        if self.engine != "hyperscan":
            self._specials = [m.start() for m in self._special_rx.finditer(buf)] if self._special_rx else []
            self._indented = [m.start() for m in self._indented_rx.finditer(buf)] if self._indented_rx else []
            self._buf = buf
            return
        ends: list[int] = []
        special: list[int] = []
        indented: list[int] = []
        self._hs.scan(buf, match_event_handler=_collect, context=(ends, special, indented, *self._hs_ids))
        starts = {buf.rfind(b"\n", 0, e - 1) + 1 for e in special}
        first = self._first_line.match(buf) if self._first_line is not None else None
        if first is not None:
            ends.append(first.end())  # "\nX" cannot match on the first line
        if self._first_special is not None and self._first_special.match(buf):
            starts.add(0)
        lines = [e - 1 for e in indented]  # "\n[ \t]" ends one byte into its line
        if self.indented and buf[:1] in (b" ", b"\t"):
            lines.insert(0, 0)
        ends.sort()
        lines.sort()
        self._buf, self._ends, self._specials, self._indented = buf, ends, sorted(starts), lines

    def first_end(self, buf: Any, pos: int, end: int) -> Optional[int]:
        """End offset of the first match ending after ``pos`` and at most ``end`` (``None`` if none)."""
        if self.engine == "hyperscan":
            self._scan(buf)
            i = bisect.bisect_right(self._ends, pos)
            if i < len(self._ends) and self._ends[i] <= end:
                return self._ends[i]
            return None
        m = self._rx.search(buf, pos, end)
        return m.end() if m is not None else None

    def special_lines(self, buf: Any) -> list[int]:
        """Sorted starts of the lines of ``buf`` that begin with a ``special`` prefix."""
        self._scan(buf)
        return self._specials

    def indented_lines(self, buf: Any) -> list[int]:
        """Sorted starts of the lines of ``buf`` that begin with a space or a tab (``indented=True``)."""
        self._scan(buf)
        return self._indented

    def forget(self) -> None:
        """Drop what was cached for the last block."""
        self._buf, self._ends, self._specials, self._indented = None, [], [], []


def _newline_anchored(pattern: str) -> bytes:
    """``^X`` → ``\nX`` for hyperscan (see the class doc); other patterns unchanged."""
    return b"\n" + pattern[1:].encode() if pattern.startswith("^") else pattern.encode()


def _split_optional_cr(prefix: str) -> list[str]:
    return [prefix[3:], "\\r" + prefix[3:]] if prefix.startswith("\\r?") else [prefix]


def _collect(pattern: int, _start: int, end: int, _flags: int, context: Any) -> None:
    ends, special, indented, first_special, indented_id = context
    (ends if pattern < first_special else indented if pattern == indented_id else special).append(end)
