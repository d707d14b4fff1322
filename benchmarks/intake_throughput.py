"""Throughput: ``mailflow run --once`` over a backlog of request forms, beside parsing alone.

A backlog of N forms (default 1,000) is appended to a real Dovecot mailbox; ``run --once``
fetches, parses, validates, records, acknowledges and notifies every one of them and sends
every resulting mail (three per form) to the aiosmtpd peer. The same bytes parsed and read
as forms in-process, with nothing else, give the ceiling.

    python benchmarks/intake_throughput.py [--forms 1000] [--backend sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import resource
import time
import tomllib

import _setup
from harness import DIRECTORY_TOML
from imapclient import IMAPClient
from mailbuilder import REQUEST_FORM_ZH, message

from mailflow.config import config_from_dict
from mailflow.forms import read_request_form
from mailflow.parse import parse_message


def backlog(count: int) -> list[bytes]:
    charsets = ("utf-8", "gb18030", "gb2312")
    forms = []
    for i in range(count):
        text = (
            REQUEST_FORM_ZH.replace("☑重要", "√重要")
            if charsets[i % 3] == "gb2312"
            else REQUEST_FORM_ZH
        )
        forms.append(
            message(
                sender=("张伟", "zhang.wei@example.com"),
                subject=f"协调申请 {i}",
                text=text,
                charset=charsets[i % 3],
            )
        )
    return forms


def parse_only(forms: list[bytes]) -> float:
    directory = config_from_dict(tomllib.loads(DIRECTORY_TOML)).directory
    start = time.perf_counter()
    for raw in forms:
        read_request_form(parse_message(raw), directory)
    return time.perf_counter() - start


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--forms", type=int, default=1000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    forms = backlog(args.forms)

    with _setup.servers() as (dovecot, peer), _setup.mailflow(dovecot, peer, args.backend) as flow:
        flow.run_once()  # schema and folders
        account = flow.imap
        with IMAPClient(account.host, port=account.port, ssl=False) as client:
            client.login(account.username, account.password)
            for raw in forms:
                client.append("INBOX", raw)
        children, own = resource.getrusage(resource.RUSAGE_CHILDREN), _cpu(resource.RUSAGE_SELF)
        start = time.perf_counter()
        result = flow.run_once(timeout=3600)
        elapsed = time.perf_counter() - start
        mailflow_cpu = _cpu(resource.RUSAGE_CHILDREN) - (children.ru_utime + children.ru_stime)
        peer_cpu = _cpu(resource.RUSAGE_SELF) - own
        sent = len(peer.messages)
        left = account.count("INBOX")
    parsed = parse_only(forms)
    print(result.stdout.strip())
    print(
        f"run --once: {args.forms} forms, {sent} mails sent, {left} left in INBOX, backend {args.backend}"
    )
    print(
        f"  wall time {elapsed:.1f} s = {args.forms / elapsed:.0f} forms/s ({sent / elapsed:.0f} mails/s)"
    )
    print(
        f"  CPU: mailflow {mailflow_cpu:.1f} s = {1000 * mailflow_cpu / args.forms:.1f} ms a form; "
        f"the aiosmtpd peer {peer_cpu:.1f} s (Dovecot not counted)"
    )
    print(f"parse + read form alone: {parsed:.1f} s = {args.forms / parsed:.0f} forms/s")


if __name__ == "__main__":
    main()
