"""The bytes mailflow writes for a mail read back by the email package and by our own parser."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

import pytest

from mailflow import wire
from mailflow.config import Person
from mailflow.parse import parse_message

TEXT_ZH = "王经理：\n\n您好！申请已收到，编号 REQ-2026-0001。\n请于 12月1日 前回复。\n"
TEXT_EN = "Dear Mr. Smith,\n\nYour request = received; trailing space here \nThanks.\n" + (
    "a long line " * 20
)
HTML = "<p>您好 &amp; welcome</p>\n<table><tr><td>状态</td></tr></table>\n"


def _mail(text: str, *, in_base64: bool, attachments=(), people=3) -> bytes:
    content_type, body = wire.multipart(
        "alternative",
        [
            wire.text_part(text, "plain", base64_body=in_base64),
            wire.text_part(HTML, "html", base64_body=in_base64),
        ],
    )
    if attachments:
        inner = f"Content-Type: {content_type}\r\n\r\n".encode() + body
        content_type, body = wire.multipart(
            "mixed", [inner, *(wire.attachment_part(*a) for a in attachments)]
        )
    to = [Person(f"person{i}@example.com", f"联系人{i}号") for i in range(people)]
    head = (
        wire.address_line("From", [Person("coordination@example.com", "协调办公室")])
        + wire.address_line("To", to)
        + wire.header_line(
            "Subject", "[REQ-2026-0001] 协调申请已受理：关于二季度新品上市的跨部门协作"
        )
        + wire.header_line("References", " ".join(f"<id{i}.abcdef@example.com>" for i in range(9)))
        + wire.header_line("Message-ID", "<ack.1@example.com>")
        + "MIME-Version: 1.0\r\n"
        + f"Content-Type: {content_type}\r\n\r\n"
    )
    return head.encode("ascii") + body


def _read(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    assert not message.defects
    return message


@pytest.mark.parametrize(("text", "in_base64"), [(TEXT_ZH, True), (TEXT_EN, False)])
def test_bodies_and_headers_read_back_exactly(text: str, in_base64: bool) -> None:
    raw = _mail(text, in_base64=in_base64)
    message = _read(raw)
    assert message["Subject"] == "[REQ-2026-0001] 协调申请已受理：关于二季度新品上市的跨部门协作"
    assert [a.display_name for a in message["To"].addresses] == [
        "联系人0号",
        "联系人1号",
        "联系人2号",
    ]
    assert message["References"].split() == [f"<id{i}.abcdef@example.com>" for i in range(9)]
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and html is not None
    # quoted-printable keeps the wire's CRLF, as it should; base64 keeps what was encoded
    assert plain.get_content().replace("\r\n", "\n") == text
    assert html.get_content().replace("\r\n", "\n") == HTML
    assert plain["Content-Transfer-Encoding"] == ("base64" if in_base64 else "quoted-printable")
    parsed = parse_message(raw)
    assert parsed.subject.startswith("[REQ-2026-0001]")
    assert parsed.text.strip() == text.strip()


def test_every_line_ends_in_crlf_and_stays_short() -> None:
    raw = _mail(
        TEXT_EN,
        in_base64=False,
        attachments=[("x.bin", "application/octet-stream", bytes(range(256)) * 40)],
        people=12,
    )
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78


def test_attachments_keep_their_names_and_bytes() -> None:
    data = bytes(range(256)) * 10
    raw = _mail(
        TEXT_ZH,
        in_base64=True,
        attachments=[
            (
                "协调申请表.docx",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                data,
            ),
            ('odd "name".ics', "text/calendar", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"),
        ],
    )
    message = _read(raw)
    files = {part.get_filename(): part.get_content() for part in message.iter_attachments()}
    assert files["协调申请表.docx"] == data
    assert 'odd "name".ics' in files
    assert message.get_body(("plain",)).get_content() == TEXT_ZH
    # our parser sanitises what it reads: quotes go
    assert [a.filename for a in parse_message(raw).attachments] == [
        "协调申请表.docx",
        "odd name.ics",
    ]


def test_cr_lf_in_a_value_cannot_start_a_header() -> None:
    line = wire.header_line("In-Reply-To", "<a@x>\r\nBcc: victim@example.com")
    assert line.count("\r\n") == 1 and line.endswith("\r\n")
    name = wire.address_line("To", [Person("a@example.com", "Eve\r\nBcc: victim@example.com")])
    message = _read(name.encode() + b"\r\nbody\r\n")
    assert message["Bcc"] is None
