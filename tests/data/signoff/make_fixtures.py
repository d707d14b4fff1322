"""Writes the sign-off reply fixtures (``*.eml``) and ``expected.json`` in this folder.

Usage: ``python tests/data/signoff/make_fixtures.py`` (from anywhere; output is byte-stable:
dates, Message-IDs and MIME boundaries are fixed, so regenerating rewrites the same bytes).

Each fixture is an attendee's reply to the distributed minutes of REQ-2026-0042, laid out the
way one mail client writes replies (quote header, charset, transfer encoding, HTML or text),
and every one quotes the minutes, which say "请各参会人于1个工作日内回复「确认」" and
"如有异议请直接回复说明": a reader that looked at quoted text would be fooled. ``FIXTURES``
lists (client layout, the attendee's own text, expected verdict); files are named
``<client>-<nn>.eml``, numbered per client in the order listed.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import random
import sys
import types
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))  # tests/, for mailbuilder

import mailbuilder  # noqa: E402

SIG, OBJ, AMB = "signed", "objection", "ambiguous"
CST = dt.timezone(dt.timedelta(hours=8))
SENT = dt.datetime(2026, 12, 3, 15, 2, tzinfo=CST)  # when mailflow distributed the minutes
MINUTES_ID = "<mailflow.REQ-2026-0042.minutes.1@example.com>"
COORDINATION = ("跨部门协调中心", "coordination@example.com")
SUBJECT_ZH = "[REQ-2026-0042] 会议纪要：新品上市物流与宣传协同方案"
SUBJECT_EN = "[REQ-2026-0042] Minutes: logistics and campaign plan for the product launch"
ASK_ZH = "请各参会人于1个工作日内回复「确认」；如有异议请直接回复说明。"

MINUTES_ZH = f"""\
各位好：

现将 2026-12-02 跨部门协调会议纪要（REQ-2026-0042）发送如下。
{ASK_ZH}

会议主题：新品上市物流与宣传协同方案
会议时间：2026-12-02 14:00-15:30
会议地点：3号会议室
主持人：王芳（市场部）
参会人员：王芳、张伟、李娜、赵敏、刘强
记录人：李娜

讨论要点与共识：
1. 物流部确认12月5日前完成华东仓备货。
2. 宣传物料由市场部统一定稿，各部门无异议。
3. 各部门同意按上述时间节点推进；如对分工有异议，请在回复中写明。

行动项：
A12 物流部 张伟 华东仓备货 2026-12-05 完成标准：入库单签字确认
A13 市场部 李娜 宣传物料定稿 2026-12-10 完成标准：终稿邮件确认

请回复确认，谢谢！OK 即可。

跨部门协调中心
"""

MINUTES_EN = f"""\
Hi all,

Below are the minutes of the coordination meeting of 2026-12-02 (REQ-2026-0042).
Please reply "confirmed" within 1 working day; if you disagree or have an objection,
reply with the item number. Reply OK / agree if everything is correct.
{ASK_ZH}

Topic: Logistics and campaign plan for the product launch
Time: 2026-12-02 14:00-15:30
Place: Meeting room 3
Host: Wang Fang (Marketing)
Attendees: Wang Fang, Zhang Wei, Li Na, Zhao Min, Liu Qiang
Recorder: Li Na

Discussion and agreements:
1. Logistics confirmed the east warehouse will be stocked by Dec 5.
2. Marketing finalises the campaign material; no objection from other departments.
3. All departments agreed to the dates above.

Action items:
A12 Logistics Zhang Wei Stock the east warehouse 2026-12-05
A13 Marketing Li Na Final campaign material 2026-12-10

