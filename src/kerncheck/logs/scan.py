"""The scan driver: kernel log inputs → classified incidents, fast.

Each input is one *source* with its own :class:`~kerncheck.logs.incidents.IncidentBuilder`. Inputs are
read in large blocks split at record boundaries; a multi-pattern prefilter (:mod:`kerncheck.logs.prefilter`)
over the raw bytes finds candidate lines — incident openers from :data:`kerncheck.logs.patterns.PREFILTER`
and every record whose level is err or worse (:data:`kerncheck.logs.records.LEVEL_PATTERNS`). Records are
parsed only from a candidate on, fed to the builder until it is idle again, and merely counted in between
(:meth:`RecordReader.count`, so ``Record.line`` stays the true line and ``records`` the true count).

Public API (used by ``kerncheck scan``, audit checks, ``disks``, the crash-test guard):
:func:`scan_paths`, :func:`scan_bytes`, :func:`scan_text`, :func:`scan_host`, :class:`ScanResult`.
"""

from __future__ import annotations

import bz2
import functools
import gzip
import lzma
import os
import shutil
import stat
import subprocess
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import IO, Any, Callable, Optional, cast

from kerncheck.logs.incidents import IncidentBuilder
from kerncheck.logs.model import Incident, Record
from kerncheck.logs.patterns import PREFILTER
from kerncheck.logs.prefilter import SMALL_FOR_RE, SMALL_FOR_RE2, Prefilter
from kerncheck.logs.records import (
    CONTINUATION_FORMATS,
    DETECT_BYTES,
    LEVEL_PATTERNS,
    RecordReader,
    canonical_format,
    detect_format,
    is_binary,
    special_line_prefixes,
    userspace_level_patterns,
)

SCHEMA = "kerncheck.scan/1"
BLOCK_SIZE = 8 << 20
MAX_CARRY = 2 * BLOCK_SIZE  # a "line" longer than this is cut: the input is not a log
FEED_CAP = 50_000  # records fed after one candidate before the scanner skips ahead regardless
Progress = Callable[[int], None]  # called with the number of input bytes consumed so far


