"""``mailflow run``: the watcher thread, the sender task and the duty scheduler, until a signal;
and ``run --once``, the same pipeline until the mailbox is empty and everything is sent.

The watcher (blocking IMAP IDLE) runs in a thread and wakes the sender the moment a message
has been committed; the sender drains the outbox on the asyncio loop; APScheduler ticks the
time-based duties. SIGTERM/SIGINT finish the message in hand, send what is queued and exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import signal
import threading
from dataclasses import dataclass, field

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from mailflow.app import App
from mailflow.instance import Instance
from mailflow.sender import DrainReport
from mailflow.sweeps import DutyReport

log = logging.getLogger("mailflow.daemon")

SENDER_POLL_SECONDS = 15.0  # retries of deferred mail are noticed at least this often
GATHER_SECONDS = 0.05  # run --once: mail queued meanwhile is sent in the same batch


async def serve(app: App) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    wake = asyncio.Event()
    app.ingest.on_commit = lambda: loop.call_soon_threadsafe(wake.set)

    me = Instance(app)
    watcher_stop = threading.Event()
    watcher = threading.Thread(target=me.watch, args=(watcher_stop,), name="watcher", daemon=True)
    watcher.start()
    sender = asyncio.create_task(_send_loop(app, wake, stop), name="sender")
    background = [asyncio.create_task(me.heartbeat(stop), name="heartbeat")]
    if app.config.metrics.listen:
        background.append(
            asyncio.create_task(me.serve_metrics(app.config.metrics.listen, stop), name="metrics")
        )
    scheduler = _duty_scheduler(app, wake)
    scheduler.start()
    log.info(
        "mailflow running: watching %s on %s", app.config.mailbox.folder, app.config.mailbox.host
    )

    await stop.wait()
    log.info("stopping: finishing the message in hand")
    scheduler.shutdown(wait=False)
    watcher_stop.set()
    await asyncio.to_thread(watcher.join)
    wake.set()
    await sender
    await asyncio.gather(*background)
    log.info("stopped")


def _duty_scheduler(app: App, wake: asyncio.Event) -> AsyncIOScheduler:
    """Tick the duties every ``schedule.tick_interval``; a late tick is coalesced, never dropped."""

    async def tick() -> None:
        try:
            await asyncio.to_thread(app.run_duties)
        except Exception:  # the database may be down: the next tick catches up
            log.exception("duties failed; the next tick catches up")
        wake.set()

    scheduler = AsyncIOScheduler()
    scheduler.add_job(
        tick,
        "interval",
        seconds=app.config.schedule.tick_interval.delta.total_seconds(),
        next_run_time=dt.datetime.now(dt.UTC),
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
    )
    return scheduler


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
            await app.sender.close()
            return


async def once(app: App) -> OnceReport:
    """Process every waiting message while sending what they cause, then send the rest."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    wake = asyncio.Event()
    app.ingest.on_commit = lambda: loop.call_soon_threadsafe(wake.set)
    processing = asyncio.ensure_future(asyncio.to_thread(app.watcher().run_once))
    report = OnceReport()
    while not processing.done():
        waiter = asyncio.ensure_future(wake.wait())
        await asyncio.wait({waiter, processing}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        await asyncio.sleep(GATHER_SECONDS)  # let a few commits gather into one claim
        wake.clear()
        report.sending += await app.sender.drain()
    report.filed, report.processing_seconds = processing.result(), loop.time() - started
    report.duties = await asyncio.to_thread(app.run_duties)
    report.sending += await app.sender.drain()
    await app.sender.close()
    report.total_seconds = loop.time() - started
    return report


@dataclass
class OnceReport:
    filed: int = 0
    sending: DrainReport = field(default_factory=DrainReport)
    processing_seconds: float = 0.0
    total_seconds: float = 0.0
    duties: DutyReport | None = None

    def __str__(self) -> str:
        return (
            f"processed {self.filed} message(s) in {self.processing_seconds:.2f} s; {self.duties}; "
            f"{self.sending}; all done in {self.total_seconds:.2f} s"
        )