Coordination Center
"""

ATTENDEES = [
    ("张伟", "zhangwei@example.com"),
    ("李娜", "lina@example.com"),
    ("赵敏", "zhaomin@example.com"),
    ("刘强", "liuqiang@example.com"),
]


@dataclass(frozen=True)
class Reply:
    sender: tuple[str, str]  # the attendee (name, address)
    text: str  # what the attendee wrote above (or below, or between) the quote
    variant: int  # which of the client's layouts, charsets and encodings
    number: int  # position in FIXTURES: numbers the Message-ID and the date


Layout = Callable[[Reply], bytes]


def _quoted(text: str, prefix: str = "> ") -> str:
    return "\n".join((prefix + line).rstrip() for line in text.rstrip("\n").split("\n"))


def _html_lines(text: str) -> str:
    """Text as client HTML: one <div> per line, <div><br></div> for blank lines."""
    return "".join(
        f"<div>{html.escape(line)}</div>" if line.strip() else "<div><br></div>"
        for line in text.rstrip("\n").split("\n")
    )


def _br_lines(text: str) -> str:
    return "<br>".join(html.escape(line) for line in text.rstrip("\n").split("\n"))


def _above(text: str) -> str:
    """The attendee's text and the blank line before the quote (just a line when empty)."""
    return f"{text}\n\n" if text else "\n"


def _send(reply: Reply, subject: str, headers: dict[str, str], **body: str) -> bytes:
    threading = {"In-Reply-To": MINUTES_ID, "References": MINUTES_ID}
    return mailbuilder.message(
        sender=reply.sender,
        subject=subject,
        headers={**threading, **headers},
        date=SENT + dt.timedelta(hours=1, minutes=reply.number),
        message_id=f"<signoff.{reply.number}@client.example.com>",
        **body,
    )


# --- client layouts ---


def outlookzh(reply: Reply) -> bytes:
    """Outlook (zh-CN), text part: "-----原始邮件-----", a rule, or a bare header block."""
    marker = ("-----原始邮件-----\n", "________________________________\n", "")[reply.variant % 3]
    name, address = reply.sender
    body = (
        f"{_above(reply.text)}{marker}"
        f"发件人: {COORDINATION[0]} <{COORDINATION[1]}>\n"
        "发送时间: 2026年12月3日 15:02\n"
        f"收件人: {name} <{address}>; 李娜 <lina@example.com>\n"
        "抄送: 行政部 <admin@example.com>\n"
        f"主题: {SUBJECT_ZH}\n\n{MINUTES_ZH}"
    )
    charset, cte = (("gb2312", "base64"), ("utf-8", "quoted-printable"))[reply.variant % 2]
    headers = {
        "X-Mailer": "Microsoft Outlook 16.0",
        "Thread-Topic": mailbuilder.header_words(SUBJECT_ZH, charset),
    }
    return _send(reply, f"答复: {SUBJECT_ZH}", headers, text=body, charset=charset, cte=cte)


def _mso_paragraphs(text: str, span: bool) -> str:
    """Word's HTML: one <p class=MsoNormal> per line, <o:p>&nbsp;</o:p> for blank ones."""
    paragraphs = []
    for line in text.rstrip("\n").split("\n"):
        content = html.escape(line) or "<o:p>&nbsp;</o:p>"
        if span:
            content = f"<span lang=EN-US>{content}</span>"
        paragraphs.append(f"<p class=MsoNormal>{content}</p>")
    return "".join(paragraphs)


