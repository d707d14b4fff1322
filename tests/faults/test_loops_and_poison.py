"""Bad senders and bad mail with ``mailflow run`` running: auto-responders that ignore RFC 3834
answer every error reply (at most one error reply per sender per rule per day, then silence),
and a message that crashes the parser (filed as failed with its reason; the next is handled)."""

from __future__ import annotations

import time
import uuid

import pytest
from harness import Mailflow
from mailbuilder import REQUEST_FORM_ZH, message
from sqlalchemy import select

from mailflow.models import InboundMessage

pytestmark = pytest.mark.servers

RESPONDERS = {"zhang.wei@example.com": "张伟", "ma.chao@example.com": "马超"}


def out_of_office(to_us: object, address: str) -> bytes:
    """What a careless vacation responder sends back: no Auto-Submitted, no list headers."""
    return message(
        sender=(RESPONDERS[address], address),
        subject=f"回复：{to_us['Subject']}",
        text="您好，我正在休假，12月10日回来，期间邮件不能及时处理。",
        headers={"In-Reply-To": to_us["Message-ID"]},
        message_id=f"<{uuid.uuid4().hex}@client.example.com>",
    )


def test_auto_responders_get_one_error_reply_a_day(mailflow_sqlite: Mailflow) -> None:
    flow = mailflow_sqlite
    flow.start_daemon()
    for address, name in RESPONDERS.items():
        flow.deliver(
            message(
                sender=(name, address),
                subject="请问怎么申请",
                text="你好，请问跨部门协调怎么申请？",
            )
        )
    answered = 0
    deadline = time.monotonic() + 25
    while time.monotonic() < deadline:  # the responders answer whatever mailflow sends them
        for envelope in flow.envelopes()[answered:]:
            for address in RESPONDERS:
                if address in envelope.rcpt_tos:
                    flow.deliver(out_of_office(envelope.message(), address))
        answered = len(flow.envelopes())
        time.sleep(0.5)
    assert flow.stop_daemon() == 0
    for address in RESPONDERS:
        assert len(flow.sent_to(address)) == 1, address  # then silence
    with flow.session() as session:
        verdicts = sorted(m.verdict for m in session.scalars(select(InboundMessage)))
    assert verdicts == ["form_rejected"] * 4  # two questions, two vacation notices: all recorded


def test_a_poison_message_is_filed_and_the_next_handled(mailflow_sqlite: Mailflow) -> None:
    flow = mailflow_sqlite
    flow.start_daemon()
    nesting = b"".join(
        b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i)
        for i in range(1000)
    )
    flow.deliver(
        b"From: =?utf-8?b?5byg5Lyf?= <zhang.wei@example.com>\r\nTo: coordination@example.com\r\n"
        b"Subject: poison\r\nMessage-ID: <poison-1@client>\r\nMIME-Version: 1.0\r\n" + nesting
    )
    flow.deliver(
        message(sender=("张伟", "zhang.wei@example.com"), subject="申请", text=REQUEST_FORM_ZH)
    )
    flow.wait_for_mail(4)
    assert flow.stop_daemon() == 0
    assert flow.imap.count("mailflow.failed") == 1 and flow.imap.count("mailflow.processed") == 1
    with flow.session() as session:
        poison = session.scalars(
            select(InboundMessage).where(InboundMessage.message_id == "<poison-1@client>")
        ).one()
    assert poison.folder == "failed" and "nested too deeply" in poison.reason
    assert sorted(m["X-Mailflow-Kind"] for m in flow.sent()) == [
        "mail_not_processed",
        "request_ack",
        "request_notice",
        "request_notice",
    ]
