"""The demo's mail servers, on 127.0.0.1 only: an SMTP server and an IMAP server.

* :class:`DemoSmtp` (aiosmtpd, on the running asyncio loop) accepts mail for the demo domain
  from anyone connecting to it (AUTH is offered and checked, never required: it listens on
  127.0.0.1 alone) and hands each message to the mail store, one copy per mailbox, with a
  ``Return-Path``. ``user+tag@demo.example`` goes to ``user``'s mailbox. Mail for other domains
  or for addresses without a mailbox is refused at RCPT with ``550``: nothing is relayed.
* :class:`PymapStore` (the default) serves the mailboxes with pymap, in this process, from
  Maildirs under the data directory; delivery appends through pymap's own backend, so an IDLE
  client hears of the new mail within pymap's one-second IDLE check.
* :class:`DovecotStore` (``--dovecot``) runs the system's Dovecot as an ordinary process with a
  throw-away configuration and delivers by IMAP APPEND as the recipient.

Every delivered message is recorded in the :class:`Journal`, which the console prints and the
scenario reads (what each person's mail client would show).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import email
import email.policy
import errno
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol

from mailflow.demo import directory

HOST = "127.0.0.1"


class DemoError(Exception):
    """The demo cannot start or go on; the message says why (one line)."""


# ---------------------------------------------------------------- ports


def port_is_free(port: int) -> bool:
    """Whether a server could listen on ``port`` now (connections in TIME_WAIT don't count)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def pick_port(wanted: int) -> tuple[int, str]:
    """``wanted`` if nobody listens there, else a free port; (port, a note when it changed)."""
    if wanted == 0:
        return free_port(), ""
    if port_is_free(wanted):
        return wanted, ""
    port = free_port()
    return port, f"port {wanted} is taken, using {port}"


# ---------------------------------------------------------------- the journal


@dataclass
class Delivered:
    """One message the SMTP server accepted, as the recipients' mailboxes got it."""

    at: dt.datetime  # when it was accepted (aware, UTC)
    mail_from: str
    mailboxes: list[str]  # the mailboxes it was stored in (archive BCC included)
    raw: bytes
    message: EmailMessage = field(init=False)

    def __post_init__(self) -> None:
        self.message = email.message_from_bytes(self.raw, policy=email.policy.default)  # type: ignore[assignment]

    @property
    def kind(self) -> str:
        """mailflow's ``X-Mailflow-Kind`` (``request_ack`` …); "" for a person's mail."""
        return str(self.message.get("X-Mailflow-Kind", ""))

    @property
    def case(self) -> str:
        return str(self.message.get("X-Mailflow-Case", ""))

    @property
    def message_id(self) -> str:
        return str(self.message.get("Message-ID", "")).strip()


class Journal:
    """Every message delivered since the demo started, in order; ``on_delivery`` is told too."""

    def __init__(self, on_delivery: Callable[[Delivered], None] | None = None) -> None:
        self.entries: list[Delivered] = []
        self.on_delivery = on_delivery

    def add(self, entry: Delivered) -> None:
        self.entries.append(entry)
        if self.on_delivery is not None:
            self.on_delivery(entry)

    def received_by(self, mailbox: str) -> list[Delivered]:
        return [e for e in self.entries if mailbox in e.mailboxes]


# ---------------------------------------------------------------- mail stores


class MailStore(Protocol):
    """An IMAP server holding the demo's mailboxes."""

    label: str  # "pymap 0.36.7" / "Dovecot 2.3.21"
    port: int

    async def start(self) -> None: ...
    async def deliver(self, mailbox: str, raw: bytes) -> None: ...
    async def stop(self) -> None: ...


class PymapStore:
    """pymap's Maildir backend and IMAP service, in this process, on this asyncio loop.

    Users and their passwords (clear text: they are printed anyway) live in pymap's own
    ``pymap-etc-passwd`` / ``pymap-etc-shadow`` files under ``folder``, one Maildir per user;
    TLS is off (LOGIN without STARTTLS), as on any server that listens on 127.0.0.1 only.
    """

    def __init__(self, folder: Path, port: int, password: str = directory.PASSWORD) -> None:
        self.folder, self.port, self.password = folder, port, password
        self.label = "pymap"
        self._server: asyncio.Server | None = None
        self._config: Any = None
        self._login: Any = None

    async def start(self) -> None:
        from argparse import Namespace

        from proxyprotocol.reader import ProxyProtocolReader
        from pymap.__about__ import __version__
        from pymap.backend.maildir import Config, Identity, Login
        from pymap.imap import IMAPServer
        from pymap.user import UserMetadata
        from pysasl.hashing import Cleartext

        self.label = f"pymap {__version__}"
        self.folder.mkdir(parents=True, exist_ok=True)
        args = Namespace(proxy_protocol=None, inherited_sockets=None, passlib_cfg=None)
        self._config = config = Config(
            args, host=HOST, port=self.port, base_dir=str(self.folder), layout="++", colon=None,
            hash_context=Cleartext(), tls_enabled=False, reject_dnsbl=False,
            invalid_user_sleep=0.5, bad_command_limit=None,
        )  # fmt: skip
        config.apply_context()
        self._login = login = Login(config)
        for address in directory.mailboxes():
            admin = Identity(config, login.tokens, address, None, {"admin"})
            metadata = UserMetadata(
                config, address, password=self.password, params={"mailbox_path": address}
            )
            await admin.set(metadata)
        imap = IMAPServer(login, config)

        async def serve(reader: Any, writer: Any, sock_info: Any) -> None:
            await imap(reader, _WholeResponses(writer), sock_info)

        callback = ProxyProtocolReader(config.proxy_protocol).get_callback(serve)
        try:
            self._server = await asyncio.start_server(callback, HOST, self.port)
        except OSError as exc:
            raise DemoError(f"IMAP: cannot listen on {HOST}:{self.port}: {exc.strerror}") from exc
        self.port = self._server.sockets[0].getsockname()[1]

    async def deliver(self, mailbox: str, raw: bytes) -> None:
        from pymap.backend.maildir import Identity
        from pymap.parsing.message import AppendMessage

        identity = Identity(self._config, self._login.tokens, mailbox, None, {"admin"})
        async with identity.new_session() as session:
            await session.append_messages(
                "INBOX", [AppendMessage(raw, when=dt.datetime.now().astimezone())]
            )

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None


class _WholeResponses:
    """A StreamWriter that sends what pymap writes between two drains as one write.

    pymap writes a response in pieces (``* 1 FETCH (`` … ``)\r\n``) and drains after each; on
    loopback the pieces leave as separate segments. imapclient's ``idle_check`` reads without
    blocking, so it could get half a line and abort the connection ("unterminated line");
    whole responses never leave a line half-sent.
    """

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        self._pending.append(bytes(data))

    def writelines(self, lines: Any) -> None:
        for data in lines:
            self.write(data)

    async def drain(self) -> None:
        self._flush()
        await self._writer.drain()

    def close(self) -> None:
        self._flush()
        self._writer.close()

    def _flush(self) -> None:
        if self._pending and not self._writer.is_closing():
            self._writer.write(b"".join(self._pending))
        self._pending.clear()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._writer, name)


