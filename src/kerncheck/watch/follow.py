"""Followers: read new kernel log entries as they arrive, and say where to resume after a restart.

Every follower hands out ``(raw, token)`` entries: the raw text (a ``/dev/kmsg`` record, a log line, a
journal JSON line) and a token from which :meth:`position_after` builds the resume position *after* that
entry (a JSON-able dict stored in the watcher state), and ``line_of(token)`` the entry's line number (the
kmsg sequence number, the line in the file, the count of journal entries since the saved cursor). The
watcher parses only the entries that pass its prefilter.

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
from typing import Any, Optional

Entry = tuple[str, Any]
BOOT_ID_PATH = "/proc/sys/kernel/random/boot_id"
KMSG_PATH = "/dev/kmsg"
KMSG_READ = 8192  # the kernel's per-record limit; a smaller buffer makes read() drop the record
MAX_BATCH = 20000  # entries per read() call, so the loop stays responsive under a flood
FILE_CHUNK = 1 << 20


class SourceError(Exception):
    """The source cannot be opened or followed; the message says which and why."""


def read_boot_id(path: str = BOOT_ID_PATH) -> str:
    with open(path) as fh:
        return fh.read().strip()


class SequenceGaps:
    """Skip kmsg records already handled (``seq <= skip_upto``) and count the ones that were lost.

    >>> g = SequenceGaps(skip_upto=10, last=10)
    >>> [s for s in (9, 10, 11, 15, 16) if g.accept(s)], g.lost
    ([11, 15, 16], 3)
    """

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
    parses_everything = True  # a kmsg record carries its level and facility: the header is always parsed

    def __init__(self, position: Optional[dict[str, Any]], from_start: bool = False,
                 path: str = KMSG_PATH, boot_id_path: str = BOOT_ID_PATH) -> None:
        self.boot_id = read_boot_id(boot_id_path)
        self.source_id = f"kmsg:{self.boot_id}"
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

    def read(self, timeout: float) -> list[Entry]:
        out: list[Entry] = []
        if not self._poll.poll(timeout * 1000):
            return out
        while len(out) < MAX_BATCH:
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
            raw = data.decode("utf-8", "replace")
            head = raw[: raw.find(";")].split(",", 3)
            try:
                seq = int(head[1])
            except (IndexError, ValueError):
                continue
            if self.seqs.accept(seq):
                out.append((raw, seq))
        return out

    def take_lost(self) -> int:
        lost, self.seqs.lost = self.seqs.lost, 0
        return lost

    def line_of(self, token: Any) -> int:
        return int(token)

    def position_after(self, token: Any) -> dict[str, Any]:
        return {"boot_id": self.boot_id, "seq": int(token)}

    def close(self) -> None:
        os.close(self.fd)


class _Inotify:
    """Wake-ups for a followed file (modify) and its directory (create/rename/delete), via libc's inotify."""

    MODIFY, MOVED_FROM, MOVED_TO, CREATE, DELETE = 0x2, 0x40, 0x80, 0x100, 0x200

    def __init__(self) -> None:
        name = ctypes.util.find_library("c")
        self._libc = ctypes.CDLL(name, use_errno=True)
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


