"""Template 1 request forms read from text, Outlook HTML tables and Word documents."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import docx
import pytest
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from mailbuilder import fill_docx

from mailflow.config import Department, Directory, Person
from mailflow.forms import (
    REQUEST_FIELDS,
    FieldSpec,
    FormProblem,
    FormRejection,
    RequestForm,
    blank_request_form_docx,
    blank_request_form_text,
    extract_fields,
    field_label,
    parse_form_date,
    read_request_form,
    read_urgency,
)
from mailflow.parse import Attachment, ParsedMail

DATA = Path(__file__).parent / "data" / "forms"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _department(name: str, *aliases: str) -> Department:
    return Department(name=name, aliases=aliases, head=Person(f"head.{len(name)}@example.com"))


DIRECTORY = Directory(
    departments=(
        _department("市场部", "Marketing", "市场"),
        _department("产品部", "Product", "产品"),
        _department("技术部", "Technology", "Tech"),
        _department("客服部", "Customer Service", "客服"),
        _department("运营部", "Operations"),
        _department("财务部", "Finance"),
        _department("研发部", "Research and Development", "R&D"),
    )
)


def mail(text: str = "", html: str = "", attachments: tuple[Attachment, ...] = ()) -> ParsedMail:
    return ParsedMail(
        message_id="<1@example.com>",
        dedupe_key="mid:<1@example.com>",
        subject="需求申请",
        sender=None,
        text=text,
        html=html,
        attachments=list(attachments),
    )


def docx_mail(data: bytes, text: str = "", filename: str = "申请表.docx") -> ParsedMail:
    return mail(text=text, attachments=(Attachment(filename, DOCX_TYPE, data),))


def read(text: str) -> RequestForm | FormRejection:
    return read_request_form(mail(text), DIRECTORY)


def accepted(result: RequestForm | FormRejection) -> RequestForm:
    assert isinstance(result, RequestForm), result
    return result


def rejected(result: RequestForm | FormRejection) -> FormRejection:
    assert isinstance(result, FormRejection), result
    return result


ZH_FORM = """各位好，附上需求申请：

1. 申请部门：市场部
2. 申请日期: 2026年11月20日
* 需求编号：（自动生成）
需求背景（简要说明沟通协调的起因、当前问题等）：因Q3季度市场推广活动需产品部提供技术支持，
为保证活动按时落地，需协调双方资源与时间节点。
目前技术支持排期已满。
涉及部门(列出所有需参与的部门)：产品部、技术部和客服部
牵头部门：产品部
期望目标：确定技术支持人员名单及交付时间
紧急程度（勾选）：□紧急（24小时内响应）☑重要（3个工作日内响应）□常规（1周内响应）
附件材料：无
发起部门负责人签字：王芳
日期：2026-11-21

谢谢！
王芳
"""

EN_FORM = """Hi,

- Requesting department: Marketing
- Date: 20 Nov 2026
- Request number: MKT-7
- Background: The Q3 campaign needs technical support from Product.
  Both sides must agree on people and dates.
- Departments involved: Product and Technology; Customer Service
- Expected goal: a named support team and delivery dates
- Priority: [ ] Urgent (response within 24 hours) [x] Important [ ] Normal
- Attachments: None
- Signed by: Jane Doe
- Date: 21 Nov 2026
"""


# ---------------------------------------------------------------- text


def test_chinese_label_lines_with_hints_bullets_and_both_colons() -> None:
    form = accepted(read(ZH_FORM))
    assert form == RequestForm(
        requesting_department="市场部",
        application_date=dt.date(2026, 11, 20),
        number="",
        background="因Q3季度市场推广活动需产品部提供技术支持，\n"
        "为保证活动按时落地，需协调双方资源与时间节点。\n目前技术支持排期已满。",
        departments=["产品部", "技术部", "客服部"],
        lead_department="产品部",
        goal="确定技术支持人员名单及交付时间",
        urgency="important",
        attachments_note="",
        signed_by="王芳",
        signed_date=dt.date(2026, 11, 21),
        language="zh",
        source="text",
    )


def test_english_label_lines() -> None:
    form = accepted(read(EN_FORM))
    assert form.requesting_department == "市场部"
    assert form.application_date == dt.date(2026, 11, 20)
    assert form.number == "MKT-7"
    assert form.background == (
        "The Q3 campaign needs technical support from Product.\n"
        "Both sides must agree on people and dates."
    )
    assert form.departments == ["产品部", "技术部", "客服部"]
    assert form.lead_department is None
    assert form.urgency == "important"
    assert form.attachments_note == ""
    assert (form.signed_by, form.signed_date) == ("Jane Doe", dt.date(2026, 11, 21))
    assert (form.language, form.source) == ("en", "text")


def test_label_alone_on_its_line_with_value_on_the_next_lines() -> None:
    text = """申请部门