def outlookzh_html(reply: Reply) -> bytes:
    """Outlook (zh-CN), HTML only (Word markup): the header block sits under a top border."""
    name, address = reply.sender
    charset = ("gb2312", "utf-8")[reply.variant % 2]
    body = (
        '<html xmlns:o="urn:schemas-microsoft-com:office:office"><head>'
        f'<meta http-equiv=Content-Type content="text/html; charset={charset}">'
        "<style>p.MsoNormal{margin:0cm;font-size:10.5pt;}</style></head>"
        '<body lang=ZH-CN link="#0563C1"><div class=WordSection1>'
        f"{_mso_paragraphs(reply.text, span=True)}"
        "<p class=MsoNormal><span lang=EN-US><o:p>&nbsp;</o:p></span></p>"
        "<div style='border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm'>"
        "<p class=MsoNormal><b>发件人<span lang=EN-US>:</span></b><span lang=EN-US> "
        f"{COORDINATION[0]} &lt;{COORDINATION[1]}&gt; <br></span>"
        "<b>发送时间<span lang=EN-US>:</span></b><span lang=EN-US> 2026年12月3日 15:02<br></span>"
        "<b>收件人<span lang=EN-US>:</span></b><span lang=EN-US> "
        f"{name} &lt;{address}&gt;<br></span>"
        "<b>抄送<span lang=EN-US>:</span></b><span lang=EN-US> 行政部 &lt;admin@example.com&gt;"
        "<br></span>"
        f"<b>主题<span lang=EN-US>:</span></b><span lang=EN-US> {SUBJECT_ZH}</span></p></div>"
        "<p class=MsoNormal><o:p>&nbsp;</o:p></p>"
        f"{_mso_paragraphs(MINUTES_ZH, span=False)}</div></body></html>"
    )
    headers = {
        "X-Mailer": "Microsoft Outlook 16.0",
        "Thread-Topic": mailbuilder.header_words(SUBJECT_ZH, charset),
    }
    return _send(reply, f"答复: {SUBJECT_ZH}", headers, html=body, charset=charset, cte="base64")


def foxmail(reply: Reply) -> bytes:
    """Foxmail: GBK under a gb2312 label, base64; three quote styles by version."""
    name, address = reply.sender
    if reply.variant % 3 == 0:  # Foxmail 7.2: the address as signature, then a bare block
        quote = (
            f"\n\n\n{address}\n \n"
            f"From: {COORDINATION[0]}\nDate: 2026-12-03 15:02\nTo: {name}; 李娜\n"
            f"CC: 行政部\nSubject: {SUBJECT_ZH}\n{MINUTES_ZH}"
        )
    elif reply.variant % 3 == 1:
        quote = (
            "\n\n------------------ Original ------------------\n"
            f'From:  "{COORDINATION[0]}"<{COORDINATION[1]}>;\n'
            "Date:  Thu, Dec 3, 2026 03:02 PM\n"
            f'To:  "{name}"<{address}>;\n'
            f"Subject:  {SUBJECT_ZH}\n\n{MINUTES_ZH}"
        )
    else:
        quote = (
            "\n\n------------------ 原始邮件 ------------------\n"
            f'发件人: "{COORDINATION[0]}"<{COORDINATION[1]}>;\n'
            "发送时间: 2026年12月3日(星期四) 下午3:02\n"
            f'收件人: "{name}"<{address}>;\n'
            f"主题: {SUBJECT_ZH}\n\n{MINUTES_ZH}"
        )
    headers = {"X-Mailer": "Foxmail 7.2.25.228[cn]"}
    return _send(
        reply,
        f"回复：{SUBJECT_ZH}",
        headers,
        text=reply.text + quote,
        charset="gb2312",
        cte="base64",
    )


def _qq_quote_html(sender: tuple[str, str]) -> str:
    name, address = sender
    return (
        '<div style="font-size: 12px;font-family: Arial Narrow;padding:2px 0 2px 0;">'
        "------------------&nbsp;原始邮件&nbsp;------------------</div>"
        '<div style="font-size: 12px;background:#efefef;padding:8px;">'
        f'<div><b>发件人:</b>&nbsp;"{COORDINATION[0]}"&lt;{COORDINATION[1]}&gt;;</div>'
        "<div><b>发送时间:</b>&nbsp;2026年12月3日(星期四) 下午3:02</div>"
        f'<div><b>收件人:</b>&nbsp;"{name}"&lt;{address}&gt;;<wbr></div>'
        f"<div><b>主题:</b>&nbsp;{SUBJECT_ZH}</div></div><div><br></div>"
    )


