"""Stage 2 duties: the reply chaser (催办) at the deadline and the escalation after it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailflow.context import Context
from mailflow.duties import queued
from mailflow.models import (
    Request,
    RequestDepartment,
)
from mailflow.outbox import Mail


def reply_chasers(session: Session, ctx: Context) -> int:
    """At the reply deadline, one chaser (催办) to each involved department still silent."""
    count = 0
    for department, request in _silent_departments(session, ctx, chased=False):
        known = ctx.directory.department(department.department)
        if known is not None:
            count += queued(
                session,
                ctx,
                Mail(
                    kind="reply_chaser",
                    dedupe_key=f"chaser:{request.number}:{department.department}:1",
                    to=known.notified(),
                    language=ctx.config.department_language(known),
                    request=request,
                    department=known.name,
                    context={
                        "request": request,
                        "department": known,
                        "late_by": ctx.now - request.reply_deadline,
                        "escalate_at": ctx.calendar.add(
                            ctx.now, ctx.config.deadlines.escalate_after
                        ),
                    },
                ),
            )
        department.chased_at = ctx.now
    return count


def reply_escalations(session: Session, ctx: Context) -> int:
    """``escalate_after`` more silence after the chaser: one escalation to head and supervisor."""
    count = 0
    for department, request in _silent_departments(session, ctx, chased=True):
        assert department.chased_at is not None
        if ctx.calendar.add(department.chased_at, ctx.config.deadlines.escalate_after) > ctx.now:
            continue
        known = ctx.directory.department(department.department)
        if known is not None and known.head_and_supervisor():
            head, supervisor = known.head, known.supervisor
            count += queued(
                session,
                ctx,
                Mail(
                    kind="reply_escalation",
                    dedupe_key=f"escalation:{request.number}:{department.department}:1",
                    to=[head] if head else [supervisor] if supervisor else [],
                    cc=[supervisor] if head and supervisor else [],
                    language=ctx.config.department_language(known),
                    request=request,
                    department=known.name,
                    context={
                        "request": request,
                        "department": known,
                        "chased_at": department.chased_at,
                        "late_by": ctx.now - request.reply_deadline,
                    },
                ),
            )
        department.escalated_at = ctx.now
    return count


def _silent_departments(
    session: Session, ctx: Context, *, chased: bool
) -> list[tuple[RequestDepartment, Request]]:
    query = (
        select(RequestDepartment, Request)
        .join(Request, RequestDepartment.request_id == Request.id)
        .where(Request.status == "open", RequestDepartment.responded_at.is_(None))
        .where(RequestDepartment.escalated_at.is_(None))
    )
    if chased:
        query = query.where(RequestDepartment.chased_at.is_not(None))
    else:
        query = query.where(
            RequestDepartment.chased_at.is_(None), Request.reply_deadline <= ctx.now
        )
    return [
        (row[0], row[1])
        for row in session.execute(query.order_by(Request.id, RequestDepartment.position))
    ]