市场部
申请日期
2026/11/20
需求背景
（简要说明沟通协调的起因、当前问题等，示例：为提升客户满意度，需协调客服部与技术部优化售后响应流程）
售后响应慢，
客户投诉多。
涉及部门：
客服部
技术部
期望目标

投诉处理时长缩短30%
紧急程度（勾选）
□紧急（24小时内响应）
□重要（3个工作日内响应）
■常规（1周内响应）
"""
    form = accepted(read(text))
    assert form.requesting_department == "市场部"
    assert form.application_date == dt.date(2026, 11, 20)
    assert form.background == "售后响应慢，\n客户投诉多。"
    assert form.departments == ["客服部", "技术部"]
    assert form.goal == "投诉处理时长缩短30%"
    assert form.urgency == "normal"


MINIMAL_REST = "需求背景：x\n涉及部门：产品部\n期望目标：y\n紧急程度：紧急\n"


def test_two_label_value_pairs_on_one_line() -> None:
    text = "申请部门：市场部    申请日期：2026-11-20\n" + MINIMAL_REST
    form = accepted(read(text))
    assert (form.requesting_department, form.application_date) == ("市场部", dt.date(2026, 11, 20))


def test_tab_separated_cells_read_like_a_table_row() -> None:
    text = "申请部门\t市场部\t申请日期\t2026-11-20\n需求背景\tx\n" + MINIMAL_REST.replace(
        "紧急", "☑紧急"
    )
    form = accepted(read(text))
    assert (form.requesting_department, form.application_date) == ("市场部", dt.date(2026, 11, 20))
    assert form.urgency == "urgent"


@pytest.mark.parametrize(
    "marker",
    [
        "> 申请部门：财务部",
        "-----原始邮件-----",
        "-----Original Message-----",
        "------------------ 原始邮件 ------------------",
    ],
)
def test_text_stops_at_the_quoted_original(marker: str) -> None:
    quoted = "\n申请部门：财务部\n期望目标：旧目标\n附件材料：旧附件.pdf\n"
    form = accepted(read(ZH_FORM.replace("附件材料：无\n", "") + marker + quoted))
    assert form.requesting_department == "市场部"
    assert form.goal == "确定技术支持人员名单及交付时间"
    assert form.attachments_note == ""


@pytest.mark.parametrize(
    "tail",
    [
        "\n谢谢！\n王芳\n",
        "\nBest regards,\nJane\n",
        "\nOn Mon, 16 Nov 2026 at 10:00, Jane <jane@example.com> wrote:\n",
        "\n王芳 <wang.fang@example.com> 于2026年11月16日周一 10:00写道：\n",
        "\n________________________________\nFrom: Jane\n",
        "\n-- \nJane Doe, Marketing\n",
    ],
)
def test_a_multiline_value_stops_at_the_sign_off_or_the_quote(tail: str) -> None:
    text = "申请部门：市场部\n涉及部门：产品部\n紧急程度：紧急\n需求背景：x\n"
    text += "期望目标：第一行\n第二行\n"
    assert accepted(read(text + tail + "附件材料：旧.pdf\n")).goal == "第一行\n第二行"


def test_a_form_only_in_the_quoted_original_is_not_read() -> None:
    result = rejected(read("好的，收到。\n\n-----原始邮件-----\n" + ZH_FORM))
    assert not result.found_any_field


@pytest.mark.parametrize(
    ("label", "value"),
    [
        ("Requesting Dept.", "Marketing"),
        ("ＲＥＱＵＥＳＴＩＮＧ　ＤＥＰＡＲＴＭＥＮＴ", "Marketing"),
        ("**申请部门**", "市场部"),
        ("申请部门名称", "市场部"),
        ("申请 部门 （必填）", "市场部"),
        ("Requestng department", "Marketing"),
        ("申请部门 Requesting department", "市场部"),
    ],
)
def test_labels_match_tolerantly(label: str, value: str) -> None:
    form = extract_fields(mail(f"{label}: {value}\n期望目标：x"), REQUEST_FIELDS)
    assert form is not None
    assert form.values["requesting_department"] == value


def test_sentences_with_colons_are_not_labels() -> None:
    assert extract_fields(mail("Note: see below\n会议时间：明天 14:00\n"), REQUEST_FIELDS) is None


def test_hint_text_alone_counts_as_empty() -> None:
    text = blank_request_form_text("zh").replace("申请部门：", "申请部门：市场部")
    result = rejected(read(text))
    assert [(p.field, p.code) for p in result.problems] == [
        ("background", "missing"),
        ("departments", "missing"),
        ("goal", "missing"),
        ("urgency", "unreadable_urgency"),
    ]
    assert result.language == "zh"
    assert result.found_any_field


def test_value_typed_after_the_hint_is_kept() -> None:
    text = (
        "申请部门：市场部\n涉及部门：（列出所有需参与的部门，示例：客服部、技术部、运营部）产品部\n"
        "需求背景：x\n期望目标：y\n紧急程度：紧急\n牵头部门：（可选，留空则由申请部门牵头）\n"
    )
    form = accepted(read(text))
    assert form.departments == ["产品部"]
    assert form.lead_department is None


def test_blank_text_form_filled_in_round_trips() -> None:
    filled = {
        "Requesting department:": "Requesting department: Finance",
        "Background: (": "Background: budget review (",
        "Departments involved: (": "Departments involved: Operations (",
        "Expected goal: (": "Expected goal: approved budget (",
        "□ Urgent": "☑ Urgent",
    }
    text = blank_request_form_text("en")
    for old, new in filled.items():
        text = text.replace(old, new)
    form = accepted(read(text))
    assert form.requesting_department == "财务部"
    assert form.departments == ["运营部"]
    assert (form.background, form.goal) == ("budget review", "approved budget")
    assert form.urgency == "urgent"
    assert form.number == ""


# ---------------------------------------------------------------- urgency


OPTIONS_ZH = "□紧急（24小时内响应）□重要（3个工作日内响应）□常规（1周内响应）"


@pytest.mark.parametrize(
    "tick", ["☑", "☒", "■", "√", "✓", "✔", "[x]", "[X]", "(x)", "（x）", "［x］", "（X）", "（√）"]
)
def test_each_tick_marker_in_the_template_option_line(tick: str) -> None:
    assert read_urgency(OPTIONS_ZH.replace("□重要", f"{tick}重要")) == "important"
    assert read_urgency(OPTIONS_ZH.replace("□紧急", f"{tick}紧急")) == "urgent"
    assert read_urgency(OPTIONS_ZH.replace("□常规", f"{tick}常规")) == "normal"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("重要", "important"),
        ("Urgent", "urgent"),
        ("一般", "normal"),
        ("常规（1周内响应）", "normal"),
        ("紧急☑ 重要□ 常规□", "urgent"),
        ("□紧急（24小时内响应）重要✓（3个工作日内响应）□常规", "important"),
        ("☐ Urgent ☐ Important ☒ Normal", "normal"),
        ("[ ] 紧急\n[x] 重要\n[ ] 常规", "important"),
        ("( ) Urgent (x) Important ( ) Normal", "important"),
        ("☑紧急（24小时内响应）", "urgent"),
        (OPTIONS_ZH, None),  # nothing ticked
        (OPTIONS_ZH.replace("□紧急", "☑紧急").replace("□常规", "☑常规"), None),
        ("紧急/重要", None),  # two levels named
        ("尽快", None),  # no level word
        ("☑", None),
        ("", None),
    ],
)
def test_urgency_readings(text: str, expected: str | None) -> None:
    assert read_urgency(text) == expected


def test_unreadable_urgency_is_reported_with_what_was_written() -> None:
    result = rejected(read(ZH_FORM.replace("□紧急", "☑紧急")))
    assert result.problems == [
        FormProblem(
            "urgency",
            "unreadable_urgency",
            OPTIONS_ZH.replace("□紧急", "☑紧急").replace("□重要", "☑重要"),
        )
    ]


# ---------------------------------------------------------------- departments


def _with_departments(value: str) -> RequestForm | FormRejection:
    return read(ZH_FORM.replace("产品部、技术部和客服部", value))


@pytest.mark.parametrize(
    "value",
    [
        "产品部、技术部",
        "产品部，技术部",
        "产品部,技术部",
        "产品部;技术部",
        "产品部；技术部",
        "产品部/技术部",
        "产品部和技术部",
        "产品部 和 技术部",
        "产品部及技术部",
        "产品部以及技术部",
        "Product and Technology",
        "Product, Tech",
        "产品、技术部",
        "部门：产品部、技术部",
        "产品部（牵头）、技术部等",
        "产品部门、技术部",
        "产品部、Product、技术部、产品部",
    ],
)
def test_department_separators_aliases_and_noise(value: str) -> None:
    assert accepted(_with_departments(value)).departments == ["产品部", "技术部"]


def test_a_known_name_containing_and_is_not_split() -> None:
    assert accepted(_with_departments("Research and Development、产品部")).departments == [
        "研发部",
        "产品部",
    ]


def test_unknown_departments_come_with_the_closest_known_name() -> None:
    result = rejected(_with_departments("产品部、技朮部、销售部"))
    assert result.problems == [
        FormProblem("departments", "unknown_department", "技朮部", "技术部"),
        FormProblem("departments", "unknown_department", "销售部", ""),
    ]


def test_unknown_requesting_and_lead_departments() -> None:
    text = ZH_FORM.replace("申请部门：市场部", "申请部门：Marketting").replace(
        "牵头部门：产品部", "牵头部门：Prodcut"
    )
    result = rejected(read(text))
    assert result.problems == [
        FormProblem("requesting_department", "unknown_department", "Marketting", "市场部"),
        FormProblem("lead_department", "unknown_department", "Prodcut", "产品部"),
    ]


def test_lead_department_need_not_be_among_the_involved() -> None:
    form = accepted(read(ZH_FORM.replace("牵头部门：产品部", "牵头部门：Operations")))
    assert form.lead_department == "运营部"
    assert "运营部" not in form.departments


# ---------------------------------------------------------------- problems


def test_every_problem_is_reported_at_once() -> None:
    text = """申请部门：市场部
