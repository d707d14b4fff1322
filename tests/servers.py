"""Real servers for the integration tests: Dovecot (IMAP), aiosmtpd (SMTP) and PostgreSQL.

Nothing here is a mock. :class:`DovecotServer` runs the system's Dovecot as an ordinary process
with a throw-away configuration; :class:`SmtpPeer` is an aiosmtpd ``Controller`` that records
what it accepts and can be told to answer 4xx/5xx; :func:`postgres_database` creates and drops a
scratch database. ``conftest.py`` wraps them in fixtures.

Dovecot listens on three loopback addresses, each a different kind of server (one config, one
process, ``local`` filters):

* ``127.0.0.1`` -- the full server: IDLE, MOVE, UIDPLUS, hierarchy delimiter ``.``; plus an
  implicit-TLS listener on ``ssl_port``; STARTTLS on the plain port;
* ``127.0.0.2`` -- "nomove": advertises no MOVE (UIDPLUS yes), delimiter ``.``;
* ``127.0.0.3`` -- "basic": no IDLE, MOVE, UIDPLUS or NAMESPACE, delimiter ``/``
  (``LAYOUT=fs``), like a plain RFC 3501 server.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import email
import email.message
import email.policy
import os
import pwd
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from imapclient import IMAPClient

from mailflow.demo.servers import dovecot_mail_user

PROFILES = {"full": "127.0.0.1", "nomove": "127.0.0.2", "basic": "127.0.0.3"}
PASSWORD = "secret"
_BASIC_CAPS = "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE LITERAL+"  # no NAMESPACE either


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def wait_for_port(host: str, port: int, timeout: float = 10.0) -> bool:
    """True once ``host:port`` accepts a connection, False after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return True
        time.sleep(0.05)
    return False


# ---------------------------------------------------------------- TLS


@dataclass(frozen=True)
class TestCA:
    """A throw-away CA and a server certificate for 127.0.0.1 / localhost (made with openssl)."""

    __test__ = False  # not a test class

    ca_file: Path
    cert_file: Path
    key_file: Path

    @classmethod
    def create(cls, directory: Path) -> TestCA:
        directory.mkdir(parents=True, exist_ok=True)
        ca_key, ca_file = directory / "ca.key", directory / "ca.pem"
        key, csr, cert = (
            directory / "server.key",
            directory / "server.csr",
            directory / "server.pem",
        )
        ext = directory / "server.ext"
        ext.write_text(
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
            "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
        )
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                 "-keyout", ca_key, "-out", ca_file, "-subj", "/CN=mailflow test CA")  # fmt: skip
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
                 "-subj", "/CN=localhost")  # fmt: skip
        _openssl("x509", "-req", "-in", csr, "-CA", ca_file, "-CAkey", ca_key, "-CAcreateserial",
                 "-days", "2", "-out", cert, "-extfile", ext)  # fmt: skip
        return cls(ca_file=ca_file, cert_file=cert, key_file=key)

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))


def _openssl(*args: object) -> None:
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True, timeout=60)


# ---------------------------------------------------------------- Dovecot


