"""The IMAP watcher: the only module that talks IMAP (and the only one importing imapclient).

It hands every waiting message of the watched folder to an :class:`Ingestor` (which records
it and commits) and only then moves it to the processed or failed folder. The loop follows
GitLab's mail_room: process everything waiting, IDLE, process again; reconnect with backoff
on any connection error and catch up right after. A server without IDLE is polled.
"""

from __future__ import annotations

import contextlib
import logging
import select
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import Any, Protocol

from imapclient import IMAPClient, SocketTimeout
from imapclient.exceptions import IMAPClientError

from mailflow.config import MailboxConfig
from mailflow.oauth import TokenSource

log = logging.getLogger("mailflow.mailbox")

CONNECT_TIMEOUT = 15.0
IDLE_CHECK = 0.5  # seconds per idle_check poll: how fast a stop request is noticed
BACKOFF_MAX = 10.0  # a server back from an outage is caught up with within this
FETCH_BATCH = 1000
BODY_BATCH = 25  # messages whose bodies one FETCH brings
BODY_BATCH_BYTES = 8 * 1024 * 1024


class MailboxError(Exception):
    """The mailbox cannot be used (connection, login, missing folder); the message says why."""


CONNECTION_ERRORS = (OSError, IMAPClientError)  # socket errors, timeouts, TLS, IMAP NO/BAD/abort


@dataclass(frozen=True)
class Delivery:
    uid: int
    uidvalidity: int
    size: int  # RFC822.SIZE
    raw: bytes | None  # the whole message; None when over max_message_size (not downloaded)
    header_block: bytes  # the header section (always fetched)
    mailbox_key: str  # "user@host:port/INBOX" – identifies the cursor


@dataclass
class _Waiting:
    """A message found in the folder, on its way to the ingestor."""

    uid: int
    uidvalidity: int
    size: int
    filed_as: str = ""  # "processed"/"failed" when its Message-ID was recorded before
    error: Exception | None = None  # already_filed raised (the database is down)
    needs_body: bool = False
    raw: bytes | None = None


class StopSignal(Protocol):
    """What ``run`` is told to stop by: a ``threading.Event`` or anything that acts like one."""

    def is_set(self) -> bool: ...

    def wait(self, timeout: float | None = None) -> bool: ...


class Ingestor(Protocol):
    def cursor(self, mailbox_key: str) -> tuple[int, int] | None: ...
    def reset_cursor(self, mailbox_key: str, uidvalidity: int) -> None: ...
    def already_filed(self, message_ids: list[str]) -> dict[str, str]: ...
    def ingest(self, delivery: Delivery) -> str: ...


