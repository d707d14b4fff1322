"""The only way to "send": render a mail and store it, complete, in the outbox.

The row is written in the caller's transaction, with its Message-ID and a unique dedupe key
(``chaser:REQ-2026-0001:产品部:1``), so the change that caused a mail and the mail itself
commit together or not at all, and the same duty can never queue the same mail twice.
``sender.py`` delivers the rows later.
"""

from __future__ import annotations

import base64
import functools
import io
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.charset import BASE64, QP, Charset
from email.encoders import encode_base64
from email.generator import BytesGenerator
from email.header import Header
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import format_datetime, formataddr
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from mailflow.config import Person, unique_people
from mailflow.context import Context
from mailflow.models import OutboxMessage, ReplyToken, Request

log = logging.getLogger("mailflow.outbox")

_WIRE = compat32.clone(linesep="\r\n", max_line_length=76)
_BASE64_UTF8 = Charset("utf-8")
_BASE64_UTF8.header_encoding = _BASE64_UTF8.body_encoding = BASE64
_QP_UTF8 = Charset("utf-8")
_QP_UTF8.header_encoding, _QP_UTF8.body_encoding = BASE64, QP


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
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == mail.dedupe_key)):
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
    inserted = session.execute(
        _insert_ignoring_duplicates(session.get_bind().dialect.name), values
    ).first()
    if inserted is None:
        log.info("outbox skip key=%s (queued concurrently)", mail.dedupe_key)
        return None
    if token:
        assert mail.request is not None
        session.execute(
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
def _insert_token() -> Any:
    return ReplyToken.__table__.insert()


@functools.cache
def _insert_ignoring_duplicates(dialect: str) -> Any:
    """``INSERT … ON CONFLICT (dedupe_key) DO NOTHING RETURNING id``, built once per dialect."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(OutboxMessage)
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


def _header_address(person: Person) -> str:
    name = " ".join(person.name.split())  # no CR/LF can reach a header
    return formataddr((name, person.address), charset="utf-8")


def _header_text(text: str) -> str:
    return text if text.isascii() else Header(text, "utf-8").encode()


def _text_part(body: str, subtype: str, language: str) -> MIMEText:
    # Chinese text is shortest in base64; English stays readable in quoted-printable.
    return MIMEText(body, subtype, _BASE64_UTF8 if language == "zh" else _QP_UTF8)


def _attachment_part(filename: str, mime_type: str, data: bytes) -> MIMEBase:
    maintype, _, subtype = mime_type.partition("/")
    part = MIMEBase(maintype, subtype or "octet-stream")
    part.set_payload(data)
    encode_base64(part)
    name: str | tuple[str, str, str] = filename if filename.isascii() else ("utf-8", "", filename)
    part.set_param("name", name)
    part.add_header("Content-Disposition", "attachment", filename=name)
    return part


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
    # Random boundaries of our own: base64/QP bodies cannot contain them, and the generator is
    # spared making one and scanning the body for it.
    body: Message = MIMEMultipart(
        "alternative",
        boundary=f"=_alt_{secrets.token_hex(12)}",
        _subparts=[
            _text_part(text, "plain", mail.language),
            _text_part(html, "html", mail.language),
        ],
    )
    if mail.attachments:
        body = MIMEMultipart(
            "mixed",
            boundary=f"=_mixed_{secrets.token_hex(12)}",
            _subparts=[body, *(_attachment_part(*a) for a in mail.attachments)],
        )
    smtp = ctx.config.smtp
    body["From"] = _header_address(Person(smtp.from_address, smtp.from_name))
    if to:
        body["To"] = ", ".join(_header_address(p) for p in to)
    if cc:
        body["Cc"] = ", ".join(_header_address(p) for p in cc)
    if reply_to:
        body["Reply-To"] = _header_address(Person(reply_to, smtp.from_name))
    body["Subject"] = _header_text(subject)
    body["Date"] = format_datetime(ctx.now)
    body["Message-ID"] = message_id
    references = [
        r for r in (mail.request.form_message_id if mail.request else "", *mail.references) if r
    ]
    if mail.answers:
        body["In-Reply-To"] = mail.answers
        references.append(mail.answers)
    if references:
        body["References"] = " ".join(dict.fromkeys(references))
    body["Auto-Submitted"] = "auto-replied" if mail.answers else "auto-generated"
    body["X-Auto-Response-Suppress"] = "All"
    body["X-Mailflow-Kind"] = mail.kind
    if mail.request:
        body["X-Mailflow-Case"] = mail.request.number
    body["Content-Language"] = "zh-CN" if mail.language == "zh" else "en"
    buffer = io.BytesIO()
    BytesGenerator(buffer, policy=_WIRE).flatten(body)
    return buffer.getvalue()
