"""Mail mailflow could not process (too large, unreadable, a fault while handling it).

The message is filed to the failed folder with its reason; the sender, when known and not an
automatic sender, gets one short explanation so that nothing is silently lost.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from mailflow.config import Person
from mailflow.context import Context
from mailflow.handlers.base import Verdict
from mailflow.outbox import Mail, enqueue, once_a_day
from mailflow.parse import ParsedMail

REASONS = ("too_large", "unreadable", "processing_error")


def file_failure(
    headers: ParsedMail | None,
    session: Session,
    ctx: Context,
    *,
    reason: str,
    detail: str,
    size: int = 0,
) -> Verdict:
    """Record ``reason`` (one of :data:`REASONS`) and explain it to a sender who may hear it."""
    if headers is not None and _may_answer(headers, ctx):
        assert headers.sender is not None
        language = ctx.config.language_of(headers.sender.address)
        enqueue(
            session,
            ctx,
            Mail(
                kind="mail_not_processed",
                dedupe_key=once_a_day(f"mail_not_processed.{reason}", headers.sender.address, ctx),
                to=[ctx.directory.person(headers.sender.address) or _person(headers)],
                language=language,
                answers=headers.message_id,
                context={
                    "reason": reason,
                    "original_subject": headers.subject,
                    "size_mb": round(size / (1024 * 1024), 1),
                    "limit_mb": round(ctx.config.mailbox.max_message_size / (1024 * 1024), 1),
                },
            ),
        )
    return Verdict(reason, folder="failed", reason=detail)


def _may_answer(headers: ParsedMail, ctx: Context) -> bool:
    sender = headers.sender
    return (
        sender is not None
        and not headers.automatic
        and not ctx.config.is_own_address(sender.address)
        and ctx.config.may_submit(sender.address)
    )


def _person(headers: ParsedMail) -> Person:
    assert headers.sender is not None
    return Person(headers.sender.address, headers.sender.name)
