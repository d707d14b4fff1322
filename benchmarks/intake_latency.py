"""Reaction time: IMAP APPEND of a request form -> acknowledgement accepted by the SMTP peer.

``mailflow run`` idles on a real Dovecot; each form is appended and the clock stops when the
aiosmtpd peer has accepted the acknowledgement. Beside it, in the same run and alternating
with it, a bare echo (imapclient IDLE -> fetch -> aiosmtplib send, nothing else) measures the
floor the servers impose (Dovecot holds IDLE notifications about half a second).

    python benchmarks/intake_latency.py [--mails 50] [--backend sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import threading
import time

import _setup
import aiosmtplib
from imapclient import IMAPClient
from mailbuilder import REQUEST_FORM_ZH, message


class Echo(threading.Thread):
    """IDLE on a mailbox and forward each new message to the SMTP peer, as fast as possible."""

    def __init__(self, account, peer) -> None:
        super().__init__(daemon=True)
        self.account, self.peer = account, peer
        self.stop = threading.Event()
        self.ready = threading.Event()
        self.seen: set[int] = set()
        self.resets = 0

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self._forward()
            except (OSError, IMAPClient.Error) as exc:
                self.resets += (
                    1  # seen now and then on Dovecot's IDLE DONE; reconnect like a watcher
                )
                print(f"echo: {type(exc).__name__}: {exc}; reconnecting")
                time.sleep(0.5)

    def _forward(self) -> None:
        client = IMAPClient(self.account.host, port=self.account.port, ssl=False, timeout=30)
        client.login(self.account.username, self.account.password)
        client.select_folder("INBOX")
        loop = asyncio.new_event_loop()
        try:
            self._catch_up(client, loop)
            client.idle()
            self.ready.set()
            while not self.stop.is_set():
                if not client.idle_check(timeout=0.2):
                    continue
                client.idle_done()
                self._catch_up(client, loop)
                client.idle()
            client.idle_done()
            client.logout()
        finally:
            loop.close()

    def _catch_up(self, client: IMAPClient, loop: asyncio.AbstractEventLoop) -> None:
        new = [uid for uid in client.search(["ALL"]) if uid not in self.seen]
        for uid, data in client.fetch(new, ["BODY.PEEK[]"]).items():
            self.seen.add(uid)
            if self.ready.is_set():
                loop.run_until_complete(
                    aiosmtplib.send(
                        data[b"BODY[]"],
                        sender="echo@example.com",
                        recipients=["echo-target@example.com"],
                        hostname=self.peer.host,
                        port=self.peer.port,
                    )
                )


def wait_for(peer, predicate, start: int, timeout: float = 20.0) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for received in peer.messages[start:]:
            if predicate(received):
                return received.received_at
        time.sleep(0.002)
    raise TimeoutError("no mail arrived")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mails", type=int, default=50)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()

    with _setup.servers() as (dovecot, peer), _setup.mailflow(dovecot, peer, args.backend) as flow:
        flow.run_once()  # create the schema and the folders before timing
        flow.start_daemon()
        echo = Echo(dovecot.account(), peer)
        echo.start()
        echo.ready.wait(10)
        time.sleep(1.0)  # both are idling now
        mailflow_times, echo_times = [], []
        for i in range(args.mails):
            raw = message(
                sender=("张伟", "zhang.wei@example.com"), subject=f"申请 {i}", text=REQUEST_FORM_ZH
            )
            start, before = time.monotonic(), len(peer.messages)
            flow.imap.append(raw)
            try:
                arrived = wait_for(peer, _is_ack, before)
            except TimeoutError:
                raise SystemExit(f"form {i}: no acknowledgement\n{flow.log()[-4000:]}") from None
            mailflow_times.append(arrived - start)
            time.sleep(0.2)  # let the notifications go out before the next form

            start, before = time.monotonic(), len(peer.messages)
            echo.account.append(raw)
            try:
                arrived = wait_for(peer, lambda r: "echo-target@example.com" in r.rcpt_tos, before)
            except TimeoutError:
                log = dovecot.log_file.read_text(errors="replace")[-3000:]
                raise SystemExit(f"echo {i}: nothing arrived; Dovecot's log ends:\n{log}") from None
            echo_times.append(arrived - start)
        echo.stop.set()
        flow.stop_daemon()

    report("mailflow run (APPEND -> ack accepted)", mailflow_times)
    report("bare IDLE->fetch->SMTP echo", echo_times)
    ratio = statistics.median(mailflow_times) / statistics.median(echo_times)
    print(
        f"median ratio mailflow / echo: {ratio:.2f}x  ({args.mails} mails each, backend {args.backend})"
    )
    if echo.resets:
        print(f"(the echo's IDLE connection was reset {echo.resets} time(s) and reconnected)")


def _is_ack(received) -> bool:
    return received.message()["X-Mailflow-Kind"] == "request_ack"


def report(name: str, values: list[float]) -> None:
    print(
        f"{name:40s} median {statistics.median(values) * 1000:7.1f} ms   "
        f"p95 {_setup.percentile(values, 0.95) * 1000:7.1f} ms   max {max(values) * 1000:7.1f} ms"
    )


if __name__ == "__main__":
    main()
