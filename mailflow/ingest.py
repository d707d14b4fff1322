"""The transaction for one inbound message: dedupe, parse, route, handle, record, commit.

The watcher hands over a :class:`~mailflow.mailbox.Delivery`; this module decides what it is
and commits everything it caused (rows and outbox mail) in one transaction, then tells the
watcher where to file it. A message already recorded (same Message-ID, or the same bytes when
there is none) is never handled twice. A message that cannot be parsed or handled is recorded
as failed with its reason; a database that is down raises, so the message stays in the mailbox
for the next pass.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from mailflow import failpoints, router
from mailflow.cases import DatabaseThreads
from mailflow.context import Context
from mailflow.handlers import HANDLERS
from mailflow.handlers.base import Verdict
from mailflow.handlers.failure import file_failure
from mailflow.models import InboundMessage, MailboxCursor
from mailflow.parse import ParsedMail, parse_message

if TYPE_CHECKING:
    from mailflow.mailbox import Delivery

log = logging.getLogger("mailflow.ingest")

MAX_STORED_TEXT = 200_000

# Core statements built once: they run for every message, and the ORM adds nothing to them
_INBOUND = InboundMessage.__table__
_CURSOR = MailboxCursor.__table__
_FILED_AS = select(_INBOUND.c.id, _INBOUND.c.folder).where(
    _INBOUND.c.dedupe_key == bindparam("key")
)
_FILED_IN = select(_INBOUND.c.dedupe_key, _INBOUND.c.folder).where(
    _INBOUND.c.dedupe_key.in_(bindparam("keys", expanding=True))
)
_RECORD = _INBOUND.insert()
_ADVANCE_CURSOR = (
    update(_CURSOR)
    .where(
        _CURSOR.c.mailbox_key == bindparam("key"),
        _CURSOR.c.uidvalidity == bindparam("seen_uidvalidity"),
        _CURSOR.c.last_uid < bindparam("seen_uid"),
    )
    .values(last_uid=bindparam("seen_uid"), updated_at=bindparam("now"))
)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def message_key(message_id: str) -> str:
    message_id = message_id.strip()
    if message_id and not message_id.startswith("<"):
        message_id = f"<{message_id}>"
    return f"mid:{message_id}"


class Ingest:
    """Implements :class:`mailflow.mailbox.Ingestor` on the database."""

    def __init__(
        self,
        context: Context,
        sessions: sessionmaker[Session],
        *,
        clock: Callable[[], dt.datetime] = utcnow,
        on_commit: Callable[[], None] = lambda: None,
    ) -> None:
        self.context = context
        self.sessions = sessions
        self.clock = clock
        self.on_commit = on_commit

    # ---------------------------------------------------------------- cursor

    def cursor(self, mailbox_key: str) -> tuple[int, int] | None:
        with self.sessions() as session:
            row = session.get(MailboxCursor, mailbox_key)
            return (row.uidvalidity, row.last_uid) if row else None

    def reset_cursor(self, mailbox_key: str, uidvalidity: int) -> None:
        with self.sessions.begin() as session:
            session.merge(
                MailboxCursor(
                    mailbox_key=mailbox_key,
                    uidvalidity=uidvalidity,
                    last_uid=0,
                    updated_at=self.clock(),
                )
            )

    def _advance_cursor(self, session: Session, delivery: Delivery) -> None:
        """Record the highest UID seen (the watcher created the row when it met the folder)."""
        session.connection().execute(
            _ADVANCE_CURSOR,
            {
                "key": delivery.mailbox_key,
                "seen_uidvalidity": delivery.uidvalidity,
                "seen_uid": delivery.uid,
                "now": self.clock(),
            },
        )

    # ---------------------------------------------------------------- messages

    def already_filed(self, message_ids: list[str]) -> dict[str, str]:
        """The folder each of ``message_ids`` was filed to, for those recorded before."""
        keys = {message_key(mid): mid for mid in message_ids if mid.strip()}
        if not keys:
            return {}
        with self.sessions() as session:
            rows = session.connection().execute(_FILED_IN, {"keys": list(keys)})
            return {keys[row.dedupe_key]: row.folder for row in rows}

    def ingest(self, delivery: Delivery) -> str:
        ctx = self.context.at(self.clock())
        if delivery.raw is None:
            headers = _parse_or_none(delivery.header_block)
            key = (
                headers.dedupe_key
                if headers and headers.message_id
                else _hash_key(delivery.header_block)
            )
            limit = ctx.config.mailbox.max_message_size
            detail = f"{delivery.size} bytes, over the {limit}-byte limit; not downloaded"
            return self._record_failure(delivery, ctx, headers, key, "too_large", detail)
        try:
            mail = parse_message(delivery.raw)
        except Exception as exc:  # a parser crash must not stop the daemon: file the message
            headers = _parse_or_none(delivery.header_block)
            detail = f"parser failed: {type(exc).__name__}: {exc}"
            return self._record_failure(
                delivery, ctx, headers, _hash_key(delivery.raw), "unreadable", detail
            )
        try:
            return self._handle(delivery, ctx, mail)
        except (OperationalError, DBAPIError) as exc:
            if isinstance(exc, IntegrityError):
                log.info(
                    "inbound uid=%s message_id=%s verdict=duplicate (raced)",
                    delivery.uid,
                    mail.message_id,
                )
                return self.already_filed([mail.message_id]).get(mail.message_id, "processed")
            raise
        except Exception as exc:
            log.exception("handler crashed on uid=%s message_id=%s", delivery.uid, mail.message_id)
            detail = f"{type(exc).__name__}: {exc}"
            return self._record_failure(
                delivery, ctx, mail, mail.dedupe_key, "processing_error", detail
            )

    def _handle(self, delivery: Delivery, ctx: Context, mail: ParsedMail) -> str:
        with self.sessions.begin() as session:
            existing = session.connection().execute(_FILED_AS, {"key": mail.dedupe_key}).first()
            if existing is not None:
                self._advance_cursor(session, delivery)
                log.info(
                    "inbound uid=%s message_id=%s verdict=duplicate of #%s folder=%s",
                    delivery.uid, mail.message_id, existing.id, existing.folder,
                )  # fmt: skip
                return existing.folder
            route = router.route(mail, ctx.config, DatabaseThreads(session))
            verdict = HANDLERS[route.handler](mail, session, ctx, route)
            how = f"{route.handler}: {route.reason}"[:200]
            self._record(session, delivery, ctx, mail, mail.dedupe_key, verdict, how)
            failpoints.hit("ingest.before_commit")
        self._committed(delivery, mail, verdict)
        return verdict.folder

    def _record_failure(
        self,
        delivery: Delivery,
        ctx: Context,
        headers: ParsedMail | None,
        key: str,
        reason: str,
        detail: str,
    ) -> str:
        with self.sessions.begin() as session:
            existing = session.connection().execute(_FILED_AS, {"key": key}).first()
            if existing is not None:
                return existing.folder
            verdict = file_failure(
                headers,
                session,
                ctx,
                reason=reason,
                detail=detail,
                size=delivery.size,
            )
            self._record(session, delivery, ctx, headers, key, verdict, "failure")
        self._committed(delivery, headers, verdict)
        return verdict.folder

    def _record(
        self,
        session: Session,
        delivery: Delivery,
        ctx: Context,
        mail: ParsedMail | None,
        key: str,
        verdict: Verdict,
        route: str,
    ) -> None:
        session.flush()  # the case the row refers to, if it is new
        session.connection().execute(
            _RECORD,
            {
                "dedupe_key": key,
                "message_id": mail.message_id if mail else "",
                "sender": mail.sender.address if mail and mail.sender else "",
                "sender_name": (mail.sender.name if mail and mail.sender else "")[:200],
                "subject": mail.subject if mail else "",
                "sent_at": mail.date if mail else None,
                "received_at": ctx.now,
                "size": delivery.size,
                "mailbox_uid": delivery.uid,
                "verdict": verdict.name,
                "folder": verdict.folder,
                "reason": verdict.reason,
                "route": route,
                "body_text": (mail.text if mail else "")[:MAX_STORED_TEXT],
                "request_id": verdict.request.id if verdict.request else None,
            },
        )
        self._advance_cursor(session, delivery)

    def _committed(self, delivery: Delivery, mail: ParsedMail | None, verdict: Verdict) -> None:
        failpoints.hit("ingest.after_commit")
        log.info(
            "inbound uid=%s message_id=%s from=%s verdict=%s case=%s folder=%s%s",
            delivery.uid,
            mail.message_id if mail else "-",
            mail.sender.address if mail and mail.sender else "-",
            verdict.name,
            verdict.request.number if verdict.request else "-",
            verdict.folder,
            f" reason={verdict.reason}" if verdict.reason else "",
        )
        self.on_commit()


def _hash_key(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


def _parse_or_none(header_block: bytes) -> ParsedMail | None:
    try:
        return parse_message(header_block)
    except Exception:
        return None
