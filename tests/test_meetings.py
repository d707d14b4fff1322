"""Meeting notices read from text, Outlook HTML tables and Word documents; times; attendees."""

from __future__ import annotations

import datetime as dt
import io
import tomllib
from pathlib import Path
from zoneinfo import ZoneInfo

import docx
import pytest
from mailbuilder import message

from mailflow.attendees import merge_attendees, read_attendees, read_person
from mailflow.config import Directory, Person, config_from_dict
from mailflow.meeting_times import parse_due_date, parse_meeting_time
from mailflow.meetings import (
    Attendee,
    MeetingNotice,
    NoticeProblem,
    looks_like_meeting_notice,
    read_meeting_notice,
)
from mailflow.parse import ParsedMail, parse_message

DATA = Path(__file__).parent / "data" / "meetings"
TZ = ZoneInfo("Asia/Shanghai")
SENT = dt.datetime(2026, 11, 25, 10, 30, tzinfo=TZ)
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DIRECTORY: Directory = config_from_dict(
    tomllib.loads((DATA / "directory.toml").read_text(encoding="utf-8"))
).directory

WANG_FANG = Person("wang.fang@example.com", "王芳")
LI_NA = Person("li.na@example.com", "李娜")
CHEN_JIE = Person("chen.jie@example.com", "陈杰")
LIU_YANG = Person("liu.yang@example.com", "刘洋")
ZHOU_MIN = Person("zhou.min@example.com", "Zhou Min")
EMILY = Person("emily.clark@example.com", "Emily Clark")

NOTICE_ZH = """\
各位好：

    定于12月3日召开Q4推广活动技术支持协调会，请准时参加。

议题：Q4推广活动技术支持方案
会议时间：2026年12月3日（周四）下午2:00—4:00
会议地点：3楼会议室A
参会人员：王芳（主持人）、陈杰（决策人）、刘洋（执行人）、李娜（记录人）、技术支持部
会议材料：
1. 推广活动方案.pptx
2. 技术支持需求清单.xlsx
预讨论问题：
1. 需要几名技术支持人员？
2. 方案初稿何时可以完成？

谢谢！
王芳
市场部
"""

NOTICE_EN = """\
Hi all,

Please join the coordination meeting below.

Topic: Technical support for the Q4 campaign
Time: Dec 3, 2026 2:00 PM - 4:00 PM
Location: Room 301, 3F
Link: https://teams.example.com/l/meetup-join/19%3ameeting_q4
Host: Wang Fang <wang.fang@example.com>
Attendees: Chen Jie <chen.jie@example.com> (decision-maker); Liu Yang <liu.yang@example.com> (executor);
 Technical Support; Emily Clark (recorder)
Materials: campaign plan (attached)
Questions: How many support engineers? When is the first draft ready?

Best regards,
Wang Fang
"""


def received(
    text: str | None = None,
    *,
    html: str | None = None,
    charset: str = "utf-8",
    attachments: list[tuple[str, str, bytes]] = (),  # type: ignore[assignment]
    date: dt.datetime = SENT,
) -> ParsedMail:
    raw = message(
        sender=("王芳", "wang.fang@example.com"),
        subject="[REQ-2026-0001] 会议通知：Q4推广活动技术支持协调会",
        text=text,
        html=html,
        charset=charset,
        attachments=attachments,
        date=date,
    )
    return parse_message(raw)


def notice(result: MeetingNotice | list[NoticeProblem]) -> MeetingNotice:
    assert isinstance(result, MeetingNotice), result
    return result


def problems(result: MeetingNotice | list[NoticeProblem]) -> list[NoticeProblem]:
    assert isinstance(result, list), result
    return result


def at(day: int, hour: int, minute: int = 0, month: int = 12, year: int = 2026) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=TZ)


