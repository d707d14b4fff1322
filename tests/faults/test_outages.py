"""Servers that go away and come back, with ``mailflow run`` left running: Dovecot stopped
mid-IDLE, a connection that goes silent (half-open), the SMTP peer down then back, a peer
that answers 550 — nothing is missed and everything queued goes out after recovery."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from harness import Mailflow
from mailbuilder import REQUEST_FORM_ZH, message
from servers import TcpProxy, random_loopback
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from mailflow.calendar import WorkCalendar
from mailflow.models import OutboxMessage

pytestmark = pytest.mark.servers

REQUESTER = ("张伟", "zhang.wei@example.com")


def form(subject: str) -> bytes:
    return message(sender=REQUESTER, subject=subject, text=REQUEST_FORM_ZH)


def wait_until(condition, timeout: float, what: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout} s")


def test_dovecot_stopped_mid_idle(mailflow_sqlite: Mailflow, dovecot) -> None:
    flow = mailflow_sqlite
    flow.start_daemon()
    flow.deliver(form("停机前"))
    flow.wait_for_mail(3)
    dovecot.stop()
    time.sleep(30)
    dovecot.start()
    flow.deliver(form("恢复后"))  # mail that arrives while the watcher is still reconnecting
    caught_up = wait_until(lambda: len(flow.sent()) >= 6, 30, "catch-up after Dovecot came back")
    assert flow.stop_daemon() == 0
    assert len(flow.sent()) == 6
    assert "reconnecting" in flow.log()
    print(f"caught up {caught_up:.1f} s after Dovecot came back")


def test_silent_half_open_connection(tmp_path, imap_account, smtp_peer) -> None:
    proxy = TcpProxy(imap_account.host, imap_account.port)
    proxied = type(imap_account)(**{**imap_account.__dict__, "port": proxy.port})
    flow = Mailflow(tmp_path, proxied, smtp_peer, f"sqlite:///{tmp_path}/mailflow.db")
    flow.write_config(mailbox='idle_renew = "10s"')  # how soon a silent connection shows
    try:
        flow.start_daemon()
        time.sleep(2)
        proxy.freeze()  # the watcher's IDLE connection goes silent, without a FIN or RST
        imap_account.append(form("半开连接"))  # straight to Dovecot: the watcher cannot hear of it
        noticed = wait_until(
            lambda: len(flow.sent()) >= 3, 45, "mail after the connection went silent"
        )
        assert flow.stop_daemon() == 0
        assert len(flow.sent()) == 3
        print(f"handled {noticed:.1f} s after the connection went silent")
    finally:
        flow.close()
        proxy.close()


def test_smtp_peer_down_then_back(mailflow_sqlite: Mailflow) -> None:
    flow = mailflow_sqlite
    flow.smtp.stop()
    flow.start_daemon()
    for i in range(3):
        flow.deliver(form(f"对端停机 {i}"))
    wait_until(lambda: _pending(flow) == 9, 30, "mail queued while the peer is down")
    time.sleep(20)
    _as_if_down_for(flow, dt.timedelta(minutes=10))
    flow.smtp.start()
    drained = wait_until(lambda: len(flow.sent()) >= 9, 45, "backlog after the SMTP peer came back")
    assert flow.stop_daemon() == 0
    assert len({m["Message-ID"] for m in flow.sent()}) == len(flow.sent()) == 9
    print(f"backlog drained {drained:.1f} s after the peer came back")


def test_550_is_failed_and_in_the_daily_digest(mailflow_sqlite: Mailflow) -> None:
    flow = mailflow_sqlite
    flow.smtp.reply_with("550 5.7.1 rejected by policy")
    flow.deliver(form("被拒收"))
    flow.run_once()
    with flow.session() as session:
        rows = session.scalars(select(OutboxMessage)).all()
    assert {r.status for r in rows} == {"failed"} and all("550" in r.last_error for r in rows)
    flow.smtp.reply_with(None)
    calendar = WorkCalendar()
    next_day = calendar.local(rows[0].failed_at).date() + dt.timedelta(days=1)
    next_morning = dt.datetime.combine(next_day, dt.time(8, 30), tzinfo=calendar.tz)
    flow.cli("tick", "--at", next_morning.isoformat())
    digest = [m for m in flow.sent() if m["X-Mailflow-Kind"] == "failure_digest"]
    assert len(digest) == 1
    assert "550 5.7.1 rejected by policy" in digest[0].get_body(("plain",)).get_content()


def _as_if_down_for(flow: Mailflow, outage: dt.timedelta) -> None:
    """Age the waiting rows to where ten minutes of failed attempts leave them: five tries made
    (at 0, 0.5, 1.5, 3.5 and 7.5 min, the backoff doubling from 30 s), the sixth not due until
    15.5 min — so only the recovery probe can make them go out promptly."""
    now = dt.datetime.now(dt.UTC)
    with flow.session() as session, session.begin():
        for row in session.scalars(select(OutboxMessage).where(OutboxMessage.status == "pending")):
            row.created_at = now - outage
            row.attempts = 5
            row.next_attempt_at = now + dt.timedelta(minutes=5.5)
            row.last_error = "connection: cannot connect to the SMTP server: refused"


def _pending(flow: Mailflow) -> int:
    try:
        with flow.session() as session:
            query = select(OutboxMessage).where(OutboxMessage.status == "pending")
            return len(session.scalars(query).all())
    except OperationalError:  # the daemon has not created the schema yet
        return 0


def test_a_failing_login_is_retried_and_reported_once(tmp_path, imap_account, smtp_peer) -> None:
    proxy = TcpProxy(
        imap_account.host, imap_account.port, source=random_loopback()
    )  # own auth penalty
    wrong = type(imap_account)(**{**imap_account.__dict__, "port": proxy.port, "password": "wrong"})
    flow = Mailflow(tmp_path, wrong, smtp_peer, f"sqlite:///{tmp_path}/mailflow.db")
    flow.write_config(organization='admin = "ops@example.com"')
    try:
        flow.start_daemon()
        time.sleep(25)
        assert flow.stop_daemon() == 0
        attempts = flow.log().count("AUTHENTICATIONFAILED")
        alerts = [m for m in flow.sent() if m["X-Mailflow-Kind"] == "login_failure"]
        assert attempts >= 2, flow.log()[-2000:]
        assert len(alerts) == 1 and [a.addr_spec for a in alerts[0]["To"].addresses] == [
            "ops@example.com"
        ]
    finally:
        flow.close()
        proxy.close()
