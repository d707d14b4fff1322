"""The iCalendar invitation: parsed back with the icalendar package, field by field."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest

from mailflow.attendees import Attendee
from mailflow.config import Person
from mailflow.ical import fold, invitation

TZ = ZoneInfo("Asia/Shanghai")
ORGANIZER = Person("coordination@example.com", "跨部门协调中心")
ATTENDEES = [
    Attendee(Person("wang.fang@example.com", "王芳"), "host", "市场部"),
    Attendee(Person("chen.jie@example.com", "陈杰"), "decision_maker", "产品部"),
    Attendee(Person("liu.yang@example.com", "刘洋"), "executor", "产品部"),
    Attendee(Person("li.na@example.com", "李娜"), "recorder", "市场部"),
    Attendee(Person("zhou.min@example.com", "Zhou, Min"), "attendee", "技术支持部"),
    Attendee(Person("auditor@example.org"), "attendee", ""),
]
LONG_TOPIC = "[REQ-2026-0001] 关于“Q4推广活动技术支持”跨部门协调会——确定技术支持人员名单、交付时间及验收标准（第二次）"
DESCRIPTION = (
    "REQ-2026-0001: 确定技术支持人员名单；交付时间, 验收\n预讨论问题：\n1. 人员？\\ 2. 时间？"
)


def build(**overrides: Any) -> bytes:
    arguments: dict[str, Any] = {
        "uid": "REQ-2026-0001-3f2a9c@example.com",
        "sequence": 2,
        "organizer": ORGANIZER,
        "attendees": ATTENDEES,
        "topic": LONG_TOPIC,
        "description": DESCRIPTION,
        "starts_at": dt.datetime(2026, 12, 3, 14, 0, tzinfo=TZ),
        "ends_at": dt.datetime(2026, 12, 3, 16, 0, tzinfo=TZ),
        "place": "3楼会议室A",
        "link": "https://meeting.tencent.com/dm/Q4support",
        "tz": TZ,
        "stamp": dt.datetime(2026, 11, 25, 2, 30, 5, tzinfo=dt.UTC),
    }
    arguments.update(overrides)
    return invitation(**arguments)


def event_of(data: bytes) -> icalendar.Event:
    calendar = icalendar.Calendar.from_ical(data)
    (event,) = calendar.walk("VEVENT")
    return event


def test_every_field_parses_back() -> None:
    data = build()
    calendar = icalendar.Calendar.from_ical(data)
    assert str(calendar["PRODID"]) == "-//mailflow//Cross-department coordination//ZH"
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["METHOD"]) == "REQUEST"
    event = event_of(data)
    assert str(event["UID"]) == "REQ-2026-0001-3f2a9c@example.com"
    assert event["SEQUENCE"] == 2
    assert event.decoded("DTSTAMP") == dt.datetime(2026, 11, 25, 2, 30, 5, tzinfo=dt.UTC)
    assert event.decoded("DTSTART") == dt.datetime(2026, 12, 3, 6, 0, tzinfo=dt.UTC)
    assert event.decoded("DTEND") == dt.datetime(2026, 12, 3, 8, 0, tzinfo=dt.UTC)
    assert event["DTSTART"].params["TZID"] == "Asia/Shanghai"
    assert str(event["SUMMARY"]) == LONG_TOPIC
    assert str(event["LOCATION"]) == "3楼会议室A"
    assert str(event["DESCRIPTION"]) == DESCRIPTION + "\n\nhttps://meeting.tencent.com/dm/Q4support"
    assert str(event["URL"]) == "https://meeting.tencent.com/dm/Q4support"
    assert str(event["STATUS"]) == "CONFIRMED"
    organizer = event["ORGANIZER"]
    assert str(organizer) == "mailto:coordination@example.com"
    assert organizer.params["CN"] == "跨部门协调中心"


def test_attendees_with_roles_and_reply_requests() -> None:
    attendees = event_of(build())["ATTENDEE"]
    found = [(str(a), a.params.get("CN"), a.params["ROLE"]) for a in attendees]
    assert found == [
        ("mailto:wang.fang@example.com", "王芳", "CHAIR"),
        ("mailto:chen.jie@example.com", "陈杰", "REQ-PARTICIPANT"),
        ("mailto:liu.yang@example.com", "刘洋", "REQ-PARTICIPANT"),
        ("mailto:li.na@example.com", "李娜", "REQ-PARTICIPANT"),
        ("mailto:zhou.min@example.com", "Zhou, Min", "REQ-PARTICIPANT"),
        ("mailto:auditor@example.org", None, "REQ-PARTICIPANT"),
    ]
    assert all(a.params["PARTSTAT"] == "NEEDS-ACTION" for a in attendees)
    assert all(a.params["RSVP"] == "TRUE" for a in attendees)


def test_raw_text_is_escaped_folded_and_crlf() -> None:
    data = build()
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert data.endswith(b"END:VCALENDAR\r\n")
    unfolded = data.replace(b"\r\n ", b"").decode("utf-8")
    assert (
        "DESCRIPTION:REQ-2026-0001: 确定技术支持人员名单；交付时间\\, 验收\\n预讨论问题：\\n1. 人员？\\\\ 2. 时间？"
        in unfolded
    )
    assert 'ATTENDEE;CN="Zhou, Min";ROLE=REQ-PARTICIPANT' in unfolded
    assert "ORGANIZER;CN=跨部门协调中心:mailto:coordination@example.com" in unfolded
    assert "DTSTART;TZID=Asia/Shanghai:20261203T140000" in unfolded
    assert "DTSTAMP:20261125T023005Z" in unfolded
    semicolons = build(description="a;b,c\r\nd\re")
    assert "DESCRIPTION:a\\;b\\,c\\nd\\ne" in semicolons.replace(b"\r\n ", b"").decode("utf-8")


def test_long_chinese_summary_folds_at_75_octets_on_character_boundaries() -> None:
    data = build()
    physical = data.split(b"\r\n")
    assert all(len(line) <= 75 for line in physical)
    for line in physical:
        line.decode("utf-8")  # no line ends or starts inside a UTF-8 sequence
    start = next(i for i, line in enumerate(physical) if line.startswith(b"SUMMARY:"))
    assert len(f"SUMMARY:{LONG_TOPIC}".encode()) > 150  # it takes three lines
    assert physical[start + 1].startswith(b" ") and physical[start + 2].startswith(b" ")
    joined = physical[start] + b"".join(line[1:] for line in physical[start + 1 : start + 3])
    assert joined.decode("utf-8") == f"SUMMARY:{LONG_TOPIC}"
    assert str(event_of(data)["SUMMARY"]) == LONG_TOPIC


@pytest.mark.parametrize("text", ["a" * 200, "汉" * 100, "a汉" * 60, "😀" * 40, "a" * 75, "a" * 76])
def test_fold(text: str) -> None:
    folded = fold(text)
    lines = folded.encode("utf-8").split(b"\r\n")
    assert all(len(line) <= 75 for line in lines)
    assert all(line.startswith(b" ") for line in lines[1:])
    assert "".join([lines[0].decode()] + [line[1:].decode() for line in lines[1:]]) == text
    assert len(lines) == 1 or len(lines[0]) > 71  # lines are filled, not split early


def test_end_defaults_to_one_hour_and_no_link_no_url() -> None:
    event = event_of(build(ends_at=None, link=""))
    assert event.decoded("DTEND") - event.decoded("DTSTART") == dt.timedelta(hours=1)
    assert "URL" not in event
    assert str(event["DESCRIPTION"]) == DESCRIPTION


def test_a_meeting_number_is_no_url_but_serves_as_location() -> None:
    event = event_of(build(place="", link="腾讯会议 123-456-789"))
    assert "URL" not in event
    assert str(event["LOCATION"]) == "腾讯会议 123-456-789"
    assert str(event["DESCRIPTION"]) == DESCRIPTION


def test_asia_shanghai_has_one_standard_observance() -> None:
    calendar = icalendar.Calendar.from_ical(build())
    (timezone,) = calendar.walk("VTIMEZONE")
    assert str(timezone["TZID"]) == "Asia/Shanghai"
    assert [c.name for c in timezone.subcomponents] == ["STANDARD"]
    (standard,) = timezone.subcomponents
    assert standard["TZOFFSETFROM"].td == dt.timedelta(hours=8)
    assert standard["TZOFFSETTO"].td == dt.timedelta(hours=8)
    assert str(standard["TZNAME"]) == "CST"


@pytest.mark.parametrize(
    "zone", ["America/New_York", "Europe/London", "Australia/Sydney", "Asia/Kolkata", "UTC"]
)
def test_vtimezone_matches_zoneinfo_through_the_year(zone: str) -> None:
    """The VTIMEZONE alone (not looked up by its TZID) gives zoneinfo's offset on every day."""
    tz = ZoneInfo(zone)
    start = dt.datetime(2026, 7, 1, 9, 30, tzinfo=tz)
    data = build(tz=tz, starts_at=start, ends_at=None)
    (timezone,) = icalendar.Calendar.from_ical(data).walk("VTIMEZONE")
    built = timezone.to_tz(lookup_tzid=False)
    for day in range(0, 365, 3):
        for hour in (0, 4, 12):
            local = dt.datetime(2026, 1, 1, hour) + dt.timedelta(days=day)
            assert local.replace(tzinfo=built).utcoffset() == local.replace(tzinfo=tz).utcoffset()
    event = event_of(data)
    assert event.decoded("DTSTART") == start
    assert event["DTSTART"].params["TZID"] == zone