class DovecotStore:
    """The system's Dovecot as an ordinary child process (``--dovecot``).

    Its configuration, sockets and log go to a scratch folder; the Maildirs to
    ``folder/<address>``; a ``passwd-file`` holds every demo mailbox with the demo password.
    Run as root, Dovecot keeps the mail as ``nobody`` (it refuses uid 0), so the data folder is
    made passable for others (``o+x``) and its parents must be already. Delivery is an IMAP APPEND as the recipient.
    """

    def __init__(
        self, folder: Path, port: int, binary: str, password: str = directory.PASSWORD
    ) -> None:
        self.folder, self.port, self.binary, self.password = folder, port, binary, password
        self.label = "Dovecot"
        self.root = Path(tempfile.mkdtemp(prefix="mailflow-demo-dovecot-"))
        self._process: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        version = subprocess.run(
            [self.binary, "--version"], capture_output=True, text=True, check=False
        )
        self.label = f"Dovecot {version.stdout.split()[0] if version.stdout else ''}".strip()
        await asyncio.to_thread(self._start)

    def _start(self) -> None:
        user, uid, gid = dovecot_mail_user()
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            os.chown(self.folder, uid, gid)
            data = self.folder.parent  # the demo's own folder: let the mail user pass through
            data.chmod(data.stat().st_mode | 0o001)
            _require_traversable(self.folder)
        for sub in ("run", "state"):
            (self.root / sub).mkdir()
        self.root.chmod(0o755)
        users = self.root / "users"
        users.write_text(
            "".join(f"{address}:{{PLAIN}}{self.password}\n" for address in directory.mailboxes())
        )
        users.chmod(0o644)
        internal = "dovecot" if os.geteuid() == 0 else user
        login = "dovenull" if os.geteuid() == 0 else user
        config = self.root / "dovecot.conf"
        config.write_text(f"""\
protocols = imap
listen = {HOST}
base_dir = {self.root}/run
state_dir = {self.root}/state
instance_name = {self.root.name}
log_path = {self.root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 0
first_valid_gid = 0
default_login_user = {login}
default_internal_user = {internal}
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {users}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={self.folder}/%u
}}
service imap-login {{
  inet_listener imap {{
    address = {HOST}
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
protocol imap {{
  mail_max_userip_connections = 100
}}
""")
        with (self.root / "stdout.log").open("ab") as out:
            self._process = subprocess.Popen(
                [self.binary, "-F", "-c", str(config)], stdin=subprocess.DEVNULL,
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + 15
        while not _accepts(HOST, self.port):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self._stop()
                raise DemoError(f"Dovecot did not start: {self._log_tail()}")
            time.sleep(0.05)

    async def deliver(self, mailbox: str, raw: bytes) -> None:
        await asyncio.to_thread(self._append, mailbox, raw)

    def _append(self, mailbox: str, raw: bytes) -> None:
        from imapclient import IMAPClient

        client = IMAPClient(HOST, self.port, ssl=False, timeout=10)
        try:
            client.login(mailbox, self.password)
            client.append("INBOX", raw)
        finally:
            with contextlib.suppress(Exception):
                client.logout()

    async def stop(self) -> None:
        await asyncio.to_thread(self._stop)

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(3)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)
        shutil.rmtree(self.root, ignore_errors=True)

    def _log_tail(self) -> str:
        text = ""
        for name in ("stdout.log", "dovecot.log"):
            path = self.root / name
            if path.exists():
                text += path.read_text(errors="replace")
        return " | ".join(text.strip().splitlines()[-3:]) or "no log"