def qqmail_html(reply: Reply) -> bytes:
    """QQ Mail web, HTML only: the 原始邮件 marker div, then the quoted mail as divs."""
    charset = ("gb18030", "utf-8")[reply.variant % 2]
    body = (
        f'<meta http-equiv="Content-Type" content="text/html; charset={charset.upper()}">'
        f"{_html_lines(reply.text)}<div><br></div><div><br></div>"
        f"{_qq_quote_html(reply.sender)}{_html_lines(MINUTES_ZH)}"
    )
    headers = {"X-Mailer": "QQMail 2.x", "X-QQ-Mailer": "QQMail 2.x"}
    return _send(reply, f"回复：{SUBJECT_ZH}", headers, html=body, charset=charset, cte="base64")


def qqmail(reply: Reply) -> bytes:
    """QQ Mail, text and HTML alternatives (the text part is the one read)."""
    name, address = reply.sender
    text = (
        f"{_above(reply.text)}\n------------------ 原始邮件 ------------------\n"
        f'发件人: "{COORDINATION[0]}"<{COORDINATION[1]}>;\n'
        "发送时间: 2026年12月3日(星期四) 下午3:02\n"
        f'收件人: "{name}"<{address}>;\n'
        f"主题: {SUBJECT_ZH}\n\n{MINUTES_ZH}"
    )
    body = (
        f"{_html_lines(reply.text)}<div><br></div>"
        f"{_qq_quote_html(reply.sender)}{_html_lines(MINUTES_ZH)}"
    )
    headers = {"X-Mailer": "QQMail 2.x"}
    return _send(
        reply,
        f"回复：{SUBJECT_ZH}",
        headers,
        text=text,
        html=body,
        charset="gb18030",
        cte="base64",
    )


NETEASE_MAILER = "Coremail Webmail Server Version XT5.0.14 build 20230109(dcb5de15)"


def netease(reply: Reply) -> bytes:
    """NetEase 163 web, text (GBK): blank lines, "在 … "X" <x> 写道：" and ">" lines."""
    text = (
        f"{reply.text}\n\n\n\n\n\n\n"
        f'在 2026-12-03 15:02:15，"{COORDINATION[0]}" <{COORDINATION[1]}> 写道：\n'
        f"{_quoted(MINUTES_ZH, '>')}\n"
    )
    cte = ("base64", "quoted-printable")[reply.variant % 2]
    headers = {"X-Mailer": NETEASE_MAILER}
    return _send(reply, f"Re:{SUBJECT_ZH}", headers, text=text, charset="gbk", cte=cte)


def netease_html(reply: Reply) -> bytes:
    """NetEase 163 web, HTML only: the quote header line, then <blockquote id=isReplyContent>."""
    body = (
        '<div style="line-height:1.7;color:#000000;font-size:14px;font-family:Arial">'
        f"{_html_lines(reply.text)}<br><br><br>"
        '<div style="position:relative;zoom:1"></div><div id="divNeteaseMailCard"></div><br>'
        f'在 2026-12-03 15:02:15，"{COORDINATION[0]}" &lt;{COORDINATION[1]}&gt; 写道：<br> '
        '<blockquote id="isReplyContent" style="PADDING-LEFT: 1ex; MARGIN: 0px 0px 0px 0.8ex; '
        f'BORDER-LEFT: #ccc 1px solid">{_br_lines(MINUTES_ZH)}</blockquote></div>'
    )
    headers = {"X-Mailer": NETEASE_MAILER}
    return _send(reply, f"Re:{SUBJECT_ZH}", headers, html=body, charset="gbk", cte="base64")


def netease_mobile(reply: Reply) -> bytes:
    """网易邮箱大师 (mobile): "---- 回复的原邮件 ----" and a | table | of fields."""
    name, address = reply.sender
    text = (
        f"{_above(reply.text)}发自网易邮箱大师\n\n---- 回复的原邮件 ----\n"
        f"| 发件人 | {COORDINATION[0]}<{COORDINATION[1]}> |\n"
        "| 日期 | 2026年12月03日 15:02 |\n"
        f"| 收件人 | {name}<{address}> |\n"
        f"| 主题 | {SUBJECT_ZH} |\n{MINUTES_ZH}"
    )
    headers = {"X-Mailer": "NetEase Mail Master"}
    return _send(reply, f"回复：{SUBJECT_ZH}", headers, text=text, charset="utf-8", cte="base64")


