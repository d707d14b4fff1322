"""Template 2, 跨部门协调会议纪要: reading minutes and their action items from a mail (pure).

Owns the minutes' fields (会议主题, 会议时间, 会议地点, 主持人, 参会人员, 记录人, 讨论要点与共识,
action items) and what an action item means: its department must be in the directory, its owner
resolves like an attendee (a department stands for its head; a blank owner means the
department's head), its due date is read like a meeting date. Finding the fields is the generic
extractor's job, finding the action items ``action_rows``'s; people are resolved by
``attendees``, as for notices. Every problem is reported at once; nothing is guessed.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from mailflow.action_rows import ACTIONS, ActionRow, cut_before_action_table, find_action_rows
from mailflow.attendees import (
    Attendee,
    Unresolved,
    department_person,
    find_department,
    merge_attendees,
    read_person,
)
from mailflow.config import Department, Directory, Person
from mailflow.form_sources import FieldSpec, extract_fields, normalize_label
from mailflow.meeting_times import local_day, parse_due_date, parse_meeting_time
from mailflow.meetings import (
    ATTENDEES,
    DISCUSSION,
    NOTICE_FIELDS,
    meeting_labels,
    place_and_link,
    read_people_fields,
)
from mailflow.parse import ParsedMail

__all__ = [
    "MINUTES_FIELDS",
    "ActionItemDraft",
    "Attendee",
    "Minutes",
    "MinutesProblem",
    "looks_like_minutes",
    "read_minutes",
]

MINUTES_FIELDS: tuple[FieldSpec, ...] = (*NOTICE_FIELDS, DISCUSSION, ACTIONS)
_STOP_LABELS = frozenset(
    normalize_label(label)
    for spec in MINUTES_FIELDS
    if spec is not ACTIONS
    for label in (*spec.labels_zh, *spec.labels_en)
)
_REQUIRED = ("topic", ATTENDEES.key, DISCUSSION.key)
_BRACKETED_RE = re.compile(r"[(（\[【][^()（）\[\]【】]*[)）\]】]")


@dataclass
class ActionItemDraft:
    """An action item as agreed in the minutes, before it gets its id (A12)."""

    department: str  # the directory's name for it
    owner: Person | None
    owner_text: str  # as written ("" when the department's head was taken)
    task: str
    due: dt.date | None
    due_text: str
    standard: str


@dataclass
class Minutes:
    topic: str
    held_at: dt.datetime | None  # the meeting's start when the time was readable
    held_text: str  # 会议时间 as written
    place: str
    host: Person | None
    attendees: list[Attendee] = field(default_factory=list)  # host and recorder included
    recorder: Person | None = None
    discussion: str = ""
    actions: list[ActionItemDraft] = field(default_factory=list)
    language: str = "zh"


@dataclass
class MinutesProblem:
    field: str  # a field key (topic, attendees, host, recorder, …) or "actions[2].owner"
    code: str  # missing | unknown_attendee | ambiguous_attendee | unknown_department | bad_date
    # | unknown_owner
    value: str = ""  # what was written (the whole item for an action's missing field)
    suggestion: str = ""  # the closest known name, or the candidates for an ambiguous name


def looks_like_minutes(mail: ParsedMail) -> bool:
    """A discussion field (讨论要点与共识) plus a topic, time or attendees field."""
    keys = meeting_labels(mail)
    return "discussion" in keys and bool(keys & {"topic", "time", "attendees"})


def read_minutes(
    mail: ParsedMail, directory: Directory, tz: ZoneInfo
) -> Minutes | list[MinutesProblem]:
    """The minutes in ``mail``, or every problem found in them."""
    form = extract_fields(mail, MINUTES_FIELDS)
    values = (
        {k: cut_before_action_table(v, form.tables) for k, v in form.values.items()} if form else {}
    )
    problems = [MinutesProblem(key, "missing") for key in _REQUIRED if not values.get(key)]
    by_field, unresolved = read_people_fields(values, directory)
    attendees = merge_attendees(a for people in by_field.values() for a in people)
    problems.extend(MinutesProblem(key, u.code, u.value, u.suggestion) for key, u in unresolved)
    if values.get(ATTENDEES.key) and not by_field[ATTENDEES.key] and not unresolved:
        problems.append(MinutesProblem(ATTENDEES.key, "missing", values[ATTENDEES.key]))
    reference = local_day(mail.date, tz)
    rows = find_action_rows(mail, form, directory, _STOP_LABELS)
    actions = [_action(n, row, directory, reference, problems) for n, row in enumerate(rows, 1)]
    if problems or form is None:
        return problems
    held_text = " ".join(v for v in (values.get("date", ""), values.get("time", "")) if v)
    held = parse_meeting_time(held_text, tz, reference) if held_text else None
    return Minutes(
        topic=values["topic"],
        held_at=held[0] if held else None,
        held_text=held_text,
        place=" ".join(
            filter(None, place_and_link(values.get("place", ""), values.get("link", "")))
        ),
        host=_in_role(by_field.get("host", []) or attendees, "host"),
        attendees=attendees,
        recorder=_in_role(by_field.get("recorder", []) or attendees, "recorder"),
        discussion=values["discussion"],
        actions=actions,
        language=form.language,
    )


def _in_role(attendees: list[Attendee], role: str) -> Person | None:
    return next((a.person for a in attendees if a.role == role), None)


# ---------------------------------------------------------------- action items


def _action(
    number: int,
    row: ActionRow,
    directory: Directory,
    reference: dt.date | None,
    problems: list[MinutesProblem],
) -> ActionItemDraft:
    key = f"actions[{number}]"
    department = _department(key, row, directory, problems)
    owner = _owner(key, row, directory, department, problems)
    if department is None and owner is not None and owner.department:
        department = directory.department(owner.department)
    if department is None and not row.department and (owner is not None or not row.owner):
        problems.append(MinutesProblem(f"{key}.department", "missing", row.line))
    if not row.task:
        problems.append(MinutesProblem(f"{key}.task", "missing", row.line))
    due = parse_due_date(row.due, reference) if row.due else None
    if row.due and due is None:
        problems.append(MinutesProblem(f"{key}.due", "bad_date", row.due))
    person = owner.person if owner else (department_person(department) if department else None)
    return ActionItemDraft(
        department=department.name if department else "",
        owner=person,
        owner_text=row.owner,
        task=row.task,
        due=due,
        due_text=row.due,
        standard=row.standard,
    )


def _department(
    key: str, row: ActionRow, directory: Directory, problems: list[MinutesProblem]
) -> Department | None:
    if not row.department:
        return None
    written = _BRACKETED_RE.sub("", row.department).strip()
    department = find_department(directory, written)
    if department is None:
        suggestion = directory.closest_department(written) or ""
        problems.append(
            MinutesProblem(f"{key}.department", "unknown_department", row.department, suggestion)
        )
    return department


def _owner(
    key: str,
    row: ActionRow,
    directory: Directory,
    department: Department | None,
    problems: list[MinutesProblem],
) -> Attendee | None:
    """The owner as written (narrowed by the item's department); one person, never several."""
    hint = department.name if department else ""
    result = read_person(row.owner, directory, role="executor", department=hint)
    if isinstance(result, Unresolved):
        code = "unknown_owner" if result.code == "unknown_attendee" else result.code
        problems.append(MinutesProblem(f"{key}.owner", code, result.value, result.suggestion))
        return None
    if result and len(result) > 1:
        names = ", ".join(a.person.name or a.person.address for a in result)
        problems.append(MinutesProblem(f"{key}.owner", "ambiguous_attendee", row.owner, names))
        return None
    return result[0] if result else None
