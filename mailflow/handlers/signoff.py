"""An attendee's reply to distributed minutes (签字确认): a signature, an objection, or unclear.

Only what the attendee wrote counts, never the quoted minutes. A signature is recorded once
however often it is repeated; an objection is forwarded to the host and the recorder and
keeps the minutes open (a later 确认 withdraws it); an unclear reply is answered with a
request to reply clearly; a reply from someone who is not an attendee counts for nothing and
the host is told. When every attendee has signed, the confirmation goes to all involved
departments and their supervisors, CC the admin archive.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from mailflow import actions
from mailflow.cases import find_request
from mailflow.config import Person
from mailflow.context import Context
from mailflow.handlers.base import Verdict
from mailflow.handlers.minutes import distribution_list, latest_minutes
from mailflow.handlers.request import sender_person
from mailflow.models import Minutes, MinutesSigner, Request
from mailflow.outbox import Mail, enqueue, once_a_day
from mailflow.parse import ParsedMail
from mailflow.router import Route
from mailflow.signoff import read_signoff


def handle(mail: ParsedMail, session: Session, ctx: Context, route: Route) -> Verdict:
    request = find_request(session, route.request_number)
    assert request is not None and mail.sender is not None
    record = latest_minutes(session, request)
    if record is None:
        return Verdict("reply_filed", request=request, reason="no minutes to sign")
    signer = next((s for s in record.signers if s.address == mail.sender.address), None)
    if signer is None:
        _tell_host(mail, session, ctx, request, record)
        return Verdict(
            "signoff_outsider", request=request, reason=f"{mail.sender.address} is not an attendee"
        )
    reading = read_signoff(mail.text)
    if reading.verdict == "signed":
        return _sign(mail, session, ctx, request, record, signer)
    if reading.verdict == "objection":
        return _object(mail, session, ctx, request, record, signer, reading.text)
    _ask_again(mail, session, ctx, request, record)
    return Verdict("signoff_unclear", request=request, reason=reading.reason)


def _sign(
    mail: ParsedMail,
    session: Session,
    ctx: Context,
    request: Request,
    record: Minutes,
    signer: MinutesSigner,
) -> Verdict:
    if signer.status == "signed":
        return Verdict("signoff_repeated", request=request, reason=signer.address)
    signer.status = "signed"
    signer.answered_at = ctx.now
    signer.reply_message_id = mail.message_id
    signer.objection = ""
    if record.status == "open" and all(s.status == "signed" for s in record.signers):
        _confirm(session, ctx, request, record)
    return Verdict("signed", request=request, reason=f"{signer.address} v{record.version}")


def _confirm(session: Session, ctx: Context, request: Request, record: Minutes) -> None:
    record.status = "confirmed"
    record.confirmed_at = ctx.now
    items = actions.of_minutes(session, request, record)
    request.stage = "tracking" if items else "minutes"
    enqueue(
        session,
        ctx,
        Mail(
            kind="minutes_confirmed",
            dedupe_key=f"minutes_confirmed:{request.number}:v{record.version}",
            to=distribution_list(ctx, request, record),
            archive_on_cc=True,
            language=record.language,
            request=request,
            context={"request": request, "minutes": record, "actions": items},
        ),
    )


def _object(
    mail: ParsedMail,
    session: Session,
    ctx: Context,
    request: Request,
    record: Minutes,
    signer: MinutesSigner,
    text: str,
) -> Verdict:
    signer.status = "objected"
    signer.answered_at = ctx.now
    signer.objection = text
    signer.reply_message_id = mail.message_id
    enqueue(
        session,
        ctx,
        Mail(
            kind="minutes_objection",
            dedupe_key=f"minutes_objection:{mail.dedupe_key}",
            to=_host_and_recorder(ctx, record),
            language=record.language,
            request=request,
            context={"request": request, "minutes": record, "signer": signer, "objection": text},
        ),
    )
    return Verdict("objection", request=request, reason=f"{signer.address} v{record.version}")


def _ask_again(
    mail: ParsedMail, session: Session, ctx: Context, request: Request, record: Minutes
) -> None:
    enqueue(
        session,
        ctx,
        Mail(
            kind="signoff_unclear",
            dedupe_key=once_a_day(
                "signoff_unclear", mail.sender.address if mail.sender else "", ctx
            ),
            to=[sender_person(mail, ctx)],
            language=record.language,
            request=request,
            answers=mail.message_id,
            context={"request": request, "minutes": record},
        ),
    )


def _tell_host(
    mail: ParsedMail, session: Session, ctx: Context, request: Request, record: Minutes
) -> None:
    enqueue(
        session,
        ctx,
        Mail(
            kind="signoff_outsider",
            dedupe_key=f"signoff_outsider:{mail.dedupe_key}",
            to=_host_and_recorder(ctx, record)[:1],
            language=record.language,
            request=request,
            context={"request": request, "minutes": record, "sender": sender_person(mail, ctx)},
        ),
    )


def _host_and_recorder(ctx: Context, record: Minutes) -> list[Person]:
    people = [
        Person(s.address, s.name)
        for role in ("host", "recorder")
        for s in record.signers
        if s.role == role
    ]
    if not people and record.host:
        people.append(ctx.directory.person(record.host) or Person(record.host))
    return people
