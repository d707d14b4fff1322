"""A reply from an involved department (协调对象确认): the department's response to a request.

The reply's own text (quotes and signature stripped) is recorded with its time and sender for
every involved department the sender belongs to that had not answered yet. When the last
involved department has answered, the lead department gets a summary of all responses.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from mailflow.cases import find_request
from mailflow.context import Context
from mailflow.handlers.base import Verdict
from mailflow.models import Request
from mailflow.outbox import Mail, enqueue
from mailflow.parse import ParsedMail
from mailflow.replies import visible_reply
from mailflow.router import Route


def handle(mail: ParsedMail, session: Session, ctx: Context, route: Route) -> Verdict:
    assert mail.sender is not None
    request = find_request(session, route.request_number)
    assert request is not None  # the router found it
    own = {d.name for d in ctx.directory.departments_of(mail.sender.address)}
    answering = [d for d in request.departments if d.department in own and not d.responded]
    if not answering:
        return Verdict("response_again", request=request, reason="department had already responded")
    text = visible_reply(mail.text)
    for department in answering:
        department.responded_at = ctx.now
        department.responder = mail.sender.address
        department.response_text = text
        department.response_message_id = mail.message_id
    names = ", ".join(d.department for d in answering)
    if all(d.responded for d in request.departments) and request.all_responded_at is None:
        request.all_responded_at = ctx.now
        request.stage = "meeting"
        _summarise(session, ctx, request)
    return Verdict("response_recorded", request=request, reason=names)


def _summarise(session: Session, ctx: Context, request: Request) -> None:
    """Tell the lead department that every involved department has answered, and how."""
    lead = ctx.directory.department(request.lead_department)
    if lead is None:
        return
    requester = ctx.directory.person(request.requester)
    in_lead = requester is not None and lead.includes(request.requester)
    enqueue(
        session,
        ctx,
        Mail(
            kind="responses_complete",
            dedupe_key=f"responses_complete:{request.number}",
            to=lead.notified(),
            cc=[requester] if requester and not in_lead else [],
            language=ctx.config.department_language(lead),
            request=request,
            department=lead.name,
            context={"request": request},
        ),
    )
