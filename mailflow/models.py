"""The database schema (SQLAlchemy 2.0 declarative models).

Every table the daemon keeps: inbound messages (the exactly-once ledger), requests and their
involved departments, stored attachments, the outbox (every mail ever sent, with its
Message-ID and dedupe key), the IMAP cursor and named counters. Alembic migrations under
``mailflow/migrations`` create and evolve these tables; nothing creates them by hand.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware datetimes stored as naive UTC, read back as aware UTC, on every backend."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        return value.replace(tzinfo=dt.UTC) if value is not None else None


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dt.datetime: UTCDateTime,
        dict[str, Any]: JSON,
        list[str]: JSON,
    }


class InboundMessage(Base):
    """One message that reached the watched mailbox, and what became of it."""

    __tablename__ = "inbound_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(512), unique=True)
    message_id: Mapped[str] = mapped_column(String(998), default="", index=True)
    sender: Mapped[str] = mapped_column(String(320), default="")
    sender_name: Mapped[str] = mapped_column(String(200), default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[dt.datetime | None]
    received_at: Mapped[dt.datetime]
    size: Mapped[int] = mapped_column(Integer, default=0)
    mailbox_uid: Mapped[int | None] = mapped_column(BigInteger)
    verdict: Mapped[str] = mapped_column(String(40))
    folder: Mapped[str] = mapped_column(String(16))  # processed | failed
    reason: Mapped[str] = mapped_column(Text, default="")
    route: Mapped[str] = mapped_column(String(200), default="")  # handler: why
    body_text: Mapped[str] = mapped_column(Text, default="")
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"), index=True)

    request: Mapped[Request | None] = relationship(foreign_keys=[request_id])


class Request(Base):
    """A coordination request (Template 1) and where its case stands."""

    __tablename__ = "requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | closed
    stage: Mapped[str] = mapped_column(String(20), default="responses")
    requester: Mapped[str] = mapped_column(String(320))
    requester_name: Mapped[str] = mapped_column(String(200), default="")
    requesting_department: Mapped[str] = mapped_column(String(200))
    lead_department: Mapped[str] = mapped_column(String(200))
    background: Mapped[str] = mapped_column(Text, default="")
    goal: Mapped[str] = mapped_column(Text, default="")
    urgency: Mapped[str] = mapped_column(String(20))  # urgent | important | normal
    attachments_note: Mapped[str] = mapped_column(Text, default="")
    signed_by: Mapped[str] = mapped_column(String(200), default="")
    application_date: Mapped[dt.date | None]
    signed_date: Mapped[dt.date | None]
    language: Mapped[str] = mapped_column(String(5), default="zh")
    received_at: Mapped[dt.datetime]
    reply_deadline: Mapped[dt.datetime]
    all_responded_at: Mapped[dt.datetime | None]
    form_message_id: Mapped[str] = mapped_column(String(998), default="")
    acceptance_round: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    acceptance_requested_at: Mapped[dt.datetime | None]
    accepted_at: Mapped[dt.datetime | None]
    review_due: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]

    departments: Mapped[list[RequestDepartment]] = relationship(
        back_populates="request",
        order_by="RequestDepartment.position",
        cascade="all, delete-orphan",
    )
    attachments: Mapped[list[StoredAttachment]] = relationship(back_populates="request")


class RequestDepartment(Base):
    """An involved department (涉及部门) of a request and its response."""

    __tablename__ = "request_departments"
    __table_args__ = (UniqueConstraint("request_id", "department"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    department: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    responded_at: Mapped[dt.datetime | None]
    responder: Mapped[str] = mapped_column(String(320), default="")
    response_text: Mapped[str] = mapped_column(Text, default="")
    response_message_id: Mapped[str] = mapped_column(String(998), default="")
    chased_at: Mapped[dt.datetime | None]
    escalated_at: Mapped[dt.datetime | None]

    request: Mapped[Request] = relationship(back_populates="departments")

    @property
    def responded(self) -> bool:
        return self.responded_at is not None


class StoredAttachment(Base):
    """A file that came with a request form (names sanitised, size-limited)."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"), index=True)
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(200), default="application/octet-stream")
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)

    request: Mapped[Request | None] = relationship(back_populates="attachments")


