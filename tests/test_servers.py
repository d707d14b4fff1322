"""The test servers themselves work: Dovecot, the aiosmtpd peer, the databases."""

from __future__ import annotations

import asyncio
import socket
import ssl
from email.message import EmailMessage

import aiosmtplib
import pytest
import sqlalchemy as sa
from imapclient import IMAPClient
from servers import (
    TcpProxy,
    make_message,
    postgres_database,
    postgres_database_exists,
    random_loopback,
)
from servers import postgres_unavailable as pg_down

pytestmark = pytest.mark.servers


# ---------------------------------------------------------------- Dovecot


def test_login_append_fetch(imap_account):
    imap_account.append(make_message("one"))
    imap_account.append(make_message("two"), folder="INBOX")
    assert imap_account.count("INBOX") == 2
    bodies = imap_account.fetch_all("INBOX")
    assert [b"Subject: one" in bodies[0], b"Subject: two" in bodies[1]] == [True, True]
    assert imap_account.folders() == ["INBOX"]


def test_accounts_are_isolated(dovecot, imap_account):
    imap_account.append(make_message())
    assert dovecot.account().count("INBOX") == 0


def test_wrong_password_is_refused(imap_account):
    # From an address of its own: Dovecot slows down the next login from a failing address.
    proxy = TcpProxy(imap_account.host, imap_account.port, source=random_loopback())
    client = IMAPClient("127.0.0.1", proxy.port, ssl=False, timeout=5)
    with pytest.raises(Exception, match=r"(?i)auth"):
        client.login(imap_account.username, "wrong")
    client.shutdown()
    proxy.close()


def test_ssl_and_starttls_with_the_test_ca(imap_account):
    context = ssl.create_default_context(cafile=imap_account.ca_file)
    with IMAPClient("127.0.0.1", imap_account.ssl_port, ssl_context=context, timeout=5) as client:
        client.login(imap_account.username, imap_account.password)
        assert client.socket().version().startswith("TLS")
    with IMAPClient("localhost", imap_account.port, ssl=False, timeout=5) as client:
        client.starttls(context)
        client.login(imap_account.username, imap_account.password)
        assert client.socket().version().startswith("TLS")
    with pytest.raises(ssl.SSLCertVerificationError):
        IMAPClient("127.0.0.1", imap_account.ssl_port, timeout=5)  # system CAs don't know it


def test_server_profiles(imap_account):
    expectations = {"full": ({"IDLE", "MOVE", "UIDPLUS"}, set(), "."),
                    "nomove": ({"IDLE", "UIDPLUS"}, {"MOVE"}, "."),
                    "basic": (set(), {"IDLE", "MOVE", "UIDPLUS", "NAMESPACE"}, "/")}  # fmt: skip
    for profile, (present, absent, delimiter) in expectations.items():
        with imap_account.on(profile).client() as client:
            caps = {c.decode().upper() for c in client.capabilities()}
            assert present <= caps and not absent & caps, profile
            client.create_folder(f"{profile}{delimiter}b")
            listed = {name: delim.decode() for _f, delim, name in client.list_folders()}
            assert listed.get(f"{profile}{delimiter}b") == delimiter, (profile, listed)


def test_stop_and_start_keep_port_and_mail(dovecot, imap_account):
    imap_account.append(make_message())
    client = IMAPClient(imap_account.host, imap_account.port, ssl=False, timeout=5)
    client.login(imap_account.username, imap_account.password)
    dovecot.stop()
    with pytest.raises(OSError):
        socket.create_connection((dovecot.host, dovecot.port), timeout=1).close()
    with pytest.raises(Exception):  # noqa: B017 - the open session died with the server
        client.noop()
    dovecot.start()
    assert imap_account.count("INBOX") == 1


# ---------------------------------------------------------------- SMTP


def _mail(to: str = "li.na@example.com", body: str = "hello") -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@example.com", to, "测试"
    message.set_content(body)
    return message


def _send(peer, message: EmailMessage, **kwargs) -> tuple:
    return asyncio.run(aiosmtplib.send(message, hostname=peer.host, port=peer.port, **kwargs))


def test_smtp_peer_records_messages(smtp_peer):
    long_line = "x" * 998
    message = _mail(body="8-bit 中文\n")
    raw = message.as_bytes().replace(b"\n", b"\r\n") + long_line.encode() + b"\r\n"
    sent = aiosmtplib.send(
        raw, sender="a@example.com", recipients=["李娜@example.com", "b@example.com"],
        mail_options=["SMTPUTF8", "BODY=8BITMIME"], hostname=smtp_peer.host, port=smtp_peer.port,
    )  # fmt: skip
    asyncio.run(sent)
    [got] = smtp_peer.wait_for(1, timeout=5)
    assert got.mail_from == "a@example.com"
    assert got.rcpt_tos == ["李娜@example.com", "b@example.com"]
    assert long_line.encode() in got.content and "中文".encode() in got.content
    assert "SMTPUTF8" in [o.upper() for o in got.mail_options]


def test_smtp_peer_faults(smtp_peer):
    smtp_peer.reply_with("451 4.3.0 try later")
    with pytest.raises(aiosmtplib.SMTPDataError) as temporary:
        _send(smtp_peer, _mail())
    assert temporary.value.code == 451
    smtp_peer.reply_with("550 5.1.1 no such user", at="RCPT")
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
        _send(smtp_peer, _mail())
    assert refused.value.recipients[0].code == 550
    smtp_peer.reply_with(None, at="RCPT")
    smtp_peer.reply_with(None)
    _send(smtp_peer, _mail())
    assert len(smtp_peer.wait_for(1)) == 1 and len(smtp_peer.rejected) == 1


def test_smtp_peer_refuses_one_recipient(smtp_peer):
    smtp_peer.reply_with("550 5.1.1 no such user", at="RCPT", rcpt="gone@example.com")
    errors, _ = _send(smtp_peer, _mail(to="gone@example.com, ok@example.com"))
    assert errors["gone@example.com"].code == 550
    assert smtp_peer.wait_for(1)[0].rcpt_tos == ["ok@example.com"]


def test_smtp_peer_tls(smtp_peer_starttls, smtp_peer_ssl, tls_ca):
    context = tls_ca.client_context()
    _send(smtp_peer_starttls, _mail(), start_tls=True, tls_context=context,
          username="u", password="p")  # fmt: skip
    _send(smtp_peer_ssl, _mail(), use_tls=True, tls_context=context)
    assert len(smtp_peer_starttls.wait_for(1)) == len(smtp_peer_ssl.wait_for(1)) == 1
    assert smtp_peer_starttls.logins == [("u", "p")]


# ---------------------------------------------------------------- databases


def test_database_url(database_url):
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (x INTEGER)"))
        conn.execute(sa.text("INSERT INTO t VALUES (1)"))
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM t")).scalar() == 1
    engine.dispose()


@pytest.mark.postgres
def test_postgres_database_is_dropped_even_with_open_connections():
    if reason := pg_down():
        pytest.skip(reason)
    with postgres_database() as url:
        name = url.rsplit("/", 1)[1]
        engine = sa.create_engine(url)
        connection = engine.connect()  # left open on purpose
        assert postgres_database_exists(name)
    assert not postgres_database_exists(name)
    connection.invalidate()
    engine.dispose()
