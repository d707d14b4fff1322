"""Minutes of a meeting (Template 2, 跨部门协调会议纪要) mailed by the recorder.

The minutes are recorded as a new version with their action items (each gets its id, A12),
and distributed to every attendee, every involved department and their supervisors, CC the
admin archive, asking each attendee to reply 确认 or state an objection by the deadline. A
corrected version resets the sign-off and says what changed. Departments whose people
attended now count as having responded.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailflow import actions, minutes
from mailflow.cases import find_request
from mailflow.config import Person, unique_people
from mailflow.context import Context
from mailflow.handlers.base import Verdict
from mailflow.handlers.meeting import report_problems
from mailflow.models import Meeting, Minutes, MinutesSigner, Request
from mailflow.outbox import Mail, enqueue
from mailflow.parse import ParsedMail
from mailflow.router import Route


def handle(mail: ParsedMail, session: Session, ctx: Context, route: Route) -> Verdict:
    request = find_request(session, route.request_number)
    assert request is not None and mail.sender is not None
    result = minutes.read_minutes(mail, ctx.directory, ctx.calendar.tz)
    if isinstance(result, list):
        report_problems(mail, session, ctx, request, result, what="minutes")
        return Verdict(
            "minutes_rejected",
            request=request,
            reason=", ".join(f"{p.field}:{p.code}" for p in result),
        )
    previous = latest_minutes(session, request)
    record = _record(mail, session, ctx, request, result, previous)
    changed = actions.sync_from_minutes(
        session, ctx, request, record, result.actions, actor=mail.sender.address
    )
    if previous is not None:
        record.changes = describe_changes(previous, record, changed, record.language)
    _count_attendance(ctx, request, record)
    _distribute(session, ctx, request, record)
    return Verdict("minutes_recorded", request=request, reason=f"version {record.version}")


def latest_minutes(session: Session, request: Request) -> Minutes | None:
    return session.scalar(
        select(Minutes)
        .where(Minutes.request_id == request.id)
        .order_by(Minutes.version.desc())
        .limit(1)
    )


def _record(
    mail: ParsedMail,
    session: Session,
    ctx: Context,
    request: Request,
    parsed: minutes.Minutes,
    previous: Minutes | None,
) -> Minutes:
    meeting = session.scalar(
        select(Meeting)
        .where(Meeting.request_id == request.id)
        .order_by(Meeting.starts_at.desc())
        .limit(1)
    )
    if previous is not None:
        previous.status = "superseded"
    record = Minutes(
        request=request,
        meeting_id=meeting.id if meeting else None,
        version=previous.version + 1 if previous else 1,
        topic=parsed.topic,
        held_at=parsed.held_at,
        held_text=parsed.held_text,
        place=parsed.place,
        host=parsed.host.address if parsed.host else "",
        recorder=parsed.recorder.address if parsed.recorder else "",
        discussion=parsed.discussion,
        language=parsed.language,
        message_id=mail.message_id,
        received_at=ctx.now,
        confirm_by=ctx.calendar.add(ctx.now, ctx.config.deadlines.confirm_within),
    )
    sender = mail.sender.address if mail.sender else ""
    for attendee in _signers(parsed):
        author = attendee.person.address == sender and attendee.role == "recorder"
        record.signers.append(
            MinutesSigner(
                address=attendee.person.address,
                name=attendee.person.name,
                role=attendee.role,
                department=attendee.department,
                status="signed" if author else "pending",  # the recorder who sends them agrees
                answered_at=ctx.now if author else None,
                reply_message_id=mail.message_id if author else "",
            )
        )
    session.add(record)
    request.stage = "minutes"
    session.flush()
    return record


def _signers(parsed: minutes.Minutes) -> list[minutes.Attendee]:
    """Every attendee, the host and the recorder, once each."""
    seen: dict[str, minutes.Attendee] = {}
    extra = [
        minutes.Attendee(person, role, "")
        for person, role in ((parsed.host, "host"), (parsed.recorder, "recorder"))
        if person is not None
    ]
    for attendee in [*parsed.attendees, *extra]:
        known = seen.get(attendee.person.address)
        if known is None or (known.role == "attendee" and attendee.role != "attendee"):
            department = attendee.department or (known.department if known else "")
            seen[attendee.person.address] = minutes.Attendee(
                attendee.person, attendee.role, department
            )
    return list(seen.values())


def _count_attendance(ctx: Context, request: Request, record: Minutes) -> None:
    """A department whose people attended the meeting counts as having responded."""
    for department in request.departments:
        if department.responded:
            continue
        name = department.department
        present = next(
            (s for s in record.signers if s.department == name or _member(ctx, s, name)), None
        )
        if present is not None:
            department.responded_at = ctx.now
            department.responder = present.address
            department.response_text = f"attended the meeting ({record.topic})"
            department.response_message_id = record.message_id


def _member(ctx: Context, signer: MinutesSigner, department: str) -> bool:
    known = ctx.directory.department(department)
    return known is not None and known.includes(signer.address)


def distribution_list(ctx: Context, request: Request, record: Minutes) -> list[Person]:
    """Every attendee, every involved department (head and contacts) and their supervisors."""
    people = [Person(s.address, s.name) for s in record.signers]
    for name in dict.fromkeys(
        [request.lead_department, *(d.department for d in request.departments)]
    ):
        department = ctx.directory.department(name)
        if department is not None:
            people += department.notified() + (
                [department.supervisor] if department.supervisor else []
            )
    return unique_people(people)


def _distribute(session: Session, ctx: Context, request: Request, record: Minutes) -> None:
    enqueue(
        session,
        ctx,
        Mail(
            kind="minutes_distribution",
            dedupe_key=f"minutes_distribution:{request.number}:v{record.version}",
            to=distribution_list(ctx, request, record),
            archive_on_cc=True,
            language=record.language,
            request=request,
            context={
                "request": request,
                "minutes": record,
                "actions": actions.of_minutes(session, request, record),
            },
        ),
    )


def describe_changes(
    previous: Minutes, current: Minutes, changed: actions.SyncResult, language: str
) -> str:
    """What a corrected version changed, one line each, in the minutes' language."""
    labels = {
        "topic": ("会议主题", "topic"),
        "held_text": ("会议时间", "time"),
        "place": ("会议地点", "place"),
        "host": ("主持人", "host"),
        "recorder": ("记录人", "recorder"),
        "discussion": ("讨论要点与共识", "discussion and agreements"),
    }
    zh = language == "zh"
    lines = [
        (f"「{zh_label}」已修改" if zh else f"The {en_label} changed")
        for field, (zh_label, en_label) in labels.items()
        if getattr(previous, field) != getattr(current, field)
    ]
    before = {s.address for s in previous.signers}
    after = {s.address for s in current.signers}
    if before != after:
        added, removed = sorted(after - before), sorted(before - after)
        if added:
            lines.append(("新增参会人：" if zh else "Attendees added: ") + ", ".join(added))
        if removed:
            lines.append(("删去参会人：" if zh else "Attendees removed: ") + ", ".join(removed))
    for code in changed.added:
        lines.append(f"新增行动项 {code}" if zh else f"Action item {code} added")
    for code in changed.changed:
        lines.append(f"行动项 {code} 已修改" if zh else f"Action item {code} changed")
    for code in changed.cancelled:
        lines.append(f"行动项 {code} 已取消" if zh else f"Action item {code} cancelled")
    return "\n".join(lines) or (
        "内容未变（重新发送）" if zh else "No change in content (sent again)"
    )