def notice_with(**fields: str) -> str:
    base = {
        "议题": "Q4推广活动技术支持方案",
        "会议时间": "2026年12月3日14:00-16:00",
        "会议地点": "3楼会议室A",
        "参会人员": "王芳、陈杰",
    }
    base.update(fields)
    return "".join(f"{label}：{value}\n" for label, value in base.items() if value is not None)


# ---------------------------------------------------------------- whole notices


def test_chinese_text_notice_with_inline_roles() -> None:
    result = notice(read_meeting_notice(received(NOTICE_ZH, charset="gb2312"), DIRECTORY, TZ))
    assert result.topic == "Q4推广活动技术支持方案"
    assert result.starts_at == at(3, 14) and result.ends_at == at(3, 16)
    assert result.starts_at.tzinfo is not None and result.starts_at.utcoffset() == dt.timedelta(
        hours=8
    )
    assert result.place == "3楼会议室A" and result.link == ""
    assert result.attendees == [
        Attendee(WANG_FANG, "host", "市场部"),
        Attendee(CHEN_JIE, "decision_maker", "产品部"),
        Attendee(LIU_YANG, "executor", "产品部"),
        Attendee(LI_NA, "recorder", "市场部"),
        Attendee(ZHOU_MIN, "attendee", "技术支持部"),
    ]
    assert result.materials == "1. 推广活动方案.pptx\n2. 技术支持需求清单.xlsx"
    assert result.questions == "1. 需要几名技术支持人员？\n2. 方案初稿何时可以完成？"
    assert result.language == "zh"


def test_roles_given_as_their_own_fields_join_the_attendees_once() -> None:
    text = notice_with(
        参会人员="王芳、陈杰、刘洋、李娜",
        主持人="王芳",
        决策人="陈杰",
        执行人="刘洋、Emily Clark",
        记录人="李娜",
    )
    result = notice(read_meeting_notice(received(text), DIRECTORY, TZ))
    assert [(a.person, a.role) for a in result.attendees] == [
        (WANG_FANG, "host"),
        (CHEN_JIE, "decision_maker"),
        (LIU_YANG, "executor"),
        (EMILY, "executor"),
        (LI_NA, "recorder"),
    ]


def test_english_notice_with_named_addresses_and_a_link() -> None:
    result = notice(read_meeting_notice(received(NOTICE_EN), DIRECTORY, TZ))
    assert result.topic == "Technical support for the Q4 campaign"
    assert (result.starts_at, result.ends_at) == (at(3, 14), at(3, 16))
    assert result.place == "Room 301, 3F"
    assert result.link == "https://teams.example.com/l/meetup-join/19%3ameeting_q4"
    assert result.attendees == [
        Attendee(WANG_FANG, "host", "市场部"),
        Attendee(CHEN_JIE, "decision_maker", "产品部"),
        Attendee(LIU_YANG, "executor", "产品部"),
        Attendee(ZHOU_MIN, "attendee", "技术支持部"),
        Attendee(EMILY, "recorder", "技术支持部"),
    ]
    assert result.materials == "campaign plan (attached)"
    assert result.language == "en"


def test_outlook_html_table_notice_in_gbk() -> None:
    html = (DATA / "outlook_notice_zh.html").read_text(encoding="utf-8")
    mail = received(html=html, charset="gb2312")
    result = notice(read_meeting_notice(mail, DIRECTORY, TZ))
    assert result.topic == "Q4推广活动技术支持方案"
    assert (result.starts_at, result.ends_at) == (at(3, 14), at(3, 16))
    assert result.place == "3楼会议室A"
    assert result.link == "https://meeting.tencent.com/dm/Q4support"
    assert {a.person.address: a.role for a in result.attendees} == {
        "wang.fang@example.com": "host",
        "li.na@example.com": "recorder",
        "chen.jie@example.com": "decision_maker",
        "liu.yang@example.com": "executor",
        "zhou.min@example.com": "attendee",
    }
    assert result.questions.splitlines() == [
        "1. 需要几名技术支持人员？",
        "2. 方案初稿何时可以完成？",
    ]
    assert looks_like_meeting_notice(mail)


