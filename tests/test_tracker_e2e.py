"""Stage 4 end to end: status updates by reply, refusals, delays, reminders, overdue notices and
the Monday status mail with its .xlsx — through Dovecot, SMTP and both databases, via the CLI."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from harness import Mailflow, html_of, text_of
from mailbuilder import reply
from scenario import CAL, CHEN, HUANG, LI, WANG, at, kinds, last, to_tracking, today
from sqlalchemy import select

from mailflow.models import ActionItem

pytestmark = pytest.mark.servers

ZHOU = ("周敏", "zhou.min@example.com")  # a 技术支持部 contact: neither owner, head nor lead


def items(flow: Mailflow) -> dict[str, ActionItem]:
    with flow.session() as session:
        return {a.code: a for a in session.scalars(select(ActionItem))}


def test_updates_delays_and_refusals(mailflow: Mailflow) -> None:
    number, confirmed = to_tracking(mailflow)
    later = CAL.nth_working_day_after(today(), 15)

    start = len(mailflow.sent())
    mailflow.deliver(reply(confirmed, WANG, "各位好：\nA1：进行中\nA3：已完成\n谢谢"))
    mailflow.run_once()
    assert kinds(mailflow, start) == ["update_result"]
    result = last(mailflow, "update_result")
    assert [a.addr_spec for a in result["To"].addresses] == [WANG[1]]
    assert "A1 → 进行中" in text_of(result) and "A3 → 已完成" in text_of(result)
    assert {c: a.status for c, a in items(mailflow).items()} == {
        "A1": "in_progress",
        "A2": "not_started",
        "A3": "done",
    }

    start = len(mailflow.sent())
    mailflow.deliver(reply(confirmed, HUANG, f"A2 延期至 {later.isoformat()}", client="foxmail"))
    mailflow.run_once()
    assert kinds(mailflow, start) == ["update_result"]
    assert "需要写明原因" in text_of(last(mailflow, "update_result"))
    assert items(mailflow)["A2"].status == "not_started"

    start = len(mailflow.sent())
    mailflow.deliver(
        reply(
            confirmed, HUANG, f"A2 延期至 {later.month}月{later.day}日，原因：人员冲突", client="qq"
        )
    )
    mailflow.run_once()
    assert sorted(kinds(mailflow, start)) == ["delay_assessment", "update_result"]
    assessment = last(mailflow, "delay_assessment")
    assert {a.addr_spec for a in assessment["To"].addresses} == {WANG[1], LI[1]}
    assert "评估是否影响整体目标" in text_of(assessment) and "人员冲突" in text_of(assessment)
    a2 = items(mailflow)["A2"]
    assert (a2.status, a2.due) == ("delayed", later)

    start = len(mailflow.sent())
    mailflow.deliver(reply(confirmed, ZHOU, "A2：已完成"))
    mailflow.run_once()
    assert kinds(mailflow, start) == ["update_result"]
    assert "只有该项的负责人" in text_of(last(mailflow, "update_result"))
    assert items(mailflow)["A2"].status == "delayed"

    with mailflow.session() as session:
        history = [(e.kind, e.new_status) for e in session.get(ActionItem, a2.id).events]
    assert history == [("created", "not_started"), ("delay", "delayed")]
    assert f"[{number}]" in result["Subject"]


def test_reminders_overdue_and_the_weekly_status(mailflow: Mailflow, tmp_path) -> None:
    due = CAL.nth_working_day_after(today(), 4)
    number, confirmed = to_tracking(mailflow, due=due)
    mailflow.deliver(reply(confirmed, LI, "A3：已完成"))
    mailflow.run_once()

    day_before = CAL.previous_working_day(due)
    mailflow.cli("tick", "--at", at(day_before, 8))
    assert "action_reminder" not in kinds(mailflow)
    mailflow.cli("tick", "--at", at(day_before, 9, 30))
    mailflow.cli("tick", "--at", at(day_before, 15))
    reminders = [m for m in mailflow.sent() if m["X-Mailflow-Kind"] == "action_reminder"]
    assert sorted(m["To"].addresses[0].addr_spec for m in reminders) == sorted(
        [CHEN[1], HUANG[1]]
    )  # not A3

    after = CAL.next_working_day(due + dt.timedelta(days=1))
    mailflow.cli("tick", "--at", at(after, 9, 30))
    mailflow.cli("tick", "--at", at(after, 17))
    overdue = [m for m in mailflow.sent() if m["X-Mailflow-Kind"] == "action_overdue"]
    assert sorted(m["To"].addresses[0].addr_spec for m in overdue) == sorted([CHEN[1], HUANG[1]])
    listing = mailflow.cli("actions", "list", "--overdue", "--at", at(after, 10)).stdout
    assert "A1" in listing and "A2" in listing and "A3" not in listing

    monday = after + dt.timedelta(days=7 - after.weekday())
    status_day = CAL.next_working_day(monday)
    start = len(mailflow.sent())
    mailflow.cli("tick", "--at", at(status_day, 8, 59))
    assert "weekly_status" not in kinds(mailflow, start)
    mailflow.cli("tick", "--at", at(status_day, 9, 1))
    mailflow.cli("tick", "--at", at(status_day, 16))
    mailflow.cli("tick", "--at", at(status_day + dt.timedelta(days=2), 10))
    assert kinds(mailflow, start).count("weekly_status") == 1
    status = last(mailflow, "weekly_status")
    recipients = next(
        e.rcpt_tos
        for e in mailflow.envelopes()
        if e.message()["Message-ID"] == status["Message-ID"]
    )
    for address in (
        WANG[1],
        LI[1],
        CHEN[1],
        HUANG[1],
        "vp.sales@example.com",
        "vp.product@example.com",
    ):
        assert address in recipients
    html = html_of(status)
    assert html.count('style="color: #c00;"') == 2  # A1 and A2 overdue, in red
    attachment = next(p for p in status.iter_attachments() if p.get_filename().endswith(".xlsx"))
    sheet = openpyxl.load_workbook(io.BytesIO(attachment.get_payload(decode=True))).active
    rows = [r for r in sheet.iter_rows(values_only=True) if r and r[1] in ("A1", "A2", "A3")]
    assert [(r[0], r[1], r[7]) for r in rows] == [
        (number, "A1", "未开始"),
        (number, "A2", "未开始"),
        (number, "A3", "已完成"),
    ]
    assert [r[9] for r in rows] == ["是", "是", "否"]

    out = tmp_path / "tracker.xlsx"
    mailflow.cli("report", "weekly", "--request", number, "--out", str(out))
    again = openpyxl.load_workbook(out).active
    assert [
        r[1] for r in again.iter_rows(values_only=True) if r and r[1] in ("A1", "A2", "A3")
    ] == ["A1", "A2", "A3"]
