"""A pure-Python writer of the ``newc`` cpio format the kernel unpacks as an initramfs (no root, no cpio).

An image is a mapping of archive paths to :class:`Entry`; device nodes are just header fields, which is
why no ``mknod`` (and no root) is needed. Parent directories are added automatically, entries are written
in sorted order (parents first), and the stream ends with the ``TRAILER!!!`` entry.
"""

from __future__ import annotations

import gzip
import io
import stat
from dataclasses import dataclass
from typing import BinaryIO

MAGIC = b"070701"
TRAILER = "TRAILER!!!"


@dataclass(frozen=True)
class Entry:
    mode: int  # file type and permission bits, as in st_mode
    data: bytes = b""  # file content, or the target of a symlink
    rdev: tuple[int, int] = (0, 0)  # (major, minor) of a device node


def directory(perm: int = 0o755) -> Entry:
    return Entry(stat.S_IFDIR | perm)


def regular(data: bytes, perm: int = 0o644) -> Entry:
    return Entry(stat.S_IFREG | perm, data)


def chardev(major: int, minor: int, perm: int) -> Entry:
    return Entry(stat.S_IFCHR | perm, rdev=(major, minor))


def symlink(target: str) -> Entry:
    return Entry(stat.S_IFLNK | 0o777, target.encode())


def _pad4(n: int) -> bytes:
    return b"\0" * (-n % 4)


def _header(ino: int, entry: Entry, name: str, nlink: int) -> bytes:
    encoded = name.encode() + b"\0"
    fields = (ino, entry.mode, 0, 0, nlink, 0, len(entry.data), 0, 0, entry.rdev[0], entry.rdev[1],
              len(encoded), 0)
    head = MAGIC + b"".join(b"%08X" % value for value in fields) + encoded
    return head + _pad4(len(head))


def _normalise(path: str) -> str:
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        raise ValueError(f"invalid archive path {path!r}")
    return "/".join(parts)


def with_parents(entries: dict[str, Entry]) -> dict[str, Entry]:
    """The entries under normalised names, plus a 0755 directory for every missing parent."""
    out: dict[str, Entry] = {}
    for path, entry in entries.items():
        name = _normalise(path)
        parts = name.split("/")
        for i in range(1, len(parts)):
            out.setdefault("/".join(parts[:i]), directory())
        out[name] = entry
    return out


def write_newc(entries: dict[str, Entry], out: BinaryIO) -> None:
    """Write ``entries`` (archive path → entry) as an uncompressed newc stream, trailer included."""
    complete = with_parents(entries)
    for ino, name in enumerate(sorted(complete), start=1):
        entry = complete[name]
        nlink = 2 if stat.S_ISDIR(entry.mode) else 1
        out.write(_header(ino, entry, name, nlink))
        out.write(entry.data + _pad4(len(entry.data)))
    out.write(_header(0, Entry(0), TRAILER, 1))


def gzip_newc(entries: dict[str, Entry], level: int = 1) -> bytes:
    """The gzip-compressed newc image of ``entries``, ready for ``qemu -initrd``."""
    raw = io.BytesIO()
    write_newc(entries, raw)
    return gzip.compress(raw.getvalue(), compresslevel=level, mtime=0)
