"""One handler per kind of mail; the router names the kind, this table finds the handler."""

from __future__ import annotations

from mailflow.handlers import filed, request, response
from mailflow.handlers.base import Handler, Verdict

HANDLERS: dict[str, Handler] = {
    "automatic": filed.automatic,
    "unknown_sender": filed.unknown_sender,
    "reply": filed.reply,
    "request": request.handle,
    "response": response.handle,
    "untrusted": filed.untrusted,
}

__all__ = ["HANDLERS", "Handler", "Verdict"]
