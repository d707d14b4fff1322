"""Time-based duties: plain functions ``(session, ctx) -> mails queued``, as of ``ctx.now``.

Each duty reads the state of the cases and queues mail under a dedupe key, and records what
it did in the same transaction, so running it twice, late (after days of downtime) or from
two processes at once sends each mail once. The scheduler (``mailflow run``) and ``mailflow
tick`` only call :func:`run_duties`; nothing keeps timers of its own. The duties themselves
live in ``mailflow.duties``, one module per stage.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mailflow.context import Context
from mailflow.duties import Duty, closure, digest, meetings, responses, tracker
from mailflow.models import OutboxMessage

log = logging.getLogger("mailflow.sweeps")

DUTIES: tuple[Duty, ...] = (
    responses.reply_chasers,
    responses.reply_escalations,
    meetings.meeting_reminders,
    meetings.minutes_chasers,
    meetings.signoff_chasers,
    tracker.action_reminders,
    tracker.overdue_notices,
    tracker.weekly_status,
    closure.acceptance_chasers,
    closure.review_reminders,
    closure.review_compilation,
    digest.failure_digest,
)


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