def exmail(reply: Reply) -> bytes:
    """Tencent Exmail: the QQ-style marker with full-width colons, or the newer bare block."""
    name, address = reply.sender
    if reply.variant % 2 == 0:
        quote = (
            "\n\n\n\n------------------ 原始邮件 ------------------\n"
            f'发件人："{COORDINATION[0]}"<{COORDINATION[1]}>;\n'
            "发送时间：2026年12月3日(星期四) 下午3:02\n"
            f'收件人："{name}"<{address}>;\n'
            '抄送："行政部"<admin@example.com>;\n'
            f"主题：{SUBJECT_ZH}\n\n{MINUTES_ZH}"
        )
    else:
        quote = (
            f"\n\n发件人：{COORDINATION[0]}\n日期：2026-12-03 15:02\n收件人：{name}\n"
            f"主题：{SUBJECT_ZH}\n\n{MINUTES_ZH}"
        )
    charset = ("gb18030", "utf-8")[reply.variant % 2]
    headers = {"X-Mailer": "Tencent Exmail"}
    return _send(
        reply,
        f"回复：{SUBJECT_ZH}",
        headers,
        text=reply.text + quote,
        charset=charset,
        cte="base64",
    )


def gmailzh(reply: Reply) -> bytes:
    """Gmail (zh-CN): "X <x> 于2026年12月3日周四 15:02写道：", text and HTML (or HTML only)."""
    header = f"{COORDINATION[0]} <{COORDINATION[1]}> 于2026年12月3日周四 15:02写道："
    text = f"{_above(reply.text)}{header}\n\n{_quoted(MINUTES_ZH)}\n"
    body = (
        f'<div dir="ltr">{_html_lines(reply.text)}</div><br><div class="gmail_quote">'
        f'<div dir="ltr" class="gmail_attr">{COORDINATION[0]} &lt;<a href="mailto:'
        f'{COORDINATION[1]}">{COORDINATION[1]}</a>&gt; 于2026年12月3日周四 15:02写道：<br></div>'
        '<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid '
        f'rgb(204,204,204);padding-left:1ex">{_br_lines(MINUTES_ZH)}</blockquote></div>'
    )
    parts = {"text": text, "html": body} if reply.variant % 2 == 0 else {"html": body}
    return _send(reply, f"Re: {SUBJECT_ZH}", {}, charset="utf-8", cte="quoted-printable", **parts)


def applemail(reply: Reply) -> bytes:
    """Apple Mail: iPhone text ("发自我的iPhone", quoted header), Mac text, or iPhone HTML."""
    header = f"在 2026年12月3日，15:02，{COORDINATION[0]} <{COORDINATION[1]}> 写道："
    if reply.variant % 3 == 2:
        body = (
            f'<html><body dir="auto">{_br_lines(reply.text)}<br><br><div dir="ltr">发自我的iPhone'
            f'</div><div dir="ltr"><br><blockquote type="cite">{html.escape(header)}<br><br>'
            f'</blockquote></div><blockquote type="cite"><div dir="ltr">{_br_lines(MINUTES_ZH)}'
            "</div></blockquote></body></html>"
        )
        parts = {"html": body}
    else:
        device = "发自我的iPhone\n\n" if reply.variant % 3 == 0 else ""
        quote = _quoted(f"{header}\n\n{MINUTES_ZH}")
        parts = {"text": f"{_above(reply.text)}{device}{quote}\n"}
    headers = {"X-Mailer": "iPhone Mail (22B91)"}
    return _send(
        reply, f"Re: {SUBJECT_ZH}", headers, charset="utf-8", cte="quoted-printable", **parts
    )


