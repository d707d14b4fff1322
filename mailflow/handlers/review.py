"""A department's review of a closed case (复盘): highlights (亮点) and shortcomings (不足).

The reply's own text is kept, split into highlights and shortcomings where it labels them.
When every department has answered, the review is compiled and the case is archived.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailflow import closure
from mailflow.cases import find_request
from mailflow.context import Context
from mailflow.handlers.base import Verdict
from mailflow.models import Review
from mailflow.parse import ParsedMail
from mailflow.replies import visible_reply
from mailflow.router import Route

_LABEL = re.compile(
    r"^\s*[\d.、)）(（*\-•]*\s*(?P<label>亮点|优点|做得好的|不足|问题|改进建议|待改进|highlights?|what went well|"
    r"shortcomings?|what went wrong|to improve|improvements?)\s*[：:]\s*",
    re.IGNORECASE | re.MULTILINE,
)
_HIGHLIGHT = re.compile(r"亮点|优点|做得好|highlight|went well", re.IGNORECASE)


def read_review(text: str) -> tuple[str, str, str]:
    """(highlights, shortcomings, whole own text) of a review reply."""
    own = visible_reply(text).strip()
    parts = {"highlights": [], "shortcomings": []}
    marks = list(_LABEL.finditer(own))
    for index, mark in enumerate(marks):
        end = marks[index + 1].start() if index + 1 < len(marks) else len(own)
        key = "highlights" if _HIGHLIGHT.search(mark.group("label")) else "shortcomings"
        parts[key].append(own[mark.end() : end].strip())
    return "\n".join(parts["highlights"]), "\n".join(parts["shortcomings"]), own


def handle(mail: ParsedMail, session: Session, ctx: Context, route: Route) -> Verdict:
    request = find_request(session, route.request_number)
    assert request is not None and mail.sender is not None
    own = {d.name for d in ctx.directory.departments_of(mail.sender.address)}
    departments = [d for d in closure.review_departments(request) if d in own]
    if request.stage != "review" or not departments:
        return Verdict("reply_filed", request=request, reason="no review expected from the sender")
    highlights, shortcomings, text = read_review(mail.text)
    for name in departments:
        review = session.scalar(
            select(Review).where(Review.request_id == request.id, Review.department == name)
        )
        if review is None:
            review = Review(request_id=request.id, department=name)
            session.add(review)
        review.highlights, review.shortcomings, review.text = highlights, shortcomings, text
        review.responder, review.replied_at, review.message_id = (
            mail.sender.address,
            ctx.now,
            mail.message_id,
        )
    session.flush()
    closure.maybe_compile(session, ctx, request)
    return Verdict("review_recorded", request=request, reason=", ".join(departments))
