"""The iCalendar invitation attached to a meeting notice (RFC 5545 / RFC 5546), written by hand.

Owns one VCALENDAR with METHOD (REQUEST by default), a VTIMEZONE for the organisation's zone
derived from ``zoneinfo`` (one STANDARD observance for a zone without changes, such as
Asia/Shanghai; the year's observances for a zone with daylight saving time) and a VEVENT with
the organizer and attendees (the host as CHAIR). Text is escaped (``\\ ; ,`` and newlines),
lines are folded at 75 octets without splitting a UTF-8 sequence, and end in CRLF. Pure.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from mailflow.attendees import Attendee
from mailflow.config import Person

PRODID = "-//mailflow//Cross-department coordination//ZH"
DEFAULT_DURATION = dt.timedelta(hours=1)
MAX_LINE_OCTETS = 75
_PARTICIPATION = {"host": "CHAIR"}  # every other role: REQ-PARTICIPANT
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_URI_RE = re.compile(r"^[a-z][a-z0-9+.-]*:\S+$", re.I)
_DAY = dt.timedelta(days=1)


def invitation(
    *,
    uid: str,
    sequence: int,
    organizer: Person,
    attendees: list[Attendee],
    topic: str,
    description: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime | None,
    place: str,
    link: str,
    tz: ZoneInfo,
    stamp: dt.datetime,
    method: str = "REQUEST",
) -> bytes:
    """The ``.ics`` bytes (UTF-8) of an invitation; ``ends_at`` defaults to one hour later.

    Naive datetimes are read as local time in ``tz`` (``stamp`` as UTC). A link that is a URI
    becomes the event's URL; the link also serves as LOCATION when there is no place, and is
    added to the description when there is one.
    """
    start = _in_zone(starts_at, tz)
    end = _in_zone(ends_at, tz) if ends_at is not None else start + DEFAULT_DURATION
    details = "\n\n".join(part for part in (description, link if place else "") if part)
    event = [
        f"UID:{_text(uid)}",
        f"SEQUENCE:{sequence}",
        f"DTSTAMP:{_utc(stamp)}",
        f"DTSTART;TZID={_param(tz.key)}:{_local(start)}",
        f"DTEND;TZID={_param(tz.key)}:{_local(end)}",
        f"SUMMARY:{_text(topic)}",
        *([f"LOCATION:{_text(place or link)}"] if place or link else []),
        *([f"DESCRIPTION:{_text(details)}"] if details else []),
        *([f"URL:{link.strip()}"] if _URI_RE.match(link.strip()) else []),
        f"ORGANIZER{_cn(organizer)}:mailto:{organizer.address}",
        *_attendee_lines(attendees, rsvp=method == "REQUEST"),
        f"STATUS:{'CANCELLED' if method == 'CANCEL' else 'CONFIRMED'}",
        "TRANSP:OPAQUE",
    ]
    lines = [
        "BEGIN:VCALENDAR",
        f"PRODID:{PRODID}",
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
        f"METHOD:{method}",
        *vtimezone(tz, start, end),
        "BEGIN:VEVENT",
        *event,
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(fold(line) + "\r\n" for line in lines).encode("utf-8")


def _attendee_lines(attendees: Iterable[Attendee], *, rsvp: bool) -> list[str]:
    lines: dict[str, str] = {}
    for attendee in attendees:
        person = attendee.person
        role = _PARTICIPATION.get(attendee.role, "REQ-PARTICIPANT")
        lines.setdefault(
            person.address,
            f"ATTENDEE{_cn(person)};ROLE={role};PARTSTAT=NEEDS-ACTION"
            f";RSVP={'TRUE' if rsvp else 'FALSE'}:mailto:{person.address}",
        )
    return list(lines.values())


# ---------------------------------------------------------------- time zone


def vtimezone(tz: ZoneInfo, start: dt.datetime, end: dt.datetime) -> list[str]:
    """A VTIMEZONE for ``tz`` covering the years from ``start`` to ``end``: one STANDARD
    observance when the offset never changes in them, else the offset in force on 1 January of
    the first year and every change after it, each as its own observance."""
    first = dt.datetime(start.year, 1, 1, tzinfo=tz)
    last = dt.datetime(end.year + 1, 1, 1, tzinfo=tz)
    changes = _transitions(tz, first.astimezone(dt.UTC), last.astimezone(dt.UTC))
    if not changes:
        offset = _offset(start.utcoffset())
        observances = _observance("STANDARD", "19700101T000000", offset, offset, start.tzname())
    else:
        offset = _offset(first.utcoffset())
        kind = "DAYLIGHT" if first.dst() else "STANDARD"
        observances = _observance(kind, _local(first), offset, offset, first.tzname())
        for instant, before in changes:
            local = instant.astimezone(tz)
            kind = "DAYLIGHT" if local.dst() else "STANDARD"
            onset = (instant + before).replace(tzinfo=None)  # wall clock of the old offset
            after = _offset(local.utcoffset())
            observances += _observance(kind, _local(onset), _offset(before), after, local.tzname())
    return ["BEGIN:VTIMEZONE", f"TZID:{_param(tz.key)}", *observances, "END:VTIMEZONE"]


def _observance(kind: str, onset: str, before: str, after: str, name: str | None) -> list[str]:
    return [
        f"BEGIN:{kind}",
        f"DTSTART:{onset}",
        f"TZOFFSETFROM:{before}",
        f"TZOFFSETTO:{after}",
        *([f"TZNAME:{_text(name)}"] if name else []),
        f"END:{kind}",
    ]


def _transitions(
    tz: ZoneInfo, start: dt.datetime, end: dt.datetime
) -> list[tuple[dt.datetime, dt.timedelta]]:
    """(UTC instant, offset before it) of each change of ``tz``'s UTC offset in [start, end)."""
    changes = []
    day = start
    while day < end:
        following = min(day + _DAY, end)
        before = day.astimezone(tz).utcoffset()
        if following.astimezone(tz).utcoffset() != before:
            low, high = day, following  # the offset changes in (low, high]
            while high - low > dt.timedelta(seconds=1):
                middle = low + (high - low) / 2
                if middle.astimezone(tz).utcoffset() == before:
                    low = middle
                else:
                    high = middle
            changes.append((high.replace(microsecond=0), before or dt.timedelta(0)))
        day = following
    return changes