class SourceError(Exception):
    """One input could not be scanned (``str()`` is the message for the user)."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source
        self.message = message


@dataclass
class ScanResult:
    incidents: list[Incident] = field(default_factory=list)
    records: int = 0
    lost_records: int = 0
    sources: list[str] = field(default_factory=list)
    errors: list[SourceError] = field(default_factory=list)
    formats: dict[str, str] = field(default_factory=dict)  # source → detected or forced input format

    def to_json(self) -> dict[str, Any]:
        """The ``kerncheck.scan/1`` document of DESIGN.md."""
        return {
            "schema": SCHEMA,
            "incidents": [i.to_json() for i in self.incidents],
            "records": self.records,
            "lost_records": self.lost_records,
            "sources": list(self.sources),
        }

    def merge(self, other: ScanResult) -> None:
        self.incidents += other.incidents
        self.records += other.records
        self.lost_records += other.lost_records
        self.sources += other.sources
        self.errors += other.errors
        self.formats.update(other.formats)


# -- reading inputs --------------------------------------------------------------------------------------
_MAGIC = ((b"\x1f\x8b", "gzip"), (b"\xfd7zXZ\x00", "xz"), (b"BZh", "bzip2"), (b"\x28\xb5\x2f\xfd", "zstd"))


def _open(path: str) -> tuple[IO[bytes], IO[bytes], Optional[subprocess.Popen[bytes]]]:
    """``(decompressed stream, raw file for progress, zstd process)`` of a path; raises ``SourceError``.

    Regular files and pipes (``<(dmesg)``) are read; directories and devices are refused with a reason.
    """
    try:
        mode = os.stat(path).st_mode
        if stat.S_ISDIR(mode):
            raise SourceError(path, "is a directory, not a log file")
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
            hint = ": for the kernel ring buffer use --live" if os.path.realpath(path) == "/dev/kmsg" else ""
            raise SourceError(path, "is a device, not a log file" + hint)
        raw = open(path, "rb")  # noqa: SIM115 - closed by the caller
    except FileNotFoundError:
        raise SourceError(path, "no such file") from None
    except PermissionError:
        raise SourceError(path, "permission denied") from None
    except OSError as exc:
        raise SourceError(path, exc.strerror or str(exc)) from None
    try:
        head = raw.peek(6)[:6]
    except OSError as exc:
        raw.close()
        raise SourceError(path, exc.strerror or str(exc)) from None
    kind = next((name for magic, name in _MAGIC if head.startswith(magic)), None)
    if kind == "gzip":
        return cast(IO[bytes], gzip.GzipFile(fileobj=raw)), raw, None
    if kind == "xz":
        return cast(IO[bytes], lzma.LZMAFile(raw)), raw, None
    if kind == "bzip2":
        return cast(IO[bytes], bz2.BZ2File(raw)), raw, None
    if kind == "zstd":
        exe = shutil.which("zstd")
        if exe is None or not raw.seekable():
            raw.close()
            raise SourceError(path, "zstd-compressed: needs the zstd program and a regular file, not a pipe"
                              if exe else "zstd-compressed, but the zstd program is not installed")
        os.lseek(raw.fileno(), 0, os.SEEK_SET)  # peek() read ahead on the descriptor that zstd inherits
        proc = subprocess.Popen([exe, "-dcq"], stdin=raw, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdout is not None
        return proc.stdout, raw, proc
    return cast(IO[bytes], raw), raw, None


def _read_full(stream: IO[bytes], size: int) -> bytes:
    """Read up to ``size`` bytes (pipes and decompressors may return less per call)."""
    chunk = stream.read(size)
    if not chunk or len(chunk) >= size:
        return chunk
    parts = [chunk]
    have = len(chunk)
    while have < size:
        more = stream.read(size - have)
        if not more:
            break
        parts.append(more)
        have += len(more)
    return b"".join(parts)


def _boundary(buf: bytes, continuation: bool) -> int:
    """Offset just after the last newline of ``buf`` that ends a record (0 if there is none)."""
    cut = buf.rfind(b"\n")
    if continuation:
        while cut >= 0 and cut + 1 < len(buf) and buf[cut + 1] in (32, 9):
            cut = buf.rfind(b"\n", 0, cut)
    return cut + 1


def _blocks(first: bytes, stream: Optional[IO[bytes]], continuation: bool,
            block_size: int = BLOCK_SIZE) -> Iterator[tuple[bytes, int]]:
    """``(buffer, end)`` pairs: ``buffer[:end]`` holds whole records; the rest is carried forward."""
    buf = first
    while True:
        more = _read_full(stream, block_size) if stream is not None else b""
        if more:
            buf = buf + more if buf else more
        if not more:
            if buf:
                yield buf, len(buf)
            return
        cut = _boundary(buf, continuation)
        if cut == 0:
            if len(buf) < MAX_CARRY:
                continue
            cut = len(buf)
        yield buf, cut
        buf = buf[cut:]


# -- the driver ------------------------------------------------------------------------------------------
class _SourceScan:
    """Scan state of one source: reader, builder(s), counters."""

    def __init__(self, name: str, fmt: str, prefilter: Prefilter, include_userspace: bool,
                 steal_percent: Optional[float], year: Optional[int], boot_time: Optional[float]) -> None:
        self.name = name
        self.reader = RecordReader(fmt, name, year=year, boot_time=boot_time)
        self.prefilter = prefilter
        self.builder = IncidentBuilder(name, steal_percent=steal_percent)
        self.user_builder = IncidentBuilder(name) if include_userspace else None
        self.incidents: list[Incident] = []
        self.line = 1
        self.records = 0
        self.first_seq: Optional[int] = None
        self.last_seq: Optional[int] = None
        self._feeding = False

    @property
    def _idle(self) -> bool:
        return self.builder.idle and (self.user_builder is None or self.user_builder.idle)

    def block(self, buf: bytes, end: int) -> None:
        pos = 0
        if self._feeding:
            pos = self._feed(buf, pos, end)
        cont = self.reader.continuation
        while pos < end:
            hit = self.prefilter.first_end(buf, pos, end)
            if hit is None:
                break
            start = max(pos, buf.rfind(b"\n", pos, hit - 1) + 1)
            if cont:  # a match on an indented line: parse from the record's first line
                while start > pos and buf[start] in (32, 9):
                    start = max(pos, buf.rfind(b"\n", pos, start - 1) + 1)
            self._skip(buf, pos, start)
            pos = self._feed(buf, start, end)  # consumes at least the candidate's line
        self._skip(buf, pos, end)
        self.prefilter.forget()

    def _skip(self, buf: bytes, start: int, end: int) -> None:
        lines, records = self.reader.count(buf, start, end, self.prefilter.special_lines(buf),
                                           self.prefilter.indented_lines(buf))
        self.line += lines
        self.records += records

    def _feed(self, buf: bytes, pos: int, end: int) -> int:
        fed = 0
        while pos < end:
            rec, pos, self.line = self.reader.next_record(buf, pos, end, self.line)
            if rec is None:
                break
            self.records += 1
            self._one(rec)
            fed += 1
            if self._idle or fed >= FEED_CAP:
                self._feeding = False
                return pos
        self._feeding = not self._idle
        return pos

    def _one(self, rec: Record) -> None:
        if rec.userspace:
            if self.user_builder is not None:
                kernelish = replace(rec, userspace=False, facility=0)
                self.incidents += [_mark_userspace(i) for i in self.user_builder.feed(kernelish)]
            return
        self.incidents += self.builder.feed(rec)

    def finish(self) -> list[Incident]:
        self.incidents += self.builder.finish()
        if self.user_builder is not None:
            self.incidents += [_mark_userspace(i) for i in self.user_builder.finish()]
        return self.incidents

    def note_seq(self, buf: bytes, end: int) -> None:
        """Remember the first and last kmsg sequence numbers (lost records = gaps between them)."""
        if self.first_seq is None:
            self.first_seq = _kmsg_seq(buf, 0, end)
        line_end = end
        while line_end > 0:
            start = buf.rfind(b"\n", 0, line_end - 1) + 1
            if buf[start] not in (32, 9):
                seq = _kmsg_seq(buf, start, line_end)
                if seq is not None:
                    self.last_seq = seq
                return
            line_end = start

    @property
    def lost(self) -> int:
        if self.first_seq is None or self.last_seq is None:
            return 0
        return max(0, self.last_seq - self.first_seq + 1 - self.records)


def _kmsg_seq(buf: bytes, start: int, end: int) -> Optional[int]:
    head = buf[start:min(end, start + 64)].split(b";", 1)[0].split(b",")
    if len(head) >= 3 and head[1].isdigit():
        return int(head[1])
    return None


def _mark_userspace(incident: Incident) -> Incident:
    incident.details["userspace"] = True
    incident.title = f"[userspace] {incident.title}"
    return incident


@functools.lru_cache(maxsize=32)
def _prefilter(fmt: str, include_userspace: bool, size: Optional[int] = None) -> Prefilter:
    patterns = list(PREFILTER) + list(LEVEL_PATTERNS.get(fmt, ()))
    if include_userspace:
        patterns += userspace_level_patterns(fmt)
    return Prefilter(patterns, special=special_line_prefixes(fmt), indented=fmt in CONTINUATION_FORMATS, size=size)


def _size_class(first: bytes, stream: Optional[IO[bytes]]) -> Optional[int]:
    """The input's size when it is all in ``first`` and small (engine choice), else ``None``."""
    if stream is not None and len(first) >= BLOCK_SIZE:
        return None
    return SMALL_FOR_RE - 1 if len(first) < SMALL_FOR_RE else SMALL_FOR_RE2 - 1 if len(first) < SMALL_FOR_RE2 else None


