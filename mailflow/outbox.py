"""The only way to "send": render a mail and store it, complete, in the outbox.

The row is written in the caller's transaction, with its Message-ID and a unique dedupe key
(``chaser:REQ-2026-0001:产品部:1``), so the change that caused a mail and the mail itself
commit together or not at all, and the same duty can never queue the same mail twice.
``sender.py`` delivers the rows later.
"""

from __future__ import annotations

import base64
import functools
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.utils import format_datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from mailflow import wire
from mailflow.config import Person, unique_people
from mailflow.context import Context
from mailflow.models import OutboxMessage, ReplyToken, Request

log = logging.getLogger("mailflow.outbox")


@dataclass
class Mail:
    """A mail a handler or sweep wants sent."""

    kind: str  # template name under templates/<lang>/
    dedupe_key: str
    to: Sequence[Person]
    language: str
    context: dict[str, Any]
    cc: Sequence[Person] = ()
    request: Request | None = None
    answers: str = ""  # Message-ID of the mail this one answers: makes it an auto-reply
    references: Sequence[str] = ()
    attachments: Sequence[tuple[str, str, bytes]] = field(default=())  # (filename, mime type, data)
    department: str = ""  # the department the mail is addressed to, for its reply token
    action_code: str = ""  # the action item the mail is about (A12), so that replies find it
    archive_on_cc: bool = False  # CC the admin archive openly (行政部备案) instead of the usual BCC


def enqueue(session: Session, ctx: Context, mail: Mail) -> str | None:
    """Store ``mail`` unless a mail with its dedupe key exists; returns the new Message-ID.

    The insert ignores a conflicting dedupe key, so a second process queueing the same mail a
    moment later leaves the first one standing and its own transaction intact.
    """
    # Core statements on the session's connection: the ORM adds nothing to these rows but time
    connection = session.connection()
    if connection.scalar(_queued_with_key(), {"key": mail.dedupe_key}):
        log.debug("outbox skip key=%s (already queued)", mail.dedupe_key)
        return None
    to, cc, bcc = _recipients(ctx, mail)
    if not to and not cc:
        log.warning("outbox drop key=%s: no recipient left", mail.dedupe_key)
        return None
    rendered = ctx.renderer.render(
        mail.kind, mail.language, {"org": ctx.config.organization, **mail.context}
    )
    subject = _tagged(rendered.subject, mail.request)
    message_id = f"<{mail.kind}.{secrets.token_hex(10)}@{ctx.config.mail_domain}>"
    token = new_reply_token() if mail.request and ctx.config.mailbox.reply_tokens else ""
    reply_to = ctx.config.reply_address(token) if token else ""
    raw = _build(ctx, mail, to, cc, subject, message_id, rendered.text, rendered.html, reply_to)
    values = {
        "dedupe_key": mail.dedupe_key,
        "message_id": message_id,
        "kind": mail.kind,
        "request_id": mail.request.id if mail.request else None,
        "action_code": mail.action_code,
        "mail_from": ctx.config.smtp.from_address,
        "to_addrs": [p.address for p in to],
        "cc_addrs": [p.address for p in cc],
        "bcc_addrs": bcc,
        "subject": subject,
        "raw": raw,
        "status": "pending",
        "attempts": 0,
        "created_at": ctx.now,
        "next_attempt_at": ctx.now,
        "last_error": "",
        "claimed_by": "",
    }
    session.flush()  # the request's id and anything else pending, before the row refers to it
    inserted = connection.execute(
        _insert_ignoring_duplicates(connection.dialect.name), values
    ).first()
    if inserted is None:
        log.info("outbox skip key=%s (queued concurrently)", mail.dedupe_key)
        return None
    if token:
        assert mail.request is not None
        connection.execute(
            _insert_token(),
            {
                "token": token,
                "request_id": mail.request.id,
                "kind": mail.kind,
                "department": mail.department,
                "action_code": mail.action_code,
                "created_at": ctx.now,
            },
        )
    log.info(
        "outbox queued key=%s message_id=%s to=%s", mail.dedupe_key, message_id, values["to_addrs"]
    )
    return message_id


