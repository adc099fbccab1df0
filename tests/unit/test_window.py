"""Maintenance windows: weekdays, midnight crossing, DST transitions, timezones, bad specs."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from kerncheck.guard.window import WindowError, next_opening, open_window, parse_window, parse_windows

UTC = timezone.utc


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.mark.parametrize("spec, moment, inside", [
    ("Sat 02:00-04:00 Europe/Berlin", "2024-06-01T02:00:00+02:00", True),   # opens inclusive
    ("Sat 02:00-04:00 Europe/Berlin", "2024-06-01T03:59:59+02:00", True),
    ("Sat 02:00-04:00 Europe/Berlin", "2024-06-01T04:00:00+02:00", False),  # closes exclusive
    ("Sat 02:00-04:00 Europe/Berlin", "2024-06-01T01:59:59+02:00", False),
    ("Sat 02:00-04:00 Europe/Berlin", "2024-06-01T00:30:00+00:00", True),   # same instant, UTC
    ("Sat 02:00-04:00 Europe/Berlin", "2024-06-02T02:30:00+02:00", False),  # Sunday
    ("Sat 02:00-04:00 Europe/Berlin", "2024-01-06T02:30:00+01:00", True),   # winter (CET)
    ("Sat 02:00-04:00 Europe/Berlin", "2024-01-06T02:30:00+02:00", False),  # that is 01:30 CET
    # Crossing midnight: opens Friday 23:00, the Saturday-morning part belongs to Friday's opening.
    ("Fri 23:00-01:00 UTC", "2024-05-31T23:30:00+00:00", True),
    ("Fri 23:00-01:00 UTC", "2024-06-01T00:59:00+00:00", True),
    ("Fri 23:00-01:00 UTC", "2024-06-01T01:00:00+00:00", False),
    ("Fri 23:00-01:00 UTC", "2024-05-31T00:30:00+00:00", False),  # Friday 00:30 belongs to Thursday
    ("Mon-Fri 22:00-24:00 America/New_York", "2024-06-07T23:59:00-04:00", True),
    ("Mon-Fri 22:00-24:00 America/New_York", "2024-06-08T22:30:00-04:00", False),  # Saturday
    ("Fri-Mon 12:00-13:00 UTC", "2024-06-03T12:30:00+00:00", True),  # wrapping day range includes Mon
    ("Fri-Mon 12:00-13:00 UTC", "2024-06-04T12:30:00+00:00", False),
    ("daily 00:00-24:00 UTC", "2024-06-04T17:00:00+00:00", True),
    ("Tue,Thu 09:00-10:00 Asia/Kolkata", "2024-06-06T09:15:00+05:30", True),
])
def test_inside_or_outside(spec: str, moment: str, inside: bool):
    assert parse_window(spec).contains(at(moment)) is inside


def test_spring_forward_skipped_hour_is_not_part_of_the_window():
    # Europe/Berlin, 2024-03-31: 02:00 CET jumps to 03:00 CEST. Wall clock 02:00-04:00 is one real hour.
    window = parse_window("Sun 02:00-04:00 Europe/Berlin")
    start, end = window.occurrence(datetime(2024, 3, 31).date())
    assert (start, end) == (at("2024-03-31T03:00:00+02:00"), at("2024-03-31T04:00:00+02:00"))
    assert not window.contains(at("2024-03-31T01:59:00+01:00"))
    assert window.contains(at("2024-03-31T03:00:00+02:00"))
    # A window entirely inside the skipped hour does not happen that night.
    gap = parse_window("Sun 02:15-02:45 Europe/Berlin")
    start, end = gap.occurrence(datetime(2024, 3, 31).date())
    assert start == end


def test_fall_back_repeated_hour_lengthens_the_window():
    # Europe/Berlin, 2024-10-27: 03:00 CEST falls back to 02:00 CET; 02:00-04:00 lasts three real hours.
    window = parse_window("Sun 02:00-04:00 Europe/Berlin")
    start, end = window.occurrence(datetime(2024, 10, 27).date())
    assert end - start == timedelta(hours=3)
    assert window.contains(at("2024-10-27T02:30:00+02:00"))  # first 02:30 (CEST)
    assert window.contains(at("2024-10-27T02:30:00+01:00"))  # second 02:30 (CET)


def test_midnight_crossing_window_over_a_dst_change():
    # US 2024-03-10: 02:00 EST jumps to 03:00 EDT. Sat 23:00 - Sun 03:00 is three real hours.
    window = parse_window("Sat 23:00-03:00 America/New_York")
    start, end = window.occurrence(datetime(2024, 3, 9).date())
    assert (start, end) == (at("2024-03-09T23:00:00-05:00"), at("2024-03-10T03:00:00-04:00"))
    assert end - start == timedelta(hours=3)


def test_open_and_next_windows():
    windows = parse_windows(["Sat 02:00-04:00 Europe/Berlin", "Wed 20:00-21:00 UTC"])
    found = open_window(windows, at("2024-06-05T20:10:00+00:00"))
    assert found is not None and found[0].spec == "Wed 20:00-21:00 UTC" and found[2] == at("2024-06-05T21:00:00+00:00")
    assert open_window(windows, at("2024-06-05T21:10:00+00:00")) is None
    upcoming = next_opening(windows, at("2024-06-05T21:10:00+00:00"))
    assert upcoming is not None
    assert upcoming[0].spec == "Sat 02:00-04:00 Europe/Berlin" and upcoming[1] == at("2024-06-08T02:00:00+02:00")


@pytest.mark.parametrize("spec, message", [
    ("Sat 02:00-04:00", "expected \"DAYS HH:MM-HH:MM ZONE\""),
    ("Sat 02:00-04:00 Mars/Olympus", "unknown timezone 'Mars/Olympus'"),
    ("Sab 02:00-04:00 UTC", "'Sab' is not a weekday"),
    ("Sat 25:00-04:00 UTC", "25:00 is not a time of day"),
    ("Sat 02:00-02:00 UTC", "opens and closes at the same time"),
    ("Sat 24:00-02:00 UTC", "24:00 is not a time of day"),
])
def test_bad_specs_are_errors(spec: str, message: str):
    with pytest.raises(WindowError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_window(spec)


@pytest.mark.parametrize("value", [[], 3, None, [3]])
def test_windows_must_be_a_non_empty_list_of_strings(value: object):
    with pytest.raises(WindowError):
        parse_windows(value)
