"""A meeting notice from the lead department (会议通知), tagged with its request.

A readable notice becomes a meeting; the attendees get the notice with an iCalendar invitation
(METHOD:REQUEST) and the sender is warned when the meeting is less than 2 working days away
(提前2个工作日). A notice naming someone who cannot be found gets one reply listing what could
not be resolved, and nothing is sent to anyone: nothing is guessed.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from sqlalchemy.orm import Session

from mailflow import ical, meetings
from mailflow.cases import find_request
from mailflow.config import Person
from mailflow.context import Context
from mailflow.handlers.base import Verdict
from mailflow.handlers.request import sender_person
from mailflow.models import Meeting, MeetingAttendee, Request
from mailflow.outbox import Mail, enqueue
from mailflow.parse import ParsedMail
from mailflow.router import Route

SHORT_NOTICE_WORKDAYS = 2


def handle(mail: ParsedMail, session: Session, ctx: Context, route: Route) -> Verdict:
    request = find_request(session, route.request_number)
    assert request is not None and mail.sender is not None
    result = meetings.read_meeting_notice(mail, ctx.directory, ctx.calendar.tz)
    if isinstance(result, list):
        report_problems(mail, session, ctx, request, result, what="notice")
        return Verdict(
            "notice_rejected",
            request=request,
            reason=", ".join(f"{p.field}:{p.code}" for p in result),
        )
    meeting = _record(mail, session, ctx, request, result)
    _invite(session, ctx, request, meeting, result)
    if _short_notice(ctx, meeting):
        _warn(mail, session, ctx, request, meeting)
    return Verdict("meeting_scheduled", request=request, reason=f"meeting {meeting.uid}")


def _record(
    mail: ParsedMail,
    session: Session,
    ctx: Context,
    request: Request,
    notice: meetings.MeetingNotice,
) -> Meeting:
    meeting = Meeting(
        request=request,
        topic=notice.topic,
        starts_at=notice.starts_at,
        ends_at=notice.ends_at,
        place=notice.place,
        link=notice.link,
        materials=notice.materials,
        questions=notice.questions,
        organizer=mail.sender.address if mail.sender else "",
        uid=f"{request.number}-{secrets.token_hex(6)}@{ctx.config.mail_domain}",
        notice_message_id=mail.message_id,
        created_at=ctx.now,
    )
    for attendee in notice.attendees:
        meeting.attendees.append(
            MeetingAttendee(
                address=attendee.person.address,
                name=attendee.person.name,
                role=attendee.role,
                department=attendee.department,
            )
        )
    session.add(meeting)
    if request.stage in ("responses", "meeting"):
        request.stage = "meeting"
    session.flush()
    return meeting


def attendee_people(meeting: Meeting) -> list[Person]:
    return [Person(a.address, a.name) for a in meeting.attendees]


def _invite(
    session: Session,
    ctx: Context,
    request: Request,
    meeting: Meeting,
    notice: meetings.MeetingNotice,
) -> None:
    smtp = ctx.config.smtp
    invitation = ical.invitation(
        uid=meeting.uid,
        sequence=meeting.sequence,
        organizer=Person(smtp.from_address, smtp.from_name),
        attendees=notice.attendees,
        topic=f"[{request.number}] {meeting.topic}",
        description=_description(request, meeting),
        starts_at=meeting.starts_at,
        ends_at=meeting.ends_at,
        place=meeting.place,
        link=meeting.link,
        tz=ctx.calendar.tz,
        stamp=ctx.now,
    )
    enqueue(
        session,
        ctx,
        Mail(
            kind="meeting_invitation",
            dedupe_key=f"meeting_invitation:{meeting.uid}:{meeting.sequence}",
            to=attendee_people(meeting),
            language=notice.language,
            request=request,
            context={"request": request, "meeting": meeting},
            attachments=[("invite.ics", "text/calendar; method=REQUEST", invitation)],
        ),
    )


def _description(request: Request, meeting: Meeting) -> str:
    parts = [f"{request.number}: {request.goal}"]
    if meeting.materials:
        parts.append(meeting.materials)
    if meeting.questions:
        parts.append(meeting.questions)
    return "\n\n".join(parts)


def _short_notice(ctx: Context, meeting: Meeting) -> bool:
    """Less than 2 working days between the notice and the meeting day (提前2个工作日)."""
    today = ctx.calendar.local(ctx.now).date()
    meeting_day = ctx.calendar.local(meeting.starts_at).date()
    return ctx.calendar.working_days_between(today, meeting_day) < SHORT_NOTICE_WORKDAYS


def _warn(
    mail: ParsedMail, session: Session, ctx: Context, request: Request, meeting: Meeting
) -> None:
    today = ctx.calendar.local(ctx.now).date()
    meeting_day = ctx.calendar.local(meeting.starts_at).date()
    enqueue(
        session,
        ctx,
        Mail(
            kind="meeting_short_notice",
            dedupe_key=f"meeting_short_notice:{meeting.uid}",
            to=[sender_person(mail, ctx)],
            language=ctx.config.language_of(mail.sender.address if mail.sender else ""),
            request=request,
            answers=mail.message_id,
            context={
                "request": request,
                "meeting": meeting,
                "workdays": max(0, ctx.calendar.working_days_between(today, meeting_day)),
                "required": SHORT_NOTICE_WORKDAYS,
            },
        ),
    )


def report_problems(
    mail: ParsedMail,
    session: Session,
    ctx: Context,
    request: Request,
    problems: Sequence[object],
    *,
    what: str,
) -> None:
    """One reply listing what could not be read or resolved in a notice or minutes."""
    enqueue(
        session,
        ctx,
        Mail(
            kind="notice_problems",
            dedupe_key=f"notice_problems:{mail.dedupe_key}",
            to=[sender_person(mail, ctx)],
            language=ctx.config.language_of(mail.sender.address if mail.sender else ""),
            request=request,
            answers=mail.message_id,
            context={"request": request, "problems": problems, "what": what},
        ),
    )
