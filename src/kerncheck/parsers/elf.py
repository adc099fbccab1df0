"""GNU build-id from ELF files and from ``/sys/kernel/notes``."""

from __future__ import annotations

import struct
from typing import Callable, Optional

NT_GNU_BUILD_ID = 3
SHT_NOTE = 7


def build_id_from_notes(blob: bytes, little_endian: bool = True) -> Optional[str]:
    """Find the GNU build-id in a raw ELF note section (the format of ``/sys/kernel/notes``).

    >>> note = struct.pack("<III", 4, 4, 3) + b"GNU\\0" + bytes.fromhex("deadbeef")
    >>> build_id_from_notes(note)
    'deadbeef'
    """
    fmt = "<III" if little_endian else ">III"
    pos = 0
    while pos + 12 <= len(blob):
        namesz, descsz, ntype = struct.unpack_from(fmt, blob, pos)
        pos += 12
        name = blob[pos:pos + namesz]
        pos += (namesz + 3) & ~3
        desc = blob[pos:pos + descsz]
        pos += (descsz + 3) & ~3
        if ntype == NT_GNU_BUILD_ID and name.rstrip(b"\0") == b"GNU" and desc:
            return desc.hex()
        if namesz == 0 and descsz == 0 and ntype == 0:
            break
    return None


def build_id_from_elf(read: Callable[[int, int], bytes]) -> Optional[str]:
    """Build-id of an ELF file, reading only its headers and note sections.

    ``read(offset, length)`` returns bytes of the file; ``None`` is returned for non-ELF data.
    """
    ident = read(0, 64)
    if len(ident) < 64 or ident[:4] != b"\x7fELF":
        return None
    is64 = ident[4] == 2
    end = "<" if ident[5] == 1 else ">"
    if is64:
        shoff, = struct.unpack_from(end + "Q", ident, 0x28)
        shentsize, shnum = struct.unpack_from(end + "HH", ident, 0x3A)
    else:
        shoff, = struct.unpack_from(end + "I", ident, 0x20)
        shentsize, shnum = struct.unpack_from(end + "HH", ident, 0x2E)
    if not shoff or not shnum or shnum > 4096:
        return None
    table = read(shoff, shentsize * shnum)
    for i in range(shnum):
        entry = table[i * shentsize:(i + 1) * shentsize]
        if len(entry) < shentsize:
            break
        if is64:
            sh_type, = struct.unpack_from(end + "I", entry, 4)
            offset, size = struct.unpack_from(end + "QQ", entry, 0x18)
        else:
            sh_type, = struct.unpack_from(end + "I", entry, 4)
            offset, size = struct.unpack_from(end + "II", entry, 0x10)
        if sh_type == SHT_NOTE and 0 < size < 1 << 20:
            found = build_id_from_notes(read(offset, size), little_endian=end == "<")
            if found:
                return found
    return None
