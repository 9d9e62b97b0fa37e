"""Digest due times: wall-clock times in the subscription's zone, across DST."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.models import Schedule, ScheduleError
from bot.schedule import next_due


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_instant_is_now() -> None:
    now = at(2026, 11, 24, 15, 0)
    assert next_due(Schedule(), now) == now


def test_daily_later_today_and_tomorrow() -> None:
    s = Schedule.parse("daily@09:00", "Europe/Berlin")
    assert next_due(s, at(2026, 11, 24, 7, 0)) == at(2026, 11, 24, 8, 0)
    assert next_due(s, at(2026, 11, 24, 8, 0)) == at(2026, 11, 25, 8, 0)


def test_daily_keeps_wall_clock_across_dst() -> None:
    s = Schedule.parse("daily@09:00", "Europe/Berlin")
    # CET (+1) before 29 March 2026, CEST (+2) after.
    assert next_due(s, at(2026, 3, 28, 12, 0)) == at(2026, 3, 29, 7, 0)
    assert next_due(s, at(2026, 3, 27, 12, 0)) == at(2026, 3, 28, 8, 0)
    # Back to CET on 25 October 2026.
    assert next_due(s, at(2026, 10, 24, 12, 0)) == at(2026, 10, 25, 8, 0)


def test_nonexistent_and_repeated_times() -> None:
    s = Schedule.parse("daily@02:30", "Europe/Berlin")
    # 02:30 does not exist on 29 March: moved forward by the gap, to 03:30 CEST.
    assert next_due(s, at(2026, 3, 28, 12, 0)) == at(2026, 3, 29, 1, 30)
    # 02:30 happens twice on 25 October: the first one (CEST).
    assert next_due(s, at(2026, 10, 24, 12, 0)) == at(2026, 10, 25, 0, 30)


def test_weekly() -> None:
    s = Schedule.parse("weekly@mon@09:00", "America/New_York")
    # Tuesday 24 Nov 2026 -> Monday 30 Nov, 09:00 EST = 14:00 UTC.
    assert next_due(s, at(2026, 11, 24, 12, 0)) == at(2026, 11, 30, 14, 0)
    # On Monday before 09:00 it is the same day.
    assert next_due(s, at(2026, 11, 30, 13, 0)) == at(2026, 11, 30, 14, 0)
    assert str(s) == "weekly@mon@09:00"


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        next_due(Schedule(), datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("text", "tz", "message"),
    [
        ("hourly", "UTC", "unknown schedule"),
        ("daily@25:00", "UTC", "invalid time"),
        ("weekly@xyz@09:00", "UTC", "unknown weekday"),
        ("weekly@fryday", "UTC", "unknown weekday"),
        ("daily@13pm", "UTC", "invalid time"),
        ("daily@0am", "UTC", "invalid time"),
        ("daily@9:5", "UTC", "unknown schedule"),
        ("daily", "Mars/Base", "unknown time zone"),
    ],
)
def test_bad_schedules(text: str, tz: str, message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        Schedule.parse(text, tz)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("weekly@friday@17:30", "weekly@fri@17:30"),
        ("Weekly@Thurs@5pm", "weekly@thu@17:00"),
        ("weekly@sunday", "weekly@sun@09:00"),
        ("weekly", "weekly@mon@09:00"),
        ("daily@9", "daily@09:00"),
        ("daily@7:45am", "daily@07:45"),
        ("daily@12am", "daily@00:00"),
        ("daily@12pm", "daily@12:00"),
    ],
)
def test_schedules_people_type(text: str, canonical: str) -> None:
    assert str(Schedule.parse(text)) == canonical


def test_schedule_round_trip() -> None:
    for text in ("instant", "daily@07:05", "weekly@fri@18:30"):
        assert str(Schedule.parse(text)) == text