def _notice_docx() -> bytes:
    """A notice typed into a Word table: two label/value pairs on a row, long fields merged."""
    document = docx.Document()
    document.add_heading("会议通知", level=1)
    table = document.add_table(rows=0, cols=4)
    table.style = "Table Grid"
    pairs = [("议题", "Q4推广活动技术支持方案"), ("会议时间", "2026-12-03 14:00~16:00")]
    pairs2 = [("主持人", "王芳"), ("记录人", "李娜")]
    for row_pairs in (pairs, pairs2):
        cells = table.add_row().cells
        for i, (label, value) in enumerate(row_pairs):
            cells[2 * i].text, cells[2 * i + 1].text = label, value
    for label, value in (
        ("会议地点", "线上会议"),
        ("会议链接", "https://meeting.tencent.com/dm/abc123"),
        ("参会人员", "产品部：陈杰（决策人）、刘洋\n技术支持部：Emily Clark"),
    ):
        cells = table.add_row().cells
        cells[0].text = label
        cells[1].merge(cells[3]).text = value
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_attached_word_notice() -> None:
    mail = received(
        "会议通知见附件，请查收。", attachments=[("会议通知.docx", DOCX_TYPE, _notice_docx())]
    )
    result = notice(read_meeting_notice(mail, DIRECTORY, TZ))
    assert result.topic == "Q4推广活动技术支持方案"
    assert (result.starts_at, result.ends_at) == (at(3, 14), at(3, 16))
    assert (result.place, result.link) == ("线上会议", "https://meeting.tencent.com/dm/abc123")
    assert result.attendees == [
        Attendee(WANG_FANG, "host", "市场部"),
        Attendee(LI_NA, "recorder", "市场部"),
        Attendee(CHEN_JIE, "decision_maker", "产品部"),
        Attendee(LIU_YANG, "attendee", "产品部"),
        Attendee(EMILY, "attendee", "技术支持部"),
    ]


def test_link_written_inside_the_place() -> None:
    text = notice_with(会议地点="线上会议 https://meeting.tencent.com/dm/xyz")
    result = notice(read_meeting_notice(received(text), DIRECTORY, TZ))
    assert (result.place, result.link) == ("线上会议", "https://meeting.tencent.com/dm/xyz")


def test_a_link_alone_is_enough_and_a_meeting_number_is_kept_as_written() -> None:
    text = notice_with(会议地点=None, 会议号="腾讯会议 123-456-789")  # type: ignore[arg-type]
    result = notice(read_meeting_notice(received(text), DIRECTORY, TZ))
    assert (result.place, result.link) == ("", "腾讯会议 123-456-789")


def test_separate_date_and_time_fields() -> None:
    text = "Topic: Q4 support\nDate: 3 December 2026\nTime: 10:00 - 11:30\nPlace: Room 301\n"
    text += "Attendees: chen.jie@example.com, liu.yang@example.com\n"
    result = notice(read_meeting_notice(received(text), DIRECTORY, TZ))
    assert (result.starts_at, result.ends_at) == (at(3, 10), at(3, 11, 30))


# ---------------------------------------------------------------- problems


def test_every_problem_is_reported_at_once() -> None:
    text = "参会人员：王方、张伟、刘洋\n会议时间：下周三下午\n"
    found = problems(read_meeting_notice(received(text), DIRECTORY, TZ))
    assert found == [
        NoticeProblem("topic", "missing"),
        NoticeProblem("time", "bad_time", "下周三下午"),
        NoticeProblem("place", "missing"),
        NoticeProblem("attendees", "unknown_attendee", "王方", "王芳"),
        NoticeProblem(
            "attendees",
            "ambiguous_attendee",
            "张伟",
            "张伟 <zhang.wei@example.com>, 张伟 <zhang.wei2@example.com>",
        ),
    ]


