"""Request numbers and lookups of cases shared by ingest, handlers, sweeps and the CLI."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mailflow.models import (
    ActionItem,
    Counter,
    InboundMessage,
    Meeting,
    MeetingAttendee,
    OutboxMessage,
    ReplyToken,
    Request,
)
from mailflow.router import Thread

_COUNTERS = Counter.__table__
_INCREMENT = (
    update(_COUNTERS)
    .where(_COUNTERS.c.name == bindparam("counter"))
    .values(value=_COUNTERS.c.value + 1)
    .returning(_COUNTERS.c.value)
)
_NUMBER_TAKEN = select(Request.__table__.c.id).where(
    Request.__table__.c.number == bindparam("number")
)


def next_value(session: Session, name: str) -> int:
    """Increment the counter ``name`` atomically (row lock on PostgreSQL, write lock on SQLite)."""
    value = session.connection().scalar(_INCREMENT, {"counter": name})
    if value is not None:
        return value
    try:
        with session.begin_nested():
            session.execute(insert(Counter).values(name=name, value=1))
        return 1
    except IntegrityError:  # created concurrently: increment the row that now exists
        return next_value(session, name)


def is_valid_number(number: str, prefix: str) -> bool:
    return re.fullmatch(rf"{re.escape(prefix)}-\d{{4}}-\d{{4,}}", number) is not None


def allocate_number(session: Session, prefix: str, year: int, wanted: str = "") -> str:
    """``wanted`` when it is well-formed and unused, else the next free ``PREFIX-YEAR-NNNN``."""
    wanted = wanted.strip().upper()
    if wanted and is_valid_number(wanted, prefix) and not _taken(session, wanted):
        return wanted
    while True:
        number = f"{prefix}-{year}-{next_value(session, f'{prefix}-{year}'):04d}"
        if not _taken(session, number):
            return number


def _taken(session: Session, number: str) -> bool:
    session.flush()  # a request added but not yet written holds its number too
    return session.connection().scalar(_NUMBER_TAKEN, {"number": number}) is not None


def find_request(session: Session, number: str) -> Request | None:
    return session.scalar(select(Request).where(Request.number == number.upper()))


def thread_of_request(
    session: Session, request: Request, answered_kind: str = "", answered_action: str = ""
) -> Thread:
    involved = tuple(d.department for d in request.departments)
    departments = (request.requesting_department, request.lead_department, *involved)
    live_actions = select(ActionItem.code).where(
        ActionItem.request_id == request.id, ActionItem.status != "cancelled"
    )
    return Thread(
        request_number=request.number,
        answered_kind=answered_kind,
        answered_action=answered_action,
        status=request.status,
        stage=request.stage,
        requester=request.requester,
        lead_department=request.lead_department,
        departments=tuple(dict.fromkeys(departments)),
        involved=involved,
        organizers=_organizers(session, request),
        actions=tuple(session.scalars(live_actions)),
    )


def _organizers(session: Session, request: Request) -> tuple[str, ...]:
    """Besides the lead department, who may send notices and minutes: requester, hosts, recorders."""
    roles = session.scalars(
        select(MeetingAttendee.address)
        .join(Meeting, MeetingAttendee.meeting_id == Meeting.id)
        .where(Meeting.request_id == request.id, MeetingAttendee.role.in_(("host", "recorder")))
    )
    return tuple(dict.fromkeys([request.requester, *roles]))


class DatabaseThreads:
    """:class:`mailflow.router.ThreadLookup` over the outbox, the inbound ledger and reply tokens."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def thread_of(self, message_ids: Sequence[str]) -> Thread | None:
        for message_id in message_ids:
            sent = self.session.execute(
                select(
                    OutboxMessage.kind, OutboxMessage.request_id, OutboxMessage.action_code
                ).where(OutboxMessage.message_id == message_id)
            ).first()
            if sent is not None and sent.request_id is not None:
                return self._thread(sent.request_id, sent.kind, sent.action_code)
            received = self.session.scalar(
                select(InboundMessage.request_id).where(
                    InboundMessage.message_id == message_id, InboundMessage.request_id.is_not(None)
                )
            )
            if received is not None:
                return self._thread(received, "")
        return None

    def thread_of_token(self, token: str) -> Thread | None:
        row = self.session.get(ReplyToken, token)
        return self._thread(row.request_id, row.kind, row.action_code) if row else None

    def thread_of_number(self, number: str) -> Thread | None:
        request = find_request(self.session, number)
        return thread_of_request(self.session, request) if request else None

    def _thread(self, request_id: int, kind: str, action: str = "") -> Thread | None:
        request = self.session.get(Request, request_id)
        return thread_of_request(self.session, request, kind, action) if request else None