class FileFollower:
    """Follow a log file like ``tail -F``: across rotation (a new inode) and truncation (copytruncate).

    Positions are ``{"dev", "ino", "offset", "line"}`` of the file last read. After a restart, a file that
    was rotated meanwhile is found again by its inode in the same directory and read to its end first.
    """

    name = "file"
    parses_everything = False

    def __init__(self, path: str, position: Optional[dict[str, Any]], from_start: bool = False) -> None:
        self.path = self.source = os.path.abspath(path)
        self.fd = -1
        self.dev = self.ino = self.offset = self.line = 0
        self._rest = b""
        self._rotated_fd = -1  # the previous file, found by inode after a restart: read to its end first
        self._inotify: Optional[_Inotify]
        try:
            self._inotify = _Inotify()
            self._inotify.watch(os.path.dirname(self.path), _Inotify.CREATE | _Inotify.MOVED_TO
                                | _Inotify.MOVED_FROM | _Inotify.DELETE)
        except (OSError, AttributeError):
            self._inotify = None  # fall back to polling every 50 ms
        if position and self._resume(position):
            return
        self._open(seek_end=not from_start and not position)

    @property
    def source_id(self) -> str:
        return f"file:{self.dev}:{self.ino}"

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
        self.line, self._rest = 0, b""
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
                self._rotated_fd = os.open(candidate, os.O_RDONLY | os.O_CLOEXEC)
                self._current = (self.fd, self.dev, self.ino)
                self.fd, self.dev, self.ino = self._rotated_fd, dev, ino
                self.offset, self.line = os.lseek(self.fd, offset, os.SEEK_SET), int(pos["line"])
                return True
        return self.fd >= 0

    def read(self, timeout: float) -> list[Entry]:
        out = self._drain()
        if out:
            return out
        if self._rotated_fd >= 0:  # the file rotated while we were down is read to its end: go on
            os.close(self._rotated_fd)
            self._rotated_fd = -1
            self.fd, self.dev, self.ino = self._current
            self.offset = self.line = 0
            self._rest = b""
            return self._drain()
        if self._switch_if_rotated():
            return self._drain()
        if self._inotify:
            self._inotify.wait(timeout)
        else:
            select.select([], [], [], min(timeout, 0.05))
        return self._drain()

    def _switch_if_rotated(self) -> bool:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return False  # between rename and create: keep the old file until a new one appears
        if self.fd < 0 or (st.st_dev, st.st_ino) != (self.dev, self.ino):
            return self._open(seek_end=False)
        if st.st_size < self.offset:  # truncated in place
            os.lseek(self.fd, 0, os.SEEK_SET)
            self.offset, self.line, self._rest = 0, 0, b""
            return True
        return False

    def _drain(self) -> list[Entry]:
        out: list[Entry] = []
        if self.fd < 0:
            return out
        while len(out) < MAX_BATCH:
            chunk = os.read(self.fd, FILE_CHUNK)
            if not chunk:
                break
            lines = (self._rest + chunk).split(b"\n")
            self._rest = lines.pop()
            offset, line = self.offset, self.line
            for raw in lines:
                offset += len(raw) + 1
                line += 1
                out.append((raw.decode("utf-8", "replace"), (offset, line)))
            self.offset, self.line = offset, line
        return out

    def line_of(self, token: Any) -> int:
        return int(token[1])

    def position_after(self, token: Any) -> dict[str, Any]:
        return {"dev": self.dev, "ino": self.ino, "offset": token[0], "line": token[1]}

    def take_lost(self) -> int:
        return 0

    def close(self) -> None:
        for fd in (self.fd, self._rotated_fd):
            if fd >= 0:
                os.close(fd)
        if self._inotify:
            self._inotify.close()


class JournalFollower:
    """``journalctl -k -f -o json --after-cursor``; positions are ``{"cursor", "line"}``."""

    name = source = source_id = "journal"
    parses_everything = False

    def __init__(self, position: Optional[dict[str, Any]], from_start: bool = False,
                 extra_args: tuple[str, ...] = ()) -> None:
        argv = ["journalctl", "-k", "-f", "-o", "json", "--no-pager", *extra_args]
        self.line = 0
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
        self._rest = b""
        self._poll = select.poll()
        self._poll.register(self.fd, select.POLLIN)

    def read(self, timeout: float) -> list[Entry]:
        out: list[Entry] = []
        if not self._poll.poll(timeout * 1000):
            return out
        try:
            chunk = os.read(self.fd, FILE_CHUNK)
        except BlockingIOError:
            return out
        if not chunk:
            self.proc.wait()
            err = self.proc.stderr.read().decode(errors="replace").strip() if self.proc.stderr else ""
            raise SourceError(f"journalctl exited with status {self.proc.returncode}: {err or 'no message'}")
        lines = (self._rest + chunk).split(b"\n")
        self._rest = lines.pop()
        for raw in lines:
            if raw.strip():
                self.line += 1
                out.append((raw.decode("utf-8", "replace"), (raw, self.line)))
        return out

    def line_of(self, token: Any) -> int:
        return int(token[1])

    def position_after(self, token: Any) -> dict[str, Any]:
        try:
            cursor = json.loads(token[0]).get("__CURSOR")
        except ValueError:
            cursor = None
        return {"cursor": cursor, "line": token[1]}

    def take_lost(self) -> int:
        return 0

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