def test_missing_time_and_attendees() -> None:
    text = "议题：Q4推广活动技术支持方案\n会议地点：3楼会议室A\n参会人员：\n"
    found = problems(read_meeting_notice(received(text), DIRECTORY, TZ))
    assert [(p.field, p.code) for p in found] == [("time", "missing"), ("attendees", "missing")]


def test_unknown_host_is_reported_under_its_field() -> None:
    found = problems(read_meeting_notice(received(notice_with(主持人="王晓芳")), DIRECTORY, TZ))
    assert found == [NoticeProblem("host", "unknown_attendee", "王晓芳", "王芳")]


def test_a_mail_without_a_form_reports_missing_fields() -> None:
    found = problems(read_meeting_notice(received("明天开会，大家准时到。"), DIRECTORY, TZ))
    assert {p.field for p in found} == {"topic", "time", "place", "attendees"}


@pytest.mark.parametrize(
    "written",
    [
        "2026年13月3日 14:00",
        "2026年12月3日",
        "2026-12-03 16:00-14:00",
        "12月3日下午",
        "2026-02-30 10:00",
    ],
)
def test_unreadable_times_are_bad_time(written: str) -> None:
    found = problems(read_meeting_notice(received(notice_with(会议时间=written)), DIRECTORY, TZ))
    assert found == [NoticeProblem("time", "bad_time", written)]


# ---------------------------------------------------------------- telling a notice apart


def test_looks_like_meeting_notice() -> None:
    assert looks_like_meeting_notice(received(NOTICE_ZH))
    assert looks_like_meeting_notice(received(NOTICE_EN))
    minutes = (
        "会议主题：Q4协调会\n会议时间：2026年12月3日14:00\n参会人员：王芳\n讨论要点与共识：同意\n"
    )
    assert not looks_like_meeting_notice(received(minutes))
    assert not looks_like_meeting_notice(received("收到，谢谢！\n\n王芳"))
    assert not looks_like_meeting_notice(received("申请部门：市场部\n涉及部门：产品部\n"))
    assert not looks_like_meeting_notice(received("会议时间：2026年12月3日14:00\n"))


# ---------------------------------------------------------------- times


@pytest.mark.parametrize(
    ("written", "start", "end"),
    [
        ("2026年12月3日14:00-16:00", at(3, 14), at(3, 16)),
        ("2026年12月3日（周四）下午2:00—4:00", at(3, 14), at(3, 16)),
        ("2026-12-03 14:00~16:00", at(3, 14), at(3, 16)),
        ("2026/12/3 14:00", at(3, 14), None),
        ("12月3日 14:30", at(3, 14, 30), None),
        ("Dec 3, 2026 2:00 PM - 4:00 PM", at(3, 14), at(3, 16)),
        ("3 December 2026 14:00", at(3, 14), None),
        ("２０２６年１２月３日　１４：００－１６：００", at(3, 14), at(3, 16)),
        ("2026年12月3日 上午10:00-12:00", at(3, 10), at(3, 12)),
        ("2026年12月3日 下午2点半至4点", at(3, 14, 30), at(3, 16)),
        ("2026年12月3日 14时30分", at(3, 14, 30), None),
        ("Thursday, December 3, 2026, 2pm–4pm", at(3, 14), at(3, 16)),
        ("11:00 - 1:00 PM, Dec 3 2026", at(3, 11), at(3, 13)),
        ("2026-12-03T09:30", at(3, 9, 30), None),
        ("2026-12-03 14:00（13:50签到）", at(3, 14), None),
    ],
)
def test_meeting_time_formats(written: str, start: dt.datetime, end: dt.datetime | None) -> None:
    assert parse_meeting_time(written, TZ, SENT.date()) == (start, end)


