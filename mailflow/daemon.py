"""``mailflow run``: the watcher thread, the sender task and the duty scheduler, until a signal.

The watcher (blocking IMAP IDLE) runs in a thread and wakes the sender the moment a message
has been committed; the sender drains the outbox on the asyncio loop; APScheduler ticks the
time-based duties. SIGTERM/SIGINT finish the message in hand, send what is queued and exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading

from mailflow.app import App

log = logging.getLogger("mailflow.daemon")

SENDER_POLL_SECONDS = 15.0  # retries of deferred mail are noticed at least this often


async def serve(app: App) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    wake = asyncio.Event()
    app.ingest.on_commit = lambda: loop.call_soon_threadsafe(wake.set)

    watcher_stop = threading.Event()
    watcher = threading.Thread(
        target=app.watcher().run, args=(watcher_stop,), name="watcher", daemon=True
    )
    watcher.start()
    sender = asyncio.create_task(_send_loop(app, wake, stop), name="sender")
    log.info(
        "mailflow running: watching %s on %s", app.config.mailbox.folder, app.config.mailbox.host
    )

    await stop.wait()
    log.info("stopping: finishing the message in hand")
    watcher_stop.set()
    await asyncio.to_thread(watcher.join)
    wake.set()
    await sender
    log.info("stopped")


async def _send_loop(app: App, wake: asyncio.Event, stop: asyncio.Event) -> None:
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), timeout=SENDER_POLL_SECONDS)
        wake.clear()
        try:
            await app.sender.drain()
        except Exception:  # the database or SMTP may be down: log, keep going, retry later
            log.exception("sending failed; will retry")
        if stop.is_set():
            return