def _scan_stream(name: str, first: bytes, stream: Optional[IO[bytes]], *, input_format: Optional[str],
                 include_userspace: bool, steal_percent: Optional[float] = None, year: Optional[int] = None,
                 boot_time: Optional[float] = None, progress: Optional[Callable[[], None]] = None) -> ScanResult:
    """Scan one source whose first bytes are ``first`` and whose remainder (if any) is ``stream``."""
    if not first:
        raise SourceError(name, "empty: no records to scan")
    if input_format:
        fmt = canonical_format(input_format)
    else:
        if is_binary(first[:DETECT_BYTES]):
            raise SourceError(name, "binary data, not a text log (use --input-format to scan it anyway)")
        detected = detect_format(first[:DETECT_BYTES], name)
        if detected is None:
            raise SourceError(name, "does not look like a kernel log: no line in a known kernel log format in "
                                    "its first 64 KiB (use --input-format to scan it anyway)")
        fmt = detected
    prefilter = _prefilter(fmt, include_userspace, _size_class(first, stream))
    state = _SourceScan(name, fmt, prefilter, include_userspace, steal_percent, year, boot_time)
    result = ScanResult(sources=[name], formats={name: fmt})
    try:
        for buf, end in _blocks(first, stream, state.reader.continuation):
            state.block(buf, end)
            if fmt == "kmsg":
                state.note_seq(buf, end)
            if progress is not None:
                progress()
    except (OSError, EOFError, lzma.LZMAError, zlib.error) as exc:
        # A corrupt or truncated compressed file: keep what was read, say where it stopped.
        result.errors.append(SourceError(name, f"read stopped after line {state.line - 1}: {exc}"))
    result.incidents = sorted(state.finish(), key=lambda i: i.first_line)
    result.records = state.records
    result.lost_records = state.lost
    return result


