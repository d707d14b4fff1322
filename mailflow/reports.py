"""Read-only views for operators: the request list, the tracker, the weekly report, the record."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailflow import actions, closure, record
from mailflow.cases import find_request
from mailflow.context import Context
from mailflow.models import ActionItem, Request


def request_list(
    session: Session,
    ctx: Context,
    *,
    status: str = "open",
    late_only: bool = False,
    department: str = "",
) -> str:
    """Requests with their stage, who has responded, and who is late (departments, items)."""
    query = select(Request).order_by(Request.received_at)
    if status != "all":
        query = query.where(Request.status == status)
    today = ctx.calendar.local(ctx.now).date()
    rows = [("NUMBER", "STATUS", "STAGE", "URGENCY", "LEAD", "DEADLINE", "RESPONDED", "LATE")]
    for request in session.scalars(query):
        if department and department not in closure.review_departments(request):
            continue
        waiting = [d.department for d in request.departments if d.responded_at is None]
        late = waiting if ctx.now > request.reply_deadline and request.status == "open" else []
        late += [i.code for i in actions.items_of(session, request) if actions.is_overdue(i, today)]
        if late_only and not late:
            continue
        rows.append(
            (
                request.number,
                request.status,
                request.stage,
                request.urgency,
                request.lead_department,
                request.reply_deadline.astimezone(ctx.calendar.tz).strftime("%Y-%m-%d %H:%M"),
                f"{len(request.departments) - len(waiting)}/{len(request.departments)}",
                ",".join(late) or "-",
            )
        )
    return _table(rows) if len(rows) > 1 else "no requests match"


def action_list(
    session: Session, ctx: Context, *, overdue_only: bool = False, number: str = ""
) -> str:
    """The tracker across requests: id, request, department, owner, due, status, task."""
    query = (
        select(ActionItem, Request.number)
        .join(Request, ActionItem.request_id == Request.id)
        .where(ActionItem.status != "cancelled")
        .order_by(ActionItem.id)
    )
    if number:
        query = query.where(Request.number == number.upper())
    today = ctx.calendar.local(ctx.now).date()
    rows = [("ID", "REQUEST", "DEPARTMENT", "OWNER", "DUE", "STATUS", "OVERDUE", "TASK")]
    for item, request_number in session.execute(query):
        overdue = actions.is_overdue(item, today)
        if overdue_only and not overdue:
            continue
        rows.append(
            (
                item.code,
                request_number,
                item.department,
                item.owner_name or item.owner,
                item.due.isoformat() if item.due else "-",
                item.status,
                "yes" if overdue else "-",
                " ".join(item.task.split())[:40],
            )
        )
    return _table(rows) if len(rows) > 1 else "no action items match"


def weekly_report(session: Session, ctx: Context, number: str) -> bytes | None:
    """The tracker of one request as the weekly status mail's .xlsx, without mailing it."""
    from mailflow.duties.tracker import tracker_xlsx

    request = find_request(session, number)
    return tracker_xlsx(ctx, request, actions.items_of(session, request)) if request else None


def request_record(session: Session, ctx: Context, number: str, fmt: str) -> str | None:
    request = find_request(session, number)
    return record.render(session, ctx, request, fmt) if request else None


def _table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(
            cell + " " * (width - _width(cell)) for cell, width in zip(row, widths, strict=True)
        ).rstrip()
        for row in rows
    )


def _width(text: str) -> int:
    """Display width: CJK characters take two columns in a terminal."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
