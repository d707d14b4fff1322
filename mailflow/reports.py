"""Read-only views for operators: the request list and the case record of one request."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailflow import record
from mailflow.cases import find_request
from mailflow.context import Context
from mailflow.models import Request


def request_list(session: Session, ctx: Context, *, include_closed: bool = False) -> str:
    query = select(Request).order_by(Request.received_at)
    if not include_closed:
        query = query.where(Request.status != "closed")
    rows = [("NUMBER", "STATUS", "STAGE", "URGENCY", "LEAD", "DEADLINE", "RESPONDED", "LATE")]
    for request in session.scalars(query):
        waiting = [d.department for d in request.departments if d.responded_at is None]
        late = waiting if ctx.now > request.reply_deadline else []
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
    if len(rows) == 1:
        return "no open requests" if not include_closed else "no requests"
    return _table(rows)


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
