"""The fuzz targets: mailflow's pure parsers, each driven by one input of bytes.

Shared by ``benchmarks/fuzz.py`` (the coverage-guided fuzzer) and ``tests/test_fuzz_regressions.py``
(which replays the reproducers under ``tests/data/fuzz/<target>/`` and runs a short smoke fuzz).
A target raises when it finds a bug: any exception other than the ones its function may raise
(only :class:`~mailflow.parse.ParseError`, from ``parse_message``), or a result that breaks what
the code after the parser relies on (text that cannot be stored as UTF-8, a date that cannot be
shown in the organisation's time zone). Slowness is measured by the caller.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from harness import DIRECTORY_TOML

from mailflow.config import Directory, config_from_dict
from mailflow.form_sources import DOCX_CONTENT_TYPE
from mailflow.forms import read_request_form
from mailflow.handlers.acceptance import read_acceptance
from mailflow.handlers.review import read_review
from mailflow.meetings import read_meeting_notice
from mailflow.minutes import read_minutes
from mailflow.parse import Attachment, ParsedMail, ParseError, html_to_text, parse_message
from mailflow.replies import split_reply
from mailflow.signoff import read_signoff
from mailflow.updates import read_updates

DIRECTORY: Directory = config_from_dict(tomllib.loads(DIRECTORY_TOML)).directory
TZ = ZoneInfo("Asia/Shanghai")
MAIL_DATE = dt.date(2026, 11, 20)
SENT = dt.datetime(2026, 11, 20, 10, 30, tzinfo=TZ)
KNOWN_IDS = ("A7", "A12", "A013")


class InvariantError(AssertionError):
    """A parser returned normally, but with a value the code after it cannot use."""


@dataclass(frozen=True)
class Target:
    name: str
    run: Callable[[bytes], None]
    summary: str
    kind: str  # "mail" (raw RFC 822 bytes), "text" (UTF-8 text), "docx" (a Word file)


def as_text(data: bytes) -> str:
    """Fuzzer bytes as the decoded text a parser receives (never holding lone surrogates)."""
    return data.decode("utf-8", "replace")


def mail_of(
    text: str = "", html: str = "", attachments: list[Attachment] | None = None
) -> ParsedMail:
    return ParsedMail(
        message_id="<fuzz@example.com>",
        dedupe_key="mid:<fuzz@example.com>",
        subject="fuzz",
        sender=None,
        date=SENT,
        text=text,
        html=html,
        attachments=attachments or [],
    )


def _storable(value: str, where: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvariantError(f"{where} cannot be stored as UTF-8: {exc}") from exc


def check_parsed(mail: ParsedMail) -> None:
    """What ingest, the database and the handlers rely on in a parsed mail."""
    if not isinstance(mail, ParsedMail):
        raise InvariantError(f"parse_message returned {type(mail).__name__}")
    for where, value in (
        ("message_id", mail.message_id),
        ("dedupe_key", mail.dedupe_key),
        ("subject", mail.subject),
        ("text", mail.text),
        ("html", mail.html),
        ("automatic", mail.automatic),
    ):
        _storable(value, where)
    for name, values in mail.headers.items():
        _storable(name, "header name")
        for value in values:
            _storable(value, f"header {name}")
    for address in [*([mail.sender] if mail.sender else []), *mail.to, *mail.cc, *mail.reply_to]:
        _storable(address.name, "address name")
        _storable(address.address, "address")
    for attachment in mail.attachments:
        if not attachment.filename:
            raise InvariantError("an attachment without a file name")
        _storable(attachment.filename, "attachment file name")
        _storable(attachment.content_type, "attachment content type")
    for defect in mail.defects:
        _storable(defect, "defect")
    for ids in (mail.in_reply_to, mail.references):
        for message_id in ids:
            _storable(message_id, "message id")
    if mail.date is not None:
        if mail.date.tzinfo is None:
            raise InvariantError("a naive Date")
        try:
            mail.date.astimezone(TZ)  # what the handlers do with it
        except (OverflowError, ValueError) as exc:
            raise InvariantError(f"Date {mail.date!r} cannot be shown in {TZ}") from exc


def parsed(data: bytes) -> ParsedMail | None:
    """``parse_message(data)`` with its invariants checked; None when it refuses the bytes."""
    try:
        mail = parse_message(data)
    except ParseError:
        return None
    check_parsed(mail)
    return mail


def _form_mails(data: bytes) -> list[ParsedMail]:
    """The mails a form reader is tried on: ``data`` parsed as a message, as plain text, and
    as an HTML body (with the text parse derives from it)."""
    mails = []
    if (mail := parsed(data)) is not None:
        mails.append(mail)
    text = as_text(data)
    mails.append(mail_of(text=text))
    if "<" in text:
        mails.append(mail_of(text=html_to_text(text), html=text))
    return mails


def run_parse(data: bytes) -> None:
    parsed(data)


def run_form(data: bytes) -> None:
    for mail in _form_mails(data):
        read_request_form(mail, DIRECTORY)


def run_notice(data: bytes) -> None:
    for mail in _form_mails(data):
        read_meeting_notice(mail, DIRECTORY, TZ)


def run_minutes(data: bytes) -> None:
    for mail in _form_mails(data):
        read_minutes(mail, DIRECTORY, TZ)


def run_docx(data: bytes) -> None:
    """``data`` as a Word attachment, read as a request form, a meeting notice and minutes."""
    mail = mail_of(text="见附件", attachments=[Attachment("f.docx", DOCX_CONTENT_TYPE, data)])
    read_request_form(mail, DIRECTORY)
    read_meeting_notice(mail, DIRECTORY, TZ)
    read_minutes(mail, DIRECTORY, TZ)


def run_replies(data: bytes) -> None:
    split_reply(as_text(data))


def run_signoff(data: bytes) -> None:
    read_signoff(as_text(data))


def run_updates(data: bytes) -> None:
    read_updates(as_text(data), mail_date=MAIL_DATE, known_ids=KNOWN_IDS)


def run_acceptance(data: bytes) -> None:
    read_acceptance(as_text(data))


def run_review(data: bytes) -> None:
    read_review(as_text(data))


TARGETS: dict[str, Target] = {
    target.name: target
    for target in (
        Target("parse", run_parse, "parse.parse_message on raw message bytes", "mail"),
        Target("form", run_form, "forms.read_request_form: message, text, HTML", "mail"),
        Target("docx", run_docx, "form, notice and minutes readers on a .docx attachment", "docx"),
        Target("notice", run_notice, "meetings.read_meeting_notice: message, text, HTML", "mail"),
        Target("minutes", run_minutes, "minutes.read_minutes: message, text, HTML", "mail"),
        Target("replies", run_replies, "replies.split_reply", "text"),
        Target("signoff", run_signoff, "signoff.read_signoff", "text"),
        Target("updates", run_updates, "updates.read_updates", "text"),
        Target("acceptance", run_acceptance, "handlers.acceptance.read_acceptance", "text"),
        Target("review", run_review, "handlers.review.read_review", "text"),
    )
}
