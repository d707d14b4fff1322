"""How mail and records say things: dates, spans, people, rows of tables — in each language.

Every function takes a :class:`Phrasing` (language and time zone) first; the renderer turns
each into a Jinja2 filter of the same name, so that templates write ``{{ deadline | when }}``.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import Any

from mailflow.labels import LABELS


@dataclass(frozen=True)
class Phrasing:
    lang: str
    tz: zoneinfo.ZoneInfo

    @property
    def zh(self) -> bool:
        return self.lang == "zh"


def when(ph: Phrasing, moment: dt.datetime | None) -> str:
    """2026年12月3日（周四）14:00 / Thu 3 Dec 2026, 14:00"""
    if moment is None:
        return ""
    local = moment.astimezone(ph.tz)
    weekday = LABELS[ph.lang]["weekday"][str(local.weekday())]
    if ph.zh:
        return f"{local.year}年{local.month}月{local.day}日（周{weekday}）{local:%H:%M}"
    return f"{weekday} {local.day} {local:%b %Y}, {local:%H:%M}"


def until(ph: Phrasing, start: dt.datetime, end: dt.datetime | None) -> str:
    """A time range; the end's date is left out when it is the same day."""
    if end is None:
        return when(ph, start)
    if start.astimezone(ph.tz).date() == end.astimezone(ph.tz).date():
        return f"{when(ph, start)}–{end.astimezone(ph.tz):%H:%M}"
    return f"{when(ph, start)} – {when(ph, end)}"


def day(ph: Phrasing, value: dt.date | None) -> str:
    """2026年12月3日（周四） / Thu 3 Dec 2026"""
    if value is None:
        return ""
    weekday = LABELS[ph.lang]["weekday"][str(value.weekday())]
    if ph.zh:
        return f"{value.year}年{value.month}月{value.day}日（周{weekday}）"
    return f"{weekday} {value.day} {value:%b %Y}"


