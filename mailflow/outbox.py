"""The only way to "send": render a mail and store it, complete, in the outbox.

The row is written in the caller's transaction, with its Message-ID and a unique dedupe key
(``chaser:REQ-2026-0001:产品部:1``), so the change that caused a mail and the mail itself
commit together or not at all, and the same duty can never queue the same mail twice.
``sender.py`` delivers the rows later.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mailflow.config import Person, unique_people
from mailflow.context import Context
from mailflow.models import OutboxMessage, Request

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


def enqueue(session: Session, ctx: Context, mail: Mail) -> OutboxMessage | None:
    """Store ``mail`` unless a mail with the same dedupe key exists; returns the new row."""
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == mail.dedupe_key)):
        log.info("outbox skip key=%s (already queued)", mail.dedupe_key)
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
    message = _build(ctx, mail, to, cc, subject, message_id, rendered.text, rendered.html)
    row = OutboxMessage(
        dedupe_key=mail.dedupe_key,
        message_id=message_id,
        kind=mail.kind,
        request_id=mail.request.id if mail.request else None,
        mail_from=ctx.config.smtp.from_address,
        to_addrs=[p.address for p in to],
        cc_addrs=[p.address for p in cc],
        bcc_addrs=bcc,
        subject=subject,
        raw=message.as_bytes(),
        created_at=ctx.now,
        next_attempt_at=ctx.now,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # another process queued the same key a moment ago
        log.info("outbox skip key=%s (queued concurrently)", mail.dedupe_key)
        return None
    log.info("outbox queued key=%s message_id=%s to=%s", mail.dedupe_key, message_id, row.to_addrs)
    return row


def _recipients(ctx: Context, mail: Mail) -> tuple[list[Person], list[Person], list[str]]:
    def ours(person: Person) -> bool:
        return ctx.config.is_own_address(person.address)

    to = [p for p in unique_people(mail.to) if not ours(p)]
    taken = {p.address for p in to}
    cc = [p for p in unique_people(mail.cc) if not ours(p) and p.address not in taken]
    archive = ctx.config.organization.admin_archive
    visible = taken | {p.address for p in cc}
    bcc = [archive] if archive and archive not in visible else []
    return to, cc, bcc


def _tagged(subject: str, request: Request | None) -> str:
    subject = " ".join(subject.split())  # no CR/LF can reach a header
    if request is None or f"[{request.number}]" in subject:
        return subject
    return f"[{request.number}] {subject}"


def _header_address(person: Person) -> HeaderAddress:
    local, _, domain = person.address.partition("@")
    return HeaderAddress(display_name=" ".join(person.name.split()), username=local, domain=domain)


def _build(
    ctx: Context,
    mail: Mail,
    to: list[Person],
    cc: list[Person],
    subject: str,
    message_id: str,
    text: str,
    html: str,
) -> EmailMessage:
    smtp = ctx.config.smtp
    message = EmailMessage(policy=SMTP)
    message["From"] = _header_address(Person(smtp.from_address, smtp.from_name))
    if to:
        message["To"] = [_header_address(p) for p in to]
    if cc:
        message["Cc"] = [_header_address(p) for p in cc]
    message["Subject"] = subject
    message["Date"] = format_datetime(ctx.now)
    message["Message-ID"] = message_id
    references = [
        r for r in (mail.request.form_message_id if mail.request else "", *mail.references) if r
    ]
    if mail.answers:
        message["In-Reply-To"] = mail.answers
        references.append(mail.answers)
    if references:
        message["References"] = " ".join(dict.fromkeys(references))
    message["Auto-Submitted"] = "auto-replied" if mail.answers else "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message["X-Mailflow-Kind"] = mail.kind
    if mail.request:
        message["X-Mailflow-Case"] = mail.request.number
    message["Content-Language"] = "zh-CN" if mail.language == "zh" else "en"
    message.set_content(text, cte="quoted-printable")
    message.add_alternative(html, subtype="html", cte="quoted-printable")
    for filename, mime_type, data in mail.attachments:
        maintype, _, subtype = mime_type.partition("/")
        message.add_attachment(
            data, maintype=maintype, subtype=subtype or "octet-stream", filename=filename
        )
    return message
