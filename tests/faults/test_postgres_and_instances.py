"""Several ``mailflow run`` instances on PostgreSQL, and PostgreSQL itself restarted under load:
exactly one instance watches the mailbox, another takes over when it dies, and every mail is
counted — each form handled once, each mail sent once (but for the RFC 1047 window)."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time

import pytest
from harness import Mailflow
from mailbuilder import REQUEST_FORM_ZH, message
from servers import PrivatePostgres, postgres_database
from sqlalchemy import select

from mailflow.models import InboundMessage, Instance

pytestmark = [pytest.mark.servers, pytest.mark.postgres]

MAILS_PER_FORM = 3


def form(i: int) -> bytes:
    return message(
        sender=("张伟", "zhang.wei@example.com"), subject=f"协调申请 {i}", text=REQUEST_FORM_ZH
    )


def assert_each_mail_once(flow: Mailflow, forms: int) -> None:
    copies = collections.Counter(m["Message-ID"] for m in flow.sent())
    assert len(copies) == forms * MAILS_PER_FORM, flow.log()[-3000:]
    assert sum(n - 1 for n in copies.values()) <= 1  # at most one RFC 1047 copy, same Message-ID
    with flow.session() as session:
        assert len(session.scalars(select(InboundMessage)).all()) == forms
    assert flow.imap.count("INBOX") == 0


def test_postgresql_restarted_under_load(tmp_path, imap_account, smtp_peer) -> None:
    server = PrivatePostgres()
    server.start()
    flow = Mailflow(tmp_path, imap_account, smtp_peer, server.url)
    try:
        flow.start_daemon()
        for i in range(4):
            flow.deliver(form(i))
        flow.wait_for_mail(1, timeout=60)  # up (its schema made) and in the middle of the work
        server.restart()  # connections of every kind drop under the daemon's feet
        for i in range(4, 8):
            flow.deliver(form(i))
        flow.wait_for_mail(8 * MAILS_PER_FORM, timeout=90)
        assert flow.stop_daemon() == 0
        assert_each_mail_once(flow, 8)
    finally:
        flow.close()
        server.remove()


def start(flow: Mailflow, name: str) -> subprocess.Popen[bytes]:
    log = (flow.tmp_path / f"{name}.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "mailflow", "-c", str(flow.config_path), "-v", "run"],
        cwd=flow.tmp_path,
        env={**os.environ},
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def watcher_pid(flow: Mailflow, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with flow.session() as session:
            watching = session.scalars(
                select(Instance).where(Instance.role == "watcher", Instance.stopped_at.is_(None))
            ).all()
        alive = [
            int(i.name.rsplit(":", 1)[1])
            for i in watching
            if _running(int(i.name.rsplit(":", 1)[1]))
        ]
        if alive:
            return alive[0]
        time.sleep(0.5)
    raise AssertionError("no instance took the mailbox")


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_three_instances_one_watcher_and_a_takeover(tmp_path, imap_account, smtp_peer) -> None:
    with postgres_database() as url:
        flow = Mailflow(tmp_path, imap_account, smtp_peer, url)
        flow.cli("db", "upgrade")
        instances = {pid.pid: pid for pid in (start(flow, f"instance{n}") for n in range(3))}
        try:
            for i in range(4):
                flow.deliver(form(i))
            flow.wait_for_mail(4 * MAILS_PER_FORM, timeout=60)
            first = watcher_pid(flow)
            status = flow.cli("status").stdout
            assert status.count("watcher  alive") == 1 and status.count("standby  alive") == 2, (
                status
            )

            instances[first].send_signal(signal.SIGKILL)  # the watching instance dies mid-stream
            instances[first].wait(10)
            killed_at = time.monotonic()
            for i in range(4, 10):
                flow.deliver(form(i))
            flow.wait_for_mail(10 * MAILS_PER_FORM, timeout=60)
            took_over = time.monotonic() - killed_at
            second = watcher_pid(flow)
            assert second != first and second in instances
            assert took_over < 30, f"takeover took {took_over:.1f} s"
            print(f"another instance took over and caught up {took_over:.1f} s after the kill")
        finally:
            for process in instances.values():
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in instances.values():
                process.wait(30)
        assert_each_mail_once(flow, 10)
        flow.close()