def _offset(delta: dt.timedelta | None) -> str:
    seconds = int((delta or dt.timedelta(0)).total_seconds())
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{sign}{hours:02d}{minutes:02d}" + (f"{seconds:02d}" if seconds else "")


# ---------------------------------------------------------------- values


def _in_zone(moment: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment.astimezone(tz)


def _local(moment: dt.datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%S")


def _utc(moment: dt.datetime) -> str:
    moment = moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _text(value: str) -> str:
    """A TEXT value: CR/LF as ``\\n``; backslash, semicolon and comma escaped."""
    value = _CONTROL_RE.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
    for char in ("\\", ";", ","):
        value = value.replace(char, "\\" + char)
    return value.replace("\n", "\\n")


def _param(value: str) -> str:
    """A parameter value, quoted when it holds ``:;,`` (a double quote cannot be written)."""
    value = _CONTROL_RE.sub("", value.replace("\n", " ").replace("\r", " ")).replace('"', "'")
    return f'"{value}"' if any(char in value for char in ":;,") else value


def _cn(person: Person) -> str:
    return f";CN={_param(person.name)}" if person.name else ""


def fold(line: str) -> str:
    """Fold a content line into CRLF + space continued lines of at most 75 octets each, never
    inside a UTF-8 sequence."""
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > MAX_LINE_OCTETS:
            parts.append("".join(current))
            current, size = [], 1  # the continuation's leading space counts
        current.append(char)
        size += width
    parts.append("".join(current))
    return "\r\n ".join(parts)
