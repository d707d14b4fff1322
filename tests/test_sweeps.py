"""Duties run directly against the database (both backends): the daily failure digest, and
running the same duty twice or late."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import zoneinfo

import pytest
from sqlalchemy import select

from mailflow import db, sweeps
from mailflow.config import config_from_dict
from mailflow.context import Context
from mailflow.models import InboundMessage, OutboxMessage

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.fixture
def sessions(database_url: str):
    engine = db.make_engine(database_url)
    db.upgrade(engine)
    yield db.session_factory(engine)
    engine.dispose()


def context(language: str = "zh") -> Context:
    config = config_from_dict(
        {
            "organization": {
                "admin": "ops@example.com",
                "admin_archive": "archive@example.com",
                "language": language,
            },
            "departments": [{"name": "市场部", "head": "王芳 <wang.fang@example.com>"}],
        }
    )
    return Context.build(config, dt.datetime(2026, 11, 27, 9, 30, tzinfo=SHANGHAI))


def record_failures(sessions, when: dt.datetime) -> None:
    with sessions.begin() as session:
        session.add(
            InboundMessage(
                dedupe_key="sha256:abc",
                sender="zhang.wei@example.com",
                subject="坏邮件",
                received_at=when,
                verdict="unreadable",
                folder="failed",
                reason="parser failed: ParseError: message is nested too deeply to parse",
            )
        )
        session.add(
            InboundMessage(
                dedupe_key="mid:<x@spam>", sender="x@spam.example", received_at=when, verdict="unknown_sender",
                folder="processed",
            )
        )  # fmt: skip
        session.add(
            OutboxMessage(
                dedupe_key="request_ack:REQ-2026-0009", message_id="<a@example.com>", kind="request_ack",
                mail_from="coordination@example.com", to_addrs=["gone@example.com"], cc_addrs=[], bcc_addrs=[],
                subject="[REQ-2026-0009] 需求已受理", raw=b"", status="failed", created_at=when,
                next_attempt_at=when, failed_at=when, last_error="550 5.1.1 no such user",
            )
        )  # fmt: skip


@pytest.mark.parametrize("language", ["zh", "en"])
def test_daily_failure_digest_once_a_day(sessions, database_url, language: str) -> None:
    ctx = context(language)
    record_failures(sessions, dt.datetime(2026, 11, 26, 15, 0, tzinfo=SHANGHAI))
    early = ctx.at(dt.datetime(2026, 11, 27, 7, 59, tzinfo=SHANGHAI))
    assert sweeps.run_duties(sessions, early).total == 0
    assert sweeps.run_duties(sessions, ctx).queued["failure_digest"] == 1
    assert sweeps.run_duties(sessions, ctx.at(ctx.now + dt.timedelta(hours=5))).total == 0
    with sessions() as session:
        digest = session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "failure_digest")
        ).one()
    assert digest.to_addrs == ["ops@example.com"]
    body = (
        email.message_from_bytes(digest.raw, policy=email.policy.default)
        .get_body(("plain",))
        .get_content()
    )
    assert (
        "nested too deeply" in body
        and "550 5.1.1 no such user" in body
        and "gone@example.com" in body
    )
    assert (
        "1 封来自通讯录以外" if language == "zh" else "1 message(s) from addresses outside"
    ) in body
    # the next day has nothing to report: no mail
    assert sweeps.run_duties(sessions, ctx.at(ctx.now + dt.timedelta(days=1))).total == 0


def test_preview_changes_nothing(sessions) -> None:
    ctx = context()
    record_failures(sessions, dt.datetime(2026, 11, 26, 15, 0, tzinfo=SHANGHAI))
    rows = sweeps.preview_duties(sessions, ctx)
    assert [r.kind for r in rows] == ["failure_digest"]
    with sessions() as session:
        assert session.scalars(select(OutboxMessage.kind)).all() == ["request_ack"]
    assert sweeps.run_duties(sessions, ctx).total == 1
