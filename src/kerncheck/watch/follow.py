"""Followers: read new kernel log data as it arrives, and say where to resume after a restart.

A follower hands out :class:`Block` s of whole lines (a file or journal follower: everything new, up to
the last newline; ``/dev/kmsg``: one record per block) and a :class:`~kerncheck.logs.records.RecordReader`
for their format. The watcher parses only the records its prefilter points at and counts the rest. For
any place in a block, ``token(block, pos, line)`` and then ``position_after(token)`` give the resume
position — a JSON-able dict stored in the watcher state.

``/dev/kmsg`` positions are ``{"boot_id", "seq"}``. The device cannot seek to a sequence number: a resume
in the same boot reads from the oldest record and skips those up to the saved ``seq``; a saved position
from another boot means this boot is unseen, so everything still in the buffer is read; with no saved
position at all the follower starts at the end (``SEEK_END``) unless ``from_start``. Gaps in the sequence
(``EPIPE`` after an overrun, or records overwritten while the watcher was down) are counted as lost.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import json
import os
import select
import subprocess
import time
from dataclasses import dataclass
from typing import Any, Optional

from kerncheck.logs.records import DETECT_BYTES, RecordReader, detect_format

BOOT_ID_PATH = "/proc/sys/kernel/random/boot_id"
KMSG_PATH = "/dev/kmsg"
KMSG_READ = 8192  # the kernel's per-record limit; a smaller buffer makes read() drop the record
MAX_KMSG_BATCH = 20000  # records per read() call, so the loop stays responsive under a flood
FILE_CHUNK = 1 << 20  # bigger blocks gain no speed and cost resident memory


class SourceError(Exception):
    """The source cannot be opened or followed; the message says which and why."""


@dataclass
class Block:
    """Whole lines of the source. ``line`` is the 1-based line number of the first one (for kmsg: the
    record's sequence number); ``base`` is what the follower needs to compute positions inside it."""

    data: bytes
    line: int
    base: Any = None


def read_boot_id(path: str = BOOT_ID_PATH) -> str:
    with open(path) as fh:
        return fh.read().strip()


class SequenceGaps:
    """Skip kmsg records already handled (``seq <= skip_upto``) and count the ones that were lost."""

    def __init__(self, skip_upto: int = -1, last: Optional[int] = None) -> None:
        self.skip_upto = skip_upto
        self.last = last  # None: nothing known yet, the first record read sets the baseline
        self.lost = 0

    def accept(self, seq: int) -> bool:
        if seq <= self.skip_upto:
            return False
        if self.last is not None and seq > self.last + 1:
            self.lost += seq - self.last - 1
        self.last = seq
        return True


class KmsgFollower:
    name = "kmsg"
    source = KMSG_PATH
    parses_everything = True  # one record per read, level and facility in its header: always parsed
    # Wall-clock time of boot, for record times: printk stamps are CLOCK_MONOTONIC (not across suspend).
    boot_wall: Optional[float] = None

    def __init__(self, position: Optional[dict[str, Any]], from_start: bool = False,
                 path: str = KMSG_PATH, boot_id_path: str = BOOT_ID_PATH) -> None:
        self.boot_id = read_boot_id(boot_id_path)
        self.source_id = f"kmsg:{self.boot_id}"
        self.reader = RecordReader("kmsg", KMSG_PATH)
        self.boot_wall = time.time() - time.monotonic()
        try:
            self.fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as exc:
            hint = " (reading it needs CAP_SYSLOG when kernel.dmesg_restrict=1)" if exc.errno == errno.EPERM else ""
            raise SourceError(f"{path}: {exc.strerror}{hint}") from None
        if position and position.get("boot_id") == self.boot_id:
            self.seqs = SequenceGaps(skip_upto=int(position["seq"]), last=int(position["seq"]))
        elif position or from_start:
            self.seqs = SequenceGaps(last=-1)  # this boot is unseen: whatever left the buffer is lost
        else:
            self.seqs = SequenceGaps()
            os.lseek(self.fd, 0, os.SEEK_END)
        self._poll = select.poll()
        self._poll.register(self.fd, select.POLLIN | select.POLLPRI | select.POLLERR)

    def read(self, timeout: float) -> list[Block]:
        out: list[Block] = []
        if not self._poll.poll(timeout * 1000):
            return out
        while len(out) < MAX_KMSG_BATCH:
            try:
                data = os.read(self.fd, KMSG_READ)
            except BlockingIOError:
                break
            except BrokenPipeError:  # overrun: the next read returns the oldest record left; seq shows the gap
                continue
            except OSError as exc:
                if exc.errno == errno.EINVAL:  # a record larger than our buffer was skipped by the kernel
                    continue
                raise
            head = data[: data.find(b";")].split(b",", 3)
            try:
                seq = int(head[1])
            except (IndexError, ValueError):
                continue
            if self.seqs.accept(seq):
                out.append(Block(data, seq, seq))
        return out

    def take_lost(self) -> int:
        lost, self.seqs.lost = self.seqs.lost, 0
        return lost

    def token(self, block: Block, pos: int, line: int) -> Any:
        return block.base if pos else block.base - 1  # after the record, or just before it

    def position_after(self, token: Any) -> dict[str, Any]:
        return {"boot_id": self.boot_id, "seq": int(token)}

    def close(self) -> None:
        os.close(self.fd)


class _Inotify:
    """Wake-ups for a followed file (modify) and its directory (create/rename/delete), via libc's inotify."""

    MODIFY, MOVED_FROM, MOVED_TO, CREATE, DELETE = 0x2, 0x40, 0x80, 0x100, 0x200

    def __init__(self) -> None:
        self._libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        self.fd = self._libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        self._file_wd: Optional[int] = None

    def watch(self, path: str, mask: int) -> int:
        wd = self._libc.inotify_add_watch(self.fd, os.fsencode(path), mask)
        if wd < 0:
            raise OSError(ctypes.get_errno(), f"inotify_add_watch {path} failed")
        return int(wd)

    def watch_file(self, path: str) -> None:
        if self._file_wd is not None:
            self._libc.inotify_rm_watch(self.fd, self._file_wd)
        try:
            self._file_wd = self.watch(path, self.MODIFY)
        except OSError:
            self._file_wd = None

    def wait(self, timeout: float) -> None:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if ready:
            try:
                while os.read(self.fd, 65536):
                    pass
            except BlockingIOError:
                pass

    def close(self) -> None:
        os.close(self.fd)


class _Tail:
    """Read whole lines from a descriptor that grows; what follows the last newline waits for more."""

    def __init__(self) -> None:
        self.rest = b""

    def take(self, fd: int, offset: int, line: int) -> Optional[Block]:
        """The next block (``base`` = its absolute offset) or None; ``line``: lines consumed so far."""
        chunk = os.read(fd, FILE_CHUNK)
        if not chunk:
            return None
        data = self.rest + chunk if self.rest else chunk
        cut = data.rfind(b"\n") + 1
        self.rest = data[cut:]
        if not cut:
            return Block(b"", line + 1, offset)
        return Block(data if cut == len(data) else data[:cut], line + 1, offset)


class FileFollower:
    """Follow a log file like ``tail -F``: across rotation (a new inode) and truncation (copytruncate).

    Positions are ``{"dev", "ino", "offset", "line"}`` (``line``: lines consumed). After a restart, a file
    rotated meanwhile is found again by its inode in the same directory and read to its end first.
    A truncation is seen when the file is shorter than what was read (inotify wakes the follower at once).
    """

    name = "file"
    parses_everything = False
    boot_wall = None

    def __init__(self, path: str, position: Optional[dict[str, Any]], from_start: bool = False) -> None:
        self.path = self.source = os.path.abspath(path)
        self.fd = -1
        self.dev = self.ino = self.offset = self.line = 0
        self.fmt: Optional[str] = None
        self.reader = RecordReader("syslog", self.path)
        self._tail = _Tail()
        self._current: Optional[tuple[int, int, int]] = None  # the live file, while a rotated one is finished
        self._inotify: Optional[_Inotify]
        try:
            self._inotify = _Inotify()
            self._inotify.watch(os.path.dirname(self.path), _Inotify.CREATE | _Inotify.MOVED_TO
                                | _Inotify.MOVED_FROM | _Inotify.DELETE)
        except (OSError, AttributeError, TypeError):
            self._inotify = None  # fall back to polling every 50 ms
        if not (position and self._resume(position)):
            self._open(seek_end=not from_start and not position)

    @property
    def source_id(self) -> str:
        return f"file:{self.dev}:{self.ino}"

    def _detect(self, fd: int) -> None:
        """Pick the format from the file's first bytes (once it has some); a new file keeps the format."""
        if self.fmt is None:
            sample = os.pread(fd, DETECT_BYTES, 0)
            if not sample:
                return
            self.fmt = detect_format(sample, self.path) or "console"
        self.reader = RecordReader(self.fmt, self.path)

    def _open(self, seek_end: bool) -> bool:
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise SourceError(f"{self.path}: {exc.strerror}") from None
        st = os.fstat(fd)
        if self.fd >= 0:
            os.close(self.fd)
        self.fd, self.dev, self.ino = fd, st.st_dev, st.st_ino
        self.offset = os.lseek(fd, 0, os.SEEK_END) if seek_end else 0
        self.line, self._tail = 0, _Tail()
        self._detect(fd)
        if self._inotify:
            self._inotify.watch_file(self.path)
        return True

    def _resume(self, pos: dict[str, Any]) -> bool:
        dev, ino, offset = int(pos["dev"]), int(pos["ino"]), int(pos["offset"])
        if self._open(seek_end=False) and (self.dev, self.ino) == (dev, ino):
            if os.fstat(self.fd).st_size >= offset:  # else truncated while we were down: read it all
                self.offset, self.line = os.lseek(self.fd, offset, os.SEEK_SET), int(pos["line"])
            return True
        directory = os.path.dirname(self.path)
        for name in sorted(os.listdir(directory)):
            candidate = os.path.join(directory, name)
            try:
                st = os.stat(candidate)
            except OSError:
                continue
            if (st.st_dev, st.st_ino) == (dev, ino) and st.st_size >= offset:
                rotated = os.open(candidate, os.O_RDONLY | os.O_CLOEXEC)
                self._detect(rotated)
                if self.fd >= 0:
                    self._current = (self.fd, self.dev, self.ino)
                self.fd, self.dev, self.ino = rotated, dev, ino
                self.offset, self.line = os.lseek(rotated, offset, os.SEEK_SET), int(pos["line"])
                return True
        return self.fd >= 0

    def read(self, timeout: float) -> list[Block]:
        block = self._next()
        if block is not None:
            return [block]
        if self._current is not None:  # the file rotated while we were down is finished: go on
            os.close(self.fd)
            self.fd, self.dev, self.ino = self._current
            self._current = None
            self.offset = self.line = 0
            self._tail = _Tail()
            self._detect(self.fd)
        elif not self._switch_if_rotated():
            if self._inotify:
                self._inotify.wait(timeout)
            else:
                select.select([], [], [], min(timeout, 0.05))
        block = self._next()
        return [block] if block is not None else []

    def _switch_if_rotated(self) -> bool:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return False  # between rename and create: keep the old file until a new one appears
        if self.fd < 0 or (st.st_dev, st.st_ino) != (self.dev, self.ino):
            return self._open(seek_end=False)
        if st.st_size < self.offset + len(self._tail.rest):  # truncated in place
            os.lseek(self.fd, 0, os.SEEK_SET)
            self.offset, self.line, self._tail = 0, 0, _Tail()
            self.reader = RecordReader(self.fmt or "console", self.path)
            return True
        return False

    def _next(self) -> Optional[Block]:
        if self.fd < 0:
            return None
        if self.fmt is None:
            self._detect(self.fd)
        block = self._tail.take(self.fd, self.offset, self.line)
        if block is None or not block.data:
            return None
        self.offset += len(block.data)
        self.line += block.data.count(b"\n")
        return block

    def token(self, block: Block, pos: int, line: int) -> Any:
        return (block.base + pos, line - 1)

    def position_after(self, token: Any) -> dict[str, Any]:
        return {"dev": self.dev, "ino": self.ino, "offset": token[0], "line": token[1]}

    def take_lost(self) -> int:
        return 0

    def close(self) -> None:
        for fd in (self.fd, self._current[0] if self._current else -1):
            if fd >= 0:
                os.close(fd)
        if self._inotify:
            self._inotify.close()


class JournalFollower:
    """``journalctl -k -f -o json --after-cursor``; positions are ``{"cursor", "line"}``."""

    name = source = source_id = "journal"
    parses_everything = False
    boot_wall = None

    def __init__(self, position: Optional[dict[str, Any]], from_start: bool = False,
                 extra_args: tuple[str, ...] = ()) -> None:
        argv = ["journalctl", "-k", "-f", "-o", "json", "--no-pager", *extra_args]
        self.line = 0
        self.reader = RecordReader("journal-json", "journal")
        self._saved = position or {}
        if position and position.get("cursor"):
            argv += ["--after-cursor", str(position["cursor"])]
            self.line = int(position.get("line", 0))
        elif from_start:
            argv += ["-b"]
        else:
            argv += ["-n", "0"]
        try:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE)
        except OSError as exc:
            raise SourceError(f"journalctl: {exc.strerror}") from None
        assert self.proc.stdout is not None
        self.fd = self.proc.stdout.fileno()
        os.set_blocking(self.fd, False)
        self._tail = _Tail()
        self._poll = select.poll()
        self._poll.register(self.fd, select.POLLIN)

    def read(self, timeout: float) -> list[Block]:
        if not self._poll.poll(timeout * 1000):
            return []
        try:
            block = self._tail.take(self.fd, 0, self.line)
        except BlockingIOError:
            return []
        if block is None:
            self.proc.wait()
            err = self.proc.stderr.read().decode(errors="replace").strip() if self.proc.stderr else ""
            raise SourceError(f"journalctl exited with status {self.proc.returncode}: {err or 'no message'}")
        if not block.data:
            return []
        self.line += block.data.count(b"\n")
        return [block]

    def token(self, block: Block, pos: int, line: int) -> Any:
        """The journal entry that ends at ``pos`` (its cursor is read only when the position is saved)."""
        start = block.data.rfind(b"\n", 0, max(pos - 1, 0)) + 1
        return (block.data[start:pos], line - 1)

    def position_after(self, token: Any) -> dict[str, Any]:
        try:
            cursor = json.loads(token[0]).get("__CURSOR")
        except (ValueError, AttributeError):
            cursor = None
        if isinstance(cursor, str):  # an entry without a cursor keeps the last good position
            self._saved = {"cursor": cursor, "line": token[1]}
        return self._saved

    def take_lost(self) -> int:
        return 0

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