def find_dovecot() -> str | None:
    return shutil.which("dovecot") or (
        "/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None
    )


def dovecot_mail_user() -> tuple[str, int, int]:
    """Dovecot refuses uid 0 for mail access, so as root the mail belongs to ``nobody``."""
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid())
        return me.pw_name, me.pw_uid, me.pw_gid
    nobody = pwd.getpwnam("nobody")
    return "nobody", nobody.pw_uid, nobody.pw_gid


def _require_traversable(folder: Path) -> None:
    for parent in folder.resolve().parents:
        if not parent.stat().st_mode & 0o001:
            raise DemoError(
                f"Dovecot keeps mail as 'nobody', who cannot enter {parent}: "
                "use --data with a folder under /tmp, or run without --dovecot"
            )


def _accepts(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.2):
        return True
    return False


# ---------------------------------------------------------------- SMTP


class _Handler:
    """aiosmtpd hooks: check each recipient, store each message, tell the journal."""

    def __init__(self, store: MailStore, journal: Journal) -> None:
        self.store, self.journal = store, journal

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if directory.owner_of(address) is None:
            return (
                f"550 5.1.1 <{address}>: no such mailbox here "
                f"(the demo delivers to @{directory.DOMAIN} mailboxes only)"
            )
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        content = bytes(envelope.original_content or envelope.content)
        raw = f"Return-Path: <{envelope.mail_from}>\r\n".encode() + content
        owners = list(dict.fromkeys(directory.owner_of(a) or "" for a in envelope.rcpt_tos))
        try:
            for owner in owners:
                await self.store.deliver(owner, raw)
        except Exception as exc:  # the store failed: the client retries later
            return f"451 4.3.0 could not store the message: {type(exc).__name__}"
        self.journal.add(Delivered(dt.datetime.now(dt.UTC), envelope.mail_from, owners, content))
        return "250 2.0.0 delivered"


class _Authenticator:
    """AUTH PLAIN/LOGIN with a demo mailbox and the demo password (optional for clients)."""

    def __init__(self, password: str) -> None:
        self.password = password

    def __call__(self, server, session, envelope, mechanism, auth_data) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        ok = (
            isinstance(auth_data, LoginPassword)
            and directory.owner_of(auth_data.login.decode(errors="replace")) is not None
            and auth_data.password.decode(errors="replace") == self.password
        )
        return AuthResult(success=ok)


class DemoSmtp:
    """aiosmtpd on the running loop: plain SMTP on 127.0.0.1, SMTPUTF8, optional AUTH."""

    def __init__(
        self, store: MailStore, journal: Journal, port: int, password: str = directory.PASSWORD
    ) -> None:
        self.store, self.journal, self.port, self.password = store, journal, port, password
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        from aiosmtpd.smtp import SMTP

        handler = _Handler(self.store, self.journal)
        loop = asyncio.get_running_loop()

        def protocol() -> SMTP:
            return SMTP(
                handler, hostname=f"mail.{directory.DOMAIN}", ident="mailflow demo SMTP",
                enable_SMTPUTF8=True, decode_data=False, auth_required=False,
                auth_require_tls=False, authenticator=_Authenticator(self.password), loop=loop,
            )  # fmt: skip

        try:
            self._server = await loop.create_server(protocol, HOST, self.port)
        except OSError as exc:
            reason = "in use" if exc.errno == errno.EADDRINUSE else exc.strerror
            raise DemoError(f"SMTP: cannot listen on {HOST}:{self.port}: {reason}") from exc
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
