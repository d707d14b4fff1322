"""The action tracker's rules (Template 3): ids, creation from minutes, status changes and
their history, and the rows of the tracker as people see it.

Handlers and sweeps call these; they never talk to mail themselves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailflow.cases import next_value
from mailflow.config import Person, normalize_name
from mailflow.context import Context
from mailflow.labels import LABELS
from mailflow.models import ActionEvent, ActionItem, Minutes, Request

OPEN_STATUSES = ("not_started", "in_progress", "delayed")
STATUS_LABELS = {language: words["status"] for language, words in LABELS.items()}


@dataclass
class SyncResult:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)


class Draft(Protocol):
    """An action item as written in minutes (``minutes.ActionItemDraft``)."""

    department: str
    owner: Person | None
    task: str
    due: dt.date | None
    standard: str


def new_code(session: Session) -> str:
    return f"A{next_value(session, 'action')}"


def items_of(
    session: Session, request: Request, *, include_cancelled: bool = False
) -> list[ActionItem]:
    query = select(ActionItem).where(ActionItem.request_id == request.id).order_by(ActionItem.id)
    if not include_cancelled:
        query = query.where(ActionItem.status != "cancelled")
    return list(session.scalars(query))


def of_minutes(session: Session, request: Request, record: Minutes) -> list[ActionItem]:
    return [a for a in items_of(session, request) if a.minutes_id == record.id]


def sync_from_minutes(
    session: Session,
    ctx: Context,
    request: Request,
    record: Minutes,
    drafts: Sequence[Draft],
    *,
    actor: str,
) -> SyncResult:
    """Create the minutes' action items; on a corrected version keep, change or cancel the
    items of the version before, so that ids stay stable where the item is the same."""
    result = SyncResult()
    earlier = {
        _key(item.department, item.owner, item.task): item
        for item in items_of(session, request)
        if item.minutes_id is not None
    }
    for draft in drafts:
        assert draft.owner is not None  # minutes with an unknown owner are refused before
        key = _key(draft.department, draft.owner.address, draft.task)
        item = earlier.pop(key, None)
        if item is None:
            item = _create(session, ctx, request, record, draft, actor)
            result.added.append(item.code)
        elif _revise(ctx, item, record, draft, actor):
            result.changed.append(item.code)
    for item in earlier.values():
        _event(
            item,
            ctx.now,
            actor,
            "cancelled",
            new_status="cancelled",
            note=f"not in minutes v{record.version}",
        )
        item.status = "cancelled"
        result.cancelled.append(item.code)
    if result.added or record.version == 1:
        request.stage = "minutes"
    session.flush()
    return result


def _key(department: str, owner: str, task: str) -> tuple[str, str, str]:
    return normalize_name(department), owner.lower(), normalize_name(task)


def _create(
    session: Session, ctx: Context, request: Request, record: Minutes, draft: Draft, actor: str
) -> ActionItem:
    assert draft.owner is not None
    item = ActionItem(
        code=new_code(session),
        request_id=request.id,
        minutes_id=record.id,
        department=draft.department,
        owner=draft.owner.address,
        owner_name=draft.owner.name,
        task=draft.task,
        due=draft.due,
        standard=draft.standard,
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    _event(
        item, ctx.now, actor, "created", new_status="not_started", note=f"minutes v{record.version}"
    )
    session.add(item)
    return item


def _revise(ctx: Context, item: ActionItem, record: Minutes, draft: Draft, actor: str) -> bool:
    item.minutes_id = record.id
    due, standard = draft.due, draft.standard
    if item.due == due and item.standard == standard:
        return False
    _event(
        item,
        ctx.now,
        actor,
        "changed",
        old_due=item.due,
        new_due=due,
        note=f"minutes v{record.version}",
    )
    item.due, item.standard, item.updated_at = due, standard, ctx.now
    return True


def _event(
    item: ActionItem, at: dt.datetime, actor: str, kind: str, **values: object
) -> ActionEvent:
    event = ActionEvent(at=at, actor=actor, kind=kind, **values)
    item.events.append(event)
    return event


def is_overdue(item: ActionItem, today: dt.date) -> bool:
    return item.status in OPEN_STATUSES and item.due is not None and item.due < today


def apply_update(
    item: ActionItem, update: Update, *, at: dt.datetime, actor: str, message_id: str
) -> None:
    """Record one accepted status update (a delay moves the due date) with its history."""
    common = {
        "old_status": item.status,
        "new_status": update.status,
        "note": update.note,
        "message_id": message_id,
    }
    if update.status == "delayed":
        _event(
            item,
            at,
            actor,
            "delay",
            old_due=item.due,
            new_due=update.new_due,
            reason=update.reason,
            **common,
        )
        item.due = update.new_due
    else:
        _event(item, at, actor, "status", **common)
    item.status = update.status
    if update.note:
        item.note = update.note
    item.updated_at = at


class Update(Protocol):
    """A status update as read from a reply (``updates.StatusUpdate``)."""

    status: str
    new_due: dt.date | None
    reason: str
    note: str
