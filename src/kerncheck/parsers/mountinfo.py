"""``/proc/<pid>/mountinfo`` and ``/proc/swaps``.

mountinfo (``Documentation/filesystems/proc.rst`` §3.5) has one mount per line::

    36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
    (1)(2)(3)   (4)   (5)      (6)      (7)   (8) (9)   (10)         (11)

mount ID, parent ID, ``major:minor`` of the filesystem's device, the root of the mount inside the
filesystem (not ``/`` for bind mounts of a sub-directory), the mount point, per-mount options, zero or more
optional fields ended by ``-``, the filesystem type, the mount source and the super-block options.
Paths escape space, tab, newline and backslash as octal (``\\040``).

``/proc/swaps`` lists active swap areas under a header line; file names use the same escapes and get a
`` (deleted)`` suffix when the file was removed while in use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_OCTAL = re.compile(r"\\([0-7]{3})")


class MountinfoError(ValueError):
    """A line does not have the mountinfo format (the table cannot be trusted)."""


def unescape(field: str) -> str:
    r"""Undo the kernel's octal escapes.

    >>> unescape("/mnt/with\\040space")
    '/mnt/with space'
    """
    return _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), field)


@dataclass(frozen=True)
class MountEntry:
    mount_id: int
    parent_id: int
    major: int
    minor: int
    root: str
    mount_point: str
    options: tuple[str, ...]
    optional_fields: tuple[str, ...]
    fstype: str
    source: str
    super_options: tuple[str, ...]

    @property
    def devno(self) -> str:
        return f"{self.major}:{self.minor}"

    @property
    def read_only(self) -> bool:
        return "ro" in self.options or "ro" in self.super_options

    @property
    def is_bind(self) -> bool:
        """The mount shows a sub-directory of its filesystem (a bind mount of a directory)."""
        return self.root != "/"


def parse_mountinfo_line(line: str) -> MountEntry:
    r"""Parse one mountinfo line.

    >>> e = parse_mountinfo_line("36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue")
    >>> (e.devno, e.root, e.mount_point, e.fstype, e.source, e.optional_fields, e.is_bind)
    ('98:0', '/mnt1', '/mnt2', 'ext3', '/dev/root', ('master:1',), True)
    """
    fields = line.split(" ")
    try:
        sep = fields.index("-", 6)
    except ValueError:
        raise MountinfoError(f"no ' - ' separator in mountinfo line: {line!r}") from None
    if len(fields) < sep + 3 or sep < 6:
        raise MountinfoError(f"too few fields in mountinfo line: {line!r}")
    try:
        mount_id, parent_id = int(fields[0]), int(fields[1])
        major_s, _, minor_s = fields[2].partition(":")
        major, minor = int(major_s), int(minor_s)
    except ValueError:
        raise MountinfoError(f"bad IDs or major:minor in mountinfo line: {line!r}") from None
    super_options = fields[sep + 3] if len(fields) > sep + 3 else ""
    return MountEntry(
        mount_id=mount_id,
        parent_id=parent_id,
        major=major,
        minor=minor,
        root=unescape(fields[3]),
        mount_point=unescape(fields[4]),
        options=tuple(fields[5].split(",")),
        optional_fields=tuple(f for f in fields[6:sep] if f),
        fstype=unescape(fields[sep + 1]),
        source=unescape(fields[sep + 2]),
        super_options=tuple(super_options.split(",")) if super_options else (),
    )


def parse_mountinfo(text: str) -> list[MountEntry]:
    """Every mount of a mountinfo file; any malformed line raises :class:`MountinfoError`."""
    return [parse_mountinfo_line(line) for line in text.splitlines() if line.strip()]


@dataclass(frozen=True)
class SwapEntry:
    filename: str
    type: str  # "partition" or "file"
    size_kib: int
    used_kib: int
    priority: int
    deleted: bool = False


def parse_swaps(text: str) -> list[SwapEntry]:
    r"""Active swap areas from ``/proc/swaps``.

    >>> parse_swaps("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"  # doctest: +NORMALIZE_WHITESPACE
    ...             "/dev/loop3                              partition\t20476\t\t0\t\t-2\n"
    ...             "/swap\\040file (deleted)                  file\t\t1024\t\t0\t\t-3\n")
    [SwapEntry(filename='/dev/loop3', type='partition', size_kib=20476, used_kib=0, priority=-2, deleted=False),
     SwapEntry(filename='/swap file', type='file', size_kib=1024, used_kib=0, priority=-3, deleted=True)]
    """
    entries: list[SwapEntry] = []
    lines = text.splitlines()
    if lines and lines[0].startswith("Filename"):
        lines = lines[1:]
    for line in lines:
        if not line.strip():
            continue
        # The file name is padded with spaces and may itself end in " (deleted)"; the rest is tab/space
        # separated numbers, so split from the right.
        parts = line.rsplit(None, 4)
        if len(parts) != 5:
            raise MountinfoError(f"malformed /proc/swaps line: {line!r}")
        name, kind, size, used, prio = parts
        try:
            numbers = int(size), int(used), int(prio)
        except ValueError:
            raise MountinfoError(f"malformed /proc/swaps line: {line!r}") from None
        name = name.rstrip()
        deleted = name.endswith(" (deleted)")
        if deleted:
            name = name[: -len(" (deleted)")]
        entries.append(SwapEntry(unescape(name), kind, *numbers, deleted=deleted))
    return entries