def span(ph: Phrasing, length: dt.timedelta) -> str:
    """A length of time as people say it: 3小时 / 2天5小时 / 3 hours / 2 days 5 hours."""
    minutes = max(0, int(length.total_seconds() // 60))
    days, hours, minutes = minutes // 1440, minutes % 1440 // 60, minutes % 60
    parts = (
        [(days, "天", "day"), (hours, "小时", "hour")]
        if days or hours
        else [(minutes, "分钟", "minute")]
    )
    words = [
        f"{n}{zh_unit}" if ph.zh else f"{n} {en_unit}{'s' if n != 1 else ''}"
        for n, zh_unit, en_unit in parts
        if n or len(parts) == 1
    ]
    return ("" if ph.zh else " ").join(words)


def urgency(ph: Phrasing, code: str) -> str:
    return LABELS[ph.lang]["urgency"].get(code, code)


def role(ph: Phrasing, code: str) -> str:
    return LABELS[ph.lang]["role"].get(code, code)


def status(ph: Phrasing, code: str) -> str:
    return LABELS[ph.lang]["status"].get(code, code)


def stage(ph: Phrasing, code: str) -> str:
    return LABELS[ph.lang]["stage"].get(code, code)


def event(ph: Phrasing, code: str) -> str:
    return LABELS[ph.lang]["event"].get(code, code)


def who(ph: Phrasing, person: Any) -> str:
    """A person by name (else address), with a meeting role other than plain attendee."""
    name = getattr(person, "name", "") or getattr(person, "address", "") or str(person)
    code = getattr(person, "role", "attendee")
    if not code or code == "attendee":
        return name
    return f"{name}（{role(ph, code)}）" if ph.zh else f"{name} ({role(ph, code)})"


def action_row(ph: Phrasing, item: Any) -> list[str]:
    """An action item as a table row: id, department, owner, task, due date, standard."""
    due = day(ph, item.due) if item.due else "—"
    return [
        item.code,
        item.department,
        item.owner_name or item.owner,
        item.task,
        due,
        item.standard,
    ]


def signature_row(ph: Phrasing, signer: Any) -> list[str]:
    """A minutes signer as a table row: who, and when they confirmed."""
    return [who(ph, signer), when(ph, signer.answered_at)]


def tracker_row(ph: Phrasing, row: Any) -> list[str]:
    """A weekly-status row: id, department, owner, task, due, status, last update, overdue."""
    overdue = ("逾期" if ph.zh else "overdue") if row.overdue else ""
    return [row.action, row.department, row.owner, row.task, day(ph, row.due) if row.due else "—",
            row.status, row.last_update, overdue]  # fmt: skip


def update_line(ph: Phrasing, accepted: tuple[Any, Any]) -> str:
    """An accepted status update: ``A12 → 已完成`` / ``A12 延期至 …（原因：…）``."""
    item, update = accepted
    if update.status == "delayed":
        if ph.zh:
            return f"{item.code} 延期至 {day(ph, update.new_due)}（原因：{update.reason}）"
        return f"{item.code} delayed to {day(ph, update.new_due)} (reason: {update.reason})"
    text = f"{item.code} → {status(ph, update.status)}"
    return (
        f"{text}（{update.note}）"
        if update.note and ph.zh
        else f"{text} ({update.note})"
        if update.note
        else text
    )


def refusal_line(ph: Phrasing, refusal: Any, reasons: dict[str, str]) -> str:
    """A refused update: what was written, and why it was not taken."""
    quoted = f"“{refusal.line.strip()}”" if ph.zh else f'"{refusal.line.strip()}"'
    reason = reasons.get(refusal.code, refusal.code)
    return f"{quoted}：{reason}" if ph.zh else f"{quoted}: {reason}"


def change_line(ph: Phrasing, change: tuple[Any, Any]) -> str:
    """A change of the past week: when, which item, from what to what, by whom."""
    item, event = change
    stamp = event.at.astimezone(ph.tz)
    moment = f"{stamp.month}月{stamp.day}日" if ph.zh else f"{stamp.day} {stamp:%b}"
    if event.kind == "delay":
        detail = (
            f"延期至 {day(ph, event.new_due)}，原因：{event.reason}"
            if ph.zh
            else f"delayed to {day(ph, event.new_due)}, reason: {event.reason}"
        )
    elif event.kind == "created":
        detail = "新建" if ph.zh else "created"
    else:
        detail = f"{status(ph, event.old_status)} → {status(ph, event.new_status)}"
    by = f"（{event.actor}）" if ph.zh else f" ({event.actor})"
    return f"{moment} {item.code} {detail}{by if event.actor else ''}"


def delivered_row(ph: Phrasing, item: Any) -> list[str]:
    """A finished action item: id, department, owner, task, standard, when it was done."""
    done = [e.at for e in item.events if e.new_status == "done"]
    finished = when(ph, done[-1]) if done else "—"
    return [
        item.code,
        item.department,
        item.owner_name or item.owner,
        item.task,
        item.standard or "—",
        finished,
    ]


def delay_line(ph: Phrasing, delay: tuple[Any, Any]) -> str:
    """``A12：12月10日 → 12月20日，原因：人员冲突``."""
    item, event = delay
    dates = f"{day(ph, event.old_due) or '—'} → {day(ph, event.new_due)}"
    return (
        f"{item.code}：{dates}，原因：{event.reason}"
        if ph.zh
        else f"{item.code}: {dates}, reason: {event.reason}"
    )


def review_row(ph: Phrasing, review: Any) -> list[str]:
    """A department's review: department, highlights, shortcomings (else its whole text)."""
    if review.highlights or review.shortcomings:
        return [review.department, review.highlights or "—", review.shortcomings or "—"]
    return [review.department, review.text, "—"]


FILTERS = (
    when, until, day, span, urgency, role, status, stage, event, who, action_row, signature_row, tracker_row,
    update_line, refusal_line, change_line, delivered_row, delay_line, review_row,
)  # fmt: skip
