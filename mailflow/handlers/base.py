"""What a handler returns: the verdict recorded for the message and where it is filed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from mailflow.context import Context
from mailflow.models import Request
from mailflow.parse import ParsedMail
from mailflow.router import Route


@dataclass
class Verdict:
    name: str  # request_created, form_rejected, automatic, unknown_sender, reply_filed, …
    request: Request | None = None
    folder: str = "processed"  # processed | failed
    reason: str = ""


Handler = Callable[[ParsedMail, Session, Context, Route], Verdict]
