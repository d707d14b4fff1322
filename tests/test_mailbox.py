"""The IMAP watcher against a real Dovecot (see ``servers.py``): filing, faults, IDLE, TLS."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterator
from email.parser import BytesHeaderParser

import pytest
from servers import TcpProxy, make_message, random_loopback

from mailflow.config import Duration
from mailflow.mailbox import Delivery, MailboxError, MailboxWatcher

pytestmark = pytest.mark.servers


class MemoryIngestor:
    """Our own Ingestor protocol, kept in memory (not a mock of a library).

    A subject containing "poison" is filed as failed; one listed in ``raising`` makes ingest
    raise, like a database that is down.
    """

    def __init__(self) -> None:
        self.cursors: dict[str, tuple[int, int]] = {}
        self.resets: list[tuple[str, int]] = []
        self.filed: dict[str, str] = {}
        self.deliveries: list[Delivery] = []
        self.raising: set[str] = set()
        self.hook: Callable[[], None] = lambda: None  # runs inside ingest
        self._changed = threading.Condition()

    def cursor(self, mailbox_key: str) -> tuple[int, int] | None:
        return self.cursors.get(mailbox_key)

    def reset_cursor(self, mailbox_key: str, uidvalidity: int) -> None:
        self.resets.append((mailbox_key, uidvalidity))
        self.cursors[mailbox_key] = (uidvalidity, 0)

    def already_filed(self, message_ids: list[str]) -> dict[str, str]:
        return {mid: self.filed[mid] for mid in message_ids if mid in self.filed}

    def ingest(self, delivery: Delivery) -> str:
        headers = BytesHeaderParser().parsebytes(delivery.header_block)
        subject = headers["Subject"] or ""
        self.hook()
        if subject in self.raising:
            raise RuntimeError("database is down")
        verdict = "failed" if "poison" in subject else "processed"
        with self._changed:
            self.deliveries.append(delivery)
            self.filed[headers["Message-ID"]] = verdict
            self.cursors[delivery.mailbox_key] = (delivery.uidvalidity, delivery.uid)
            self._changed.notify_all()
        return verdict

    def wait_for(self, n: int, timeout: float) -> list[Delivery]:
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.deliveries) >= n, timeout):
                raise AssertionError(f"expected {n} deliveries, got {len(self.deliveries)}")
            return list(self.deliveries)

    def subjects(self) -> list[str]:
        return [BytesHeaderParser().parsebytes(d.header_block)["Subject"] for d in self.deliveries]


def seconds(n: float) -> Duration:
    return Duration(f"{n}s", dt.timedelta(seconds=n))


def total(account, folders: list[str]) -> int:
    return sum(account.count(f) for f in folders)


class Running:
    """``MailboxWatcher.run`` in a thread, with the states it reported."""

    def __init__(self, watcher_for: Callable[..., MailboxWatcher]) -> None:
        self.states: list[str] = []
        self.stop = threading.Event()
        self.watcher = watcher_for(on_state=self.states.append)
        self.thread = threading.Thread(target=self.watcher.run, args=(self.stop,), daemon=True)
        self.thread.start()

    def wait_state(self, prefix: str, timeout: float = 10.0, after: int = 0) -> None:
        deadline = time.monotonic() + timeout
        while not any(s.startswith(prefix) for s in self.states[after:]):
            assert time.monotonic() < deadline, f"no {prefix!r} state in {self.states}"
            time.sleep(0.02)

    def finish(self) -> float:
        started = time.monotonic()
        self.stop.set()
        self.thread.join(10)
        assert not self.thread.is_alive()
        return time.monotonic() - started


@pytest.fixture
def ingestor() -> MemoryIngestor:
    return MemoryIngestor()


@pytest.fixture
def running(ingestor) -> Iterator[Callable[..., Running]]:
    started: list[Running] = []

    def start(config, **options) -> Running:
        run = Running(lambda **kw: MailboxWatcher(config, ingestor, **kw, **options))
        started.append(run)
        return run

    yield start
    for run in started:
        run.finish()


# ---------------------------------------------------------------- one pass


def test_folders_are_created_with_the_server_delimiter(imap_account, ingestor):
    MailboxWatcher(imap_account.mailbox_config(), ingestor).run_once()
    assert {"mailflow.processed", "mailflow.failed"} <= set(imap_account.folders())
    basic = imap_account.on("basic")  # "/" delimiter, no NAMESPACE: found with LIST "" ""
    config = basic.mailbox_config(processed_folder="a/b/done", failed_folder="a/bad")
    MailboxWatcher(config, ingestor).run_once()
    assert {"a", "a/b", "a/b/done", "a/bad"} <= set(basic.folders())


def test_messages_are_filed_by_verdict_and_nothing_is_deleted(imap_account, ingestor):
    messages = [make_message("one"), make_message("poison pill"), make_message("three")]
    for raw in messages:
        imap_account.append(raw)
    watcher = MailboxWatcher(imap_account.mailbox_config(), ingestor)
    assert watcher.run_once() == 3
    assert [d.raw for d in ingestor.deliveries] == messages
    assert all(d.header_block.endswith(b"\r\n\r\n") and d.raw.startswith(d.header_block)
               for d in ingestor.deliveries)  # fmt: skip
    assert [d.uid for d in ingestor.deliveries] == [1, 2, 3]
    assert (
        ingestor.deliveries[0].mailbox_key
        == f"{imap_account.username}@127.0.0.1:{imap_account.port}/INBOX"
    )
    assert imap_account.count("INBOX") == 0
    assert imap_account.count("mailflow.processed") == 2
    assert [b"poison" in m for m in imap_account.fetch_all("mailflow.failed")] == [True]
    assert total(imap_account, imap_account.folders()) == 3
    assert watcher.run_once() == 0


def test_already_filed_message_is_moved_without_ingesting(imap_account, ingestor):
    imap_account.append(make_message("again", message_id="<dup@test>"))
    ingestor.filed["<dup@test>"] = "failed"  # recorded before a crash, never moved
    assert MailboxWatcher(imap_account.mailbox_config(), ingestor).run_once() == 1
    assert ingestor.deliveries == []
    assert (imap_account.count("INBOX"), imap_account.count("mailflow.failed")) == (0, 1)


def test_oversized_message_is_not_downloaded(imap_account, ingestor):
    imap_account.append(make_message("big", size=20_000))
    imap_account.append(make_message("small"))
    config = imap_account.mailbox_config(max_message_size=10_000)
    MailboxWatcher(config, ingestor).run_once()
    big, small = ingestor.deliveries
    assert big.raw is None and big.size > 10_000 and b"Subject: big" in big.header_block
    assert small.raw is not None and len(small.raw) == small.size
    assert imap_account.count("mailflow.processed") == 2


def test_ingest_raising_leaves_the_message_and_goes_on(imap_account, ingestor, caplog):
    for subject in ("one", "db down", "three"):
        imap_account.append(make_message(subject))
    ingestor.raising.add("db down")
    watcher = MailboxWatcher(imap_account.mailbox_config(), ingestor)
    with caplog.at_level(logging.ERROR, "mailflow.mailbox"):
        assert watcher.run_once() == 2
    assert "uid 2: ingestor raised RuntimeError: database is down" in caplog.text
    assert ingestor.subjects() == ["one", "three"]
    assert imap_account.count("INBOX") == 1
    ingestor.raising.clear()
    assert watcher.run_once() == 1
    assert ingestor.subjects() == ["one", "three", "db down"]
    assert imap_account.count("INBOX") == 0


def test_uidvalidity_change_resets_the_cursor(imap_account, ingestor, caplog):
    imap_account.create_folder("watched")
    imap_account.append(make_message("first"), folder="watched")
    watcher = MailboxWatcher(imap_account.mailbox_config(folder="watched"), ingestor)
    watcher.run_once()
    [(_key, first)] = ingestor.resets  # first sight records UIDVALIDITY, no warning
    imap_account.delete_folder("watched")
    imap_account.create_folder("watched")
    imap_account.append(make_message("second"), folder="watched")
    with caplog.at_level(logging.WARNING, "mailflow.mailbox"):
        assert watcher.run_once() == 1
    assert len(ingestor.resets) == 2 and ingestor.resets[1][1] != first
    assert "UIDVALIDITY" in caplog.text
    assert ingestor.deliveries[1].uid == 1 and ingestor.deliveries[1].uidvalidity != first


# ---------------------------------------------------------------- moving without MOVE


def test_fallback_copy_expunge_without_move(imap_account, ingestor):
    nomove = imap_account.on("nomove")  # UIDPLUS: COPY, \Deleted, UID EXPUNGE
    for subject in ("a", "poison b"):
        nomove.append(make_message(subject))
    assert MailboxWatcher(nomove.mailbox_config(), ingestor).run_once() == 2
    assert nomove.count("INBOX") == 0
    assert (nomove.count("mailflow.processed"), nomove.count("mailflow.failed")) == (1, 1)


def test_fallback_copy_and_flag_without_uidplus(imap_account, ingestor):
    basic = imap_account.on("basic")  # no MOVE, no UIDPLUS: COPY + \Deleted, never EXPUNGE
    for subject in ("a", "b"):
        basic.append(make_message(subject))
    watcher = MailboxWatcher(basic.mailbox_config(), ingestor)
    assert watcher.run_once() == 2
    assert basic.count("INBOX") == 2 and basic.count("INBOX", undeleted=True) == 0
    assert basic.count("mailflow/processed") == 2
    assert watcher.run_once() == 0 and len(ingestor.deliveries) == 2


# ---------------------------------------------------------------- TLS and check


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_tls_with_the_test_ca(imap_account, ingestor, security):
    imap_account.append(make_message())
    config = imap_account.mailbox_config(security=security)
    assert MailboxWatcher(config, ingestor).run_once() == 1
    with pytest.raises(MailboxError, match="CERTIFICATE_VERIFY_FAILED"):
        MailboxWatcher(
            imap_account.mailbox_config(security=security, ca_file=""), ingestor
        ).run_once()


def test_check(imap_account, ingestor):
    line = MailboxWatcher(imap_account.mailbox_config(), ingestor).check()
    assert "ok" in line and "IDLE" in line and "MOVE" in line
    assert "mailflow.processed" not in imap_account.folders()  # check changes nothing
    proxy = TcpProxy(imap_account.host, imap_account.port, source=random_loopback())
    wrong = imap_account.mailbox_config(port=proxy.port, password="wrong")
    with pytest.raises(MailboxError, match=r"(?i)authentication failed"):
        MailboxWatcher(wrong, ingestor).check()
    proxy.close()
    with pytest.raises(MailboxError, match="doesn't exist: Nope"):
        MailboxWatcher(imap_account.mailbox_config(folder="Nope"), ingestor).check()


# ---------------------------------------------------------------- the loop


@pytest.mark.parametrize("security", ["none", "ssl"])
def test_run_reacts_to_idle_and_stops_quickly(imap_account, ingestor, running, security):
    imap_account.append(make_message("waiting"))
    run = running(imap_account.mailbox_config(security=security))
    ingestor.wait_for(1, timeout=5)
    run.wait_state("idle")
    reactions = []
    for n in range(2, 5):
        started = time.monotonic()
        imap_account.append(make_message(f"pushed {n}"))
        ingestor.wait_for(n, timeout=5)
        reactions.append(time.monotonic() - started)
        run.wait_state("idle", after=len(run.states) - 1)
    print(f"IDLE reaction times on Dovecot ({security}): {[f'{r:.2f}s' for r in reactions]}")
    assert max(reactions) < 2.0
    assert run.finish() < 2.0
    assert run.states[0] == "connected" and run.states[-1] == "disconnected: stopped"
    assert imap_account.count("INBOX") == 0


def test_run_polls_a_server_without_idle(imap_account, ingestor, running):
    basic = imap_account.on("basic")
    run = running(basic.mailbox_config(poll_interval=seconds(0.5)))
    run.wait_state("connected")
    basic.append(make_message("polled"))
    ingestor.wait_for(1, timeout=5)
    assert "idle" not in run.states


@pytest.mark.parametrize("crash", [False, True], ids=["stopped", "killed"])
def test_run_reconnects_after_dovecot_restarts(dovecot, imap_account, ingestor, running, crash):
    run = running(imap_account.mailbox_config())
    run.wait_state("idle")
    dovecot.stop(crash=crash)  # killed: no BYE, the socket just reaches EOF
    run.wait_state("disconnected", timeout=5)
    time.sleep(1.2)  # one failed reconnect (after 1 s)
    dovecot.start()
    imap_account.append(make_message("after recovery"))
    ingestor.wait_for(1, timeout=15)
    assert _inbox_empties(imap_account, timeout=5)  # the MOVE follows the ingest


def _inbox_empties(account, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while account.count("INBOX"):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_run_detects_a_dead_socket(imap_account, ingestor, running):
    proxy = TcpProxy(imap_account.host, imap_account.port)
    try:
        config = imap_account.mailbox_config(port=proxy.port, idle_renew=seconds(1))
        run = running(config, read_timeout=1.5)
        run.wait_state("idle")
        proxy.freeze()  # the session goes silent: idle_done must time out
        imap_account.append(make_message("behind a dead socket"))
        ingestor.wait_for(1, timeout=15)
        assert any(s.startswith("disconnected: TimeoutError") for s in run.states), run.states
        run.finish()
    finally:
        proxy.close()


def test_stop_finishes_the_message_in_hand(imap_account, ingestor):
    for subject in ("first", "second", "third"):
        imap_account.append(make_message(subject))
    stop = threading.Event()
    ingestor.hook = stop.set  # SIGTERM arrives while the first message is being recorded
    states: list[str] = []
    MailboxWatcher(imap_account.mailbox_config(), ingestor, on_state=states.append).run(stop)
    assert ingestor.subjects() == ["first"]
    assert (imap_account.count("mailflow.processed"), imap_account.count("INBOX")) == (1, 2)
    assert states == ["connected", "disconnected: stopped"]
