"""Turn the engine's incidents into alert events: thresholds, folding of repeats, conditions that clear.

An incident belongs to a *condition* keyed by kind + device + culprit (+ the OOM victim's command, or the
title shape for ``other``). A condition opens once ``threshold`` incidents with its key arrived within
``window`` seconds (``open`` event); further incidents fold into it (count, last seen) and are announced
again at most every ``repeat_interval``; it resolves after ``clear_after`` seconds without a repeat, or —
``clear_when_remounted`` — when its device is no longer mounted read-only (``resolved`` event). Every
event carries the scan incident fields plus ``id`` (stable for the condition's life) and ``state``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Optional

from kerncheck.logs.model import Incident
from kerncheck.watch.settings import WatchSettings

MOUNTINFO = "/proc/self/mountinfo"
SYS_BLOCK = "/sys/class/block"
# Since Linux 6.x an ext4 error with errors=remount-ro leaves the mount "rw" and marks the superblock
# "emergency_ro" (writes fail all the same); older kernels set "ro".
READONLY_OPTIONS = frozenset({"ro", "emergency_ro"})
_DIGITS = re.compile(r"\d+")


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# One failed request prints one block-layer summary line (``I/O error, dev sdb, sector …`` /
# ``critical medium error, dev …``) besides its SCSI/ATA detail lines; the engine groups a burst of them,
# about one disk, into one incident.
_BLOCK_ERROR_LINE = re.compile(r"error, dev \S+, sector|Buffer I/O error on dev")


def occurrences(incident: Incident) -> int:
    """How many errors an incident stands for: folded repeats, or the failed requests of a storage chain
    (counted from its evidence, which keeps up to 30 lines), so thresholds count errors, not bursts."""
    n = max(incident.count, 1)
    if incident.kind in ("io_error", "medium_error", "nvme_error"):
        n = max(n, sum(1 for line in incident.evidence if _BLOCK_ERROR_LINE.search(line)))
    return n


def condition_key(incident: Incident) -> str:
    parts = [incident.kind, incident.device or "", incident.function or ""]
    if incident.kind == "oom_kill" and incident.process:
        parts.append(str(incident.process.get("comm", "")))
    if incident.kind == "other" and not incident.function:
        parts.append(_DIGITS.sub("#", incident.title))
    return "|".join(parts)


@dataclass
class Condition:
    id: str
    key: str
    kind: str
    severity: str
    device: Optional[str]
    incident: dict[str, Any]  # the latest incident's JSON
    count: int
    opened_at: float
    last_at: float
    announced_at: float
    announced_count: int

    def event(self, state: str, now: float, reason: str = "") -> dict[str, Any]:
        out = dict(self.incident)
        out.update(id=self.id, state=state, severity=self.severity, count=self.count,
                   opened_at=iso(self.opened_at), last_at=iso(self.last_at))
        if state == "resolved":
            out.update(resolved_at=iso(now), reason=reason)
        return out


@dataclass
class Emitted:
    event: dict[str, Any]
    refresh: bool = False  # only a keep-alive for Alertmanager: nothing changed


def device_is_readonly(device: str, mountinfo: str = MOUNTINFO, sys_block: str = SYS_BLOCK) -> Optional[bool]:
    """Whether a mounted filesystem on ``device`` (``sda1``, ``loop0``, ``dm-0``) is read-only.

    ``False`` when it is mounted read-write everywhere or not mounted at all, ``None`` when the device is
    unknown here (the condition then stays open rather than clear on a guess).
    """
    name = device.rsplit("/", 1)[-1]
    try:
        with open(os.path.join(sys_block, name, "dev")) as fh:
            majmin = fh.read().strip()
        with open(mountinfo) as fh:
            lines = fh.read().splitlines()
    except OSError:
        return None
    for line in lines:
        fields = line.split()
        if len(fields) < 10 or fields[2] != majmin:
            continue
        try:
            super_opts = fields[fields.index("-", 6) + 3].split(",")
        except (ValueError, IndexError):
            super_opts = []
        if READONLY_OPTIONS.intersection(fields[5].split(",")) or READONLY_OPTIONS.intersection(super_opts):
            return True
    return False


@dataclass
class Tracker:
    settings: WatchSettings
    host: str
    is_readonly: Callable[[str], Optional[bool]] = device_is_readonly
    open: dict[str, Condition] = field(default_factory=dict)
    pending: dict[str, list[float]] = field(default_factory=dict)  # below-threshold arrival times per key
    opened: int = 0  # conditions ever opened: makes ids unique
    _changed: set[str] = field(default_factory=set)  # keys of conditions to serialise again
    _text: dict[str, str] = field(default_factory=dict)  # serialised open conditions

    def observe(self, incident: Incident, now: float) -> list[Emitted]:
        policy = self.settings.policy(incident.kind)
        if policy.ignore:
            return []
        key = condition_key(incident)
        cond = self.open.get(key)
        n = occurrences(incident)
        if cond is not None:
            cond.count += n
            cond.last_at = now
            cond.incident = incident.to_json()
            self._changed.add(key)
            if now - cond.announced_at >= self.settings.repeat_interval:
                return [self._announce(cond, now)]
            return []
        times = [t for t in self.pending.get(key, []) if now - t < policy.window]
        times.extend([now] * n)
        if len(times) < policy.threshold:
            self.pending[key] = times[-policy.threshold:]
            return []
        self.pending.pop(key, None)
        self.opened += 1
        digest = hashlib.sha1(f"{self.host}|{key}|{self.opened}".encode()).hexdigest()[:16]
        cond = Condition(id=digest, key=key, kind=incident.kind, severity=policy.severity or incident.severity,
                         device=incident.device, incident=incident.to_json(), count=len(times),
                         opened_at=now, last_at=now, announced_at=now, announced_count=len(times))
        self.open[key] = cond
        self._changed.add(key)
        return [Emitted(cond.event("open", now))]

    def _announce(self, cond: Condition, now: float) -> Emitted:
        refresh = cond.count == cond.announced_count
        cond.announced_at, cond.announced_count = now, cond.count
        self._changed.add(cond.key)
        return Emitted(cond.event("open", now), refresh=refresh)

    def tick(self, now: float) -> list[Emitted]:
        """Resolve the conditions that cleared; re-announce folded repeats and keep Alertmanager fed."""
        out: list[Emitted] = []
        for key, cond in list(self.open.items()):
            policy = self.settings.policy(cond.kind)
            reason = ""
            if policy.clear_after and now - cond.last_at >= policy.clear_after:
                reason = f"no repeat for {policy.clear_after:g}s"
            elif policy.clear_when_remounted and cond.device and self.is_readonly(cond.device) is False:
                reason = f"{cond.device} is no longer mounted read-only"
            if reason:
                del self.open[key]
                out.append(Emitted(cond.event("resolved", now, reason)))
            elif now - cond.announced_at >= self.settings.repeat_interval:
                out.append(self._announce(cond, now))
        for key, times in list(self.pending.items()):
            window = self.settings.policy(key.split("|", 1)[0]).window
            if not times or now - times[-1] >= window:
                del self.pending[key]
        return out

    def conditions(self) -> Iterable[Condition]:
        return self.open.values()

    def to_json(self) -> dict[str, Any]:
        return json.loads(self.to_json_text())

    def to_json_text(self) -> str:
        """The state as JSON text; each open condition is serialised again only when it changed (the state
        is saved on every alert, and an OOM storm of many victims can hold hundreds of conditions open)."""
        for key in self._changed:
            if key in self.open:
                self._text[key] = json.dumps(self.open[key].__dict__, separators=(",", ":"))
        self._changed.clear()
        for key in [k for k in self._text if k not in self.open]:
            del self._text[key]
        rest = json.dumps({"pending": self.pending, "opened": self.opened}, separators=(",", ":"))
        return '{"open":[' + ",".join(self._text[k] for k in self.open) + "]," + rest[1:]

    def restore(self, data: dict[str, Any]) -> None:
        self.open = {c["key"]: Condition(**c) for c in data.get("open", [])}
        self._changed = set(self.open)
        self.pending = {k: list(v) for k, v in data.get("pending", {}).items()}
        self.opened = int(data.get("opened", 0))
