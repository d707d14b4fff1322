"""The sender against a real aiosmtpd peer: batches, 4xx retries with the same Message-ID, 5xx,
a peer that is down, TLS, and two senders draining one outbox."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import select, update

from mailflow import db
from mailflow.config import Person, SmtpConfig, config_from_dict
from mailflow.context import Context
from mailflow.models import OutboxMessage
from mailflow.outbox import Mail, enqueue
from mailflow.sender import DrainReport, Sender

pytestmark = pytest.mark.servers

NOW = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def sessions(database_url: str):
    engine = db.make_engine(database_url)
    db.upgrade(engine)
    yield db.session_factory(engine)
    engine.dispose()


def context() -> Context:
    config = config_from_dict(
        {
            "organization": {"admin_archive": "archive@example.com"},
            "smtp": {"from_address": "coordination@example.com"},
            "departments": [{"name": "市场部", "head": "王芳 <wang.fang@example.com>"}],
        }
    )
    return Context.build(config, NOW)


def queue(sessions, count: int) -> list[str]:
    ctx = context()
    with sessions.begin() as session:
        rows = [
            enqueue(
                session,
                ctx,
                Mail(
                    kind="mail_not_processed",
                    dedupe_key=f"test:{i}",
                    to=[Person("wang.fang@example.com", "王芳")],
                    language="zh",
                    context={
                        "reason": "unreadable",
                        "original_subject": f"第{i}封",
                        "size_mb": 0,
                        "limit_mb": 25,
                    },
                ),
            )
            for i in range(count)
        ]
        return [message_id for message_id in rows if message_id]


def sender_for(peer, sessions, **overrides) -> Sender:
    smtp = SmtpConfig(
        host=peer.host, port=peer.port, security="none", from_address="coordination@example.com"
    )
    for key, value in overrides.items():
        object.__setattr__(smtp, key, value)
    return Sender(smtp, sessions)


def statuses(sessions) -> list[tuple[str, int]]:
    with sessions() as session:
        return [
            (r.status, r.attempts)
            for r in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        ]


def make_due(sessions) -> None:
    with sessions.begin() as session:
        past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
        session.execute(update(OutboxMessage).values(next_attempt_at=past))


def test_batch_is_sent_with_archive_bcc(smtp_peer, sessions) -> None:
    ids = queue(sessions, 3)
    report = asyncio.run(sender_for(smtp_peer, sessions).drain())
    assert (report.sent, report.deferred, report.failed) == (3, 0, 0)
    received = smtp_peer.wait_for(3)
    assert [m.message()["Message-ID"] for m in received] == ids
    for message in received:
        assert message.rcpt_tos == ["wang.fang@example.com", "archive@example.com"]
        assert "archive" not in message.content.decode("ascii", "replace").split("\r\n\r\n")[0]
        assert max(len(line) for line in message.content.split(b"\r\n")) <= 998
    assert statuses(sessions) == [("sent", 1)] * 3
    assert asyncio.run(sender_for(smtp_peer, sessions).drain()).sent == 0


def test_451_is_retried_with_the_same_message_id(smtp_peer, sessions) -> None:
    (message_id,) = queue(sessions, 1)
    smtp_peer.reply_with("451 4.3.0 try again later")
    report = asyncio.run(sender_for(smtp_peer, sessions).drain())
    assert (report.sent, report.deferred) == (0, 1)
    with sessions() as session:
        row = session.scalars(select(OutboxMessage)).one()
        assert row.status == "pending" and row.attempts == 1 and "451" in row.last_error
        assert row.next_attempt_at > dt.datetime.now(dt.UTC)
    assert asyncio.run(sender_for(smtp_peer, sessions).drain()).deferred == 0  # not due yet

    smtp_peer.reply_with(None)
    make_due(sessions)
    assert asyncio.run(sender_for(smtp_peer, sessions).drain()).sent == 1
    (received,) = smtp_peer.messages
    assert received.message()["Message-ID"] == message_id
    assert statuses(sessions) == [("sent", 2)]


def test_550_marks_the_mail_failed(smtp_peer, sessions) -> None:
    queue(sessions, 2)
    smtp_peer.reply_with("550 5.1.1 mailbox unavailable")
    report = asyncio.run(sender_for(smtp_peer, sessions).drain())
    assert (report.sent, report.failed) == (0, 2)
    with sessions() as session:
        rows = session.scalars(select(OutboxMessage)).all()
        assert {r.status for r in rows} == {"failed"}
        assert all("550" in r.last_error for r in rows)


def test_recipient_refused_at_rcpt(smtp_peer, sessions) -> None:
    queue(sessions, 1)
    smtp_peer.reply_with("550 5.1.1 no such user", at="RCPT", rcpt="wang.fang@example.com")
    report = asyncio.run(sender_for(smtp_peer, sessions).drain())
    assert report.sent == 1  # the archive copy went out; the refusal is noted
    with sessions() as session:
        row = session.scalars(select(OutboxMessage)).one()
        assert row.status == "sent" and "wang.fang@example.com" in row.last_error


def test_peer_down_defers_everything_and_drains_after_recovery(smtp_peer, sessions) -> None:
    queue(sessions, 3)
    smtp_peer.stop()
    report = asyncio.run(sender_for(smtp_peer, sessions).drain())
    assert (report.sent, report.deferred) == (0, 3)
    smtp_peer.start()
    make_due(sessions)
    assert asyncio.run(sender_for(smtp_peer, sessions).drain()).sent == 3
    assert len(smtp_peer.wait_for(3)) == 3


def test_starttls_with_internal_ca(smtp_peer_starttls, sessions, tls_ca) -> None:
    queue(sessions, 1)
    sender = sender_for(
        smtp_peer_starttls, sessions, security="starttls", ca_file=str(tls_ca.ca_file)
    )
    assert asyncio.run(sender.drain()).sent == 1


def test_ssl_with_login(smtp_peer_ssl, sessions, tls_ca) -> None:
    queue(sessions, 1)
    sender = sender_for(
        smtp_peer_ssl,
        sessions,
        security="ssl",
        ca_file=str(tls_ca.ca_file),
        username="coordination@example.com",
        password="s3cret",
    )
    assert "coordination@example.com" in asyncio.run(sender.check())
    assert asyncio.run(sender.drain()).sent == 1
    assert smtp_peer_ssl.logins


def test_two_senders_never_send_one_row_twice(smtp_peer, sessions) -> None:
    queue(sessions, 40)

    async def both() -> None:
        await asyncio.gather(
            sender_for(smtp_peer, sessions).drain(), sender_for(smtp_peer, sessions).drain()
        )

    asyncio.run(both())
    ids = [m.message()["Message-ID"] for m in smtp_peer.wait_for(40)]
    assert len(ids) == len(set(ids)) == 40


def test_mail_reaches_the_server_in_queue_order_over_several_connections(
    smtp_peer, sessions
) -> None:
    ids = queue(sessions, 12)
    report = asyncio.run(sender_for(smtp_peer, sessions, connections=3).drain())
    assert (report.sent, report.deferred, report.failed) == (12, 0, 0)
    assert [m.message()["Message-ID"] for m in smtp_peer.wait_for(12)] == ids
    assert statuses(sessions) == [("sent", 1)] * 12


def test_a_delivery_on_record_is_never_claimed_again(smtp_peer, sessions, database_url) -> None:
    """A sender dies after recording a batch and before bringing the records into the outbox
    (SQLite: they wait in the delivery log); once its claims lapse, the next sender claims
    nothing it sent. On PostgreSQL the records went to the outbox directly."""
    queue(sessions, 3)
    dying = sender_for(smtp_peer, sessions)

    async def send_without_folding() -> None:
        rows = dying._claim()
        await dying._send_batch(rows, report := DrainReport())
        assert report.sent == 3
        await dying.close()

    asyncio.run(send_without_folding())
    if database_url.startswith("sqlite"):
        assert statuses(sessions) == [("pending", 0)] * 3  # on record in the log only
    with sessions.begin() as session:  # its claims lapse
        session.execute(update(OutboxMessage).values(claimed_until=NOW))
    assert asyncio.run(sender_for(smtp_peer, sessions).drain()).sent == 0
    assert len(smtp_peer.messages) == 3
    assert statuses(sessions) == [("sent", 1)] * 3
