"""The command line as an operator uses it: check, requests list/show, bad configs, SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest
from harness import Mailflow
from mailbuilder import REQUEST_FORM_ZH, message

pytestmark = pytest.mark.servers


def test_check_reports_every_part(mailflow_sqlite: Mailflow) -> None:
    result = mailflow_sqlite.cli("check")
    lines = result.stdout.splitlines()
    assert [line.split()[1] for line in lines] == ["config:", "database:", "imap:", "smtp:"]
    assert all(line.startswith("ok") for line in lines), result.stdout


def test_check_names_what_fails(mailflow_sqlite: Mailflow) -> None:
    mailflow_sqlite.smtp.stop()
    result = mailflow_sqlite.cli("check", check=False)
    assert result.returncode == 1
    assert "FAIL  smtp:" in result.stdout and "ok    imap:" in result.stdout


def test_requests_list_and_show(mailflow_sqlite: Mailflow) -> None:
    flow = mailflow_sqlite
    flow.deliver(
        message(sender=("张伟", "zhang.wei@example.com"), subject="申请", text=REQUEST_FORM_ZH)
    )
    flow.run_once()
    listing = flow.cli("requests", "list").stdout
    number = listing.splitlines()[1].split()[0]
    assert number.startswith("REQ-") and "0/2" in listing
    record = flow.cli("requests", "show", number).stdout
    assert f"# {number} 案例记录" in record and "产品部" in record and "未回复" in record
    html = flow.cli("requests", "show", number, "--format", "html").stdout
    assert html.startswith("<!DOCTYPE html>") and "确定技术支持人员名单及交付时间" in html
    missing = flow.cli("requests", "show", "REQ-1999-0001", check=False)
    assert missing.returncode == 1 and "no request REQ-1999-0001" in missing.stderr


def test_bad_config_exits_2_naming_the_key(tmp_path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[mailbox]\nsecurity = "tls"\n', encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "mailflow", "-c", str(config), "check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "mailflow: bad config: mailbox.security: 'tls' is not allowed (one of: ssl, starttls, none)"
    )


def test_sigterm_stops_the_daemon_cleanly(mailflow_sqlite: Mailflow) -> None:
    flow = mailflow_sqlite
    flow.start_daemon()
    time.sleep(2)
    flow.deliver(
        message(sender=("张伟", "zhang.wei@example.com"), subject="申请", text=REQUEST_FORM_ZH)
    )
    flow.wait_for_mail(3)
    assert flow.stop_daemon(signal.SIGTERM) == 0
    assert "stopped" in flow.log()


def test_status_and_metrics_of_a_running_daemon(mailflow_sqlite: Mailflow) -> None:
    import socket
    import urllib.request

    flow = mailflow_sqlite
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    flow.write_config(metrics=f'listen = "127.0.0.1:{port}"')
    flow.start_daemon()
    flow.deliver(
        message(sender=("张伟", "zhang.wei@example.com"), subject="申请", text=REQUEST_FORM_ZH)
    )
    flow.wait_for_mail(3)
    time.sleep(1)
    status = flow.cli("status").stdout
    assert "mailbox: idle" in status or "mailbox: connected" in status, status
    assert "outbox: 0 waiting" in status and "reply chaser" in status
    page = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    assert "mailflow_mailbox_connected 1" in page
    assert "mailflow_outbox_pending 0" in page and "# TYPE mailflow_failures_today gauge" in page
    assert flow.stop_daemon() == 0
    assert (
        "gone" in flow.cli("status").stdout
        or "no instance is watching" in flow.cli("status").stdout
    )
