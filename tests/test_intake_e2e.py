"""Stage 1 end to end: forms mailed to a real Dovecot mailbox, ``mailflow run --once``, real SMTP.

Each form is acknowledged once (requester, CC the requesting department's head and
supervisor), each involved department's head and contacts are notified with the deadline,
the archive gets a BCC, and nothing is ever answered twice.
"""

from __future__ import annotations

import datetime as dt

import pytest
from harness import Mailflow, html_of, text_of
from mailbuilder import REQUEST_FORM_EN, REQUEST_FORM_ZH, fill_docx, message
from sqlalchemy import select

from mailflow.calendar import WorkCalendar
from mailflow.config import Duration
from mailflow.forms import blank_request_form_docx
from mailflow.models import InboundMessage, OutboxMessage, Request

pytestmark = pytest.mark.servers

REQUESTER = ("张伟", "zhang.wei@example.com")
ARCHIVE = "archive@example.com"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# Characters outside GB2312 (镕, 喆) that Foxmail still sends under a gb2312 label, as GBK.
# ☑ is not in GBK either: people on such clients tick with √ or ■.
GBK_FORM = REQUEST_FORM_ZH.replace("王芳", "朱镕喆").replace("☑重要", "√重要")
# 㐀 (U+3400) needs a four-byte GB18030 sequence.
GB18030_FORM = REQUEST_FORM_ZH.replace("需协调双方资源", "需协调双方资源（含㐀号机房）")

OUTLOOK_HTML = """<html xmlns:o="urn:schemas-microsoft-com:office:office"><head>
<meta http-equiv=Content-Type content="text/html; charset=utf-8"></head><body lang=ZH-CN>
<div class=WordSection1><p class=MsoNormal><span lang=ZH-CN>各位好，申请表如下：</span></p>
<table class=MsoTableGrid border=1 cellspacing=0 cellpadding=0>
<tr><td width=120><p class=MsoNormal><span lang=ZH-CN>申请部门</span></p></td>
<td width=200><p class=MsoNormal><span lang=ZH-CN>市场部</span></p></td>
<td width=120><p class=MsoNormal><span lang=ZH-CN>申请日期</span></p></td>
<td width=200><p class=MsoNormal>2026-11-27</p></td></tr>
<tr><td><p class=MsoNormal><span lang=ZH-CN>需求背景</span></p></td>
<td colspan=3><p class=MsoNormal><span lang=ZH-CN>因Q3季度市场推广活动需产品部提供技术支持。</span></p></td></tr>
<tr><td><p class=MsoNormal><span lang=ZH-CN>涉及部门</span></p></td>
<td colspan=3><p class=MsoNormal><span lang=ZH-CN>产品部、技术支持部</span></p></td></tr>
<tr><td><p class=MsoNormal><span lang=ZH-CN>期望目标</span></p></td>
<td colspan=3><p class=MsoNormal><span lang=ZH-CN>确定技术支持人员名单及交付时间</span></p></td></tr>
<tr><td><p class=MsoNormal><span lang=ZH-CN>紧急程度</span></p></td>
<td colspan=3><p class=MsoNormal><span lang=ZH-CN>□紧急（24小时内响应）■重要（3个工作日内响应）
□常规（1周内响应）</span></p></td></tr>
<tr><td><p class=MsoNormal><span lang=ZH-CN>附件材料</span></p></td>
<td colspan=3><p class=MsoNormal><span lang=ZH-CN>无</span></p></td></tr>
</table><p class=MsoNormal><o:p>&nbsp;</o:p></p></div></body></html>"""


def form_docx() -> bytes:
    return fill_docx(
        blank_request_form_docx("zh"),
        [
            ("申请部门", "市场部"),
            ("申请日期", "2026-11-27"),
            ("需求背景", "因Q3季度市场推广活动需产品部提供技术支持。"),
            ("涉及部门", "产品部、技术支持部"),
            ("期望目标", "确定技术支持人员名单及交付时间"),
            ("附件材料", "无"),
            ("发起部门负责人签字", "王芳"),
            ("日期", "2026-11-27"),
        ],
        tick="重要",
    )


