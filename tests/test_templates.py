"""Every mail kind renders in both languages, from the context its sender really passes.

For each ``templates/<lang>/<kind>.subject.j2`` the mail is rendered through
:class:`mailflow.render.Renderer` (StrictUndefined: a misspelt variable fails) with stand-in
objects shaped like the ones the handlers, duties and closure rules hand over (the
``context={...}`` of each ``Mail(...)``, plus ``org``). One builder per kind serves both
languages; its values are ASCII, so any CJK character in English output came from a template.
A ``<script>`` in what people wrote (a goal, a topic, an objection …) must come out escaped in
the HTML. The case record documents (Markdown and HTML) are rendered the same way.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest

from mailflow.config import Department, Person
from mailflow.forms import FormProblem
from mailflow.meetings import NoticeProblem
from mailflow.minutes import MinutesProblem
from mailflow.record import MailEntry
from mailflow.render import Renderer, templates_dir

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;"
CJK = re.compile("[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
LANGUAGES = ("zh", "en")


def at(day: int, hour: int = 9, minute: int = 0) -> dt.datetime:
    """A moment in December 2026, Shanghai time."""
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=TZ)


# ---------------------------------------------------------------- stand-ins


def org() -> SimpleNamespace:
    return SimpleNamespace(name="Example Trading", admin_archive="archive@example.com")


def request(**changes: Any) -> SimpleNamespace:
    """A request in tracking, shaped like ``models.Request``."""
    values: dict[str, Any] = {
        "id": 7,
        "number": "REQ-2026-0007",
        "status": "open",
        "stage": "tracking",
        "requester": "zhang.wei@example.com",
        "requester_name": "Zhang Wei",
        "requesting_department": "Marketing",
        "lead_department": "Product",
        "background": "Two key customers asked for on-site support in January.\n"
        "We need names and dates before the contract is signed.",
        "goal": f"Confirm the support team and the delivery date {SCRIPT}",
        "urgency": "important",
        "attachments_note": "",
        "attachments": [SimpleNamespace(filename="customer-list.xlsx", size=20480)],
        "language": "en",
        "received_at": at(1, 10, 12),
        "reply_deadline": at(2, 18),
        "all_responded_at": at(2, 15),
        "acceptance_round": 1,
        "acceptance_requested_at": at(14, 11),
        "accepted_at": at(15, 16, 30),
        "review_due": at(18, 18),
        "closed_at": None,
        "departments": [
            SimpleNamespace(
                department="Product",
                responded_at=at(2, 11),
                responder="liu.yang@example.com",
                response_text="We can send two engineers | from 5 Jan.\nContact: Liu Yang",
                chased_at=None,
                escalated_at=None,
            ),
            SimpleNamespace(
                department="Logistics",
                responded_at=None,
                responder="",
                response_text="",
                chased_at=at(2, 18),
                escalated_at=None,
            ),
        ],
    }
    values.update(changes)
    return SimpleNamespace(**values)


def attendee(name: str, address: str, role: str = "attendee", **more: Any) -> SimpleNamespace:
    return SimpleNamespace(name=name, address=address, role=role, department="", **more)


def meeting(req: SimpleNamespace) -> SimpleNamespace:
    return SimpleNamespace(
        topic=f"Support plan kickoff {SCRIPT}",
        starts_at=at(4, 14),
        ends_at=at(4, 16),
        place="Room 3A",
        link="https://meet.example.com/j/123456",
        materials="Draft support plan v2\nCustomer list",
        questions="Who can travel in January?\nWhich dates suit the customers?",
        organizer="chen.jie@example.com",
        uid="REQ-2026-0007-abc123@example.com",
        sequence=0,
        created_at=at(1, 15),
        request=req,
        attendees=[
            attendee("Chen Jie", "chen.jie@example.com", "host"),
            attendee("Wang Fang", "wang.fang@example.com", "decision_maker"),
            attendee("Liu Yang", "liu.yang@example.com", "executor"),
            attendee("Li Na", "li.na@example.com", "recorder"),
            attendee("", "zhou.min@example.com"),
        ],
    )


def signer(name: str, address: str, role: str, status: str, **more: Any) -> SimpleNamespace:
    values = {"answered_at": at(5, 10) if status != "pending" else None, "objection": ""}
    values.update(more)
    return attendee(name, address, role, status=status, **values)


def minutes(req: SimpleNamespace, *, version: int = 2, status: str = "open") -> SimpleNamespace:
    return SimpleNamespace(
        id=3,
        version=version,
        status=status,
        topic=f"Support plan kickoff {SCRIPT}",
        held_at=at(4, 14),
        held_text="2026-12-04 14:00-16:00",
        place="Room 3A",
        host="chen.jie@example.com",
        recorder="li.na@example.com",
        discussion="1. Product sends two engineers from 5 Jan.\n2. Logistics books the travel.",
        changes="The time changed\nAction item A13 was added" if version > 1 else "",
        language="en",
        message_id="<minutes-3@example.com>",
        received_at=at(4, 17),
        confirm_by=at(7, 18),
        confirmed_at=at(7, 12) if status == "confirmed" else None,
        request=req,
        signers=[
            signer("Chen Jie", "chen.jie@example.com", "host", "signed"),
            signer("Li Na", "li.na@example.com", "recorder", "signed"),
            signer("Liu Yang", "liu.yang@example.com", "executor", "pending"),
            signer(
                "Wang Fang",
                "wang.fang@example.com",
                "attendee",
                "objected",
                objection=f"Item 2 should say Logistics | Admin {SCRIPT}",
            ),
        ],
    )


def event(kind: str, day: int, **more: Any) -> SimpleNamespace:
    values = {
        "at": at(day, 10),
        "actor": "liu.yang@example.com",
        "kind": kind,
        "old_status": "",
        "new_status": "",
        "old_due": None,
        "new_due": None,
        "reason": "",
        "note": "",
        "message_id": "",
    }
    values.update(more)
    return SimpleNamespace(**values)


def action(req: SimpleNamespace, code: str = "A12", **more: Any) -> SimpleNamespace:
    """An action item, shaped like ``models.ActionItem``, with its history."""
    values: dict[str, Any] = {
        "id": 12,
        "code": code,
        "request_id": req.id,
        "minutes_id": 3,
        "department": "Product",
        "owner": "liu.yang@example.com",
        "owner_name": "Liu Yang",
        "task": f"Draft the technical support plan {SCRIPT}",
        "due": dt.date(2026, 12, 20),
        "standard": "Plan approved in the review meeting",
        "status": "in_progress",
        "note": "",
        "created_at": at(7, 12),
        "updated_at": at(9, 10),
        "request": req,
        "events": [
            event("created", 7, actor="", new_status="not_started"),
            event("status", 8, old_status="not_started", new_status="in_progress"),
            event(
                "delay",
                9,
                old_due=dt.date(2026, 12, 10),
                new_due=dt.date(2026, 12, 20),
                reason="Staffing conflict",
            ),
            event("status", 14, old_status="in_progress", new_status="done"),
        ],
    }
    values.update(more)
    return SimpleNamespace(**values)


def update(status: str = "delayed", **more: Any) -> SimpleNamespace:
    """A status update read from a reply, shaped like ``updates.StatusUpdate``."""
    values = {
        "action": "A12",
        "status": status,
        "new_due": dt.date(2026, 12, 20) if status == "delayed" else None,
        "reason": "Staffing conflict" if status == "delayed" else "",
        "note": "",
        "line": "A12 delayed to 2026-12-20 because of a staffing conflict",
    }
    values.update(more)
    return SimpleNamespace(**values)


def department(name: str = "Logistics") -> Department:
    return Department(
        name=name,
        head=Person("sun.li@example.com", "Sun Li"),
        contacts=(Person("zhou.min@example.com", "Zhou Min"),),
        supervisor=Person("ma.jun@example.com", "Ma Jun"),
    )


def review(dept: str, highlights: str, shortcomings: str, text: str = "") -> SimpleNamespace:
    return SimpleNamespace(
        department=dept,
        highlights=highlights,
        shortcomings=shortcomings,
        text=text or f"Highlights: {highlights}\nShortcomings: {shortcomings}",
        responder="wang.fang@example.com",
        replied_at=at(17, 11),
    )


def tracker_row(code: str, task: str, status: str, overdue: bool) -> SimpleNamespace:
    """A row of the weekly status, shaped like ``tracker_xlsx.TrackerRow``."""
    return SimpleNamespace(
        request="REQ-2026-0007",
        action=code,
        department="Product",
        owner="Liu Yang",
        task=task,
        due=dt.date(2026, 12, 10),
        standard="",
        status=status,
        last_update="2026-12-09 10:00",
        overdue=overdue,
        note="",
    )


# ---------------------------------------------------------------- one builder per kind


@dataclass(frozen=True)
class Case:
    name: str
    context: dict[str, Any]
    echoes_user_text: bool = True  # some free text people wrote is in the body


def case(name: str = "", echoes_user_text: bool = True, **context: Any) -> Case:
    return Case(name, {"org": org(), **context}, echoes_user_text)


def meeting_invitation() -> list[Case]:
    req = request(stage="meeting")
    plain = meeting(req)
    plain.link, plain.materials, plain.questions = "", "", ""
    return [case(request=req, meeting=meeting(req)), case("bare", request=req, meeting=plain)]


def meeting_short_notice() -> list[Case]:
    req = request(stage="meeting")
    return [
        case(request=req, meeting=meeting(req), workdays=1, required=2),
        case("today", request=req, meeting=meeting(req), workdays=0, required=2),
    ]


def notice_problems() -> list[Case]:
    req = request(stage="meeting")
    notice = [
        NoticeProblem("topic", "missing"),
        NoticeProblem("time", "bad_time", "next Thursday afternoon-ish"),
        NoticeProblem("attendees", "unknown_attendee", f"Wang Fnag {SCRIPT}", "Wang Fang"),
        NoticeProblem("decision_makers", "unknown_attendee", "Mr Nobody"),
        NoticeProblem(
            "executors",
            "ambiguous_attendee",
            "Zhang Wei",
            "zhang.wei@example.com, zhang.wei2@example.com",
        ),
    ]
    minutes_problems = [
        MinutesProblem("discussion", "missing"),
        MinutesProblem("actions[1].department", "unknown_department", "Prodcut", "Product"),
        MinutesProblem("actions[2].owner", "unknown_owner", f"Liu Yng {SCRIPT}", "Liu Yang"),
        MinutesProblem("actions[3].due", "bad_date", "32 Dec"),
        MinutesProblem("actions[4].task", "missing", "4. Product | Liu Yang | | 2026-12-08"),
        MinutesProblem("actions[5].standard", "odd", "whatever"),
    ]
    return [
        case("notice", request=req, problems=notice, what="notice"),
        case("minutes", request=req, problems=minutes_problems, what="minutes"),
    ]


def meeting_reminder() -> list[Case]:
    req = request(stage="meeting")
    return [case(request=req, meeting=meeting(req))]


def minutes_chaser() -> list[Case]:
    req = request(stage="meeting")
    return [case(request=req, meeting=meeting(req))]


def minutes_distribution() -> list[Case]:
    req = request(stage="minutes")
    first = minutes(req, version=1)
    first.held_at = None
    return [
        case("corrected", request=req, minutes=minutes(req), actions=[action(req)]),
        case("first", request=req, minutes=first, actions=[]),
    ]


def signoff_outsider() -> list[Case]:
    req = request(stage="minutes")
    sender = Person("guest@example.com", "Guest User")
    return [case(request=req, minutes=minutes(req), sender=sender)]


def minutes_objection() -> list[Case]:
    req = request(stage="minutes")
    record = minutes(req)
    objector = record.signers[-1]
    return [case(request=req, minutes=record, signer=objector, objection=objector.objection)]


def signoff_unclear() -> list[Case]:
    req = request(stage="minutes")
    return [case(request=req, minutes=minutes(req))]


def minutes_confirmed() -> list[Case]:
    req = request()
    record = minutes(req, status="confirmed")
    for s in record.signers:
        s.status, s.answered_at, s.objection = "signed", at(6, 9), ""
    return [
        case(request=req, minutes=record, actions=[action(req), action(req, "A13")]),
        case("no actions", request=req, minutes=record, actions=[]),
    ]


def signoff_chaser() -> list[Case]:
    req = request(stage="minutes")
    record = minutes(req)
    return [case(request=req, minutes=record, signer=record.signers[2])]


def update_result() -> list[Case]:
    req = request()
    item = action(req)
    done = update("done", note=f"handed over {SCRIPT}", line="A13: done")
    refused = [
        SimpleNamespace(action="A99", code="unknown_action", line=f"A99: done {SCRIPT}"),
        SimpleNamespace(action="A14", code="not_allowed", line="A14: in progress"),
        SimpleNamespace(action="A12", code="delay_without_reason", line="A12 delayed to Friday"),
        SimpleNamespace(action="", code="no_action", line="all done"),
        SimpleNamespace(action="A12", code="some_new_code", line="A12: ???"),
    ]
    lead = req.lead_department
    return [
        case(
            "accepted",
            request=req,
            accepted=[(item, update()), (action(req, "A13"), done)],
            refused=[],
            lead=lead,
        ),
        case("mixed", request=req, accepted=[(item, update())], refused=refused, lead=lead),
        case("refused", request=req, accepted=[], refused=refused[:1], lead=lead),
    ]


def delay_assessment() -> list[Case]:
    req = request()
    return [
        case(request=req, item=action(req), update=update(), old_due=dt.date(2026, 12, 10)),
        case("no old date", request=req, item=action(req), update=update(), old_due=None),
    ]


def action_reminder() -> list[Case]:
    req = request()
    labels = {"in_progress": "in progress"}
    return [case(request=req, item=action(req), labels=labels)]


def action_overdue() -> list[Case]:
    req = request()
    labels = {"in_progress": "in progress"}
    return [case(request=req, item=action(req, standard=""), labels=labels)]


def weekly_status() -> list[Case]:
    req = request()
    item = action(req)
    rows = [
        tracker_row("A12", f"Draft the plan {SCRIPT}", "delayed", True),
        tracker_row("A13", "Book the travel", "in progress", False),
    ]
    changes = [(item, e) for e in item.events]
    week = dt.date(2026, 12, 7)
    return [
        case(request=req, rows=rows, changes=changes, labels={}, week_start=week, overdue=1),
        case(
            "quiet",
            request=req,
            rows=[tracker_row("A12", f"Plan {SCRIPT}", "done", False)],
            changes=[],
            labels={},
            week_start=week,
            overdue=0,
        ),
    ]


def acceptance_request() -> list[Case]:
    req = request(stage="acceptance")
    done = [action(req, status="done"), action(req, "A13", status="done", events=[])]
    return [case(request=req, items=done)]


def acceptance_chaser() -> list[Case]:
    req = request(stage="acceptance", requester_name=f"Zhang Wei {SCRIPT}")
    return [case(request=req)]


def acceptance_unclear() -> list[Case]:
    req = request(stage="acceptance", requester_name=f"Zhang Wei {SCRIPT}")
    return [
        case("not allowed", request=req, problem="not_allowed"),
        case("no reason", echoes_user_text=False, request=req, problem="no_reason"),
        case("unclear", echoes_user_text=False, request=req, problem="unclear"),
    ]


def acceptance_facts(req: SimpleNamespace) -> dict[str, Any]:
    """What ``record.acceptance_facts`` adds: items, delays, labels, minutes, rejections."""
    item = action(req, status="done")
    return {
        "items": [item, action(req, "A13", status="done", events=[])],
        "delays": [(item, e) for e in item.events if e.kind == "delay"],
        "status_labels": {"done": "done"},
        "minutes": [minutes(req, status="confirmed")],
        "rejections": [
            SimpleNamespace(
                at=at(14, 15),
                kind="rejected",
                actor=req.requester,
                detail=f"The customer list is missing {SCRIPT}",
            ),
        ],
    }


def acceptance_report() -> list[Case]:
    req = request(status="closed", stage="review")
    facts = acceptance_facts(req)
    smooth = {**facts, "delays": [], "rejections": []}
    return [case(request=req, **facts), case("smooth", request=req, **smooth)]


def acceptance_rejected() -> list[Case]:
    req = request()
    return [case(request=req, reason=f"The customer list is missing {SCRIPT}\nPlease add it.")]


def review_request() -> list[Case]:
    req = request(status="closed", stage="review")
    return [case(request=req, department=department())]


def review_reminder() -> list[Case]:
    req = request(status="closed", stage="review")
    return [case(echoes_user_text=False, request=req, department=department())]


def review_compiled() -> list[Case]:
    req = request(status="closed", stage="closed", closed_at=at(18, 18))
    reviews = [
        review("Marketing", f"Quick replies {SCRIPT}", "Goal was vague at first"),
        review("Product", "", "", text="All fine, nothing to add."),
    ]
    return [
        case(request=req, reviews=reviews, silent=["Logistics"]),
        case("nobody", echoes_user_text=False, request=req, reviews=[], silent=["Logistics"]),
    ]


def case_record() -> list[Case]:
    req = request(status="closed", stage="closed", closed_at=at(18, 18))
    return [case(echoes_user_text=False, request=req, folder="/srv/knowledge-base")]


def request_ack() -> list[Case]:
    req = request(stage="responses")
    return [
        case(
            request=req,
            requester=Person(req.requester, req.requester_name),
            waiting_for=["Logistics"],
            skipped_attachments=[("video.mp4", "too_large")],
            replaced_number="REQ-1",
            max_attachment_mb=20,
        ),
        case(
            "nobody to wait for",
            request=req,
            requester=Person(req.requester),
            waiting_for=[],
            skipped_attachments=[],
            replaced_number="",
            max_attachment_mb=20,
        ),
    ]


def request_notice() -> list[Case]:
    return [case(request=request(stage="responses"), department=department())]


def reply_chaser() -> list[Case]:
    req = request(stage="responses")
    return [
        case(
            request=req,
            department=department(),
            late_by=dt.timedelta(hours=3),
            escalate_at=at(3, 18),
        ),
    ]


def reply_escalation() -> list[Case]:
    req = request(stage="responses")
    return [
        case(
            request=req,
            department=department(),
            chased_at=at(2, 18),
            late_by=dt.timedelta(days=1, hours=2),
        ),
    ]


def responses_complete() -> list[Case]:
    return [case(request=request(stage="meeting"))]


def form_rejected() -> list[Case]:
    problems = [
        FormProblem("goal", "missing"),
        FormProblem("departments", "unknown_department", f"Logistcs {SCRIPT}", "Logistics"),
        FormProblem("urgency", "unreadable_urgency", "very"),
        FormProblem("application_date", "bad_date", "yesterday-ish"),
    ]
    blank = "Requesting department:\nBackground:\nDepartments involved:\nExpected goal:\n"
    return [
        case(
            original_subject=f"Request {SCRIPT}",
            problems=problems,
            found_any_field=True,
            blank_form=blank,
        ),
        case(
            "no form",
            echoes_user_text=False,
            original_subject="",
            problems=[],
            found_any_field=False,
            blank_form=blank,
        ),
    ]


def mail_not_processed() -> list[Case]:
    sizes = {"size_mb": 31.5, "limit_mb": 25.0}
    return [
        case(
            reason, echoes_user_text=False, reason=reason, original_subject=f"Big {SCRIPT}", **sizes
        )
        for reason in ("too_large", "unreadable", "crashed")
    ]


def failure_digest() -> list[Case]:
    failed_in = [
        SimpleNamespace(
            received_at=at(3, 9),
            sender="x@example.com",
            subject=f"Hi {SCRIPT}",
            verdict="unreadable",
            reason="bad MIME",
        ),
        SimpleNamespace(
            received_at=at(3, 10), sender="", subject="", verdict="crashed", reason="ValueError"
        ),
    ]
    failed_out = [
        SimpleNamespace(
            failed_at=at(3, 11),
            to_addrs=["a@example.com"],
            subject="Reminder",
            last_error="550 mailbox unavailable",
        ),
    ]
    return [
        case(
            day=dt.date(2026, 12, 3), failed_in=failed_in, failed_out=failed_out, unknown_senders=2
        ),
    ]


def login_failure() -> list[Case]:
    common = {
        "host": "imap.example.com:993",
        "username": "coordination@example.com",
        "auth": "xoauth2",
    }
    return [
        case(service, detail=f"disconnected: LoginError: {SCRIPT}", service=service, **common)
        for service in ("IMAP", "SMTP")
    ]


BUILDERS: dict[str, Callable[[], list[Case]]] = {
    builder.__name__: builder
    for builder in (
        meeting_invitation,
        meeting_short_notice,
        notice_problems,
        meeting_reminder,
        minutes_chaser,
        minutes_distribution,
        signoff_outsider,
        minutes_objection,
        signoff_unclear,
        minutes_confirmed,
        signoff_chaser,
        update_result,
        delay_assessment,
        action_reminder,
        action_overdue,
        weekly_status,
        acceptance_request,
        acceptance_chaser,
        acceptance_unclear,
        acceptance_report,
        acceptance_rejected,
        review_request,
        review_reminder,
        review_compiled,
        case_record,
        request_ack,
        request_notice,
        reply_chaser,
        reply_escalation,
        responses_complete,
        form_rejected,
        mail_not_processed,
        failure_digest,
        login_failure,
    )
}


def kinds(language: str) -> list[str]:
    return sorted(
        p.name.removesuffix(".subject.j2")
        for p in (templates_dir() / language).glob("*.subject.j2")
    )


# ---------------------------------------------------------------- the checks


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer("Asia/Shanghai")


def test_both_languages_have_the_same_kinds_and_every_kind_a_builder() -> None:
    assert kinds("zh") == kinds("en")
    assert sorted(BUILDERS) == kinds("zh")
    for language in LANGUAGES:
        for kind in kinds(language):
            folder = templates_dir() / language
            single = (folder / f"{kind}.body.j2").exists()
            pair = (folder / f"{kind}.txt.j2").exists() and (folder / f"{kind}.html.j2").exists()
            assert single or pair, f"{language}/{kind} has no body"


MAILS = [
    pytest.param(kind, language, index, id="-".join(filter(None, (kind, this.name, language))))
    for kind, builder in BUILDERS.items()
    for index, this in enumerate(builder())
    for language in LANGUAGES
]


@pytest.mark.parametrize(("kind", "language", "index"), MAILS)
def test_mail_renders(renderer: Renderer, kind: str, language: str, index: int) -> None:
    this = BUILDERS[kind]()[index]
    mail = renderer.render(kind, language, this.context)

    assert mail.subject.strip() and "\n" not in mail.subject
    for part in (mail.subject, mail.text, mail.html):
        assert "{{" not in part and "{%" not in part and "{#" not in part
        assert "None" not in part  # a missing value printed as Python would
    assert mail.text.endswith("\n") and "\n\n\n" not in mail.text
    assert mail.html.lstrip().startswith("<!DOCTYPE html>")
    assert mail.html.rstrip().endswith("</html>")

    assert "<script" not in mail.html
    if this.echoes_user_text:
        assert ESCAPED in mail.html
        assert SCRIPT in mail.text  # the text part is plain text: nothing is escaped there

    if language == "en":
        for part in (mail.subject, mail.text, mail.html):
            assert not CJK.findall(part), f"CJK characters in English: {CJK.findall(part)}"
        assert '<html lang="en">' in mail.html
    else:
        assert CJK.search(mail.subject) and CJK.search(mail.text) and CJK.search(mail.html)


def test_text_and_html_say_the_same_things(renderer: Renderer) -> None:
    """The single-source bodies put the same facts in both parts (spot check)."""
    this = minutes_distribution()[0]
    for language in LANGUAGES:
        mail = renderer.render("minutes_distribution", language, this.context)
        for fact in ("REQ-2026-0007", "A12", "Room 3A", "Liu Yang", "Chen Jie"):
            assert fact in mail.text and fact in mail.html


def test_english_replies_use_the_words_the_parsers_understand(renderer: Renderer) -> None:
    """The replies the mails suggest are the ones ``signoff``, ``updates``, the acceptance and
    the review handlers read."""

    def text(kind: str) -> str:
        return renderer.render(kind, "en", BUILDERS[kind]()[0].context).text

    for kind in ("minutes_distribution", "signoff_unclear", "signoff_chaser"):
        assert '"confirmed"' in text(kind) and '"objection:"' in text(kind)
    assert '"A12: done"' in text("action_reminder")
    assert '"A12 delayed to [new date] because [reason]"' in text("action_overdue")
    for kind in ("acceptance_request", "acceptance_chaser"):
        assert '"accepted"' in text(kind) and '"rejected:" followed by the reason' in text(kind)
    assert "Highlights:" in text("review_request") and "Shortcomings:" in text("review_request")


def test_action_problems_name_the_item_as_written(renderer: Renderer) -> None:
    """``actions[2].owner`` is the second item of the minutes (numbered from 1)."""
    this = notice_problems()[1]
    zh = renderer.render("notice_problems", "zh", this.context).text
    en = renderer.render("notice_problems", "en", this.context).text
    assert "第1项的部门" in zh and "第2项的负责人" in zh and "第3项的完成时间" in zh
    assert "(item 1, department)" in en and "(item 2, owner)" in en and "(item 3, due date)" in en
    notice = notice_problems()[0]
    assert "「决策人」" in renderer.render("notice_problems", "zh", notice.context).text
    assert '"Executors"' in renderer.render("notice_problems", "en", notice.context).text


def test_acceptance_report_lists_items_delays_and_rejections(renderer: Renderer) -> None:
    this = acceptance_report()[0]
    for language in LANGUAGES:
        mail = renderer.render("acceptance_report", language, this.context)
        assert "A12" in mail.text and "A13" in mail.text
        assert "Staffing conflict" in mail.text and "The customer list is missing" in mail.text


# ---------------------------------------------------------------- the case record


def record_context() -> dict[str, Any]:
    """What ``record.gather`` hands over (plus ``org``), for a closed case."""
    req = request(status="closed", stage="closed", closed_at=at(18, 18))
    superseded = minutes(req, version=1, status="superseded")
    confirmed = minutes(req, status="confirmed")
    cancelled = action(req, "A14", status="cancelled", due=None, standard="", events=[])
    return {
        "org": org(),
        "request": req,
        "meetings": [meeting(req)],
        "minutes": [superseded, confirmed],
        "items": [action(req, status="done"), cancelled],
        "status_labels": {"done": "done"},
        "events": [
            SimpleNamespace(at=at(14, 11), kind="acceptance_requested", actor="", detail="round 1"),
            SimpleNamespace(
                at=at(14, 15),
                kind="rejected",
                actor=req.requester,
                detail=f"The customer list is missing {SCRIPT}",
            ),
            SimpleNamespace(at=at(15, 16), kind="accepted", actor=req.requester, detail=""),
            SimpleNamespace(at=at(18, 18), kind="closed", actor="", detail=""),
        ],
        "reviews": [
            review("Marketing", f"Quick replies {SCRIPT}", "Goal was vague at first"),
            review("Product", "", "", text="All fine, nothing to add."),
        ],
        "mails": [
            MailEntry(
                "in", at(1, 10), "zhang.wei@example.com", f"Request {SCRIPT}", "request_created"
            ),
            MailEntry(
                "out",
                at(1, 10, 1),
                "liu.yang@example.com, sun.li@example.com",
                "[REQ-2026-0007] Please reply | by Wed",
                "request_notice (sent)",
            ),
        ],
    }


def empty_record_context() -> dict[str, Any]:
    """A request just received: no meeting, minutes, items, acceptance or review yet."""
    req = request(stage="responses", attachments=[], attachments_note="")
    return {
        "org": org(),
        "request": req,
        "meetings": [],
        "minutes": [],
        "items": [],
        "status_labels": {},
        "events": [],
        "reviews": [],
        "mails": [],
    }


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("build", [record_context, empty_record_context], ids=["full", "empty"])
def test_case_record_markdown(
    renderer: Renderer, language: str, build: Callable[[], dict[str, Any]]
) -> None:
    text = renderer.render_document("case_record.md.j2", language, build())
    assert text.startswith("# REQ-2026-0007 ")
    assert "{{" not in text and "{%" not in text and "None" not in text
    assert len(re.findall(r"^## ", text, re.M)) == 8
    # headings and labels stand in their own paragraph (a block tag ending a line eats its \n)
    assert not re.search(r"[^\n]\n(?:#|Discussion and consensus:|讨论要点与共识：)", text)
    if build is record_context:
        assert "A12" in text and "A14" in text and "Quick replies" in text
        # a table cell never breaks the table: no raw | or newline inside it
        assert "We can send two engineers / from 5 Jan.<br>Contact: Liu Yang" in text
    if language == "en":
        assert not CJK.findall(text), CJK.findall(text)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("build", [record_context, empty_record_context], ids=["full", "empty"])
def test_case_record_html(
    renderer: Renderer, language: str, build: Callable[[], dict[str, Any]]
) -> None:
    html = renderer.render_document("case_record.html.j2", language, build())
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert "{{" not in html and "{%" not in html and "None" not in html
    assert len(re.findall(r"<h2>", html)) == 8
    assert "<script" not in html and ESCAPED in html
    if language == "en":
        assert '<html lang="en">' in html
        assert not CJK.findall(html), CJK.findall(html)
