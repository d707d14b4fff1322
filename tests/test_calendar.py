"""Working days and deadlines on real calendars (mainland China with its 调休 make-up days)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from mailflow.calendar import WorkCalendar
from mailflow.config import Duration, parse_duration

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


def test_weekends_holidays_and_makeup_days() -> None:
    cal = WorkCalendar()
    assert cal.is_working_day(dt.date(2026, 11, 27))  # Friday
    assert not cal.is_working_day(dt.date(2026, 11, 28))  # Saturday
    assert not cal.is_working_day(dt.date(2026, 10, 1))  # National Day
    assert not cal.is_working_day(dt.date(2026, 10, 6))  # day off moved from 2026-09-20
    assert cal.is_working_day(dt.date(2026, 9, 20))  # Sunday worked in exchange (调休)
    assert cal.is_working_day(dt.date(2026, 10, 10))  # Saturday worked in exchange


def test_friday_afternoon_important_request() -> None:
    cal = WorkCalendar()
    deadline = cal.add(at(2026, 11, 27, 16, 30), parse_duration("3 workdays", "k"))
    assert deadline == at(2026, 12, 2, 18, 0)  # Mon, Tue, Wed


def test_important_request_across_national_day_week() -> None:
    cal = WorkCalendar()
    # Received Wednesday 30 Sep 2026: 1-7 Oct are off, Sat 10 Oct is a make-up working day.
    deadline = cal.add(at(2026, 9, 30, 10, 0), parse_duration("3 workdays", "k"))
    assert deadline == at(2026, 10, 10, 18, 0)  # Thu 8, Fri 9, Sat 10 (调休)


def test_year_known_only_from_config() -> None:
    cal = WorkCalendar(
        country="",
        extra_holidays=(dt.date(2031, 1, 23), dt.date(2031, 1, 24)),
        extra_workdays=(dt.date(2031, 1, 25),),
    )
    # Wednesday 22 Jan 2031: Thu and Fri are holidays, Saturday is worked.
    deadline = cal.add(at(2031, 1, 22, 9, 0), Duration("2 workdays", workdays=2))
    assert deadline == at(2031, 1, 27, 18, 0)  # Sat 25 (make-up), Mon 27


def test_absolute_durations_ignore_the_calendar() -> None:
    cal = WorkCalendar()
    start = at(2026, 9, 30, 10, 0)
    assert cal.add(start, parse_duration("24h", "k")) == at(2026, 10, 1, 10, 0)
    assert cal.add(start, parse_duration("1 week", "k")) == at(2026, 10, 7, 10, 0)


def test_start_in_another_zone_is_converted() -> None:
    cal = WorkCalendar()
    utc_friday_evening = dt.datetime(2026, 11, 27, 17, 0, tzinfo=dt.UTC)  # Sat 01:00 in Shanghai
    deadline = cal.add(utc_friday_evening, Duration("1 workday", workdays=1))
    assert deadline == at(2026, 11, 30, 18, 0)


def test_working_days_between_and_neighbours() -> None:
    cal = WorkCalendar()
    assert cal.working_days_between(dt.date(2026, 11, 27), dt.date(2026, 12, 2)) == 3
    assert cal.previous_working_day(dt.date(2026, 11, 30)) == dt.date(2026, 11, 27)
    assert cal.next_working_day(dt.date(2026, 11, 28)) == dt.date(2026, 11, 30)
