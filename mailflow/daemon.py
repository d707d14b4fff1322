"""``mailflow run``: the watcher thread, the sender task and the duty scheduler, until a signal;
and ``run --once``: the watcher, and the sender in a forked child, until the mailbox is empty
and everything is sent.

The watcher (blocking IMAP IDLE) runs in a thread and wakes the sender the moment a message
has been committed; the sender drains the outbox on the asyncio loop; APScheduler ticks the
time-based duties. SIGTERM/SIGINT finish the message in hand, send what is queued and exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import datetime as dt
import logging
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import NoReturn

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from mailflow.app import App
from mailflow.instance import Instance
from mailflow.sender import DrainReport, instance_name
from mailflow.sweeps import DutyReport

log = logging.getLogger("mailflow.daemon")

SENDER_POLL_SECONDS = 15.0  # retries of deferred mail are noticed at least this often
GATHER_SECONDS = 0.05  # run --once: mail queued meanwhile is sent in the same batch
OVER = b"!"  # run --once: what the watcher writes to the sender when the run is over
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


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


def once(app: App) -> OnceReport:
    """Process every waiting message while a forked child sends what they cause, then the rest.

    Both halves are CPU-bound on a backlog and the threads of one process share one interpreter
    lock, so the watcher runs here and the sender in a child: together they use two cores. The
    child sends each time it is told that commits happened, and once more when told that the
    run is over. If this process dies first, the child dies with it, as one process would, and
    nothing more is sent.
    """
    started = time.monotonic()
    wake_read, wake_write = os.pipe()
    report_read, report_write = os.pipe()
    app.engine.dispose()  # no pooled connection crosses the fork
    parent = os.getpid()
    child = os.fork()
    if child == 0:
        os.close(wake_write)
        os.close(report_read)
        _sender_child(app, parent, wake_read, report_write)
    os.close(wake_read)
    os.close(report_write)
    os.set_blocking(wake_write, False)
    app.ingest.on_commit = lambda: _poke(wake_write)
    report = OnceReport()
    try:
        report.filed = app.watcher().run_once()
        report.processing_seconds = time.monotonic() - started
        report.duties = app.run_duties()
    except BaseException:
        with contextlib.suppress(Exception):  # the first failure is the one to report
            _last_call(child, wake_write, report_read)
        raise
    report.sending = _last_call(child, wake_write, report_read)
    report.total_seconds = time.monotonic() - started
    return report


def _poke(wake: int) -> None:
    """Tell the sender that mail was committed (a full pipe already says so)."""
    with contextlib.suppress(BlockingIOError):
        os.write(wake, b".")


def _last_call(child: int, wake: int, report: int) -> DrainReport:
    """Tell the sender the run is over, wait for it to send the rest, and read its report."""
    os.set_blocking(wake, True)
    os.write(wake, OVER)
    os.close(wake)
    with os.fdopen(report, "rb") as stream:
        line = stream.read().decode()
    _, status = os.waitpid(child, 0)
    if not line:
        raise RuntimeError(f"the sending process ended without a report ({_ended(status)})")
    sent, deferred, failed = (int(n) for n in line.split())
    return DrainReport(sent=sent, deferred=deferred, failed=failed)


def _ended(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"


def _sender_child(app: App, parent: int, wake: int, report: int) -> NoReturn:
    code = 1
    try:
        _die_with(parent)
        app.sender.instance = instance_name()  # its claims name this process
        sent = asyncio.run(_send_when_told(app, wake))
        os.write(report, f"{sent.sent} {sent.deferred} {sent.failed}".encode())
        code = 0
    except BaseException:
        log.exception("the sending process failed")
    finally:
        logging.shutdown()
        os._exit(code)


def _die_with(parent: int) -> None:
    """Have the kernel SIGKILL this process when ``parent`` dies (Linux PR_SET_PDEATHSIG)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it died before the request took effect
        os._exit(1)


async def _send_when_told(app: App, wake: int) -> DrainReport:
    """Drain the outbox at each poke; after OVER, drain once more and return; on EOF (the
    parent died without saying OVER) return at once."""
    loop = asyncio.get_running_loop()
    poked = asyncio.Event()
    state = {"over": False, "orphaned": False}

    def readable() -> None:
        data = os.read(wake, 4096)
        if OVER in data:
            state["over"] = True
        elif not data:
            state["orphaned"] = True
        if state["over"] or state["orphaned"]:  # nothing more to hear (the EOF after OVER)
            loop.remove_reader(wake)
        poked.set()

    loop.add_reader(wake, readable)
    report = DrainReport()
    try:
        while not state["orphaned"]:
            if not poked.is_set():  # idle: let a few commits gather into one claim
                await poked.wait()
                if not state["over"]:
                    await asyncio.sleep(GATHER_SECONDS)
            poked.clear()
            if state["orphaned"]:
                break
            report += await app.sender.drain()
            if state["over"]:
                break
    finally:
        await app.sender.close()
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
