"""Every kernel log input format → :class:`~kerncheck.logs.model.Record`.

Formats (``--input-format``; :func:`detect_format` picks one per file):

``kmsg``
    raw ``/dev/kmsg`` records ``prio,seq,usec,flag[,caller=…];text`` with ``\\xNN`` escapes; the
    dictionary lines that follow (`` SUBSYSTEM=…``, `` DEVICE=…``) go to ``fields``, not ``text``.
``dmesg``
    util-linux ``dmesg`` output: default ``[    5.123456] msg``, ``-r`` ``<3>[…] msg``, ``-x``
    ``kern  :err   : […] msg``, ``-T`` ``[Thu Nov 26 05:02:29 2026] msg``, ``--time-format iso``,
    ``-d``/``-e``, caller ids ``[  T123]``; also ``vmcore-dmesg.txt`` and ``makedumpfile --dump-dmesg``.
    Indented lines continue the record above (multi-line records such as ATA ``cmd …`` / ``res …``).
    Caveat: util-linux 2.38's ``-r`` prints ``facility | level`` with the facility unshifted, so a
    ``user.err`` record reads ``<3>`` like a kernel error; ``-x`` and raw kmsg keep the facility.
``console``
    serial-console captures and syzkaller console logs (``[  123.456789][ T1234] msg``): CRLF, ANSI/BIOS
    noise and lines without a timestamp; every line is a record.
``pstore``
    ``/sys/fs/pstore/dmesg-ramoops-N``, ``dmesg-efi-…``: ``Oops#1 Part1`` headers and ``<N>[ts]`` lines.
``syslog``
    ``kern.log``/``messages`` (RFC 3164 with or without the kernel's ``[ ts]``, RFC 5424,
    RSYSLOG_FileFormat) and ``journalctl -o short``/``short-precise``/``short-iso``/``short-monotonic``.
    Lines whose tag is not ``kernel`` are userspace.
``journal-json``
    ``journalctl -o json`` (one object per line; arrays for repeated fields, byte arrays for non-UTF-8).

Counting rule (shared by the fast scanner and :func:`iter_records`, see :meth:`RecordReader.count`): a
record starts at every line that is not blank (empty or a lone ``\\r``), not a format header (pstore
``Oops#1 Part1``, journalctl ``-- Boot … --``) and, in the formats with continuation lines (``kmsg``,
``dmesg``, ``syslog``), does not start with a space or a tab — except the very first such line of an
input, which has no record to continue.
"""

from __future__ import annotations

import bisect
import json
import os
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any, Optional

from kerncheck.logs.model import Record

FORMATS = ("kmsg", "dmesg", "console", "pstore", "syslog", "journal-json")
ALIASES = {
    "dev-kmsg": "kmsg", "vmcore-dmesg": "dmesg", "makedumpfile": "dmesg", "serial": "console",
    "syzkaller": "console", "plain": "console", "ramoops": "pstore", "kern.log": "syslog", "messages": "syslog",
    "journal": "syslog", "json": "journal-json",
}
CONTINUATION_FORMATS = frozenset({"kmsg", "dmesg", "syslog"})
MAX_TEXT = 16384  # longer lines are garbage, not printk records (the kernel's limit is 8 KiB): truncated

LEVELS = ("emerg", "alert", "crit", "err", "warn", "notice", "info", "debug")
FACILITIES = ("kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv",
              "ftp", "res0", "res1", "res2", "res3", "local0", "local1", "local2", "local3", "local4",
              "local5", "local6", "local7")
_LEVEL_NUM = {name: i for i, name in enumerate(LEVELS)}
_LEVEL_NUM.update({"warning": 4, "error": 3, "emergency": 0, "critical": 2})
_FACILITY_NUM = {name: i for i, name in enumerate(FACILITIES)}
_MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}

