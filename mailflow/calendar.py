"""Working days and deadlines in the organisation's time zone.

A day is a working day when config says so (``extra_workdays``), else not when config or the
country's calendar (the ``holidays`` package, which knows China's make-up working days 调休)
says it is a holiday, else when it is a weekday. Deadlines are absolute (``24h``, ``1 week``)
or counted in working days: "N workdays" ends at ``workday_end`` of the Nth working day after
the day the clock started.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo

import holidays as holidays_lib

from mailflow.config import Config, Duration


class WorkCalendar:
    def __init__(
        self,
        *,
        timezone: str = "Asia/Shanghai",
        country: str = "CN",
        extra_holidays: tuple[dt.date, ...] = (),
        extra_workdays: tuple[dt.date, ...] = (),
        workday_end: dt.time = dt.time(18, 0),
    ) -> None:
        self.tz = zoneinfo.ZoneInfo(timezone)
        self.country = country
        self.extra_holidays = frozenset(extra_holidays)
        self.extra_workdays = frozenset(extra_workdays)
        self.workday_end = workday_end

    @classmethod
    def from_config(cls, config: Config) -> WorkCalendar:
        org = config.organization
        return cls(
            timezone=org.timezone,
            country=org.holidays,
            extra_holidays=org.extra_holidays,
            extra_workdays=org.extra_workdays,
            workday_end=config.deadlines.workday_end,
        )

    @functools.lru_cache(maxsize=64)  # noqa: B019 - one calendar per process, years are few
    def _country_year(self, year: int) -> tuple[frozenset[dt.date], frozenset[dt.date]]:
        """(holidays, weekend make-up workdays) the country calendar knows for ``year``."""
        if not self.country:
            return frozenset(), frozenset()
        calendar = holidays_lib.country_holidays(self.country, years=year)
        workdays = getattr(calendar, "weekend_workdays", set())
        return frozenset(calendar), frozenset(d for d in workdays if d.year == year)

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.extra_workdays:
            return True
        if day in self.extra_holidays:
            return False
        country_holidays, makeup_days = self._country_year(day.year)
        if day in country_holidays:
            return False
        return day in makeup_days or day.weekday() < 5

    def local(self, moment: dt.datetime) -> dt.datetime:
        if moment.tzinfo is None:
            raise ValueError("naive datetime: times must carry a time zone")
        return moment.astimezone(self.tz)

    def nth_working_day_after(self, day: dt.date, n: int) -> dt.date:
        """The ``n``-th working day strictly after ``day`` (n >= 1)."""
        count = 0
        while count < n:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return day

    def next_working_day(self, day: dt.date) -> dt.date:
        """``day`` itself when it is a working day, else the next one."""
        while not self.is_working_day(day):
            day += dt.timedelta(days=1)
        return day

    def previous_working_day(self, day: dt.date) -> dt.date:
        """The last working day strictly before ``day``."""
        day -= dt.timedelta(days=1)
        while not self.is_working_day(day):
            day -= dt.timedelta(days=1)
        return day

    def end_of(self, day: dt.date) -> dt.datetime:
        """``workday_end`` on ``day`` in the organisation's time zone."""
        return dt.datetime.combine(day, self.workday_end, tzinfo=self.tz)

    def add(self, start: dt.datetime, duration: Duration) -> dt.datetime:
        """The moment ``duration`` after ``start`` (aware, in the organisation's time zone)."""
        start = self.local(start)
        if duration.is_workdays:
            return self.end_of(self.nth_working_day_after(start.date(), duration.workdays))
        return (start.astimezone(dt.UTC) + duration.delta).astimezone(self.tz)

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in (start, end]; negative when ``end`` is before ``start``."""
        if end < start:
            return -self.working_days_between(end, start)
        return sum(
            1
            for i in range(1, (end - start).days + 1)
            if self.is_working_day(start + dt.timedelta(days=i))
        )
