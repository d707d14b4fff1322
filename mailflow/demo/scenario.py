"""``mailflow demo --scenario``: one whole case, played by the demo's people over real mail.

The people write as their mail clients would — a new message for the request form, replies
with the original quoted below (Outlook style) for everything else — and send it through the
demo's SMTP server to the address mailflow gave them (its reply-token ``Reply-To``). mailflow,
watching the coordination mailbox with IMAP IDLE, picks each one up, and its answers land in
the people's mailboxes; the scenario reads what each person received from the delivery journal
(what their mail client would show) and answers that.

Deadlines are the product's own; where the case has to wait for one (the reply chaser, the
weekly status, the review reminder) the scenario runs every time-based duty as of that moment,
exactly as ``mailflow tick --at …`` does, and lets mailflow's sender deliver what they queued.
After each step it waits until mailflow has recorded every mail sent to it and delivered
everything it queued, and checks that the mails the step should cause have arrived.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from pathlib import Path
from typing import Any

import aiosmtplib
from sqlalchemy import func, select

from mailflow.app import App
from mailflow.demo import directory
from mailflow.demo.console import Console
from mailflow.demo.directory import CHEN, HUANG, LI, WANG, ZHANG, Member
from mailflow.demo.runner import InProcessDaemon
from mailflow.demo.servers import HOST, Delivered, Journal
from mailflow.models import ActionItem, InboundMessage, OutboxMessage, Request

SETTLE_SECONDS = 30.0
STAGES = 5


class ScenarioError(Exception):
    """A step did not have the effect it should have had; the message says what is missing."""


TEXTS: dict[str, dict[str, Any]] = {
    "zh": {
        "stages": (
            "需求梳理与发起",
            "协调对象确认与沟通",
            "会议组织与共识达成",
            "方案落地与跟踪反馈",
            "闭环复盘与优化",
        ),
        "intro": (
            "情景演示：一个完整案例。人员的邮件按真实时间发出；⏩ 表示把 mailflow 的定时任务"
            "按之后某一时刻运行一次（与 mailflow tick --at 相同），不必真的等上几天。"
        ),
        "stage": "[阶段 {n}/{total}] {title}（{elapsed:.1f} 秒）",
        "steps": {
            "form": "张伟（市场部）把需求申请表（模板1）发到协调邮箱",
            "product": "产品部负责人陈杰回复需求通知：同意参加",
            "chaser": "时间快进到反馈时限之后；技术支持部还没有回复",
            "support": "技术支持部负责人黄磊回复催办邮件",
            "notice": "牵头部门负责人王芳回复汇总邮件，发出会议通知（{day}）",
            "minutes": "记录人李娜回复会议邀请，发来会议纪要（模板2，三个行动项）",
            "signoffs": "王芳、陈杰回复确认；黄磊提出异议",
            "withdraw": "黄磊与王芳沟通后撤回异议，回复确认",
            "updates": "陈杰报告 {a1} 进行中；黄磊申请 {a2} 延期（新日期和原因）",
            "weekly": "时间快进到每周状态邮件发送时间",
            "done": "陈杰、黄磊、李娜回复周报：{a1}、{a2}、{a3} 已完成",
            "accept": "申请人张伟回复验收请求：验收通过",
            "reviews": "陈杰、黄磊回复复盘请求（亮点／不足）",
            "reminder": "时间快进到复盘截止前一个工作日；市场部还没有交复盘",
            "last_review": "王芳回复复盘提醒；复盘汇总，案例记录归档",
        },
        "shift": "⏩ 时间快进到 {at:%Y-%m-%d %H:%M}，运行定时任务（= mailflow tick --at {iso}）",
        "form_subject": "跨部门协调申请：Q3推广活动技术支持",
        "form": (
            "申请部门：市场部\n申请日期：{date}\n需求编号：\n"
            "需求背景：Q3季度市场推广活动需要产品部和技术支持部提供技术支持，为保证活动按时落地，"
            "需协调各方资源与时间节点。\n"
            "涉及部门：产品部、技术支持部\n牵头部门：市场部\n"
            "期望目标：确定技术支持人员名单、技术方案及交付时间\n"
            "紧急程度：□紧急（24小时内响应）☑重要（3个工作日内响应）□常规（1周内响应）\n"
            "附件材料：无\n发起部门负责人签字：王芳\n日期：{date}\n"
        ),
        "product": "收到，产品部同意参加，对接人刘洋。",
        "support": "抱歉回复晚了。技术支持部同意参加，可以安排两名工程师。",
        "notice": (
            "会议主题：Q3推广活动技术支持协调会\n会议时间：{day}14:00-16:00\n会议地点：3楼会议室A\n"
            "参会人员：王芳（主持人）、陈杰（决策人）、黄磊、李娜（记录人）\n"
            "会议材料：活动流程图、资源清单\n"
        ),
        "minutes": (
            "会议主题：Q3推广活动技术支持协调会\n会议时间：{day}14:00-16:00\n会议地点：3楼会议室A\n"
            "主持人：王芳\n参会人员：王芳、陈杰、黄磊、李娜\n记录人：李娜\n"
            "讨论要点与共识：\n1. 技术支持部为活动安排两名工程师。\n2. 产品部负责技术方案。\n"
            "行动项：\n"
            "产品部｜陈杰｜完成技术方案初稿｜{due}｜方案通过评审\n"
            "技术支持部｜黄磊｜确定支持人员名单｜{due}｜名单经双方确认\n"
            "市场部｜李娜｜更新活动排期｜{due}｜排期表发布\n"
        ),
        "sign_wang": "确认",
        "sign_chen": "同意，无异议。",
        "objection": "有异议：技术支持人员名单的完成时间太紧，建议顺延一周。",
        "withdraw": "撤回异议，确认。",
        "progress": "{a1}：进行中，初稿已完成一半。",
        "delay": "{a2} 延期至 {date}，原因：两名工程师下周才能到岗。",
        "done_chen": "{a1}：已完成",
        "done_huang": "{a2}：已完成，名单已经双方确认。",
        "done_li": "{a3}：已完成，排期表已发布。",
        "accept": "验收通过，感谢各位！",
        "review_chen": "亮点：各部门响应快，纪要当天确认。\n不足：需求背景描述不够具体，方案返工一次。",
        "review_huang": "亮点：行动项分工清楚。\n不足：支持人员安排偏晚，导致一次延期。",
        "review_wang": "亮点：跨部门协作顺畅，按期验收。\n不足：需求提出时间偏晚，前期准备不足。",
        "done_line": (
            "✔ {number} 全流程完成，用时 {seconds:.1f} 秒：人员发出 {people} 封邮件，"
            "mailflow 发出 {mailflow} 封（每封另密送行政部备案）。"
        ),
        "mailboxes": "各邮箱本次收到的邮件（IMAP 127.0.0.1:{port}，用户名＝邮箱地址，密码 {password}）：",
        "kept": "数据保留在 {data}：",
        "serve": "再次启动服务器，用邮件客户端查看这些邮箱",
        "record": "案例全记录",
        "archive": "归档的案例记录（Markdown／HTML）",
        "date": "{d.year}年{d.month}月{d.day}日",
        "quote": "-----原始邮件-----\n发件人: {sender}\n发送时间: {sent}\n收件人: {to}\n主题: {subject}",
        "reply_prefix": "答复: ",
    },
    "en": {
        "stages": (
            "request intake",
            "department responses",
            "meeting and minutes",
            "tracking",
            "closure and review",
        ),
        "intro": (
            "A whole case, played by the demo's people. Their mails go out in real time; ⏩ runs "
            "mailflow's time-based duties as of a later moment (as mailflow tick --at does), "
            "so nobody waits days."
        ),
        "stage": "[stage {n}/{total}] {title} ({elapsed:.1f} s)",
        "steps": {
            "form": "Wei Zhang (Marketing) mails the request form (Template 1) to the coordination address",
            "product": "Jie Chen, head of Product, answers the request notice: Product takes part",
            "chaser": "the clock moves past the reply deadline; Technical Support has not answered",
            "support": "Lei Huang, head of Technical Support, answers the chaser",
            "notice": "Fang Wang (lead department) answers the summary with a meeting notice ({day})",
            "minutes": "Na Li, the recorder, answers the invitation with the minutes (Template 2, three action items)",
            "signoffs": "Fang Wang and Jie Chen confirm the minutes; Lei Huang objects",
            "withdraw": "after a word with Fang Wang, Lei Huang withdraws his objection and confirms",
            "updates": "Jie Chen reports {a1} in progress; Lei Huang delays {a2} (new date and reason)",
            "weekly": "the clock moves to the weekly status mail",
            "done": "Jie Chen, Lei Huang and Na Li answer the weekly status: {a1}, {a2}, {a3} done",
            "accept": "Wei Zhang, the requester, accepts",
            "reviews": "Jie Chen and Lei Huang answer the review request (highlights / shortcomings)",
            "reminder": "the clock moves to the working day before the review deadline; Marketing has not reviewed",
            "last_review": "Fang Wang answers the reminder; the reviews are compiled and the case archived",
        },
        "shift": "⏩ the clock moves to {at:%Y-%m-%d %H:%M}: every duty runs as of then (= mailflow tick --at {iso})",
        "form_subject": "Coordination request: Q3 campaign technical support",
        "form": (
            "Requesting department: Marketing\nDate: {date}\nRequest number:\n"
            "Background: The Q3 campaign needs technical support from Product and Technical "
            "Support; the teams' resources and dates must be aligned.\n"
            "Departments involved: Product, Technical Support\nLead department: Marketing\n"
            "Expected goal: Agree the support staff list, the technical plan and the delivery dates\n"
            "Urgency: [ ] Urgent  [x] Important  [ ] Normal\nAttachments: None\n"
            "Signed by: Fang Wang\nDate: {date}\n"
        ),
        "product": "Received. Product agrees to take part; Yang Liu is our contact.",
        "support": "Sorry for the late answer. Technical Support agrees and can provide two engineers.",
        "notice": (
            "Topic: Q3 campaign technical support\nTime: {day} 14:00-16:00\nPlace: Meeting room 3A\n"
            "Attendees: Fang Wang (host), Jie Chen (decision-maker), Lei Huang, Na Li (recorder)\n"
            "Materials: campaign flow chart, resource list\n"
        ),
        "minutes": (
            "Topic: Q3 campaign technical support\nTime: {day} 14:00-16:00\nPlace: Meeting room 3A\n"
            "Host: Fang Wang\nAttendees: Fang Wang, Jie Chen, Lei Huang, Na Li\nRecorder: Na Li\n"
            "Discussion and agreements:\n1. Technical Support provides two engineers.\n"
            "2. Product owns the technical plan.\n"
            "Action items:\n"
            "Product | Jie Chen | Draft the technical plan | {due} | The plan passes review\n"
            "Technical Support | Lei Huang | Name the support engineers | {due} | Both sides confirm the list\n"
            "Marketing | Na Li | Update the campaign schedule | {due} | The schedule is published\n"
        ),
        "sign_wang": "Confirmed.",
        "sign_chen": "Agreed, no objection.",
        "objection": "Objection: the deadline for naming the support engineers is too tight, please move it by a week.",
        "withdraw": "I withdraw my objection. Confirmed.",
        "progress": "{a1}: in progress, half of the draft is written.",
        "delay": "{a2} delayed to {date} because the two engineers only join next week.",
        "done_chen": "{a1}: done",
        "done_huang": "{a2}: done, both sides confirmed the list.",
        "done_li": "{a3}: done, the schedule is published.",
        "accept": "Accepted, thank you all.",
        "review_chen": (
            "Highlights: quick answers, the minutes were confirmed the same day.\n"
            "Shortcomings: the background was vague, so the plan was reworked once."
        ),
        "review_huang": (
            "Highlights: every action had a clear owner.\n"
            "Shortcomings: the engineers were named late, which caused one delay."
        ),
        "review_wang": (
            "Highlights: smooth cooperation, accepted on time.\n"
            "Shortcomings: the request came late and preparation was short."
        ),
        "done_line": (
            "✔ {number} played through in {seconds:.1f} s: the people sent {people} mails, "
            "mailflow {mailflow} (each also BCC'd to the archive)."
        ),
        "mailboxes": "What each mailbox received (IMAP 127.0.0.1:{port}, user = the address, password {password}):",
        "kept": "The state is kept in {data}:",
        "serve": "serve these mailboxes again and look at them with a mail client",
        "record": "the whole case record",
        "archive": "the archived case record (Markdown / HTML)",
        "date": "{d:%Y-%m-%d}",
        "quote": "________________________________\nFrom: {sender}\nSent: {sent}\nTo: {to}\nSubject: {subject}",
        "reply_prefix": "RE: ",
    },
}


class Scenario:
    """One case from the form to the archive; :meth:`play` returns the request number."""

    def __init__(
        self, lang: str, app: App, mailflow: InProcessDaemon, smtp_port: int, journal: Journal,
        console: Console,
    ) -> None:  # fmt: skip
        self.lang, self.app, self.mailflow = lang, app, mailflow
        self.smtp_port, self.journal, self.console = smtp_port, journal, console
        self.text = TEXTS[lang]
        self.calendar = app.context.calendar
        self.number = ""
        self._started = time.monotonic()
        self._case_start = len(journal.entries)
        self._mark = self._case_start
        self._waiting: list[str] = []  # Message-IDs sent to mailflow, not yet recorded
        self._outbox_floor = 0

    # ---------------------------------------------------------------- the case

    async def play(self) -> str:
        text, cal = self.text, self.calendar
        self._outbox_floor = await asyncio.to_thread(self._last_outbox_id)
        today = cal.local(dt.datetime.now(dt.UTC)).date()
        # Far enough ahead that none of the time shifts below falls due for a meeting
        # reminder or an action reminder (they would be right, but out of place in the story).
        meeting_day = cal.nth_working_day_after(today, 7)
        due = cal.nth_working_day_after(today, 12)
        delayed_to = cal.nth_working_day_after(today, 15)
        self.console.line()
        self.console.line(text["intro"])

        self.stage(1)
        self.step("form")
        form = text["form"].format(date=today.isoformat())
        await self.send(self.new_mail(ZHANG, text["form_subject"], form))
        ack = self.expect("request_ack", ZHANG)
        self.number = ack.case
        self.expect("request_notice", CHEN)
        self.expect("request_notice", HUANG)

        self.stage(2)
        self.step("product")
        await self.send(self.reply("request_notice", CHEN, text["product"]))
        deadline = await asyncio.to_thread(self._request_field, "reply_deadline")
        await self.time_shift(deadline + dt.timedelta(minutes=1), "chaser")
        self.expect("reply_chaser", HUANG)
        self.step("support")
        await self.send(self.reply("reply_chaser", HUANG, text["support"]))
        self.expect("responses_complete", WANG)

        self.stage(3)
        day = text["date"].format(d=meeting_day)
        self.step("notice", day=day)
        await self.send(self.reply("responses_complete", WANG, text["notice"].format(day=day)))
        self.expect("meeting_invitation", LI)
        self.expect("meeting_invitation", CHEN)
        self.step("minutes")
        minutes = text["minutes"].format(day=day, due=due.isoformat())
        await self.send(self.reply("meeting_invitation", LI, minutes))
        self.expect("minutes_distribution", CHEN)
        self.step("signoffs")
        await self.send(
            self.reply("minutes_distribution", WANG, text["sign_wang"]),
            self.reply("minutes_distribution", CHEN, text["sign_chen"]),
            self.reply("minutes_distribution", HUANG, text["objection"]),
        )
        self.expect("minutes_objection", WANG)
        self.step("withdraw")
        await self.send(self.reply("minutes_distribution", HUANG, text["withdraw"]))
        self.expect("minutes_confirmed", CHEN)

        self.stage(4)
        codes = await asyncio.to_thread(self._action_codes)
        a1, a2, a3 = (codes.get(p.address, "?") for p in (CHEN, HUANG, LI))
        self.step("updates", a1=a1, a2=a2)
        await self.send(
            self.reply("minutes_confirmed", CHEN, text["progress"].format(a1=a1)),
            self.reply(
                "minutes_confirmed", HUANG, text["delay"].format(a2=a2, date=delayed_to.isoformat())
            ),
        )
        self.expect("update_result", CHEN)
        self.expect("delay_assessment", WANG)
        await self.time_shift(self._next_weekly_status(), "weekly")
        self.expect("weekly_status", WANG)
        self.step("done", a1=a1, a2=a2, a3=a3)
        await self.send(
            self.reply("weekly_status", CHEN, text["done_chen"].format(a1=a1)),
            self.reply("weekly_status", HUANG, text["done_huang"].format(a2=a2)),
            self.reply("weekly_status", LI, text["done_li"].format(a3=a3)),
        )
        self.expect("acceptance_request", ZHANG)

        self.stage(5)
        self.step("accept")
        await self.send(self.reply("acceptance_request", ZHANG, text["accept"]))
        self.expect("acceptance_report", ZHANG)
        self.expect("review_request", CHEN)
        self.step("reviews")
        await self.send(
            self.reply("review_request", CHEN, text["review_chen"]),
            self.reply("review_request", HUANG, text["review_huang"]),
        )
        review_due = await asyncio.to_thread(self._request_field, "review_due")
        reminder_day = cal.previous_working_day(cal.local(review_due).date())
        reminder = dt.datetime.combine(reminder_day, dt.time(9, 1), tzinfo=cal.tz)
        await self.time_shift(reminder, "reminder")
        self.expect("review_reminder", WANG)
        self.step("last_review")
        await self.send(self.reply("review_reminder", WANG, text["review_wang"]))
        self.expect("review_compiled")
        self.expect("case_record", directory.ARCHIVE)
        return self.number

    def summary(self, number: str, seconds: float, data: Path) -> None:
        """What the case produced, where it is kept, and how to look at it."""
        text, out = self.text, self.console
        entries = self.journal.entries[self._case_start :]
        people = sum(1 for e in entries if not e.kind)
        out.line()
        out.line(
            text["done_line"].format(
                number=number, seconds=seconds, people=people, mailflow=len(entries) - people
            )
        )
        port = self.app.config.mailbox.port
        out.line(text["mailboxes"].format(port=port, password=directory.PASSWORD))
        for address in directory.mailboxes():
            received = sum(1 for e in entries if address in e.mailboxes)
            if received:
                name = directory.display_name(address, self.lang)
                out.line(f"  {name} <{address}>: {received}")
        out.line(text["kept"].format(data=data))
        config = data / "mailflow.toml"
        out.line(f"  mailflow demo --data {data}    # {text['serve']}")
        out.line(f"  mailflow -c {config} requests show {number}    # {text['record']}")
        knowledge = data / "knowledge-base" / f"{number}.md"
        out.line(f"  {knowledge}    # {text['archive']}")

    # ---------------------------------------------------------------- progress

    def stage(self, n: int) -> None:
        title = self.text["stages"][n - 1]
        elapsed = time.monotonic() - self._started
        self.console.line()
        self.console.line(
            self.text["stage"].format(n=n, total=STAGES, title=title, elapsed=elapsed)
        )

    def step(self, key: str, **values: str) -> None:
        self._mark = len(self.journal.entries)
        self.console.line(f" ▸ {self.text['steps'][key].format(**values)}")

    async def time_shift(self, at: dt.datetime, key: str) -> None:
        """Run every duty as of ``at`` (``mailflow tick --at``) and let mailflow send."""
        self.step(key)
        local = self.calendar.local(at)
        iso = local.isoformat(timespec="minutes")
        self.console.line(f"   {self.text['shift'].format(at=local, iso=iso)}")
        await self.mailflow.tick(at)
        await self.settle()

    # ---------------------------------------------------------------- mail

    def new_mail(self, person: Member, subject: str, body: str) -> EmailMessage:
        message = self._message(person, directory.COORDINATION, subject)
        message.set_content(body)
        return message

    def reply(self, kind: str, person: Member, text: str) -> EmailMessage:
        """``person``'s Outlook-style reply to the latest ``kind`` mail they received."""
        original = self.latest(kind, person).message
        reply_to = original.get("Reply-To") or original.get("From")
        to = reply_to.addresses[0].addr_spec if reply_to else directory.COORDINATION
        subject = str(original.get("Subject", ""))
        message = self._message(person, to, self.text["reply_prefix"] + subject)
        message["In-Reply-To"] = original["Message-ID"]
        references = " ".join(filter(None, [original.get("References"), original["Message-ID"]]))
        message["References"] = references
        plain = original.get_body(("plain",))
        quoted = plain.get_content() if plain is not None else ""
        head = self.text["quote"].format(
            sender=str(original.get("From", "")), sent=str(original.get("Date", "")),
            to=person.formatted(self.lang), subject=subject,
        )  # fmt: skip
        message.set_content(f"{text}\n\n{head}\n\n{quoted}")
        return message

    def _message(self, person: Member, to: str, subject: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = formataddr((person.name(self.lang), person.address))
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=True)
        message["Message-ID"] = make_msgid(domain=directory.DOMAIN)
        return message

    async def send(self, *messages: EmailMessage) -> None:
        """Send through the demo SMTP server, as the people's clients do; wait for the effect."""
        for message in messages:
            sender = message["From"].addresses[0].addr_spec
            recipients = [a.addr_spec for a in message["To"].addresses]
            try:
                await aiosmtplib.send(
                    message, sender=sender, recipients=recipients, hostname=HOST,
                    port=self.smtp_port, use_tls=False, start_tls=False, timeout=10,
                )  # fmt: skip
            except aiosmtplib.SMTPException as exc:
                raise ScenarioError(f"the demo SMTP server refused a mail: {exc}") from exc
            self._waiting.append(message["Message-ID"])
        await self.settle()

    async def settle(self) -> None:
        """Wait until mailflow has recorded every mail sent to it and sent all it queued."""
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            waiting, pending = await asyncio.to_thread(self._backlog)
            if not waiting and not pending:
                self._waiting = []
                return
            if time.monotonic() > deadline:
                raise ScenarioError(
                    f"mailflow did not finish in {SETTLE_SECONDS:.0f} s: {len(waiting)} mail(s) "
                    f"not yet picked up from the coordination mailbox, {pending} not yet sent"
                )
            await asyncio.sleep(0.05)

    def latest(self, kind: str, person: Member | None = None) -> Delivered:
        found = self._find(kind, person, self._case_start)
        if not found:
            raise ScenarioError(f"{_who(person)} has received no {kind} mail in this case")
        return found[-1]

    def expect(self, kind: str, to: Member | str | None = None) -> Delivered:
        """The ``kind`` mail this step caused (to ``to``), or ScenarioError saying what came."""
        found = self._find(kind, to, self._mark)
        if not found:
            came = ", ".join(
                e.kind or "a person's mail" for e in self.journal.entries[self._mark :]
            )
            raise ScenarioError(f"expected a {kind} mail to {_who(to)}; got: {came or 'nothing'}")
        return found[-1]

    def _find(self, kind: str, to: Member | str | None, start: int) -> list[Delivered]:
        address = to.address if isinstance(to, Member) else to
        return [
            entry
            for entry in self.journal.entries[start:]
            if entry.kind == kind
            and (not self.number or entry.case == self.number)
            and (address is None or address in entry.mailboxes)
        ]

    # ---------------------------------------------------------------- the database

    def _backlog(self) -> tuple[list[str], int]:
        """(Message-IDs not yet recorded, mails of this case's run not yet sent)."""
        with self.app.sessions() as session:
            recorded = {
                (m.message_id or "").strip("<>"): m
                for m in session.scalars(
                    select(InboundMessage).where(
                        InboundMessage.message_id.in_(
                            self._waiting + [i.strip("<>") for i in self._waiting]
                        )
                    )
                )
            }
            for record in recorded.values():
                if record.folder == "failed":
                    raise ScenarioError(
                        f"mailflow could not read {record.subject!r}: {record.reason}"
                    )
            waiting = [i for i in self._waiting if i.strip("<>") not in recorded]
            mine = OutboxMessage.id > self._outbox_floor
            stuck = session.scalars(
                select(OutboxMessage).where(
                    mine, OutboxMessage.status != "sent", OutboxMessage.attempts > 0
                )
            ).first()
            if stuck is not None:
                raise ScenarioError(
                    f"mailflow could not send {stuck.kind} ({stuck.status}): {stuck.last_error}"
                )
            pending = session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(mine, OutboxMessage.status == "pending")
            )
        return waiting, int(pending or 0)

    def _last_outbox_id(self) -> int:
        with self.app.sessions() as session:
            return int(session.scalar(select(func.max(OutboxMessage.id))) or 0)

    def _request_field(self, name: str) -> dt.datetime:
        with self.app.sessions() as session:
            value = session.scalar(
                select(getattr(Request, name)).where(Request.number == self.number)
            )
        if value is None:
            raise ScenarioError(f"{self.number} has no {name}")
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)

    def _action_codes(self) -> dict[str, str]:
        """Owner address -> action item code of this case (A1, A2 … unique per installation)."""
        with self.app.sessions() as session:
            rows = session.execute(
                select(ActionItem.owner, ActionItem.code)
                .join(Request, ActionItem.request_id == Request.id)
                .where(Request.number == self.number)
                .order_by(ActionItem.id)
            ).all()
        return {owner: code for owner, code in rows}

    def _next_weekly_status(self) -> dt.datetime:
        """The first weekly status moment (``schedule.weekly_status``) after now, plus a minute."""
        cal, schedule = self.calendar, self.app.config.schedule
        now = dt.datetime.now(dt.UTC)
        local = cal.local(now)
        monday = local.date() - dt.timedelta(days=local.weekday())
        for week in range(3):
            start = monday + dt.timedelta(weeks=week, days=schedule.weekly_status_day)
            moment = dt.datetime.combine(
                cal.next_working_day(start), schedule.weekly_status_time, tzinfo=cal.tz
            )
            if moment > now:
                return moment + dt.timedelta(minutes=1)
        raise ScenarioError("no weekly status moment in the next three weeks")


def _who(person: Member | str | None) -> str:
    if person is None:
        return "anyone"
    return person.address if isinstance(person, Member) else person
