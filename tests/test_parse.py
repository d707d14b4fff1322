"""mailflow.parse on real-client fixtures (tests/data/mail) and on the shared corpora."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import mailbox
import re
from pathlib import Path

import pytest
from corpora import CORPORA
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailflow.parse import (
    Address,
    Attachment,
    ParsedMail,
    ParseError,
    html_to_text,
    parse_message,
    sanitize_filename,
)

MAIL = Path(__file__).resolve().parent / "data" / "mail"

CST = dt.timezone(dt.timedelta(hours=8))


def load(name: str) -> ParsedMail:
    return parse_message((MAIL / name).read_bytes())


def message(headers: str, body: bytes = b"body\r\n") -> bytes:
    """A raw message: header lines (LF here, CRLF on the wire; raw UTF-8 allowed) and a body."""
    return headers.strip("\n").replace("\n", "\r\n").encode() + b"\r\n\r\n" + body


def b_word(text: str, label: str, codec: str) -> str:
    return f"=?{label}?B?{base64.b64encode(text.encode(codec)).decode()}?="


# --- real-client fixtures ---


def test_foxmail_gb2312_label_with_gbk_only_characters() -> None:
    mail = load("foxmail_gb2312_label_gbk_body.eml")
    assert mail.subject == "采购申请：镕铸件（王喆审批）"
    assert mail.sender == Address("张镕", "zhang.rong@corp.example.cn")
    assert mail.to == [Address("协调中心", "coordination@corp.example.cn")]
    assert mail.cc == [Address("王喆", "wang.zhe@corp.example.cn")]
    assert (
        mail.text
        == "各位好：\n\n附件是镕铸件的采购申请，请王喆审批。\n预算：12,800 元\n\n张镕\n采购部\n"
    )
    assert mail.html == ""
    assert mail.message_id == "<202501140912302138621@corp.example.cn>"
    assert mail.dedupe_key == "mid:<202501140912302138621@corp.example.cn>"
    assert mail.date == dt.datetime(2025, 1, 14, 9, 12, 30, tzinfo=CST)
    assert mail.header("X-Mailer") == "Foxmail 7.2.25.228[cn]"
    assert mail.header("content-type") == 'text/plain; charset="gb2312"'  # as written
    assert mail.automatic == ""
    assert mail.attachments == []
    assert mail.defects == []
    assert mail.size == (MAIL / "foxmail_gb2312_label_gbk_body.eml").stat().st_size


def test_gb18030_four_byte_characters_in_header_and_8bit_body() -> None:
    mail = load("netease_gb18030_4byte.eml")
    assert mail.subject == "会议改期：𠮷野家"
    assert mail.sender == Address("李娜", "li.na@163.com")
    assert mail.text == "周五会议室改到 3 楼。\n𠮷野家的外卖已订好，每份 €12（约 ¥93）。\n😀\n"
    assert mail.defects == []


def test_utf8_quoted_printable_reply_with_threading_headers() -> None:
    mail = load("gmail_utf8_quoted_printable.eml")
    assert mail.subject == "Re: [REQ-2025-0007] 采购申请"
    assert mail.sender == Address("赵敏", "zhao.min@corp.example.cn")
    assert mail.to == [Address("Coordination", "coordination+t0k3n@corp.example.cn")]
    assert mail.in_reply_to == ["<mailflow.REQ-2025-0007.1@corp.example.cn>"]
    assert mail.references == ["<mailflow.REQ-2025-0007.1@corp.example.cn>"]
    assert mail.text == (
        "王经理：\n\n关于 REQ-2025-0007，财务部的意见如下：\n1. 预算上限 50 万元；\n"
        "2. 付款分两期。\n\n> 原文：请各部门在周三前回复。\n\n赵敏\n"
    )
    assert '<blockquote class="gmail_quote">原文：请各部门在周三前回复。</blockquote>' in mail.html
    assert mail.dedupe_key == "mid:<CAKx9qP3vZ+Vt5s7nGm2Yx4H1Q=Jk2Lw@mail.gmail.com>"


def test_outlook_html_only_gb2312_body_becomes_text() -> None:
    mail = load("outlook_html_only_table.eml")
    assert mail.subject == "答复: [REQ-2025-0009] 设备验收"
    assert mail.sender == Address("陈工", "chen.gong@corp.example.cn")
    assert mail.header("thread-topic") == "[REQ-2025-0009] 设备验收"
    assert mail.date == dt.datetime(2025, 1, 21, 1, 15, 42, tzinfo=dt.UTC)
    assert mail.text == (
        "各位同事：\n"
        "\n"
        "本周设备验收安排如下，请喆 工确认：\n"
        "日期\t设备\t负责人\n"
        "1月21日\t镕铸炉 #2\t王喆\n"
        "1月23日\t空压机 & 冷干机\t张镕\n"
        "\n"
        "谢谢！\n"
        "设备部  陈工\n"
        "\n"
        "发件人: coordination@corp.example.cn <coordination@corp.example.cn>\n"
        "发送时间: 2025年1月20日 9:00\n"
        "主题: [REQ-2025-0009] 设备验收\n"
        "请设备部安排验收。"
    )
    assert "<table" in mail.html and "镕铸炉" in mail.html
    assert mail.defects == []


def test_qqmail_reply_gb2312_subject_with_gbk_bytes_and_quote_marker() -> None:
    mail = load("qqmail_reply_gb18030.eml")
    assert mail.subject == "回复：[REQ-2025-0011] 王喆已确认方案"
    assert mail.sender == Address("王喆", "10001@qq.com")
    assert mail.in_reply_to == ["<mailflow.REQ-2025-0011.1@corp.example.cn>"]
    assert mail.text.startswith("同意，按第二方案执行。\n\n\n------------------ 原始邮件 ----")
    assert html_to_text(mail.html) == (
        "同意，按第二方案执行。\n"
        "\n"
        "------------------ 原始邮件 ------------------\n"
        '发件人: "协调中心"<coordination@corp.example.cn>;\n'
        "发送时间: 2025年1月22日(星期三) 上午9:30\n"
        '收件人: "王喆"<10001@qq.com>;\n'
        "主题: [REQ-2025-0011] 请确认方案\n"
        "\n"
        "请确认方案。"
    )
    assert mail.automatic == ""


def test_chinese_attachment_names_in_every_encoding() -> None:
    mail = load("thunderbird_chinese_attachment_names.eml")
    assert [(a.filename, a.content_type) for a in mail.attachments] == [
        ("logo.png", "image/png"),
        (
            "2025年第一季度镕铸件采购计划（王喆审核版）.docx",  # RFC 2231, UTF-8, continuations
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (
            "喆的报价单.xlsx",  # RFC 2231 labelled gb2312, GBK bytes
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        ("王喆的说明.txt", "application/octet-stream"),  # RFC 2047 gb2312 with GBK bytes
        ("验收记录.pdf", "application/pdf"),  # raw 8-bit GBK
        ("passwd", "text/plain"),  # "../../etc/passwd"
    ]
    data = {a.filename: a.data for a in mail.attachments}
    assert data["logo.png"].startswith(b"\x89PNG\r\n\x1a\n")
    assert (
        data["2025年第一季度镕铸件采购计划（王喆审核版）.docx"]
        == b"PK\x03\x04" + bytes(range(256)) * 4
    )
    assert data["王喆的说明.txt"] == "说明：见附件。".encode("gbk")
    assert data["验收记录.pdf"].startswith(b"%PDF-1.4\n")
    assert data["passwd"] == b"root:x:0:0:root:/root:/bin/bash"
    assert mail.text == "附件见下。"  # no text/plain part: derived from the HTML
    assert mail.subject == "附件：采购计划"


def test_outlook_auto_reply_is_automatic() -> None:
    mail = load("outlook_auto_reply.eml")
    assert mail.automatic == "Auto-Submitted: auto-generated"
    assert mail.subject == "自动答复: [REQ-2025-0012] 请确认预算"
    assert mail.in_reply_to == ["<mailflow.REQ-2025-0012.1@corp.example.cn>"]
    assert mail.text == (
        "您好，我于 1 月 24 日至 2 月 5 日休假，期间邮件回复可能延迟。"
        "紧急事务请联系王喆（分机 8021）。\n"
    )


def test_dsn_bounce_is_automatic_and_keeps_the_returned_headers() -> None:
    mail = load("postfix_dsn_bounce.eml")
    assert mail.automatic == "Auto-Submitted: auto-replied"
    assert mail.sender == Address("Mail Delivery System", "mailer-daemon@smtp.corp.example.cn")
    assert mail.text.startswith("This is the mail system at host smtp.corp.example.cn.\n")
    assert "Recipient address rejected: User unknown" in mail.text
    [returned] = mail.attachments
    assert returned.content_type == "text/rfc822-headers"
    assert returned.filename == "attachment.txt"
    assert b"Message-ID: <mailflow.REQ-2025-0013.2@corp.example.cn>" in returned.data


def test_mailing_list_mail_is_automatic() -> None:
    mail = load("mailman_list.eml")
    assert mail.automatic == "Precedence: list"
    assert mail.subject == "[All-staff] 春节放假安排"
    assert mail.header("list-id") == "全体员工 <all-staff.lists.corp.example.cn>"
    assert mail.text == "春节放假安排：1月28日至2月4日放假调休，共8天。\n"


def test_mail_without_message_id_is_deduplicated_by_content_hash() -> None:
    raw = (MAIL / "scanner_no_message_id.eml").read_bytes()
    mail = parse_message(raw)
    assert mail.message_id == ""
    assert mail.dedupe_key == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert mail.text == "Scanned document attached to the job log.\n"
    assert mail.defects == []


def test_raw_8bit_headers_utf8_and_gbk() -> None:
    mail = load("raw_8bit_headers.eml")
    assert mail.subject == "镕铸车间停电通知"  # raw GBK
    assert mail.sender == Address("运维值班", "ops@corp.example.cn")  # raw UTF-8
    assert mail.text == "明天 8:00-12:00 镕铸车间停电检修。\n"  # 8-bit body, no charset
    assert mail.defects == []


# --- charsets and headers ---


def test_encoded_words_split_inside_a_character_are_joined_before_decoding() -> None:
    data = "王喆".encode("gbk")
    first, second = base64.b64encode(data[:3]).decode(), base64.b64encode(data[3:]).decode()
    raw = message(f"From: a@example.cn\nSubject: =?gb2312?B?{first}?=\n =?GB2312?B?{second}?= ok")
    mail = parse_message(raw)
    assert mail.subject == "王喆 ok"
    assert mail.defects == []


def test_q_encoded_words_and_literal_text_around_them() -> None:
    raw = message(
        "From: a@example.cn\n"
        "Subject: Re:=?utf-8?Q?_=E4=BC=9A=E8=AE=AE?= [REQ-1] =?utf-8?q?=E5=BB=B6=E6=9C=9F?="
    )
    assert parse_message(raw).subject == "Re: 会议 [REQ-1] 延期"


def test_headers_keep_every_occurrence_decoded() -> None:
    raw = message(
        "Received: from a by b; Mon, 1 Jan 2024 00:00:00 +0000\n"
        "Received: from c by d; Mon, 1 Jan 2024 00:00:01 +0000\n"
        "From: a@example.cn\n"
        f"X-Note: {b_word('第一', 'gbk', 'gbk')}\n"
        f"X-Note: {b_word('第二', 'utf-8', 'utf-8')}"
    )
    mail = parse_message(raw)
    assert len(mail.headers["received"]) == 2
    assert mail.headers["x-note"] == ["第一", "第二"]
    assert mail.header("X-NOTE") == "第一"
    assert mail.header("missing") == ""


def test_decoded_header_cannot_inject_line_breaks() -> None:
    raw = message("From: a@example.cn\nSubject: =?utf-8?Q?a=0D=0ABcc:_x@evil.example?=")
    assert parse_message(raw).subject == "a  Bcc: x@evil.example"


def test_unknown_charset_label_is_a_defect_and_falls_back() -> None:
    body = "预算已批".encode("gbk")
    raw = message(
        "From: a@example.cn\nContent-Type: text/plain; charset=x-klingon\n"
        "Content-Transfer-Encoding: 8bit",
        body,
    )
    mail = parse_message(raw)
    assert mail.text == "预算已批"
    assert "part 0: unknown charset 'x-klingon'" in mail.defects


def test_declared_utf8_holding_gbk_falls_back_to_gb18030_with_a_defect() -> None:
    raw = message(
        "From: a@example.cn\nContent-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: 8bit",
        "同意".encode("gbk"),
    )
    mail = parse_message(raw)
    assert mail.text == "同意"
    assert "part 0: text not valid utf-8; decoded as gb18030" in mail.defects


def test_undecodable_body_is_replaced_and_reported() -> None:
    raw = message(
        "From: a@example.cn\nContent-Type: text/plain; charset=gb2312\n"
        "Content-Transfer-Encoding: 8bit",
        "同意".encode("gbk") + b"\xff\xff",
    )
    mail = parse_message(raw)
    assert mail.text == "同意\ufffd\ufffd"
    assert mail.defects == ["part 0: text not valid gb18030; replaced undecodable bytes"]


@pytest.mark.parametrize(
    ("body", "text"),
    [("收到，谢谢".encode(), "收到，谢谢"), ("收到，谢谢".encode("gbk"), "收到，谢谢")],
    ids=["utf-8", "gbk"],
)
def test_8bit_body_without_charset(body: bytes, text: str) -> None:
    raw = message("From: a@example.cn\nContent-Transfer-Encoding: 8bit", body)
    mail = parse_message(raw)
    assert mail.text == text
    assert mail.defects == []


def test_iso_2022_jp_body_is_decoded_not_passed_through() -> None:
    raw = message(
        "From: a@example.cn\nContent-Type: text/plain; charset=iso-2022-jp\n"
        "Content-Transfer-Encoding: 7bit",
        "会議".encode("iso-2022-jp"),
    )
    assert parse_message(raw).text == "会議"


def test_calendar_part_without_a_name_is_kept_as_an_attachment() -> None:
    raw = message(
        'From: a@example.cn\nContent-Type: multipart/alternative; boundary="b"',
        b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nmeeting\r\n"
        b"--b\r\nContent-Type: text/calendar; charset=utf-8; method=REQUEST\r\n\r\n"
        b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n--b--\r\n",
    )
    mail = parse_message(raw)
    assert mail.text == "meeting"
    assert mail.attachments == [
        Attachment("attachment.ics", "text/calendar", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR")
    ]


def test_unnamed_attachment_gets_a_fixed_name() -> None:
    raw = message(
        'From: a@example.cn\nContent-Type: multipart/mixed; boundary="b"',
        b"--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
        b"--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment\r\n\r\nlog\r\n"
        b"--b--\r\n",
    )
    mail = parse_message(raw)
    assert [(a.filename, a.data) for a in mail.attachments] == [("attachment.txt", b"log")]
    assert parse_message(raw) == mail


def test_forwarded_message_text_is_not_the_body() -> None:
    raw = message(
        'From: a@example.cn\nContent-Type: multipart/mixed; boundary="b"',
        b"--b\r\nContent-Type: text/plain\r\n\r\nFYI\r\n"
        b"--b\r\nContent-Type: message/rfc822\r\n"
        b'Content-Disposition: attachment; filename="old.eml"\r\n\r\n'
        b"From: x@example.cn\r\nSubject: old\r\n\r\nold text\r\n--b--\r\n",
    )
    mail = parse_message(raw)
    assert mail.text == "FYI"
    [forwarded] = mail.attachments
    assert (forwarded.filename, forwarded.content_type) == ("old.eml", "message/rfc822")
    assert b"old text" in forwarded.data


# --- addresses, ids, dates ---


@pytest.mark.parametrize(
    "from_header",
    ["From: garbage", "From: <>", "From: @@@, ;;", "From: =?utf-8?B?5byg?="],
)
def test_garbage_from_gives_no_sender_and_a_defect(from_header: str) -> None:
    mail = parse_message(message(f"{from_header}\nSubject: x"))
    assert mail.sender is None
    assert any(d.startswith("no valid address in From") for d in mail.defects)


def test_missing_from() -> None:
    mail = parse_message(message("Subject: x"))
    assert mail.sender is None
    assert "no From header" in mail.defects


def test_display_name_with_encoded_comma_stays_one_address() -> None:
    name = b_word("王, 喆", "utf-8", "utf-8")
    mail = parse_message(message(f"From: {name} <Wang.Zhe@Example.CN>\nTo: a@x.cn, B@X.cn, a@x.cn"))
    assert mail.sender == Address("王, 喆", "wang.zhe@example.cn")
    assert mail.to == [Address("", "a@x.cn"), Address("", "b@x.cn")]


def test_whole_mailbox_inside_an_encoded_word_is_recovered() -> None:
    mail = parse_message(message("From: =?unknown-8bit?q?=22test=22_=3Ctest=40test.com=3E?="))
    assert mail.sender == Address("test", "test@test.com")


@pytest.mark.parametrize(
    ("header", "message_id", "by_id"),
    [
        ("Message-ID: <AbC.123@Host.Example>", "<AbC.123@Host.Example>", True),
        ("Message-ID:   <abc@host>  (comment)", "<abc@host>", True),
        ("Message-ID: abc@host", "<abc@host>", True),
        ("Message-ID:\n <abc.defgh\n ijk@host>", "<abc.defghijk@host>", True),
        (
            "Message-ID: <1716131995.32143.nane.testing.net>",
            "<1716131995.32143.nane.testing.net>",
            False,
        ),
        ("Message-ID: <>", "", False),
        ("Message-ID:", "", False),
    ],
)
def test_message_id_and_dedupe_key(header: str, message_id: str, by_id: bool) -> None:
    raw = message(f"From: a@example.cn\n{header}")
    mail = parse_message(raw)
    assert mail.message_id == message_id
    expected = "mid:" + message_id if by_id else "sha256:" + hashlib.sha256(raw).hexdigest()
    assert mail.dedupe_key == expected
    assert by_id or any(d.startswith("unusable Message-ID") for d in mail.defects)


def test_in_reply_to_and_references_in_order_without_duplicates() -> None:
    raw = message(
        "From: a@example.cn\n"
        "In-Reply-To: <b@x> (Zhang's message of Mon, 1 Jan 2024)\n"
        "References: <a@x>\n <b@x>\t<a@x> <c@x>"
    )
    mail = parse_message(raw)
    assert mail.in_reply_to == ["<b@x>"]
    assert mail.references == ["<a@x>", "<b@x>", "<c@x>"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Wed, 22 Jan 2025 10:02:08 +0800", dt.datetime(2025, 1, 22, 10, 2, 8, tzinfo=CST)),
        ("22 Jan 2025 10:02:08 -0000", dt.datetime(2025, 1, 22, 10, 2, 8, tzinfo=dt.UTC)),
        ("Wed, 22 Jan 2025 10:02:08 +0800 (CST)", dt.datetime(2025, 1, 22, 2, 2, 8, tzinfo=dt.UTC)),
    ],
)
def test_date_is_timezone_aware(value: str, expected: dt.datetime) -> None:
    mail = parse_message(message(f"From: a@example.cn\nDate: {value}"))
    assert mail.date == expected
    assert mail.date is not None and mail.date.tzinfo is not None


def test_unparsable_date_is_none_with_a_defect() -> None:
    mail = parse_message(message("From: a@example.cn\nDate: 2025年1月22日 星期三"))
    assert mail.date is None
    assert any(d.startswith("unparsable Date header") for d in mail.defects)


# --- automatic mail ---


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ("Auto-Submitted: auto-replied (vacation)", "Auto-Submitted: auto-replied (vacation)"),
        ("Return-Path: <>", "Return-Path: <> (null sender)"),
        ("Precedence: bulk", "Precedence: bulk"),
        ("Precedence: junk", "Precedence: junk"),
        ("List-Unsubscribe: <mailto:leave@lists.example.cn>", "List-Unsubscribe header present"),
        ("X-Autoreply: yes", "X-Autoreply header present"),
        ("X-Autorespond: on", "X-Autorespond header present"),
        ("X-Auto-Response-Suppress: All", "X-Auto-Response-Suppress header present"),
        ("X-Autogenerated: Reply", "X-Autogenerated header present"),
        ("X-AutoReply-From: b@example.cn", "X-AutoReply-From header present"),
        (
            "Content-Type: multipart/report; report-type=delivery-status; boundary=b",
            "multipart/report (delivery status report)",
        ),
        ("Subject: 自动回复: 请确认", "Subject starts with '自动回复'"),
        ("Subject: Automatic reply: budget", "Subject starts with 'Automatic reply'"),
        ("Subject: Out of Office AutoReply: x", "Subject starts with 'Out of Office AutoReply'"),
        ("Subject: Undeliverable: [REQ-1]", "Subject starts with 'Undeliverable'"),
        (
            "Subject: Delivery Status Notification (Failure)",
            "Subject starts with 'Delivery Status Notification'",
        ),
        ("Subject: 系统退信/Systems bounce", "Subject starts with '系统退信'"),
        ("Subject: 退信：无法投递", "Subject starts with '退信'"),
    ],
)
def test_automatic_signals(extra: str, reason: str) -> None:
    assert parse_message(message(f"From: a@example.cn\n{extra}")).automatic == reason


@pytest.mark.parametrize("sender", ["MAILER-DAEMON@mx.example.cn", "postmaster@example.cn"])
def test_daemon_senders_are_automatic(sender: str) -> None:
    mail = parse_message(message(f"From: {sender}"))
    assert mail.automatic == f"From: {sender.split('@')[0].lower()}"


@pytest.mark.parametrize(
    "extra",
    [
        "Auto-Submitted: no",
        "Precedence: first-class",
        "Return-Path: <a@example.cn>",
        "Subject: Out of office party on Friday",
        "Subject: Re: 自动回复: 请确认",
        "Subject: Automatically generated reports are late",
        "Subject: 退信原因分析",
        "Subject: Auto (fleet) purchase request",
        "Subject: Auto/Moto report",
        "Subject: Undeliverable parcels at the gate",
    ],
)
def test_human_mail_is_not_automatic(extra: str) -> None:
    assert parse_message(message(f"From: a@example.cn\n{extra}")).automatic == ""


def test_header_signal_wins_over_subject() -> None:
    raw = message("From: a@example.cn\nSubject: 自动回复: x\nPrecedence: bulk")
    assert parse_message(raw).automatic == "Precedence: bulk"


# --- failure and robustness ---


@pytest.mark.parametrize("raw", [b"", b"\r\n\r\n  \n"])
def test_empty_input_is_a_parse_error(raw: bytes) -> None:
    with pytest.raises(ParseError, match="empty"):
        parse_message(raw)


def test_deeply_nested_multipart_is_a_parse_error() -> None:
    depth = 2000
    raw = b"From: a@example.cn\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n"
    for level in range(1, depth):
        raw += b"--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n" % (level - 1, level)
    raw += b"--b%d\r\n\r\nx\r\n" % (depth - 1) + b"".join(
        b"--b%d--\r\n" % level for level in reversed(range(depth))
    )
    with pytest.raises(ParseError, match="nested too deeply"):
        parse_message(raw)


def test_bom_and_junk_before_the_headers_are_skipped() -> None:
    raw = b"\xef\xbb\xbfjunk line from a broken export\r\n continued\r\n" + message(
        "From: a@example.cn\nSubject: ok"
    )
    mail = parse_message(raw)
    assert mail.subject == "ok"
    assert mail.sender == Address("", "a@example.cn")
    assert mail.size == len(raw)


FIXTURES = sorted(MAIL.glob("*.eml"))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_never_raise(raw: bytes) -> None:
    try:
        mail = parse_message(raw)
    except ParseError:
        return
    assert mail.size == len(raw)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(FIXTURES),
    st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.binary(max_size=4)), max_size=8),
    st.floats(0.05, 1),
)
def test_mangled_fixtures_never_raise(
    path: Path, edits: list[tuple[float, bytes]], keep: float
) -> None:
    raw = path.read_bytes()
    for where, replacement in edits:
        at = int(where * len(raw))
        raw = raw[:at] + replacement + raw[at + 1 :]
    raw = raw[: max(1, int(len(raw) * keep))]
    try:
        mail = parse_message(raw)
    except ParseError:
        return
    assert mail == parse_message(raw)


@settings(max_examples=200, deadline=None)
@given(
    st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=40),
    st.lists(st.integers(1, 12), min_size=1, max_size=6),
)
def test_gb_encoded_word_chunks_round_trip(text: str, cuts: list[int]) -> None:
    """GB18030 bytes under a gb2312 label, cut into words anywhere, decode back to the text."""
    data, words = text.encode("gb18030"), []
    for size in [*cuts, len(text.encode("gb18030"))]:
        if data:
            words.append(f"=?gb2312?B?{base64.b64encode(data[:size]).decode()}?=")
            data = data[size:]
    mail = parse_message(message("From: a@example.cn\nSubject: " + "\n ".join(words)))
    assert mail.subject == text.strip()
    assert not any("replaced" in d for d in mail.defects)


# --- html_to_text ---


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>one</p><p>two</p>", "one\ntwo"),
        ("<div>a<br>b<br><br><br><br>c</div>", "a\nb\n\nc"),
        ("<p>a&amp;b&nbsp;&lt;c&gt; &#x4e2d;&#25991;</p>", "a&b <c> 中文"),
        ("<p>  spaced\n  out   <b>bold</b>  text </p>", "spaced out bold text"),
        ("<style>p {color: red}</style><script>alert(1)</script><p>shown</p>", "shown"),
        ("<html><head><title>t</title></head><body>b</body></html>", "b"),
        (
            "<table><tr><th>日期</th><th>事项</th></tr><tr><td>1月</td><td>验收</td></tr></table>",
            "日期\t事项\n1月\t验收",
        ),
        (
            "<p>reply</p><blockquote><p>q1</p><p>&nbsp;</p><blockquote>q2</blockquote></blockquote>",
            "reply\n> q1\n>\n> > q2",
        ),
        ("<blockquote>line1<br>line2</blockquote>after", "> line1\n> line2\nafter"),
        ('<?xml version="1.0" encoding="gbk"?><p>声明</p>', "声明"),
        ("<pre>  x = 1\n    y</pre>", "  x = 1\n    y"),
        ("<p>a</p><!-- hidden --><p>&nbsp;</p><p>&nbsp;</p><p>b</p>", "a\n\nb"),
        ("", ""),
        ("<!-- only a comment -->", ""),
    ],
)
def test_html_to_text(html: str, text: str) -> None:
    assert html_to_text(html) == text


def test_html_to_text_keeps_foxmail_quote_marker() -> None:
    html = (
        "<div>好的</div><div><br></div>"
        '<div style="font-size: 12px;">'
        "------------------&nbsp;Original&nbsp;------------------</div>"
        "<div><b>From:</b>&nbsp;x</div>"
    )
    assert html_to_text(html) == "好的\n\n------------------ Original ------------------\nFrom: x"


def test_html_to_text_layout_table_keeps_lines() -> None:
    html = "<table><tr><td><p>第一段</p><p>第二段</p></td><td>侧栏</td></tr></table>"
    assert html_to_text(html) == "第一段\n第二段\n侧栏"


def test_html_to_text_survives_deep_nesting() -> None:
    assert html_to_text("<blockquote>" * 400 + "深" + "</blockquote>" * 400).endswith("深")


# --- sanitize_filename ---


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../x", "x"),
        ("..\\..\\Windows\\evil.exe", "evil.exe"),
        ("/etc/passwd", "passwd"),
        ("报价单<最终版>?.xlsx", "报价单最终版.xlsx"),
        ('a:b*c|d"e', "abcde"),
        ("a\x00b\x07c.txt", "abc.txt"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("...hidden", "hidden"),
        (" . trailing. . ", "trailing"),
        ("CON", "_CON"),
        ("con.txt", "_con.txt"),
        ("Com1.tar.gz", "_Com1.tar.gz"),
        ("LPT9", "_LPT9"),
        ("COM10.txt", "COM10.txt"),
        ("nul ", "_nul"),
        ("", "attachment"),
        ("../", "attachment"),
        ("..", "attachment"),
        ("采购计划（王喆审核版）.docx", "采购计划（王喆审核版）.docx"),
    ],
)
def test_sanitize_filename(name: str, safe: str) -> None:
    assert sanitize_filename(name) == safe


def test_sanitize_filename_caps_length_keeping_extension() -> None:
    assert sanitize_filename("镕" * 200 + ".docx") == "镕" * 145 + ".docx"
    assert sanitize_filename("x" * 300) == "x" * 150


@given(st.text(max_size=400))
def test_sanitize_filename_properties(name: str) -> None:
    safe = sanitize_filename(name)
    assert 0 < len(safe) <= 150
    assert not set(safe) & set('/\\:*?"<>|\x00')
    assert not safe.startswith(".") and safe == safe.strip() and not safe.endswith(".")
    assert safe.split(".", 1)[0].lower() not in {"con", "prn", "aux", "nul"}
    assert sanitize_filename(safe) == safe


# --- shared corpora ---

CORPUS_GLOBS = {
    "cpython-test_email": ["Lib/test/test_email/data/msg_*.txt"],
    "mikel-mail": ["spec/fixtures/**/*.eml"],
    "apache-james-mime4j": [
        "core/src/test/resources/testmsgs/*.msg",
        "core/src/test/resources/mimetools-testmsgs/*.msg",
        "mbox/src/test/resources/test-1/mbox.rlug-*",
    ],
    "spamscope-mail-parser": ["tests/mails/*"],
    "demisto-parse-emails": ["parse_emails/tests/test_data/*.eml"],
}
MBOXES = ["apache-james-mime4j/mbox/src/test/resources/test-1/mbox.rlug"]
# Corpus messages that are expected to raise ParseError, and why.
EXPECTED_PARSE_ERRORS = {
    "demisto-parse-emails/parse_emails/tests/test_data/no_content.eml": "an empty file",
}


def corpus_cases() -> list[pytest.param]:
    cases = [
        pytest.param(path, None, id=str(path.relative_to(CORPORA)))
        for folder, patterns in CORPUS_GLOBS.items()
        for pattern in patterns
        for path in sorted((CORPORA / folder).glob(pattern))
        if path.is_file()
    ]
    for name in MBOXES:
        if (CORPORA / name).is_file():
            count = len(mailbox.mbox(CORPORA / name, create=False))
            cases += [pytest.param(CORPORA / name, i, id=f"{name}[{i}]") for i in range(count)]
    return cases


def corpus_bytes(path: Path, index: int | None) -> bytes:
    if index is None:
        return path.read_bytes()
    box = mailbox.mbox(path, create=False)
    return box.get_bytes(box.keys()[index])


@pytest.mark.parametrize(("path", "index"), corpus_cases() if CORPORA.is_dir() else [])
def test_corpus_message(path: Path, index: int | None) -> None:
    raw = corpus_bytes(path, index)
    name = str(path.relative_to(CORPORA))
    try:
        mail = parse_message(raw)
    except ParseError:
        assert name in EXPECTED_PARSE_ERRORS, f"unexpected ParseError for {name}"
        return
    assert name not in EXPECTED_PARSE_ERRORS
    assert parse_message(raw) == mail  # deterministic (no random attachment names)
    assert mail.size == len(raw)
    assert mail.dedupe_key.startswith(("mid:<", "sha256:"))
    assert mail.date is None or mail.date.tzinfo is not None
    for value in (mail.subject, mail.text, mail.html, *(a.filename for a in mail.attachments)):
        value.encode("utf-8")  # real text: no lone surrogates
    assert all(sanitize_filename(a.filename) == a.filename for a in mail.attachments)


def test_corpora_present_or_skipped() -> None:
    if not CORPORA.is_dir():
        pytest.skip(f"no corpora at {CORPORA}")
    assert len(corpus_cases()) > 250


DEMISTO = CORPORA / "demisto-parse-emails"


def demisto_cases() -> dict[str, dict[str, object]]:
    expectations = DEMISTO / "expectations.json"
    if not expectations.is_file():
        return {}
    return json.loads(expectations.read_text(encoding="utf-8"))["cases"]


def demisto_score(mail: ParsedMail, expected: dict[str, object]) -> dict[str, bool]:
    """Which of the upstream expectations ``mail`` meets (keys this parser can answer)."""

    def same_text(value: object) -> bool:  # upstream strips the final newline; we use "\n"
        return mail.text.rstrip("\n") == re.sub(r"\r\n?", "\n", str(value))

    attached = [
        a
        for a in mail.attachments
        if a.content_type == "message/rfc822" or a.filename.endswith(".eml")
    ]
    checks = {
        "text": same_text,
        "subject": lambda v: mail.subject == v,
        "raw_subject_bytes_as_utf8": lambda v: mail.subject == v,
        "from": lambda v: mail.sender is not None and mail.sender.address == v,
        "from_addr": lambda v: mail.sender is not None and mail.sender.address == v,
        "from_header_decoded": lambda v: mail.header("from") == v,
        "to": lambda v: ", ".join(a.address for a in mail.to) == v,
        "bcc": lambda v: ", ".join(re.findall(r"<([^>]+)>", mail.header("bcc"))) == v,
        "html": lambda v: mail.html.strip() == v,
        "has_text": lambda v: bool(mail.text.strip()) == v,
        "has_html": lambda v: bool(mail.html.strip()) == v,
        "attachments": lambda v: [a.filename for a in mail.attachments] == v,
        "attached_messages": lambda v: len(attached) == v,
    }
    return {key: check(expected[key]) for key, check in checks.items() if key in expected}


CHINESE = sorted(name for name in demisto_cases() if "chinese" in name)


@pytest.mark.parametrize("name", CHINESE)
def test_demisto_chinese_expectations(name: str) -> None:
    expected = demisto_cases()[name]
    score = demisto_score(parse_message((DEMISTO / name).read_bytes()), expected)
    assert score and all(score.values()), score


def test_demisto_expectations_score() -> None:
    cases = demisto_cases()
    if not cases:
        pytest.skip("demisto corpus missing")
    failed = {}
    for name, expected in cases.items():
        if "expect_error" in expected:
            with pytest.raises(ParseError):
                parse_message((DEMISTO / name).read_bytes())
            continue
        score = demisto_score(parse_message((DEMISTO / name).read_bytes()), expected)
        failed.update({f"{name}:{key}": ok for key, ok in score.items() if not ok})
    # A second Content-Type header whose boundary is the real one is not recovered.
    assert set(failed) <= {
        "parse_emails/tests/test_data/multipart-defective.eml:has_text",
        "parse_emails/tests/test_data/multipart-defective.eml:has_html",
    }