# Per-format regexes (unanchored syntax shared by re, RE2 and hyperscan, used with multi-line ``^``)
# matching the lines whose level is known to be err or more severe (0–3), so that every such kernel
# record reaches the incident engine even when no incident pattern knows its text.
LEVEL_PATTERNS: dict[str, tuple[str, ...]] = {
    "kmsg": (r"^[0-3],[0-9]",),
    "dmesg": (r"^<[0-3]>", r"^kern *:(emerg|alert|crit|err) *:"),
    "console": (r"^<[0-3]>\[",),
    "pstore": (r"^<[0-3]>",),
    "syslog": (r"^<[0-3]>1 ",),
    "journal-json": (r"\"PRIORITY\" ?: ?\"[0-3]\"", r"\"MESSAGE\" ?: ?\["),
}


def special_line_prefixes(fmt: str) -> tuple[str, ...]:
    """How the lines that may be no record start begin, besides indentation: blank lines and headers.
    A superset is fine: :meth:`RecordReader.count` checks each such line.

    Unanchored regexes in the syntax of re, RE2 and hyperscan, to be matched at line starts.
    """
    parts = [r"\r?\n"]
    if fmt == "pstore":
        parts.append(r"(Oops|Panic|Emergency|Restart|Halt|Poweroff|Shutdown|Unknown|Invalid)#[0-9]+ Part[0-9]")
    if fmt == "syslog":
        parts.append(r"-- ")
    return tuple(parts)


def userspace_level_patterns(fmt: str) -> tuple[str, ...]:
    """Level patterns for records of any facility at level ≤ err (``--include-userspace``)."""
    prios = "|".join(str(f * 8 + lvl) for f in range(1, 24) for lvl in range(4))
    return {
        "kmsg": (rf"^({prios}),[0-9]",),
        "dmesg": (rf"^<({prios})>", r"^[a-z0-9]+ *:(emerg|alert|crit|err) *:"),
        "console": (rf"^<({prios})>\[",),
        "pstore": (rf"^<({prios})>",),
        "syslog": (rf"^<({prios})>1 ",),
    }.get(fmt, ())


def canonical_format(name: str) -> str:
    """The format name for an ``--input-format`` value (aliases accepted); ``ValueError`` if unknown."""
    fmt = ALIASES.get(name, name)
    if fmt not in FORMATS:
        raise ValueError(f"unknown input format {name!r} (known: {', '.join(FORMATS)})")
    return fmt


# -- format detection ------------------------------------------------------------------------------------
_KMSG_HEAD = re.compile(rb"\d{1,3},\d+,\d+,[-c+][^;\n]*;")
_DMESG_SIGNATURE = re.compile(
    rb"(?:<\d{1,3}>)?(?:[a-z0-9]+ *:[a-z]+ *: )?"
    rb"(?:\[ *\d+\.\d+(?: *<[ \d.]+>)?\]|\[[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}\]"
    rb"|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[,.]\d+[+-]\d\d:?\d\d |\[[A-Z][a-z]{2}\d\d? \d\d:\d\d\]|\[ *[+-]\d+\.\d+\]"
    rb"|<\d{1,3}>|[a-z0-9]+ *:[a-z]+ *: )")
_SYSLOG_SIGNATURE = re.compile(
    rb"(?:<\d{1,3}>1 \S+ (\S+) \S+ \S+ \S+ "
    rb"|(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d(?:\.\d+)?|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?"
    rb"(?:Z|[+-]\d\d:?\d\d)?|\[ *\d+\.\d+\]) (?:(\S*[^\s:]) )?([^\s:\[]+)(\[\d+\])?: )")
_PSTORE_HEADER = re.compile(
    rb"(?m)^(?:Oops|Panic|Emergency|Restart|Halt|Poweroff|Shutdown|Unknown|Invalid)#\d+ Part\d+\r?$")
_JOURNAL_MARKER = re.compile(rb"(?m)^-- [^\n]*--\r?$")
_KERNEL_MARKERS = re.compile(
    rb"Linux version |Command line: |Call Trace|Kernel panic|BUG: |WARNING: |Oops|RIP: |Modules linked in"
    rb"|EXT4-fs|XFS \(|I/O error|invoked oom-killer|Killed process|segfault at|ACPI|PCI|usb \d|ata\d|nvme\d"
    rb"|sd \d|Booting |Freeing |Memory: |CPU\d|x86/|clocksource|Kernel command line")
_PSTORE_NAMES = ("dmesg-ramoops-", "dmesg-efi-", "dmesg-efi_capsule-", "dmesg-erst-", "dmesg-powerpc-")
DETECT_BYTES = 65536


