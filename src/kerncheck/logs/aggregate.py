"""Fold repeated identical incidents into one with a count and first/last seen.

Identical means same source, kind, culprit and device or OOM victim; kinds without a culprit (``other``,
device errors without a device) also compare their normalised title, so different messages stay apart.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Optional

from kerncheck.logs.model import SEVERITIES, Incident

_NUMBERS = re.compile(r"0x[0-9a-fA-F]+|\d+")


def fingerprint(incident: Incident) -> tuple[str, ...]:
    """What makes two incidents "the same event again"."""
    victim = incident.details.get("victim") or {}
    key = [incident.source, incident.kind, incident.function or "", incident.module or "", incident.device or "",
           str(victim.get("comm") or "")]
    if incident.kind == "oom_kill":
        key.append(str(incident.details.get("oom_memcg") or ""))
    if not incident.function and not victim:
        key.append(_NUMBERS.sub("N", incident.title))
    return tuple(key)


def _instant(stamp: Optional[str]) -> Optional[tuple[int, float]]:
    """Sortable form of ``first_seen``: wall clock before monotonic, each ordered within its kind."""
    if stamp is None:
        return None
    if stamp.startswith("+") and stamp.endswith("s"):
        try:
            return (0, float(stamp[1:-1]))
        except ValueError:
            return None
    try:
        return (1, datetime.fromisoformat(stamp).timestamp())
    except ValueError:
        return None


def _after(stamp: Optional[str], since: datetime) -> bool:
    """Whether an incident seen at ``stamp`` is at or after ``since`` (unknown times are kept)."""
    if stamp is None or stamp.startswith("+"):
        return True
    try:
        seen = datetime.fromisoformat(stamp)
    except ValueError:
        return True
    if (seen.tzinfo is None) != (since.tzinfo is None):
        seen = seen.replace(tzinfo=since.tzinfo) if seen.tzinfo is None else seen.replace(tzinfo=None)
    return seen >= since


def aggregate(incidents: Iterable[Incident], since: Optional[datetime] = None,
              min_severity: Optional[str] = None, fold: bool = True) -> list[Incident]:
    """Fold identical incidents (keeping the first one's line and evidence), filter by time and severity,
    and order by source then first line. ``fold=False`` keeps every occurrence (e.g. each OOM kill's RSS)."""
    if min_severity is not None and min_severity not in SEVERITIES:
        raise ValueError(f"unknown severity {min_severity!r} (known: {', '.join(SEVERITIES)})")
    floor = SEVERITIES.index(min_severity) if min_severity else len(SEVERITIES) - 1
    folded: dict[tuple[str, ...], Incident] = {}
    for inc in incidents:
        if since is not None and not _after(inc.last_seen or inc.first_seen, since):
            continue
        if SEVERITIES.index(inc.severity) > floor:
            continue
        key = fingerprint(inc) if fold else (str(len(folded)),)
        seen = folded.get(key)
        if seen is None:
            folded[key] = replace(inc, evidence=list(inc.evidence), details=dict(inc.details))
            continue
        seen.count += inc.count
        if SEVERITIES.index(inc.severity) < SEVERITIES.index(seen.severity):
            seen.severity = inc.severity
        first, last = _instant(seen.first_seen), _instant(inc.first_seen)
        if first is None or (last is not None and last < first):
            seen.first_seen = inc.first_seen
        end, new_end = _instant(seen.last_seen), _instant(inc.last_seen)
        if end is None or (new_end is not None and new_end > end):
            seen.last_seen = inc.last_seen
        if inc.first_line < seen.first_line:
            seen.first_line = inc.first_line
    return sorted(folded.values(), key=lambda i: (i.source, i.first_line))
