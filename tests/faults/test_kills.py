"""SIGKILL of ``mailflow run`` at each step of a message's life, then a restart: every form is
handled once and every mail goes out once — except in the RFC 1047 window (killed after the
server's 250, before the outbox row was marked), where the copy carries the same Message-ID."""

from __future__ import annotations

import collections

import pytest
from harness import Mailflow
from mailbuilder import REQUEST_FORM_ZH, message
from sqlalchemy import select

from mailflow.models import InboundMessage, OutboxMessage

pytestmark = pytest.mark.servers

FORMS = 3
MAILS_PER_FORM = 3  # acknowledgement + two notices


def forms() -> list[bytes]:
    return [
        message(
            sender=("张伟", "zhang.wei@example.com"), subject=f"协调申请 {i}", text=REQUEST_FORM_ZH
        )
        for i in range(FORMS)
    ]


@pytest.mark.parametrize(
    "point",
    ["ingest.before_commit", "ingest.after_commit", "sender.after_send"],
    ids=lambda p: p.split(".")[1],
)
def test_killed_at_each_step_then_restarted(mailflow: Mailflow, point: str) -> None:
    daemon = mailflow.start_daemon(env={"MAILFLOW_FAILPOINTS": point})
    for raw in forms():
        mailflow.deliver(raw)
    assert daemon.wait(timeout=60) == -9, mailflow.log()[-2000:]

    mailflow.start_daemon()
    mailflow.wait_for_mail(FORMS * MAILS_PER_FORM, timeout=60)
    assert mailflow.stop_daemon() == 0

    ids = [m["Message-ID"] for m in mailflow.sent()]
    copies = collections.Counter(ids)
    twice = [mid for mid, n in copies.items() if n > 1]
    if point == "sender.after_send":
        assert len(twice) <= 1 and all(
            copies[mid] == 2 for mid in twice
        )  # the RFC 1047 window only
    else:
        assert twice == []
    assert len(copies) == FORMS * MAILS_PER_FORM
    assert mailflow.imap.count("INBOX") == 0
    with mailflow.session() as session:
        assert len(session.scalars(select(InboundMessage)).all()) == FORMS
        rows = session.scalars(select(OutboxMessage)).all()
    assert len(rows) == FORMS * MAILS_PER_FORM and {r.status for r in rows} == {"sent"}
    assert {r.message_id for r in rows} == set(copies)
