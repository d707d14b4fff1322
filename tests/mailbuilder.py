"""Builds raw messages the way real mail clients write them (charsets, encodings, layouts).

Bytes are assembled by hand rather than with ``email.mime`` so that a test says exactly what
arrives: a Foxmail GBK base64 body labelled gb2312, an Outlook HTML-only mail, QP UTF-8, ….
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import quopri
import uuid
from email.header import Header
from email.utils import format_datetime
from html import escape
from typing import Any

import docx

CRLF = b"\r\n"


def encode_body(text: str, charset: str, cte: str) -> bytes:
    if cte == "quoted-printable":
        return quopri.encodestring(text.encode(_codec(charset))).replace(b"\n", CRLF)
    data = text.replace("\n", "\r\n").encode(_codec(charset))
    if cte == "base64":
        return base64.encodebytes(data).replace(b"\n", CRLF)
    return data


def _codec(charset: str) -> str:
    # What the client really writes under a gb2312 label is GBK (and sometimes GB18030).
    return {"gb2312": "gbk"}.get(charset.lower(), charset)


def header_words(value: str, charset: str = "utf-8") -> str:
    if value.isascii():
        return value
    return Header(value, _codec(charset)).encode().replace(_codec(charset), charset)


def address(name: str, addr: str, charset: str = "utf-8") -> str:
    return f"{header_words(name, charset)} <{addr}>" if name else addr


def message(
    *,
    sender: tuple[str, str],
    to: str = "coordination@example.com",
    subject: str,
    text: str | None = None,
    html: str | None = None,
    charset: str = "utf-8",
    cte: str = "base64",
    attachments: list[tuple[str, str, bytes]] = (),  # type: ignore[assignment]
    headers: dict[str, str] | None = None,
    message_id: str | None = None,
    date: dt.datetime | None = None,
    cc: str | None = None,
) -> bytes:
    """A complete message; ``text`` and/or ``html`` body, optional attachments."""
    head = [
        f"From: {address(*sender, charset=charset)}",
        f"To: {to}",
        *([f"Cc: {cc}"] if cc else []),
        f"Subject: {header_words(subject, charset)}",
        f"Date: {format_datetime(date or dt.datetime.now(dt.UTC))}",
        f"Message-ID: {message_id or f'<{uuid.uuid4().hex}@client.example.com>'}",
        "MIME-Version: 1.0",
        *[f"{k}: {v}" for k, v in (headers or {}).items()],
    ]
    body = _body(text, html, charset, cte)
    if attachments:
        boundary = f"----=_mixed_{uuid.uuid4().hex}"
        parts = [body] + [_attachment(*a) for a in attachments]
        body = _multipart("mixed", boundary, parts)
    return CRLF.join(h.encode("ascii") for h in head) + CRLF + body


def _leaf(content_type: str, charset: str, cte: str, payload: str) -> bytes:
    return (
        f'Content-Type: {content_type}; charset="{charset}"\r\n'
        f"Content-Transfer-Encoding: {cte}\r\n\r\n".encode("ascii")
        + encode_body(payload, charset, cte)
    )


def _body(text: str | None, html: str | None, charset: str, cte: str) -> bytes:
    if text is not None and html is not None:
        boundary = f"----=_alt_{uuid.uuid4().hex}"
        return _multipart(
            "alternative",
            boundary,
            [_leaf("text/plain", charset, cte, text), _leaf("text/html", charset, cte, html)],
        )
    if html is not None:
        return _leaf("text/html", charset, cte, html)
    return _leaf("text/plain", charset, cte, text or "")


def _multipart(subtype: str, boundary: str, parts: list[bytes]) -> bytes:
    out = [f'Content-Type: multipart/{subtype}; boundary="{boundary}"\r\n\r\n'.encode()]
    out.append(b"This is a multi-part message in MIME format.\r\n\r\n")
    for part in parts:
        out.append(f"--{boundary}\r\n".encode() + part + CRLF)
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out)


def _attachment(filename: str, mime_type: str, data: bytes) -> bytes:
    encoded_name = Header(filename, "utf-8").encode() if not filename.isascii() else filename
    return (
        f'Content-Type: {mime_type}; name="{encoded_name}"\r\n'
        f'Content-Disposition: attachment; filename="{encoded_name}"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n"
    ).encode("ascii") + base64.encodebytes(data).replace(b"\n", CRLF)


REQUEST_FORM_ZH = """\
申请部门：市场部
申请日期：2026-11-27
需求编号：
需求背景：因Q3季度市场推广活动需产品部提供技术支持，为保证活动按时落地，需协调双方资源与时间节点。
涉及部门：产品部、技术支持部
牵头部门：市场部
期望目标：确定技术支持人员名单及交付时间
紧急程度：□紧急（24小时内响应）☑重要（3个工作日内响应）□常规（1周内响应）
附件材料：无
发起部门负责人签字：王芳
日期：2026-11-27
"""

REQUEST_FORM_EN = """\
Requesting department: Marketing
Date: 2026-11-27
Request number:
Background: The Q4 campaign needs technical support from Product; both teams' resources and dates must be aligned.
Departments involved: Product, Technical Support
Lead department: Marketing
Expected goal: Agree the support staff list and delivery dates
Urgency: [ ] Urgent  [x] Important  [ ] Normal
Attachments: None
Signed by: Wang Fang
Date: 2026-11-27
"""


def fill_docx(blank: bytes, entries: list[tuple[str, str]], tick: str) -> bytes:
    """Fill the generated template as a person would: type next to each label, tick one box."""
    document = docx.Document(io.BytesIO(blank))
    pending = list(entries)
    for row in document.tables[0].rows:
        cells = list({id(c._tc): c for c in row.cells}.values())
        for label, value in zip(cells[::2], cells[1::2], strict=False):
            entry = next((e for e in pending if e[0] == label.text), None)
            if entry is not None:
                pending.remove(entry)
                value.text = entry[1]
            elif "□" in value.text:
                value.text = value.text.replace(f"□{tick}", f"☑{tick}")
    assert not pending, pending
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------- replies in client styles


def _quoted_text(original: Any) -> str:
    part = original.get_body(("plain",))
    return part.get_content() if part is not None else ""


def _reply_headers(original: Any) -> dict[str, str]:
    references = " ".join(filter(None, [original.get("References", ""), original["Message-ID"]]))
    return {"In-Reply-To": original["Message-ID"], "References": references}


def _reply_to(original: Any) -> str:
    reply_to = original.get("Reply-To")
    return reply_to.addresses[0].addr_spec if reply_to else "coordination@example.com"


def reply(
    original: Any, sender: tuple[str, str], text: str, client: str = "outlook-zh", **extra: Any
) -> bytes:
    """A reply to ``original`` (an EmailMessage mailflow sent) as ``client`` writes one.

    Clients: outlook-zh, outlook-en, foxmail (GBK, gb2312 label), qq (HTML only, 原始邮件
    marker), gmail-zh, apple (iPhone), netease (HTML blockquote), thunderbird.
    """
    subject = original["Subject"]
    quoted = _quoted_text(original)
    name, addr = sender
    headers = _reply_headers(original)
    to = _reply_to(original)
    if client == "outlook-zh":
        body = (f"{text}\n\n-----原始邮件-----\n发件人: 跨部门协调中心 <coordination@example.com>\n"
                f"发送时间: 2026年12月3日 15:02\n收件人: {name} <{addr}>\n主题: {subject}\n\n{quoted}")  # fmt: skip
        return message(
            sender=sender, to=to, subject=f"答复: {subject}", text=body, headers=headers, **extra
        )
    if client == "outlook-en":
        body = (
            f"{text}\n\n________________________________\nFrom: Coordination <coordination@example.com>\n"
            f"Sent: Thursday, December 3, 2026 3:02 PM\nTo: {name} <{addr}>\n"
            f"Subject: {subject}\n\n{quoted}"
        )
        return message(
            sender=sender, to=to, subject=f"RE: {subject}", text=body, headers=headers, **extra
        )
    if client == "foxmail":
        quoted_lines = "\n".join(f"> {line}" for line in quoted.splitlines())
        body = (f"{text}\n\n\n{addr}\n\n发件人： 跨部门协调中心\n发送时间： 2026-12-03 15:02\n"
                f"收件人： {name}\n主题： {subject}\n{quoted_lines}")  # fmt: skip
        gbk_safe = body.encode("gbk", "replace").decode("gbk")
        return message(
            sender=sender,
            to=to,
            subject=f"回复：{subject}",
            text=gbk_safe,
            charset="gb2312",
            headers=headers,
            **extra,
        )
    if client == "qq":
        html = (f"<div>{escape(text).replace(chr(10), '<br>')}</div><div><br></div>"
                '<div style="font-size: 12px;font-family: Arial Narrow;padding:2px 0 2px 0;">'
                "------------------&nbsp;原始邮件&nbsp;------------------</div>"
                '<div style="font-size: 12px;background:#efefef;padding:8px;">'
                "<div><b>发件人:</b>&nbsp;\"跨部门协调中心\"&lt;coordination@example.com&gt;;</div>"
                "<div><b>发送时间:</b>&nbsp;2026年12月3日(星期四) 下午3:02</div></div>"
                f"<div>{escape(quoted).replace(chr(10), '<br>')}</div>")  # fmt: skip
        return message(
            sender=sender, to=to, subject=f"回复：{subject}", html=html, headers=headers, **extra
        )
    if client == "gmail-zh":
        quoted_lines = "\n".join(f"> {line}" for line in quoted.splitlines())
        body = f"{text}\n\n跨部门协调中心 <coordination@example.com> 于2026年12月3日周四 15:02写道：\n\n{quoted_lines}"
        return message(
            sender=sender, to=to, subject=f"Re: {subject}", text=body, headers=headers, **extra
        )
    if client == "apple":
        quoted_lines = "\n".join(f"> {line}" for line in quoted.splitlines())
        header = "> 在 2026年12月3日，15:02，跨部门协调中心 <coordination@example.com> 写道："
        body = f"{text}\n\n发自我的iPhone\n\n{header}\n>\n{quoted_lines}"
        return message(
            sender=sender, to=to, subject=f"Re: {subject}", text=body, headers=headers, **extra
        )
    if client == "netease":
        html = (f"<div>{escape(text).replace(chr(10), '<br>')}</div><br><div>在 2026-12-03 15:02:11，"
                "\"跨部门协调中心\" &lt;coordination@example.com&gt; 写道：</div>"
                f"<blockquote>{escape(quoted).replace(chr(10), '<br>')}</blockquote>")  # fmt: skip
        return message(
            sender=sender, to=to, subject=f"Re:{subject}", html=html, headers=headers, **extra
        )
    if client == "thunderbird":
        quoted_lines = "\n".join(f"> {line}" for line in quoted.splitlines())
        body = f"{text}\n\nOn 12/3/26 15:02, Coordination wrote:\n{quoted_lines}"
        return message(
            sender=sender, to=to, subject=f"Re: {subject}", text=body, headers=headers, **extra
        )
    raise ValueError(f"unknown client {client!r}")
