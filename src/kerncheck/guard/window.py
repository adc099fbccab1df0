"""Maintenance windows: ``"Sat 02:00-04:00 Europe/Berlin"``, ``"Mon-Fri 23:30-00:30 UTC"``, ``"daily 01:00-03:00 UTC"``.

Grammar: ``DAYS START-END ZONE``. DAYS is a weekday (``Mon`` … ``Sun``, or the full name), a comma list, a
range (``Mon-Fri``, ``Fri-Mon`` wraps) or ``daily``/``*``; START and END are ``HH:MM`` wall-clock times
in ZONE (an IANA name such as ``Europe/Berlin``, or ``UTC``), END may be ``24:00``. The timezone is
required: a window in "whatever the server's clock says" is how drills happen at the wrong hour.

A window opens on each listed day at START and closes at END the same day, or the next day when END is
not after START (it crosses midnight). Times are wall-clock times, so across a DST change a window keeps
its local hours: on the spring-forward night the skipped hour is not part of it (a window opening at a
skipped time opens when the clock resumes), on the fall-back night the repeated hour is part of it twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_SPEC = re.compile(r"^\s*(?P<days>\S+)\s+(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})\s+(?P<zone>\S+)\s*$")


class WindowError(ValueError):
    """A window specification cannot be understood; the message quotes it and says why."""


@dataclass(frozen=True)
class Window:
    spec: str
    days: frozenset[int]  # 0 = Monday
    start: tuple[int, int]
    end: tuple[int, int]
    zone: str

    @property
    def tz(self) -> tzinfo:
        return timezone.utc if self.zone.upper() == "UTC" else ZoneInfo(self.zone)

    def occurrence(self, day: date) -> tuple[datetime, datetime]:
        """The opening on ``day`` (local date in the window's zone) as aware UTC datetimes."""
        tz = self.tz
        start = _wall(day, self.start, tz)
        end_day = day if self.end > self.start else day + timedelta(days=1)
        end = _wall(end_day, self.end, tz)
        return start.astimezone(timezone.utc), end.astimezone(timezone.utc)

    def contains(self, now: datetime) -> bool:
        return self.current(now) is not None

    def current(self, now: datetime) -> Optional[tuple[datetime, datetime]]:
        """The opening that contains ``now`` (aware), if any."""
        local = now.astimezone(self.tz).date()
        for day in (local - timedelta(days=1), local):
            if day.weekday() in self.days:
                start, end = self.occurrence(day)
                if start <= now < end:
                    return start, end
        return None

    def next_opening(self, now: datetime) -> Optional[datetime]:
        """When the window next opens after ``now`` (within the coming 8 days)."""
        local = now.astimezone(self.tz).date()
        for offset in range(0, 9):
            day = local + timedelta(days=offset)
            if day.weekday() in self.days:
                start, _ = self.occurrence(day)
                if start > now:
                    return start
        return None


def _wall(day: date, hm: tuple[int, int], tz: tzinfo) -> datetime:
    """The instant (UTC) the wall clock in ``tz`` shows ``hm`` on ``day``.

    A repeated (fall-back) time means its first occurrence. A skipped (spring-forward) time means the
    instant the clock jumps over it, where the wall clock resumes after the gap.
    """
    if hm == (24, 0):
        day, hm = day + timedelta(days=1), (0, 0)
    naive = datetime.combine(day, time(*hm))
    first = naive.replace(tzinfo=tz).astimezone(timezone.utc)  # fold=0
    if first.astimezone(tz).replace(tzinfo=None) == naive:
        return first
    lo = naive.replace(tzinfo=tz, fold=1).astimezone(timezone.utc)  # just before the gap
    hi = first  # just after it
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        if mid.astimezone(tz).replace(tzinfo=None) < naive:
            lo = mid
        else:
            hi = mid
    return hi.replace(microsecond=0)


def _hm(text: str, spec: str, allow_24: bool) -> tuple[int, int]:
    hour, minute = (int(x) for x in text.split(":"))
    if (hour, minute) == (24, 0) and allow_24:
        return 24, 0
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise WindowError(f"{spec!r}: {text} is not a time of day (HH:MM, 00:00-23:59, or 24:00 as an end)")
    return hour, minute


def _day(token: str, spec: str) -> int:
    t = token.lower()
    if t[:3] in DAYS and (t in DAYS or t in _FULL):
        return DAYS.index(t[:3])
    raise WindowError(f"{spec!r}: {token!r} is not a weekday (Mon … Sun)")


def _days(text: str, spec: str) -> frozenset[int]:
    if text.lower() in ("daily", "*"):
        return frozenset(range(7))
    days: set[int] = set()
    for part in text.split(","):
        first, sep, last = part.partition("-")
        if sep:
            a, b = _day(first, spec), _day(last, spec)
            days.update((a + i) % 7 for i in range((b - a) % 7 + 1))
        else:
            days.add(_day(part, spec))
    return frozenset(days)


def parse_window(spec: str) -> Window:
    """Parse one window.

    >>> w = parse_window("Sat 02:00-04:00 Europe/Berlin")
    >>> sorted(w.days), w.start, w.end, w.zone
    ([5], (2, 0), (4, 0), 'Europe/Berlin')
    >>> sorted(parse_window("Fri-Mon 23:00-01:00 UTC").days)
    [0, 4, 5, 6]
    """
    if not isinstance(spec, str):
        raise WindowError(f"{spec!r}: a window is a string like \"Sat 02:00-04:00 Europe/Berlin\"")
    m = _SPEC.match(spec)
    if not m:
        raise WindowError(f"{spec!r}: expected \"DAYS HH:MM-HH:MM ZONE\", e.g. \"Sat 02:00-04:00 Europe/Berlin\"")
    start = _hm(m.group("start"), spec, allow_24=False)
    end = _hm(m.group("end"), spec, allow_24=True)
    if start == end:
        raise WindowError(f"{spec!r}: the window opens and closes at the same time")
    zone = m.group("zone")
    if zone.upper() != "UTC":
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise WindowError(f"{spec!r}: unknown timezone {zone!r} ({exc}); use an IANA name such as "
                              "Europe/Berlin, or UTC (is the tzdata package installed?)") from None
    return Window(spec, _days(m.group("days"), spec), start, end, zone)


def parse_windows(specs: object) -> list[Window]:
    """The ``windows`` list of the configuration."""
    if isinstance(specs, str):
        specs = [specs]
    if not isinstance(specs, list) or not specs:
        raise WindowError("windows must be a non-empty list of strings like \"Sat 02:00-04:00 Europe/Berlin\"")
    return [parse_window(s) for s in specs]


def open_window(windows: list[Window], now: datetime) -> Optional[tuple[Window, datetime, datetime]]:
    """The window open at ``now`` with its opening and closing time, if any."""
    for window in windows:
        current = window.current(now)
        if current is not None:
            return window, current[0], current[1]
    return None


def next_opening(windows: list[Window], now: datetime) -> Optional[tuple[Window, datetime]]:
    found = [(w.next_opening(now), w) for w in windows]
    candidates = [(t, w) for t, w in found if t is not None]
    if not candidates:
        return None
    when, window = min(candidates, key=lambda pair: pair[0])
    return window, when
