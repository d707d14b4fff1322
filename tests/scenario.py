"""Steps of a coordination case, driven by mail through the harness, shared by the scenario tests.

People of the test directory (``harness.DIRECTORY_TOML``), reply builders per client style, and
helpers that take a case from the form to tracking: submit, answer, hold a meeting, send
minutes, sign them off.
"""

from __future__ import annotations

import datetime as dt
import io

import docx
from harness import Mailflow
from mailbuilder import REQUEST_FORM_ZH, message, reply
from sqlalchemy import select

from mailflow.calendar import WorkCalendar
from mailflow.config import Duration, parse_duration
from mailflow.models import Request

CAL = WorkCalendar()
REQUESTER = ("张伟", "zhang.wei@example.com")
WANG = ("王芳", "wang.fang@example.com")  # 市场部 head: lead department, host
LI = ("李娜", "li.na@example.com")  # 市场部 contact: recorder
CHEN = ("陈杰", "chen.jie@example.com")  # 产品部 head
HUANG = ("黄磊", "huang.lei@example.com")  # 技术支持部 head
ALICE = ("Alice Smith", "alice.smith@example.com")  # 财务部 head (English)
MA = ("马超", "ma.chao@example.com")  # 产品部 member, not an attendee


def kinds(flow: Mailflow, start: int = 0) -> list[str]:
    return [m["X-Mailflow-Kind"] for m in flow.sent()[start:]]


def last(flow: Mailflow, kind: str, to: str | None = None):
    found = [m for m in flow.sent() if m["X-Mailflow-Kind"] == kind]
    if to:
        found = [m for m in found if to in str(m.get("To", "")) + str(m.get("Cc", ""))]
    assert found, f"no {kind} mail to {to}: {kinds(flow)}"
    return found[-1]


def stamp(day: dt.date, hour: int, minute: int = 0) -> str:
    return f"{day.year}年{day.month}月{day.day}日{hour:02d}:{minute:02d}"


def open_case(flow: Mailflow, form: str = REQUEST_FORM_ZH) -> str:
    flow.deliver(message(sender=REQUESTER, subject="跨部门协调申请", text=form))
    flow.run_once()
    with flow.session() as session:
        number = session.scalars(select(Request.number)).one()
    for person in (CHEN, HUANG, ALICE):
        notices = [m for m in flow.sent_to(person[1]) if m["X-Mailflow-Kind"] == "request_notice"]
        if notices:
            flow.deliver(
                reply(notices[0], person, "收到，同意参加。" if person is not ALICE else "Agreed.")
            )
    flow.run_once()
    return number


def notice_text(
    day: dt.date, attendees: str = "王芳（主持人）、陈杰（决策人）、黄磊、李娜（记录人）"
) -> str:
    return (
        f"会议主题：Q3推广技术支持协调会\n会议时间：{stamp(day, 14)}-16:00\n会议地点：3楼会议室A\n"
        f"参会人员：{attendees}\n会议材料：流程图、资源清单\n"
    )


def minutes_text(
    day: dt.date,
    due: dt.date,
    discussion: str = "1. 需求确认：技术支持人员两名。\n2. 产品部负责方案。",
) -> str:
    return (
        f"会议主题：Q3推广技术支持协调会\n会议时间：{stamp(day, 14)}-16:00\n会议地点：3楼会议室A\n"
        f"主持人：王芳\n参会人员：王芳、陈杰、黄磊、李娜\n记录人：李娜\n"
        f"讨论要点与共识：\n{discussion}\n"
        "行动项：\n"
        f"产品部｜陈杰｜完成技术方案初稿｜{due.isoformat()}｜方案通过评审\n"
        f"技术支持部｜黄磊｜确定支持人员名单｜{due.isoformat()}｜名单经双方确认\n"
        f"市场部｜李娜｜更新活动排期｜{due.isoformat()}｜排期表发布\n"
    )


def duration(text: str) -> Duration:
    return parse_duration(text, "test")


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def minutes_docx(day: dt.date, due: dt.date) -> bytes:
    document = docx.Document()
    document.add_heading("跨部门协调会议纪要", level=1)
    table = document.add_table(rows=0, cols=2)
    for label, value in (
        ("会议主题", "Q3推广技术支持协调会"),
        ("会议时间", f"{stamp(day, 14)}-16:00"),
        ("会议地点", "3楼会议室A"),
        ("主持人", "王芳"),
        ("参会人员", "王芳、陈杰、黄磊、李娜"),
        ("记录人", "李娜"),
        ("讨论要点与共识", "1. 需求确认：技术支持人员两名。\n2. 产品部负责方案。"),
    ):
        row = table.add_row().cells
        row[0].text, row[1].text = label, value
    actions = document.add_table(rows=1, cols=5)
    for cell, text in zip(
        actions.rows[0].cells, ("责任部门", "负责人", "任务", "完成时间", "完成标准"), strict=True
    ):
        cell.text = text
    for values in (
        ("产品部", "陈杰", "完成技术方案初稿", due.isoformat(), "方案通过评审"),
        ("技术支持部", "黄磊", "确定支持人员名单", due.isoformat(), "名单经双方确认"),
        ("市场部", "李娜", "更新活动排期", due.isoformat(), "排期表发布"),
    ):
        for cell, text in zip(actions.add_row().cells, values, strict=True):
            cell.text = text
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def today() -> dt.date:
    return CAL.local(dt.datetime.now(dt.UTC)).date()


def at(day: dt.date, hour: int, minute: int = 0) -> str:
    """An ISO moment in the organisation's time zone, for ``tick --at``."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=CAL.tz).isoformat()


def to_tracking(flow: Mailflow, due: dt.date | None = None) -> tuple[str, object]:
    """Form, responses, meeting, minutes (A1 陈杰, A2 黄磊, A3 李娜), every attendee signs."""
    number = open_case(flow)
    meeting_day = CAL.nth_working_day_after(today(), 2)
    flow.deliver(reply(last(flow, "responses_complete"), WANG, notice_text(meeting_day)))
    flow.run_once()
    due = due or CAL.nth_working_day_after(today(), 10)
    flow.deliver(reply(last(flow, "meeting_invitation"), LI, minutes_text(meeting_day, due)))
    flow.run_once()
    distribution = last(flow, "minutes_distribution")
    for person in (WANG, CHEN, HUANG):
        flow.deliver(reply(distribution, person, "确认"))
    flow.run_once()
    return number, last(flow, "minutes_confirmed")
