"""Stage 4 duties: due-date reminders, overdue notices and the weekly status mail.

Each owner gets one reminder the working day before an item's due date and one notice when it
is overdue (a delay's new date earns new ones). Every week (``schedule.weekly_status``, on a
non-working day the next working day) each open request's tracker goes to the lead
department, every owner and the supervisors: an HTML table with overdue rows in red, what
changed since the last status mail, and the tracker as an ``.xlsx``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailflow import actions
from mailflow.config import Person, unique_people
from mailflow.context import Context
from mailflow.duties import REMINDER_HOUR, queued
from mailflow.models import ActionEvent, ActionItem, Request
from mailflow.outbox import Mail
from mailflow.tracker_xlsx import TrackerRow, tracker_workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def action_reminders(session: Session, ctx: Context) -> int:
    """From 09:00 of the working day before the due date, one reminder to the owner."""
    today = ctx.calendar.local(ctx.now).date()
    count = 0
    for item in _open_items(session, due_from=today, due_to=today + dt.timedelta(days=15)):
        assert item.due is not None
        remind_from = _at(ctx, ctx.calendar.previous_working_day(item.due), REMINDER_HOUR)
        if ctx.now < remind_from or item.created_at >= remind_from:
            continue
        count += _to_owner(session, ctx, item, "action_reminder")
    return count


def overdue_notices(session: Session, ctx: Context) -> int:
    """From 09:00 of the first working day after the due date, one notice to the owner."""
    today = ctx.calendar.local(ctx.now).date()
    count = 0
    for item in _open_items(
        session, due_from=today - dt.timedelta(days=60), due_to=today - dt.timedelta(days=1)
    ):
        assert item.due is not None
        notify_from = _at(
            ctx, ctx.calendar.next_working_day(item.due + dt.timedelta(days=1)), REMINDER_HOUR
        )
        if ctx.now >= notify_from:
            count += _to_owner(session, ctx, item, "action_overdue")
    return count


def weekly_status(session: Session, ctx: Context) -> int:
    """The week's status mail for every open request that has action items, once a week."""
    week = _this_weeks_status(ctx)
    if week is None:
        return 0
    week_start, sent_from = week
    requests = list(
        session.scalars(select(Request).where(Request.status == "open").order_by(Request.id))
    )
    items_by_request = _items_by_request(session, [r.id for r in requests])
    events = _events_since(
        session,
        sent_from - dt.timedelta(days=7),
        [i.id for v in items_by_request.values() for i in v],
    )
    count = 0
    for request in requests:
        items = items_by_request.get(request.id, [])
        if items:
            count += _status_mail(session, ctx, request, items, events, week_start)
    return count


def tracker_rows(ctx: Context, request: Request, items: list[ActionItem]) -> list[TrackerRow]:
    today = ctx.calendar.local(ctx.now).date()
    labels = actions.STATUS_LABELS[request.language]
    return [
        TrackerRow(
            request=request.number,
            action=item.code,
            department=item.department,
            owner=item.owner_name or item.owner,
            task=item.task,
            due=item.due,
            standard=item.standard,
            status=labels[item.status],
            last_update=ctx.calendar.local(item.updated_at).strftime("%Y-%m-%d %H:%M"),
            overdue=actions.is_overdue(item, today),
            note=item.note,
        )
        for item in items
    ]


def tracker_xlsx(ctx: Context, request: Request, items: list[ActionItem]) -> bytes:
    title = (
        f"{request.number} 跨部门协作行动跟踪表"
        if request.language == "zh"
        else f"{request.number} action tracker"
    )
    return tracker_workbook(
        tracker_rows(ctx, request, items),
        language=request.language,
        title=title,
        generated_at=ctx.calendar.local(ctx.now),
    )


