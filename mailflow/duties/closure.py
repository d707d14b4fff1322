"""Stage 5 duties: chasing a silent acceptance, reminding silent reviewers, compiling reviews."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailflow import closure
from mailflow.config import Person
from mailflow.context import Context
from mailflow.duties import REMINDER_HOUR, queued
from mailflow.models import Request
from mailflow.outbox import Mail


def acceptance_chasers(session: Session, ctx: Context) -> int:
    """``confirm_within`` after the acceptance request, one chaser to a silent requester."""
    count = 0
    waiting = select(Request).where(
        Request.stage == "acceptance", Request.acceptance_requested_at.is_not(None)
    )
    for request in session.scalars(waiting):
        assert request.acceptance_requested_at is not None
        if (
            ctx.calendar.add(request.acceptance_requested_at, ctx.config.deadlines.confirm_within)
            > ctx.now
        ):
            continue
        requester = ctx.directory.person(request.requester) or Person(
            request.requester, request.requester_name
        )
        count += queued(
            session,
            ctx,
            Mail(
                kind="acceptance_chaser",
                dedupe_key=f"acceptance_chaser:{request.number}:{request.acceptance_round}",
                to=[requester],
                language=request.language,
                request=request,
                context={"request": request},
            ),
        )
    return count


def review_reminders(session: Session, ctx: Context) -> int:
    """The working day before the review deadline, one reminder to each silent department."""
    count = 0
    for request in session.scalars(select(Request).where(Request.stage == "review")):
        if request.review_due is None or request.review_due <= ctx.now:
            continue
        day = ctx.calendar.previous_working_day(ctx.calendar.local(request.review_due).date())
        if ctx.now < dt.datetime.combine(day, dt.time(REMINDER_HOUR), tzinfo=ctx.calendar.tz):
            continue
        answered = {r.department for r in closure.reviews_of(session, request)}
        for name in closure.review_departments(request):
            department = ctx.directory.department(name)
            if name in answered or department is None:
                continue
            count += queued(
                session,
                ctx,
                Mail(
                    kind="review_reminder",
                    dedupe_key=f"review_reminder:{request.number}:{name}",
                    to=department.notified(),
                    language=ctx.config.department_language(department),
                    request=request,
                    department=name,
                    context={"request": request, "department": department},
                ),
            )
    return count


def review_compilation(session: Session, ctx: Context) -> int:
    """At the review deadline, compile what came and close the case."""
    count = 0
    due = select(Request).where(Request.stage == "review", Request.review_due <= ctx.now)
    for request in session.scalars(due):
        count += 1 if closure.maybe_compile(session, ctx, request) else 0
    return count
