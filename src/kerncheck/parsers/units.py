"""Sizes as the kernel and the tools write them."""

from __future__ import annotations

import re

_SUFFIX = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40, "P": 1 << 50, "E": 1 << 60}
_MEMPARSE = re.compile(r"(0[xX][0-9a-fA-F]+|\d+)([KMGTPEkmgtpe]?)")

GiB = 1 << 30
MiB = 1 << 20


def memparse(text: str) -> int:
    """Parse a size the way the kernel's ``memparse()`` does (binary suffixes K/M/G/T/P/E).

    >>> memparse("256M")
    268435456
    >>> memparse("0x1000")
    4096
    """
    m = _MEMPARSE.fullmatch(text.strip())
    if not m:
        raise ValueError(f"not a size: {text!r}")
    return int(m.group(1), 0) * _SUFFIX[m.group(2).upper()]


def human(nbytes: float) -> str:
    """Binary-prefixed size for messages.

    >>> human(268435456)
    '256M'
    >>> human(1536 * 1024 * 1024)
    '1.5G'
    """
    for unit, size in (("T", 1 << 40), ("G", GiB), ("M", MiB), ("K", 1 << 10)):
        if abs(nbytes) >= size:
            value = nbytes / size
            return f"{value:.0f}{unit}" if value == int(value) else f"{value:.1f}{unit}"
    return f"{int(nbytes)}B"