@pytest.mark.parametrize(
    ("written", "sent", "expected"),
    [
        ("12月3日 14:30", dt.date(2026, 11, 25), at(3, 14, 30)),
        ("12月3日 14:30", dt.date(2026, 12, 20), at(3, 14, 30)),  # minutes of a past meeting
        ("1月5日 10:00", dt.date(2026, 12, 20), at(5, 10, month=1, year=2027)),
        ("10月1日 9:00", dt.date(2026, 11, 25), at(1, 9, month=10)),  # 55 days back: this year
        ("9月1日 9:00", dt.date(2026, 11, 25), at(1, 9, month=9, year=2027)),  # 85 days back
        ("Jan 5 10:00", dt.date(2026, 12, 20), at(5, 10, month=1, year=2027)),
    ],
)
def test_year_of_a_date_written_without_one(
    written: str, sent: dt.date, expected: dt.datetime
) -> None:
    assert parse_meeting_time(written, TZ, sent) == (expected, None)


def test_year_less_date_without_a_mail_date_is_unreadable() -> None:
    assert parse_meeting_time("12月3日 14:30", TZ, None) is None


def test_times_are_local_to_the_given_zone() -> None:
    new_york = ZoneInfo("America/New_York")
    start, end = parse_meeting_time("2026-07-01 09:00-10:00", new_york, None) or (None, None)
    assert start == dt.datetime(2026, 7, 1, 13, 0, tzinfo=dt.UTC)
    assert end == dt.datetime(2026, 7, 1, 14, 0, tzinfo=dt.UTC)


def test_year_is_taken_from_the_mail_date_in_the_zone() -> None:
    """Sent 2026-12-31 20:00 UTC is already 1 January 2027 in Shanghai."""
    mail = received(
        notice_with(会议时间="1月5日 10:00"), date=dt.datetime(2026, 12, 31, 20, tzinfo=dt.UTC)
    )
    assert notice(read_meeting_notice(mail, DIRECTORY, TZ)).starts_at == at(
        5, 10, month=1, year=2027
    )


def test_due_dates() -> None:
    sent = dt.date(2026, 11, 25)
    assert parse_due_date("12月10日前", sent) == dt.date(2026, 12, 10)
    assert parse_due_date("by Dec 10", sent) == dt.date(2026, 12, 10)
    assert parse_due_date("2026.12.10", sent) == dt.date(2026, 12, 10)
    assert parse_due_date("10 January 2027", sent) == dt.date(2027, 1, 10)
    assert parse_due_date("2026-02-30", sent) is None
    assert parse_due_date("尽快", sent) is None


# ---------------------------------------------------------------- attendees


def resolve(text: str) -> tuple[list[Attendee], list[tuple[str, str, str]]]:
    found, unresolved = read_attendees(text, DIRECTORY)
    return found, [(u.code, u.value, u.suggestion) for u in unresolved]


def test_attendee_by_name_address_named_address_and_department() -> None:
    found, unresolved = resolve(
        "王芳，li.na@example.com; 陈杰 <CHEN.JIE@example.com>/Product、行政部 和 Emily Clark"
    )
    assert unresolved == []
    assert found == [
        Attendee(WANG_FANG, "attendee", "市场部"),
        Attendee(LI_NA, "attendee", "市场部"),
        Attendee(CHEN_JIE, "attendee", "产品部"),  # also Product's head: once
        Attendee(Person("wu.jing@example.com", "吴静"), "attendee", "行政部"),
        Attendee(EMILY, "attendee", "技术支持部"),
    ]


def test_attendee_from_outside_the_directory_by_address() -> None:
    found, unresolved = resolve(
        '法务顾问 <counsel@lawfirm.example>、auditor@example.org, "Smith, Ann" <ann@example.net>'
    )
    assert unresolved == []
    assert [a.person for a in found] == [
        Person("counsel@lawfirm.example", "法务顾问"),
        Person("auditor@example.org", ""),
        Person("ann@example.net", "Smith, Ann"),
    ]
    assert all(a.department == "" for a in found)


def test_department_stands_for_its_head() -> None:
    found, _ = resolve("产品部（决策人）、Technical Support、市场部门")
    assert found == [
        Attendee(CHEN_JIE, "decision_maker", "产品部"),
        Attendee(ZHOU_MIN, "attendee", "技术支持部"),
        Attendee(WANG_FANG, "attendee", "市场部"),
    ]


