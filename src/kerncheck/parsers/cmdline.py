"""The kernel command line and every ``crashkernel=`` form.

Semantics follow ``kernel/crash_reserve.c``: the last ``crashkernel=`` without a suffix wins; ranges
``start-[end]:size`` match RAM rounded up to 128M with ``start`` inclusive and ``end`` exclusive; a size at or
above RAM is rejected; ``,high`` is used only when no plain form is present, with ``,low`` beside it;
``,cma`` is an additional reservation that is left out of the vmcore; ``auto`` is not understood by
upstream kernels (RHEL 8 and older carried a patch for it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from kerncheck.parsers.units import MiB, memparse


@dataclass(frozen=True)
class Cmdline:
    """Kernel parameters in order, as ``(name, value)``; value is ``None`` for bare flags."""

    params: tuple[tuple[str, Optional[str]], ...]
    raw: str

    def values(self, name: str) -> list[str]:
        return [v if v is not None else "" for k, v in self.params if k == name]

    def last(self, name: str) -> Optional[str]:
        vals = self.values(name)
        return vals[-1] if vals else None

    def has(self, name: str) -> bool:
        return any(k == name for k, _ in self.params)


def parse_cmdline(text: str) -> Cmdline:
    """Split like the kernel's ``next_arg()``: whitespace separates, double quotes group, ``--`` ends.

    >>> parse_cmdline('ro crashkernel=256M console="ttyS0,115200" -- init_arg').params
    (('ro', None), ('crashkernel', '256M'), ('console', 'ttyS0,115200'))
    """
    params: list[tuple[str, Optional[str]]] = []
    for tok in re.findall(r'(?:[^\s"]+|"[^"]*"?)+', text.replace("\x00", " ")):
        if tok == "--":
            break
        tok = tok.replace('"', "")
        name, sep, value = tok.partition("=")
        params.append((name, value if sep else None))
    return Cmdline(tuple(params), text.strip())


@dataclass(frozen=True)
class CrashRange:
    start: int
    end: Optional[int]  # exclusive; None = open-ended
    size: int


@dataclass(frozen=True)
class CrashkernelSpec:
    """One ``crashkernel=`` value."""

    raw: str
    suffix: str = ""  # "", "high", "low" or "cma"
    size: Optional[int] = None  # simple form
    offset: Optional[int] = None
    ranges: tuple[CrashRange, ...] = ()
    auto: bool = False
    error: Optional[str] = None  # why the kernel would reject it

    def resolve(self, ram_bytes: int) -> tuple[int, Optional[str]]:
        """Bytes this spec reserves on a machine with this RAM, and why it is zero when it is."""
        if self.error:
            return 0, self.error
        if self.auto:
            return 0, "crashkernel=auto is rejected by upstream kernels and RHEL 9+ ('memory value expected')"
        if self.ranges:
            ram = -(-ram_bytes // (128 * MiB)) * (128 * MiB)  # the kernel rounds RAM up to 128M
            for rng in self.ranges:
                if ram >= rng.start and (rng.end is None or ram < rng.end):
                    size = rng.size
                    break
            else:
                return 0, "no range matches this RAM size ('crashkernel size resulted in zero bytes')"
        else:
            size = self.size or 0
        if size >= ram_bytes:
            return 0, "size is not smaller than RAM ('crashkernel: invalid size')"
        return size, None if size else "size is zero"


def parse_crashkernel(value: str) -> CrashkernelSpec:
    """Parse one ``crashkernel=`` value.

    >>> parse_crashkernel("512M-2G:64M,2G-:128M").resolve(4 << 30)
    (134217728, None)
    >>> parse_crashkernel("256M,high").suffix
    'high'
    >>> parse_crashkernel("64M@16M").offset
    16777216
    """
    raw = value.strip()
    suffix = ""
    body = raw
    m = re.fullmatch(r"(.*),(high|low|cma)", raw)
    if m:
        body, suffix = m.group(1), m.group(2)
    if body.lower() == "auto":
        return CrashkernelSpec(raw, suffix, auto=True)
    offset: Optional[int] = None
    if "@" in body:
        body, _, off = body.rpartition("@")
        try:
            offset = memparse(off)
        except ValueError:
            return CrashkernelSpec(raw, suffix, error=f"bad offset {off!r}")
    if ":" in body:
        if suffix:
            return CrashkernelSpec(raw, suffix, error=f"ranges cannot take the ,{suffix} suffix")
        ranges: list[CrashRange] = []
        for part in body.split(","):
            rm = re.fullmatch(r"([^-:]+)-([^:]*):(.+)", part.strip())
            if not rm:
                return CrashkernelSpec(raw, suffix, error=f"bad range {part!r}")
            try:
                start = memparse(rm.group(1))
                end = memparse(rm.group(2)) if rm.group(2) else None
                size = memparse(rm.group(3))
            except ValueError as exc:
                return CrashkernelSpec(raw, suffix, error=str(exc))
            if end is not None and end <= start:
                return CrashkernelSpec(raw, suffix, error=f"range {part!r} ends before it starts")
            ranges.append(CrashRange(start, end, size))
        return CrashkernelSpec(raw, suffix, ranges=tuple(ranges), offset=offset)
    try:
        size = memparse(body)
    except ValueError:
        return CrashkernelSpec(raw, suffix, error=f"memory value expected, got {body!r}")
    return CrashkernelSpec(raw, suffix, size=size, offset=offset)


@dataclass
class CrashkernelPlan:
    """What the kernel would reserve from all ``crashkernel=`` parameters, for a given RAM size."""

    specs: list[CrashkernelSpec] = field(default_factory=list)
    main: Optional[CrashkernelSpec] = None  # the spec the kernel uses (plain, else ,high)
    low: Optional[CrashkernelSpec] = None
    cma: Optional[CrashkernelSpec] = None
    ignored: list[str] = field(default_factory=list)

    def expected_bytes(self, ram_bytes: int) -> tuple[int, Optional[str]]:
        """Total crash-kernel memory usable by the capture kernel (CMA excluded), and a reason if zero."""
        if self.main is None:
            return 0, "no crashkernel= parameter"
        size, why = self.main.resolve(ram_bytes)
        if size and self.main.suffix == "high" and self.low is not None:
            low, _ = self.low.resolve(ram_bytes)
            size += low
        return size, why


def crashkernel_plan(cmdline: Cmdline) -> CrashkernelPlan:
    """Select the ``crashkernel=`` parameters the kernel actually uses.

    >>> plan = crashkernel_plan(parse_cmdline("crashkernel=128M crashkernel=256M crashkernel=1G,high"))
    >>> plan.main.raw, plan.ignored
    ('256M', ['128M', '1G,high'])
    """
    plan = CrashkernelPlan(specs=[parse_crashkernel(v) for v in cmdline.values("crashkernel")])
    plain = [s for s in plan.specs if s.suffix == ""]
    high = [s for s in plan.specs if s.suffix == "high"]
    lows = [s for s in plan.specs if s.suffix == "low"]
    cmas = [s for s in plan.specs if s.suffix == "cma"]
    if plain:
        plan.main = plain[-1]
    elif high:
        plan.main = high[-1]
        plan.low = lows[-1] if lows else None
    plan.cma = cmas[-1] if cmas else None
    used = {id(s) for s in (plan.main, plan.low, plan.cma) if s is not None}
    plan.ignored = [s.raw for s in plan.specs if id(s) not in used]
    return plan
