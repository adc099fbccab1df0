"""The guest's readiness state, printed on the console as ``QSTATE`` lines, turned into a snapshot directory.

init prints, between ``QSTATE-BEGIN`` and ``QSTATE-DONE``::

    QSTATE /proc/cmdline: console=ttyS0,115200 panic=-1 …
    QSTATE-END /proc/cmdline 1             # the line count, so a garbled or cut line is detected
    QSTATE-ABSENT /sys/kernel/kexec/crash_loaded
    QSTATE-DIR /sys/fs/pstore 0
    QCMD dmesg: [    0.000000] Linux version …
    QCMD-END dmesg 431 0                   # line count and exit status

:func:`write_snapshot` lays that out the way :class:`kerncheck.host.SnapshotHost` reads it (files at their
absolute path, command output under ``commands/``), optionally with saved crash dumps under
``/var/crash/<dir>/``, as kdump would have left them after the reboot.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from kerncheck import __version__
from kerncheck.host import COMMANDS_DIR, SNAPSHOT_META, mangle_command
from lab.errors import LabError

_LINE = re.compile(r"^(QSTATE|QCMD) (\S+?): ?(.*)$")
_END = re.compile(r"^QSTATE-END (/\S+) (\d+)$")
_CMD_END = re.compile(r"^QCMD-END (\S+) (\d+) (\d+)$")
_ABSENT = re.compile(r"^QSTATE-ABSENT (/\S+)$")
_DIR = re.compile(r"^QSTATE-DIR (/\S+) (\d+)$")


@dataclass
class GuestState:
    files: dict[str, str] = field(default_factory=dict)  # absolute path → content
    absent: list[str] = field(default_factory=list)
    dirs: list[str] = field(default_factory=list)
    commands: dict[str, tuple[str, int]] = field(default_factory=dict)  # name → (stdout, exit status)

    def value(self, path: str) -> Optional[str]:
        text = self.files.get(path)
        return text.strip() if text is not None else None


def parse_state(console: str) -> GuestState:
    """The state between ``QSTATE-BEGIN`` and ``QSTATE-DONE``; :class:`LabError` if absent or damaged."""
    lines = console.split("\n")
    try:
        begin = lines.index("QSTATE-BEGIN")
        done = lines.index("QSTATE-DONE", begin)
    except ValueError:
        raise LabError("the console holds no complete readiness state (QSTATE-BEGIN … QSTATE-DONE)") from None
    state = GuestState()
    collected: dict[tuple[str, str], list[str]] = {}
    problems = []
    for line in lines[begin + 1:done]:
        m = _LINE.match(line)
        if m:
            collected.setdefault((m.group(1), m.group(2)), []).append(m.group(3))
            continue
        m = _END.match(line)
        if m:
            got = collected.pop(("QSTATE", m.group(1)), [])
            if len(got) != int(m.group(2)):
                problems.append(f"{m.group(1)}: {len(got)} of {m.group(2)} lines arrived")
            state.files[m.group(1)] = "".join(f"{text}\n" for text in got)
            continue
        m = _CMD_END.match(line)
        if m:
            got = collected.pop(("QCMD", m.group(1)), [])
            if len(got) != int(m.group(2)):
                problems.append(f"command {m.group(1)}: {len(got)} of {m.group(2)} lines arrived")
            state.commands[m.group(1)] = ("".join(f"{text}\n" for text in got), int(m.group(3)))
            continue
        m = _ABSENT.match(line)
        if m:
            state.absent.append(m.group(1))
            continue
        m = _DIR.match(line)
        if m:
            state.dirs.append(m.group(1))
    problems += [f"{name}: no end line" for _, name in collected]
    if problems:
        raise LabError("the readiness state was damaged on the console: " + "; ".join(problems))
    return state


@dataclass(frozen=True)
class CrashDump:
    """What kdump saved for one crash: the dump file and the kernel log read out of it."""

    vmcore: Path
    dmesg: str


def write_snapshot(state: GuestState, dest: Path, source: str, dumps: tuple[CrashDump, ...] = (),
                   crashed_at: Optional[float] = None) -> Path:
    """Write ``state`` (and ``dumps`` under ``/var/crash``) as a snapshot directory at ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    for path, text in state.files.items():
        target = dest / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    for path in state.dirs:
        (dest / path.lstrip("/")).mkdir(parents=True, exist_ok=True)
    commands = dest / COMMANDS_DIR
    for name, (stdout, rc) in state.commands.items():
        commands.mkdir(exist_ok=True)
        (commands / mangle_command([name])).write_text(stdout)
        (commands / f"{mangle_command([name])}.rc").write_text(f"{rc}\n")
    when = crashed_at or time.time()
    for n, dump in enumerate(dumps):
        stamp = time.strftime("%Y-%m-%d-%H:%M:%S", time.localtime(when + n))
        crash_dir = dest / "var" / "crash" / f"127.0.0.1-{stamp}"
        crash_dir.mkdir(parents=True)
        shutil.copyfile(dump.vmcore, crash_dir / "vmcore")
        (crash_dir / "vmcore-dmesg.txt").write_text(dump.dmesg)
        for stamped in (crash_dir / "vmcore", crash_dir / "vmcore-dmesg.txt", crash_dir):
            os.utime(stamped, (when, when))
    meta = {
        "collected_at": time.time(),
        "kerncheck_version": __version__,
        "hostname": state.value("/proc/sys/kernel/hostname"),
        "kernel": state.value("/proc/sys/kernel/osrelease"),
        "skipped": [f"{path}: absent in the guest" for path in state.absent],
        "source": source,
    }
    (dest / SNAPSHOT_META).write_text(json.dumps(meta, indent=1))
    return dest
