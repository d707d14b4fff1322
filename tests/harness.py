"""Drives mailflow the way an operator does: a config file, the CLI, real Dovecot and SMTP.

``Mailflow`` writes a config pointing at the test's IMAP account, SMTP peer and database,
runs ``python -m mailflow …`` as a subprocess (``run --once``, ``tick --at``, a daemon) and
gives the test what it needs to check the outcome: the mail the peer received, the folders
of the mailbox and the database rows.
"""

from __future__ import annotations

import email
import email.policy
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from mailflow import db

REPO = Path(__file__).resolve().parents[1]

DIRECTORY_TOML = """
[[departments]]
name = "市场部"
aliases = ["Marketing", "市场"]
head = "王芳 <wang.fang@example.com>"
contacts = ["李娜 <li.na@example.com>"]
supervisor = "赵总 <vp.sales@example.com>"
members = ["张伟 <zhang.wei@example.com>"]

[[departments]]
name = "产品部"
aliases = ["Product", "产品"]
head = "陈杰 <chen.jie@example.com>"
contacts = ["刘洋 <liu.yang@example.com>"]
supervisor = "孙总 <vp.product@example.com>"
members = ["马超 <ma.chao@example.com>"]

[[departments]]
name = "技术支持部"
aliases = ["Technical Support", "技术支持", "Support"]
head = "黄磊 <huang.lei@example.com>"
contacts = ["周敏 <zhou.min@example.com>"]
supervisor = "孙总 <vp.product@example.com>"

[[departments]]
name = "财务部"
aliases = ["Finance"]
head = "Alice Smith <alice.smith@example.com>"
contacts = ["Bob Jones <bob.jones@example.com>"]
supervisor = "Carol White <cfo@example.com>"
language = "en"

[[departments]]
name = "行政部"
aliases = ["Administration", "Admin"]
head = "吴静 <wu.jing@example.com>"
supervisor = "郑总 <coo@example.com>"
"""


class Mailflow:
    def __init__(
        self,
        tmp_path: Path,
        imap: Any,
        smtp: Any,
        database_url: str,
        language: str = "zh",
        **settings: str,
    ) -> None:
        self.tmp_path = tmp_path
        self.language = language
        self.imap = imap
        self.smtp = smtp
        self.database_url = database_url
        self.config_path = tmp_path / "mailflow.toml"
        self.log_path = tmp_path / "mailflow.log"
        self.write_config(**settings)
        self._engine = db.make_engine(database_url)
        self.sessions: sessionmaker[Session] = db.session_factory(self._engine)
        self.daemon: subprocess.Popen[bytes] | None = None

    def write_config(self, **settings: str) -> None:
        """``settings`` are extra TOML lines per section, e.g. ``deadlines='urgent = "2h"'``."""
        sections = {
            "organization": f"""
name = "示例集团"
language = "{self.language}"
timezone = "Asia/Shanghai"
holidays = "CN"
allowed_domains = ["example.com"]
admin_archive = "archive@example.com"
knowledge_base = "{self.tmp_path / "kb"}"
""",
            "mailbox": f"""
host = "{self.imap.host}"
port = {self.imap.port}
security = "none"
username = "{self.imap.username}"
password = "{self.imap.password}"
""",
            "smtp": f"""
host = "{self.smtp.host}"
port = {self.smtp.port}
security = "none"
from_address = "coordination@example.com"
from_name = "跨部门协调中心"
timeout = "10s"
""",
            "database": f'url = "{self.database_url}"\n',
        }
        text = ""
        for name, body in sections.items():
            text += f"[{name}]\n{body}{settings.pop(name, '')}\n\n"
        for name, body in settings.items():
            text += f"[{name}]\n{body}\n\n"
        self.config_path.write_text(text + DIRECTORY_TOML, encoding="utf-8")

    # ---------------------------------------------------------------- the CLI

    def cli(
        self,
        *args: str,
        check: bool = True,
        env: dict[str, str] | None = None,
        timeout: float = 120,
    ):
        result = subprocess.run(
            [sys.executable, "-m", "mailflow", "-c", str(self.config_path), "-v", *args],
            cwd=self.tmp_path,
            env={**os.environ, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        with self.log_path.open("a", encoding="utf-8") as log:
            log.write(
                f"$ mailflow {' '.join(args)} -> {result.returncode}\n{result.stdout}{result.stderr}\n"
            )
        if check and result.returncode != 0:
            raise AssertionError(
                f"mailflow {' '.join(args)} exited {result.returncode}:\n{result.stderr}"
            )
        return result

    def run_once(self, **kwargs: Any):
        return self.cli("run", "--once", **kwargs)

    def start_daemon(self, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        log = self.log_path.open("ab")
        self.daemon = subprocess.Popen(
            [sys.executable, "-m", "mailflow", "-c", str(self.config_path), "-v", "run"],
            cwd=self.tmp_path,
            env={**os.environ, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        return self.daemon

    def stop_daemon(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        assert self.daemon is not None
        if self.daemon.poll() is None:
            self.daemon.send_signal(sig)
        code = self.daemon.wait(timeout=timeout)
        self.daemon = None
        return code

    def log(self) -> str:
        return (
            self.log_path.read_text(encoding="utf-8", errors="replace")
            if self.log_path.exists()
            else ""
        )

    # ---------------------------------------------------------------- mail

    def deliver(self, raw: bytes) -> None:
        self.imap.append(raw)

    def sent(self) -> list[EmailMessage]:
        return [_message(m.content) for m in self.smtp.messages]

    def sent_to(self, address: str) -> list[EmailMessage]:
        return [
            m for m, r in zip(self.sent(), self.smtp.messages, strict=True) if address in r.rcpt_tos
        ]

    def envelopes(self) -> list[Any]:
        return list(self.smtp.messages)

    def wait_for_mail(self, count: int, timeout: float = 15.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.smtp.messages) >= count:
                return self.sent()
            time.sleep(0.05)
        raise AssertionError(
            f"expected {count} mails, got {len(self.smtp.messages)}:\n{self.log()[-3000:]}"
        )

    # ---------------------------------------------------------------- database

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.sessions() as session:
            yield session

    def close(self) -> None:
        if self.daemon is not None and self.daemon.poll() is None:
            self.daemon.kill()
            self.daemon.wait()
        self._engine.dispose()


def _message(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None, "no text/plain part"
    return part.get_content()


def html_of(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert part is not None, "no text/html part"
    return part.get_content()