FORMS = {
    "gbk-base64-foxmail": lambda: message(
        sender=REQUESTER, subject="跨部门协调申请：Q3推广技术支持", text=GBK_FORM, charset="gb2312"
    ),
    "gb18030-base64": lambda: message(
        sender=REQUESTER,
        subject="跨部门协调申请：Q3推广技术支持",
        text=GB18030_FORM,
        charset="gb18030",
    ),
    "utf8-quoted-printable": lambda: message(
        sender=REQUESTER, subject="跨部门协调申请", text=REQUEST_FORM_ZH, cte="quoted-printable"
    ),
    "html-only-outlook": lambda: message(sender=REQUESTER, subject="协调申请", html=OUTLOOK_HTML),
    "docx-attachment": lambda: message(
        sender=REQUESTER,
        subject="协调申请（见附件）",
        text="各位好，申请表见附件。",
        attachments=[("跨部门沟通协调需求申请表.docx", DOCX, form_docx())],
    ),
}


def recipients_of(flow: Mailflow, kind: str) -> list[set[str]]:
    return [set(m.rcpt_tos) for m in flow.envelopes() if m.message()["X-Mailflow-Kind"] == kind]


@pytest.mark.parametrize("variant", list(FORMS))
def test_each_form_variant_is_acknowledged_once(mailflow: Mailflow, variant: str) -> None:
    mailflow.deliver(FORMS[variant]())
    mailflow.run_once()

    sent = mailflow.sent()
    kinds = sorted(m["X-Mailflow-Kind"] for m in sent)
    assert kinds == ["request_ack", "request_notice", "request_notice"], mailflow.log()[-2000:]
    ack = next(m for m in sent if m["X-Mailflow-Kind"] == "request_ack")
    with mailflow.session() as session:
        request = session.scalars(select(Request)).one()
        number = request.number
        assert request.urgency == "important"
        assert [d.department for d in request.departments] == ["产品部", "技术支持部"]
        expected = WorkCalendar().add(request.received_at, Duration("3 workdays", workdays=3))
        assert request.reply_deadline == expected
        local_deadline = request.reply_deadline.astimezone(WorkCalendar().tz)
    assert number.startswith(f"REQ-{dt.date.today().year}-")
    assert f"[{number}]" in ack["Subject"]
    assert ack["To"].addresses[0].addr_spec == "zhang.wei@example.com"
    assert {a.addr_spec for a in ack["Cc"].addresses} == {
        "wang.fang@example.com",
        "vp.sales@example.com",
    }
    assert ack["Auto-Submitted"] == "auto-replied"
    assert ack["In-Reply-To"]
    deadline_text = f"{local_deadline.month}月{local_deadline.day}日"
    assert deadline_text in text_of(ack) and deadline_text in html_of(ack)

    notices = recipients_of(mailflow, "request_notice")
    assert {"chen.jie@example.com", "liu.yang@example.com", ARCHIVE} in notices
    assert {"huang.lei@example.com", "zhou.min@example.com", ARCHIVE} in notices
    every_recipient = set().union(*[set(m.rcpt_tos) for m in mailflow.envelopes()])
    assert "ma.chao@example.com" not in every_recipient  # a plain member is not mailed
    notice = next(m for m in sent if m["X-Mailflow-Kind"] == "request_notice")
    assert "确定技术支持人员名单及交付时间" in text_of(notice)
    assert notice["Auto-Submitted"] == "auto-generated"
    assert all(ARCHIVE in m.rcpt_tos for m in mailflow.envelopes())
    assert all("archive" not in m.message().get("Cc", "") for m in mailflow.envelopes())

    mailflow.run_once()
    assert len(mailflow.sent()) == 3
    assert mailflow.imap.count("INBOX") == 0
    assert mailflow.imap.count("mailflow.processed") == 1


def test_chinese_text_survives_the_charset(mailflow_sqlite: Mailflow) -> None:
    flow = mailflow_sqlite
    flow.deliver(FORMS["gbk-base64-foxmail"]())
    flow.deliver(FORMS["gb18030-base64"]())
    flow.run_once()
    with flow.session() as session:
        requests = session.scalars(select(Request).order_by(Request.id)).all()
        assert requests[0].signed_by == "朱镕喆"
        assert "㐀号机房" in requests[1].background


def test_english_form_gets_english_mail_and_department_language(mailflow_sqlite: Mailflow) -> None:
    flow = mailflow_sqlite
    form = REQUEST_FORM_EN.replace("Product, Technical Support", "Product, Finance")
    flow.deliver(
        message(sender=("Zhang Wei", "zhang.wei@example.com"), subject="Request", text=form)
    )
    flow.run_once()
    sent = {m["X-Mailflow-Kind"] + ":" + m["To"].addresses[0].addr_spec: m for m in flow.sent()}
    ack = sent["request_ack:zhang.wei@example.com"]
    assert ack["Subject"].split("]")[1].strip().startswith("Request received")
    assert "has been received and registered as" in text_of(ack)
    finance = sent["request_notice:alice.smith@example.com"]  # Finance is configured in English
    assert "Please confirm" in finance["Subject"]
    product = sent["request_notice:chen.jie@example.com"]  # Product keeps the default, Chinese
    assert "请协助确认" in product["Subject"]