class OutboxMessage(Base):
    """A complete outgoing message, stored before it is sent; the only way mail leaves."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(400), unique=True)
    message_id: Mapped[str] = mapped_column(String(300), unique=True)
    kind: Mapped[str] = mapped_column(String(60))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"), index=True)
    action_code: Mapped[str] = mapped_column(
        String(20), default="", server_default=""
    )  # its action item
    mail_from: Mapped[str] = mapped_column(String(320))
    to_addrs: Mapped[list[str]]
    cc_addrs: Mapped[list[str]]
    bcc_addrs: Mapped[list[str]]
    subject: Mapped[str] = mapped_column(Text)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime]
    next_attempt_at: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime | None]
    failed_at: Mapped[dt.datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
    claimed_by: Mapped[str] = mapped_column(String(80), default="")
    claimed_until: Mapped[dt.datetime | None]

    @property
    def envelope_recipients(self) -> list[str]:
        seen: dict[str, None] = {}
        for address in [*self.to_addrs, *self.cc_addrs, *self.bcc_addrs]:
            seen.setdefault(address.lower(), None)
        return list(seen)


class Meeting(Base):
    """A coordination meeting on a request (会议通知), with its attendees."""

    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    topic: Mapped[str] = mapped_column(Text)
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime | None]
    place: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(Text, default="")
    materials: Mapped[str] = mapped_column(Text, default="")
    questions: Mapped[str] = mapped_column(Text, default="")
    organizer: Mapped[str] = mapped_column(String(320))
    uid: Mapped[str] = mapped_column(String(200), unique=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    notice_message_id: Mapped[str] = mapped_column(String(998), default="")
    created_at: Mapped[dt.datetime]

    attendees: Mapped[list[MeetingAttendee]] = relationship(
        back_populates="meeting", order_by="MeetingAttendee.id", cascade="all, delete-orphan"
    )
    request: Mapped[Request] = relationship()


class MeetingAttendee(Base):
    __tablename__ = "meeting_attendees"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    address: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20), default="attendee")
    department: Mapped[str] = mapped_column(String(200), default="")

    meeting: Mapped[Meeting] = relationship(back_populates="attendees")


class Minutes(Base):
    """One version of the minutes of a meeting (会议纪要) and its sign-off."""

    __tablename__ = "minutes"
    __table_args__ = (UniqueConstraint("request_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(12), default="open")  # open | confirmed | superseded
    topic: Mapped[str] = mapped_column(Text)
    held_at: Mapped[dt.datetime | None]
    held_text: Mapped[str] = mapped_column(Text, default="")
    place: Mapped[str] = mapped_column(Text, default="")
    host: Mapped[str] = mapped_column(String(320), default="")
    recorder: Mapped[str] = mapped_column(String(320), default="")
    discussion: Mapped[str] = mapped_column(Text, default="")
    changes: Mapped[str] = mapped_column(Text, default="")  # what changed from the version before
    language: Mapped[str] = mapped_column(String(5), default="zh")
    message_id: Mapped[str] = mapped_column(String(998), default="")
    received_at: Mapped[dt.datetime]
    confirm_by: Mapped[dt.datetime]
    confirmed_at: Mapped[dt.datetime | None]

    signers: Mapped[list[MinutesSigner]] = relationship(
        back_populates="minutes", order_by="MinutesSigner.id", cascade="all, delete-orphan"
    )
    request: Mapped[Request] = relationship()


class MinutesSigner(Base):
    """An attendee who must sign the minutes off (签字确认) by replying."""

    __tablename__ = "minutes_signers"
    __table_args__ = (UniqueConstraint("minutes_id", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    minutes_id: Mapped[int] = mapped_column(ForeignKey("minutes.id"), index=True)
    address: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20), default="attendee")
    department: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(
        String(12), default="pending"
    )  # pending | signed | objected
    answered_at: Mapped[dt.datetime | None]
    objection: Mapped[str] = mapped_column(Text, default="")
    reply_message_id: Mapped[str] = mapped_column(String(998), default="")

    minutes: Mapped[Minutes] = relationship(back_populates="signers")


class ActionItem(Base):
    """A row of the action tracker (Template 3, 跨部门协作行动跟踪表)."""

    __tablename__ = "action_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)  # A12
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    minutes_id: Mapped[int | None] = mapped_column(ForeignKey("minutes.id"))
    department: Mapped[str] = mapped_column(String(200))
    owner: Mapped[str] = mapped_column(String(320))
    owner_name: Mapped[str] = mapped_column(String(200), default="")
    task: Mapped[str] = mapped_column(Text)
    due: Mapped[dt.date | None]
    standard: Mapped[str] = mapped_column(Text, default="")
    # not_started | in_progress | done | delayed | cancelled
    status: Mapped[str] = mapped_column(String(12), default="not_started", index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]

    events: Mapped[list[ActionEvent]] = relationship(
        back_populates="action", order_by="ActionEvent.id", cascade="all, delete-orphan"
    )
    request: Mapped[Request] = relationship()


class ActionEvent(Base):
    """One change of an action item, with the mail that made it."""

    __tablename__ = "action_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("action_items.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(320), default="")
    kind: Mapped[str] = mapped_column(String(20))  # created | status | delay | changed | cancelled
    old_status: Mapped[str] = mapped_column(String(12), default="")
    new_status: Mapped[str] = mapped_column(String(12), default="")
    old_due: Mapped[dt.date | None]
    new_due: Mapped[dt.date | None]
    reason: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")
    message_id: Mapped[str] = mapped_column(String(998), default="")

    action: Mapped[ActionItem] = relationship(back_populates="events")


class Review(Base):
    """A department's review of a closed case (复盘): highlights and shortcomings."""

    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("request_id", "department"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    department: Mapped[str] = mapped_column(String(200))
    highlights: Mapped[str] = mapped_column(Text, default="")
    shortcomings: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    responder: Mapped[str] = mapped_column(String(320), default="")
    replied_at: Mapped[dt.datetime | None]
    message_id: Mapped[str] = mapped_column(String(998), default="")


class CaseEvent(Base):
    """A step of a case that is not a row elsewhere: acceptance asked, given or refused, closing."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    at: Mapped[dt.datetime]
    kind: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(320), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    message_id: Mapped[str] = mapped_column(String(998), default="")


class ReplyToken(Base):
    """An unguessable token in a sub-addressed Reply-To (``coordination+TOKEN@…``) of one mail."""

    __tablename__ = "reply_tokens"

    token: Mapped[str] = mapped_column(String(40), primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    kind: Mapped[str] = mapped_column(String(60))
    department: Mapped[str] = mapped_column(String(200), default="")
    action_code: Mapped[str] = mapped_column(String(20), default="", server_default="")
    created_at: Mapped[dt.datetime]


class Instance(Base):
    """A running ``mailflow run`` process, for ``mailflow status``: its role and last heartbeat."""

    __tablename__ = "instances"

    name: Mapped[str] = mapped_column(String(120), primary_key=True)  # host:pid
    role: Mapped[str] = mapped_column(String(12), default="standby")  # watcher | standby
    mailbox_state: Mapped[str] = mapped_column(String(300), default="")
    started_at: Mapped[dt.datetime]
    heartbeat_at: Mapped[dt.datetime]
    stopped_at: Mapped[dt.datetime | None]


class MailboxCursor(Base):
    """How far the watcher has read a mailbox folder (UIDVALIDITY + last UID)."""

    __tablename__ = "mailbox_cursors"

    mailbox_key: Mapped[str] = mapped_column(String(400), primary_key=True)
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[dt.datetime]


class Counter(Base):
    """Named sequences (request numbers per prefix and year)."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)