def _finalize(result: ScanResult, since: Optional[datetime], min_severity: Optional[str],
              fold: bool = True) -> ScanResult:
    from kerncheck.logs.aggregate import aggregate

    # Userspace look-alikes fold only among themselves: they must never merge into kernel evidence.
    kernel = [i for i in result.incidents if not i.details.get("userspace")]
    user = [i for i in result.incidents if i.details.get("userspace")]
    folded = aggregate(kernel, since=since, min_severity=min_severity, fold=fold)
    folded += aggregate(user, since=since, min_severity=min_severity, fold=fold)
    result.incidents = sorted(folded, key=lambda i: (i.source, i.first_line))
    return result


def _ticker(progress: Progress, base: int, raw: IO[bytes]) -> Callable[[], None]:
    """Report the input file's read offset (shared with a zstd child reading the same descriptor)."""
    fd = raw.fileno()

    def tick() -> None:
        try:
            progress(base + os.lseek(fd, 0, os.SEEK_CUR))
        except OSError:  # a pipe has no offset
            pass

    return tick


# -- public API ------------------------------------------------------------------------------------------
def _scan_one(data: bytes, source: str, **kwargs: Any) -> ScanResult:
    try:
        return _scan_stream(source, data, None, **kwargs)
    except SourceError as exc:
        return ScanResult(errors=[exc])


def scan_bytes(data: bytes, source: str, *, input_format: Optional[str] = None,
               since: Optional[datetime] = None, min_severity: Optional[str] = None,
               include_userspace: bool = False, steal_percent: Optional[float] = None,
               boot_time: Optional[float] = None, fold: bool = True) -> ScanResult:
    """Scan one in-memory input. Problems with it land in ``errors``; nothing is raised.

    ``steal_percent`` and ``boot_time`` (epoch seconds) describe the machine the log is from, when it is
    this boot of this machine: soft lockups may then be put down to steal time, and records get wall
    clock times. ``fold=False`` keeps repeated incidents apart (each OOM kill with its own RSS).
    """
    result = _scan_one(data, source, input_format=input_format, include_userspace=include_userspace,
                       steal_percent=steal_percent, boot_time=boot_time)
    return _finalize(result, since, min_severity, fold)


def scan_text(text: str, source: str = "<text>") -> list[Incident]:
    """Incidents in a kernel log given as text (format detected; plain text if none is recognised)."""
    data = text.encode("utf-8", "replace")
    fmt = None if detect_format(data[:DETECT_BYTES], source) else "console"
    return scan_bytes(data, source, input_format=fmt).incidents