def test_invalid_form_gets_one_reply_listing_every_problem(mailflow: Mailflow) -> None:
    form = (
        REQUEST_FORM_ZH.replace("产品部、技术支持部", "产品研发部、技术支持部")
        .replace("期望目标：确定技术支持人员名单及交付时间\n", "")
        .replace("☑重要", "□重要")
    )
    mailflow.deliver(message(sender=REQUESTER, subject="申请", text=form))
    mailflow.run_once()
    mailflow.run_once()

    (reply,) = mailflow.sent()
    assert reply["X-Mailflow-Kind"] == "form_rejected"
    assert "REQ-" not in reply["Subject"] and reply["X-Mailflow-Case"] is None
    body = text_of(reply)
    assert "「期望目标」未填写" in body
    assert "产品研发部" in body and "产品部" in body
    assert "「紧急程度」无法识别" in body
    assert "申请部门：" in body  # the blank form to copy
    attachment = next(reply.iter_attachments())
    assert attachment.get_filename().endswith(".docx")
    with mailflow.session() as session:
        assert session.scalars(select(Request)).all() == []
        inbound = session.scalars(select(InboundMessage)).one()
        assert inbound.verdict == "form_rejected"


def test_mail_without_a_form_is_answered_with_a_blank_form(mailflow_sqlite: Mailflow) -> None:
    flow = mailflow_sqlite
    flow.deliver(message(sender=REQUESTER, subject="你好", text="请问跨部门协调怎么申请？"))
    flow.run_once()
    (reply,) = flow.sent()
    assert "没有找到《跨部门沟通协调需求申请表》" in text_of(reply)


AUTOMATIC = {
    "auto-reply": dict(headers={"Auto-Submitted": "auto-replied"}, subject="自动回复：休假中"),
    "outlook-ooo": dict(
        headers={"X-Auto-Response-Suppress": "All"}, subject="Automatic reply: away"
    ),
    "list": dict(
        headers={"List-Id": "<all.example.com>", "Precedence": "list"}, subject="全员通知"
    ),
    "bulk": dict(headers={"Precedence": "bulk"}, subject="Newsletter"),
    "empty-return-path": dict(headers={"Return-Path": "<>"}, subject="Notice"),
}


def bounce() -> bytes:
    return (
        b"From: Mail Delivery System <MAILER-DAEMON@example.com>\r\n"
        b"To: coordination@example.com\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        b"Message-ID: <bounce-1@example.com>\r\nDate: Fri, 27 Nov 2026 10:00:00 +0800\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nThis is the mail system. Delivery failed.\r\n"
        b"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.com\r\n\r\n"
        b"Final-Recipient: rfc822; nobody@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--b--\r\n"
    )


def test_automatic_mail_and_strangers_get_no_reply(mailflow: Mailflow) -> None:
    for name, spec in AUTOMATIC.items():
        mailflow.deliver(message(sender=REQUESTER, text=f"{name}\n" + REQUEST_FORM_ZH, **spec))
    mailflow.deliver(bounce())
    mailflow.deliver(
        message(
            sender=("Mallory", "mallory@evil.example.net"), subject="申请", text=REQUEST_FORM_ZH
        )
    )
    mailflow.deliver(
        message(
            sender=("跨部门协调中心", "coordination@example.com"),
            subject="loop",
            text=REQUEST_FORM_ZH,
        )
    )
    mailflow.run_once()

    assert mailflow.sent() == []
    assert mailflow.imap.count("INBOX") == 0
    assert mailflow.imap.count("mailflow.processed") == len(AUTOMATIC) + 3
    with mailflow.session() as session:
        verdicts = sorted(m.verdict for m in session.scalars(select(InboundMessage)))
        assert verdicts == ["automatic"] * (len(AUTOMATIC) + 2) + ["unknown_sender"]
        assert session.scalars(select(Request)).all() == []


