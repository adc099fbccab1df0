"""``/proc/meminfo`` and ``/proc/iomem``."""

from __future__ import annotations

import re
from dataclasses import dataclass


def parse_meminfo(text: str) -> dict[str, int]:
    """Map ``/proc/meminfo`` keys to bytes (values without a ``kB`` unit are kept as counts).

    >>> parse_meminfo("MemTotal:       16316412 kB\\nHugePages_Total:       0\\n")["MemTotal"]
    16708005888
    """
    out: dict[str, int] = {}
    for line in text.splitlines():
        m = re.match(r"([\w()]+):\s+(\d+)(?:\s+(kB))?\s*$", line)
        if m:
            out[m.group(1)] = int(m.group(2)) * (1024 if m.group(3) else 1)
    return out


@dataclass(frozen=True)
class IomemRange:
    start: int
    end: int  # inclusive, as printed
    name: str
    depth: int

    @property
    def size(self) -> int:
        return self.end - self.start + 1


def parse_iomem(text: str) -> list[IomemRange]:
    """Parse ``/proc/iomem``; addresses print as zeros without CAP_SYS_ADMIN (sizes are then 1).

    >>> text = "00100000-bffdffff : System RAM\\n  33000000-3effffff : Crash kernel\\n"
    >>> [r.name for r in parse_iomem(text)]
    ['System RAM', 'Crash kernel']
    """
    out: list[IomemRange] = []
    for line in text.splitlines():
        m = re.match(r"(\s*)([0-9a-fA-F]+)-([0-9a-fA-F]+) : (.*)$", line)
        if m:
            out.append(IomemRange(int(m.group(2), 16), int(m.group(3), 16), m.group(4).strip(),
                                  len(m.group(1)) // 2))
    return out


def iomem_total(ranges: list[IomemRange], name: str) -> int:
    """Bytes in ranges with this name; 0 when the addresses are hidden (all zero)."""
    matching = [r for r in ranges if r.name == name]
    if matching and all(r.start == 0 and r.end == 0 for r in matching):
        return 0
    return sum(r.size for r in matching)
