"""Stage 3 duties: meeting reminders, missing-minutes chasers and sign-off chasers."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailflow.config import Person
from mailflow.context import Context
from mailflow.duties import REMINDER_HOUR, queued
from mailflow.models import (
    Meeting,
    Minutes,
)
from mailflow.outbox import Mail


def meeting_reminders(session: Session, ctx: Context) -> int:
    """The working day before a meeting (from 09:00), one reminder to its attendees."""
    count = 0
    horizon = ctx.now + dt.timedelta(days=15)
    upcoming = select(Meeting).where(Meeting.starts_at > ctx.now, Meeting.starts_at <= horizon)
    for meeting in session.scalars(upcoming):
        day = ctx.calendar.local(meeting.starts_at).date()
        remind_from = dt.datetime.combine(
            ctx.calendar.previous_working_day(day), dt.time(REMINDER_HOUR), tzinfo=ctx.calendar.tz
        )
        if ctx.now < remind_from or meeting.created_at >= remind_from:
            continue  # not yet; or the notice itself came that late and is reminder enough
        count += queued(
            session,
            ctx,
            Mail(
                kind="meeting_reminder",
                dedupe_key=f"meeting_reminder:{meeting.uid}:{meeting.sequence}",
                to=[Person(a.address, a.name) for a in meeting.attendees],
                language=meeting.request.language,
                request=meeting.request,
                context={"request": meeting.request, "meeting": meeting},
            ),
        )
    return count


def minutes_chasers(session: Session, ctx: Context) -> int:
    """``minutes_due`` after a meeting without minutes since: chase the recorder (else the host)."""
    count = 0
    window = ctx.now - dt.timedelta(days=60)
    held = select(Meeting).where(Meeting.starts_at <= ctx.now, Meeting.starts_at > window)
    for meeting in session.scalars(held):
        if (
            ctx.calendar.add(meeting.ends_at or meeting.starts_at, ctx.config.deadlines.minutes_due)
            > ctx.now
        ):
            continue
        since = select(Minutes.id).where(
            Minutes.request_id == meeting.request_id, Minutes.received_at >= meeting.created_at
        )
        if session.scalar(since.limit(1)) is not None:
            continue
        chased = (
            _by_role(meeting, "recorder")
            or _by_role(meeting, "host")
            or [Person(meeting.organizer)]
        )
        count += queued(
            session,
            ctx,
            Mail(
                kind="minutes_chaser",
                dedupe_key=f"minutes_chaser:{meeting.uid}",
                to=chased[:1],
                language=meeting.request.language,
                request=meeting.request,
                context={"request": meeting.request, "meeting": meeting},
            ),
        )
    return count


def signoff_chasers(session: Session, ctx: Context) -> int:
    """At the sign-off deadline, one chaser to each attendee who has not answered."""
    count = 0
    overdue = select(Minutes).where(Minutes.status == "open", Minutes.confirm_by <= ctx.now)
    for record in session.scalars(overdue):
        for signer in record.signers:
            if signer.status != "pending":
                continue
            count += queued(
                session,
                ctx,
                Mail(
                    kind="signoff_chaser",
                    dedupe_key=f"signoff_chaser:{record.request.number}:v{record.version}:{signer.address}",
                    to=[Person(signer.address, signer.name)],
                    language=record.language,
                    request=record.request,
                    context={"request": record.request, "minutes": record, "signer": signer},
                ),
            )
    return count


def _by_role(meeting: Meeting, role: str) -> list[Person]:
    return [Person(a.address, a.name) for a in meeting.attendees if a.role == role]