def is_binary(sample: bytes) -> bool:
    """True when ``sample`` is mostly not text (NUL bytes and control characters)."""
    if not sample:
        return False
    bad = sum(sample.count(bytes([c])) for c in (*range(0, 9), 11, 12, *range(14, 27), *range(28, 32)))
    return bad > len(sample) * 0.1


def detect_format(sample: bytes, name: str = "") -> Optional[str]:
    """The input format of a log from its first bytes (and file name), or ``None`` if it is no kernel log."""
    base = os.path.basename(name)
    lines = [ln for ln in sample[:DETECT_BYTES].split(b"\n")[:400] if ln.strip(b"\r\x00")]
    if not lines:
        return None
    if base.startswith(_PSTORE_NAMES) or _PSTORE_HEADER.match(lines[0]):
        return "pstore"
    kmsg = journal = syslog = prefixed = plain = 0
    tagged = indented = 0
    for ln in lines[:200]:
        if _KMSG_HEAD.match(ln):
            kmsg += 1
        elif ln.startswith((b"{", b"\x1e{")):
            journal += b'"MESSAGE"' in ln or b'"__CURSOR"' in ln
        else:
            m = _SYSLOG_SIGNATURE.match(ln)
            if m:
                syslog += 1
                # After a "[seconds]" stamp, "kernel:" and "name[pid]:" tags tell journalctl lines from dmesg's
                # "usb 1-1:" or "sd 0:0:0:0:"; after a date (RFC 3164/5424/3339) the layout itself does.
                tagged += not ln.startswith(b"[") or m.group(3) == b"kernel" or m.group(4) is not None
            if _DMESG_SIGNATURE.match(ln):
                prefixed += 1
            elif ln.startswith((b" ", b"\t")):
                indented += 1
            elif not m and not _JOURNAL_MARKER.match(ln):
                plain += 1
    n = min(len(lines), 200)
    if kmsg * 2 >= n:
        return "kmsg"
    if journal * 2 >= n:
        return "journal-json"
    # journalctl short-monotonic lines look like dmesg lines: nearly all of them carry a syslog tag.
    if syslog * 2 >= n and (syslog > prefixed or tagged * 5 >= (n - indented) * 4):
        return "syslog"
    if prefixed:
        head = sample[:DETECT_BYTES]
        if plain or b"\r" in head or b"\x1b" in head or b"][" in head:
            return "console"
        return "dmesg"
    if any(_KERNEL_MARKERS.search(ln) for ln in lines):
        return "console"
    return None


