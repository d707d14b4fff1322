"""Delivers the outbox over SMTP; the only module that imports aiosmtplib.

Rows are claimed (so that several processes never send the same row at once), sent over one
connection per batch, and marked: sent after the server's 250, retried with growing backoff
after a 4xx or a connection failure (the stored message, Message-ID included, is sent again
unchanged), failed after a 5xx or when retries have gone on too long. A crash between the 250
and the mark is the one window in which a mail can go out twice (RFC 1047); its copy then
carries the same Message-ID.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import socket
import ssl
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

import aiosmtplib
from sqlalchemy import Engine, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from mailflow import alerts, failpoints
from mailflow.config import SmtpConfig
from mailflow.context import Context
from mailflow.delivery_log import FINISH, DeliveryLog
from mailflow.models import OutboxMessage
from mailflow.oauth import TokenError, TokenSource

log = logging.getLogger("mailflow.sender")

CLAIM_FOR = dt.timedelta(minutes=2)
FIRST_RETRY = dt.timedelta(seconds=30)
LONGEST_RETRY = dt.timedelta(hours=1)
GIVE_UP_AFTER = dt.timedelta(days=2)
BATCH_SIZE = 50
KEEP_CONNECTION = dt.timedelta(seconds=30)  # reuse an idle SMTP connection this long
RELEASE_DEAD_CLAIMS_EVERY = 60.0  # seconds between looks for rows claimed by dead processes
PROBE_EVERY = 15.0  # while mail waits for a server that was down, seconds between connection tries
CONNECTION_PROBLEM = "connection: "  # how a deferral for an unreachable server is marked


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def instance_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class DrainReport:
    sent: int = 0
    deferred: int = 0
    failed: int = 0

    def __str__(self) -> str:
        return f"sent={self.sent} deferred={self.deferred} failed={self.failed}"

    def __iadd__(self, other: DrainReport) -> DrainReport:
        self.sent += other.sent
        self.deferred += other.deferred
        self.failed += other.failed
        return self


class _Transient(Exception):
    """A delivery problem worth retrying (4xx, connection trouble)."""


class _Permanent(Exception):
    """A delivery problem retrying cannot fix (5xx)."""


class _NoConnection(_Transient):
    """The SMTP server cannot be reached: nothing in the batch can go now."""


class Sender:
    def __init__(self, smtp: SmtpConfig, sessions: sessionmaker[Session]) -> None:
        self.smtp = smtp
        self.sessions = sessions
        self._engine: Engine = sessions.kw["bind"]
        self._log = DeliveryLog.beside(self._engine)  # SQLite: records wait for no one there
        self.instance = instance_name()
        self._tls: ssl.SSLContext | None = None
        self._clients: dict[int, aiosmtplib.SMTP] = {}  # kept connections, by lane
        self._tokens: TokenSource | None = None
        self.alert_context: Context | None = None  # set by the app: where login alerts are queued
        self._last_used: dict[int, float] = {}
        self._released_at = -RELEASE_DEAD_CLAIMS_EVERY
        self._probed_at = -PROBE_EVERY
        self._unrecorded: list[tuple[OutboxMessage, dict[str, object]]] = []  # sent, mark failed
        self._broken_claims: set[str] = set()  # claim tokens of batches the database broke off

    async def drain(self) -> DrainReport:
        """Send every row that is due, batch after batch, until none is left."""
        report = DrainReport()
        if time.monotonic() - self._released_at > RELEASE_DEAD_CLAIMS_EVERY:
            self.release_dead_claims()
            self._released_at = time.monotonic()
        self._settle()
        while batch := self._claim():
            await self._send_batch(batch, report)
            self._fold()
        if await self._server_is_back():
            while batch := self._claim():
                await self._send_batch(batch, report)
                self._fold()
        if report.sent or report.deferred or report.failed:
            log.info("outbox drained %s", report)
        return report

    async def check(self) -> str:
        """Connect (and log in) to the SMTP server, for ``mailflow check``."""
        try:
            client = await self._connect()
        except _Transient as exc:
            raise RuntimeError(str(exc)) from exc
        await client.quit()
        login = f" as {self.smtp.username}" if self.smtp.username else ""
        return f"{self.smtp.host}:{self.smtp.port} ({self.smtp.security}){login}"

    def release_dead_claims(self) -> None:
        """Free rows claimed by processes of this host that no longer exist (killed, crashed)."""
        host = socket.gethostname()
        with self._outbox_transaction() as session:
            rows = session.execute(
                select(OutboxMessage.id, OutboxMessage.claimed_by).where(
                    OutboxMessage.status == "pending", OutboxMessage.claimed_by.like(f"{host}:%")
                )
            ).all()
            dead = [row.id for row in rows if not _process_alive(row.claimed_by)]
            if dead:
                session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_(dead))
                    .values(claimed_by="", claimed_until=None)
                )

    def _settle(self) -> None:
        """After the database failed in a batch: record the deliveries it did not record, then
        free the rest of the batch for the next claim instead of leaving it claimed for
        CLAIM_FOR (a row whose mail went out is not sent again)."""
        while self._unrecorded:
            row, values = self._unrecorded[0]
            self._finish(row, **values)
            self._unrecorded.pop(0)
            log.info("sent message_id=%s key=%s (recorded late)", row.message_id, row.dedupe_key)
        if self._broken_claims:
            with self._outbox_transaction() as session:
                session.execute(
                    update(OutboxMessage)
                    .where(
                        OutboxMessage.claimed_by.in_(self._broken_claims),
                        OutboxMessage.status == "pending",
                    )
                    .values(claimed_by="", claimed_until=None)
                )
            self._broken_claims.clear()

    @contextlib.contextmanager
    def _outbox_transaction(self) -> Iterator[Session]:
        """A transaction that first brings the delivery log's records into the outbox, so that
        nothing it claims or releases is a delivery already on record; the log forgets them
        once it has committed."""
        with self.sessions.begin() as session:
            folded = self._log.fold_into(session.connection()) if self._log else []
            yield session
        if self._log:
            self._log.forget(folded)

    def _fold(self) -> None:
        if self._log:
            with self._outbox_transaction():
                pass

    def _claim(self) -> list[OutboxMessage]:
        now = utcnow()
        token = f"{self.instance}:{uuid.uuid4().hex[:8]}"
        claimable = (
            OutboxMessage.status == "pending",
            or_(OutboxMessage.attempts == 0, OutboxMessage.next_attempt_at <= now),
            or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
        )
        with self._outbox_transaction() as session:
            ids = session.scalars(
                select(OutboxMessage.id)
                .where(*claimable)
                .order_by(OutboxMessage.id)
                .limit(BATCH_SIZE)
                .with_for_update(skip_locked=True)
            ).all()
            if not ids:
                return []
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids), *claimable)
                .values(claimed_by=token, claimed_until=now + CLAIM_FOR)
            )
        with self.sessions() as session:
            return list(
                session.scalars(
                    select(OutboxMessage)
                    .where(OutboxMessage.claimed_by == token)
                    .order_by(OutboxMessage.id)
                )
            )

    async def _server_is_back(self) -> bool:
        """After an outage, make the mail that waited for the server due as soon as it answers,
        instead of at each row's own backoff (which may be an hour away)."""
        if time.monotonic() - self._probed_at < PROBE_EVERY:
            return False
        now = utcnow()
        waiting = (
            OutboxMessage.status == "pending",
            OutboxMessage.last_error.like(f"{CONNECTION_PROBLEM}%"),
            OutboxMessage.next_attempt_at > now,
        )
        with self.sessions() as session:
            if session.scalar(select(OutboxMessage.id).where(*waiting).limit(1)) is None:
                return False
        self._probed_at = time.monotonic()
        try:
            await self._connection(0)
        except _Transient:
            return False
        with self.sessions.begin() as session:
            moved = session.execute(
                update(OutboxMessage).where(*waiting).values(next_attempt_at=now)
            ).rowcount
        log.info("the SMTP server answers again: %d waiting mail(s) are due now", moved)
        return True

    async def close(self) -> None:
        """Say QUIT on the kept connections."""
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            if client.is_connected:
                try:
                    await client.quit()
                except (aiosmtplib.SMTPException, OSError):
                    client.close()

    def _drop(self, lane: int) -> None:
        """Close ``lane``'s connection without a word (its state is unknown)."""
        client = self._clients.pop(lane, None)
        if client is not None:
            client.close()

    async def _connection(self, lane: int = 0) -> tuple[aiosmtplib.SMTP, bool]:
        """``lane``'s kept connection (reused within KEEP_CONNECTION), else a new one;
        (client, reused)."""
        client = self._clients.get(lane)
        stale = time.monotonic() - self._last_used.get(lane, 0.0) > KEEP_CONNECTION.total_seconds()
        if client is not None and (stale or not client.is_connected):
            del self._clients[lane]
            with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                await client.quit()
            client.close()
            client = None
        reused = client is not None
        if client is None:
            client = self._clients[lane] = await self._connect()
        self._last_used[lane] = time.monotonic()
        return client, reused

    async def _send_batch(self, rows: list[OutboxMessage], report: DrainReport) -> None:
        """Send ``rows`` over up to ``smtp.connections`` connections. Envelopes (MAIL, RCPT) go
        out side by side, but each row waits for its turn, in order, to send its DATA and record
        the outcome: at most one mail is ever accepted by the server and not yet on record (the
        RFC 1047 window), and mail reaches the server in the order it was queued."""
        turn = _Turns()
        unreachable: list[str] = []  # the server cannot be reached: the rest of the batch waits
        lanes = max(1, min(self.smtp.connections, len(rows)))

        async def lane(number: int) -> None:
            for position in range(number, len(rows), lanes):
                row = rows[position]
                outcome: Exception | None = None
                if unreachable:
                    outcome = _NoConnection(unreachable[0])
                else:
                    try:
                        await self._deliver(number, row, lambda at=position: turn.wait_for(at))
                    except (_Permanent, _Transient) as exc:
                        outcome = exc
                if outcome is not None:  # a delivered row holds its turn already: no await
                    await turn.wait_for(position)  # between its 250 and its record
                try:
                    self._record(row, outcome, report)
                    if isinstance(outcome, _NoConnection) and not unreachable:
                        unreachable.append(str(outcome))
                finally:
                    await turn.done(position)

        try:
            async with asyncio.TaskGroup() as group:
                for number in range(lanes):
                    group.create_task(lane(number))
        except BaseExceptionGroup as failure:  # the database failed: _settle frees the batch
            self._broken_claims.add(rows[0].claimed_by)
            for number in range(lanes):
                self._drop(number)  # a lane may have left an envelope open
            raise failure.exceptions[0] from None

    def _record(self, row: OutboxMessage, outcome: Exception | None, report: DrainReport) -> None:
        if outcome is None:
            self._mark_sent(row)
            report.sent += 1
        elif isinstance(outcome, _Permanent):
            self._mark_failed(row, str(outcome))
            report.failed += 1
        else:
            self._defer(row, str(outcome), report)

    async def _deliver(
        self, lane: int, row: OutboxMessage, my_turn: Callable[[], Awaitable[None]]
    ) -> None:
        """Send one row on ``lane``; a kept connection the server dropped meanwhile is replaced
        once. DATA waits for ``my_turn``."""
        for attempt in (1, 2):
            try:
                client, reused = await self._connection(lane)
            except _Transient as exc:
                raise _NoConnection(f"{CONNECTION_PROBLEM}{exc}") from exc
            try:
                await self._send_one(client, row, my_turn)
                return
            except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPConnectError, OSError) as exc:
                self._drop(lane)
                if not reused or attempt == 2:
                    raise _Transient(f"{CONNECTION_PROBLEM}{type(exc).__name__}: {exc}") from exc
            except aiosmtplib.SMTPException as exc:
                if not isinstance(exc, aiosmtplib.SMTPResponseException):
                    self._drop(lane)
                raise _Transient(f"{type(exc).__name__}: {exc}") from exc

    async def _connect(self) -> aiosmtplib.SMTP:
        smtp = self.smtp
        if smtp.security != "none" and self._tls is None:
            self._tls = ssl.create_default_context(cafile=smtp.ca_file or None)
        client = aiosmtplib.SMTP(
            hostname=smtp.host,
            port=smtp.port,
            use_tls=smtp.security == "ssl",
            start_tls=smtp.security == "starttls",
            tls_context=self._tls,
            timeout=smtp.timeout.delta.total_seconds(),
        )
        try:
            await client.connect()
            if smtp.auth == "xoauth2":
                await self._oauth_login(client)
            elif smtp.username:
                await client.login(smtp.username, smtp.password)
        except aiosmtplib.SMTPAuthenticationError as exc:
            self._alert_login_failure(f"{exc.code} {exc.message}")
            raise _Transient(f"SMTP login refused: {exc.code} {exc.message}") from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise _Transient(f"cannot connect to {smtp.host}:{smtp.port}: {exc}") from exc
        return client

    async def _oauth_login(self, client: aiosmtplib.SMTP) -> None:
        if self._tokens is None:
            self._tokens = TokenSource(
                command=self.smtp.oauth_token_command, file=self.smtp.oauth_token_file
            )
        try:
            token = await asyncio.to_thread(self._tokens.token)
            await client.auth_xoauth2(self.smtp.username, token)
        except aiosmtplib.SMTPAuthenticationError:  # expired early: fetch a new one, once
            token = await asyncio.to_thread(self._tokens.token, fresh=True)
            await client.auth_xoauth2(self.smtp.username, token)
        except TokenError as exc:
            raise _Transient(f"SMTP login: {exc}") from exc

    def _alert_login_failure(self, detail: str) -> None:
        """Queue one alert a day for the admin (it goes out once the login works again)."""
        if self.alert_context is None:
            return
        with self.sessions.begin() as session:
            alerts.login_failure(session, self.alert_context.at(utcnow()), "SMTP", detail)

    async def _send_one(
        self, client: aiosmtplib.SMTP, row: OutboxMessage, my_turn: Callable[[], Awaitable[None]]
    ) -> None:
        """MAIL and RCPT, then (in the row's turn) DATA: the steps of aiosmtplib's
        ``sendmail``, with that wait between them."""
        try:
            refused = await self._envelope(client, row)
            await my_turn()
            await client.data(row.raw)
        except (aiosmtplib.SMTPResponseException, aiosmtplib.SMTPRecipientsRefused) as exc:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                await client.rset()  # a clean envelope for the next mail
            if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
                codes = [r.code for r in exc.recipients]
                detail = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
                if all(code >= 500 for code in codes):
                    raise _Permanent(f"all recipients refused: {detail}") from exc
                raise _Transient(f"recipients refused: {detail}") from exc
            if exc.code >= 500:
                raise _Permanent(f"{exc.code} {exc.message}") from exc
            raise _Transient(f"{exc.code} {exc.message}") from exc
        failpoints.hit("sender.after_send")
        if refused:
            detail = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in refused)
            log.warning(
                "sent message_id=%s but some recipients were refused: %s", row.message_id, detail
            )
            row.last_error = f"partly refused: {detail}"

    @staticmethod
    async def _envelope(
        client: aiosmtplib.SMTP, row: OutboxMessage
    ) -> list[aiosmtplib.SMTPRecipientRefused]:
        """MAIL FROM and RCPT TO for ``row``; the recipients the server refused (all of them
        refused raise SMTPRecipientsRefused)."""
        if client.is_ehlo_or_helo_needed:
            try:
                await client.ehlo()
            except aiosmtplib.SMTPHeloError:
                await client.helo()
        options = [f"SIZE={len(row.raw)}"] if client.supports_extension("size") else []
        await client.mail(row.mail_from, options=options)
        refused: list[aiosmtplib.SMTPRecipientRefused] = []
        for recipient in row.envelope_recipients:
            try:
                await client.rcpt(recipient)
            except aiosmtplib.SMTPRecipientRefused as exc:
                refused.append(exc)
        if refused and len(refused) == len(row.envelope_recipients):
            raise aiosmtplib.SMTPRecipientsRefused(refused)
        return refused

    def _finish(self, row: OutboxMessage, **values: object) -> None:
        """Record one delivery attempt of ``row`` and release its claim: in the delivery log
        beside a SQLite database, else (PostgreSQL) with a cached Core UPDATE whose SET clause
        comes from the parameters given."""
        values = {"attempts": row.attempts + 1, "claimed_by": "", "claimed_until": None, **values}
        if self._log:
            self._log.record(row.id, values)
            return
        with self._engine.begin() as connection:
            connection.execute(FINISH, {"row_id": row.id, **values})

    def _mark_sent(self, row: OutboxMessage) -> None:
        values: dict[str, object] = {
            "status": "sent",
            "sent_at": utcnow(),
            "last_error": row.last_error,
        }
        try:
            self._finish(row, **values)
        except Exception:  # the database is down: _settle records it when it is back
            self._unrecorded.append((row, values))
            raise
        log.info(
            "sent message_id=%s key=%s to=%s",
            row.message_id,
            row.dedupe_key,
            row.envelope_recipients,
        )

    def _mark_failed(self, row: OutboxMessage, reason: str) -> None:
        self._finish(row, status="failed", failed_at=utcnow(), last_error=reason)
        log.error("failed message_id=%s key=%s: %s", row.message_id, row.dedupe_key, reason)

    def _defer(self, row: OutboxMessage, reason: str, report: DrainReport) -> None:
        now = utcnow()
        if now - row.created_at > GIVE_UP_AFTER:
            self._mark_failed(row, f"gave up after {row.attempts + 1} attempts; last: {reason}")
            report.failed += 1
            return
        delay = min(FIRST_RETRY * 2**row.attempts, LONGEST_RETRY)
        self._finish(row, next_attempt_at=now + delay, last_error=reason)
        report.deferred += 1
        log.warning(
            "deferred message_id=%s key=%s attempt=%d retry_in=%ds: %s",
            row.message_id, row.dedupe_key, row.attempts + 1, delay.total_seconds(), reason,
        )  # fmt: skip


class _Turns:
    """Rows take turns in batch order: row ``n`` may go once rows ``0..n-1`` are done."""

    def __init__(self) -> None:
        self._next = 0
        self._changed = asyncio.Condition()

    async def wait_for(self, position: int) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: self._next == position)

    async def done(self, position: int) -> None:
        async with self._changed:
            self._next = position + 1
            self._changed.notify_all()


def _process_alive(claimed_by: str) -> bool:
    try:
        pid = int(claimed_by.split(":")[1])
    except (IndexError, ValueError):
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
