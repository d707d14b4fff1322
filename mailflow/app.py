"""The composition root: builds the engine, sessions, context, ingest, watcher and sender."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from mailflow import db, sweeps
from mailflow.config import Config
from mailflow.context import Context
from mailflow.ingest import Ingest
from mailflow.mailbox import MailboxWatcher
from mailflow.models import OutboxMessage
from mailflow.sender import Sender
from mailflow.sweeps import DutyReport


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class App:
    def __init__(self, config: Config, *, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.config = config
        self.clock = clock
        self.engine: Engine = db.make_engine(config.database.url)
        self.sessions: sessionmaker[Session] = db.session_factory(self.engine)
        self.context = Context.build(config, clock())
        self.ingest = Ingest(self.context, self.sessions, clock=clock)
        self.sender = Sender(config.smtp, self.sessions)
        self.sender.alert_context = self.context

    def run_duties(self, now: dt.datetime | None = None) -> DutyReport:
        """Every time-based duty as of ``now`` (default: the clock)."""
        return sweeps.run_duties(self.sessions, self.context.at(now or self.clock()))

    def preview_duties(self, now: dt.datetime) -> list[OutboxMessage]:
        return sweeps.preview_duties(self.sessions, self.context.at(now))

    def upgrade(self) -> None:
        db.upgrade(self.engine)

    def watcher(self, on_state: Callable[[str], None] | None = None) -> MailboxWatcher:
        return MailboxWatcher(self.config.mailbox, self.ingest, on_state=on_state)

    def close(self) -> None:
        self.engine.dispose()