def outlooken(reply: Reply) -> bytes:
    """Outlook (en-US), text: a rule or "-----Original Message-----", From / Sent / To."""
    marker = ("________________________________", "-----Original Message-----")[reply.variant % 2]
    text = (
        f"{_above(reply.text)}{marker}\n"
        f"From: Coordination Center <{COORDINATION[1]}>\n"
        "Sent: Thursday, December 3, 2026 3:02 PM\n"
        f"To: {reply.sender[1]}\n"
        "Cc: Admin <admin@example.com>\n"
        f"Subject: {SUBJECT_EN}\n\n{MINUTES_EN}"
    )
    headers = {"X-Mailer": "Microsoft Outlook 16.0", "Thread-Topic": SUBJECT_EN}
    return _send(reply, f"RE: {SUBJECT_EN}", headers, text=text, charset="utf-8", cte="base64")


def outlooken_html(reply: Reply) -> bytes:
    """Outlook (en-US), HTML only: the reply, an <hr>, the From / Sent / To block in bold."""
    body = (
        '<html><body><div dir="ltr"><div style="font-family:Calibri,Arial;font-size:12pt">'
        f"{_html_lines(reply.text)}</div>"
        '<hr style="display:inline-block;width:98%" tabindex="-1"><div id="divRplyFwdMsg" '
        'dir="ltr"><font face="Calibri, sans-serif" style="font-size:11pt" color="#000000">'
        f"<b>From:</b> Coordination Center &lt;{COORDINATION[1]}&gt;<br>"
        "<b>Sent:</b> Thursday, December 3, 2026 3:02 PM<br>"
        f"<b>To:</b> {reply.sender[1]}<br>"
        f"<b>Subject:</b> {SUBJECT_EN}</font><div>&nbsp;</div></div>"
        f"<div>{_br_lines(MINUTES_EN)}</div></div></body></html>"
    )
    headers = {"X-Mailer": "Microsoft Outlook 16.0", "Thread-Topic": SUBJECT_EN}
    return _send(reply, f"RE: {SUBJECT_EN}", headers, html=body, charset="utf-8", cte="base64")


THUNDERBIRD_AGENT = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Thunderbird/128.5.0"


def thunderbird(reply: Reply) -> bytes:
    """Thunderbird: "On 12/3/26 15:02, X wrote:" top-, bottom- or inline-posted; zh locale."""
    layout = reply.variant % 4  # 0 top, 1 bottom, 2 inline, 3 zh locale (top)
    if layout == 3:
        head, minutes = f"在 2026/12/3 15:02, {COORDINATION[0]} 写道:", MINUTES_ZH
    else:
        head, minutes = "On 12/3/26 15:02, Coordination Center wrote:", MINUTES_EN
    if layout == 1:
        text = f"{head}\n{_quoted(minutes)}\n\n{reply.text}\n"
    elif layout == 2:  # under the line it answers
        before, _, after = minutes.partition(ASK_ZH + "\n")
        text = f"{head}\n{_quoted(before + ASK_ZH)}\n\n{reply.text}\n\n{_quoted(after)}\n"
    else:
        text = f"{_above(reply.text)}{head}\n{_quoted(minutes)}\n"
    headers = {"User-Agent": THUNDERBIRD_AGENT}
    return _send(reply, f"Re: {SUBJECT_EN}", headers, text=text, charset="utf-8", cte="base64")


# --- the fixtures: (layout, the attendee's own text, expected verdict) ---

