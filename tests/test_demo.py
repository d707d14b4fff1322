"""``mailflow demo``: the scenario end to end in Chinese and English, read back over IMAP.

Each test runs ``python -m mailflow demo …`` as a user would (no config file anywhere: the
environment points ``MAILFLOW_CONFIG`` at a file that does not exist), on free ports, and then
reads the demo's mailboxes with imapclient from the demo's own IMAP server.
"""

from __future__ import annotations

import email
import email.policy
import os
import re
import shutil
import signal
import smtplib
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from email.message import EmailMessage
from pathlib import Path

import pytest
from imapclient import IMAPClient

from mailflow.config import config_from_dict
from mailflow.demo import directory
from mailflow.demo.servers import find_dovecot

HOST = "127.0.0.1"
PASSWORD = directory.PASSWORD
CHEN = "chen.jie@demo.example"  # 产品部 head
HUANG = "huang.lei@demo.example"  # 技术支持部 head
WANG = "wang.fang@demo.example"  # 市场部 head: lead department, host
ZHANG = "zhang.wei@demo.example"  # the requester
CASE = "REQ-2026-0001"


class Demo:
    """``mailflow demo …`` as a child process; its output is collected line by line."""

    def __init__(self, *args: str, cwd: Path) -> None:
        env = {**os.environ, "MAILFLOW_CONFIG": str(cwd / "no-such-config.toml")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mailflow", "demo", "--imap-port", "0", "--smtp-port", "0",
             *args],
            cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            encoding="utf-8", errors="replace",
        )  # fmt: skip
        self.lines: list[str] = []
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._cond:
                self.lines.append(line)
                self._cond.notify_all()

    @property
    def output(self) -> str:
        with self._cond:
            return "".join(self.lines)

    def wait_for(self, pattern: str, timeout: float = 90) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while True:
            found = re.search(pattern, self.output)
            if found:
                return found
            if self.process.poll() is not None:
                self._reader.join(5)
                found = re.search(pattern, self.output)
                if found:
                    return found
                raise AssertionError(f"demo exited {self.process.returncode}:\n{self.output}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {pattern!r} after {timeout} s:\n{self.output}")
            with self._cond:
                self._cond.wait(0.2)

    @property
    def imap_port(self) -> int:
        return int(self.wait_for(r"IMAP: 127\.0\.0\.1:(\d+)", 30).group(1))

    @property
    def smtp_port(self) -> int:
        return int(self.wait_for(r"SMTP: 127\.0\.0\.1:(\d+)", 30).group(1))

    def wait(self, timeout: float = 90) -> int:
        code = self.process.wait(timeout)
        self._reader.join(5)
        return code

    def stop(self, sig: int = signal.SIGINT, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.wait(timeout)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def mailbox(port: int, address: str, folder: str = "INBOX") -> list[EmailMessage]:
    """Every message in ``folder`` of ``address``, read as a mail client would."""
    with IMAPClient(HOST, port, ssl=False, timeout=10) as client:
        client.login(address, PASSWORD)
        client.select_folder(folder, readonly=True)
        uids = sorted(client.search("ALL"))
        data = client.fetch(uids, ["BODY.PEEK[]"]) if uids else {}
    return [
        email.message_from_bytes(data[uid][b"BODY[]"], policy=email.policy.default)  # type: ignore[misc]
        for uid in uids
    ]


def kinds(messages: list[EmailMessage]) -> list[str]:
    return [str(m.get("X-Mailflow-Kind", "")) for m in messages]


def of_kind(messages: list[EmailMessage], kind: str) -> EmailMessage:
    found = [m for m in messages if m.get("X-Mailflow-Kind") == kind]
    assert found, f"no {kind} among {kinds(messages)}"
    return found[-1]


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return part.get_content()


def test_the_chinese_scenario_leaves_every_mail_in_the_mailboxes(tmp_path: Path) -> None:
    data = tmp_path / "state"
    demo = Demo("--scenario", "--stay", "--data", str(data), cwd=tmp_path)
    try:
        port = demo.imap_port
        done = demo.wait_for(r"全流程完成，用时 ([\d.]+) 秒")
        demo.wait_for(r"归档的案例记录")
        for stage in range(1, 6):
            assert f"[阶段 {stage}/5]" in demo.output
        assert float(done.group(1)) < 60

        # The head of 产品部, read with imapclient from the demo's IMAP server.
        product_head = mailbox(port, CHEN)
        for kind in ("request_notice", "meeting_invitation", "minutes_distribution",
                     "minutes_confirmed", "weekly_status", "acceptance_report", "review_request",
                     "review_compiled"):  # fmt: skip
            assert kind in kinds(product_head), kinds(product_head)
        assert all(f"[{CASE}]" in str(m["Subject"]) for m in product_head)
        assert "完成技术方案初稿" in text_of(of_kind(product_head, "minutes_distribution"))
        invitation = of_kind(product_head, "meeting_invitation")
        assert any(p.get_content_type() == "text/calendar" for p in invitation.walk())
        weekly = of_kind(product_head, "weekly_status")
        assert any(str(p.get_filename()).endswith(".xlsx") for p in weekly.iter_attachments())

        # 技术支持部 answered late: its head got the chaser; the host got the objection.
        support_head = kinds(mailbox(port, HUANG))
        assert support_head.count("reply_chaser") == 1
        assert {"request_notice", "minutes_distribution", "update_result"} <= set(support_head)
        host = mailbox(port, WANG)
        assert {
            "responses_complete",
            "minutes_objection",
            "delay_assessment",
            "review_reminder",
        } <= set(kinds(host))
        assert "黄磊" in text_of(of_kind(host, "minutes_objection"))

        requester = kinds(mailbox(port, ZHANG))
        for kind in ("request_ack", "acceptance_request", "acceptance_report"):
            assert kind in requester, requester

        # The archive has a copy of everything mailflow sent, the case record among them.
        archive = mailbox(port, directory.ARCHIVE)
        sent_by_mailflow = [line for line in demo.output.splitlines() if "跨部门协调中心 →" in line]
        assert len(archive) == len(sent_by_mailflow)
        record = of_kind(archive, "case_record")
        files = {p.get_filename(): p.get_payload(decode=True) for p in record.iter_attachments()}
        assert files[f"{CASE}.md"] == (data / "knowledge-base" / f"{CASE}.md").read_bytes()

        # mailflow took every person's mail from the coordination mailbox and filed it.
        assert mailbox(port, directory.COORDINATION) == []
        processed = mailbox(port, directory.COORDINATION, "mailflow/processed")
        people_lines = [line for line in demo.output.splitlines() if "→ 跨部门协调中心" in line]
        assert len(processed) == len(people_lines) >= 15
        assert (data / "mailflow.db").exists()
    finally:
        code = demo.stop(signal.SIGINT)
        demo.kill()
    assert code == 0, demo.output


def test_the_english_scenario_then_the_interactive_demo_on_the_same_data(tmp_path: Path) -> None:
    data = tmp_path / "state"
    scenario = Demo("--scenario", "--lang", "en", "--data", str(data), cwd=tmp_path)
    try:
        assert scenario.wait(90) == 0, scenario.output
    finally:
        scenario.kill()
    output = scenario.output
    assert "[stage 5/5] closure and review" in output and "played through" in output
    assert f"mailflow demo --data {data}" in output

    demo = Demo("--lang", "en", "--data", str(data), cwd=tmp_path)
    try:
        demo.wait_for(r"Ctrl-C stops")
        port, smtp_port = demo.imap_port, demo.smtp_port
        product_head = mailbox(port, CHEN)
        confirmed = of_kind(product_head, "minutes_confirmed")
        assert str(confirmed["Subject"]).startswith(f"[{CASE}] Minutes confirmed")
        assert "Draft the technical plan" in text_of(of_kind(product_head, "minutes_distribution"))
        assert "acceptance_report" in kinds(mailbox(port, ZHANG))
        config = tomllib.loads((data / "mailflow.toml").read_text(encoding="utf-8"))
        assert config_from_dict(config).directory.department("Product").head.name == "Jie Chen"

        # A person's mail client: SMTP with AUTH, mail to another domain refused.
        form = EmailMessage()
        form["From"] = f"Wei Zhang <{ZHANG}>"
        form["To"] = directory.COORDINATION
        form["Subject"] = "Coordination request"
        form.set_content(
            "Requesting department: Marketing\nDepartments involved: Product\n"
            "Lead department: Marketing\nBackground: A second case.\n"
            "Expected goal: Try the demo by hand\nUrgency: [x] Normal\n"
        )
        with smtplib.SMTP(HOST, smtp_port, timeout=10) as smtp:
            smtp.login(ZHANG, PASSWORD)
            with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
                smtp.sendmail(ZHANG, ["someone@example.org"], b"Subject: out\r\n\r\nhi\r\n")
            assert refused.value.recipients["someone@example.org"][0] == 550
            smtp.send_message(form)
        deadline = time.monotonic() + 20
        while "REQ-2026-0002" not in demo.output and time.monotonic() < deadline:
            time.sleep(0.2)
        acks = [m for m in mailbox(port, ZHANG) if m.get("X-Mailflow-Kind") == "request_ack"]
        assert any("[REQ-2026-0002]" in str(m["Subject"]) for m in acks), demo.output
    finally:
        code = demo.stop(signal.SIGTERM)
        demo.kill()
    assert code == 0, demo.output


def test_without_data_the_state_is_temporary(tmp_path: Path) -> None:
    demo = Demo(cwd=tmp_path)
    try:
        folder = Path(demo.wait_for(r"数据目录: (\S+) \(").group(1))
        demo.wait_for(r"Ctrl-C 退出")
        assert (folder / "mailflow.db").exists()
    finally:
        code = demo.stop(signal.SIGINT)
        demo.kill()
    assert code == 0, demo.output
    assert not folder.exists()


@pytest.mark.servers
def test_the_demo_on_dovecot(tmp_path: Path) -> None:
    if find_dovecot() is None:
        pytest.skip("Dovecot is not installed")
    data = Path(tempfile.mkdtemp(prefix="mf-demo-"))  # under /tmp: Dovecot's mail user enters
    demo = Demo("--dovecot", "--data", str(data), cwd=tmp_path)
    try:
        demo.wait_for(r"Ctrl-C 退出")
        assert "Dovecot" in demo.output
        port, smtp_port = demo.imap_port, demo.smtp_port
        with smtplib.SMTP(HOST, smtp_port, timeout=10) as smtp:
            smtp.sendmail(
                ZHANG,
                [directory.COORDINATION],
                f"From: {ZHANG}\r\nTo: {directory.COORDINATION}\r\nSubject: hello\r\n"
                "Message-ID: <dovecot-demo@demo.example>\r\n\r\nHow do I ask for help?\r\n".encode(),
            )
        deadline = time.monotonic() + 20
        while "form_rejected" not in demo.output and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "form_rejected" in kinds(mailbox(port, ZHANG)), demo.output
    finally:
        code = demo.stop(signal.SIGINT)
        demo.kill()
        shutil.rmtree(data, ignore_errors=True)
    assert code == 0, demo.output


def test_addresses_and_the_generated_config() -> None:
    assert directory.owner_of("Coordination+ab12cd@Demo.Example") == directory.COORDINATION
    assert directory.owner_of("chen.jie@demo.example") == CHEN
    assert directory.owner_of("nobody@demo.example") is None
    assert directory.owner_of("chen.jie@example.com") is None
    for lang in ("zh", "en"):
        settings = directory.demo_config(lang, imap_port=1143, smtp_port=2525)
        text = directory.config_toml(settings)
        assert tomllib.loads(text) == settings
        config = config_from_dict(settings)
        assert len(config.directory.departments) == 4
        assert config.directory.department("产品部") == config.directory.department("Product")
        assert all(config.directory.knows(p.address) for p in directory.people())
