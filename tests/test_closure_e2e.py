"""Stage 5 and the whole case: from the form to the closed, archived case by mail alone — once in
Chinese, once in English — with acceptance refused and given, reviews, and the case record."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from harness import Mailflow, text_of
from mailbuilder import REQUEST_FORM_EN, message, reply
from scenario import (
    ALICE,
    CAL,
    CHEN,
    HUANG,
    LI,
    REQUESTER,
    WANG,
    at,
    duration,
    kinds,
    last,
    stamp,
    to_tracking,
    today,
)
from sqlalchemy import select

from mailflow.models import InboundMessage, OutboxMessage, Request

pytestmark = pytest.mark.servers


def attachments(mail) -> dict[str, bytes]:
    return {p.get_filename(): p.get_payload(decode=True) for p in mail.iter_attachments()}


def test_a_chinese_case_from_form_to_archive(mailflow: Mailflow) -> None:
    number, confirmed = to_tracking(mailflow)
    mailflow.deliver(reply(confirmed, CHEN, "A1：已完成"))
    mailflow.deliver(reply(confirmed, HUANG, "A2：已完成", client="qq"))
    mailflow.run_once()
    assert "acceptance_request" not in kinds(mailflow)
    mailflow.deliver(reply(confirmed, LI, "A3 已完成，排期表已发布。"))
    mailflow.run_once()
    ask = last(mailflow, "acceptance_request")
    assert [a.addr_spec for a in ask["To"].addresses] == [REQUESTER[1]]
    assert "确定技术支持人员名单及交付时间" in text_of(ask) and "完成技术方案初稿" in text_of(ask)

    mailflow.deliver(reply(ask, REQUESTER, "验收不通过：方案文档不全，请补充评审记录。"))
    mailflow.run_once()
    refused = last(mailflow, "acceptance_rejected")
    assert {a.addr_spec for a in refused["To"].addresses} == {WANG[1], LI[1]}
    assert "方案文档不全" in text_of(refused)

    mailflow.deliver(reply(refused, WANG, "A1：已完成（已补充评审记录）"))
    mailflow.run_once()
    assert kinds(mailflow).count("acceptance_request") == 2
    second_ask = last(mailflow, "acceptance_request")
    late = CAL.add(dt.datetime.now(dt.UTC), duration("1 workday")) + dt.timedelta(hours=1)
    mailflow.cli("tick", "--at", late.isoformat())
    mailflow.cli("tick", "--at", (late + dt.timedelta(days=1)).isoformat())
    assert kinds(mailflow).count("acceptance_chaser") == 1

    start = len(mailflow.sent())
    mailflow.deliver(reply(second_ask, REQUESTER, "验收通过，谢谢各位！", client="apple"))
    mailflow.run_once()
    assert sorted(kinds(mailflow, start)) == ["acceptance_report"] + ["review_request"] * 3
    report = last(mailflow, "acceptance_report")
    assert "archive@example.com" in [a.addr_spec for a in report["Cc"].addresses]
    assert "方案文档不全" in text_of(report)  # the earlier refusal is on record
    with mailflow.session() as session:
        request = session.scalars(select(Request)).one()
        assert (request.status, request.stage) == ("closed", "review")
        review_due = request.review_due

    product_ask = last(mailflow, "review_request", CHEN[1])
    mailflow.deliver(
        reply(product_ask, CHEN, "亮点：跨部门快速响应机制。\n不足：需求描述不清晰导致返工。")
    )
    support_ask = last(mailflow, "review_request", HUANG[1])
    mailflow.deliver(
        reply(
            support_ask, HUANG, "亮点：会议纪要当天确认。\n不足：人员安排偏晚。", client="foxmail"
        )
    )
    mailflow.run_once()
    reminder_day = CAL.previous_working_day(CAL.local(review_due).date())
    mailflow.cli("tick", "--at", at(reminder_day, 9, 30))
    reminders = [m for m in mailflow.sent() if m["X-Mailflow-Kind"] == "review_reminder"]
    assert [m["To"].addresses[0].addr_spec for m in reminders] == [WANG[1]]  # only 市场部 is silent

    start = len(mailflow.sent())
    mailflow.cli("tick", "--at", (review_due + dt.timedelta(minutes=5)).isoformat())
    mailflow.cli("tick", "--at", (review_due + dt.timedelta(days=3)).isoformat())
    assert sorted(kinds(mailflow, start)) == ["case_record", "review_compiled"]
    compiled = last(mailflow, "review_compiled")
    assert "跨部门快速响应机制" in text_of(compiled) and "市场部" in text_of(compiled)
    archived = last(mailflow, "case_record")
    assert [a.addr_spec for a in archived["To"].addresses] == ["archive@example.com"]

    files = attachments(archived)
    folder = mailflow.tmp_path / "kb"
    for suffix in ("md", "html"):
        assert (folder / f"{number}.{suffix}").read_bytes() == files[f"{number}.{suffix}"]
    record = (folder / f"{number}.md").read_text(encoding="utf-8")
    for heading in (
        "一、需求申请",
        "二、各部门反馈",
        "三、会议",
        "四、会议纪要与签字确认",
        "五、行动跟踪",
        "六、验收",
        "七、复盘",
        "八、往来邮件",
    ):
        assert heading in record
    assert "方案文档不全" in record and "跨部门快速响应机制" in record and "A3" in record
    with mailflow.session() as session:
        mails = session.scalars(
            select(InboundMessage).where(InboundMessage.request_id.is_not(None))
        ).all()
        sent = session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind != "case_record")
        ).all()
    for mail in [*mails, *sent]:
        assert mail.subject.replace("|", "/") in record, mail.subject

    shown = mailflow.cli("requests", "show", number, "--format", "md").stdout
    assert "七、复盘" in shown and "跨部门快速响应机制" in shown
    assert number in mailflow.cli("requests", "list", "--status", "closed").stdout
    assert number not in mailflow.cli("requests", "list").stdout


FORM_EN = (
    REQUEST_FORM_EN.replace("Requesting department: Marketing", "Requesting department: Finance")
    .replace("Departments involved: Product, Technical Support", "Departments involved: Product")
    .replace("Lead department: Marketing", "Lead department: Finance")
)
BOB = ("Bob Jones", "bob.jones@example.com")


def test_an_english_case_from_form_to_archive(tmp_path: Path, imap_account, smtp_peer) -> None:
    flow = Mailflow(
        tmp_path, imap_account, smtp_peer, f"sqlite:///{tmp_path}/mailflow.db", language="en"
    )
    try:
        run_english_case(flow)
    finally:
        flow.close()


def run_english_case(flow: Mailflow) -> None:
    flow.deliver(message(sender=BOB, subject="Coordination request", text=FORM_EN))
    flow.run_once()
    ack = last(flow, "request_ack")
    assert ack["Subject"].split("] ", 1)[1].startswith("Request received")
    notice = last(flow, "request_notice", CHEN[1])
    flow.deliver(
        reply(notice, CHEN, "Product agrees; Liu Yang will be our contact.", client="outlook-en")
    )
    flow.run_once()
    summary = last(flow, "responses_complete")

    day = CAL.nth_working_day_after(today(), 3)
    flow.deliver(
        reply(
            summary,
            ALICE,
            f"Topic: Q4 campaign support\nTime: {day.isoformat()} 14:00-15:00\nPlace: Room 3A\n"
            "Attendees: alice.smith@example.com (host), chen.jie@example.com, bob.jones@example.com (recorder)\n",
            client="outlook-en",
        )
    )
    flow.run_once()
    invitation = last(flow, "meeting_invitation")
    assert "Meeting" in invitation["Subject"] or "meeting" in text_of(invitation)

    due = CAL.nth_working_day_after(today(), 8)
    flow.deliver(
        reply(
            invitation,
            BOB,
            f"Topic: Q4 campaign support\nTime: {day.isoformat()} 14:00-15:00\nPlace: Room 3A\n"
            "Host: alice.smith@example.com\n"
            "Attendees: alice.smith@example.com, chen.jie@example.com, bob.jones@example.com\n"
            "Recorder: bob.jones@example.com\n"
            "Discussion and agreements:\n1. Product provides two engineers.\n"
            "Action items:\n"
            f"Product | chen.jie@example.com | draft the technical plan | {due.isoformat()} | plan passes review\n",
            client="outlook-en",
        )
    )
    flow.run_once()
    distribution = last(flow, "minutes_distribution")
    assert "A1" in text_of(distribution)
    flow.deliver(reply(distribution, ALICE, "Confirmed.", client="outlook-en"))
    flow.deliver(reply(distribution, CHEN, "Agreed, thanks.", client="thunderbird"))
    flow.run_once()
    confirmed = last(flow, "minutes_confirmed")
    flow.deliver(reply(confirmed, CHEN, "A1: done", client="outlook-en"))
    flow.run_once()
    ask = last(flow, "acceptance_request")
    flow.deliver(reply(ask, BOB, "Accepted, thank you all.", client="outlook-en"))
    flow.run_once()
    report = last(flow, "acceptance_report")
    assert "archive@example.com" in [a.addr_spec for a in report["Cc"].addresses]
    for ask in [m for m in flow.sent() if m["X-Mailflow-Kind"] == "review_request"]:
        person = ALICE if ALICE[1] in str(ask["To"]) else CHEN
        flow.deliver(
            reply(
                ask,
                person,
                "Highlights: quick answers.\nShortcomings: the goal was vague at first.",
            )
        )
    flow.run_once()
    archived = last(flow, "case_record")
    with flow.session() as session:
        number = session.scalars(select(Request.number)).one()
    record = attachments(archived)[f"{number}.md"].decode("utf-8")
    assert (flow.tmp_path / "kb" / f"{number}.md").read_text(encoding="utf-8") == record
    assert "quick answers" in record and "A1" in record and "Accepted" not in stamp(today(), 9)
    for kind in ("request_ack", "minutes_confirmed", "acceptance_report", "review_compiled"):
        mail = last(flow, kind)
        assert not any(
            "\u4e00" <= ch <= "\u9fff" for ch in mail["Subject"].replace("示例集团", "")
        ), mail["Subject"]