FIXTURES: list[tuple[Layout, str, str]] = [
    # Outlook zh, text
    (outlookzh, "确认", SIG),
    (outlookzh, "王经理：\n\n确认，谢谢！\n\n张伟", SIG),
    (outlookzh, "同意\n\n---\n张伟\n物流部 | 经理\n电话：010-8888 0000", SIG),
    (outlookzh, "有异议：第3条的完成时间应为12月10日，会上已与物流部商定。", OBJ),
    (
        outlookzh,
        "王经理：\n\n我对第3条有异议，华东仓12月5日前无法完成备货，最早12月8日。\n\n谢谢\n张伟",
        OBJ,
    ),
    (outlookzh, "收到", AMB),
    (outlookzh, "", AMB),  # an empty reply over the quote
    (outlookzh, "确认，另外A12我们会提前一天完成。", AMB),  # more than a confirmation: not guessed
    (outlookzh, "确认第1、2条", AMB),  # a partial confirmation
    # Outlook zh, HTML only
    (outlookzh_html, "收到，无异议", SIG),
    (outlookzh_html, "已确认，谢谢各位", SIG),
    (outlookzh_html, "不能确认：A13 的截止日期与会上讨论的不一致。", OBJ),
    (outlookzh_html, "", AMB),
    (outlookzh_html, "确认收到，稍后回复意见。", AMB),
    # Foxmail, GBK under gb2312, base64
    (foxmail, "已确认", SIG),
    (foxmail, "好的，确认", SIG),
    (foxmail, "确认，辛苦了", SIG),
    (foxmail, "确认。\n\n物流部 张伟\n电话：010-8888 0000", SIG),
    (foxmail, "确认，但第3条有异议：华东仓备货需要到12月8日才能完成。", OBJ),
    (foxmail, "不同意", OBJ),
    (foxmail, "稍后回复", AMB),
    (foxmail, "无法确认", AMB),  # a negation without a reason
    (foxmail, "已收到，我明天确认。", AMB),
    # QQ Mail, HTML only (gb18030 / utf-8)
    (qqmail_html, "确认无误", SIG),
    (qqmail_html, "可以", SIG),
    (qqmail_html, "ＯＫ", SIG),
    (qqmail_html, "本人确认以上纪要内容无误。", SIG),
    (qqmail_html, "反对第2条的分工安排，物流部人手不足。", OBJ),
    (qqmail_html, "纪要第4条有误，会上定的是由市场部牵头，不是物流部。", OBJ),
    (qqmail_html, "我看一下", AMB),
    (qqmail_html, "同意？", AMB),
    (qqmail_html, "", AMB),
    # QQ Mail, text and HTML
    (qqmail, "👍", SIG),
    (qqmail, "没有反对意见，同意", SIG),
    (qqmail, "确认，有异议", AMB),  # yes and no at once, no details
    # NetEase 163, text (GBK)
    (netease, "同意", SIG),
    (netease, "没问题，同意", SIG),
    (netease, "不确认。A12 的负责人不是我，应为李娜。", OBJ),
    (netease, "?", AMB),
    (netease, "收到，谢谢", AMB),
    # NetEase 163, HTML only
    (netease_html, "确认，谢谢", SIG),
    (netease_html, "确认，但A13的截止时间需要改为12月15日。", OBJ),
    (netease_html, "请确认第3条负责人是谁", AMB),
    # 网易邮箱大师
    (netease_mobile, "确认", SIG),
    (netease_mobile, "已阅", AMB),
    # Tencent Exmail
    (exmail, "无异议", SIG),
    (exmail, "同意纪要内容", SIG),
    (exmail, "收到，确认无异议，谢谢", SIG),
    (exmail, "不同意，A13 需要市场部重新评估。", OBJ),
    (exmail, "同意第1、2条，第3条不同意，理由：物流部目前没有冷链车辆。", OBJ),
    (exmail, "不认可第3条结论，会上并未达成一致。", OBJ),
    (exmail, "第2条是什么意思？", AMB),
    (exmail, "暂时无法确认，稍后回复", AMB),
    # Gmail zh
    (gmailzh, "没有异议", SIG),
    (gmailzh, "同意以上会议纪要内容，无异议。", SIG),
    (gmailzh, "第2条我有意见，仓储费用不应由物流部承担。", OBJ),
    (gmailzh, "同意，不过建议A13的终稿时间延后一周。", OBJ),  # a conditional confirmation
    (gmailzh, "确认一下：第3条的截止时间是12月5日还是12月10日？", AMB),
    (gmailzh, "我不是参会人，请核实", AMB),
    # Apple Mail
    (applemail, "收到，确认", SIG),
    (applemail, "已確認，無異議", SIG),
    (applemail, "确认", SIG),
    (applemail, "无法确认，纪要中遗漏了预算审批的结论。", OBJ),
    (applemail, "并不同意纪要中关于费用分摊的描述。", OBJ),
    (applemail, "不同意第2條，倉儲費用應由市場部承擔。", OBJ),
    (applemail, "好的", AMB),
    (applemail, "需要和领导确认后再回复。", AMB),
    # Outlook en, text
    (outlooken, "Confirmed.", SIG),
    (outlooken, "Hi Wang Fang,\n\nConfirmed, thanks.\n\nBest regards,\nZhang Wei", SIG),
    (outlooken, "OK", SIG),
    (outlooken, "I agree with the minutes.", SIG),
    (outlooken, "I don't agree with item 2; Logistics cannot staff it before January.", OBJ),
    (outlooken, "Can't confirm: A12's owner should be Li Na, not me.", OBJ),
    (outlooken, 'Objection: item 3 should read "Dec 10".', OBJ),
    (outlooken, "received", AMB),
    (outlooken, "Can't confirm yet, will get back to you tomorrow.", AMB),
    (outlooken, "Confirmed?", AMB),
    (outlooken, "I confirm receipt.", AMB),
    # Outlook en, HTML only
    (outlooken_html, "Agreed, thanks.", SIG),
    (outlooken_html, "Confirmed，谢谢", SIG),
    (outlooken_html, "I disagree with action A13: Marketing has not budgeted the print run.", OBJ),
    (outlooken_html, "OK, will check with my team.", AMB),
    # Thunderbird (variants: top, bottom, inline, zh top)
    (thunderbird, "I confirm.", SIG),
    (thunderbird, "Approved.", SIG),
    (thunderbird, "No objection.", SIG),  # inline, under the line asking for it
    (thunderbird, "确认", SIG),
    (thunderbird, "OK, but I object to item 3: the deadline was agreed as Dec 10, not Dec 5.", OBJ),
    (thunderbird, "Not confirmed: the budget figure in item 4 is wrong.", OBJ),
    (thunderbird, "I have no objection to the minutes.", SIG),
    (thunderbird, "", AMB),
    (thunderbird, "Noted.", AMB),
    (thunderbird, "Let me check with my team first.", AMB),
]


