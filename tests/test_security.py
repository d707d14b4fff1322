"""Security through real mail: no one acts for someone else, forged senders are not trusted,
hostile values stay inert (HTML, headers, file names), oversize and zip bombs are refused,
reply tokens are unguessable, XOAUTH2 logins work against real servers."""

from __future__ import annotations

import base64
import io
import time
import zipfile

import pytest
from harness import Mailflow, html_of, text_of
from mailbuilder import REQUEST_FORM_ZH, message
from sqlalchemy import select

from mailflow.models import InboundMessage, ReplyToken, StoredAttachment
from mailflow.outbox import new_reply_token

pytestmark = pytest.mark.servers

REQUESTER = ("张伟", "zhang.wei@example.com")
SCRIPT = "<script>alert('x')</script>"


def test_script_in_form_and_name_arrives_inert(mailflow_sqlite: Mailflow) -> None:
    flow = mailflow_sqlite
    form = REQUEST_FORM_ZH.replace("确定技术支持人员名单及交付时间", f"确定名单{SCRIPT}")
    flow.deliver(
        message(sender=(f"张伟{SCRIPT}", REQUESTER[1]), subject=f"申请{SCRIPT}", text=form)
    )
    flow.run_once()
    for mail in flow.sent():
        html = html_of(mail)
        assert "<script>" not in html
        if "确定名单" in text_of(mail):
            assert "&lt;script&gt;" in html


def test_crlf_in_values_cannot_inject_headers(mailflow_sqlite: Mailflow) -> None:
    flow = mailflow_sqlite
    name = base64.b64encode("张伟\r\nBcc: thief@evil.example".encode()).decode()
    subject = base64.b64encode("申请\r\nBcc: thief@evil.example".encode()).decode()
    raw = (
        message(sender=REQUESTER, subject="x", text="你好")
        .replace(b"Subject: x", f"Subject: =?utf-8?b?{subject}?=".encode())
        .replace(
            b"From: =?utf-8?",
            f"From: =?utf-8?b?{name}?= <zhang.wei@example.com>\r\nX-Old-From: =?utf-8?".encode(),
        )
    )
    flow.deliver(raw)
    flow.run_once()
    (reply,) = flow.envelopes()
    assert "thief@evil.example" not in reply.rcpt_tos
    head = reply.content.split(b"\r\n\r\n", 1)[0]
    assert (
        b"\r\nBcc:" not in head
        and b"thief" not in head.replace(b"\r\n ", b" ").split(b"Subject:")[0]
    )


def test_attachment_names_sanitised_and_limits_applied(mailflow_sqlite: Mailflow) -> None:
    flow = mailflow_sqlite
    flow.write_config(mailbox='max_attachments = 2\nmax_attachment_size = "20KB"')
    attachments = [
        ("../../etc/passwd", "text/plain", b"root:x:0:0"),
        ("CON.txt", "text/plain", b"reserved"),
        ("big.bin", "application/octet-stream", b"x" * 50_000),
        ("third.txt", "text/plain", b"one too many"),
    ]
    flow.deliver(
        message(sender=REQUESTER, subject="申请", text=REQUEST_FORM_ZH, attachments=attachments)
    )
    flow.run_once()
    with flow.session() as session:
        names = sorted(a.filename for a in session.scalars(select(StoredAttachment)))
    assert names == ["_CON.txt", "passwd"]
    ack = next(m for m in flow.sent() if m["X-Mailflow-Kind"] == "request_ack")
    assert "big.bin" in text_of(ack) and "third.txt" in text_of(ack)


def zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(
            "word/document.xml", b"<w:document>" + b"A" * 300_000_000 + b"</w:document>"
        )
    return buffer.getvalue()


def test_docx_zip_bomb_is_refused_cheaply(mailflow_sqlite: Mailflow) -> None:
    flow = mailflow_sqlite
    docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    bomb = zip_bomb()
    assert len(bomb) < 1_000_000
    flow.deliver(
        message(
            sender=REQUESTER,
            subject="申请",
            text=REQUEST_FORM_ZH,
            attachments=[("表.docx", docx, bomb)],
        )
    )
    started = time.monotonic()
    flow.run_once()
    assert time.monotonic() - started < 20
    kinds = sorted(m["X-Mailflow-Kind"] for m in flow.sent())
    assert kinds == [
        "request_ack",
        "request_notice",
        "request_notice",
    ]  # the text form is read instead


