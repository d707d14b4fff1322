"""Stage 3 end to end: meeting notice with an iCalendar invitation, reminders, minutes as text
and as .docx, sign-off replies from many clients — through Dovecot, SMTP and both databases."""

from __future__ import annotations

import datetime as dt
import io

import docx
import icalendar
import pytest
from harness import Mailflow, html_of, text_of
from mailbuilder import REQUEST_FORM_ZH, message, reply
from sqlalchemy import select

from mailflow.calendar import WorkCalendar
from mailflow.models import ActionItem, InboundMessage, Minutes, Request

pytestmark = pytest.mark.servers

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


def test_notice_invitation_reminder_and_minutes_chaser(mailflow: Mailflow) -> None:
    number = open_case(mailflow)
    summary = last(mailflow, "responses_complete")
    today = CAL.local(dt.datetime.now(dt.UTC)).date()
    meeting_day = CAL.nth_working_day_after(today, 3)
    mailflow.deliver(reply(summary, WANG, notice_text(meeting_day)))
    mailflow.run_once()

    invitation = last(mailflow, "meeting_invitation")
    recipients = {a.addr_spec for a in invitation["To"].addresses}
    assert recipients == {WANG[1], CHEN[1], HUANG[1], LI[1]}
    assert f"[{number}]" in invitation["Subject"]
    ics = next(p for p in invitation.iter_attachments() if p.get_content_type() == "text/calendar")
    calendar = icalendar.Calendar.from_ical(ics.get_payload(decode=True))
    assert str(calendar["METHOD"]) == "REQUEST"
    event = next(iter(calendar.walk("VEVENT")))
    start = event.decoded("DTSTART")
    assert start == dt.datetime.combine(meeting_day, dt.time(14), tzinfo=CAL.tz)
    assert str(start.tzinfo) in ("Asia/Shanghai", "CST") or start.utcoffset() == dt.timedelta(
        hours=8
    )
    assert {str(a).removeprefix("mailto:") for a in event.get("ATTENDEE")} == recipients
    assert "3楼会议室A" in str(event["LOCATION"])
    assert "王芳（主持人）" in text_of(invitation) and "王芳（主持人）" in html_of(invitation)
    assert "meeting_short_notice" not in kinds(mailflow)  # 3 working days ahead is enough

    day_before = CAL.previous_working_day(meeting_day)
    mailflow.cli(
        "tick", "--at", dt.datetime.combine(day_before, dt.time(8, 30), tzinfo=CAL.tz).isoformat()
    )
    assert "meeting_reminder" not in kinds(mailflow)
    mailflow.cli(
        "tick", "--at", dt.datetime.combine(day_before, dt.time(9, 5), tzinfo=CAL.tz).isoformat()
    )
    mailflow.cli(
        "tick", "--at", dt.datetime.combine(day_before, dt.time(11), tzinfo=CAL.tz).isoformat()
    )
    assert kinds(mailflow).count("meeting_reminder") == 1

    after = CAL.add(
        dt.datetime.combine(meeting_day, dt.time(16), tzinfo=CAL.tz), mailflow_duration("1 workday")
    ) + dt.timedelta(minutes=10)
    mailflow.cli("tick", "--at", after.isoformat())
    mailflow.cli("tick", "--at", (after + dt.timedelta(days=2)).isoformat())
    chaser = last(mailflow, "minutes_chaser")
    assert kinds(mailflow).count("minutes_chaser") == 1
    assert [a.addr_spec for a in chaser["To"].addresses] == [LI[1]]  # the recorder


def mailflow_duration(text: str):
    from mailflow.config import parse_duration

    return parse_duration(text, "test")


def test_short_notice_warning_and_unresolvable_attendee(mailflow_sqlite: Mailflow) -> None:
    flow = mailflow_sqlite
    open_case(flow)
    summary = last(flow, "responses_complete")
    today = CAL.local(dt.datetime.now(dt.UTC)).date()
    flow.deliver(
        reply(
            summary,
            WANG,
            notice_text(CAL.nth_working_day_after(today, 3), "王芳（主持人）、陈杰、赵六"),
        )
    )
    flow.run_once()
    problems = last(flow, "notice_problems")
    assert "赵六" in text_of(problems) and "找不到" in text_of(problems)
    assert "meeting_invitation" not in kinds(flow)  # nothing is guessed, nothing is sent

    flow.deliver(reply(summary, WANG, notice_text(CAL.nth_working_day_after(today, 1))))
    flow.run_once()
    warning = last(flow, "meeting_short_notice")
    assert [a.addr_spec for a in warning["To"].addresses] == [WANG[1]]
    assert "提前2个工作日" in text_of(warning)


