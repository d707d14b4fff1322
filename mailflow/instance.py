"""This process among the instances: it watches the mailbox only while it holds the lease,
reports a heartbeat for ``mailflow status``, and optionally serves ``/metrics``.

The watch loop runs in a thread (imapclient blocks): take the lease, run the watcher until
told to stop or until the lease is lost (the lock's database connection died), then stand by
and try again every few seconds — so when the watching instance dies, another takes over
within ``LEASE_RETRY_SECONDS`` plus one IMAP login.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import re
import threading

from mailflow import alerts, status
from mailflow.app import App
from mailflow.lease import WatcherLease
from mailflow.sender import instance_name

log = logging.getLogger("mailflow.instance")

LEASE_RETRY_SECONDS = 5.0
_LOGIN_FAILED = re.compile(r"authenticat|login|credential|token", re.IGNORECASE)
HEARTBEAT_SECONDS = 15.0


class _Either:
    """Stands in for a ``threading.Event``: set when either event is."""

    def __init__(self, first: threading.Event, second: threading.Event) -> None:
        self.first, self.second = first, second

    def is_set(self) -> bool:
        return self.first.is_set() or self.second.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        step = 0.2 if timeout is None else min(0.2, timeout)
        waited = 0.0
        while not self.is_set() and (timeout is None or waited < timeout):
            self.first.wait(step)
            waited += step
        return self.is_set()


class Instance:
    def __init__(self, app: App) -> None:
        self.app = app
        self.name = instance_name()
        self.lease = WatcherLease(app.engine)
        self.mailbox_state = "standby"
        self.watching = False
        self._alerted = False
        self._finished = False  # stopped: no more heartbeats (the watcher's last words come later)

    def watch(self, stop: threading.Event) -> None:
        """The watcher thread: watch while leased, stand by otherwise, until ``stop``."""
        while not stop.is_set():
            if not self.lease.acquire():
                self.mailbox_state = "standby (another instance watches the mailbox)"
                stop.wait(LEASE_RETRY_SECONDS)
                continue
            log.info("%s holds the mailbox lease: watching", self.name)
            self.watching = True
            self._state("connecting")
            lost = threading.Event()
            keeper = threading.Thread(
                target=self._keep, args=(stop, lost), name="lease", daemon=True
            )
            keeper.start()
            try:
                watcher = self.app.watcher(on_state=self._state)
                watcher.run(_Either(stop, lost))
            finally:
                self.watching = False
                lost.set()
                keeper.join()
            if not stop.is_set():
                log.warning("%s lost the mailbox lease; standing by", self.name)
        self.lease.release()

    def _keep(self, stop: threading.Event, lost: threading.Event) -> None:
        while not stop.is_set() and not lost.is_set():
            if not self.lease.held():
                lost.set()
                return
            lost.wait(LEASE_RETRY_SECONDS)

    def _state(self, state: str) -> None:
        changed = state != self.mailbox_state
        self.mailbox_state = state
        if changed:
            self._beat()  # status shows a change of the connection at once, not at the next beat
        if state in ("connected", "idle"):
            self._alerted = False
        elif _LOGIN_FAILED.search(state) and not self._alerted:
            self._alerted = True
            self._alert(state)

    def _alert(self, state: str) -> None:
        """Tell the admin once (a day) that the mailbox refuses our login; retries go on quietly."""
        try:
            with self.app.sessions.begin() as session:
                alerts.login_failure(session, self.app.context.at(_now()), "IMAP", state)
        except Exception as exc:
            log.warning("could not queue the login alert: %s", exc)

    async def heartbeat(self, stop: asyncio.Event) -> None:
        """Record this instance's role and mailbox state every ``HEARTBEAT_SECONDS``."""
        while not stop.is_set():
            await asyncio.to_thread(self._beat)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), HEARTBEAT_SECONDS)
        await asyncio.to_thread(self._stopped)

    def _beat(self) -> None:
        if self._finished:
            return
        try:
            with self.app.sessions.begin() as session:
                role = "watcher" if self.watching else "standby"
                status.heartbeat(
                    session, self.name, role=role, mailbox_state=self.mailbox_state, now=_now()
                )
        except Exception as exc:  # the database may be down; the next beat tries again
            log.warning("heartbeat not recorded: %s", exc)

    def _stopped(self) -> None:
        self._finished = True
        with contextlib.suppress(Exception), self.app.sessions.begin() as session:
            status.stopped(session, self.name, _now())

    async def serve_metrics(self, listen: str, stop: asyncio.Event) -> None:
        """A minimal HTTP server answering ``GET /metrics`` (Prometheus text format)."""
        host, _, port = listen.rpartition(":")
        server = await asyncio.start_server(self._answer, host or "127.0.0.1", int(port))
        log.info("metrics on http://%s/metrics", listen)
        async with server:
            await stop.wait()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readline(), 5)
            while (await asyncio.wait_for(reader.readline(), 5)) not in (b"\r\n", b"\n", b""):
                pass
            if request.split(b" ")[:2] == [b"GET", b"/metrics"]:
                body = (await asyncio.to_thread(self._metrics)).encode()
                head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
            else:
                body, head = (
                    b"not found\n",
                    b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\n",
                )
            writer.write(
                head + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body
            )
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    def _metrics(self) -> str:
        ctx = self.app.context.at(_now())
        with self.app.sessions() as session:
            return status.metrics(status.health(session, ctx))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
