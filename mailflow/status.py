"""How the installation is doing, for ``mailflow status`` and the Prometheus ``/metrics`` page.

Running instances record a heartbeat (their role and the watcher's mailbox state); the rest is
read from the database: the last message seen, the outbox backlog and its oldest mail, today's
failures, and when the next duties fall due.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailflow.context import Context
from mailflow.models import (
    InboundMessage,
    Instance,
    Meeting,
    Minutes,
    OutboxMessage,
    Request,
    RequestDepartment,
)

ALIVE_WITHIN = dt.timedelta(seconds=90)  # an instance silent longer than this is presumed gone


@dataclass
class Health:
    now: dt.datetime
    instances: list[Instance] = field(default_factory=list)
    last_message_at: dt.datetime | None = None
    outbox_pending: int = 0
    outbox_oldest: dt.datetime | None = None
    failures_today: int = 0
    next_duties: list[tuple[str, dt.datetime]] = field(default_factory=list)

    def alive(self, instance: Instance) -> bool:
        return instance.stopped_at is None and self.now - instance.heartbeat_at <= ALIVE_WITHIN

    @property
    def watcher(self) -> Instance | None:
        return next((i for i in self.instances if i.role == "watcher" and self.alive(i)), None)


def heartbeat(
    session: Session, name: str, *, role: str, mailbox_state: str, now: dt.datetime
) -> None:
    instance = session.get(Instance, name)
    if instance is None:
        instance = Instance(name=name, started_at=now, heartbeat_at=now)
        session.add(instance)
    instance.role, instance.mailbox_state, instance.heartbeat_at, instance.stopped_at = (
        role,
        mailbox_state,
        now,
        None,
    )


def stopped(session: Session, name: str, now: dt.datetime) -> None:
    instance = session.get(Instance, name)
    if instance is not None:
        instance.stopped_at, instance.role = now, "standby"


def health(session: Session, ctx: Context) -> Health:
    midnight = dt.datetime.combine(
        ctx.calendar.local(ctx.now).date(), dt.time(0), tzinfo=ctx.calendar.tz
    )
    waiting = OutboxMessage.status == "pending"
    failed_in = select(func.count()).where(
        InboundMessage.folder == "failed", InboundMessage.received_at >= midnight
    )
    failed_out = select(func.count()).where(OutboxMessage.failed_at >= midnight)
    return Health(
        now=ctx.now,
        instances=list(
            session.scalars(select(Instance).order_by(Instance.started_at.desc()).limit(20))
        ),
        last_message_at=session.scalar(select(func.max(InboundMessage.received_at))),
        outbox_pending=session.scalar(select(func.count()).where(waiting)) or 0,
        outbox_oldest=session.scalar(select(func.min(OutboxMessage.created_at)).where(waiting)),
        failures_today=(session.scalar(failed_in) or 0) + (session.scalar(failed_out) or 0),
        next_duties=_next_duties(session, ctx),
    )


def _next_duties(session: Session, ctx: Context) -> list[tuple[str, dt.datetime]]:
    """The nearest moment each kind of deadline falls due (from now on)."""
    candidates = {
        "reply chaser": session.scalar(
            select(func.min(Request.reply_deadline))
            .join(RequestDepartment, RequestDepartment.request_id == Request.id)
            .where(Request.status == "open", RequestDepartment.responded_at.is_(None))
            .where(RequestDepartment.chased_at.is_(None), Request.reply_deadline > ctx.now)
        ),
        "meeting": session.scalar(
            select(func.min(Meeting.starts_at)).where(Meeting.starts_at > ctx.now)
        ),
        "minutes sign-off": session.scalar(
            select(func.min(Minutes.confirm_by)).where(
                Minutes.status == "open", Minutes.confirm_by > ctx.now
            )
        ),
    }
    return sorted(
        ((name, moment) for name, moment in candidates.items() if moment), key=lambda pair: pair[1]
    )


def report(state: Health, ctx: Context) -> str:
    def local(moment: dt.datetime | None) -> str:
        return ctx.calendar.local(moment).strftime("%Y-%m-%d %H:%M") if moment else "-"

    watcher = state.watcher
    lines = [
        f"mailbox: {watcher.mailbox_state + ' (' + watcher.name + ')' if watcher else 'no instance is watching'}",
        f"last message: {local(state.last_message_at)}",
        f"outbox: {state.outbox_pending} waiting"
        + (f", oldest queued {local(state.outbox_oldest)}" if state.outbox_oldest else ""),
        f"failures today: {state.failures_today}",
        "next duties: "
        + (", ".join(f"{name} {local(at)}" for name, at in state.next_duties) or "-"),
        "instances:",
    ]
    for instance in state.instances:
        alive = "alive" if state.alive(instance) else "gone"
        lines.append(
            f"  {instance.name}  {instance.role}  {alive}  heartbeat {local(instance.heartbeat_at)}"
        )
    return "\n".join(lines)


def metrics(state: Health) -> str:
    """The Prometheus text exposition format."""
    watcher = state.watcher
    connected = 1 if watcher and watcher.mailbox_state in ("connected", "idle") else 0
    oldest = (state.now - state.outbox_oldest).total_seconds() if state.outbox_oldest else 0
    values = [
        ("mailflow_mailbox_connected", "1 when an instance holds an IMAP connection to the mailbox", connected),
        ("mailflow_instances_alive", "instances with a recent heartbeat", sum(map(state.alive, state.instances))),
        ("mailflow_last_message_timestamp_seconds", "when the last inbound message was recorded",
         state.last_message_at.timestamp() if state.last_message_at else 0),
        ("mailflow_outbox_pending", "mails waiting to be sent", state.outbox_pending),
        ("mailflow_outbox_oldest_age_seconds", "age of the oldest waiting mail", oldest),
        ("mailflow_failures_today", "inbound and outbound failures since local midnight", state.failures_today),
    ]  # fmt: skip
    lines = []
    for name, help_text, value in values:
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", f"{name} {value:g}"]
    return "\n".join(lines) + "\n"
