"""Fuzzing reproducers replayed, and a short smoke fuzz of every parser target.

Every input the fuzzer (``benchmarks/fuzz.py``) found crashing or slow is kept under
``tests/data/fuzz/<target>/<sha1>.bin``; ``tests/data/fuzz/README.md`` says what each one found.
Each must now run through its target without an exception (other than ``ParseError`` where the
target allows it) in well under the time bound; ``expected.json`` says which messages must parse
and which must be refused with ``ParseError``. The smoke fuzz runs each target on a few dozen generated inputs.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from pathlib import Path

import pytest
from fuzz_targets import TARGETS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailflow.forms import blank_request_form_docx
from mailflow.parse import ParseError, parse_message

FIXTURES = Path(__file__).parent / "data" / "fuzz"
# sha1 of a message -> "parses" (parse_message returns a mail) or "refused" (ParseError)
EXPECTED: dict[str, str] = json.loads((FIXTURES / "expected.json").read_text())
REPRODUCERS = sorted(FIXTURES.glob("*/*.bin"))
TIME_BOUND = 10.0  # seconds; loose on purpose (the fuzzer's own bound is 2 s)


def test_every_reproducer_is_for_a_known_target() -> None:
    assert REPRODUCERS
    assert {path.parent.name for path in REPRODUCERS} <= TARGETS.keys()
    assert set(EXPECTED) <= {path.stem for path in REPRODUCERS}


@pytest.mark.parametrize(
    "path", REPRODUCERS, ids=[f"{p.parent.name}/{p.stem[:12]}" for p in REPRODUCERS]
)
def test_reproducer(path: Path) -> None:
    data = path.read_bytes()
    start = time.perf_counter()
    TARGETS[path.parent.name].run(data)
    elapsed = time.perf_counter() - start
    assert elapsed < TIME_BOUND, f"{elapsed:.1f} s"
    if EXPECTED.get(path.stem) == "parses":
        parse_message(data)
    elif EXPECTED.get(path.stem) == "refused":
        with pytest.raises(ParseError):
            parse_message(data)


def test_a_message_of_more_than_a_thousand_parts_is_refused() -> None:
    parts = b"".join(b"--b\r\nContent-Type: text/plain\r\n\r\npart\r\n" for _ in range(1001))
    raw = b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n' + parts + b"--b--\r\n"
    with pytest.raises(ParseError, match="1002 MIME parts"):
        parse_message(raw)


def test_an_overlong_header_is_cut_with_a_defect() -> None:
    mail = parse_message(b"From: a@example.com\r\nSubject: " + b"x" * 100_000 + b"\r\n\r\nbody")
    assert mail.subject == "x" * 65536
    assert "header subject: too long, cut" in mail.defects
    assert mail.text == "body"


# ---------------------------------------------------------------- smoke fuzz

SMOKE = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

_HEADER_NAMES = (
    "From",
    "To",
    "Cc",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Content-Type",
    "Content-Transfer-Encoding",
    "Content-Disposition",
    "Auto-Submitted",
    "Return-Path",
)
_HEADER_PIECES = (
    "=?utf-8?b?5L2g5aW9?=",
    "=?gb2312?q?=C4=E3?=",
    "=?gbk?B?",
    "?=",
    '"王芳" <wang.fang@example.com>',
    "a@b.c, ",
    "<id@host>",
    "multipart/mixed; boundary=b",
    "text/plain; charset=gbk",
    "text/html; charset=utf-8",
    "; name*0*=utf-8''%E4%BD%A0; name*=x",
    "; filename*=\x00''x",
    "attachment; filename=",
    "base64",
    "quoted-printable",
    "Fri, 31 Dec 9999 23:59:59 -1200",
    "Mon, 1 Jan 2026 10:00:00 +0800",
    "(",
    '"',
    ";",
    "\r\n ",
)
_BODY_PIECES = (
    "\r\n--b\r\nContent-Type: text/plain\r\n\r\n",
    "\r\n--b\r\nContent-Type: text/html\r\n\r\n<table><tr><td>申请部门</td><td>市场部</td></tr>",
    "\r\n--b--\r\n",
    "申请部门：市场部\r\n",
    "会议时间：2026-12-03 14:00~16:00\r\n",
    "> quoted\r\n",
    "=E4=BD=A0=\r\n",
    "5L2g5aW9\r\n",
    "\xa0",
)


@st.composite
def raw_messages(draw: st.DrawFn) -> bytes:
    """Header lines built from known names and troublesome pieces, then a body of pieces."""
    lines = []
    for _ in range(draw(st.integers(0, 8))):
        name = draw(st.sampled_from(_HEADER_NAMES))
        value = draw(st.lists(st.sampled_from(_HEADER_PIECES) | st.text(max_size=12), max_size=6))
        lines.append(f"{name}: {''.join(value)}")
    body = draw(st.lists(st.sampled_from(_BODY_PIECES) | st.text(max_size=30), max_size=10))
    text = "\r\n".join(lines) + "\r\n\r\n" + "".join(body)
    encoding = draw(st.sampled_from(("utf-8", "gb18030")))
    return text.encode(encoding, "surrogatepass")


_TEXT_PIECES = (
    "\n",
    "\n\n",
    "> ",
    "＞",
    "On Mon, 1 Jan 2026 at 10:00, X <x@y.z> wrote:",
    "在 2026年1月1日，X <x@y.z> 写道：",
    "-----原始邮件-----",
    "发件人: 王芳\n发送时间: 2026年1月1日\n收件人: 李娜\n主题: 纪要",
    "From: a@b.c\nSent: Monday\nTo: x\nSubject: y",
    "-- ",
    "---",
    "发自我的iPhone",
    "-Jane Doe",
    "```",
    "A12：",
    "A3、A4：进行中",
    "已完成。",
    "延期至 2026-12-20，原因：",
    "下周五",
    "12月20日",
    "delayed to Dec 20 because",
    "确认",
    "没有异议",
    "但是",
    "?",
    "验收通过",
    "不通过：",
    "亮点：",
    "不足：",
    "申请部门：",
    "涉及部门：产品部、技术支持部",
    "紧急程度：☑紧急 □重要",
    "会议时间：2026年12月3日（周四）下午2:00—4:00",
    "参会人员：王芳（主持人）、陈杰",
    "行动项：",
    "产品部 刘洋：完成方案，12月10日前，标准：通过评审",
    "部门 | 负责人 | 任务 | 完成时间",
    "\t",
    "（",
    "）",
    "：",
    "<table><tr><td>",
    "</td><td>",
    "</td></tr></table>",
    "<blockquote>",
)


def texts() -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(_TEXT_PIECES) | st.text(max_size=15), max_size=25).map("".join)


_DOCX = blank_request_form_docx("zh")
_DOCUMENT_XML = zipfile.ZipFile(io.BytesIO(_DOCX)).read("word/document.xml").decode()
_XML_PIECES = (
    '<w:gridSpan w:val="2147483647"/>',
    "<w:vMerge/>",
    '<w:vMerge w:val="restart"/>',
    '<w:sym w:font="Wingdings" w:char="F0FE"/>',
    '<w:sym w:char="zz"/>',
    "<w:tab/>",
    "<w:br/>",
    "<w:t>申请部门：市场部</w:t>",
    "<w:tc><w:p><w:r><w:t>x</w:t></w:r></w:p></w:tc>",
)


@st.composite
def word_files(draw: st.DrawFn) -> bytes:
    """The blank request form with XML pieces inserted after some of its tags."""
    xml = _DOCUMENT_XML
    for _ in range(draw(st.integers(0, 6))):
        anchor = draw(st.sampled_from(("<w:tcPr>", "<w:r>", "<w:tc>", "<w:p>", "<w:tr>")))
        at = xml.find(anchor, draw(st.integers(0, len(xml))))
        if at >= 0:
            at += len(anchor)
            xml = xml[:at] + draw(st.sampled_from(_XML_PIECES)) + xml[at:]
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(_DOCX)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for name in src.namelist():
            body = xml.encode() if name == "word/document.xml" else src.read(name)
            dst.writestr(name, body)
    return out.getvalue()


def _smoke(target: str, data: bytes) -> None:
    start = time.perf_counter()
    TARGETS[target].run(data)
    assert time.perf_counter() - start < TIME_BOUND


@SMOKE
@given(st.binary(max_size=300) | raw_messages())
def test_smoke_parse(data: bytes) -> None:
    _smoke("parse", data)


@pytest.mark.parametrize("target", ["form", "notice", "minutes"])
@SMOKE
@given(data=raw_messages() | texts().map(str.encode))
def test_smoke_form_readers(target: str, data: bytes) -> None:
    _smoke(target, data)


@settings(SMOKE, max_examples=15)
@given(word_files())
def test_smoke_docx(data: bytes) -> None:
    _smoke("docx", data)


@pytest.mark.parametrize("target", ["replies", "signoff", "updates", "acceptance", "review"])
@SMOKE
@given(text=texts())
def test_smoke_text_parsers(target: str, text: str) -> None:
    _smoke(target, text.encode("utf-8", "surrogatepass"))
