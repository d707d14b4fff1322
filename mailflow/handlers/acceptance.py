"""The requester's answer to the acceptance request (验收): accepted, rejected with a reason,
or unclear. Only the requester or the requesting department's head may accept or reject."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from mailflow import closure
from mailflow.cases import find_request
from mailflow.context import Context
from mailflow.handlers.base import Verdict
from mailflow.handlers.request import sender_person
from mailflow.models import Request
from mailflow.outbox import Mail, enqueue, once_a_day
from mailflow.parse import ParsedMail
from mailflow.replies import visible_reply
from mailflow.router import Route

_REJECTED = re.compile(
    r"(验收不通过|不通过|不予验收|不同意验收|reject(?:ed)?|not\s+accepted|do\s+not\s+accept)\s*[：:，,。.\-—]*\s*(?P<reason>.*)",
    re.IGNORECASE | re.DOTALL,
)
_ACCEPTED = re.compile(
    r"(验收通过|同意验收|确认验收|通过验收|\baccept(?:ed)?\b|\bapproved?\b)", re.IGNORECASE
)
_QUESTION = re.compile(r"[？?]")


def read_acceptance(text: str) -> tuple[str, str]:
    """("accepted" | "rejected" | "unclear", reason) from the requester's own text."""
    own = " ".join(visible_reply(text).split())
    rejected = _REJECTED.search(own)
    if rejected:
        return "rejected", rejected.group("reason").strip()
    if _ACCEPTED.search(own) and not _QUESTION.search(own):
        return "accepted", ""
    return "unclear", ""


def handle(mail: ParsedMail, session: Session, ctx: Context, route: Route) -> Verdict:
    request = find_request(session, route.request_number)
    assert request is not None and mail.sender is not None
    if request.stage != "acceptance":
        return Verdict(
            "reply_filed", request=request, reason=f"no acceptance pending (stage {request.stage})"
        )
    if not _may_accept(ctx, request, mail.sender.address):
        _answer(mail, session, ctx, request, "not_allowed")
        return Verdict(
            "acceptance_refused", request=request, reason=f"{mail.sender.address} may not accept"
        )
    verdict, reason = read_acceptance(mail.text)
    if verdict == "accepted":
        closure.accept(session, ctx, request, actor=mail.sender.address, message_id=mail.message_id)
        return Verdict("accepted", request=request)
    if verdict == "rejected" and reason:
        closure.reject(
            session,
            ctx,
            request,
            actor=mail.sender.address,
            reason=reason,
            message_id=mail.message_id,
        )
        return Verdict("rejected", request=request, reason=reason[:200])
    _answer(mail, session, ctx, request, "no_reason" if verdict == "rejected" else "unclear")
    return Verdict("acceptance_unclear", request=request)


def _may_accept(ctx: Context, request: Request, sender: str) -> bool:
    if sender == request.requester:
        return True
    department = ctx.directory.department(request.requesting_department)
    return (
        department is not None and department.head is not None and department.head.address == sender
    )


def _answer(
    mail: ParsedMail, session: Session, ctx: Context, request: Request, problem: str
) -> None:
    assert mail.sender is not None
    enqueue(
        session,
        ctx,
        Mail(
            kind="acceptance_unclear",
            dedupe_key=once_a_day("acceptance_unclear", mail.sender.address, ctx),
            to=[sender_person(mail, ctx)],
            language=ctx.config.language_of(mail.sender.address),
            request=request,
            answers=mail.message_id,
            context={"request": request, "problem": problem},
        ),
    )
