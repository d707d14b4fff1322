"""Meeting times and due dates as people write them in notices and minutes (pure).

Owns reading "2026年12月3日（周四）下午2:00—4:00", "2026-12-03 14:00~16:00", "12月3日 14:30",
"Dec 3, 2026 2:00 PM - 4:00 PM", "3 December 2026 14:00" into aware datetimes in the
organisation's time zone, and due dates ("2026-12-10", "12月10日前", "by Dec 10") into dates. A
date written without a year takes the year of the mail's date, or the next year when that would
put it more than :data:`PAST_WINDOW` before the mail. Nothing is guessed: a text with no
readable date, no time of day, an impossible date or an end before the start reads as ``None``.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from zoneinfo import ZoneInfo

PAST_WINDOW = dt.timedelta(days=61)  # "about two months"

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH = (
    r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_YEAR = r"(?P<y>\d{4})(?![\d:])"
_DATE_RES = (
    re.compile(
        r"(?<!\d)(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})(?!\d)\s*[日号]?"
    ),
    re.compile(r"(?<!\d)(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]"),
    re.compile(rf"(?<![\d:])(?P<d>\d{{1,2}})(?:st|nd|rd|th)?[\s-]+{_MONTH}(?:,?[\s-]+{_YEAR})?\b"),
    re.compile(rf"\b{_MONTH}\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+{_YEAR})?"),
)
_PERIODS_PM = frozenset(("下午", "傍晚", "晚上", "pm"))
_PERIODS_AM = frozenset(("上午", "早上", "早晨", "am"))
_TIME_RE = re.compile(
    r"(?:(?P<zh>上午|早上|早晨|中午|下午|傍晚|晚上|凌晨)\s*)?"
    r"(?<![\d:])(?P<h>\d{1,2})"
    r"(?:\s*:\s*(?P<mi>\d{2})(?!\d)|\s*[点时](?:\s*(?P<half>半)|\s*(?P<mi2>\d{1,2})\s*分?)?"
    r"|(?=\s*[ap]\.?m\.?(?![a-z])))"
    r"(?:\s*(?P<en>[ap])\.?m\.?(?![a-z]))?"
)
_RANGE_RE = re.compile(r"\s*(?:[-~—–―‒至到]+|to|until|till)\s*")


@dataclass(frozen=True)
class DateSpan:
    """A date found in a text: where it was written and what it means (None if impossible)."""

    start: int
    end: int
    month: int
    day: int
    year: int | None  # None when written without a year

    def date(self, reference: dt.date | None) -> dt.date | None:
        """The date; a year-less one takes its year from ``reference`` (see module doc)."""
        if self.year is not None:
            return _safe_date(self.year, self.month, self.day)
        if reference is None:
            return None
        candidate = _safe_date(reference.year, self.month, self.day)
        if candidate is not None and candidate < reference - PAST_WINDOW:
            return _safe_date(reference.year + 1, self.month, self.day)
        return candidate


@dataclass(frozen=True)
class _Clock:
    start: int
    end: int
    hour: int
    minute: int
    period: str  # "am", "pm", "noon", "night" (凌晨) or ""


def fold(text: str) -> str:
    """Width-fold (NFKC) and lower-case each character, keeping positions: ``fold(t)[i]``
    stands for ``t[i]``."""
    out = []
    for char in text:
        folded = unicodedata.normalize("NFKC", char)
        folded = folded if len(folded) == 1 else char
        lower = folded.lower()
        out.append(lower if len(lower) == 1 else folded)
    return "".join(out)


def find_dates(text: str) -> list[DateSpan]:
    """Every date written in ``text``, in order, overlapping matches dropped."""
    folded = fold(text)
    found: list[DateSpan] = []
    for regex in _DATE_RES:
        for match in regex.finditer(folded):
            if any(match.start() < f.end and f.start < match.end() for f in found):
                continue
            found.append(_date_span(match))
    return sorted(found, key=lambda span: span.start)


def _date_span(match: re.Match[str]) -> DateSpan:
    groups = match.groupdict()
    month = int(groups["m"]) if groups.get("m") else _MONTHS.index(groups["mon"][:3]) + 1
    year = int(groups["y"]) if groups.get("y") else None
    return DateSpan(match.start(), match.end(), month, int(groups["d"]), year)


def parse_due_date(text: str, reference: dt.date | None) -> dt.date | None:
    """The first date in ``text`` (``2026-12-10``, ``12月10日前``, ``Dec 10``), else None."""
    dates = find_dates(text)
    return dates[0].date(reference) if dates else None


def local_day(moment: dt.datetime | None, tz: ZoneInfo) -> dt.date | None:
    """The calendar day of ``moment`` in ``tz`` (None stays None)."""
    return moment.astimezone(tz).date() if moment is not None else None


def parse_meeting_time(
    text: str, tz: ZoneInfo, reference: dt.date | None
) -> tuple[dt.datetime, dt.datetime | None] | None:
    """(start, end or None) in ``tz`` from a date and one or two times of day; else None."""
    dates = find_dates(text)
    if not dates:
        return None
    day = dates[0].date(reference)
    end_day = dates[1].date(reference) if len(dates) > 1 else day
    if day is None or end_day is None:
        return None
    clocks = _clocks(_blank_out(fold(text), dates))
    if not clocks:
        return None
    first, second = clocks[0], clocks[1] if len(clocks) > 1 else None
    hours = _hours(first, second, same_day=end_day == day)
    if hours is None:
        return None
    start = dt.datetime.combine(day, dt.time(hours[0], first.minute), tz)
    if second is None or hours[1] is None:
        return start, None
    end = dt.datetime.combine(end_day, dt.time(hours[1], second.minute), tz)
    return (start, end) if end > start else None


def _blank_out(text: str, dates: list[DateSpan]) -> str:
    for span in dates:
        text = text[: span.start] + " " * (span.end - span.start) + text[span.end :]
    return text


def _clocks(text: str) -> list[_Clock]:
    """The first time of day, and the second when a range mark (``-``, ``至``, ``to``) joins them."""
    clocks = [_clock(match) for match in _TIME_RE.finditer(text)]
    clocks = [clock for clock in clocks if clock.minute < 60]
    if len(clocks) > 1 and not _RANGE_RE.fullmatch(text[clocks[0].end : clocks[1].start]):
        return clocks[:1]
    return clocks[:2]


def _clock(match: re.Match[str]) -> _Clock:
    minute = 30 if match["half"] else int(match["mi"] or match["mi2"] or 0)
    word = match["zh"] or (match["en"] + "m" if match["en"] else "")
    period = (
        "pm" if word in _PERIODS_PM
        else "am" if word in _PERIODS_AM
        else "noon" if word == "中午"
        else "night" if word == "凌晨"
        else ""
    )  # fmt: skip
    return _Clock(match.start(), match.end(), int(match["h"]), minute, period)


def _hours(first: _Clock, second: _Clock | None, same_day: bool) -> tuple[int, int | None] | None:
    """24-hour start and end hours. A period written once serves both ("下午2:00—4:00",
    "2:00 - 4:00 PM") when that keeps the start before the end ("上午11点-12点": 11 to 12)."""
    starts = [first.period] if first.period or second is None else [second.period, ""]
    for start_period in dict.fromkeys(starts):
        start = _hour24(first.hour, start_period)
        if start is None:
            continue
        if second is None:
            return start, None
        for end_period in dict.fromkeys([second.period] if second.period else [start_period, ""]):
            end = _hour24(second.hour, end_period)
            if end is not None and (not same_day or (end, second.minute) > (start, first.minute)):
                return start, end
    return None


def _hour24(hour: int, period: str) -> int | None:
    if period == "am" and hour > 12:
        return None
    if period == "pm" and hour < 12:
        hour += 12
    elif period == "am" and hour == 12:
        hour = 0
    elif period == "noon" and 1 <= hour <= 3:
        hour += 12
    return hour if hour <= 23 else None


def _safe_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None