def scan_paths(paths: Sequence[str], *, input_format: Optional[str] = None, since: Optional[datetime] = None,
               min_severity: Optional[str] = None, include_userspace: bool = False,
               progress: Optional[Progress] = None, fold: bool = True) -> ScanResult:
    """Scan files (plain or gzip/xz/bzip2/zstd-compressed), each an independent source.

    A file that cannot be read or is no kernel log adds a :class:`SourceError` to ``errors``; the other
    files are still scanned. ``progress`` is called with the input bytes consumed so far (all files).
    """
    total = ScanResult()
    done_before = 0
    for path in paths:
        try:
            stream, raw, proc = _open(path)
        except SourceError as exc:
            total.errors.append(exc)
            continue
        try:
            info = os.fstat(raw.fileno())
            year = datetime.fromtimestamp(info.st_mtime).year
            tick = _ticker(progress, done_before, raw) if progress is not None else None
            first = _read_full(stream, BLOCK_SIZE)
            result = _scan_stream(path, first, stream, input_format=input_format,
                                  include_userspace=include_userspace, year=year, progress=tick)
            if proc is not None and proc.wait() != 0:
                err = proc.stderr.read().decode("utf-8", "replace").strip() if proc.stderr else ""
                result.errors.append(SourceError(path, f"zstd failed: {err or 'exit status ' + str(proc.returncode)}"))
            total.merge(result)
            done_before += info.st_size
        except SourceError as exc:
            total.errors.append(exc)
        except (OSError, EOFError, lzma.LZMAError, zlib.error) as exc:
            total.errors.append(SourceError(path, f"cannot read: {exc}"))
        finally:
            if proc is not None:
                proc.kill()
                proc.wait()
                for pipe in (proc.stdout, proc.stderr):
                    if pipe is not None:
                        pipe.close()
            stream.close()
            raw.close()
    return _finalize(total, since, min_severity, fold)


def scan_stream(stream: IO[bytes], source: str, *, input_format: Optional[str] = None,
                since: Optional[datetime] = None, min_severity: Optional[str] = None,
                include_userspace: bool = False) -> ScanResult:
    """Scan an uncompressed byte stream (standard input) in blocks, with flat memory."""
    try:
        first = _read_full(stream, BLOCK_SIZE)
        result = _scan_stream(source, first, stream, input_format=input_format, include_userspace=include_userspace)
    except SourceError as exc:
        result = ScanResult(errors=[exc])
    except OSError as exc:
        result = ScanResult(errors=[SourceError(source, f"cannot read: {exc}")])
    return _finalize(result, since, min_severity)


def scan_host(host: Any, *, include_userspace: bool = False, fold: bool = True) -> ScanResult:
    """The current boot's kernel log of a host (``host.kernel_log()``); ``HostError`` if unreadable.

    On a live host the soft-lockup ``hypervisor_steal`` cause uses this VM's steal time, and incidents are
    stamped with wall clock times (boot time + seconds since boot).
    """
    from kerncheck.logs.sources import boot_time, steal_percent

    name, data = host.kernel_log()
    live = getattr(host, "is_live", False)
    return scan_bytes(data, name, include_userspace=include_userspace, fold=fold,
                      steal_percent=steal_percent(host) if live else None, boot_time=boot_time(host) if live else None)


def scan_sources(inputs: Iterable[tuple[str, bytes]], *, input_format: Optional[str] = None,
                 since: Optional[datetime] = None, min_severity: Optional[str] = None,
                 include_userspace: bool = False, steal_percent: Optional[float] = None,
                 boot_time: Optional[float] = None) -> ScanResult:
    """Several in-memory inputs ``(name, data)``, each an independent source (see :func:`scan_bytes`)."""
    total = ScanResult()
    for name, data in inputs:
        total.merge(_scan_one(data, name, input_format=input_format, include_userspace=include_userspace,
                              steal_percent=steal_percent, boot_time=boot_time))
    return _finalize(total, since, min_severity)
