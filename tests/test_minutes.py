"""Minutes (Template 2) and their action items, from text, Outlook HTML and Word documents."""

from __future__ import annotations

import datetime as dt
import io
import tomllib
from pathlib import Path
from zoneinfo import ZoneInfo

import docx
import pytest
from mailbuilder import message

from mailflow.config import Directory, Person, config_from_dict
from mailflow.minutes import (
    ActionItemDraft,
    Attendee,
    Minutes,
    MinutesProblem,
    looks_like_minutes,
    read_minutes,
)
from mailflow.parse import ParsedMail, parse_message

DATA = Path(__file__).parent / "data" / "meetings"
TZ = ZoneInfo("Asia/Shanghai")
SENT = dt.datetime(2026, 12, 3, 17, 45, tzinfo=TZ)
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
WU_JING = Person("wu.jing@example.com", "吴静")

HEAD_ZH = """\
各位同事：

    现将12月3日协调会会议纪要发送如下，请于1个工作日内回复“确认”或提出异议。

会议主题：关于“Q4推广活动技术支持”协调会
会议时间：2026年12月3日14:00-16:00
会议地点：3楼会议室A/线上会议
主持人：王芳（市场部经理）
参会人员：市场部：王芳、李娜；产品部：陈杰、刘洋；技术支持部
记录人：李娜（市场部专员）
讨论要点与共识：
1.需求确认：市场部说明Q4推广活动需要的技术支持范围，产品部确认可以支持。
2.资源安排：技术支持部提供2名支持人员。
3.时间节点：方案初稿12月10日前完成。
"""
DISCUSSION_ZH = (
    "1.需求确认：市场部说明Q4推广活动需要的技术支持范围，产品部确认可以支持。\n"
    "2.资源安排：技术支持部提供2名支持人员。\n"
    "3.时间节点：方案初稿12月10日前完成。"
)
SIGNATURE_ZH = "\n谢谢！\n李娜\n市场部\n"

ACTIONS_SEPARATED = """\
行动项：
1. 产品部｜刘洋｜完成技术方案初稿｜2026-12-10｜方案通过评审
2. 技术支持部 | Emily Clark | 确定支持人员名单 | 12月8日 | 名单经市场部确认
3. 市场部\t李娜\t整理推广需求清单\t2026/12/5\t需求清单经产品部确认
4. 行政部   吴静   预订会议室   12月4日   会议室确认
备注：各责任人每周一前在回复中更新进度。
"""
ACTIONS_PROSE = """\
行动项：
- 产品部 刘洋：完成技术方案初稿，12月10日前，标准：方案通过评审
- 技术支持部：确定支持人员名单（负责人：Emily Clark），2026年12月8日前完成，验收标准：名单经市场部确认
- 市场部李娜：整理推广需求清单，截止12月5日
- 行政部：12月4日前预订会议室
"""
EXPECTED_ACTIONS = [
    ActionItemDraft(
        "产品部",
        LIU_YANG,
        "刘洋",
        "完成技术方案初稿",
        dt.date(2026, 12, 10),
        "2026-12-10",
        "方案通过评审",
    ),
    ActionItemDraft(
        "技术支持部",
        EMILY,
        "Emily Clark",
        "确定支持人员名单",
        dt.date(2026, 12, 8),
        "12月8日",
        "名单经市场部确认",
    ),
    ActionItemDraft(
        "市场部",
        LI_NA,
        "李娜",
        "整理推广需求清单",
        dt.date(2026, 12, 5),
        "2026/12/5",
        "需求清单经产品部确认",
    ),
    ActionItemDraft(
        "行政部", WU_JING, "吴静", "预订会议室", dt.date(2026, 12, 4), "12月4日", "会议室确认"
    ),
]

