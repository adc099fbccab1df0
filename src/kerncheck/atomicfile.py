"""Atomic file replacement for every state kerncheck keeps (watch state, sink cursors, SMART counters,
crash-test records): readers and crashes see the old content or the new one, never half of either."""

from __future__ import annotations

import os
import tempfile


def atomic_write(path: str, data: bytes, *, durable: bool = True, mode: int = 0o644) -> None:
    """Replace ``path`` with ``data``: a temporary file beside it, fsync, rename, fsync of the directory.

    ``durable=False`` skips both fsyncs: the replacement survives the process being killed but perhaps
    not a power loss (fine where an older copy only means repeated work). Raises ``OSError``.
    """
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", dir=directory)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fchmod(fd, mode)
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if durable:
        dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