申请日期：下周一
涉及部门：产品部、法务部
紧急程度：□紧急 □重要 □常规
发起部门负责人签字：王芳
日期：2026-02-30
"""
    result = rejected(read(text))
    assert result.problems == [
        FormProblem("application_date", "bad_date", "下周一"),
        FormProblem("background", "missing"),
        FormProblem("departments", "unknown_department", "法务部", "财务部"),
        FormProblem("goal", "missing"),
        FormProblem("urgency", "unreadable_urgency", "□紧急 □重要 □常规"),
        FormProblem("signed_date", "bad_date", "2026-02-30"),
    ]
    assert result.found_any_field


@pytest.mark.parametrize(("text", "language"), [("请帮忙协调一下", "zh"), ("Please help", "en")])
def test_a_mail_without_any_field(text: str, language: str) -> None:
    result = rejected(read(text))
    assert not result.found_any_field
    assert result.language == language
    assert [(p.field, p.code) for p in result.problems] == [
        ("requesting_department", "missing"),
        ("background", "missing"),
        ("departments", "missing"),
        ("goal", "missing"),
        ("urgency", "missing"),
    ]


@pytest.mark.parametrize("value", ["无", "None", "N/A", "（无）", "没有", "n/a"])
def test_no_attachments(value: str) -> None:
    assert (
        accepted(read(ZH_FORM.replace("附件材料：无", f"附件材料：{value}"))).attachments_note == ""
    )


def test_attachments_note_is_kept() -> None:
    form = accepted(read(ZH_FORM.replace("附件材料：无", "附件材料：流程图.pdf、数据报表.xlsx")))
    assert form.attachments_note == "流程图.pdf、数据报表.xlsx"


@pytest.mark.parametrize(
    ("value", "expected"), [("REQ-2026-0007", "REQ-2026-0007"), ("自动生成", ""), ("", "")]
)
def test_request_number(value: str, expected: str) -> None:
    form = accepted(read(ZH_FORM.replace("需求编号：（自动生成）", f"需求编号：{value}")))
    assert form.number == expected


# ---------------------------------------------------------------- dates


@pytest.mark.parametrize(
    "text",
    ["2026-11-20", "2026/11/20", "2026.11.20", "2026年11月20日", "20 Nov 2026", "November 20, 2026",
     "２０２６年１１月２０日", "2026-11-20（周五）"],
)  # fmt: skip
def test_accepted_date_formats(text: str) -> None:
    assert parse_form_date(text) == dt.date(2026, 11, 20)


@pytest.mark.parametrize("text", ["下周一", "20/11/2026", "2026-13-01"])
def test_unreadable_dates(text: str) -> None:
    assert parse_form_date(text) is None


def test_blank_date_placeholder_is_no_date() -> None:
    form = accepted(read(ZH_FORM.replace("日期：2026-11-21", "日期：    年   月   日")))
    assert form.signed_date is None


def test_signature_date_is_told_from_application_date_by_order() -> None:
    only_signature = ZH_FORM.replace("2. 申请日期: 2026年11月20日\n", "")
    form = accepted(read(only_signature))
    assert (form.application_date, form.signed_date) == (None, dt.date(2026, 11, 21))

    date_first = "Date: 2026-11-20\n" + EN_FORM.replace("- Date: 20 Nov 2026\n", "")
    form = accepted(read(date_first))
    assert (form.application_date, form.signed_date) == (
        dt.date(2026, 11, 20),
        dt.date(2026, 11, 21),
    )

    date_after_background = EN_FORM.replace("- Date: 20 Nov 2026\n", "").replace(
        "- Departments", "- Date: 2026-11-19\n- Departments"
    )
    form = accepted(read(date_after_background))
    assert (form.application_date, form.signed_date) == (
        dt.date(2026, 11, 19),
        dt.date(2026, 11, 21),
    )


# ---------------------------------------------------------------- HTML


def test_outlook_html_table() -> None:
    markup = (DATA / "outlook_paste_zh.html").read_text(encoding="utf-8")
    derived_text = "各位领导、同事：\n现提交跨部门沟通协调需求申请，请审阅。\n申请部门 市场部"
    form = accepted(read_request_form(mail(derived_text, markup), DIRECTORY))
    assert form.source == "html"
    assert form.requesting_department == "市场部"
    assert form.application_date == dt.date(2026, 11, 20)
    assert form.number == ""
    assert form.background == (
        "因Q3季度市场推广活动需产品部提供技术支持，\n"
        "为保证活动按时落地，需协调双方资源与时间节点。\n目前技术支持排期已满。"
    )
    assert form.departments == ["产品部", "技术部", "客服部"]  # rowspan label over two rows
    assert form.urgency == "important"
    assert form.attachments_note == "活动排期表.xlsx"
    assert (form.signed_by, form.signed_date) == ("王 芳", dt.date(2026, 11, 21))


def test_html_tables_keep_their_raw_rows_and_skip_the_quoted_original() -> None:
    markup = (DATA / "outlook_paste_zh.html").read_text(encoding="utf-8")
    form = extract_fields(mail("", markup), REQUEST_FIELDS)
    assert form is not None
    assert len(form.tables) == 1  # the table under Outlook's reply header is the old mail's
    rows = form.tables[0]
    assert rows[0] == ["申请部门", "市场部", "申请日期", "2026/11/20"]
    assert rows[3] == ["涉及部门", "产品部、技术部"]
    assert rows[4] == ["", "Customer Service"]


def test_html_blockquote_is_ignored() -> None:
    markup = (
        "<div>见下表</div><blockquote><table><tr><td>申请部门</td><td>财务部</td></tr>"
        "<tr><td>期望目标</td><td>旧</td></tr></table></blockquote>"
    )
    assert extract_fields(mail("", markup), REQUEST_FIELDS) is None


def test_html_cells_holding_label_and_value_or_a_broken_label() -> None:
    markup = (
        "<table><tr><td>申请部门<br>市场部</td><td>需求背景：售后慢<br>投诉多</td></tr>"
        "<tr><td>发起部门<br>负责人签字</td><td>王芳</td></tr></table>"
    )
    form = extract_fields(mail("", markup), REQUEST_FIELDS)
    assert form is not None
    assert form.values == {
        "requesting_department": "市场部",
        "background": "售后慢\n投诉多",
        "signed_by": "王芳",
    }


def test_generic_extractor_with_other_specs_and_raw_tables() -> None:
    specs = (
        FieldSpec("topic", ("会议主题",), ("Topic",)),
        FieldSpec("host", ("主持人",), ("Host",)),
        FieldSpec("points", ("讨论要点与共识",), ("Discussion and consensus",), multiline=True),
    )
    markup = """<table>
    <tr><td>Topic</td><td>Q3 campaign</td><td>Host</td><td>Wang&nbsp;Fang</td></tr>
    <tr><td colspan=4>Discussion and consensus</td></tr>
    <tr><td colspan=4><p>1. scope agreed</p><p>2. dates agreed</p></td></tr></table>
    <table><tr><th>Department</th><th>Owner</th><th>Task</th></tr>
    <tr><td rowspan=2>Product</td><td>Li</td><td>spec</td></tr>
    <tr><td>Chen</td><td>review</td></tr></table>"""
    form = extract_fields(mail("", markup), specs)
    assert form is not None
    assert form.values == {
        "topic": "Q3 campaign",
        "host": "Wang Fang",
        "points": "1. scope agreed\n2. dates agreed",
    }
    assert (form.source, form.language) == ("html", "en")
    assert form.tables[1] == [
        ["Department", "Owner", "Task"],
        ["Product", "Li", "spec"],
        ["", "Chen", "review"],
    ]


# ---------------------------------------------------------------- docx


def test_generated_chinese_docx_filled_in() -> None:
    data = fill_docx(
        blank_request_form_docx("zh"),
        [
            ("申请部门", "市场部"),
            ("申请日期", "2026-11-20"),
            ("需求背景", "因Q3季度市场推广活动需产品部提供技术支持。\n需协调双方资源。"),
            ("涉及部门", "产品部、技术部"),
            ("期望目标", "确定技术支持人员名单"),
            ("附件材料", "无"),
            ("发起部门负责人签字", "王芳"),
            ("日期", "2026-11-21"),
        ],
        tick="紧急",
    )
    form = accepted(read_request_form(docx_mail(data, text="见附件"), DIRECTORY))
    assert form.source == "docx"
    assert form.requesting_department == "市场部"
    assert form.application_date == dt.date(2026, 11, 20)
    assert form.background == "因Q3季度市场推广活动需产品部提供技术支持。\n需协调双方资源。"
    assert form.departments == ["产品部", "技术部"]
    assert form.lead_department is None  # the hint was left in place
    assert form.urgency == "urgent"
    assert (form.signed_by, form.signed_date) == ("王芳", dt.date(2026, 11, 21))


def test_generated_english_docx_filled_in() -> None:
    data = fill_docx(
        blank_request_form_docx("en"),
        [
            ("Requesting department", "Marketing"),
            ("Date", "20 Nov 2026"),
            ("Background", "Campaign support"),
            ("Departments involved", "Product and Technology"),
            ("Lead department", "Product"),
            ("Expected goal", "Support team named"),
            ("Signed by", "Jane Doe"),
            ("Date", "2026-11-21"),
        ],
        tick=" Normal",
    )
    form = accepted(read_request_form(docx_mail(data), DIRECTORY))
    assert (form.language, form.source) == ("en", "docx")
    assert form.departments == ["产品部", "技术部"]
    assert form.lead_department == "产品部"
    assert form.urgency == "normal"
    assert (form.application_date, form.signed_date) == (
        dt.date(2026, 11, 20),
        dt.date(2026, 11, 21),
    )


def test_blank_docx_layout() -> None:
    document = docx.Document(io.BytesIO(blank_request_form_docx("zh")))
    table = document.tables[0]
    first = table.rows[0].cells
    assert [c.text for c in first] == ["申请部门", "", "申请日期", ""]
    background = table.rows[2].cells
    assert background[1]._tc is background[3]._tc  # value merged over three columns
    assert table.rows[6].cells[1].text == OPTIONS_ZH
    assert [c.text for c in table.rows[-1].cells] == ["发起部门负责人签字", "", "日期", ""]


def _wide(row: docx.table._Row, label: str, value: str) -> docx.table._Cell:
    cells = row.cells
    cells[0].text = label
    merged = cells[1].merge(cells[3])
    merged.text = value
    return merged


def _wingdings_tick(paragraph: docx.text.paragraph.Paragraph) -> None:
    symbol = OxmlElement("w:sym")
    symbol.set(qn("w:font"), "Wingdings 2")
    symbol.set(qn("w:char"), "F052")
    paragraph.add_run()._r.append(symbol)


def hand_built_docx() -> bytes:
    """Labels in column 1, values merged over columns 2-4, a vertically merged label."""
    document = docx.Document()
    document.add_paragraph("跨部门沟通协调需求申请表")
    table = document.add_table(rows=8, cols=4)
    rows = table.rows
    for cell, text in zip(
        rows[0].cells, ("申请部门", "市场部", "申请日期", "2026.11.20"), strict=True
    ):
        cell.text = text
    _wide(rows[1], "需求编号", "REQ-2026-0042")
    background = _wide(rows[2], "需求背景\n（简要说明起因）", "售后响应慢。")
    background.add_paragraph("客户投诉多。")
    label = rows[3].cells[0].merge(rows[4].cells[0])
    label.text = "涉及部门"
    _wide(rows[3], "涉及部门", "客服部、技术部")
    rows[4].cells[1].merge(rows[4].cells[3]).text = "运营部"
    _wide(rows[5], "期望目标", "投诉处理时长缩短30%")
    urgency = _wide(rows[6], "紧急程度", "□紧急 ").paragraphs[0]
    _wingdings_tick(urgency)
    urgency.add_run("重要 □常规")
    _wide(rows[7], "附件材料", "无")
    document.add_paragraph("发起部门负责人签字：王芳")
    document.add_paragraph("日期：2026年11月21日")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_hand_built_docx_with_merged_cells_and_paragraphs() -> None:
    form = accepted(read_request_form(docx_mail(hand_built_docx()), DIRECTORY))
    assert form.requesting_department == "市场部"
    assert form.application_date == dt.date(2026, 11, 20)
    assert form.number == "REQ-2026-0042"
    assert form.background == "售后响应慢。\n客户投诉多。"
    assert form.departments == ["客服部", "技术部", "运营部"]
    assert form.urgency == "important"
    assert (form.signed_by, form.signed_date) == ("王芳", dt.date(2026, 11, 21))


def test_docx_tables_dedupe_merged_cells() -> None:
    form = extract_fields(docx_mail(hand_built_docx()), REQUEST_FIELDS)
    assert form is not None
    rows = form.tables[0]
    assert rows[0] == ["申请部门", "市场部", "申请日期", "2026.11.20"]
    assert rows[1] == ["需求编号", "REQ-2026-0042"]
    assert rows[3] == ["涉及部门", "客服部、技术部"]
    assert rows[4] == ["", "运营部"]
    assert rows[6] == ["紧急程度", "□紧急 ☑重要 □常规"]


def test_docx_of_paragraphs_and_content_control_checkbox() -> None:
    document = docx.Document()
    for line in ("Requesting department: Marketing", "Background: budget", "Goal: approval",
                 "Departments involved: Finance"):  # fmt: skip
        document.add_paragraph(line)
    urgency = document.add_paragraph("Urgency: ☐ Urgent ")
    urgency._p.append(
        parse_xml(
            f"<w:sdt {nsdecls('w')}><w:sdtContent><w:r><w:t>☒</w:t></w:r></w:sdtContent></w:sdt>"
        )
    )
    urgency.add_run(" Important ☐ Normal")
    buffer = io.BytesIO()
    document.save(buffer)
    form = accepted(read_request_form(docx_mail(buffer.getvalue()), DIRECTORY))
    assert (form.source, form.departments, form.urgency) == ("docx", ["财务部"], "important")


def test_docx_wins_over_text_and_a_broken_docx_falls_back_to_text() -> None:
    good = fill_docx(
        blank_request_form_docx("zh"),
        [("申请部门", "财务部"), ("需求背景", "b"), ("涉及部门", "产品部"), ("期望目标", "g")],
        tick="常规",
    )
    assert accepted(read_request_form(docx_mail(good, text=ZH_FORM), DIRECTORY)).source == "docx"
    broken = docx_mail(b"PK\x03\x04 not really a zip", text=ZH_FORM)
    assert accepted(read_request_form(broken, DIRECTORY)).source == "text"
    blank = docx_mail(blank_request_form_docx("zh"), text=ZH_FORM)  # an untouched template
    assert accepted(read_request_form(blank, DIRECTORY)).source == "text"


def test_field_labels() -> None:
    assert field_label("requesting_department", "zh") == "申请部门"
    assert field_label("signed_date", "en") == "Date"
