"""Decode the kernel taint flags printed in crash reports (``Tainted: G        W  OE``, 6.18's
``Tainted: [W]=WARN, [O]=OOT_MODULE``) into the kernel's own flag names (``kernel/panic.c``).

>>> decode_taint("G        W  OE")
['WARN', 'OOT_MODULE', 'UNSIGNED_MODULE']
>>> taint_from_line("CPU: 1 PID: 95 Comm: sh Tainted: P           O      6.1.0-56-amd64 #1")
['PROPRIETARY_MODULE', 'OOT_MODULE']
>>> taint_from_line("Tainted: [W]=WARN, [O]=OOT_MODULE")
['WARN', 'OOT_MODULE']
"""

from __future__ import annotations

import re
from typing import Optional

# Letter → (name, what it means for someone reading a crash).
TAINT_FLAGS: dict[str, tuple[str, str]] = {
    "P": ("PROPRIETARY_MODULE", "a proprietary module was loaded"),
    "F": ("FORCED_MODULE", "a module was force-loaded"),
    "S": ("CPU_OUT_OF_SPEC", "the CPU runs out of specification"),
    "R": ("FORCED_RMMOD", "a module was force-unloaded"),
    "M": ("MACHINE_CHECK", "a machine check exception occurred"),
    "B": ("BAD_PAGE", "a bad page was referenced or freed"),
    "U": ("USER", "user space requested tainting"),
    "D": ("DIE", "the kernel oopsed or BUGged before"),
    "A": ("OVERRIDDEN_ACPI_TABLE", "an ACPI table was overridden"),
    "W": ("WARN", "a kernel warning occurred before"),
    "C": ("CRAP", "a staging driver was loaded"),
    "I": ("FIRMWARE_WORKAROUND", "a workaround for a platform firmware bug is active"),
    "O": ("OOT_MODULE", "an out-of-tree module was loaded"),
    "E": ("UNSIGNED_MODULE", "an unsigned module was loaded"),
    "L": ("SOFTLOCKUP", "a soft lockup occurred before"),
    "K": ("LIVEPATCH", "the kernel is live-patched"),
    "X": ("AUX", "an auxiliary (distribution-defined) taint"),
    "T": ("RANDSTRUCT", "built with struct randomization"),
    "N": ("TEST", "an in-kernel test was run"),
    "J": ("FWCTL", "fwctl was used for a mutating command"),
}
_NAMES = {name for name, _ in TAINT_FLAGS.values()}
_COLUMNS_RE = re.compile(r"\bTainted: ((?:[A-Z ](?! ?\d))*[A-Z])")
_NAMED_RE = re.compile(r"\[([A-Z])\]=([A-Z_]+)")


def decode_taint(flags: str) -> list[str]:
    """Flag names for the letters of a taint string; ``G`` (all modules GPL) is not a taint."""
    out: list[str] = []
    for letter in flags:
        if letter in (" ", "G"):
            continue
        name = TAINT_FLAGS[letter][0] if letter in TAINT_FLAGS else f"UNKNOWN_{letter}"
        if name not in out:
            out.append(name)
    return out


def taint_from_line(text: str) -> Optional[list[str]]:
    """The decoded taint of a ``CPU:`` / hung-task / ``Tainted:`` line; ``[]`` for ``Not tainted``;
    ``None`` when the line says nothing about taint."""
    named = _NAMED_RE.findall(text)
    if named:
        return [name if name in _NAMES else f"UNKNOWN_{letter}" for letter, name in named]
    m = _COLUMNS_RE.search(text)
    if m:
        return decode_taint(m.group(1))
    if "Not tainted" in text:
        return []
    return None


def describe(name: str) -> str:
    """A short explanation of a taint flag name."""
    for letter, (flag, text) in TAINT_FLAGS.items():
        if flag == name:
            return f"{letter} {flag}: {text}"
    return name