class MailboxWatcher:
    """Watches ``config.folder``; see :meth:`run`, :meth:`run_once` and :meth:`check`."""

    def __init__(
        self, config: MailboxConfig, ingestor: Ingestor, *,
        on_state: Callable[[str], None] | None = None, read_timeout: float | None = None,
    ) -> None:  # fmt: skip
        # A silent (half-open) connection shows at the next IDLE renewal, when DONE goes unanswered.
        renew = config.idle_renew.delta.total_seconds()
        self._read_timeout = read_timeout or min(60.0, max(5.0, renew))
        self.config, self.ingestor = config, ingestor
        self.mailbox_key = f"{config.username}@{config.host}:{config.port}/{config.folder}"
        self._state = on_state or (lambda state: None)
        self._client: IMAPClient | None = None
        self._caps: frozenset[str] = frozenset()
        self._prefix, self._delimiter = "", "/"
        self._tokens: TokenSource | None = None
        self._stop = threading.Event()

    def connect(self, create_folders: bool = True) -> None:
        """Open, secure, log in, learn the folder layout, create missing target folders."""
        cfg = self.config
        context = ssl.create_default_context(cafile=cfg.ca_file or None)
        timeout = SocketTimeout(connect=CONNECT_TIMEOUT, read=self._read_timeout)
        client = IMAPClient(cfg.host, cfg.port, ssl=cfg.security == "ssl", ssl_context=context,
                            timeout=timeout)  # fmt: skip
        try:
            if cfg.security == "starttls":
                client.starttls(context)
            self._login(client)
            self._caps = frozenset(c.decode().upper() for c in client.capabilities())
            self._client = client
            self._prefix, self._delimiter = self._layout()
            for name in (cfg.processed_folder, cfg.failed_folder) if create_folders else ():
                self._ensure_folder(self.server_name(name))
        except BaseException:
            self._client = None
            _close(client)
            raise
        log.info("connected to %s:%d as %s (%s)", cfg.host, cfg.port, cfg.username, cfg.security)

    def _login(self, client: IMAPClient) -> None:
        """Password login, or XOAUTH2 with a token from the configured command or file."""
        if self.config.auth != "xoauth2":
            client.login(self.config.username, self.config.password)
            return
        if self._tokens is None:
            self._tokens = TokenSource(
                command=self.config.oauth_token_command, file=self.config.oauth_token_file
            )
        try:
            client.oauth2_login(self.config.username, self._tokens.token())
        except IMAPClientError:
            client.oauth2_login(
                self.config.username, self._tokens.token(fresh=True)
            )  # expired early

    def _layout(self) -> tuple[str, str]:
        """The personal namespace prefix and the hierarchy delimiter, as the server reports."""
        client = self._require()
        personal = client.namespace().personal if "NAMESPACE" in self._caps else None
        if personal:
            return personal[0][0], personal[0][1] or "/"
        listed = client.list_folders("", "")  # LIST "" "": the root and its delimiter
        delimiter = listed[0][1] if listed else None
        return "", delimiter.decode() if isinstance(delimiter, bytes) else (delimiter or "/")

    def server_name(self, name: str) -> str:
        """``mailflow/processed`` as this server spells it (its delimiter and prefix)."""
        if name.upper() == "INBOX" or (self._prefix and name.startswith(self._prefix)):
            return name
        return self._prefix + self._delimiter.join(p for p in name.split("/") if p)

    def _ensure_folder(self, name: str) -> None:
        """Create ``name`` and any missing parent (the namespace prefix exists already)."""
        client, parts = self._require(), name.split(self._delimiter)
        for path in (self._delimiter.join(parts[:depth]) for depth in range(1, len(parts) + 1)):
            if not client.folder_exists(path):
                client.create_folder(path)
                log.info("created folder %s", path)

    def _require(self) -> IMAPClient:
        if self._client is None:
            raise MailboxError("not connected")
        return self._client

    def _logout(self) -> None:
        client, self._client = self._client, None
        try:
            if client is not None:
                client.logout()
        except Exception:
            _close(client)  # gone already

    def process_waiting(self) -> int:
        """Ingest and file every undeleted message in the folder; returns how many were filed."""
        client = self._require()
        folder = self.server_name(self.config.folder)
        uidvalidity = int(client.select_folder(folder)[b"UIDVALIDITY"])
        self._check_uidvalidity(uidvalidity)
        uids = sorted(client.search(["UNDELETED"]))
        filed = 0
        for start in range(0, len(uids), FETCH_BATCH):  # one FETCH, unless thousands wait
            batch = uids[start : start + FETCH_BATCH]
            heads = client.fetch(batch, ["RFC822.SIZE", "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"])
            for chunk in self._chunks([uid for uid in batch if uid in heads], heads):
                waiting = self._waiting(chunk, uidvalidity, heads)
                self._fetch_bodies([w for w in waiting if w.needs_body])
                filed += self._handle_chunk(waiting)
                if self._stop.is_set():
                    return filed
        return filed

    def _chunks(self, uids: list[int], heads: dict[int, Any]) -> Iterator[list[int]]:
        """Runs of UIDs fetched, recorded and filed together (bounded in count and bytes)."""
        chunk: list[int] = []
        size = 0
        for uid in uids:
            message_size = int(heads[uid].get(b"RFC822.SIZE", 0))
            if chunk and (len(chunk) >= BODY_BATCH or size + message_size > BODY_BATCH_BYTES):
                yield chunk
                chunk, size = [], 0
            chunk.append(uid)
            size += message_size
        if chunk:
            yield chunk

    def _waiting(self, chunk: list[int], uidvalidity: int, heads: dict[int, Any]) -> list[_Waiting]:
        """The chunk's messages, with what the ingestor recorded of them before (one lookup)."""
        waiting = [
            _Waiting(uid, uidvalidity, int(heads[uid].get(b"RFC822.SIZE", 0))) for uid in chunk
        ]
        message_ids = {
            m.uid: _message_id(_section(heads[m.uid], b"BODY[HEADER.FIELDS") or b"")
            for m in waiting
        }
        try:
            filed = self.ingestor.already_filed([mid for mid in message_ids.values() if mid])
        except Exception as exc:  # the database is down: the whole chunk waits for the next pass
            filed = {}
            for message in waiting:
                message.error = exc
        for message in waiting:
            message.filed_as = filed.get(message_ids[message.uid], "")
            message.needs_body = (
                not message.filed_as
                and not message.error
                and message.size <= self.config.max_message_size
            )
        return waiting

    def _fetch_bodies(self, messages: list[_Waiting]) -> None:
        """``BODY.PEEK[]`` of several messages in one FETCH."""
        if not messages:
            return
        fetched = self._require().fetch([m.uid for m in messages], ["BODY.PEEK[]"])
        for message in messages:
            message.raw = fetched.get(message.uid, {}).get(b"BODY[]")

    def _check_uidvalidity(self, uidvalidity: int) -> None:
        """The cursor is only a UIDVALIDITY record here: dedupe is by Message-ID/content."""
        cursor = self.ingestor.cursor(self.mailbox_key)
        if cursor is None or cursor[0] != uidvalidity:
            if cursor is not None:
                log.warning("UIDVALIDITY of %s changed to %d", self.mailbox_key, uidvalidity)
            self.ingestor.reset_cursor(self.mailbox_key, uidvalidity)

    def _handle_chunk(self, waiting: list[_Waiting]) -> int:
        """Record each message (one commit each), then file the recorded ones: one MOVE per
        folder for the chunk. A crash before the MOVE leaves recorded messages in the folder;
        the next pass finds them recorded and only files them."""
        verdicts: dict[str, list[int]] = {}
        for message in waiting:
            if self._stop.is_set():
                break
            if verdict := self._verdict(message):
                verdicts.setdefault(verdict, []).append(message.uid)
        return sum(self._file(uids, verdict) for verdict, uids in verdicts.items())

    def _verdict(self, message: _Waiting) -> str:
        """Where the message goes (``processed``/``failed``); ``""`` to leave it in place."""
        if message.error:
            return self._left(message.uid, message.error)
        if message.filed_as:
            log.info("uid %d was already %s: filing it again", message.uid, message.filed_as)
            return message.filed_as
        delivery = self._delivery(message)
        if delivery is None:
            return ""
        try:
            return self.ingestor.ingest(delivery)
        except Exception as exc:
            return self._left(message.uid, exc)

    def _left(self, uid: int, exc: Exception) -> str:
        """The ingestor raised (say the database is down): leave ``uid`` for the next pass."""
        debug = log.isEnabledFor(logging.DEBUG)  # the traceback only then: one line per event
        log.error("uid %d: ingestor raised %s; left in place", uid, _describe(exc), exc_info=debug)
        return ""

    def _delivery(self, message: _Waiting) -> Delivery | None:
        """The message as fetched with its chunk; only the header section when oversized."""
        uid, uidvalidity, size = message.uid, message.uidvalidity, message.size
        if message.raw is not None:
            return Delivery(
                uid, uidvalidity, size, message.raw, _header_block(message.raw), self.mailbox_key
            )
        oversized = size > self.config.max_message_size
        if oversized:
            log.warning("uid %d is %d bytes, over max_message_size: headers only", uid, size)
        items = ["BODY.PEEK[HEADER]"] if oversized else ["BODY.PEEK[]"]
        data = self._require().fetch([uid], items).get(uid)
        if data is None:  # expunged by someone else meanwhile
            return None
        raw = None if oversized else data.get(b"BODY[]")
        header = _section(data, b"BODY[HEADER") or (_header_block(raw) if raw else b"")
        return Delivery(uid, uidvalidity, size, raw, header, self.mailbox_key)

    def _file(self, uids: list[int], verdict: str) -> int:
        """Move ``uids`` to the folder for ``verdict``: MOVE, else COPY + \\Deleted (+ EXPUNGE)."""
        folders = {"processed": self.config.processed_folder, "failed": self.config.failed_folder}
        if verdict not in folders:
            log.error("uids %s: ingest returned %r, not processed/failed; left", uids, verdict)
            return 0
        client, target = self._require(), self.server_name(folders[verdict])
        if "MOVE" in self._caps:
            client.move(uids, target)
        else:
            client.copy(uids, target)
            client.add_flags(uids, [b"\\Deleted"], silent=True)
            if "UIDPLUS" in self._caps:
                client.uid_expunge(uids)
        log.info("uid %s %s -> %s", ",".join(map(str, uids)), verdict, target)
        return len(uids)

    def run_once(self) -> int:
        """Connect, process everything waiting, log out (``mailflow run --once``)."""
        with self._session():
            return self.process_waiting()

    def check(self) -> str:
        """Connect, log in, look at the folder, log out; a one-line report or MailboxError."""
        with self._session(create_folders=False) as client:  # STATUS says NO if it is missing
            folder = self.server_name(self.config.folder)
            count = client.folder_status(folder, [b"MESSAGES"])[b"MESSAGES"]
        caps = ", ".join(c for c in ("IDLE", "MOVE", "UIDPLUS") if c in self._caps) or "no IDLE"
        return f"IMAP {self.mailbox_key} ({self.config.security}): ok, {count} message(s); {caps}"

    @contextlib.contextmanager
    def _session(self, create_folders: bool = True) -> Iterator[IMAPClient]:
        """Connected and logged in for the ``with`` body; IMAP errors become MailboxError."""
        try:
            self.connect(create_folders)
            try:
                yield self._require()
            finally:
                self._logout()
        except CONNECTION_ERRORS as exc:
            raise MailboxError(f"IMAP {self.mailbox_key}: {_describe(exc)}") from exc

    def run(self, stop: StopSignal) -> None:
        """Watch until ``stop`` is set; reconnects with backoff (1 s doubling to 30 s)."""
        self._stop = stop
        backoff = 1.0
        while not stop.is_set():
            try:
                self.connect()
                self._state("connected")
                self.process_waiting()
                backoff = 1.0  # a good connection: it got through a whole pass
                self._watch(stop)
            except Exception as exc:  # the daemon must survive anything: log, back off, retry
                _close(self._client)
                self._client = None
                log.warning(
                    "mailbox %s: %s; reconnecting in %.0f s", self.mailbox_key, _describe(exc),
                    backoff, exc_info=not isinstance(exc, CONNECTION_ERRORS),
                )  # fmt: skip
                self._state(f"disconnected: {_describe(exc)}")
                stop.wait(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX)
        self._logout()
        self._state("disconnected: stopped")

    def _watch(self, stop: threading.Event) -> None:
        while not stop.is_set():
            if "IDLE" in self._caps:
                self._idle(stop)
            else:
                stop.wait(self.config.poll_interval.delta.total_seconds())
            if not stop.is_set():
                self.process_waiting()

    def _idle(self, stop: threading.Event) -> None:
        """IDLE until new mail, ``stop`` or ``idle_renew``; a dead socket raises."""
        client = self._require()
        client.idle()
        self._state("idle")
        deadline = time.monotonic() + self.config.idle_renew.delta.total_seconds()
        while not stop.is_set() and time.monotonic() < deadline:
            responses = client.idle_check(timeout=IDLE_CHECK)
            if any(r[:1] == (b"BYE",) for r in responses):
                raise IMAPClient.AbortError("server said BYE")
            if any(len(r) > 1 and r[1] == b"EXISTS" for r in responses):
                break
            if not responses and _readable(client.socket()):
                break  # EOF pending: idle_done below raises
        client.idle_done()  # a dead or silent server raises here (EOF or read timeout)