def test_connectors_and_supervisors() -> None:
    found, unresolved = resolve("王芳和李娜及陈杰\nWang Fang <wang.fang@example.com> and 赵强")
    assert unresolved == []
    assert [a.person.address for a in found] == [
        "wang.fang@example.com",
        "li.na@example.com",
        "chen.jie@example.com",
        "vp.sales@example.com",
    ]
    assert found[-1].department == ""  # a supervisor belongs to no department of their own


def test_ambiguous_name_is_not_guessed() -> None:
    _, unresolved = resolve("张伟")
    assert unresolved == [
        (
            "ambiguous_attendee",
            "张伟",
            "张伟 <zhang.wei@example.com>, 张伟 <zhang.wei2@example.com>",
        )
    ]


@pytest.mark.parametrize(
    "written",
    ["张伟（产品部）", "产品部：张伟", "产品部张伟", "产品部 张伟", "张伟 (Product, executor)"],
)
def test_a_department_narrows_an_ambiguous_name(written: str) -> None:
    found, unresolved = resolve(written)
    assert unresolved == []
    assert [(a.person.address, a.department) for a in found] == [
        ("zhang.wei2@example.com", "产品部")
    ]


def test_unknown_name_comes_with_the_closest_directory_name() -> None:
    _, unresolved = resolve("王方、Emily Clarke、吕布、王芳@市场部")
    assert unresolved == [
        ("unknown_attendee", "王方", "王芳"),
        ("unknown_attendee", "Emily Clarke", "Emily Clark"),
        ("unknown_attendee", "吕布", ""),
        ("unknown_attendee", "王芳@市场部", "市场部"),
    ]


def test_roles_inline_and_as_group_prefix() -> None:
    found, _ = resolve(
        "王芳（市场部经理，主持人）\n决策人：陈杰\n刘洋(Executor)、李娜【记录人】、Emily Clark (Decision maker)"
    )
    assert [(a.person.address, a.role, a.department) for a in found] == [
        ("wang.fang@example.com", "host", "市场部"),
        ("chen.jie@example.com", "decision_maker", "产品部"),
        ("liu.yang@example.com", "executor", "产品部"),
        ("li.na@example.com", "recorder", "市场部"),
        ("emily.clark@example.com", "decision_maker", "技术支持部"),
    ]


def test_titles_after_a_name_are_ignored() -> None:
    found, unresolved = resolve("王芳经理、陈杰 总监")
    assert unresolved == [] and [a.person for a in found] == [WANG_FANG, CHEN_JIE]


def test_merge_keeps_the_most_specific_role() -> None:
    merged = merge_attendees(
        [
            Attendee(WANG_FANG, "attendee"),
            Attendee(LI_NA, "recorder", "市场部"),
            Attendee(Person("wang.fang@example.com"), "host", "市场部"),
            Attendee(LI_NA, "executor"),
        ]
    )
    assert merged == [Attendee(WANG_FANG, "host", "市场部"), Attendee(LI_NA, "recorder", "市场部")]


def test_blank_and_placeholder_entries_name_nobody() -> None:
    assert read_person("", DIRECTORY) is None
    assert read_person("待定", DIRECTORY) is None
    assert resolve("、，") == ([], [])


def test_prose_after_the_attendee_list_is_not_a_name() -> None:
    text = notice_with(参会人员="王芳、陈杰") + "请各位准时参加，如有冲突请提前告知。\n李娜\n"
    result = notice(read_meeting_notice(received(text), DIRECTORY, TZ))
    assert [a.person for a in result.attendees] == [WANG_FANG, CHEN_JIE]
    text = notice_with(参会人员="\n市场部：王芳\n产品部：陈杰") + "\nPlease be on time\n"
    result = notice(read_meeting_notice(received(text), DIRECTORY, TZ))
    assert [a.person for a in result.attendees] == [WANG_FANG, CHEN_JIE]
