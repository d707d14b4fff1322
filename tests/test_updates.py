"""Action-item status updates read from owners' replies (stage 4), in Chinese and English."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from mailflow.updates import StatusUpdate, UpdateProblem, read_updates

WEDNESDAY = dt.date(2026, 12, 2)  # the mail's date in every case below


def one(text: str) -> StatusUpdate:
    updates, problems = read_updates(text, mail_date=WEDNESDAY)
    assert problems == []
    assert len(updates) == 1, updates
    return updates[0]


def problems_of(text: str) -> list[tuple[str | None, str]]:
    updates, problems = read_updates(text, mail_date=WEDNESDAY)
    assert updates == []
    return [(problem.action, problem.code) for problem in problems]


@pytest.mark.parametrize(
    ("text", "action", "status", "note"),
    [
        ("状态：进行中", None, "in_progress", ""),
        ("状态:已完成", None, "done", ""),
        ("当前状态：未开始", None, "not_started", ""),
        ("Status: in progress", None, "in_progress", ""),
        ("status: Done", None, "done", ""),
        ("A12: 已完成", "A12", "done", ""),
        ("A12：完成", "A12", "done", ""),
        ("A12 已完成", "A12", "done", ""),
        ("A12已完成", "A12", "done", ""),
        ("A12 完成了", "A12", "done", ""),
        ("A12 done", "A12", "done", ""),
        ("A12 completed", "A12", "done", ""),
        ("A12 finished.", "A12", "done", ""),
        ("A12 not started", "A12", "not_started", ""),
        ("A12 未开始", "A12", "not_started", ""),
        ("A12 处理中", "A12", "in_progress", ""),
        ("A12 ongoing", "A12", "in_progress", ""),
        ("A7 进行中：已完成方案初稿，待评审", "A7", "in_progress", "已完成方案初稿，待评审"),
        ("A7 in progress - drafting the plan", "A7", "in_progress", "drafting the plan"),
        ("A12：已完成，入库单已签字。", "A12", "done", "入库单已签字"),
        ("A12 状态：已完成", "A12", "done", ""),
        ("Action A12: done", "A12", "done", ""),
        ("行动项A12：已完成", "A12", "done", ""),
        ("1. A12 已完成", "A12", "done", ""),
        ("- A12 done", "A12", "done", ""),
        ("a12 done", "A12", "done", ""),
        ("Ａ１２：已完成", "A12", "done", ""),  # full-width letters and digits
        ("已完成。", None, "done", ""),
        ("Done", None, "done", ""),
    ],
)
def test_status_formats(text: str, action: str | None, status: str, note: str) -> None:
    update = one(text)
    assert (update.action, update.status, update.note) == (action, status, note)
    assert update.new_due is None
    assert update.reason == ""
    assert update.line == text


@pytest.mark.parametrize(
    ("text", "due", "reason"),
    [
        ("A12 延期至 2026-12-20，原因：人员冲突", dt.date(2026, 12, 20), "人员冲突"),
        ("A12 延期至 2026-12-20, 原因:人员冲突", dt.date(2026, 12, 20), "人员冲突"),
        ("A12 延期到12月20日，因为人员冲突", dt.date(2026, 12, 20), "人员冲突"),
        ("A12 推迟到 2026/12/20，由于供应商延迟交货。", dt.date(2026, 12, 20), "供应商延迟交货"),
        ("A12 延期至 2026.12.20，因人员冲突", dt.date(2026, 12, 20), "人员冲突"),
        ("A12 延期至 2026年12月20日，原因是人员冲突", dt.date(2026, 12, 20), "人员冲突"),
        ("A12 延期至 12月20号，原因：人员冲突", dt.date(2026, 12, 20), "人员冲突"),
        ("A12 延期至 12/20，原因：人员冲突", dt.date(2026, 12, 20), "人员冲突"),
        (
            "A12 delayed to 2026-12-20 because the vendor is late",
            dt.date(2026, 12, 20),
            "the vendor is late",
        ),
        ("A12: delayed until next Friday, reason: staffing", dt.date(2026, 12, 11), "staffing"),
        ("A12 postponed to 20 Dec due to staffing", dt.date(2026, 12, 20), "staffing"),
        ("A12 delayed to Dec 20 because of the audit.", dt.date(2026, 12, 20), "the audit"),
        ("A12 delayed to December 20th, 2027 because x", dt.date(2027, 12, 20), "x"),
        ("A12 delayed. New date: Dec 20, reason: staffing", dt.date(2026, 12, 20), "staffing"),
        ("A12 延期，原因：人员冲突，新日期 12月20日", dt.date(2026, 12, 20), "人员冲突"),
        ("延期至 2026-12-20，原因：供应商延迟", dt.date(2026, 12, 20), "供应商延迟"),
        (
            "Status: delayed to Dec 20 because the vendor is late",
            dt.date(2026, 12, 20),
            "the vendor is late",
        ),
    ],
)
def test_delays(text: str, due: dt.date, reason: str) -> None:
    update = one(text)
    assert (update.status, update.new_due, update.reason, update.note) == (
        "delayed",
        due,
        reason,
        "",
    )


def test_delay_keeps_the_rest_as_note() -> None:
    update = one("A12 延期至 2026-12-20，需协调资源，原因：人员冲突")
    assert (update.new_due, update.reason, update.note) == (
        dt.date(2026, 12, 20),
        "人员冲突",
        "需协调资源",
    )


@pytest.mark.parametrize(
    ("phrase", "due"),
    [
        ("下周五", dt.date(2026, 12, 11)),  # Friday of next ISO week
        ("下星期五", dt.date(2026, 12, 11)),
        ("下下周一", dt.date(2026, 12, 14)),
        ("本周五", dt.date(2026, 12, 4)),
        ("这周五", dt.date(2026, 12, 4)),
        ("周五", dt.date(2026, 12, 4)),  # the next Friday on or after the mail's date
        ("周三", dt.date(2026, 12, 2)),
        ("周二", dt.date(2026, 12, 8)),
        ("星期日", dt.date(2026, 12, 6)),
        ("明天", dt.date(2026, 12, 3)),
        ("后天", dt.date(2026, 12, 4)),
        ("next Friday", dt.date(2026, 12, 11)),
        ("this Friday", dt.date(2026, 12, 4)),
        ("Friday", dt.date(2026, 12, 4)),
        ("tomorrow", dt.date(2026, 12, 3)),
        ("the day after tomorrow", dt.date(2026, 12, 4)),
        ("1月5日", dt.date(2027, 1, 5)),  # long past this year: next year
        ("1/5", dt.date(2027, 1, 5)),
        ("Jan 5", dt.date(2027, 1, 5)),
        ("11月20日", dt.date(2026, 11, 20)),  # a little in the past: still this year
    ],
)
def test_relative_and_yearless_dates(phrase: str, due: dt.date) -> None:
    assert one(f"A12 延期至{phrase}，原因：人员冲突").new_due == due
    if phrase.isascii():
        assert one(f"A12 delayed until {phrase} because of staffing").new_due == due


def test_leap_day_of_next_year() -> None:
    updates, _ = read_updates("A12 延期至2月29日，原因：人员冲突", mail_date=dt.date(2027, 12, 1))
    assert updates[0].new_due == dt.date(2028, 2, 29)


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("A12 延期", ["delay_without_reason", "delay_without_date"]),
        ("A12 delayed", ["delay_without_reason", "delay_without_date"]),
        ("A12 延期，原因：人员冲突", ["delay_without_date"]),
        ("A12 delayed because the vendor is late", ["delay_without_date"]),
        ("A12 延期至下个月，原因：人员冲突", ["delay_without_date"]),
        ("A12 延期至 2026-12-20", ["delay_without_reason"]),
        ("A12 delayed to 2026-12-20, reason:", ["delay_without_reason"]),
        ("A12 延期至 2月30日，原因：人员冲突", ["bad_date"]),
        ("A12 延期至 2月29日，原因：人员冲突", ["bad_date"]),  # 2027 is no leap year
        ("A12 delayed to 2026-13-45 because x", ["bad_date"]),
        ("A12 延期至 12/32", ["delay_without_reason", "bad_date"]),
        ("A12：差不多了", ["unknown_status"]),
        ("A12: 未完成", ["unknown_status"]),
        ("状态：搞定", ["unknown_status"]),
    ],
)
def test_refused_lines(text: str, codes: list[str]) -> None:
    action = "A12" if text.startswith("A12") else None
    assert problems_of(text) == [(action, code) for code in codes]


def test_problem_quotes_the_line() -> None:
    _, problems = read_updates("各位好：\n\nA3、A4：延期\n\n谢谢", mail_date=WEDNESDAY)
    assert problems == [
        UpdateProblem("A3", "delay_without_reason", "A3、A4：延期"),
        UpdateProblem("A3", "delay_without_date", "A3、A4：延期"),
        UpdateProblem("A4", "delay_without_reason", "A3、A4：延期"),
        UpdateProblem("A4", "delay_without_date", "A3、A4：延期"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "收到，谢谢！",
        "各位好：",
        "Hi Wang,",
        "完成情况如下：",
        "A12 的截止日期来不及，建议延期至 2026-12-20。",  # an objection, not an update
        "有异议：A12 的截止日期来不及",
        "A12 物流部 张伟 华东仓备货 2026-12-05 完成标准：入库单签字",  # a pasted action line
        "Done with the first draft, more soon",
        "状态不太好",
        "Best regards,\nZhang Wei",
    ],
)
def test_lines_that_are_not_updates(text: str) -> None:
    assert read_updates(text, mail_date=WEDNESDAY) == ([], [])


def test_several_items_in_one_reply() -> None:
    text = (
        "王经理，您好：\n\n"
        "A3、A4：进行中\n"
        "A12：已完成，入库单已签字。\n"
        "A13：延期至 2026年12月20日，原因：印刷厂排期已满。\n\n"
        "A14 not started\n\n"
        "张伟\n物流部\n"
    )
    updates, problems = read_updates(text, mail_date=WEDNESDAY)
    assert problems == []
    assert [(u.action, u.status, u.new_due, u.reason, u.note) for u in updates] == [
        ("A3", "in_progress", None, "", ""),
        ("A4", "in_progress", None, "", ""),
        ("A12", "done", None, "", "入库单已签字"),
        ("A13", "delayed", dt.date(2026, 12, 20), "印刷厂排期已满", ""),
        ("A14", "not_started", None, "", ""),
    ]
    assert updates[3].line == "A13：延期至 2026年12月20日，原因：印刷厂排期已满。"


def test_several_items_on_one_line() -> None:
    updates, _ = read_updates(
        "A12已完成，A13进行中：写稿；A14 延期至周五，原因：缺人。", mail_date=WEDNESDAY
    )
    assert [(u.action, u.status, u.note, u.line) for u in updates] == [
        ("A12", "done", "", "A12已完成"),
        ("A13", "in_progress", "写稿", "A13进行中：写稿"),
        ("A14", "delayed", "", "A14 延期至周五，原因：缺人。"),
    ]
    assert updates[2].new_due == dt.date(2026, 12, 4)


def test_english_reply() -> None:
    text = (
        "Hi Wang,\n\n"
        "A12 done\n"
        "A13 delayed to 2026-12-20 because the vendor is late\n"
        "A14 in progress: drafting the plan\n\n"
        "Thanks,\nJane\n"
    )
    updates, problems = read_updates(text, mail_date=WEDNESDAY)
    assert problems == []
    assert [(u.action, u.status, u.new_due, u.reason, u.note) for u in updates] == [
        ("A12", "done", None, "", ""),
        ("A13", "delayed", dt.date(2026, 12, 20), "the vendor is late", ""),
        ("A14", "in_progress", None, "", "drafting the plan"),
    ]


def test_paragraph_continues_an_update() -> None:
    text = (
        "A12 延期至 2026-12-20\n原因：人员冲突\n\n"
        "A13 delayed to Dec 20 because the vendor\nis late with the parts.\n\n"
        "A7 进行中：\n已完成方案初稿，待评审\n\n"
        "A8 已完成\n张伟\n"
    )
    updates, problems = read_updates(text, mail_date=WEDNESDAY)
    assert problems == []
    assert [(u.action, u.reason, u.note) for u in updates] == [
        ("A12", "人员冲突", ""),
        ("A13", "the vendor is late with the parts", ""),
        ("A7", "", "已完成方案初稿，待评审"),
        ("A8", "", ""),  # a name under the update is not part of it
    ]
    assert updates[0].line == "A12 延期至 2026-12-20\n原因：人员冲突"


@pytest.mark.parametrize(
    "quote",
    [
        "在 2026年12月1日 10:02, 王芳 写道:\n> A12 已完成\n> A14 已完成\n",
        "-----原始邮件-----\n发件人: 王芳 <wangfang@example.com>\n发送时间: 2026年12月1日 10:02\n"
        "收件人: 张伟 <zhangwei@example.com>\n主题: [REQ-2026-0001] 行动项\n\nA12 已完成\nA14 已完成\n",
        "On Tue, Dec 1, 2026 at 10:02 AM Wang Fang <wangfang@example.com> wrote:\n> A12 done\n",
    ],
)
def test_quoted_text_never_counts(quote: str) -> None:
    updates, problems = read_updates(f"A13 进行中\n\n{quote}", mail_date=WEDNESDAY)
    assert problems == []
    assert [(u.action, u.status) for u in updates] == [("A13", "in_progress")]


def test_a_mail_that_only_quotes_has_no_updates() -> None:
    text = "在 2026年12月1日 10:02, 王芳 写道:\n> A12 已完成\n"
    assert read_updates(text, mail_date=WEDNESDAY) == ([], [])


def test_known_ids_give_the_spelling_and_unknown_ids_are_kept() -> None:
    updates, _ = read_updates("a07 done\nA99 done", mail_date=WEDNESDAY, known_ids={"A7"})
    assert [u.action for u in updates] == ["A7", "A99"]


def test_long_input_stays_fast() -> None:
    text = "A12 延期，原因：" + "至 " * 50_000 + "\n" + "A13 已完成，" * 5_000
    updates, problems = read_updates(text, mail_date=WEDNESDAY)
    assert len(updates) == 5_000
    assert [problem.code for problem in problems] == ["delay_without_date"]


REPLIES = Path(__file__).parent / "data" / "replies"
CLIENT_MAILS = sorted(p for p in REPLIES.glob("*.txt") if not p.name.endswith(".expected.txt"))


@pytest.mark.parametrize("path", CLIENT_MAILS, ids=[path.stem for path in CLIENT_MAILS])
def test_client_mails_read_only_the_senders_text(path: Path) -> None:
    """Real client replies quoting minutes with action lines: the quote adds nothing."""
    own_text = path.with_name(f"{path.stem}.expected.txt").read_text(encoding="utf-8")
    mail = path.read_text(encoding="utf-8")
    assert read_updates(mail, mail_date=WEDNESDAY) == read_updates(own_text, mail_date=WEDNESDAY)


def test_client_mails_with_updates() -> None:
    def read(name: str) -> list[tuple[str | None, str, dt.date | None, str]]:
        text = (REPLIES / f"{name}.txt").read_text(encoding="utf-8")
        updates, problems = read_updates(text, mail_date=dt.date(2026, 11, 27))
        assert problems == []
        return [(u.action, u.status, u.new_due, u.reason) for u in updates]

    assert read("outlookzh-5") == [
        ("A12", "done", None, ""),
        ("A13", "delayed", dt.date(2026, 12, 20), "供应商延迟交货"),
    ]
    assert read("foxmail-4") == [
        ("A12", "done", None, ""),
        ("A13", "delayed", dt.date(2026, 12, 20), "印刷厂排期已满，需要顺延两周"),
    ]
    assert read("outlookzh-8") == [(None, "done", None, "")]
    assert read("thunderbird-3") == [("A12", "done", None, "")]
    assert read("outlookzh-4") == []  # an objection that mentions a delay is no update
