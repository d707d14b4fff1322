"""The case record (案例记录): everything that happened to one request, as one document.

Request, responses, meetings, every minutes version with its sign-offs, the tracker with its
history, acceptance and review, and every mail in and out in time order — rendered as
Markdown or HTML from ``templates/<lang>/case_record.{md,html}.j2``. ``mailflow requests show``
prints it at any stage; closing a case writes it to the knowledge base and mails it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailflow import actions
from mailflow.context import Context
from mailflow.models import (
    CaseEvent,
    InboundMessage,
    Meeting,
    Minutes,
    OutboxMessage,
    Request,
    Review,
)


@dataclass(frozen=True)
class MailEntry:
    """One mail of a case, in or out."""

    direction: str  # in | out
    at: dt.datetime
    parties: str
    subject: str
    detail: str


def render(session: Session, ctx: Context, request: Request, fmt: str) -> str:
    """The record as ``md`` (also used for plain text) or ``html``."""
    template = "case_record.html.j2" if fmt == "html" else "case_record.md.j2"
    facts = gather(session, request)
    return (
        ctx.renderer.render_document(
            template, request.language, {"org": ctx.config.organization, **facts}
        ).strip()
        + "\n"
    )


def gather(session: Session, request: Request) -> dict[str, Any]:
    items = actions.items_of(session, request, include_cancelled=True)
    return {
        "request": request,
        "meetings": list(
            session.scalars(
                select(Meeting).where(Meeting.request_id == request.id).order_by(Meeting.starts_at)
            )
        ),
        "minutes": list(
            session.scalars(
                select(Minutes).where(Minutes.request_id == request.id).order_by(Minutes.version)
            )
        ),
        "items": items,
        "status_labels": actions.STATUS_LABELS[request.language],
        "events": list(
            session.scalars(
                select(CaseEvent).where(CaseEvent.request_id == request.id).order_by(CaseEvent.at)
            )
        ),
        "reviews": list(
            session.scalars(
                select(Review).where(Review.request_id == request.id).order_by(Review.id)
            )
        ),
        "mails": case_mails(session, request),
    }


def acceptance_facts(session: Session, request: Request) -> dict[str, Any]:
    """What the acceptance report (验收报告) sets beside the goal: actions, dates, delays."""
    items = actions.items_of(session, request)
    delays = [(item, event) for item in items for event in item.events if event.kind == "delay"]
    return {
        "items": items,
        "delays": delays,
        "status_labels": actions.STATUS_LABELS[request.language],
        "minutes": list(
            session.scalars(
                select(Minutes).where(
                    Minutes.request_id == request.id, Minutes.status == "confirmed"
                )
            )
        ),
        "rejections": list(
            session.scalars(
                select(CaseEvent).where(
                    CaseEvent.request_id == request.id, CaseEvent.kind == "rejected"
                )
            )
        ),
    }


def case_mails(session: Session, request: Request) -> list[MailEntry]:
    """Every mail of the case, inbound and outbound, in time order."""
    entries = [
        MailEntry("in", m.received_at, m.sender, m.subject, m.verdict)
        for m in session.scalars(
            select(InboundMessage).where(InboundMessage.request_id == request.id)
        )
    ]
    entries += [
        MailEntry(
            "out",
            m.created_at,
            ", ".join(m.to_addrs + m.cc_addrs),
            m.subject,
            f"{m.kind} ({m.status})",
        )
        for m in session.scalars(
            select(OutboxMessage).where(OutboxMessage.request_id == request.id)
        )
    ]
    return sorted(entries, key=lambda e: (e.at, e.direction))
