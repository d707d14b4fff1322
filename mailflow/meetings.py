"""Meeting notices (会议通知) from the lead department: reading one from a mail (pure).

Owns the notice's fields (topic 议题, time, place or link, attendees and their roles, materials,
pre-discussion questions), the labels shared with minutes (:data:`TOPIC`, :data:`TIME`, …), and
the cheap test telling a notice from other mail. Fields are found by the generic extractor
(``form_sources``) in text lines, an Outlook HTML table or an attached ``.docx``; times are read
by ``meeting_times``; people are resolved against the directory by ``attendees``, the one place
notices, minutes and action owners share. Every problem is reported at once; nothing is guessed.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from mailflow.attendees import Attendee, Unresolved, merge_attendees, read_attendees
from mailflow.config import Directory
from mailflow.form_sources import FieldSpec, extract_fields
from mailflow.meeting_times import local_day, parse_meeting_time
from mailflow.parse import ParsedMail

__all__ = [
    "ATTENDEES",
    "DATE",
    "DISCUSSION",
    "NOTICE_FIELDS",
    "ROLE_FIELDS",
    "TIME",
    "TOPIC",
    "Attendee",
    "MeetingNotice",
    "NoticeProblem",
    "looks_like_meeting_notice",
    "meeting_labels",
    "place_and_link",
    "read_meeting_notice",
    "read_people_fields",
]

TOPIC = FieldSpec(
    "topic",
    ("议题", "会议主题", "会议议题", "主题", "会议名称"),
    ("Topic", "Meeting topic", "Subject", "Meeting subject"),
)
DATE = FieldSpec("date", ("日期", "会议日期"), ("Date", "Meeting date"))
TIME = FieldSpec(
    "time",
    ("会议时间", "时间", "开会时间"),
    ("Time", "Meeting time", "Date and time", "Date & time", "When"),
)
# Labels that are also usual values (or near them) are left out: a table cell reading "线上会议",
# "3楼会议室A" or "Online meeting" would otherwise start a field instead of filling the place.
PLACE = FieldSpec(
    "place",
    ("会议地点", "地点", "开会地点", "地址"),
    ("Place", "Location", "Venue", "Where"),
)
LINK = FieldSpec(
    "link",
    ("会议链接", "线上链接", "入会链接", "会议号"),
    ("Link", "Meeting link", "Join link", "Meeting ID"),
)
ATTENDEES = FieldSpec(
    "attendees",
    ("参会人员", "参会人", "与会人员", "出席人员", "参加人员", "参会部门"),
    ("Attendees", "Participants", "Attendee", "Invitees"),
    multiline=True,
)
ROLE_FIELDS = (  # (spec, role): people named under a role's own label
    (FieldSpec("host", ("主持人", "主持"), ("Host", "Chair", "Chairperson", "Moderator")), "host"),
    (
        FieldSpec(
            "decision_makers",
            ("决策人", "决策者"),
            ("Decision-maker", "Decision maker", "Decision-makers", "Decision makers"),
        ),
        "decision_maker",
    ),
    (
        FieldSpec(
            "executors",
            ("执行人", "执行者"),
            ("Executor", "Executors", "Implementer", "Implementers"),
        ),
        "executor",
    ),
    (
        FieldSpec(
            "recorder",
            ("记录人", "记录员", "纪要人"),
            ("Recorder", "Minute taker", "Minutes taker", "Note taker"),
        ),
        "recorder",
    ),
)
MATERIALS = FieldSpec(
    "materials",
    ("会议材料", "背景资料", "材料", "会议资料", "参考资料", "附件"),
    ("Materials", "Meeting materials", "Background materials", "Background", "Documents"),
    multiline=True,
)
QUESTIONS = FieldSpec(
    "questions",
    ("预讨论问题", "讨论问题", "待讨论问题", "预讨论"),
    ("Pre-discussion questions", "Questions", "Questions to discuss", "Questions for discussion"),
    multiline=True,
)
DISCUSSION = FieldSpec(  # minutes only; here so a notice can be told from minutes
    "discussion",
    (
        "讨论要点与共识",
        "讨论要点",
        "共识",
        "会议内容",
        "讨论内容",
        "会议要点",
        "共识事项",
        "决议事项",
    ),
    (
        "Discussion and consensus",
        "Discussion and agreements",
        "Discussion points",
        "Points discussed",
        "Discussion",
        "Key points",
        "Consensus",
        "Agreements",
        "Decisions",
    ),
    multiline=True,
)
NOTICE_FIELDS: tuple[FieldSpec, ...] = (
    TOPIC,
    DATE,
    TIME,
    PLACE,
    LINK,
    ATTENDEES,
    *(spec for spec, _ in ROLE_FIELDS),
    MATERIALS,
    QUESTIONS,
)
_PROBE_FIELDS = (TOPIC, TIME, ATTENDEES, DISCUSSION)
_SENTENCE_END_RE = re.compile(r"[。！？!?]\s*$")
_URL_RE = re.compile(r"https?://[^\s<>\"'，。；、）)]+", re.I)


@dataclass
class MeetingNotice:
    topic: str
    starts_at: dt.datetime  # aware, in the organisation's time zone
    ends_at: dt.datetime | None
    place: str
    link: str  # the meeting URL, else what was written (a meeting number); "" for none
    attendees: list[Attendee] = field(default_factory=list)
    materials: str = ""
    questions: str = ""
    language: str = "zh"


@dataclass
class NoticeProblem:
    field: str  # topic | time | place | attendees | host | decision_makers | executors | recorder
    code: str  # missing | bad_time | unknown_attendee | ambiguous_attendee
    value: str = ""  # what was written
    suggestion: str = ""  # the closest directory name, or the candidates for an ambiguous name


def meeting_labels(mail: ParsedMail) -> set[str]:
    """Which of topic, time, attendees and discussion (minutes) have a label in ``mail``."""
    form = extract_fields(mail, _PROBE_FIELDS)
    return set(form.values) if form else set()


def looks_like_meeting_notice(mail: ParsedMail) -> bool:
    """A time field plus a topic or attendees field, and no discussion (that is minutes)."""
    keys = meeting_labels(mail)
    return "time" in keys and bool(keys & {"topic", "attendees"}) and "discussion" not in keys


def read_meeting_notice(
    mail: ParsedMail, directory: Directory, tz: ZoneInfo
) -> MeetingNotice | list[NoticeProblem]:
    """The notice in ``mail``, or every problem found in it."""
    form = extract_fields(mail, NOTICE_FIELDS)
    values = form.values if form else {}
    problems: list[NoticeProblem] = []
    topic = values.get("topic", "")
    if not topic:
        problems.append(NoticeProblem("topic", "missing"))
    times = _times(values, tz, local_day(mail.date, tz), problems)
    place, link = place_and_link(values.get("place", ""), values.get("link", ""))
    if not place and not link:
        problems.append(NoticeProblem("place", "missing"))
    by_field, unresolved = read_people_fields(values, directory)
    attendees = merge_attendees(a for people in by_field.values() for a in people)
    problems.extend(NoticeProblem(key, u.code, u.value, u.suggestion) for key, u in unresolved)
    if not attendees and not unresolved:
        problems.append(NoticeProblem("attendees", "missing"))
    if problems or times is None:
        return problems
    return MeetingNotice(
        topic=topic,
        starts_at=times[0],
        ends_at=times[1],
        place=place,
        link=link,
        attendees=attendees,
        materials=values.get("materials", ""),
        questions=values.get("questions", ""),
        language=form.language if form else "zh",
    )


def read_people_fields(
    values: dict[str, str], directory: Directory
) -> tuple[dict[str, list[Attendee]], list[tuple[str, Unresolved]]]:
    """The people of the role fields (主持人, 决策人, 执行人, 记录人, each in its role) and of
    参会人员, by field key; and each unresolved name with its field key. Merge them with
    :func:`merge_attendees` (the host first, then the other roles, then 参会人员)."""
    found: dict[str, list[Attendee]] = {}
    unresolved: list[tuple[str, Unresolved]] = []
    fields = [(spec.key, role) for spec, role in ROLE_FIELDS] + [(ATTENDEES.key, "attendee")]
    for key, role in fields:
        found[key], problems = read_attendees(_list_lines(values.get(key, "")), directory, role)
        unresolved.extend((key, problem) for problem in problems)
    return found, unresolved


def _list_lines(value: str) -> str:
    """The lines of a list of people, without the prose that may follow it in a text mail (up
    to a blank line, or a line ending like a sentence: "请各位准时参加。")."""
    lines: list[str] = []
    for line in value.strip().split("\n"):
        if not line.strip() or _SENTENCE_END_RE.search(line):
            break
        lines.append(line)
    return "\n".join(lines)


def place_and_link(place: str, link: str) -> tuple[str, str]:
    """The place, and the meeting link: the URL in the link field (or in the place, which is then
    kept without it), else the link field as written."""
    if url := _URL_RE.search(link):
        return place, url.group(0)
    if not link and (url := _URL_RE.search(place)):
        rest = (place[: url.start()] + place[url.end() :]).strip(" \t/／:：,，")
        return rest, url.group(0)
    return place, link


def _times(
    values: dict[str, str],
    tz: ZoneInfo,
    reference: dt.date | None,
    problems: list[NoticeProblem],
) -> tuple[dt.datetime, dt.datetime | None] | None:
    text = " ".join(v for v in (values.get("date", ""), values.get("time", "")) if v)
    if not text:
        problems.append(NoticeProblem("time", "missing"))
        return None
    times = parse_meeting_time(text, tz, reference)
    if times is None:
        problems.append(NoticeProblem("time", "bad_time", text))
    return times