MINUTES_EN = """\
Hi all,

Please find the minutes below and reply "confirmed" or state your objection.

Topic: Technical support for the Q4 campaign
Time: Dec 3, 2026 2:00 PM - 4:00 PM
Location: Room 301, 3F
Host: Wang Fang <wang.fang@example.com>
Attendees: chen.jie@example.com, Liu Yang <liu.yang@example.com>, Technical Support
Recorder: Emily Clark
Discussion and consensus:
1. Marketing explained the support it needs; Product agreed to provide it.
2. Technical Support will name two engineers.
Action items:
Department / Owner / Task / Due / Standard
Product / liu.yang@example.com / draft the technical plan / 2026-12-10 / plan passes review
- Technical Support, Emily Clark: confirm the support staff list by Dec 8; standard: list confirmed by Marketing

Best regards,
Emily Clark
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
        sender=("李娜", "li.na@example.com"),
        subject="[REQ-2026-0001] 会议纪要：Q4推广活动技术支持协调会",
        text=text,
        html=html,
        charset=charset,
        attachments=attachments,
        date=date,
    )
    return parse_message(raw)


def read(text: str, **kwargs: object) -> Minutes | list[MinutesProblem]:
    return read_minutes(received(text, **kwargs), DIRECTORY, TZ)  # type: ignore[arg-type]


def accepted(result: Minutes | list[MinutesProblem]) -> Minutes:
    assert isinstance(result, Minutes), result
    return result


def rejected(result: Minutes | list[MinutesProblem]) -> list[MinutesProblem]:
    assert isinstance(result, list), result
    return result


def minutes_with_actions(actions: str) -> str:
    return HEAD_ZH + actions + SIGNATURE_ZH


# ---------------------------------------------------------------- whole minutes


def test_chinese_text_minutes_with_separated_action_lines() -> None:
    result = accepted(read(minutes_with_actions(ACTIONS_SEPARATED), charset="gb2312"))
    assert result.topic == "关于“Q4推广活动技术支持”协调会"
    assert result.held_at == dt.datetime(2026, 12, 3, 14, tzinfo=TZ)
    assert result.held_text == "2026年12月3日14:00-16:00"
    assert result.place == "3楼会议室A/线上会议"
    assert result.host == WANG_FANG and result.recorder == LI_NA
    assert result.attendees == [
        Attendee(WANG_FANG, "host", "市场部"),
        Attendee(LI_NA, "recorder", "市场部"),
        Attendee(CHEN_JIE, "attendee", "产品部"),
        Attendee(LIU_YANG, "attendee", "产品部"),
        Attendee(ZHOU_MIN, "attendee", "技术支持部"),
    ]
    assert result.discussion == DISCUSSION_ZH
    assert result.actions == EXPECTED_ACTIONS
    assert result.language == "zh"


def test_action_items_as_prose_lines() -> None:
    result = accepted(read(minutes_with_actions(ACTIONS_PROSE)))
    assert [
        (a.department, a.owner, a.task, a.due, a.due_text, a.standard) for a in result.actions
    ] == [
        (
            "产品部",
            LIU_YANG,
            "完成技术方案初稿",
            dt.date(2026, 12, 10),
            "12月10日前",
            "方案通过评审",
        ),
        (
            "技术支持部",
            EMILY,
            "确定支持人员名单",
            dt.date(2026, 12, 8),
            "2026年12月8日前完成",
            "名单经市场部确认",
        ),
        ("市场部", LI_NA, "整理推广需求清单", dt.date(2026, 12, 5), "截止12月5日", ""),
        ("行政部", WU_JING, "预订会议室", dt.date(2026, 12, 4), "12月4日前", ""),
    ]
    assert result.actions[3].owner_text == ""  # no owner written: the department's head
    assert result.discussion == DISCUSSION_ZH


def test_header_line_gives_the_column_order() -> None:
    actions = (
        "行动项：\n"
        "任务｜负责人｜责任部门｜截止日期｜验收标准｜状态\n"
        "完成技术方案初稿｜刘洋｜产品部｜2026-12-10｜方案通过评审｜未开始\n"
        "确定支持人员名单｜Emily Clark｜技术支持部｜12月8日｜名单经市场部确认｜未开始\n"
    )
    result = accepted(read(minutes_with_actions(actions)))
    assert [(a.department, a.owner, a.task, a.due) for a in result.actions] == [
        ("产品部", LIU_YANG, "完成技术方案初稿", dt.date(2026, 12, 10)),
        ("技术支持部", EMILY, "确定支持人员名单", dt.date(2026, 12, 8)),
    ]


def test_a_header_line_alone_opens_the_action_section() -> None:
    actions = (
        "部门|负责人|任务|完成时间|完成标准\n产品部|刘洋|完成技术方案初稿|2026-12-10|方案通过评审\n"
    )
    result = accepted(read(minutes_with_actions(actions)))
    assert [(a.department, a.owner, a.task) for a in result.actions] == [
        ("产品部", LIU_YANG, "完成技术方案初稿")
    ]


def test_english_minutes_with_slash_and_prose_action_lines() -> None:
    result = accepted(read(MINUTES_EN))
    assert result.topic == "Technical support for the Q4 campaign"
    assert result.held_at == dt.datetime(2026, 12, 3, 14, tzinfo=TZ)
    assert result.place == "Room 301, 3F"
    assert result.host == WANG_FANG and result.recorder == EMILY
    assert [(a.person, a.role) for a in result.attendees] == [
        (WANG_FANG, "host"),
        (EMILY, "recorder"),
        (CHEN_JIE, "attendee"),
        (LIU_YANG, "attendee"),
        (ZHOU_MIN, "attendee"),
    ]
    assert result.discussion.splitlines()[1] == "2. Technical Support will name two engineers."
    assert result.actions == [
        ActionItemDraft(
            "产品部",
            LIU_YANG,
            "liu.yang@example.com",
            "draft the technical plan",
            dt.date(2026, 12, 10),
            "2026-12-10",
            "plan passes review",
        ),
        ActionItemDraft(
            "技术支持部",
            EMILY,
            "Emily Clark",
            "confirm the support staff list",
            dt.date(2026, 12, 8),
            "by Dec 8",
            "list confirmed by Marketing",
        ),
    ]
    assert result.language == "en"


def test_outlook_html_minutes_with_an_action_table() -> None:
    """Template 2 pasted from Word, an action table with 序号 and 状态 columns and a
    department cell merged over two rows."""
    html = (DATA / "outlook_minutes_zh.html").read_text(encoding="utf-8")
    result = accepted(read_minutes(received(html=html, charset="gb2312"), DIRECTORY, TZ))
    assert result.topic == "关于“Q4推广活动技术支持”协调会"
    assert result.host == WANG_FANG and result.recorder == LI_NA
    assert [a.person.address for a in result.attendees] == [
        "wang.fang@example.com",
        "li.na@example.com",
        "chen.jie@example.com",
        "liu.yang@example.com",
        "zhou.min@example.com",
    ]
    assert result.discussion.splitlines()[1] == "2.资源安排：技术支持部提供2名支持人员。"
    assert result.actions == [
        ActionItemDraft(
            "产品部",
            LIU_YANG,
            "刘洋",
            "完成技术方案初稿",
            dt.date(2026, 12, 10),
            "2026-12-10",
            "方案通过评审",
        ),
        ActionItemDraft(
            "产品部",
            CHEN_JIE,
            "陈杰",
            "评审技术方案",
            dt.date(2026, 12, 15),
            "2026年12月15日",
            "评审意见书面反馈",
        ),
        ActionItemDraft(
            "技术支持部",
            EMILY,
            "Emily Clark",
            "确定支持人员名单",
            dt.date(2026, 12, 8),
            "12月8日",
            "名单经市场部确认",
        ),
    ]


def _minutes_docx(*, section_row: bool = True) -> bytes:
    """Template 2 as a Word table, with the action items as rows of the same table (under a
    行动项 row, or right under 讨论要点与共识)."""
    document = docx.Document()
    document.add_heading("跨部门协调会议纪要", level=1)
    table = document.add_table(rows=0, cols=6)
    table.style = "Table Grid"
    for label, value in (
        ("会议主题", "关于“Q4推广活动技术支持”协调会"),
        ("会议时间", "2026年12月3日14:00-16:00"),
        ("会议地点", "3楼会议室A/线上会议"),
        ("主持人", "王芳（市场部经理）"),
        ("参会人员", "王芳、李娜（市场部）、陈杰、刘洋（产品部）、技术支持部"),
        ("记录人", "李娜（市场部专员）"),
        ("讨论要点与共识", DISCUSSION_ZH),
        *([("行动项", "")] if section_row else []),
    ):
        cells = table.add_row().cells
        cells[0].text = label
        cells[1].merge(cells[5]).text = value
    rows = (
        ("序号", "部门", "负责人", "工作内容", "完成时间", "完成标准"),
        ("1", "产品部", "刘洋", "完成技术方案初稿", "2026-12-10", "方案通过评审"),
        ("2", "技术支持部", "", "确定支持人员名单", "2026-12-08", "名单经市场部确认"),
        ("3", "", "李娜", "整理推广需求清单", "12月5日", ""),
    )
    for values in rows:
        for cell, value in zip(table.add_row().cells, values, strict=True):
            cell.text = value
    cells = table.add_row().cells
    cells[0].text = "备注"
    cells[1].merge(cells[5]).text = "请各部门按时完成。"
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("section_row", [True, False])
def test_attached_word_minutes(section_row: bool) -> None:
    document = _minutes_docx(section_row=section_row)
    mail = received(
        "各位好，会议纪要见附件，请回复确认。", attachments=[("会议纪要.docx", DOCX_TYPE, document)]
    )
    result = accepted(read_minutes(mail, DIRECTORY, TZ))
    assert result.topic == "关于“Q4推广活动技术支持”协调会"
    assert result.host == WANG_FANG and result.recorder == LI_NA
    assert result.discussion == DISCUSSION_ZH
    assert result.actions == [
        ActionItemDraft(
            "产品部",
            LIU_YANG,
            "刘洋",
            "完成技术方案初稿",
            dt.date(2026, 12, 10),
            "2026-12-10",
            "方案通过评审",
        ),
        ActionItemDraft(
            "技术支持部",
            ZHOU_MIN,
            "",
            "确定支持人员名单",
            dt.date(2026, 12, 8),
            "2026-12-08",
            "名单经市场部确认",
        ),
        ActionItemDraft(
            "市场部", LI_NA, "李娜", "整理推广需求清单", dt.date(2026, 12, 5), "12月5日", ""
        ),
    ]
    assert looks_like_minutes(mail)


def test_typed_minutes_with_the_action_table_in_the_html_part() -> None:
    """Outlook: fields typed as paragraphs, the action items inserted as a table."""
    text = (
        HEAD_ZH
        + "行动项：\n部门\t负责人\t任务\t完成时间\t完成标准\n产品部\t刘洋\t完成技术方案初稿\t2026-12-10\t方案通过评审\n"
    )
    paragraphs = "".join(f"<p class=MsoNormal>{line}</p>" for line in HEAD_ZH.splitlines())
    table = (
        "<table border=1><tr><td>部门</td><td>负责人</td><td>任务</td><td>完成时间</td><td>完成标准</td></tr>"
        "<tr><td>产品部</td><td>陈杰</td><td>评审技术方案</td><td>2026-12-15</td><td>评审意见书面反馈</td></tr></table>"
    )
    html = f"<html><body>{paragraphs}<p>行动项：</p>{table}</body></html>"
    result = accepted(read_minutes(received(text, html=html), DIRECTORY, TZ))
    assert [(a.owner, a.task) for a in result.actions] == [(CHEN_JIE, "评审技术方案")]


def test_dated_department_lines_in_the_discussion_are_action_items() -> None:
    text = HEAD_ZH.replace(
        "3.时间节点：方案初稿12月10日前完成。",
        "3.市场部：继续收集推广需求。\n4.产品部：12月10日前完成技术方案初稿，标准：方案通过评审",
    )
    result = accepted(read(text))
    assert result.actions == [
        ActionItemDraft(
            "产品部",
            CHEN_JIE,
            "",
            "完成技术方案初稿",
            dt.date(2026, 12, 10),
            "12月10日前",
            "方案通过评审",
        )
    ]
    assert "4.产品部：12月10日前完成技术方案初稿" in result.discussion


def test_minutes_without_action_items() -> None:
    result = accepted(read(HEAD_ZH))
    assert result.actions == []


# ---------------------------------------------------------------- owners and departments


def test_owner_as_a_department_or_blank_is_the_department_head() -> None:
    actions = (
        "行动项：\n1. 产品部｜产品部｜完成技术方案初稿｜2026-12-10｜\n"
        "2. 市场部｜｜整理推广需求清单｜2026-12-05｜\n"
    )
    result = accepted(read(minutes_with_actions(actions)))
    assert [(a.owner, a.owner_text) for a in result.actions] == [
        (CHEN_JIE, "产品部"),
        (WANG_FANG, ""),
    ]


def test_department_of_the_item_narrows_an_ambiguous_owner() -> None:
    result = accepted(
        read(minutes_with_actions("行动项：\n1. 产品部｜张伟｜联调｜2026-12-10｜联调通过\n"))
    )
    assert result.actions[0].owner == Person("zhang.wei2@example.com", "张伟")


def test_department_is_taken_from_the_owner_when_left_out() -> None:
    result = accepted(
        read(minutes_with_actions("行动项：\n- 刘洋：完成技术方案初稿，2026-12-10前\n"))
    )
    assert (result.actions[0].department, result.actions[0].owner) == ("产品部", LIU_YANG)


def test_every_action_problem_is_reported() -> None:
    actions = (
        "行动项：\n"
        "1. 产口部｜刘洋｜完成技术方案初稿｜2026-12-10｜方案通过评审\n"
        "2. 产品部｜刘阳｜评审技术方案｜2026-12-15｜\n"
        "3. 行政部｜张伟｜预订会议室｜12月32日｜\n"
        "4. 市场部｜王芳和李娜｜整理需求｜2026-12-05｜\n"
        "5. 技术支持部｜Zhou Min｜｜2026-12-08｜\n"
        "6. 各部门按计划推进\n"
    )
    found = rejected(read(minutes_with_actions(actions)))
    assert found == [
        MinutesProblem("actions[1].department", "unknown_department", "产口部", "产品部"),
        MinutesProblem("actions[2].owner", "unknown_owner", "刘阳", "刘洋"),
        MinutesProblem(
            "actions[3].owner",
            "ambiguous_attendee",
            "张伟",
            "张伟 <zhang.wei@example.com>, 张伟 <zhang.wei2@example.com>",
        ),
        MinutesProblem("actions[3].due", "bad_date", "12月32日"),
        MinutesProblem("actions[4].owner", "ambiguous_attendee", "王芳和李娜", "王芳, 李娜"),
        MinutesProblem("actions[5].task", "missing", "5. 技术支持部｜Zhou Min｜｜2026-12-08｜"),
        MinutesProblem("actions[6].department", "missing", "6. 各部门按计划推进"),
    ]


# ---------------------------------------------------------------- the minutes' own fields


def test_required_fields_are_reported_together() -> None:
    found = rejected(read("会议时间：2026年12月3日14:00\n主持人：王芳\n"))
    assert found == [
        MinutesProblem("topic", "missing"),
        MinutesProblem("attendees", "missing"),
        MinutesProblem("discussion", "missing"),
    ]


def test_attendee_problems() -> None:
    text = HEAD_ZH.replace(
        "参会人员：市场部：王芳、李娜；产品部：陈杰、刘洋；技术支持部", "参会人员：王芳、王方、张伟"
    )
    text = text.replace("记录人：李娜（市场部专员）", "记录人：李小娜")
    found = rejected(read(text))
    assert found == [
        MinutesProblem("recorder", "unknown_attendee", "李小娜", "李娜"),
        MinutesProblem("attendees", "unknown_attendee", "王方", "王芳"),
        MinutesProblem(
            "attendees",
            "ambiguous_attendee",
            "张伟",
            "张伟 <zhang.wei@example.com>, 张伟 <zhang.wei2@example.com>",
        ),
    ]


def test_attendees_naming_nobody_are_missing() -> None:
    found = rejected(
        read(
            HEAD_ZH.replace(
                "参会人员：市场部：王芳、李娜；产品部：陈杰、刘洋；技术支持部", "参会人员：无"
            )
        )
    )
    assert found == [MinutesProblem("attendees", "missing", "无")]


def test_unreadable_meeting_time_is_kept_as_written() -> None:
    result = accepted(read(HEAD_ZH.replace("2026年12月3日14:00-16:00", "2023年X月X日14:00-16:00")))
    assert (result.held_at, result.held_text) == (None, "2023年X月X日14:00-16:00")


def test_host_who_also_records() -> None:
    text = HEAD_ZH.replace("记录人：李娜（市场部专员）", "记录人：王芳")
    result = accepted(read(text))
    assert result.host == WANG_FANG and result.recorder == WANG_FANG
    assert result.attendees[0] == Attendee(WANG_FANG, "host", "市场部")


def test_host_and_recorder_named_only_in_the_attendee_list() -> None:
    text = HEAD_ZH.replace("主持人：王芳（市场部经理）\n", "").replace(
        "记录人：李娜（市场部专员）\n", ""
    )
    text = text.replace("市场部：王芳、李娜；", "王芳（主持人）、李娜（记录人）；")
    result = accepted(read(text))
    assert result.host == WANG_FANG and result.recorder == LI_NA


def test_due_dates_without_a_year_follow_the_mail_date() -> None:
    actions = "行动项：\n1. 产品部｜刘洋｜完成技术方案初稿｜1月10日｜方案通过评审\n"
    result = accepted(
        read(minutes_with_actions(actions), date=dt.datetime(2026, 12, 28, 9, tzinfo=TZ))
    )
    assert result.actions[0].due == dt.date(2027, 1, 10)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (HEAD_ZH, True),
        (MINUTES_EN, True),
        ("议题：Q4\n会议时间：2026年12月3日14:00\n参会人员：王芳\n会议地点：A\n", False),
        ("确认，无异议。\n\n陈杰", False),
        ("讨论要点与共识：同意\n", False),
    ],
)
def test_looks_like_minutes(text: str, expected: bool) -> None:
    assert looks_like_minutes(received(text)) is expected
