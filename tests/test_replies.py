"""Tests for :mod:`mailflow.replies`: hand-written client replies and the public corpora."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from corpora import CORPORA

from mailflow.replies import ReplyParts, split_reply, visible_reply

DATA = Path(__file__).resolve().parent / "data" / "replies"

SCORER = Path(__file__).resolve().parents[1] / "benchmarks" / "reply_trimming.py"
POOLED_FLOOR = 0.88  # achieved 127/142 = 89.4% (unique inputs), rounded down
REQUEST_TO_CONFIRM = "请回复确认"  # in every quoted minutes mail of tests/data/replies

CASES = sorted(path for path in DATA.glob("*.txt") if not path.name.endswith(".expected.txt"))


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8")  # keeps CRLF line endings as written


@pytest.mark.parametrize("path", CASES, ids=[path.stem for path in CASES])
def test_client_reply(path: Path) -> None:
    expected = _read(path.with_name(f"{path.stem}.expected.txt")).rstrip("\n")
    parts = split_reply(_read(path))
    assert parts.reply == expected
    assert REQUEST_TO_CONFIRM in parts.quoted
    assert REQUEST_TO_CONFIRM not in parts.reply


def test_enough_client_cases() -> None:
    clients = {path.stem.rsplit("-", 1)[0] for path in CASES}
    assert len(CASES) >= 40
    assert {
        "outlookzh",
        "foxmail",
        "qqmail",
        "netease",
        "exmail",
        "gmailzh",
        "applemail",
    } <= clients
    assert {"thunderbird", "outlooken", "qqmail_html", "gmailzh_html"} <= clients


def test_parts_and_visible_reply() -> None:
    text = "同意\n\n---\n张伟\n物流部\n\n在 2026/11/27 10:02, 王芳 写道:\n> 请回复确认\n"
    assert split_reply(text) == ReplyParts(
        reply="同意",
        quoted="在 2026/11/27 10:02, 王芳 写道:\n> 请回复确认",
        signature="---\n张伟\n物流部",
    )
    assert visible_reply(text) == "同意"


@pytest.mark.parametrize(
    "text",
    [
        "On Monday we ship.\nOn Tuesday we invoice.",
        "See https://example.com/on-date-someone-wrote-this",
        "De: Paris\nA: Lyon\nData: domani\n\nok",
        "A12: done\n----\nA13: 延期至 2026-12-20，原因：供应商延迟。",
        "ok\n\nSent via DHL today",
        "A12\n-已完成",
        "A12\n-Done",
        "ok\n\n来自市场部的意见",
        "```\n-- \n```\ndone",
    ],
)
def test_own_text_kept_whole(text: str) -> None:
    assert visible_reply(text + "\n") == text


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("", ""),
        ("\n \n", ""),
        ("确认\r\n\r\n", "确认"),
        ("在此确认\n王芳 <wf@example.com> 写道：\n> 请回复确认", "在此确认"),
        (
            "请在2026年12月1日前确认\n<wf@example.com> 于2026年11月27日 10:02写道：\n> x",
            "请在2026年12月1日前确认",
        ),
        ("> 请回复确认\n确认\n> 如有异议请说明\n无异议", "确认\n\n无异议"),
        ("确认\n```\n在 2026/11/27 10:02, 王芳 写道:\n> 请回复确认", "确认\n```"),
    ],
)
def test_reply_edges(text: str, reply: str) -> None:
    assert visible_reply(text) == reply


def _scorer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("reply_trimming", SCORER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not CORPORA.is_dir(), reason=f"public corpora not found at {CORPORA}")
def test_corpus_score_floor() -> None:
    report = _scorer().score(CORPORA)
    assert report.pooled_ratio >= POOLED_FLOOR, report.pooled
    assert "embedded_email_chinese" not in report.failures.get("discourse", [])
    assert all(took < limit for took, limit in report.timings.values()), report.timings


@pytest.mark.skipif(not CORPORA.is_dir(), reason=f"public corpora not found at {CORPORA}")
def test_discourse_chinese_case_exactly() -> None:
    base = CORPORA / "discourse-email_reply_trimmer" / "test"
    text = (base / "emails" / "embedded_email_chinese.txt").read_text(encoding="utf-8")
    expected = (base / "trimmed" / "embedded_email_chinese.txt").read_text(encoding="utf-8")
    assert visible_reply(text.strip()) == expected.strip()
