"""The kdump dump disk: created empty for the guest, read back on the host after the capture kernel ran.

Layout written by init's ``capture`` step: offset 0 ``QLABDUMP <dmesg bytes> <dump bytes> <makedumpfile
exit>``, at 1 MiB the ``vmcore-dmesg`` text, at 8 MiB the flattened ``makedumpfile -F`` dump, which
``makedumpfile -R`` turns back into a normal kdump-compressed file.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from lab.errors import LabError, LabUnavailable

DISK_BYTES = 256 << 20
DMESG_OFFSET = 1 << 20
DUMP_OFFSET = 8 << 20
_HEADER = re.compile(rb"QLABDUMP (\d+) (\d+) (\d+)\n")


def create_disk(path: Path) -> Path:
    """A sparse, zeroed raw disk image for the guest's ``/dev/vda``."""
    with open(path, "wb") as fh:
        fh.truncate(DISK_BYTES)
    return path


@dataclass(frozen=True)
class SavedDump:
    dmesg: str  # vmcore-dmesg output, as the capture kernel saved it
    flat: Path  # the flattened makedumpfile stream
    makedumpfile_rc: int


def read_disk(path: Path, workdir: Path) -> Optional[SavedDump]:
    """What the capture kernel saved on the disk, or None when it saved nothing (no header)."""
    with open(path, "rb") as fh:
        m = _HEADER.match(fh.read(64))
        if not m:
            return None
        dmesg_len, dump_len, rc = (int(g) for g in m.groups())
        if DMESG_OFFSET + dmesg_len > DUMP_OFFSET or DUMP_OFFSET + dump_len > DISK_BYTES:
            raise LabError(f"dump disk header is inconsistent: {m.group(0)!r}")
        fh.seek(DMESG_OFFSET)
        dmesg = fh.read(dmesg_len).decode("utf-8", errors="replace")
        flat = workdir / "dump.flat"
        fh.seek(DUMP_OFFSET)
        with open(flat, "wb") as out:
            remaining = dump_len
            while remaining:
                chunk = fh.read(min(remaining, 1 << 20))
                if not chunk:
                    raise LabError("dump disk ends before the dump does")
                out.write(chunk)
                remaining -= len(chunk)
    return SavedDump(dmesg, flat, rc)


def rebuild_vmcore(flat: Path, dest: Path, timeout: float = 120.0) -> Path:
    """``makedumpfile -R``: the flattened stream back into a kdump-compressed dump file."""
    binary = shutil.which("makedumpfile", path="/usr/sbin:/usr/bin:/sbin:/bin")
    if not binary:
        raise LabUnavailable("makedumpfile is not installed on the host (Debian package makedumpfile)")
    with open(flat, "rb") as stdin:
        try:
            proc = subprocess.run([binary, "-R", str(dest)], stdin=stdin, capture_output=True, text=True,
                                  timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise LabError(f"makedumpfile -R took more than {timeout:.0f} s") from None
    if proc.returncode != 0 or not dest.exists():
        raise LabError(f"makedumpfile -R failed (exit {proc.returncode}): {proc.stderr.strip()[-300:]}")
    return dest


def vmcore_header(path: Path) -> str:
    """The signature of a dump file: ``KDUMP   `` for kdump-compressed, ``\\x7fELF`` for ELF."""
    with open(path, "rb") as fh:
        return fh.read(8).decode("latin-1")