def test_duplicate_delivery_of_one_message_id(mailflow: Mailflow) -> None:
    raw = FORMS["utf8-quoted-printable"]()
    mailflow.deliver(raw)
    mailflow.deliver(raw)
    mailflow.run_once()
    mailflow.deliver(raw)  # delivered again later
    mailflow.run_once()
    assert len(mailflow.sent()) == 3
    assert mailflow.imap.count("INBOX") == 0
    assert mailflow.imap.count("mailflow.processed") == 3  # kept, never deleted
    with mailflow.session() as session:
        assert len(session.scalars(select(InboundMessage)).all()) == 1


def test_restart_between_commit_and_move(mailflow: Mailflow) -> None:
    mailflow.deliver(FORMS["utf8-quoted-printable"]())
    crashed = mailflow.run_once(check=False, env={"MAILFLOW_FAILPOINTS": "ingest.after_commit"})
    assert crashed.returncode == -9
    assert mailflow.imap.count("INBOX") == 1  # committed, not yet moved
    assert mailflow.sent() == []
    mailflow.run_once()
    assert len(mailflow.sent()) == 3
    assert mailflow.imap.count("INBOX") == 0
    mailflow.run_once()
    assert len(mailflow.sent()) == 3


def test_sigkill_of_the_daemon_between_fetch_and_commit(mailflow: Mailflow) -> None:
    daemon = mailflow.start_daemon(env={"MAILFLOW_FAILPOINTS": "ingest.before_commit"})
    mailflow.deliver(FORMS["utf8-quoted-printable"]())
    assert daemon.wait(timeout=30) == -9
    with mailflow.session() as session:
        assert session.scalars(select(InboundMessage)).all() == []
    assert mailflow.imap.count("INBOX") == 1

    mailflow.start_daemon()
    mailflow.wait_for_mail(3)
    assert mailflow.stop_daemon() == 0
    assert len(mailflow.sent()) == 3
    assert mailflow.imap.count("INBOX") == 0


def test_unparsable_and_oversized_mail_is_filed_as_failed_and_the_next_is_handled(
    mailflow_sqlite: Mailflow,
) -> None:
    flow = mailflow_sqlite
    flow.write_config(mailbox='max_message_size = "100KB"')
    nested = b"".join(
        b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i)
        for i in range(1000)
    )
    flow.deliver(
        b"From: =?utf-8?b?5byg5Lyf?= <zhang.wei@example.com>\r\nTo: coordination@example.com\r\n"
        b"Subject: nested\r\nMessage-ID: <nested-1@client>\r\nMIME-Version: 1.0\r\n" + nested
    )
    big = message(
        sender=REQUESTER,
        subject="大附件",
        text=REQUEST_FORM_ZH,
        attachments=[("big.bin", "application/octet-stream", b"x" * 200_000)],
    )
    flow.deliver(big)
    flow.deliver(FORMS["utf8-quoted-printable"]())
    flow.run_once()

    assert flow.imap.count("INBOX") == 0
    assert flow.imap.count("mailflow.failed") == 2
    assert flow.imap.count("mailflow.processed") == 1
    kinds = sorted(m["X-Mailflow-Kind"] for m in flow.sent())
    assert kinds == [
        "mail_not_processed",
        "mail_not_processed",
        "request_ack",
        "request_notice",
        "request_notice",
    ]
    too_large = next(
        m
        for m in flow.sent()
        if "MB" in text_of(m) and m["X-Mailflow-Kind"] == "mail_not_processed"
    )
    assert "0.1 MB" in text_of(too_large) or "0.2 MB" in text_of(too_large)
    with flow.session() as session:
        failed = {
            m.verdict: m
            for m in session.scalars(
                select(InboundMessage).where(InboundMessage.folder == "failed")
            )
        }
        assert set(failed) == {"too_large", "unreadable"}
        assert failed["too_large"].reason.startswith(str(failed["too_large"].size))


def test_outbox_rows_carry_message_id_and_dedupe_key(mailflow_sqlite: Mailflow) -> None:
    flow = mailflow_sqlite
    flow.deliver(FORMS["utf8-quoted-printable"]())
    flow.run_once()
    with flow.session() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        number = session.scalars(select(Request.number)).one()
    assert [r.dedupe_key for r in rows] == [
        f"request_ack:{number}",
        f"request_notice:{number}:产品部",
        f"request_notice:{number}:技术支持部",
    ]
    assert {r.message_id for r in rows} == {m["Message-ID"] for m in flow.sent()}
    assert all(r.status == "sent" for r in rows)