def test_minutes_and_signoff_from_many_clients(mailflow: Mailflow) -> None:
    number = open_case(mailflow)
    summary = last(mailflow, "responses_complete")
    today = CAL.local(dt.datetime.now(dt.UTC)).date()
    meeting_day = CAL.nth_working_day_after(today, 2)
    mailflow.deliver(reply(summary, WANG, notice_text(meeting_day)))
    mailflow.run_once()
    invitation = last(mailflow, "meeting_invitation")

    due = CAL.nth_working_day_after(today, 10)
    mailflow.deliver(reply(invitation, LI, minutes_text(meeting_day, due)))
    mailflow.run_once()
    distribution = last(mailflow, "minutes_distribution")
    envelope = next(
        e for e in mailflow.envelopes() if e.message()["Message-ID"] == distribution["Message-ID"]
    )
    assert "archive@example.com" in [a.addr_spec for a in distribution["Cc"].addresses]
    for address in (
        WANG[1],
        CHEN[1],
        HUANG[1],
        LI[1],
        "vp.sales@example.com",
        "vp.product@example.com",
    ):
        assert address in envelope.rcpt_tos
    body = text_of(distribution)
    assert "A1" in body and "A3" in body and "完成技术方案初稿" in body
    assert "请回复确认" in body or "回复“确认”" in body
    with mailflow.session() as session:
        codes = session.scalars(select(ActionItem.code).order_by(ActionItem.id)).all()
        assert codes == ["A1", "A2", "A3"]

    start = len(mailflow.sent())
    mailflow.deliver(reply(distribution, WANG, "确认", client="outlook-zh"))
    mailflow.deliver(
        reply(
            distribution,
            CHEN,
            "有异议：A1 的完成时间需要延后一周，第2条请补充评审人。",
            client="qq",
        )
    )
    mailflow.deliver(reply(distribution, HUANG, "稍后回复", client="foxmail"))
    mailflow.deliver(reply(distribution, MA, "确认", client="gmail-zh"))
    mailflow.run_once()
    assert sorted(kinds(mailflow, start)) == [
        "minutes_objection",
        "signoff_outsider",
        "signoff_unclear",
    ]
    objection = last(mailflow, "minutes_objection")
    assert {a.addr_spec for a in objection["To"].addresses} == {WANG[1], LI[1]}
    assert "第2条请补充评审人" in text_of(objection)
    outsider = last(mailflow, "signoff_outsider")
    assert [a.addr_spec for a in outsider["To"].addresses] == [WANG[1]]

    start = len(mailflow.sent())
    mailflow.deliver(reply(distribution, WANG, "确认，谢谢", client="apple"))  # a second signature
    mailflow.deliver(reply(distribution, CHEN, "已沟通，撤回异议，确认。", client="netease"))
    mailflow.deliver(reply(distribution, HUANG, "Confirmed, thanks.", client="outlook-en"))
    mailflow.run_once()
    assert kinds(mailflow, start) == ["minutes_confirmed"]
    confirmed = last(mailflow, "minutes_confirmed")
    assert "archive@example.com" in [a.addr_spec for a in confirmed["Cc"].addresses]
    assert all(name in text_of(confirmed) for name in ("王芳", "陈杰", "黄磊", "李娜"))

    mailflow.deliver(reply(distribution, HUANG, "确认", client="thunderbird"))
    mailflow.run_once()
    assert kinds(mailflow).count("minutes_confirmed") == 1
    with mailflow.session() as session:
        minutes = session.scalars(select(Minutes)).one()
        assert minutes.status == "confirmed"
        assert {s.address: s.status for s in minutes.signers} == dict.fromkeys(
            [WANG[1], CHEN[1], HUANG[1], LI[1]], "signed"
        )
        assert session.get(Request, 1).stage == "tracking"
        verdicts = [
            m.verdict for m in session.scalars(select(InboundMessage).order_by(InboundMessage.id))
        ]
    assert verdicts.count("signoff_repeated") == 2
    assert number in confirmed["Subject"]


def test_minutes_as_docx_and_a_corrected_version(mailflow_sqlite: Mailflow) -> None:
    flow = mailflow_sqlite
    open_case(flow)
    summary = last(flow, "responses_complete")
    today = CAL.local(dt.datetime.now(dt.UTC)).date()
    meeting_day = CAL.nth_working_day_after(today, 2)
    flow.deliver(reply(summary, WANG, notice_text(meeting_day)))
    flow.run_once()
    invitation = last(flow, "meeting_invitation")
    due = CAL.nth_working_day_after(today, 10)

    flow.deliver(
        reply(
            invitation,
            LI,
            "会议纪要见附件。",
            attachments=[("会议纪要.docx", DOCX, minutes_docx(meeting_day, due))],
        )
    )
    flow.run_once()
    first = last(flow, "minutes_distribution")
    assert "A1" in text_of(first) and "更新活动排期" in text_of(first)
    flow.deliver(reply(first, WANG, "确认"))
    flow.run_once()

    corrected = minutes_text(
        meeting_day, due, discussion="1. 需求确认：技术支持人员三名。\n2. 产品部负责方案。"
    )
    flow.deliver(reply(first, LI, corrected))
    flow.run_once()
    second = last(flow, "minutes_distribution")
    assert "第2版" in second["Subject"]
    assert "「讨论要点与共识」已修改" in text_of(second)
    with flow.session() as session:
        versions = session.scalars(select(Minutes).order_by(Minutes.version)).all()
        assert [v.status for v in versions] == ["superseded", "open"]
        assert {s.address: s.status for s in versions[1].signers}[
            WANG[1]
        ] == "pending"  # sign-off reset
        assert session.scalars(select(ActionItem.code).order_by(ActionItem.id)).all() == [
            "A1",
            "A2",
            "A3",
        ]

    late = CAL.add(dt.datetime.now(dt.UTC), mailflow_duration("1 workday")) + dt.timedelta(hours=1)
    flow.cli("tick", "--at", late.isoformat())
    flow.cli("tick", "--at", (late + dt.timedelta(days=1)).isoformat())
    chased = sorted(
        m["To"].addresses[0].addr_spec
        for m in flow.sent()
        if m["X-Mailflow-Kind"] == "signoff_chaser"
    )
    assert chased == sorted([WANG[1], CHEN[1], HUANG[1]])


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
