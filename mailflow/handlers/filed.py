"""Mail that is recorded and filed, never answered: automatic mail, unknown senders,
comments on a case that no stage acts on, and a case's tag used by someone outside the case.

RFC 3834: bounces, auto-replies, list traffic and our own mail get no reply. Unknown senders
get none either (no backscatter); the operator sees them in the ledger and the logs.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from mailflow.cases import find_request
from mailflow.context import Context
from mailflow.handlers.base import Verdict
from mailflow.parse import ParsedMail
from mailflow.router import Route


def automatic(mail: ParsedMail, session: Session, ctx: Context, route: Route) -> Verdict:
    return Verdict("automatic", reason=route.reason)


def unknown_sender(mail: ParsedMail, session: Session, ctx: Context, route: Route) -> Verdict:
    return Verdict("unknown_sender", reason=route.reason)


def reply(mail: ParsedMail, session: Session, ctx: Context, route: Route) -> Verdict:
    """A message on a known case that no stage acts on: kept with the case for the record."""
    return Verdict(
        "reply_filed", request=find_request(session, route.request_number), reason=route.reason
    )


def untrusted(mail: ParsedMail, session: Session, ctx: Context, route: Route) -> Verdict:
    """A case's tag in the subject, from someone who has no part in the case: not acted on."""
    return Verdict("untrusted", reason=route.reason)
