"""``makedumpfile --mem-usage /proc/kcore``: how many pages of each type a dump would contain."""

from __future__ import annotations

import re
from dataclasses import dataclass

# makedumpfile -d bits (dump level) that exclude each page type; KERN_DATA is never excluded.
EXCLUDED_BY = {"ZERO": 1, "NON_PRI_CACHE": 2, "PRI_CACHE": 4, "USER": 8, "FREE": 16}


@dataclass(frozen=True)
class MemUsage:
    pages: dict[str, int]
    page_size: int

    def dump_bytes(self, dump_level: int) -> int:
        """Uncompressed size of a dump at this ``-d`` level (an upper bound for compressed dumps).

        >>> MemUsage({"USER": 10, "KERN_DATA": 5}, 4096).dump_bytes(31)
        20480
        """
        return self.page_size * sum(n for kind, n in self.pages.items()
                                    if not (EXCLUDED_BY.get(kind, 0) & dump_level))


def parse_mem_usage(text: str) -> MemUsage:
    """Parse the page table that ``makedumpfile --mem-usage`` prints.

    >>> parse_mem_usage("ZERO  21299  yes  Pages filled with zero\\n"
    ...                 "KERN_DATA  29608  no  Dumpable kernel data\\npage size:  4096\\n").pages["KERN_DATA"]
    29608
    """
    pages: dict[str, int] = {}
    page_size = 4096
    for line in text.splitlines():
        m = re.match(r"\s*([A-Z_]+)\s+(\d+)\s+(yes|no)\b", line)
        if m:
            pages[m.group(1)] = int(m.group(2))
            continue
        m = re.match(r"\s*page size:\s*(\d+)", line)
        if m:
            page_size = int(m.group(1))
    if not pages:
        raise ValueError("no page table in makedumpfile --mem-usage output")
    return MemUsage(pages, page_size)