def test_acceptance_only_from_the_requester(mailflow_sqlite: Mailflow) -> None:
    from mailbuilder import reply
    from scenario import CHEN, HUANG, LI, last, to_tracking

    flow = mailflow_sqlite
    _, confirmed = to_tracking(flow)
    for person, code in ((CHEN, "A1"), (HUANG, "A2"), (LI, "A3")):
        flow.deliver(reply(confirmed, person, f"{code}：已完成"))
    flow.run_once()
    ask = last(flow, "acceptance_request")
    flow.deliver(
        reply(ask, CHEN, "验收通过")
    )  # the head of an involved department, not the requester
    flow.run_once()
    assert "acceptance_report" not in [m["X-Mailflow-Kind"] for m in flow.sent()]
    refusal = last(flow, "acceptance_unclear")
    assert [a.addr_spec for a in refusal["To"].addresses] == [CHEN[1]]


def test_authentication_results_of_our_own_server(mailflow_sqlite: Mailflow) -> None:
    flow = mailflow_sqlite
    flow.write_config(mailbox='trust_authentication_results = true\nauthserv_id = "mx.example.com"')
    forged = {
        "Authentication-Results": "mx.example.com; spf=pass smtp.mailfrom=x; dmarc=fail header.from=example.com"
    }
    theirs = {"Authentication-Results": "mx.evil.example; dmarc=fail header.from=example.com"}
    flow.deliver(message(sender=REQUESTER, subject="伪造", text=REQUEST_FORM_ZH, headers=forged))
    flow.deliver(
        message(sender=REQUESTER, subject="他人的结果", text=REQUEST_FORM_ZH, headers=theirs)
    )
    flow.run_once()
    with flow.session() as session:
        verdicts = {
            m.subject: (m.verdict, m.route) for m in session.scalars(select(InboundMessage))
        }
    assert verdicts["伪造"][0] == "unknown_sender" and "dmarc=fail" in verdicts["伪造"][1]
    assert verdicts["他人的结果"][0] == "request_created"  # another server's header proves nothing
    assert len(flow.sent()) == 3


def test_reply_tokens_are_unguessable(mailflow_sqlite: Mailflow) -> None:
    tokens = {new_reply_token() for _ in range(1000)}
    assert len(tokens) == 1000
    assert all(
        len(t) == 26 and t.isalnum() and t == t.lower() for t in tokens
    )  # 130 bits of base32
    flow = mailflow_sqlite
    flow.deliver(message(sender=REQUESTER, subject="申请", text=REQUEST_FORM_ZH))
    flow.run_once()
    with flow.session() as session:
        stored = session.scalars(select(ReplyToken.token)).all()
    assert len(stored) == 3 and all(len(t) == 26 for t in stored)


def test_xoauth2_login_to_imap_and_smtp(mailflow_sqlite: Mailflow, tmp_path) -> None:
    flow = mailflow_sqlite
    token_file = tmp_path / "token.json"
    token_file.write_text('{"access_token": "secret", "expires_in": 3599}', encoding="utf-8")
    flow.smtp.accept_tokens({"smtp-token-1"})
    flow.write_config(
        mailbox=f'auth = "xoauth2"\noauth_token_file = "{token_file}"',
        smtp='username = "coordination@example.com"\nauth = "xoauth2"\noauth_token_command = "printf smtp-token-1"',
    )
    flow.deliver(message(sender=REQUESTER, subject="申请", text=REQUEST_FORM_ZH))
    flow.run_once()
    assert len(flow.sent()) == 3
    # one login per connection the batch went over (smtp.connections, 2 by default)
    assert set(flow.smtp.oauth_logins) == {("coordination@example.com", "smtp-token-1")}
    checks = flow.cli("check").stdout
    assert "ok    imap:" in checks and "ok    smtp:" in checks
