"""The sender's record of each delivery attempt, kept beside a SQLite database until folded in.

SQLite has one write lock per database file. The sender must record each mail's delivery
before the next mail's DATA, so that at most one mail is ever accepted by the server and not
yet on record (the RFC 1047 window). Recorded in the outbox itself, every such record waits for
the watcher's transaction in hand (a few milliseconds, with the new rows of a whole case). So the
record goes to a small database file of its own, ``<database>.deliveries``, where nobody else
holds the lock, and the records are folded into the outbox rows in one transaction per batch.

Every claim or release of outbox rows folds first, in its own transaction, so a delivery on
record here is never claimed and sent again, by this process or another one on the host.
PostgreSQL locks rows, not the whole database: there the sender writes to the outbox directly.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    Table,
    Text,
    bindparam,
    delete,
    select,
)

from mailflow import db
from mailflow.models import OutboxMessage

_METADATA = MetaData()
_RECORDS = Table(
    "deliveries",
    _METADATA,
    Column("outbox_id", Integer, primary_key=True),
    Column("record", Text, nullable=False),  # JSON: the outbox columns the attempt sets
)
_OUTBOX = OutboxMessage.__table__
FINISH = _OUTBOX.update().where(_OUTBOX.c.id == bindparam("row_id"))  # SET from the parameters
_TIMES = ("sent_at", "failed_at", "next_attempt_at", "claimed_until")


class DeliveryLog:
    """``<database>.deliveries``: one record per outbox row, until it is folded in."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._engine: Engine | None = None

    @classmethod
    def beside(cls, engine: Engine) -> DeliveryLog | None:
        """The log for ``engine``'s database when it is a SQLite file; else None."""
        path = db.beside_sqlite_file(engine, ".deliveries")
        return cls(path) if path else None

    def engine(self) -> Engine:
        if self._engine is None:
            engine = db.make_engine(f"sqlite:///{self.path}")  # WAL, busy timeout, its own gate
            _METADATA.create_all(engine)
            self._engine = engine
        return self._engine

    def record(self, row_id: int, values: dict[str, Any]) -> None:
        """Keep what an attempt on outbox row ``row_id`` sets (it replaces an earlier one)."""
        with self.engine().begin() as connection:
            connection.execute(
                _RECORDS.insert().prefix_with("OR REPLACE"),
                {"outbox_id": row_id, "record": _dumps(values)},
            )

    def fold_into(self, outbox: Connection) -> list[tuple[int, str]]:
        """Apply every record to its outbox row on ``outbox`` (inside the caller's transaction);
        returns them for :meth:`forget` once that transaction has committed."""
        with self.engine().connect() as connection:
            records = [(r.outbox_id, r.record) for r in connection.execute(select(_RECORDS))]
        for row_id, record in records:
            outbox.execute(FINISH, {"row_id": row_id, **_loads(record)})
        return records

    def forget(self, records: list[tuple[int, str]]) -> None:
        """Drop records that are in the outbox now (unless one was replaced meanwhile)."""
        if not records:
            return
        with self.engine().begin() as connection:
            for row_id, record in records:
                connection.execute(
                    delete(_RECORDS).where(
                        _RECORDS.c.outbox_id == row_id, _RECORDS.c.record == record
                    )
                )

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def _dumps(values: dict[str, Any]) -> str:
    return json.dumps(
        {k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in values.items()},
        sort_keys=True,
    )


def _loads(record: str) -> dict[str, Any]:
    values: dict[str, Any] = json.loads(record)
    for key in _TIMES:
        if isinstance(values.get(key), str):
            values[key] = dt.datetime.fromisoformat(values[key])
    return values
