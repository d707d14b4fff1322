"""Stage 5 rules (闭环复盘与优化): acceptance when the work is done, closing, reviews, and the
case record in the knowledge base.

When every action item of a request is done the requester is asked to accept (验收). Accepted:
the request closes, the acceptance report goes to all parties (CC the admin archive) and each
department is asked for a review. Rejected: back to tracking, the lead department is told.
When the reviews are in (or their deadline passes) they are compiled, the case record is
written to the knowledge base and mailed to the admin archive (知识沉淀).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailflow import actions, record
from mailflow.config import Person, unique_people
from mailflow.context import Context
from mailflow.models import CaseEvent, Request, Review
from mailflow.outbox import Mail, enqueue


def after_action_change(session: Session, ctx: Context, request: Request) -> None:
    """Ask for acceptance once every action item of a request in tracking is done."""
    items = actions.items_of(session, request)
    if (
        request.status == "open"
        and request.stage == "tracking"
        and items
        and all(i.status == "done" for i in items)
    ):
        request_acceptance(session, ctx, request, items)


def request_acceptance(session: Session, ctx: Context, request: Request, items: list) -> None:
    request.acceptance_round += 1
    request.acceptance_requested_at = ctx.now
    request.stage = "acceptance"
    event(session, ctx, request, "acceptance_requested")
    requester = ctx.directory.person(request.requester) or Person(
        request.requester, request.requester_name
    )
    enqueue(
        session,
        ctx,
        Mail(
            kind="acceptance_request",
            dedupe_key=f"acceptance_request:{request.number}:{request.acceptance_round}",
            to=[requester],
            language=request.language,
            request=request,
            context={"request": request, "items": items},
        ),
    )


def accept(
    session: Session, ctx: Context, request: Request, *, actor: str, message_id: str
) -> None:
    request.status = "closed"
    request.accepted_at = ctx.now
    request.stage = "review"
    request.review_due = ctx.calendar.add(ctx.now, ctx.config.deadlines.review_within)
    event(session, ctx, request, "accepted", actor=actor, message_id=message_id)
    enqueue(
        session,
        ctx,
        Mail(
            kind="acceptance_report",
            dedupe_key=f"acceptance_report:{request.number}",
            to=all_parties(session, ctx, request),
            archive_on_cc=True,
            language=request.language,
            request=request,
            context={"request": request, **record.acceptance_facts(session, request)},
        ),
    )
    for name in review_departments(request):
        department = ctx.directory.department(name)
        if department is None:
            continue
        enqueue(
            session,
            ctx,
            Mail(
                kind="review_request",
                dedupe_key=f"review_request:{request.number}:{name}",
                to=department.notified(),
                language=ctx.config.department_language(department),
                request=request,
                department=name,
                context={"request": request, "department": department},
            ),
        )


def reject(
    session: Session, ctx: Context, request: Request, *, actor: str, reason: str, message_id: str
) -> None:
    request.stage = "tracking"
    event(session, ctx, request, "rejected", actor=actor, detail=reason, message_id=message_id)
    lead = ctx.directory.department(request.lead_department)
    requester = ctx.directory.person(request.requester) or Person(
        request.requester, request.requester_name
    )
    enqueue(
        session,
        ctx,
        Mail(
            kind="acceptance_rejected",
            dedupe_key=f"acceptance_rejected:{request.number}:{request.acceptance_round}",
            to=lead.notified() if lead else [requester],
            cc=[requester] if lead else [],
            language=(lead.language if lead else None) or request.language,
            request=request,
            context={"request": request, "reason": reason},
        ),
    )


def review_departments(request: Request) -> list[str]:
    names = [
        request.requesting_department,
        request.lead_department,
        *(d.department for d in request.departments),
    ]
    return list(dict.fromkeys(names))


def reviews_of(session: Session, request: Request) -> list[Review]:
    return list(
        session.scalars(select(Review).where(Review.request_id == request.id).order_by(Review.id))
    )


def maybe_compile(session: Session, ctx: Context, request: Request) -> bool:
    """Compile the reviews when all are in or the deadline has passed; close the case."""
    if request.stage != "review":
        return False
    answered = {r.department for r in reviews_of(session, request)}
    deadline_passed = request.review_due is not None and request.review_due <= ctx.now
    if not deadline_passed and not set(review_departments(request)) <= answered:
        return False
    request.stage = "closed"
    request.closed_at = ctx.now
    event(session, ctx, request, "closed")
    enqueue(
        session,
        ctx,
        Mail(
            kind="review_compiled",
            dedupe_key=f"review_compiled:{request.number}",
            to=all_parties(session, ctx, request),
            archive_on_cc=True,
            language=request.language,
            request=request,
            context={
                "request": request,
                "reviews": reviews_of(session, request),
                "silent": [d for d in review_departments(request) if d not in answered],
            },
        ),
    )
    _archive_record(session, ctx, request)
    return True


def _archive_record(session: Session, ctx: Context, request: Request) -> None:
    """Write the case record (Markdown + HTML) to the knowledge base and mail the same bytes."""
    session.flush()
    markdown = record.render(session, ctx, request, "md").encode("utf-8")
    html = record.render(session, ctx, request, "html").encode("utf-8")
    folder = ctx.config.organization.knowledge_base
    _write(folder / f"{request.number}.md", markdown)
    _write(folder / f"{request.number}.html", html)
    archive = ctx.config.organization.admin_archive or ctx.config.organization.admin
    if not archive:
        return
    enqueue(
        session,
        ctx,
        Mail(
            kind="case_record",
            dedupe_key=f"case_record:{request.number}",
            to=[Person(archive)],
            language=request.language,
            request=request,
            context={"request": request, "folder": str(folder)},
            attachments=[
                (f"{request.number}.md", "text/markdown", markdown),
                (f"{request.number}.html", "text/html", html),
            ],
        ),
    )


def _write(path: Path, data: bytes) -> None:
    """Atomically (temporary file + rename), so a reader never sees half a record."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    os.replace(temporary, path)


def all_parties(session: Session, ctx: Context, request: Request) -> list[Person]:
    """Requester, every department of the case (head, contacts), their supervisors, the owners."""
    people: list[Person] = [ctx.directory.person(request.requester) or Person(request.requester)]
    for name in review_departments(request):
        department = ctx.directory.department(name)
        if department is not None:
            people += department.notified() + (
                [department.supervisor] if department.supervisor else []
            )
    people += [Person(i.owner, i.owner_name) for i in actions.items_of(session, request)]
    return unique_people(people)


def event(
    session: Session,
    ctx: Context,
    request: Request,
    kind: str,
    *,
    actor: str = "",
    detail: str = "",
    message_id: str = "",
) -> None:
    session.add(
        CaseEvent(
            request_id=request.id,
            at=ctx.now,
            kind=kind,
            actor=actor,
            detail=detail,
            message_id=message_id,
        )
    )
