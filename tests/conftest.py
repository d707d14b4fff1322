"""Shared fixtures: real Dovecot, a real SMTP peer (aiosmtpd) and real databases.

See ``servers.py`` for the servers themselves. Fixture names are a contract other test
modules rely on: ``dovecot``, ``imap_account``, ``smtp_peer``, ``database_url`` (plus
``tls_ca``, ``smtp_peer_starttls`` and ``smtp_peer_ssl``).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import Mailflow
from servers import (
    DovecotServer,
    ImapAccount,
    SmtpPeer,
    TestCA,
    postgres_database,
    postgres_unavailable,
    scratch_dir,
)


@pytest.fixture(scope="session")
def tls_ca(tmp_path_factory: pytest.TempPathFactory) -> TestCA:
    """A throw-away CA plus a server certificate for 127.0.0.1/localhost.

    Returns a ``TestCA`` with ``ca_file``, ``cert_file``, ``key_file`` (paths) and
    ``client_context()`` / ``server_context()``. Made once per session with the openssl CLI.
    """
    if not shutil.which("openssl"):
        pytest.skip("the openssl command is not installed")
    return TestCA.create(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def dovecot(tls_ca: TestCA) -> Iterator[DovecotServer]:
    """A real Dovecot 2.3 for the whole session, from a throw-away config on free ports.

    Returns a ``DovecotServer``: ``host`` (127.0.0.1), ``port`` (plain IMAP, STARTTLS offered),
    ``ssl_port`` (implicit TLS), ``ca_file``, ``log_file``, ``stop()`` / ``start()`` (same
    ports, mail kept; stopping closes every open session) and ``account()``. Any user name logs
    in with password ``secret``. Besides 127.0.0.1 it serves two other kinds of server on the
    same port: 127.0.0.2 without MOVE, 127.0.0.3 without IDLE/MOVE/UIDPLUS/NAMESPACE and with a
    ``/`` delimiter (see ``ImapAccount.on``). Skips when Dovecot is not installed.
    """
    binary = shutil.which("dovecot") or (
        "/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None
    )
    if binary is None:
        pytest.skip("Dovecot is not installed (/usr/sbin/dovecot)")
    root = scratch_dir("mf-dovecot-")
    server = DovecotServer(root, tls_ca, binary)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def imap_account(dovecot: DovecotServer) -> ImapAccount:
    """A fresh IMAP user on the session's Dovecot, so each test has empty folders.

    Returns an ``ImapAccount`` with ``host, port, username, password, ssl_port, ca_file`` and
    helpers ``append(raw, folder="INBOX")``, ``fetch_all(folder) -> list[bytes]``,
    ``folders() -> list[str]``, ``count(folder, undeleted=False) -> int``,
    ``create_folder`` / ``delete_folder``, ``on("nomove"|"basic")`` and
    ``mailbox_config(**overrides) -> MailboxConfig``.
    """
    if not dovecot.running:  # a fault test left it stopped
        dovecot.start()
    return dovecot.account()


def _smtp_peer(tls: str | None, ca: TestCA | None) -> Iterator[SmtpPeer]:
    peer = SmtpPeer(tls=tls, ca=ca)
    peer.start()
    try:
        yield peer
    finally:
        peer.stop()


@pytest.fixture
def smtp_peer() -> Iterator[SmtpPeer]:
    """A plain-SMTP aiosmtpd server on a free 127.0.0.1 port (no STARTTLS offered).

    Returns a ``SmtpPeer``: ``host``, ``port``, ``messages`` (accepted ``ReceivedMessage`` with
    ``mail_from``, ``rcpt_tos``, ``content`` bytes, ``mail_options``, ``message()``),
    ``rejected`` (DATA answered 4xx/5xx), ``logins`` (AUTH is accepted with any password),
    ``wait_for(n, timeout) -> list``, and ``reply_with("451 4.3.0 try later", at="DATA"|"RCPT",
    rcpt=None)`` / ``reply_with(None)`` to fail and recover. SMTPUTF8 and 8-bit content are
    accepted; lines up to 998 octets (aiosmtpd refuses longer ones, like real servers).
    """
    yield from _smtp_peer(None, None)


@pytest.fixture
def smtp_peer_starttls(tls_ca: TestCA) -> Iterator[SmtpPeer]:
    """Like ``smtp_peer`` but offering STARTTLS with the ``tls_ca`` certificate (``ca_file``)."""
    yield from _smtp_peer("starttls", tls_ca)


@pytest.fixture
def smtp_peer_ssl(tls_ca: TestCA) -> Iterator[SmtpPeer]:
    """Like ``smtp_peer`` but speaking implicit TLS (port-465 style) with ``tls_ca``."""
    yield from _smtp_peer("ssl", tls_ca)


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A SQLAlchemy URL to an empty database; the test runs once for each backend.

    ``sqlite`` -> ``sqlite:///<tmp_path>/mailflow.db``; ``postgresql`` -> a new database
    ``mf_<random>`` at 127.0.0.1:5432 (``postgresql+psycopg://postgres@127.0.0.1:5432/mf_…``),
    dropped afterwards even if connections remain. If PostgreSQL is down, one attempt is made
    to start it with ``pg_ctlcluster``; failing that the postgresql case is skipped. Deselect
    it with ``-m "not postgres"``.
    """
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/mailflow.db"
        return
    reason = postgres_unavailable()
    if reason:
        pytest.skip(reason)
    with postgres_database() as url:
        yield url


@pytest.fixture
def mailflow(
    tmp_path: Path, imap_account: ImapAccount, smtp_peer: SmtpPeer, database_url: str
) -> Iterator[Mailflow]:
    """mailflow configured against this test's IMAP account, SMTP peer and database (both
    backends), driven through its CLI; see ``tests/harness.py``."""
    harness = Mailflow(tmp_path, imap_account, smtp_peer, database_url)
    try:
        yield harness
    finally:
        harness.close()


@pytest.fixture
def mailflow_sqlite(
    tmp_path: Path, imap_account: ImapAccount, smtp_peer: SmtpPeer
) -> Iterator[Mailflow]:
    """Like ``mailflow`` but on SQLite only (for tests where the backend is not the point)."""
    harness = Mailflow(tmp_path, imap_account, smtp_peer, f"sqlite:///{tmp_path}/mailflow.db")
    try:
        yield harness
    finally:
        harness.close()
