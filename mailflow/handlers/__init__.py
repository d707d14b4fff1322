"""One handler per kind of mail; the router names the kind, this table finds the handler."""

from __future__ import annotations

from mailflow.handlers import (
    acceptance,
    action_update,
    filed,
    meeting,
    minutes,
    request,
    response,
    review,
    signoff,
)
from mailflow.handlers.base import Handler, Verdict

HANDLERS: dict[str, Handler] = {
    "automatic": filed.automatic,
    "unknown_sender": filed.unknown_sender,
    "reply": filed.reply,
    "request": request.handle,
    "response": response.handle,
    "untrusted": filed.untrusted,
    "meeting_notice": meeting.handle,
    "minutes": minutes.handle,
    "signoff": signoff.handle,
    "action_update": action_update.handle,
    "acceptance": acceptance.handle,
    "review": review.handle,
}

__all__ = ["HANDLERS", "Handler", "Verdict"]
