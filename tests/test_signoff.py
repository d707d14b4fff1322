"""Tests for :mod:`mailflow.signoff`: client reply fixtures (tests/data/signoff) and short texts."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from mailflow.parse import parse_message
from mailflow.signoff import AMBIGUOUS, OBJECTION, SIGNED, SignoffReading, read_signoff

DATA = Path(__file__).resolve().parent / "data" / "signoff"
REPO = Path(__file__).resolve().parents[1]
EXPECTED: dict[str, str] = json.loads((DATA / "expected.json").read_text(encoding="utf-8"))
# In every quoted minutes mail: a reader that looked at quoted text would find a confirmation.
BAIT = ("请各参会人于1个工作日内回复「确认」", "如有异议请直接回复说明")


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def scorer() -> ModuleType:
    return _load(REPO / "benchmarks" / "signoff_scoring.py", "signoff_scoring")


# --- fixtures ---


@pytest.mark.parametrize("name", sorted(EXPECTED), ids=lambda name: name.removesuffix(".eml"))
def test_fixture(name: str) -> None:
    mail = parse_message((DATA / name).read_bytes())
    reading = read_signoff(mail.text)
    assert all(bait in mail.text for bait in BAIT), "the fixture must quote the minutes"
    assert not any(bait in reading.text for bait in BAIT), "quoted text was judged"
    assert reading.verdict == EXPECTED[name], reading.reason


def test_no_false_signature_and_accuracy(scorer: ModuleType) -> None:
    result = scorer.score(DATA)
    assert [r.name for r in result.false_signatures] == []
    assert result.accuracy >= 0.95, [(r.name, r.got, r.reason) for r in result.failures]
    assert result.precision(SIGNED) == 1.0


def test_fixture_set_is_broad() -> None:
    verdicts = list(EXPECTED.values())
    assert len(EXPECTED) >= 70
    assert verdicts.count(SIGNED) >= 25
    assert verdicts.count(OBJECTION) >= 15
    assert verdicts.count(AMBIGUOUS) >= 15
    assert set(EXPECTED) == {path.name for path in DATA.glob("*.eml")}
    clients = {name.rsplit("-", 1)[0] for name in EXPECTED}
    assert {
        "outlookzh",
        "outlookzh_html",
        "foxmail",
        "qqmail_html",
        "netease",
        "exmail",
        "gmailzh",
        "applemail",
        "outlooken",
        "thunderbird",
    } <= clients


def test_fixtures_match_their_generator(tmp_path: Path) -> None:
    """The committed .eml files are what make_fixtures.py writes (regenerate after editing)."""
    generator = _load(DATA / "make_fixtures.py", "signoff_make_fixtures")
    assert generator.write(tmp_path) == EXPECTED
    for path in sorted(tmp_path.iterdir()):
        assert path.read_bytes() == (DATA / path.name).read_bytes(), path.name


# --- short texts ---


@pytest.mark.parametrize(
    "text",
    [
        "确认",
        "已确认",
        "确认无误",
        "同意",
        "无异议",
        "没有异议",
        "收到，确认",
        "收到，无异议",
        "好的，确认",
        "可以",
        "都可以的",
        "确认，谢谢",
        "同意纪要内容",
        "确认，辛苦了",
        "本人确认以上纪要内容无误。",
        "已確認，無異議",
        "没有不同意见，确认",
        "不反对",
        "确认，无需修改",
        "ＯＫ",
        "confirmed",
        "Confirm",
        "I agree",
        "Agreed.",
        "approved",
        "OK",
        "okay, thanks",
        "No objection.",
        "I have no objection to the minutes.",
        "Nothing wrong, confirmed.",
        "👍",
        "王经理：\n\n确认，谢谢！\n\n张伟",
        "Hi Wang Fang,\n\nConfirmed, thanks.\n\nBest regards,\nZhang Wei",
        "同意\n\n张伟\n物流部 | 经理\n电话：010-8888 0000",
        "确认\n\n此致\n敬礼\n张伟",
        "物流部无异议",
        "我这边没问题",
        "同意，按纪要执行",
        "同意，辛苦李娜整理",
        "同意。有问题随时沟通",
        "Looks good to me",
        "Confirmed from Logistics side.",
        "I'm fine with the minutes",
    ],
)
def test_signed(text: str) -> None:
    reading = read_signoff(text)
    assert (reading.verdict, reading.text) == (SIGNED, text.strip())
    assert reading.reason.startswith("confirmation word")


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("不同意，A13 需要市场部重新评估。", "不同意"),
        ("不同意", "不同意"),
        ("有异议：第3条的完成时间应为12月10日。", "有异议"),
        ("确认，但第3条有异议：华东仓备货需要到12月8日才能完成。", "有异议"),
        ("反对第2条的分工安排", "反对"),
        ("不确认。A12 的负责人不是我。", "不确认"),
        ("第2条我有意见，仓储费用不应由物流部承担。", "有意见"),
        ("纪要第4条有误，会上定的是由市场部牵头。", "有误"),
        ("同意第1、2条，第3条不同意", "不同意"),
        ("I don't agree with item 2.", "don't agree"),
        ("I do not agree.", "not agree"),
        ("I disagree with action A13.", "disagree"),
        ("OK, but I object to item 3.", "object"),
        ("Objection: item 3 should read Dec 10.", "objection"),
        ("Not confirmed: the budget figure is wrong.", "not confirmed"),
        ("👎", "👎"),
        ("不太认同第2条", "不太认同"),
        ("我有不同看法", "不同看法"),
        ("建议将A13的截止时间调整为12月12日", "调整为"),
        ("会议纪要第二点需要补充：技术支持部也参与", "需要补充"),
        ("第1条的表述和会上不一样", "不一样"),
        ("Please change item 3 to Dec 10.", "please change"),
        ("Item 2 is not what we agreed.", "not what we agreed"),
    ],
)
def test_objection(text: str, word: str) -> None:
    reading = read_signoff(text)
    assert reading.verdict == OBJECTION
    assert reading.reason == f"objection: {word}"


@pytest.mark.parametrize(
    "text",
    [
        "无法确认，我没有参加这次会议",
        "不能确认：A13 的截止日期与会上讨论的不同",
        "I can't confirm: I was not at the meeting.",
        "确认，但A13的截止时间可能要延后",  # a conditional confirmation
        "同意，不过建议下次提前发材料",
        "Confirmed, except item 3",
        "确认（第3条除外）",
    ],
)
def test_objection_with_reason(text: str) -> None:
    assert read_signoff(text).verdict == OBJECTION


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty reply"),
        ("   \n\n", "empty reply"),
        ("收到", "only acknowledges receipt ('收到')"),
        ("已收到，谢谢", "only acknowledges receipt ('已收到')"),
        ("received", "only acknowledges receipt ('received')"),
        ("Noted.", "only acknowledges receipt ('noted')"),
        ("好的", "only acknowledges receipt ('好的')"),
        ("稍后回复", "deferred answer ('稍后')"),
        ("我看一下", "deferred answer ('看一下')"),
        ("Let me check with my team first.", "deferred answer ('let me')"),
        ("?", "question ('?')"),
        ("第2条是什么意思？", "question ('什么')"),
        ("确认一下：第3条的截止时间是12月5日还是10日？", "question ('?')"),
        ("同意？", "question ('?')"),
        ("Confirmed?", "question ('?')"),
        ("无法确认", "cannot confirm ('无法确认') without a reason"),
        ("不能确认", "cannot confirm ('不能确认') without a reason"),
        ("I can't confirm.", 'cannot confirm ("can\'t confirm") without a reason'),
        ("Can't confirm yet, will get back to you tomorrow.", None),
        ("暂时无法确认，稍后回复", None),
        ("确认，有异议", "both a confirmation and an objection, without details"),
        ("同意 不同意", "both a confirmation and an objection, without details"),
        ("确认，另外A12我们会提前一天完成。", "confirmation with other text"),
        ("确认第1、2条", "no clear answer"),
        ("确认收到", "no clear answer"),
        ("I confirm receipt.", "no clear answer"),
        ("请确认第3条负责人", "deferred answer ('请确认')"),
        ("Please confirm", "deferred answer ('please confirm')"),
        ("需要和领导确认后再回复。", None),
        ("Yes", "no clear answer"),
        ("张伟", "no clear answer"),
        ("不太确认", None),
        ("我们可以", "no clear answer"),  # 可以 counts only alone
    ],
)
def test_ambiguous(text: str, reason: str | None) -> None:
    reading = read_signoff(text)
    assert reading.verdict == AMBIGUOUS
    if reason is not None:
        assert reading.reason == reason


@pytest.mark.parametrize(
    "quoted",
    [
        "在 2026/12/3 15:02, 王芳 写道:\n> 请各参会人于1个工作日内回复「确认」\n> 确认\n",
        "-----原始邮件-----\n发件人: 王芳 <w@example.com>\n发送时间: 2026年12月3日 15:02\n"
        "收件人: 张伟 <z@example.com>\n主题: 会议纪要\n\n确认\n同意\n",
        "> confirmed\n> agree\n",
    ],
)
def test_quoted_text_never_counts(quoted: str) -> None:
    assert read_signoff(quoted) == SignoffReading(AMBIGUOUS, "", "empty reply")
    assert read_signoff("不同意，见第3条\n\n" + quoted).verdict == OBJECTION
    assert read_signoff("收到\n\n" + quoted).verdict == AMBIGUOUS


@pytest.mark.parametrize(
    "text", ["确认，撤回之前的异议", "确认，之前的异议撤回", "I withdraw my objection, confirmed."]
)
def test_withdrawn_objection_signs(text: str) -> None:
    assert read_signoff(text).verdict == SIGNED


def test_long_text_is_quick() -> None:
    text = ("确认，会议纪要内容无误 " * 5000) + "\n" + ("第3条有问题？" * 2000)
    assert read_signoff(text).verdict == OBJECTION
