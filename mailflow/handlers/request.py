"""A new request form (Template 1, 跨部门沟通协调需求申请表) arriving at the coordination address.

A valid form becomes a request with its number and reply deadline, its involved departments
and its attachments; the requester is acknowledged (CC the requesting department's head and
supervisor) and each involved department's head and contacts are notified. An invalid form
gets exactly one reply listing every problem, with a blank form, and creates nothing.
"""

from __future__ import annotations

import hashlib

from sqlalchemy.orm import Session

from mailflow import cases, forms
from mailflow.config import Department, Person
from mailflow.context import Context
from mailflow.handlers.base import Verdict
from mailflow.models import Request, RequestDepartment, StoredAttachment
from mailflow.outbox import Mail, enqueue, once_a_day
from mailflow.parse import ParsedMail
from mailflow.router import Route


def handle(mail: ParsedMail, session: Session, ctx: Context, route: Route) -> Verdict:
    assert mail.sender is not None  # the router sends sender-less mail elsewhere
    result = forms.read_request_form(mail, ctx.directory)
    if isinstance(result, forms.FormRejection):
        _reject(mail, session, ctx, result)
        problems = ", ".join(f"{p.field}:{p.code}" for p in result.problems)
        return Verdict("form_rejected", reason=problems)
    request = _create(mail, session, ctx, result)
    return Verdict("request_created", request=request)


def sender_person(mail: ParsedMail, ctx: Context) -> Person:
    assert mail.sender is not None
    known = ctx.directory.person(mail.sender.address)
    return Person(mail.sender.address, (known.name if known else "") or mail.sender.name)


def _reject(
    mail: ParsedMail, session: Session, ctx: Context, rejection: forms.FormRejection
) -> None:
    language = (
        rejection.language
        if rejection.found_any_field
        else ctx.config.language_of(mail.sender.address)
    )
    enqueue(
        session,
        ctx,
        Mail(
            kind="form_rejected",
            dedupe_key=once_a_day("form_rejected", mail.sender.address, ctx),
            to=[sender_person(mail, ctx)],
            language=language,
            answers=mail.message_id,
            context={
                "original_subject": mail.subject,
                "problems": rejection.problems,
                "found_any_field": rejection.found_any_field,
                "blank_form": forms.blank_request_form_text(language),
            },
            attachments=[
                (
                    "跨部门沟通协调需求申请表.docx"
                    if language == "zh"
                    else "coordination-request-form.docx",
                    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                    forms.blank_request_form_docx(language),
                )
            ],
        ),
    )


def _create(mail: ParsedMail, session: Session, ctx: Context, form: forms.RequestForm) -> Request:
    org = ctx.config.organization
    received = ctx.calendar.local(ctx.now)
    number = cases.allocate_number(session, org.request_prefix, received.year, form.number)
    requester = sender_person(mail, ctx)
    request = Request(
        number=number,
        requester=requester.address,
        requester_name=requester.name,
        requesting_department=form.requesting_department,
        lead_department=form.lead_department or form.requesting_department,
        background=form.background,
        goal=form.goal,
        urgency=form.urgency,
        attachments_note=form.attachments_note,
        signed_by=form.signed_by,
        application_date=form.application_date,
        signed_date=form.signed_date,
        language=form.language,
        received_at=ctx.now,
        reply_deadline=ctx.calendar.add(ctx.now, ctx.config.deadlines.for_urgency(form.urgency)),
        form_message_id=mail.message_id,
        attachments=[],  # known empty: no query for them after the flush
    )
    for position, name in enumerate(form.departments):
        own = name == form.requesting_department
        request.departments.append(
            RequestDepartment(
                department=name,
                position=position,
                responded_at=ctx.now if own else None,
                responder=requester.address if own else "",
            )
        )
    session.add(request)
    session.flush()
    skipped = _store_attachments(mail, session, ctx, request)
    replaced = form.number if form.number and form.number.upper() != number else ""
    _acknowledge(mail, session, ctx, request, requester, skipped, replaced)
    for name in form.departments:
        department = ctx.directory.department(name)
        if department and name != form.requesting_department:
            _notify(session, ctx, request, department)
    return request


def _store_attachments(
    mail: ParsedMail, session: Session, ctx: Context, request: Request
) -> list[tuple[str, str]]:
    """Keep the form's attachments within the limits; returns (name, reason) of those left out."""
    limits = ctx.config.mailbox
    skipped: list[tuple[str, str]] = []
    for attachment in mail.attachments:
        if attachment.size > limits.max_attachment_size:
            skipped.append((attachment.filename, "too_large"))
        elif len(request.attachments) >= limits.max_attachments:
            skipped.append((attachment.filename, "too_many"))
        else:
            request.attachments.append(
                StoredAttachment(
                    filename=attachment.filename,
                    content_type=attachment.content_type,
                    size=attachment.size,
                    sha256=hashlib.sha256(attachment.data).hexdigest(),
                    data=attachment.data,
                )
            )
    session.flush()
    return skipped


def _acknowledge(
    mail: ParsedMail,
    session: Session,
    ctx: Context,
    request: Request,
    requester: Person,
    skipped: list[tuple[str, str]],
    replaced_number: str,
) -> None:
    requesting = ctx.directory.department(request.requesting_department)
    enqueue(
        session,
        ctx,
        Mail(
            kind="request_ack",
            dedupe_key=f"request_ack:{request.number}",
            to=[requester],
            cc=requesting.head_and_supervisor() if requesting else [],
            language=request.language,
            request=request,
            answers=mail.message_id,
            context={
                "request": request,
                "requester": requester,
                "waiting_for": [
                    d.department for d in request.departments if d.responded_at is None
                ],
                "skipped_attachments": skipped,
                "replaced_number": replaced_number,
                "max_attachment_mb": ctx.config.mailbox.max_attachment_size // (1024 * 1024),
            },
        ),
    )


def _notify(session: Session, ctx: Context, request: Request, department: Department) -> None:
    recipients = department.notified()
    language = ctx.config.department_language(department)
    enqueue(
        session,
        ctx,
        Mail(
            kind="request_notice",
            dedupe_key=f"request_notice:{request.number}:{department.name}",
            to=recipients,
            language=language,
            request=request,
            context={"request": request, "department": department},
            attachments=[(a.filename, a.content_type, a.data) for a in request.attachments],
            department=department.name,
        ),
    )
