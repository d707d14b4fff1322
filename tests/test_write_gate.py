"""SQLite writers queue at a gate (a lock within a process, an flock between processes) and are
let in one at a time as soon as the lock is free, instead of polling SQLite's busy handler."""

from __future__ import annotations

import fcntl
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from mailflow import db


def test_a_second_writer_waits_for_the_first_and_goes_on_at_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'gate.db'}"
    first, second = db.make_engine(url), db.make_engine(url)  # two gates: as two processes
    with first.begin() as connection:
        connection.execute(text("CREATE TABLE events (name TEXT)"))
    order: list[str] = []
    holding = threading.Event()

    def hold() -> None:
        with first.begin() as connection:
            connection.execute(text("INSERT INTO events VALUES ('first')"))
            holding.set()
            time.sleep(0.3)
            order.append("first commits")

    def follow() -> None:
        holding.wait()
        with second.begin() as connection:
            order.append("second begins")
            connection.execute(text("INSERT INTO events VALUES ('second')"))

    threads = [threading.Thread(target=hold), threading.Thread(target=follow)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert order == ["first commits", "second begins"]
    with second.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM events")).scalar() == 2
    first.dispose()
    second.dispose()


def test_the_gate_is_an_flock_held_for_the_transaction(tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'gate.db'}")
    with (tmp_path / "gate.db.write-lock").open("ab") as other_process:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (x INTEGER)"))
            with pytest.raises(BlockingIOError):
                fcntl.flock(other_process, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(other_process, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free once committed
        fcntl.flock(other_process, fcntl.LOCK_UN)
    engine.dispose()


def test_a_rolled_back_transaction_lets_the_next_writer_in(tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'gate.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
    try:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO t VALUES (1)"))
            raise RuntimeError("the handler crashed")
    except RuntimeError:
        pass
    done = threading.Event()

    def write() -> None:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO t VALUES (2)"))
        done.set()

    threading.Thread(target=write).start()
    assert done.wait(5), "the gate stayed shut after a rollback"
    engine.dispose()