def _sender(number: int, text: str) -> tuple[str, str]:
    """The attendee who replies: the one named in the text's signature, else in turn."""
    if "张伟" in text or "Zhang Wei" in text:
        return ATTENDEES[0]
    return ATTENDEES[number % len(ATTENDEES)]


def _seeded_uuids() -> types.SimpleNamespace:
    """A stand-in for the uuid module whose uuid4() (MIME boundaries) is reproducible."""
    rng = random.Random(20261203)
    return types.SimpleNamespace(uuid4=lambda: uuid.UUID(int=rng.getrandbits(128), version=4))


def write(folder: Path = HERE) -> dict[str, str]:
    """Write every fixture and ``expected.json`` into ``folder``; returns the expectations."""
    expected: dict[str, str] = {}
    counters: dict[str, int] = {}
    with mock.patch.object(mailbuilder, "uuid", _seeded_uuids()):
        for number, (layout, text, verdict) in enumerate(FIXTURES):
            client = layout.__name__
            variant = counters.get(client, 0)
            counters[client] = variant + 1
            name = f"{client}-{variant + 1:02d}.eml"
            reply = Reply(_sender(number, text), text, variant, number)
            (folder / name).write_bytes(layout(reply))
            expected[name] = verdict
    listing = json.dumps(expected, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    (folder / "expected.json").write_text(listing, encoding="utf-8")
    return expected


if __name__ == "__main__":
    print(f"wrote {len(write())} fixtures to {HERE}")