def _status_mail(
    session: Session,
    ctx: Context,
    request: Request,
    items: list[ActionItem],
    events: dict[int, list[ActionEvent]],
    week_start: dt.date,
) -> int:
    rows = tracker_rows(ctx, request, items)
    changes = [(item, event) for item in items for event in events.get(item.id, [])]
    return queued(
        session,
        ctx,
        Mail(
            kind="weekly_status",
            dedupe_key=f"weekly_status:{request.number}:{week_start.isoformat()}",
            to=_status_recipients(ctx, request, items),
            language=request.language,
            request=request,
            context={
                "request": request,
                "rows": rows,
                "changes": changes,
                "labels": actions.STATUS_LABELS[request.language],
                "week_start": week_start,
                "overdue": sum(1 for row in rows if row.overdue),
            },
            attachments=[
                (
                    f"{request.number}-tracker-{week_start.isoformat()}.xlsx",
                    XLSX,
                    tracker_xlsx(ctx, request, items),
                )
            ],
        ),
    )


def _status_recipients(ctx: Context, request: Request, items: list[ActionItem]) -> list[Person]:
    """The lead department, every owner, and the supervisors of the departments concerned."""
    people: list[Person] = []
    lead = ctx.directory.department(request.lead_department)
    if lead is not None:
        people += lead.notified()
    people += [Person(item.owner, item.owner_name) for item in items]
    for name in dict.fromkeys([request.lead_department, *(item.department for item in items)]):
        department = ctx.directory.department(name)
        if department is not None and department.supervisor is not None:
            people.append(department.supervisor)
    return unique_people(people)


def _this_weeks_status(ctx: Context) -> tuple[dt.date, dt.datetime] | None:
    """(Monday of this week, moment the status goes out) once that moment has come."""
    schedule = ctx.config.schedule
    local = ctx.calendar.local(ctx.now)
    monday = local.date() - dt.timedelta(days=local.weekday())
    day = ctx.calendar.next_working_day(monday + dt.timedelta(days=schedule.weekly_status_day))
    moment = dt.datetime.combine(day, schedule.weekly_status_time, tzinfo=ctx.calendar.tz)
    return (monday, moment) if ctx.now >= moment else None


def _to_owner(session: Session, ctx: Context, item: ActionItem, kind: str) -> int:
    request = item.request
    return queued(
        session,
        ctx,
        Mail(
            kind=kind,
            dedupe_key=f"{kind}:{item.code}:{item.due}",
            to=[Person(item.owner, item.owner_name)],
            language=ctx.config.language_of(item.owner),
            request=request,
            action_code=item.code,
            context={
                "request": request,
                "item": item,
                "labels": actions.STATUS_LABELS[ctx.config.language_of(item.owner)],
            },
        ),
    )


def _open_items(session: Session, *, due_from: dt.date, due_to: dt.date) -> list[ActionItem]:
    return list(
        session.scalars(
            select(ActionItem)
            .join(Request, ActionItem.request_id == Request.id)
            .where(Request.status == "open", ActionItem.status.in_(actions.OPEN_STATUSES))
            .where(ActionItem.due >= due_from, ActionItem.due <= due_to)
            .order_by(ActionItem.id)
        )
    )


def _items_by_request(session: Session, request_ids: list[int]) -> dict[int, list[ActionItem]]:
    grouped: dict[int, list[ActionItem]] = defaultdict(list)
    query = select(ActionItem).where(ActionItem.status != "cancelled").order_by(ActionItem.id)
    for start in range(0, len(request_ids), 500):
        chunk = request_ids[start : start + 500]
        for item in session.scalars(query.where(ActionItem.request_id.in_(chunk))):
            grouped[item.request_id].append(item)
    return grouped


def _events_since(
    session: Session, since: dt.datetime, action_ids: list[int]
) -> dict[int, list[ActionEvent]]:
    wanted = set(action_ids)
    grouped: dict[int, list[ActionEvent]] = defaultdict(list)
    for event in session.scalars(
        select(ActionEvent).where(ActionEvent.at >= since).order_by(ActionEvent.at)
    ):
        if event.action_id in wanted:
            grouped[event.action_id].append(event)
    return grouped


def _at(ctx: Context, day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=ctx.calendar.tz)