# -- per-format line parsers -----------------------------------------------------------------------------
_HEX_ESCAPE = re.compile(rb"\\x([0-9a-fA-F]{2})")
_ANSI = re.compile(r"\x1b(?:\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[()][0-9A-Za-z]|[@-Z\\-_])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_RSYSLOG_ESCAPE = re.compile(r"#0([0-3][0-7])")
_DMESG_PREFIX = re.compile(
    r"(?:<(?P<prio>\d{1,3})>)?"
    r"(?:(?P<fac>" + "|".join(FACILITIES) + r") *:(?P<lvl>" + "|".join(LEVELS) + r") *: )?"
    r"(?:(?:\[ *(?P<mono>\d+\.\d+)(?: *<[ \d.]+>)?\]"
    r"|\[(?P<ctime>[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4})\]"
    r"|\[[A-Z][a-z]{2}\d\d? \d\d:\d\d\]|\[ *[+-]\d+\.\d+\])(?: ?\[ *(?P<caller>[TC]\d+)\])? ?"
    r"|(?P<iso>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:[,.]\d+)?(?:Z|[+-]\d\d:?\d\d)) (?:\[ *(?P<caller2>[TC]\d+)\] )?)?")
_SYSLOG_LINE = re.compile(
    r"(?:<(?P<pri>\d{1,3})>1 (?P<ts5424>\S+) (?P<host5424>\S+) (?P<app>\S+) \S+ \S+ (?:-|(?:\[(?:[^\]\\]|\\.)*\])+) ?"
    r"|(?:(?P<bsd>(?P<mon>[A-Z][a-z]{2}) (?P<day>[ \d]\d) (?P<hms>\d\d:\d\d:\d\d)(?P<frac>\.\d+)?)"
    r"|(?P<iso>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?)"
    r"|\[ *(?P<mono>\d+\.\d+)\]) (?:(?P<host>\S*[^\s:]) )?(?P<tag>[^\s:\[]+)(?:\[(?P<pid>\d+)\])?: ?)")
_KERNEL_TS = re.compile(r"\[ *(\d+\.\d+)\] ?")
_ISO = re.compile(r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[,.](\d+))?(Z|[+-]\d\d:?\d\d)?")


def parse_iso(text: str) -> Optional[datetime]:
    """``2026-11-26T05:02:29,123456+00:00`` (also ``.``, ``+0000``, ``Z``, no zone) → datetime."""
    m = _ISO.match(text)
    if not m:
        return None
    year, month, day, hour, minute, sec, frac, zone = m.groups()
    tz: Optional[timezone] = None
    if zone == "Z":
        tz = timezone.utc
    elif zone:
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        tz = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    try:
        return datetime(int(year), int(month), int(day), int(hour), int(minute), int(sec),
                        int((frac or "0")[:6].ljust(6, "0")), tzinfo=tz)
    except ValueError:
        return None


def _ctime(text: str) -> Optional[datetime]:
    """``Thu Nov 26 05:02:29 2026`` (dmesg -T, local time of the host that printed it) → naive datetime."""
    parts = text.split()
    try:
        hour, minute, sec = (int(p) for p in parts[3].split(":"))
        return datetime(int(parts[4]), _MONTHS[parts[1]], int(parts[2]), hour, minute, sec)
    except (KeyError, ValueError, IndexError):
        return None


def _decode(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace")
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT] + " …[truncated]"
    if "\x00" in text:
        text = text.replace("\x00", "")
    return text


def _unescape_kmsg(raw: bytes) -> str:
    if b"\\x" in raw:
        raw = _HEX_ESCAPE.sub(lambda m: bytes((int(m.group(1), 16),)), raw)
    return _decode(raw)


def _split_prio(prio: int) -> tuple[int, int]:
    return prio & 7, prio >> 3


class RecordReader:
    """Turns the lines of one input, in order, into records; also counts records in skipped regions.

    One reader per input: it remembers whether a record was seen (for the counting rule), for syslog
    dates without a year the year to assume, and for the running boot's log the boot time.
    """

    def __init__(self, fmt: str, source: str = "", year: Optional[int] = None,
                 boot_time: Optional[float] = None) -> None:
        self.fmt = canonical_format(fmt)
        self.source = source
        self.continuation = self.fmt in CONTINUATION_FORMATS
        self.seen_record = False
        self.year = year or datetime.now().year
        # Epoch seconds at boot, for this boot's own log: stamps seconds-since-boot with the wall clock
        # (like dmesg -T, off by the time spent suspended).
        self.boot_time = boot_time
        self._skip: Optional[re.Pattern[bytes]] = {
            "pstore": _PSTORE_HEADER, "syslog": _JOURNAL_MARKER}.get(self.fmt)
        self._parse = getattr(self, "_parse_" + self.fmt.replace("-", "_"))
        self._special = re.compile(b"(?m)^(?:" + "|".join(special_line_prefixes(self.fmt)).encode() + b")")
        self._indented = re.compile(rb"(?m)^[ \t]")

    # -- iteration ----------------------------------------------------------------------------------
    def _is_skipped(self, raw: bytes) -> bool:
        return raw in (b"", b"\r") or (self._skip is not None and self._skip.match(raw) is not None)

    def next_record(self, buf: bytes, pos: int, end: int, line: int) -> tuple[Optional[Record], int, int]:
        """Parse the record at or after ``pos`` (a line start) in ``buf[:end]``.

        Returns ``(record or None at the end, position after it, line number after it)``; ``line`` is the
        1-based line number at ``pos``. Blank lines, headers and orphaned continuation lines are skipped.
        """
        cont = self.continuation
        while pos < end:
            nl = buf.find(b"\n", pos, end)
            stop, nxt = (end, end) if nl < 0 else (nl, nl + 1)
            raw = buf[pos:stop]
            if self._is_skipped(raw) or (cont and self.seen_record and raw[:1] in (b" ", b"\t")):
                pos, line = nxt, line + 1
                continue
            first = line
            pos, line = nxt, line + 1
            conts: list[bytes] = []
            if cont:
                while pos < end and buf[pos] in (32, 9):
                    nl = buf.find(b"\n", pos, end)
                    stop, nxt = (end, end) if nl < 0 else (nl, nl + 1)
                    conts.append(buf[pos:stop])
                    pos, line = nxt, line + 1
            self.seen_record = True
            rec = self._parse(raw, conts)
            rec.source = self.source
            rec.line = first
            if self.boot_time is not None and rec.wallclock is None and rec.ts_mono is not None:
                rec.wallclock = datetime.fromtimestamp(self.boot_time + rec.ts_mono, timezone.utc).astimezone()
            return rec, pos, line
        return None, pos, line

    def records(self, buf: bytes, start: int = 0, end: Optional[int] = None,
                line: int = 1) -> Iterator[Record]:
        end = len(buf) if end is None else end
        while True:
            rec, start, line = self.next_record(buf, start, end, line)
            if rec is None:
                return
            yield rec

    # -- counting without parsing -------------------------------------------------------------------
    def special_lines(self, buf: bytes, start: int, end: int) -> list[int]:
        """Starts of the lines in ``buf[start:end]`` that may be no record start besides indented ones (blank,
        headers: :func:`special_line_prefixes`); the fast scanner gets this list from its prefilter."""
        return [m.start() for m in self._special.finditer(buf, start, end)]

    def indented_lines(self, buf: bytes, start: int, end: int) -> list[int]:
        """Starts of the lines in ``buf[start:end]`` that begin with a space or a tab."""
        return [m.start() for m in self._indented.finditer(buf, start, end)]

    def count(self, buf: bytes, start: int, end: int, specials: Optional[list[int]] = None,
              indented: Optional[list[int]] = None) -> tuple[int, int]:
        """``(lines, records)`` in ``buf[start:end]`` (``start`` at a line start) by the counting rule,
        without parsing; exactly what :meth:`next_record` would yield over the same region.

        ``specials`` / ``indented``: sorted starts of (at least) the special lines / exactly the indented
        lines of the whole buffer, if already known; then the other lines are just counted newlines.
        """
        if end <= start:
            return 0, 0
        lines = buf.count(b"\n", start, end)
        candidates = self.special_lines(buf, start, end) if specials is None else \
            specials[bisect.bisect_left(specials, start):bisect.bisect_left(specials, end)]
        if buf[end - 1] != 10:  # a last line without newline (also a lone "\r" there)
            lines += 1
            tail = buf.rfind(b"\n", start, end) + 1 or start
            if not candidates or candidates[-1] != tail:
                candidates = [*candidates, tail]
        records = lines - sum(1 for ls in candidates if buf[ls] not in (32, 9)
                              and self._is_skipped(buf[ls:_line_end(buf, ls, end)]))
        if self.continuation:
            if indented is None:
                n_indented = len(self.indented_lines(buf, start, end))
            else:
                n_indented = bisect.bisect_left(indented, end) - bisect.bisect_left(indented, start)
            records -= n_indented
            if n_indented and not self.seen_record and records + n_indented > 0:
                records += self._first_is_orphan(buf, start, end)
        if records > 0:
            self.seen_record = True
        return lines, records

    def _first_is_orphan(self, buf: bytes, pos: int, end: int) -> bool:
        """Is the first non-blank, non-header line of the region indented (a record of its own)?"""
        while pos < end:
            nl = buf.find(b"\n", pos, end)
            stop = end if nl < 0 else nl
            raw = buf[pos:stop]
            if not self._is_skipped(raw):
                return raw[:1] in (b" ", b"\t")
            pos = end if nl < 0 else nl + 1
        return False

    # -- parsers ------------------------------------------------------------------------------------
    def _parse_kmsg(self, raw: bytes, conts: list[bytes]) -> Record:
        head, sep, body = raw.partition(b";")
        parts = head.split(b",")
        if not sep or len(parts) < 4 or not (parts[0].isdigit() and parts[1].isdigit() and parts[2].isdigit()):
            return Record(text=_decode(raw.rstrip(b"\r")))
        level, facility = _split_prio(int(parts[0]))
        caller = None
        for extra in parts[4:]:
            if extra.startswith(b"caller="):
                caller = extra[7:].decode("ascii", "replace")
        fields: dict[str, str] = {}
        for c in conts:
            key, eq, value = c[1:].partition(b"=")
            if eq and key:
                fields[key.decode("ascii", "replace")] = _unescape_kmsg(value)
        return Record(text=_unescape_kmsg(body), level=level, facility=facility, seq=int(parts[1]),
                      ts_mono=int(parts[2]) / 1e6, caller=caller, fields=fields, userspace=facility != 0)

    def _parse_dmesg_line(self, text: str) -> Record:
        m = _DMESG_PREFIX.match(text)
        assert m is not None  # every group is optional
        rec = Record(text=text[m.end():])
        prio, fac, lvl = m.group("prio"), m.group("fac"), m.group("lvl")
        if fac and lvl:
            rec.facility, rec.level = _FACILITY_NUM[fac], _LEVEL_NUM[lvl]
        elif prio:
            rec.level, rec.facility = _split_prio(int(prio))
        rec.userspace = bool(rec.facility)
        if m.group("mono"):
            rec.ts_mono = float(m.group("mono"))
        elif m.group("ctime"):
            rec.wallclock = _ctime(m.group("ctime"))
        elif m.group("iso"):
            rec.wallclock = parse_iso(m.group("iso"))
        rec.caller = m.group("caller") or m.group("caller2")
        return rec

    def _parse_dmesg(self, raw: bytes, conts: list[bytes]) -> Record:
        text = _decode(raw.rstrip(b"\r"))
        rec = self._parse_dmesg_line(text)
        if conts:
            # dmesg indents the extra lines of a multi-line record by the width of the line prefix.
            indent = len(text) - len(rec.text)
            extra = [_decode(c.rstrip(b"\r")) for c in conts]
            rec.text = "\n".join([rec.text] + [e[indent:] if e[:indent].isspace() else e.lstrip() for e in extra])
        return rec

    def _parse_console(self, raw: bytes, conts: list[bytes]) -> Record:
        text = _decode(raw)
        if "\r" in text:
            text = text.rstrip("\r").rsplit("\r", 1)[-1]  # what the terminal showed last
        if "\x1b" in text:
            text = _ANSI.sub("", text)
        if _CONTROL.search(text):
            text = _CONTROL.sub("", text)
        return self._parse_dmesg_line(text)

    _parse_pstore = _parse_console

    def _parse_syslog(self, raw: bytes, conts: list[bytes]) -> Record:
        text = _decode(raw.rstrip(b"\r"))
        if conts:  # journalctl short indents the extra lines of a multi-line message
            text = "\n".join([text] + [_decode(c.rstrip(b"\r")).strip() for c in conts])
        if "#0" in text:  # rsyslog escapes control characters as #ooo (#012 newline, #011 tab)
            text = _RSYSLOG_ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), text)
        m = _SYSLOG_LINE.match(text)
        if not m:
            return Record(text=text)
        rec = Record(text=text[m.end():])
        tag = m.group("tag") or m.group("app")
        rec.fields["SYSLOG_IDENTIFIER"] = tag
        if m.group("pri"):
            rec.level, rec.facility = _split_prio(int(m.group("pri")))
            rec.wallclock = parse_iso(m.group("ts5424"))
        elif m.group("bsd"):
            rec.wallclock = self._bsd_date(m)
        elif m.group("iso"):
            rec.wallclock = parse_iso(m.group("iso"))
        elif m.group("mono"):
            rec.ts_mono = float(m.group("mono"))
        rec.userspace = tag != "kernel" or bool(rec.facility)
        if not rec.userspace:
            k = _KERNEL_TS.match(rec.text)
            if k:  # rsyslog before v8.2312 and klogd keep the kernel's own timestamp
                rec.ts_mono = float(k.group(1))
                rec.text = rec.text[k.end():]
        return rec

    def _bsd_date(self, m: re.Match[str]) -> Optional[datetime]:
        """RFC 3164 dates carry no year: assume the reader's year (the file's, by default this one)."""
        try:
            hour, minute, sec = (int(p) for p in m.group("hms").split(":"))
            frac = m.group("frac")
            return datetime(self.year, _MONTHS[m.group("mon")], int(m.group("day")), hour, minute, sec,
                            int(frac[1:7].ljust(6, "0")) if frac else 0)
        except (KeyError, ValueError):
            return None

    def _parse_journal_json(self, raw: bytes, conts: list[bytes]) -> Record:
        try:
            obj = json.loads(raw.lstrip(b"\x1e").decode("utf-8", "replace"))
        except ValueError:
            obj = None
        if not isinstance(obj, dict):
            return Record(text=_decode(raw.rstrip(b"\r")))
        rec = Record(text=_journal_str(obj.get("MESSAGE")) or "")
        prio = _journal_int(obj.get("PRIORITY"))
        if prio is not None:
            rec.level = prio & 7
        transport = _journal_str(obj.get("_TRANSPORT"))
        ident = _journal_str(obj.get("SYSLOG_IDENTIFIER"))
        facility = _journal_int(obj.get("SYSLOG_FACILITY"))
        rec.facility = facility if facility is not None else (0 if transport == "kernel" else None)
        rec.userspace = bool(rec.facility) or (transport not in (None, "kernel")) or (
            ident is not None and ident != "kernel")
        mono = _journal_int(obj.get("_SOURCE_MONOTONIC_TIMESTAMP"))
        if mono is None:
            mono = _journal_int(obj.get("__MONOTONIC_TIMESTAMP"))
        rec.ts_mono = mono / 1e6 if mono is not None else None
        real = _journal_int(obj.get("_SOURCE_REALTIME_TIMESTAMP"))
        if real is None:
            real = _journal_int(obj.get("__REALTIME_TIMESTAMP"))
        if real is not None:
            try:
                rec.wallclock = datetime.fromtimestamp(real / 1e6, timezone.utc)
            except (OverflowError, OSError, ValueError):
                pass
        for key, name in (("_KERNEL_SUBSYSTEM", "SUBSYSTEM"), ("_KERNEL_DEVICE", "DEVICE"),
                          ("_UDEV_SYSNAME", "UDEV_SYSNAME"), ("_UDEV_DEVNODE", "UDEV_DEVNODE"),
                          ("SYSLOG_IDENTIFIER", "SYSLOG_IDENTIFIER"), ("_TRANSPORT", "TRANSPORT"),
                          ("_BOOT_ID", "BOOT_ID")):
            value = _journal_str(obj.get(key))
            if value is not None:
                rec.fields[name] = value
        return rec