def _header_block(raw: bytes) -> bytes:
    """The header section of a raw message (up to and including the blank line)."""
    ends = [(end, len(sep)) for sep in (b"\r\n\r\n", b"\n\n") if (end := raw.find(sep)) >= 0]
    if not ends:
        return raw
    end, length = min(ends)
    return raw[: end + length]


def _section(data: dict[bytes, Any], prefix: bytes) -> bytes | None:
    """The FETCH item whose name starts with ``prefix`` (servers vary in how they echo it)."""
    found = [v for k, v in data.items() if isinstance(k, bytes) and k.upper().startswith(prefix)]
    return bytes(found[0] or b"") if found else None


def _message_id(header_block: bytes) -> str:
    """The Message-ID as written (``<id@host>``), unfolded; ``""`` when missing."""
    value = BytesHeaderParser(policy=compat32).parsebytes(header_block).get("Message-ID")
    return " ".join(str(value).split()) if value else ""


def _readable(sock: Any) -> bool:
    """Data (or EOF) waiting although idle_check read nothing: the server hung up."""
    with contextlib.suppress(OSError, ValueError):
        return bool(select.select([sock], [], [], 0)[0])
    return True


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc).strip() or 'no detail'}"


def _close(client: IMAPClient | None) -> None:
    with contextlib.suppress(Exception):
        if client is not None:
            client.shutdown()
