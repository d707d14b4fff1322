"""Stage 2 end to end: departments reply from their own clients, deadlines pass (``tick --at``),
chasers and escalations go out once each — through real Dovecot, SMTP and both databases."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time

import pytest
from harness import Mailflow, text_of
from mailbuilder import REQUEST_FORM_ZH, message
from sqlalchemy import select

from mailflow.calendar import WorkCalendar
from mailflow.config import Duration
from mailflow.models import InboundMessage, Request

pytestmark = pytest.mark.servers

FORM = REQUEST_FORM_ZH.replace("产品部、技术支持部", "产品部、技术支持部、财务部")
REQUESTER = ("张伟", "zhang.wei@example.com")


def submit(flow: Mailflow, form: str = FORM) -> Request:
    flow.deliver(message(sender=REQUESTER, subject="跨部门协调申请", text=form))
    flow.run_once()
    with flow.session() as session:
        return session.scalars(select(Request).order_by(Request.id.desc())).first()


def notice_to(flow: Mailflow, address: str):
    return next(m for m in flow.sent_to(address) if m["X-Mailflow-Kind"] == "request_notice")


def outlook_zh_reply(notice, sender: tuple[str, str], text: str) -> bytes:
    quoted = text_of(notice)
    body = (
        f"{text}\n\n"
        "-----原始邮件-----\n"
        f"发件人: 跨部门协调中心 <coordination@example.com>\n"
        f"发送时间: 2026年11月27日 15:02\n"
        f"收件人: {sender[0]} <{sender[1]}>\n"
        f"主题: {notice['Subject']}\n\n{quoted}"
    )
    return message(
        sender=sender,
        subject=f"答复: {notice['Subject']}",
        text=body,
        headers={"In-Reply-To": notice["Message-ID"], "References": notice["Message-ID"]},
    )


def qq_mail_reply(notice, sender: tuple[str, str], text: str) -> bytes:
    """QQ Mail, HTML only, threaded by nothing but the sub-addressed Reply-To it answered."""
    quoted = text_of(notice).replace("\n", "<br>")
    html = (
        f"<div>{text}</div><div><br></div>"
        '<div style="font-size: 12px;font-family: Arial Narrow;padding:2px 0 2px 0;">'
        "------------------&nbsp;原始邮件&nbsp;------------------</div>"
        '<div style="font-size: 12px;background:#efefef;padding:8px;">'
        '<div><b>发件人:</b>&nbsp;"跨部门协调中心"&lt;coordination@example.com&gt;;</div>'
        "<div><b>发送时间:</b>&nbsp;2026年11月27日(星期五) 下午3:02</div></div>"
        f"<div>{quoted}</div>"
    )
    return message(
        sender=sender,
        to=notice["Reply-To"].addresses[0].addr_spec,
        subject=f"回复：{notice['Subject']}",
        html=html,
    )


def kinds(flow: Mailflow, start: int = 0) -> list[str]:
    return [m["X-Mailflow-Kind"] for m in flow.sent()[start:]]


def at(moment: dt.datetime) -> str:
    return moment.isoformat()


def test_replies_chaser_escalation(mailflow: Mailflow) -> None:
    request = submit(mailflow)
    assert len(mailflow.sent()) == 4  # ack + three notices

    product = notice_to(mailflow, "chen.jie@example.com")
    support = notice_to(mailflow, "zhou.min@example.com")
    assert support["Reply-To"].addresses[0].addr_spec.startswith("coordination+")
    mailflow.deliver(
        outlook_zh_reply(
            product, ("陈杰", "chen.jie@example.com"), "收到，产品部安排刘洋对接，下周一可以开始。"
        )
    )
    mailflow.deliver(
        qq_mail_reply(
            support, ("周敏", "zhou.min@example.com"), "技术支持部同意，周三前给出人员名单。"
        )
    )
    mailflow.run_once()
    assert len(mailflow.sent()) == 4  # replies are recorded, not answered

    with mailflow.session() as session:
        departments = {d.department: d for d in session.get(Request, request.id).departments}
        assert departments["产品部"].response_text == "收到，产品部安排刘洋对接，下周一可以开始。"
        assert departments["产品部"].responder == "chen.jie@example.com"
        assert departments["技术支持部"].response_text == "技术支持部同意，周三前给出人员名单。"
        assert departments["财务部"].responded_at is None
        routes = {m.sender: m.route for m in session.scalars(select(InboundMessage))}
    assert "reply token" in routes["zhou.min@example.com"]
    assert routes["chen.jie@example.com"] == "response: threaded by references"

    late = request.reply_deadline + dt.timedelta(hours=1)
    preview = mailflow.cli("preview", "--at", at(late)).stdout
    assert "reply_chaser to alice.smith@example.com, bob.jones@example.com" in preview
    assert len(mailflow.sent()) == 4  # preview sends nothing

    mailflow.cli("tick", "--at", at(late))
    assert kinds(mailflow, 4) == ["reply_chaser"]
    chaser = mailflow.sent()[4]
    assert {a.addr_spec for a in chaser["To"].addresses} == {
        "alice.smith@example.com",
        "bob.jones@example.com",
    }
    assert "past the reply deadline" in chaser["Subject"]  # 财务部 reads English
    assert "1 hour past that" in text_of(chaser)
    assert f"[{request.number}]" in chaser["Subject"]

    mailflow.cli("tick", "--at", at(late))
    assert len(mailflow.sent()) == 5  # the same tick again sends nothing

    calendar = WorkCalendar()
    escalate_at = calendar.add(late, Duration("1 workday", workdays=1))
    mailflow.cli("tick", "--at", at(escalate_at - dt.timedelta(minutes=5)))
    assert len(mailflow.sent()) == 5
    mailflow.cli("tick", "--at", at(escalate_at + dt.timedelta(minutes=5)))
    mailflow.cli("tick", "--at", at(escalate_at + dt.timedelta(days=3)))
    assert kinds(mailflow, 5) == ["reply_escalation"]
    escalation = mailflow.sent()[5]
    assert [a.addr_spec for a in escalation["To"].addresses] == ["alice.smith@example.com"]
    assert [a.addr_spec for a in escalation["Cc"].addresses] == ["cfo@example.com"]

    assert "  -\n" in mailflow.cli("requests", "list").stdout  # nobody is late yet, now
    listing = mailflow.cli("requests", "list", "--at", at(late)).stdout
    assert "2/3" in listing and listing.rstrip().endswith("财务部")


def test_an_answer_stops_the_chasing_and_completes_the_round(mailflow: Mailflow) -> None:
    request = submit(mailflow, REQUEST_FORM_ZH)
    late = request.reply_deadline + dt.timedelta(hours=2)
    mailflow.cli("tick", "--at", at(late))
    assert sorted(kinds(mailflow, 3)) == ["reply_chaser", "reply_chaser"]

    product = notice_to(mailflow, "chen.jie@example.com")
    support = notice_to(mailflow, "huang.lei@example.com")
    mailflow.deliver(outlook_zh_reply(product, ("马超", "ma.chao@example.com"), "产品部可以支持。"))
    mailflow.deliver(outlook_zh_reply(support, ("黄磊", "huang.lei@example.com"), "同意。"))
    mailflow.run_once()
    assert kinds(mailflow, 5) == ["responses_complete"]
    summary = mailflow.sent()[5]
    assert {a.addr_spec for a in summary["To"].addresses} == {
        "wang.fang@example.com",
        "li.na@example.com",
    }
    assert "产品部可以支持。" in text_of(summary) and "同意。" in text_of(summary)

    mailflow.cli("tick", "--at", at(late + dt.timedelta(days=10)))
    assert len(mailflow.sent()) == 6  # nobody is escalated once they have answered
    with mailflow.session() as session:
        assert session.get(Request, request.id).stage == "meeting"


def test_a_tag_alone_from_outside_the_case_is_not_trusted(mailflow_sqlite: Mailflow) -> None:
    flow = mailflow_sqlite
    request = submit(flow, REQUEST_FORM_ZH)
    outsider = ("路人甲", "someone.else@example.com")  # an allowed domain, but not on the case
    flow.deliver(
        message(sender=outsider, subject=f"Re: [{request.number}] 需求", text="我代表产品部同意。")
    )
    insider = ("马超", "ma.chao@example.com")  # a member of 产品部, tag only
    flow.deliver(message(sender=insider, subject=f"回复：[{request.number}]", text="产品部同意。"))
    flow.run_once()
    with flow.session() as session:
        verdicts = {
            m.sender: (m.verdict, m.request_id) for m in session.scalars(select(InboundMessage))
        }
        departments = {d.department: d for d in session.get(Request, request.id).departments}
    assert verdicts["someone.else@example.com"] == ("untrusted", None)
    assert verdicts["ma.chao@example.com"] == ("response_recorded", request.id)
    assert departments["产品部"].responder == "ma.chao@example.com"
    assert len(flow.sent()) == 3


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_ticks_at_the_same_moment_send_each_chaser_once(mailflow: Mailflow) -> None:
    request = submit(mailflow, FORM)
    late = at(request.reply_deadline + dt.timedelta(hours=1))
    command = [
        sys.executable,
        "-m",
        "mailflow",
        "-c",
        str(mailflow.config_path),
        "tick",
        "--at",
        late,
    ]
    ticks = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)
    ]
    results = [tick.communicate(timeout=60) for tick in ticks]
    assert [tick.returncode for tick in ticks] == [0, 0], results
    chasers = [m for m in mailflow.sent() if m["X-Mailflow-Kind"] == "reply_chaser"]
    assert len(chasers) == 3
    assert len({m["Message-ID"] for m in chasers}) == 3


def test_the_daemon_chases_by_itself(mailflow_sqlite: Mailflow) -> None:
    flow = mailflow_sqlite
    flow.write_config(deadlines='urgent = "15s"', schedule='tick_interval = "2s"')
    urgent = REQUEST_FORM_ZH.replace("□紧急（24小时内响应）☑重要", "☑紧急（24小时内响应）□重要")
    flow.start_daemon()
    time.sleep(1.5)
    flow.deliver(message(sender=REQUESTER, subject="紧急协调", text=urgent))
    flow.wait_for_mail(3)
    started = time.monotonic()
    flow.wait_for_mail(5, timeout=45)
    assert time.monotonic() - started >= 10  # not before the deadline
    assert flow.stop_daemon() == 0
    assert sorted(kinds(flow, 3)) == ["reply_chaser", "reply_chaser"]