def _line_end(buf: bytes, pos: int, end: int) -> int:
    nl = buf.find(b"\n", pos, end)
    return end if nl < 0 else nl


def _journal_str(value: Any) -> Optional[str]:
    """A journal JSON value as text: strings as is, byte arrays decoded, repeated fields joined."""
    if value is None:
        return None
    if isinstance(value, str):
        return value[:MAX_TEXT]
    if isinstance(value, list):
        if value and all(isinstance(b, int) and 0 <= b < 256 for b in value):
            return _decode(bytes(value))
        parts = [_journal_str(v) for v in value]
        return "\n".join(p for p in parts if p is not None)
    return str(value)


def _journal_int(value: Any) -> Optional[int]:
    text = _journal_str(value)
    if text is None:
        return None
    try:
        return int(text.split("\n", 1)[0])
    except ValueError:
        return None


def iter_records(data: bytes, source: str, fmt: Optional[str] = None) -> Iterator[Record]:
    """All records of one input, in order (format detected from the data when ``fmt`` is ``None``).

    Raises ``ValueError`` when no format is given and the data is not recognisably a kernel log.
    """
    if fmt is None:
        fmt = detect_format(data[:DETECT_BYTES], source)
        if fmt is None:
            raise ValueError(f"{source}: not a kernel log in any known format")
    return RecordReader(fmt, source).records(data)