def once_a_day(kind: str, sender: str, ctx: Context) -> str:
    """The dedupe key of an error reply: at most one per sender, kind and local day (RFC 3834),
    so that an auto-responder that ignores ``Auto-Submitted`` cannot loop with us."""
    return f"{kind}:{sender.lower()}:{ctx.calendar.local(ctx.now).date().isoformat()}"


def new_reply_token() -> str:
    """128 random bits in lower-case base32: survives servers that fold the local part's case."""
    return base64.b32encode(secrets.token_bytes(16)).decode("ascii").rstrip("=").lower()


@functools.cache
def _queued_with_key() -> Any:
    table = OutboxMessage.__table__
    return select(table.c.id).where(table.c.dedupe_key == bindparam("key"))


@functools.cache
def _insert_token() -> Any:
    return ReplyToken.__table__.insert()


@functools.cache
def _insert_ignoring_duplicates(dialect: str) -> Any:
    """``INSERT … ON CONFLICT (dedupe_key) DO NOTHING RETURNING id``, built once per dialect."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(OutboxMessage.__table__)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(OutboxMessage.id)
    )


def _recipients(ctx: Context, mail: Mail) -> tuple[list[Person], list[Person], list[str]]:
    def ours(person: Person) -> bool:
        return ctx.config.is_own_address(person.address)

    archive = ctx.config.organization.admin_archive
    to = [p for p in unique_people(mail.to) if not ours(p)]
    taken = {p.address for p in to}
    copies = [*mail.cc, *([Person(archive)] if archive and mail.archive_on_cc else [])]
    cc = [p for p in unique_people(copies) if not ours(p) and p.address not in taken]
    visible = taken | {p.address for p in cc}
    bcc = [archive] if archive and archive not in visible else []
    return to, cc, bcc


def _tagged(subject: str, request: Request | None) -> str:
    subject = " ".join(subject.split())  # no CR/LF can reach a header
    if request is None or f"[{request.number}]" in subject:
        return subject
    return f"[{request.number}] {subject}"


def _build(
    ctx: Context,
    mail: Mail,
    to: list[Person],
    cc: list[Person],
    subject: str,
    message_id: str,
    text: str,
    html: str,
    reply_to: str,
) -> bytes:
    # Chinese text is shortest in base64; English stays readable in quoted-printable.
    in_base64 = mail.language == "zh"
    content_type, body = wire.multipart(
        "alternative",
        [
            wire.text_part(text, "plain", base64_body=in_base64),
            wire.text_part(html, "html", base64_body=in_base64),
        ],
    )
    if mail.attachments:
        alternative = f"Content-Type: {content_type}\r\n\r\n".encode("ascii") + body
        content_type, body = wire.multipart(
            "mixed", [alternative, *(wire.attachment_part(*a) for a in mail.attachments)]
        )
    smtp = ctx.config.smtp
    lines = [wire.address_line("From", [Person(smtp.from_address, smtp.from_name)])]
    if to:
        lines.append(wire.address_line("To", to))
    if cc:
        lines.append(wire.address_line("Cc", cc))
    if reply_to:
        lines.append(wire.address_line("Reply-To", [Person(reply_to, smtp.from_name)]))
    lines.append(wire.header_line("Subject", subject))
    lines.append(wire.header_line("Date", format_datetime(ctx.now)))
    lines.append(wire.header_line("Message-ID", message_id))
    references = [
        r for r in (mail.request.form_message_id if mail.request else "", *mail.references) if r
    ]
    if mail.answers:
        lines.append(wire.header_line("In-Reply-To", mail.answers))
        references.append(mail.answers)
    if references:
        lines.append(wire.header_line("References", " ".join(dict.fromkeys(references))))
    lines.append(
        wire.header_line("Auto-Submitted", "auto-replied" if mail.answers else "auto-generated")
    )
    lines.append(wire.header_line("X-Auto-Response-Suppress", "All"))
    lines.append(wire.header_line("X-Mailflow-Kind", mail.kind))
    if mail.request:
        lines.append(wire.header_line("X-Mailflow-Case", mail.request.number))
    lines.append(wire.header_line("Content-Language", "zh-CN" if mail.language == "zh" else "en"))
    lines.append("MIME-Version: 1.0\r\n")
    lines.append(f"Content-Type: {content_type}\r\n\r\n")
    return "".join(lines).encode("ascii") + body
