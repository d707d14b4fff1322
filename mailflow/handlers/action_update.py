"""Status updates of action items written in a reply (``A12：已完成``, ``A12 延期至 …，原因：…``).

Only the owner, the head of the owner's department and the lead department may update an
item. Accepted updates change the item and its history; a delay without a new date or a
reason is refused with what is missing; an accepted delay asks the lead department to assess
its impact on the whole goal (评估是否影响整体目标). The sender gets one short mail listing what
was accepted and what was refused, and why.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailflow import actions, closure
from mailflow.cases import find_request
from mailflow.context import Context
from mailflow.handlers.base import Verdict
from mailflow.handlers.request import sender_person
from mailflow.models import ActionItem, Request
from mailflow.outbox import Mail, enqueue
from mailflow.parse import ParsedMail
from mailflow.router import Route
from mailflow.updates import StatusUpdate, read_updates


@dataclass(frozen=True)
class Refusal:
    action: str
    code: str  # unknown_action, other_request, not_allowed, no_action, delay_without_reason, …
    line: str


def handle(mail: ParsedMail, session: Session, ctx: Context, route: Route) -> Verdict:
    request = find_request(session, route.request_number)
    assert request is not None and mail.sender is not None
    sent_on = ctx.calendar.local(mail.date or ctx.now).date()
    found, problems = read_updates(mail.text, mail_date=sent_on)
    refused = [Refusal(p.action or route.answered_action, p.code, p.line) for p in problems]
    accepted: list[tuple[ActionItem, StatusUpdate]] = []
    for update in found:
        item, refusal = _target(session, ctx, request, route, mail.sender.address, update)
        if refusal is not None:
            refused.append(refusal)
        else:
            assert item is not None
            actions.apply_update(
                item, update, at=ctx.now, actor=mail.sender.address, message_id=mail.message_id
            )
            accepted.append((item, update))
    for item, update in accepted:
        if update.status == "delayed":
            _ask_lead_to_assess(session, ctx, request, item, update)
    _answer(mail, session, ctx, request, accepted, refused)
    closure.after_action_change(session, ctx, request)
    codes = ", ".join(item.code for item, _ in accepted)
    return Verdict(
        "actions_updated" if accepted else "update_refused", request=request, reason=codes
    )


def _target(
    session: Session,
    ctx: Context,
    request: Request,
    route: Route,
    sender: str,
    update: StatusUpdate,
) -> tuple[ActionItem | None, Refusal | None]:
    code = (
        update.action or route.answered_action or _only_item_of(session, request, sender)
    ).upper()
    if not code:
        return None, Refusal("", "no_action", update.line)
    item = session.scalar(select(ActionItem).where(ActionItem.code == code))
    if item is None or item.status == "cancelled":
        return None, Refusal(code, "unknown_action", update.line)
    if item.request_id != request.id:
        return None, Refusal(code, "other_request", update.line)
    if not may_update(ctx, request, item, sender):
        return None, Refusal(code, "not_allowed", update.line)
    return item, None


def _only_item_of(session: Session, request: Request, sender: str) -> str:
    """The sender's only open item of the request, for an update that names none."""
    mine = [
        a for a in actions.items_of(session, request) if a.owner == sender and a.status != "done"
    ]
    return mine[0].code if len(mine) == 1 else ""


def may_update(ctx: Context, request: Request, item: ActionItem, sender: str) -> bool:
    """The owner, the head of the owner's department, or anyone of the lead department."""
    if sender == item.owner:
        return True
    department = ctx.directory.department(item.department)
    if department is not None and department.head is not None and department.head.address == sender:
        return True
    lead = ctx.directory.department(request.lead_department)
    return lead is not None and lead.includes(sender)


def _ask_lead_to_assess(
    session: Session, ctx: Context, request: Request, item: ActionItem, update: StatusUpdate
) -> None:
    lead = ctx.directory.department(request.lead_department)
    if lead is None:
        return
    enqueue(
        session,
        ctx,
        Mail(
            kind="delay_assessment",
            dedupe_key=f"delay_assessment:{item.code}:{update.new_due}",
            to=lead.notified(),
            language=ctx.config.department_language(lead),
            request=request,
            action_code=item.code,
            context={
                "request": request,
                "item": item,
                "update": update,
                "old_due": _previous_due(item),
            },
        ),
    )


def _previous_due(item: ActionItem) -> dt.date | None:
    delays = [e for e in item.events if e.kind == "delay"]
    return delays[-1].old_due if delays else None


def _answer(
    mail: ParsedMail,
    session: Session,
    ctx: Context,
    request: Request,
    accepted: list[tuple[ActionItem, StatusUpdate]],
    refused: list[Refusal],
) -> None:
    assert mail.sender is not None
    single = accepted[0][0].code if len(accepted) == 1 and not refused else ""
    enqueue(
        session,
        ctx,
        Mail(
            kind="update_result",
            dedupe_key=f"update_result:{mail.dedupe_key}",
            to=[sender_person(mail, ctx)],
            language=ctx.config.language_of(mail.sender.address),
            request=request,
            answers=mail.message_id,
            action_code=single,
            context={
                "request": request,
                "accepted": accepted,
                "refused": refused,
                "lead": request.lead_department,
            },
        ),
    )
