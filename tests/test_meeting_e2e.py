"""Stage 3 end to end: meeting notice with an iCalendar invitation, reminders, minutes as text
and as .docx, sign-off replies from many clients — through Dovecot, SMTP and both databases."""

from __future__ import annotations

import datetime as dt

import icalendar
import pytest
from harness import Mailflow, html_of, text_of
from mailbuilder import reply
from scenario import (
    CAL,
    CHEN,
    DOCX,
    HUANG,
    LI,
    MA,
    WANG,
    duration,
    kinds,
    last,
    minutes_docx,
    minutes_text,
    notice_text,
    open_case,
)
from sqlalchemy import select

from mailflow.models import ActionItem, InboundMessage, Minutes, Request

pytestmark = pytest.mark.servers


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
        dt.datetime.combine(meeting_day, dt.time(16), tzinfo=CAL.tz), duration("1 workday")
    ) + dt.timedelta(minutes=10)
    mailflow.cli("tick", "--at", after.isoformat())
    mailflow.cli("tick", "--at", (after + dt.timedelta(days=2)).isoformat())
    chaser = last(mailflow, "minutes_chaser")
    assert kinds(mailflow).count("minutes_chaser") == 1
    assert [a.addr_spec for a in chaser["To"].addresses] == [LI[1]]  # the recorder


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

    late = CAL.add(dt.datetime.now(dt.UTC), duration("1 workday")) + dt.timedelta(hours=1)
    flow.cli("tick", "--at", late.isoformat())
    flow.cli("tick", "--at", (late + dt.timedelta(days=1)).isoformat())
    chased = sorted(
        m["To"].addresses[0].addr_spec
        for m in flow.sent()
        if m["X-Mailflow-Kind"] == "signoff_chaser"
    )
    assert chased == sorted([WANG[1], CHEN[1], HUANG[1]])
