"""The admin's daily digest of what could not be read or delivered."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from mailflow.config import Person
from mailflow.context import Context
from mailflow.duties import queued
from mailflow.models import (
    InboundMessage,
    OutboxMessage,
)
from mailflow.outbox import Mail

DIGEST_HOUR = 8  # the digest covers yesterday and goes out after 08:00 local


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
    return queued(
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
