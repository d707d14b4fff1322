"""Which instance watches the mailbox: exactly one at a time.

On PostgreSQL the watcher holds a session-level advisory lock on a connection of its own: when
its process dies the connection drops, the lock is free at once, and a standby instance takes it
on its next try (every few seconds). On SQLite (one host by nature) an exclusive lock on a file
beside the database does the same. Everything else — sending, duties — is safe to run in every
instance at once (claims and dedupe keys), so only the watcher needs a lease.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

log = logging.getLogger("mailflow.lease")

LOCK_KEY = 7_220_002  # PostgreSQL advisory lock id of the mailbox watcher (constant, arbitrary)


class WatcherLease:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock_engine: Engine | None = None  # its own connection, outside the pool
        self._connection: Any = None
        self._file: IO[str] | None = None

    @property
    def postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def acquire(self) -> bool:
        """Take the lease if it is free; True when this instance holds it."""
        if self.held():
            return True
        return self._acquire_postgres() if self.postgres else self._acquire_file()

    def held(self) -> bool:
        """Whether the lease is (still) ours: on PostgreSQL the lock connection must be alive."""
        if self._file is not None:
            return True
        if self._connection is None:
            return False
        try:
            self._connection.execute(text("SELECT 1"))
            return True
        except Exception:
            log.warning("lost the database connection that held the mailbox lease")
            self._drop_connection()
            return False

    def release(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
            self._drop_connection()
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None

    def _acquire_postgres(self) -> bool:
        try:
            if self._connection is None:
                if self._lock_engine is None:
                    self._lock_engine = create_engine(self.engine.url, poolclass=NullPool)
                connection = self._lock_engine.connect()
                self._connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            got = self._connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}
            ).scalar()
        except Exception as exc:
            log.warning("cannot take the mailbox lease: %s", exc)
            self._drop_connection()
            return False
        if not got:
            self._drop_connection()
        return bool(got)

    def _acquire_file(self) -> bool:
        database = self.engine.url.database or "mailflow"
        handle = Path(f"{database}.watcher.lock").open("a")  # noqa: SIM115 - held open while leased
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._file = handle
        return True

    def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.close()
