"""HotSpot JVM memory options from a process's argv and environment → :class:`JvmOptions`.

The JVM reads, in this order, ``JAVA_TOOL_OPTIONS``, ``JDK_JAVA_OPTIONS`` (the ``java`` launcher, JDK ≥ 9),
the command line up to the main class / ``-jar`` file, then ``_JAVA_OPTIONS``; a later setting of the
same flag wins. :func:`max_heap_bytes` reproduces HotSpot's heap ergonomics (``Arguments::set_heap_size``,
JDK 11–21) for the case where no ``-Xmx`` is given.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Callable, Optional

# In the order the JVM applies them (later wins); the command line sits between the 2nd and the 3rd.
ENV_BEFORE_CMDLINE = ("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS")
ENV_AFTER_CMDLINE = ("_JAVA_OPTIONS",)
ENV_VARS = ENV_BEFORE_CMDLINE + ENV_AFTER_CMDLINE

DEFAULT_MAX_RAM_PERCENTAGE = 25.0
DEFAULT_MIN_RAM_PERCENTAGE = 50.0
DEFAULT_MAX_RAM = 128 << 30  # x86_64/aarch64 default of -XX:MaxRAM
# HotSpot's default MaxHeapSize (ScaleForWordSize(96M) on 64-bit): below 2× this, heaps use MinRAMPercentage.
DEFAULT_MAX_HEAP_FLAG = int(96 * (1 << 20) * 1.3)
DEFAULT_THREAD_STACK = 1 << 20

# Launcher options that take the next argument as their value.
_WITH_VALUE = {"-cp", "-classpath", "--class-path", "-p", "--module-path", "--upgrade-module-path",
               "--add-modules", "--add-opens", "--add-exports", "--add-reads", "--limit-modules",
               "--patch-module", "--source", "--enable-native-access", "--describe-module", "-d"}
# Options after which the rest of argv belongs to the application.
_LAST = {"-jar", "-m", "--module"}
_SIZE = re.compile(r"(\d+)([kKmMgGtT]?)")
_SUFFIX = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def java_size(text: str) -> int:
    """A JVM size argument (``512m``, ``4G``, ``1048576``).

    >>> java_size("6g"), java_size("512m"), java_size("1024")
    (6442450944, 536870912, 1024)
    """
    m = _SIZE.fullmatch(text.strip())
    if not m:
        raise ValueError(f"not a JVM size: {text!r}")
    return int(m.group(1)) * _SUFFIX[m.group(2).lower()]


@dataclass(frozen=True)
class Setting:
    """The winning value of one flag and where it came from (``-Xmx6g`` on the command line …)."""

    value: float
    option: str
    source: str
    overrides: Optional[Setting] = None  # the earlier setting of the same flag this one replaced

    def describe(self) -> str:
        where = "on the command line" if self.source == "command line" else f"in {self.source}"
        text = f"{self.option} {where}"
        if self.overrides is not None and self.overrides.option != self.option:
            text += f", overriding {self.overrides.describe()}"
        return text


@dataclass
class JvmOptions:
    settings: dict[str, Setting] = field(default_factory=dict)
    main: Optional[str] = None  # main class, ``-jar`` file or ``-m`` module
    unreadable_argfiles: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)  # options seen but not understood as sizes/numbers

    def get(self, flag: str) -> Optional[float]:
        setting = self.settings.get(flag)
        return setting.value if setting else None

    @property
    def container_support(self) -> bool:
        return self.get("UseContainerSupport") != 0

    def physical_memory(self, host_ram: int, cgroup_limit: Optional[int]) -> int:
        """What the JVM takes as physical memory: the cgroup limit when it has container support."""
        if cgroup_limit is not None and self.container_support:
            return min(host_ram, cgroup_limit)
        return host_ram

    def max_heap_bytes(self, host_ram: int, cgroup_limit: Optional[int] = None) -> int:
        """The maximum heap the JVM will use, explicit or by ergonomics (within the 2 MiB alignment).

        >>> JvmOptions().max_heap_bytes(16 << 30)  # 25 % of RAM by default
        4294967296
        >>> parse_jvm_options(["java", "-XX:MaxRAMPercentage=80", "App"]).max_heap_bytes(8 << 30, 4 << 30)
        3435973836
        """
        explicit = self.get("MaxHeapSize")
        if explicit is not None:
            return int(explicit)
        phys = self.physical_memory(host_ram, cgroup_limit)
        max_ram = self.get("MaxRAM")
        overrides = max_ram is not None or any(
            self.get(f) is not None for f in ("MaxRAMPercentage", "MaxRAMFraction", "MinRAMPercentage",
                                              "MinRAMFraction", "InitialRAMPercentage", "InitialRAMFraction"))
        if max_ram is not None:
            phys = int(max_ram)
        elif not overrides:
            phys = min(phys, DEFAULT_MAX_RAM)
        max_pct = self.get("MaxRAMPercentage")
        if max_pct is None:
            fraction = self.get("MaxRAMFraction")
            max_pct = 100.0 / fraction if fraction else DEFAULT_MAX_RAM_PERCENTAGE
        min_pct = self.get("MinRAMPercentage")
        if min_pct is None:
            fraction = self.get("MinRAMFraction")
            min_pct = 100.0 / fraction if fraction else DEFAULT_MIN_RAM_PERCENTAGE
        reasonable_max = int(phys * max_pct / 100)
        reasonable_min = int(phys * min_pct / 100)
        heap = reasonable_min if reasonable_min < DEFAULT_MAX_HEAP_FLAG else max(reasonable_max, DEFAULT_MAX_HEAP_FLAG)
        initial = self.get("InitialHeapSize")
        return max(heap, int(initial)) if initial is not None else heap

    def heap_source(self) -> str:
        """How the maximum heap was decided, for messages."""
        explicit = self.settings.get("MaxHeapSize")
        if explicit:
            return explicit.describe()
        parts = [s.describe() for k, s in self.settings.items()
                 if k in ("MaxRAMPercentage", "MaxRAMFraction", "MaxRAM", "MinRAMPercentage", "MinRAMFraction",
                          "UseContainerSupport")]
        return "ergonomics: " + (", ".join(parts) if parts else f"default {DEFAULT_MAX_RAM_PERCENTAGE:g} % of memory")

    @property
    def thread_stack_bytes(self) -> int:
        value = self.get("ThreadStackSize")
        return int(value) if value is not None else DEFAULT_THREAD_STACK


def _split_env(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def _apply(opts: JvmOptions, arg: str, source: str) -> None:
    """Record one JVM option if it sizes memory."""

    def put(flag: str, value: float) -> None:
        previous = opts.settings.get(flag)
        opts.settings[flag] = Setting(value, arg, source, previous)

    def size(flag: str, text: str, unit: int = 1) -> None:
        try:
            put(flag, java_size(text) * unit)
        except ValueError:
            opts.invalid.append(f"{arg} ({source})")

    def number(flag: str, text: str) -> None:
        try:
            put(flag, float(text))
        except ValueError:
            opts.invalid.append(f"{arg} ({source})")

    if arg.startswith("-Xmx"):
        size("MaxHeapSize", arg[4:])
    elif arg.startswith("-Xms"):
        size("InitialHeapSize", arg[4:])
    elif arg.startswith("-Xss"):
        size("ThreadStackSize", arg[4:])
    elif arg.startswith("-XX:"):
        body = arg[4:]
        if body[:1] in "+-" and "=" not in body:
            put(body[1:], 1.0 if body[0] == "+" else 0.0)
            return
        name, _, value = body.partition("=")
        if name in ("MaxHeapSize", "InitialHeapSize", "MaxRAM", "MaxDirectMemorySize", "MaxMetaspaceSize",
                    "ReservedCodeCacheSize"):
            size(name, value)
        elif name == "ThreadStackSize":
            size(name, value, 1 << 10)  # in KiB
        elif name in ("MaxRAMPercentage", "MinRAMPercentage", "InitialRAMPercentage", "MaxRAMFraction",
                      "MinRAMFraction", "InitialRAMFraction"):
            number(name, value)


def expand_argfiles(argv: Sequence[str], read: Callable[[str], Optional[str]]) -> tuple[list[str], list[str]]:
    """Replace ``@file`` arguments (JDK ≥ 9 launcher) by their content; returns (argv, unreadable files)."""
    out: list[str] = []
    unreadable: list[str] = []
    for i, arg in enumerate(argv):
        if i > 0 and arg.startswith("@") and not arg.startswith("@@"):
            text = read(arg[1:])
            if text is None:
                unreadable.append(arg[1:])
            else:
                out.extend(_split_env(" ".join(line.split("#", 1)[0] for line in text.splitlines())))
            continue
        out.append(arg)
    return out, unreadable


def parse_jvm_options(argv: Sequence[str], env: Optional[Mapping[str, str]] = None) -> JvmOptions:
    """JVM memory options of a ``java`` command line, with the option environment variables.

    >>> o = parse_jvm_options(["java", "-Xmx2g", "-jar", "app.jar", "-Xmx64g"],
    ...                       {"JAVA_TOOL_OPTIONS": "-Xmx1g", "_JAVA_OPTIONS": "-Xmx3g"})
    >>> o.get("MaxHeapSize") / 2**30, o.settings["MaxHeapSize"].source, o.main
    (3.0, '_JAVA_OPTIONS', 'app.jar')
    """
    env = env or {}
    opts = JvmOptions()
    for var in ENV_BEFORE_CMDLINE:
        for arg in _split_env(env.get(var, "")):
            _apply(opts, arg, var)
    args = list(argv[1:])
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in _LAST:
            opts.main = args[i + 1] if i + 1 < len(args) else None
            break
        if arg in _WITH_VALUE:
            i += 2
            continue
        if not arg.startswith("-"):
            opts.main = arg
            break
        _apply(opts, arg, "command line")
        i += 1
    for var in ENV_AFTER_CMDLINE:
        for arg in _split_env(env.get(var, "")):
            _apply(opts, arg, var)
    return opts


def parse_environ(data: bytes) -> dict[str, str]:
    """Only the JVM option variables of a ``/proc/PID/environ`` (NUL-separated); the rest is dropped."""
    out: dict[str, str] = {}
    for item in data.split(b"\0"):
        name, sep, value = item.partition(b"=")
        key = name.decode("ascii", "replace")
        if sep and key in ENV_VARS:
            out[key] = value.decode("utf-8", "replace")
    return out
