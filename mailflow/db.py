"""Engine, sessions and schema migration.

SQLite (the embedded default) runs in WAL mode with a busy timeout and foreign keys on; its
transactions start with ``BEGIN IMMEDIATE`` behind a gate (a lock between a process's threads,
an ``flock`` between processes), so writers queue for the single write lock instead of polling
SQLite's busy handler (which sleeps in steps of up to 100 ms). PostgreSQL is used as is. ``upgrade()``
applies the Alembic migrations under a lock so that several processes starting at once (two
``mailflow tick`` runs, several daemons) migrate once.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        _WriteGate(beside_sqlite_file(engine, ".write-lock")).install(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def beside_sqlite_file(engine: Engine, suffix: str) -> Path | None:
    """``<database><suffix>`` when ``engine`` is a SQLite database in a file; else None."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    if "mode=memory" in str(engine.url):
        return None
    return Path(f"{database}{suffix}")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class _WriteGate:
    """One SQLite write transaction at a time, handed over without sleeping.

    pysqlite's own transaction handling defers BEGIN; we emit ``BEGIN IMMEDIATE`` ourselves so
    that a transaction holds the write lock from its first statement (SQLAlchemy's pysqlite
    notes). Before that, the threads of this process queue on a lock, and processes on an
    ``flock`` of ``<database>.write-lock``: the kernel wakes the next one the moment the lock
    is free, where SQLite's busy handler would poll in sleeps of up to 100 ms. A process that
    does not take the gate (the ``sqlite3`` shell) still meets the busy timeout, as before.
    """

    def __init__(self, lock_path: Path | None) -> None:
        self._threads = threading.RLock()
        self._depth = 0  # how many transactions of the holding thread are open
        self._lock_path = lock_path
        self._file: IO[bytes] | None = None
        self._file_pid = 0  # a forked child opens its own: flock is shared across a fork

    def install(self, engine: Engine) -> None:
        event.listen(engine, "begin", self._begin)
        event.listen(engine, "commit", self._end)
        event.listen(engine, "rollback", self._end)

    def _begin(self, connection: Connection) -> None:
        self._threads.acquire()
        self._depth += 1
        try:
            if self._depth == 1:
                self._lock_file()
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            self._release()
            raise
        connection.info["holds_write_gate"] = True

    def _end(self, connection: Connection) -> None:
        if connection.info.pop("holds_write_gate", False):
            self._release()

    def _release(self) -> None:
        self._depth -= 1
        try:
            if self._depth == 0 and self._file is not None:
                fcntl.flock(self._file, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def _lock_file(self) -> None:
        if self._lock_path is None:
            return
        if self._file is None or self._file_pid != os.getpid():
            self._file = self._lock_path.open("ab")
            self._file_pid = os.getpid()
        fcntl.flock(self._file, fcntl.LOCK_EX)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(engine: Engine) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine) -> None:
    """Create or migrate the schema to the newest revision."""
    with _migration_lock(engine):
        command.upgrade(alembic_config(engine), "head")


@contextlib.contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """A file lock beside a SQLite database; PostgreSQL takes an advisory lock in env.py."""
    lock_path = beside_sqlite_file(engine, ".migrate.lock")
    if lock_path is None:
        yield
        return
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