def test_new_york_observances_in_the_meeting_year() -> None:
    tz = ZoneInfo("America/New_York")
    data = build(tz=tz, starts_at=dt.datetime(2026, 7, 1, 9, tzinfo=tz), ends_at=None)
    (timezone,) = icalendar.Calendar.from_ical(data).walk("VTIMEZONE")
    onsets = [(c.name, c.decoded("DTSTART"), str(c["TZNAME"])) for c in timezone.subcomponents]
    assert onsets == [
        ("STANDARD", dt.datetime(2026, 1, 1), "EST"),
        ("DAYLIGHT", dt.datetime(2026, 3, 8, 2), "EDT"),
        ("STANDARD", dt.datetime(2026, 11, 1, 2), "EST"),
    ]


def test_naive_times_are_local_and_repeated_attendees_listed_once() -> None:
    host = ATTENDEES[0]
    data = build(
        starts_at=dt.datetime(2026, 12, 3, 14, 0),
        ends_at=None,
        attendees=[host, Attendee(host.person, "attendee", "市场部")],
    )
    event = event_of(data)
    assert event.decoded("DTSTART") == dt.datetime(2026, 12, 3, 14, 0, tzinfo=TZ)
    attendee = event["ATTENDEE"]
    assert str(attendee) == "mailto:wang.fang@example.com" and attendee.params["ROLE"] == "CHAIR"


def test_cancellation() -> None:
    data = build(method="CANCEL", sequence=3)
    calendar = icalendar.Calendar.from_ical(data)
    assert str(calendar["METHOD"]) == "CANCEL"
    event = event_of(data)
    assert str(event["STATUS"]) == "CANCELLED" and event["SEQUENCE"] == 3
