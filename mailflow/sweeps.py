"""Time-based duties: plain functions ``(session, ctx) -> mails queued``, as of ``ctx.now``.

Each duty reads the state of the cases and queues mail under a dedupe key, and records what
it did in the same transaction, so running it twice, late (after days of downtime) or from
two processes at once sends each mail once. The scheduler (``mailflow run``) and ``mailflow
tick`` only call :func:`run_duties`; nothing here keeps timers of its own.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from mailflow.config import Person
from mailflow.context import Context
from mailflow.models import InboundMessage, OutboxMessage, Request, RequestDepartment
from mailflow.outbox import Mail, enqueue

log = logging.getLogger("mailflow.sweeps")

Duty = Callable[[Session, Context], int]
DIGEST_HOUR = 8  # the daily failure digest covers yesterday and goes out after 08:00 local


def reply_chasers(session: Session, ctx: Context) -> int:
    """At the reply deadline, one chaser (催办) to each involved department still silent."""
    queued = 0
    for department, request in _silent_departments(session, ctx, chased=False):
        known = ctx.directory.department(department.department)
        if known is not None:
            queued += _queued(
                session,
                ctx,
                Mail(
                    kind="reply_chaser",
                    dedupe_key=f"chaser:{request.number}:{department.department}:1",
                    to=known.notified(),
                    language=known.language or ctx.config.organization.language,
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
    return queued


def reply_escalations(session: Session, ctx: Context) -> int:
    """``escalate_after`` more silence after the chaser: one escalation to head and supervisor."""
    queued = 0
    for department, request in _silent_departments(session, ctx, chased=True):
        assert department.chased_at is not None
        if ctx.calendar.add(department.chased_at, ctx.config.deadlines.escalate_after) > ctx.now:
            continue
        known = ctx.directory.department(department.department)
        if known is not None and known.head_and_supervisor():
            head, supervisor = known.head, known.supervisor
            queued += _queued(
                session,
                ctx,
                Mail(
                    kind="reply_escalation",
                    dedupe_key=f"escalation:{request.number}:{department.department}:1",
                    to=[head] if head else [supervisor] if supervisor else [],
                    cc=[supervisor] if head and supervisor else [],
                    language=known.language or ctx.config.organization.language,
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
    return queued


def failure_digest(session: Session, ctx: Context) -> int:
    """Once a day, yesterday's failures (mail that could not be read or delivered) to the admin."""
    admin = ctx.config.organization.admin
    local = ctx.calendar.local(ctx.now)
    if not admin or local.hour < DIGEST_HOUR:
        return 0
    day = local.date() - dt.timedelta(days=1)
    start = dt.datetime.combine(day, dt.time(0), tzinfo=ctx.calendar.tz)
    end = start + dt.timedelta(days=1)
    if session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.dedupe_key == f"failure_digest:{day}")
    ):
        return 0
    inbound = session.scalars(
        select(InboundMessage)
        .where(InboundMessage.received_at >= start, InboundMessage.received_at < end)
        .where(or_(InboundMessage.folder == "failed", InboundMessage.verdict == "unknown_sender"))
        .order_by(InboundMessage.received_at)
    ).all()
    outbound = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.failed_at >= start, OutboxMessage.failed_at < end)
        .order_by(OutboxMessage.failed_at)
    ).all()
    failed_in = [m for m in inbound if m.folder == "failed"]
    if not failed_in and not outbound:
        return 0
    return _queued(
        session,
        ctx,
        Mail(
            kind="failure_digest",
            dedupe_key=f"failure_digest:{day}",
            to=[Person(admin)],
            language=ctx.config.organization.language,
            context={
                "day": day,
                "failed_in": failed_in,
                "failed_out": outbound,
                "unknown_senders": len(inbound) - len(failed_in),
            },
        ),
    )


DUTIES: tuple[Duty, ...] = (reply_chasers, reply_escalations, failure_digest)


@dataclass
class DutyReport:
    at: dt.datetime
    queued: dict[str, int] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.queued.values())

    def __str__(self) -> str:
        done = (
            ", ".join(f"{name}={count}" for name, count in self.queued.items() if count)
            or "nothing due"
        )
        failed = "".join(f"; {name} FAILED: {why}" for name, why in self.failed.items())
        return f"duties as of {self.at.isoformat(timespec='minutes')}: {done}{failed}"


def run_duties(sessions: sessionmaker[Session], ctx: Context) -> DutyReport:
    """Every duty as of ``ctx.now``, each in its own transaction (one failing spoils no other)."""
    report = DutyReport(ctx.now)
    for duty in DUTIES:
        try:
            with sessions.begin() as session:
                report.queued[duty.__name__] = duty(session, ctx)
        except Exception as exc:  # a duty's bug or a busy database must not stop the others
            log.exception("duty %s failed", duty.__name__)
            report.failed[duty.__name__] = f"{type(exc).__name__}: {exc}"
    if report.total or report.failed:
        log.info("%s", report)
    return report


def preview_duties(sessions: sessionmaker[Session], ctx: Context) -> list[OutboxMessage]:
    """What :func:`run_duties` would queue as of ``ctx.now``; everything is rolled back."""
    with sessions() as session, session.begin():
        before = (
            session.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id.desc()).limit(1)) or 0
        )
        for duty in DUTIES:
            duty(session, ctx)
        rows = list(session.scalars(select(OutboxMessage).where(OutboxMessage.id > before)))
        for row in rows:
            session.expunge(row)
        session.rollback()
    return rows


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


def _queued(session: Session, ctx: Context, mail: Mail) -> int:
    return 1 if enqueue(session, ctx, mail) else 0