class DovecotServer:
    """Dovecot run from a private directory; ``stop()``/``start()`` keep the same ports."""

    def __init__(self, root: Path, ca: TestCA, binary: str = "dovecot") -> None:
        self.root, self.ca = root, ca
        self.binary = binary
        self.host = PROFILES["full"]
        self.port = free_port()
        self.ssl_port = free_port()
        self.log_file = root / "log" / "dovecot.log"
        self.stdout_file = root / "log" / "stdout.log"
        self.config_file = root / "dovecot.conf"
        self._process: subprocess.Popen[bytes] | None = None
        self._write_config()

    @property
    def ca_file(self) -> str:
        return str(self.ca.ca_file)

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _write_config(self) -> None:
        for sub in ("run", "state", "log", "home"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        user, uid, gid = dovecot_mail_user()
        os.chown(self.root / "home", uid, gid)
        self.root.chmod(0o755)  # the mail user must reach home/
        internal = "dovecot" if os.geteuid() == 0 else user
        login = "dovenull" if os.geteuid() == 0 else user
        addresses = ", ".join(PROFILES.values())
        dh = Path("/usr/share/dovecot/dh.pem")
        self.config_file.write_text(f"""\
protocols = imap
listen = {addresses}
base_dir = {self.root}/run
state_dir = {self.root}/state
instance_name = {self.root.name}
log_path = {self.log_file}
info_log_path = {self.log_file}
ssl = yes
ssl_cert = <{self.ca.cert_file}
ssl_key = <{self.ca.key_file}
{f"ssl_dh = <{dh}" if dh.exists() else ""}
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2 oauthbearer
auth_failure_delay = 0
first_valid_uid = 0
first_valid_gid = 0
default_login_user = {login}
default_internal_user = {internal}
mail_location = maildir:~/Maildir
passdb {{
  driver = static
  args = password={PASSWORD}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={self.root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = {addresses}
    port = {self.port}
  }}
  inet_listener imaps {{
    address = {self.host}
    port = {self.ssl_port}
    ssl = yes
  }}
}}
protocol imap {{
  mail_max_userip_connections = 200
}}
local {PROFILES["nomove"]} {{
  protocol imap {{
    imap_capability = {_BASIC_CAPS} NAMESPACE CHILDREN UNSELECT IDLE UIDPLUS
  }}
}}
local {PROFILES["basic"]} {{
  mail_location = maildir:~/Maildir-fs:LAYOUT=fs
  protocol imap {{
    imap_capability = {_BASIC_CAPS}
  }}
}}
""")

    def start(self, timeout: float = 15.0) -> None:
        """Start Dovecot in the foreground (``-F``) and wait until both ports accept."""
        if self.running:
            return
        with self.stdout_file.open("ab") as out:
            self._process = subprocess.Popen(
                [self.binary, "-F", "-c", str(self.config_file)],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        for host, port in ((self.host, self.port), (self.host, self.ssl_port)):
            while not wait_for_port(host, port, 0.2):
                if not self.running or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"Dovecot did not start:\n{self.log_tail()}")

    def stop(self, *, crash: bool = False) -> None:
        """Stop Dovecot and every process it started; the ports close at once.

        Open IMAP sessions get ``* BYE`` (SIGTERM to the whole process group: the master alone
        leaves sessions running). ``crash=True`` sends SIGKILL: connections drop without a word.
        Dovecot's master can take seconds to wind down, so after a second it is killed.
        """
        process, self._process = self._process, None
        if process is None:
            return
        _signal_group(process.pid, signal.SIGKILL if crash else signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(1.0)
        _signal_group(process.pid, signal.SIGKILL)
        process.wait(5.0)
        deadline = time.monotonic() + 5.0  # until no child holds a listening socket any more
        while _live_members(process.pid) and time.monotonic() < deadline:
            time.sleep(0.02)

    def log_tail(self, lines: int = 30) -> str:
        text = ""
        for path in (self.stdout_file, self.log_file):
            if path.exists():
                text += "".join(path.read_text(errors="replace").splitlines(True)[-lines:])
        return text

    def account(self, username: str | None = None) -> ImapAccount:
        """A fresh user (the static passdb accepts any name with the password ``secret``)."""
        name = username or f"u{secrets.token_hex(5)}@test.example"
        return ImapAccount(self.host, self.port, name, PASSWORD, self.ssl_port, self.ca_file)


def _signal_group(pgid: int, sig: int) -> bool:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _live_members(pgid: int) -> bool:
    """Whether a process of group ``pgid`` still runs (zombies don't count; Linux /proc)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rpartition(")")[2].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                return True
    return False


@dataclass(frozen=True)
class ImapAccount:
    """One Dovecot user, with small imapclient helpers for setting up and inspecting mail."""

    host: str
    port: int
    username: str
    password: str
    ssl_port: int
    ca_file: str

    def on(self, profile: str) -> ImapAccount:
        """The same user on another kind of server: ``"full"``, ``"nomove"`` or ``"basic"``.

        ``basic`` keeps its own mail store (``/`` delimiter), so mail appended there is only
        visible there.
        """
        return dataclasses.replace(self, host=PROFILES[profile])

    def mailbox_config(self, **overrides: Any) -> Any:
        """A ``mailflow.config.MailboxConfig`` for this account (plain IMAP unless overridden)."""
        from mailflow.config import MailboxConfig

        values: dict[str, Any] = dict(
            host=self.host, port=self.port, security="none", username=self.username,
            password=self.password, ca_file=self.ca_file,
        )  # fmt: skip
        if overrides.get("security") == "ssl":
            values["port"] = self.ssl_port
        values.update(overrides)
        return MailboxConfig(**values)

    @contextlib.contextmanager
    def client(self) -> Iterator[IMAPClient]:
        client = IMAPClient(self.host, self.port, ssl=False, timeout=10)
        try:
            client.login(self.username, self.password)
            yield client
        finally:
            with contextlib.suppress(Exception):
                client.logout()

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        with self.client() as client:
            client.append(folder, raw)

    def fetch_all(self, folder: str = "INBOX") -> list[bytes]:
        """Every message in ``folder`` (deleted-flagged ones too), oldest first."""
        with self.client() as client:
            client.select_folder(folder, readonly=True)
            uids = sorted(client.search("ALL"))
            data = client.fetch(uids, ["BODY.PEEK[]"]) if uids else {}
            return [data[uid][b"BODY[]"] for uid in uids]

    def folders(self) -> list[str]:
        with self.client() as client:
            return [name for _flags, _delim, name in client.list_folders()]

    def count(self, folder: str = "INBOX", *, undeleted: bool = False) -> int:
        """Messages in ``folder``; with ``undeleted`` those not flagged ``\\Deleted``."""
        with self.client() as client:
            if not undeleted:
                return int(client.folder_status(folder, [b"MESSAGES"])[b"MESSAGES"])
            client.select_folder(folder, readonly=True)
            return len(client.search("UNDELETED"))

    def create_folder(self, folder: str) -> None:
        with self.client() as client:
            client.create_folder(folder)

    def delete_folder(self, folder: str) -> None:
        with self.client() as client:
            client.delete_folder(folder)


def make_message(subject: str = "test", *, message_id: str | None = None, body: str = "hello",
                 size: int = 0) -> bytes:  # fmt: skip
    """A small RFC 5322 message as CRLF bytes; ``size`` pads the body to about that many octets."""
    message_id = message_id or f"<{secrets.token_hex(8)}@test.example>"
    head = (
        f"From: sender@example.com\r\nTo: coordination@example.com\r\nSubject: {subject}\r\n"
        f"Message-ID: {message_id}\r\nDate: Mon, 07 Dec 2026 10:00:00 +0800\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    )
    text = body + "\r\n"
    while len(head) + len(text) < size:
        text += "x" * 76 + "\r\n"
    return (head + text).encode()


# ---------------------------------------------------------------- SMTP


@dataclass
class ReceivedMessage:
    """What the peer saw for one DATA: envelope and the raw content bytes."""

    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    mail_options: list[str] = field(default_factory=list)
    reply: str = "250 OK"
    received_at: float = field(default_factory=time.monotonic)  # when DATA was answered

    def message(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.content, policy=email.policy.default)  # type: ignore[return-value]


class _XOAuth2:
    """Mixin for the peer's handler: AUTH XOAUTH2, accepting the tokens the test allows."""

    peer: SmtpPeer

    async def auth_XOAUTH2(self, server: Any, args: list[str]) -> Any:
        from aiosmtpd.smtp import MISSING, AuthResult

        blob = args[1] if len(args) > 1 else await server.challenge_auth("")
        if blob is MISSING:
            return AuthResult(success=False)
        raw = base64.b64decode(blob if isinstance(blob, str | bytes) else b"")
        fields = dict(part.split("=", 1) for part in raw.decode().split("\x01") if "=" in part)
        user, token = fields.get("user", ""), fields.get("auth", "").removeprefix("Bearer ")
        self.peer.oauth_logins.append((user, token))
        return AuthResult(success=token in self.peer.tokens, auth_data=user)


class _Handler(_XOAuth2):
    def __init__(self, peer: SmtpPeer) -> None:
        self.peer = peer

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        reply = self.peer._reply_for("RCPT", address)
        if reply is None:
            envelope.rcpt_tos.append(address)
            return "250 OK"
        return reply

    async def handle_DATA(self, server, session, envelope) -> str:
        reply = self.peer._reply_for("DATA", None) or "250 Message accepted"
        received = ReceivedMessage(
            mail_from=envelope.mail_from, rcpt_tos=list(envelope.rcpt_tos),
            content=bytes(envelope.original_content or envelope.content),
            mail_options=list(envelope.mail_options), reply=reply,
        )  # fmt: skip
        self.peer._record(received)
        return reply


class _AnyLogin:
    """AUTH PLAIN/LOGIN: accept any credentials, remember them."""

    def __init__(self, peer: SmtpPeer) -> None:
        self.peer = peer

    def __call__(self, server, session, envelope, mechanism, auth_data) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        if isinstance(auth_data, LoginPassword):
            self.peer.logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=True)


class SmtpPeer:
    """An aiosmtpd server on a free port that records every message it accepts.

    ``tls`` is ``None`` (plain), ``"starttls"`` or ``"ssl"`` (implicit TLS), using ``ca``.
    """

    def __init__(self, *, tls: str | None = None, ca: TestCA | None = None) -> None:
        from aiosmtpd.controller import Controller

        self.host = "127.0.0.1"
        self.port = free_port()
        self.ca_file = str(ca.ca_file) if ca else ""
        self.messages: list[ReceivedMessage] = []  # accepted
        self.rejected: list[ReceivedMessage] = []  # DATA answered with 4xx/5xx
        self.logins: list[tuple[str, str]] = []
        self.oauth_logins: list[tuple[str, str]] = []
        self.tokens: set[str] = set()
        self._replies: dict[str, tuple[str, str | None]] = {}
        self._cond = threading.Condition()
        kwargs: dict[str, Any] = dict(
            enable_SMTPUTF8=True, decode_data=False, authenticator=_AnyLogin(self),
            auth_require_tls=False, ident="mailflow test peer",
        )  # fmt: skip
        if tls == "starttls" and ca:
            kwargs.update(tls_context=ca.server_context(), require_starttls=False)
        elif tls == "ssl" and ca:
            kwargs.update(ssl_context=ca.server_context())
        elif tls:
            raise ValueError("tls needs a CA and must be 'starttls' or 'ssl'")
        self._controller_kwargs = kwargs
        self.controller = Controller(_Handler(self), hostname=self.host, port=self.port, **kwargs)

    def start(self) -> None:
        """Start serving (again, on the same port, after ``stop()``)."""
        from aiosmtpd.controller import Controller

        if self.controller.loop.is_closed():
            self.controller = Controller(
                _Handler(self), hostname=self.host, port=self.port, **self._controller_kwargs
            )
        self.controller.start()

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.controller.stop()

    def accept_tokens(self, tokens: set[str]) -> None:
        """OAuth 2.0 access tokens that AUTH XOAUTH2 accepts."""
        self.tokens = set(tokens)

    def reply_with(self, reply: str | None, *, at: str = "DATA", rcpt: str | None = None) -> None:
        """Answer ``reply`` (e.g. ``"451 4.3.0 try later"``) at ``DATA`` or ``RCPT``.

        With ``rcpt`` only that recipient is refused. ``reply_with(None)`` restores normal
        service at that stage.
        """
        if at not in ("DATA", "RCPT"):
            raise ValueError("at must be 'DATA' or 'RCPT'")
        with self._cond:
            if reply is None:
                self._replies.pop(at, None)
            else:
                self._replies[at] = (reply, rcpt.lower() if rcpt else None)

    def _reply_for(self, stage: str, address: str | None) -> str | None:
        with self._cond:
            rule = self._replies.get(stage)
        if rule is None or (rule[1] and (address or "").lower() != rule[1]):
            return None
        return rule[0]

    def _record(self, received: ReceivedMessage) -> None:
        with self._cond:
            if received.reply.startswith("2"):
                self.messages.append(received)
            else:
                self.rejected.append(received)
            self._cond.notify_all()

    def wait_for(self, n: int, timeout: float = 10.0) -> list[ReceivedMessage]:
        """Block until ``n`` messages were accepted; return them (AssertionError on timeout)."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.messages) >= n, timeout):
                raise AssertionError(f"expected {n} messages, got {len(self.messages)}")
            return list(self.messages)


# ---------------------------------------------------------------- PostgreSQL

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=3"
_pg_state: dict[str, str] = {}


def _pg_error() -> str | None:
    import psycopg

    try:
        with psycopg.connect(PG_ADMIN):
            return None
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0]


def postgres_unavailable() -> str | None:
    """None when PostgreSQL answers; else why not (after one attempt to start the cluster)."""
    if "checked" not in _pg_state:
        error = _pg_error()
        if error and shutil.which("pg_ctlcluster") and Path("/etc/postgresql").is_dir():
            for version in sorted(os.listdir("/etc/postgresql")):
                subprocess.run(
                    ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
                    capture_output=True, timeout=60, check=False,
                )  # fmt: skip
            deadline = time.monotonic() + 15
            while (error := _pg_error()) and time.monotonic() < deadline:
                time.sleep(0.5)
        _pg_state["checked"] = "yes"
        if error:
            _pg_state["error"] = f"PostgreSQL at 127.0.0.1:5432 unreachable: {error}"
    return _pg_state.get("error")


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """Create ``mf_<random>``, yield its SQLAlchemy URL, then drop it (``WITH (FORCE)``)."""
    import psycopg

    name = f"mf_{secrets.token_hex(6)}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
            )
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_database_exists(name: str) -> bool:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        row = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        return row is not None


def random_loopback() -> str:
    """A random 127.x.y.z address (all of 127/8 is loopback on Linux)."""
    a, b, c = secrets.token_bytes(3)
    return f"127.{100 + a % 100}.{1 + b % 254}.{1 + c % 254}"


def scratch_dir(prefix: str) -> Path:
    """A directory outside pytest's 0700 tmp tree (Dovecot's mail user must traverse it)."""
    return Path(tempfile.mkdtemp(prefix=prefix))


# ---------------------------------------------------------------- a freezable TCP proxy


class TcpProxy:
    """Forwards 127.0.0.1:``port`` to ``target``; ``freeze()`` makes open connections go silent.

    A frozen connection stays open but nothing passes either way -- the "dead socket" a NAT
    box or a pulled cable leaves behind. Connections made after ``freeze()`` work normally.
    ``source`` is the address the server sees: Dovecot delays every login from an address
    after a failed one (its auth penalty), so tests of bad passwords should come through a
    proxy from an address of their own (``random_loopback()``).
    """

    def __init__(self, target_host: str, target_port: int, source: str = "127.0.0.1") -> None:
        self.target, self.source = (target_host, target_port), source
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._frozen: set[socket.socket] = set()
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def freeze(self) -> None:
        with self._lock:
            self._frozen |= self._open

    def close(self) -> None:
        self._listener.close()
        with self._lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
                upstream = socket.create_connection(
                    self.target, timeout=5, source_address=(self.source, 0)
                )
            except OSError:
                return
            upstream.settimeout(None)
            with self._lock:
                self._open |= {client, upstream}
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                with self._lock:
                    frozen = source in self._frozen or sink in self._frozen
                if not frozen:
                    sink.sendall(data)
        if source not in self._frozen:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)


# ---------------------------------------------------------------- a private PostgreSQL


class PrivatePostgres:
    """A PostgreSQL server of the test's own (initdb into a scratch directory, a free port),
    so that a fault test can restart it without disturbing the shared one. Runs as the
    ``postgres`` user when started as root (PostgreSQL refuses to run as root)."""

    def __init__(self) -> None:
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
        if not bins:
            pytest.skip("PostgreSQL server binaries not found under /usr/lib/postgresql")
        self.bin = bins[-1]
        self.root = scratch_dir("mf-pg-")
        self.data = self.root / "data"
        self.port = free_port()
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
        )

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "log"),
            "-w",
            "start",
        )

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)

    def restart(self) -> None:
        self.stop()
        self.start()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, tool: str, *args: str, check: bool = True) -> None:
        command = [str(self.bin / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=check, capture_output=True, timeout=120, cwd=self.root)
