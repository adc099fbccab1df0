"""``sysctl -a`` output and sysctl names."""

from __future__ import annotations


def parse_sysctl_a(text: str) -> dict[str, str]:
    """Map dotted names to values from ``sysctl -a`` output (``name = value`` lines).

    >>> parse_sysctl_a("kernel.sysrq = 16\\nkernel.panic = 0\\n")["kernel.sysrq"]
    '16'
    """
    out: dict[str, str] = {}
    for line in text.splitlines():
        name, sep, value = line.partition(" = ")
        if sep and name and " " not in name.strip():
            out[name.strip()] = value.strip()
    return out


def sysctl_path(name: str) -> str:
    """``kernel.sysrq`` → ``/proc/sys/kernel/sysrq``."""
    return "/proc/sys/" + name.replace(".", "/")
