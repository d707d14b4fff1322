"""Runs the demo: data folder, servers, mailflow, then the scenario or the interactive wait.

Everything runs on one asyncio loop in one process (Dovecot aside, with ``--dovecot``): the
IMAP server, the SMTP server, mailflow's sender and duty scheduler, and the scenario; mailflow's
IMAP watcher runs in a thread as under ``mailflow run``. SIGINT and SIGTERM stop the scenario
or the wait, then mailflow (the message in hand is finished), then the servers, in that order.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import shutil
import signal
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from mailflow import daemon
from mailflow.app import App
from mailflow.config import config_from_dict
from mailflow.demo import directory
from mailflow.demo.console import Console
from mailflow.demo.servers import (
    DemoError,
    DemoSmtp,
    DovecotStore,
    Journal,
    MailStore,
    PymapStore,
    find_dovecot,
    pick_port,
)
from mailflow.mailbox import MailboxWatcher
from mailflow.sweeps import DutyReport

WATCHER_READY_SECONDS = 15.0


@dataclass(frozen=True)
class Options:
    scenario: bool = False
    lang: str = "zh"
    data: Path | None = None
    imap_port: int = 1143
    smtp_port: int = 2525
    dovecot: bool = False
    stay: bool = False  # after the scenario, keep serving until Ctrl-C


class InProcessDaemon:
    """What ``mailflow run`` runs — the watcher thread, the sender task, the duty scheduler —
    started and stopped from code, plus :meth:`tick` for time-shifted duty runs."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.state = "starting"
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._watcher_stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sender: asyncio.Task[None] | None = None
        self._scheduler = None

    async def start(self) -> None:
        """Start everything and wait until the watcher is idling on the coordination mailbox."""
        loop = asyncio.get_running_loop()
        ready = asyncio.Event()

        def on_state(state: str) -> None:
            self.state = state
            if state == "idle":
                loop.call_soon_threadsafe(ready.set)

        self.app.ingest.on_commit = lambda: loop.call_soon_threadsafe(self._wake.set)
        watcher = MailboxWatcher(self.app.config.mailbox, self.app.ingest, on_state=on_state)
        self._thread = threading.Thread(
            target=watcher.run, args=(self._watcher_stop,), name="watcher", daemon=True
        )
        self._thread.start()
        self._sender = asyncio.create_task(
            daemon._send_loop(self.app, self._wake, self._stop), name="sender"
        )
        self._scheduler = daemon._duty_scheduler(self.app, self._wake)
        self._scheduler.start()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ready.wait(), WATCHER_READY_SECONDS)

    def wake_sender(self) -> None:
        self._wake.set()

    async def tick(self, at: dt.datetime) -> DutyReport:
        """Every time-based duty as of ``at`` (as ``mailflow tick --at``), then send."""
        report = await asyncio.to_thread(self.app.run_duties, at)
        self._wake.set()
        return report

    async def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        self._watcher_stop.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 30)
        if self._sender is not None:
            self._stop.set()
            self._wake.set()
            await self._sender


def run(options: Options) -> int:
    """The ``mailflow demo`` command; returns the exit code."""
    temporary = options.data is None
    data = (
        Path(tempfile.mkdtemp(prefix="mailflow-demo-"))
        if temporary
        else options.data.expanduser().resolve()
    )
    data.mkdir(parents=True, exist_ok=True)
    keep = not temporary or options.scenario
    try:
        return asyncio.run(_main(options, data, keep))
    except DemoError as exc:
        print(f"mailflow demo: {exc}", flush=True)
        return 1
    finally:
        if not keep:
            shutil.rmtree(data, ignore_errors=True)


async def _main(options: Options, data: Path, keep: bool) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if logging.getLogger().getEffectiveLevel() >= logging.WARNING:
        # aiosmtpd 1.4 warns of its own deprecated login_data on every successful AUTH
        logging.getLogger("mail.log").setLevel(logging.ERROR)
    console = Console(options.lang)
    journal = Journal(console.mail)
    imap_port, imap_note = pick_port(options.imap_port)
    smtp_port, smtp_note = pick_port(options.smtp_port)
    notes = [note for note in (imap_note, smtp_note) if note]
    store = _store(options, data, imap_port)
    smtp = DemoSmtp(store, journal, smtp_port)
    app: App | None = None
    mailflow: InProcessDaemon | None = None
    try:
        await store.start()
        await smtp.start()
        settings = directory.demo_config(options.lang, imap_port=store.port, smtp_port=smtp.port)
        config_path = directory.write_config(data, settings)
        app = App(config_from_dict(settings, path=config_path))
        await asyncio.to_thread(app.upgrade)
        console.banner(
            store=store.label, imap_port=store.port, smtp_port=smtp.port, data=str(data),
            kept=keep, config=str(config_path), notes=notes,
        )  # fmt: skip
        mailflow = InProcessDaemon(app)
        await mailflow.start()
        if mailflow.state != "idle":
            console.line(f"  ! mailflow's watcher is not idling yet ({mailflow.state})")
        if not options.scenario:
            console.line(_interactive_hint(options.lang))
            await stop.wait()
            console.line(_words(options.lang, "stopping"))
            return 0
        return await _play(options, app, mailflow, smtp.port, journal, console, stop, data)
    finally:
        if mailflow is not None:
            await mailflow.stop()
        await smtp.stop()
        await store.stop()
        if app is not None:
            app.close()


def _store(options: Options, data: Path, port: int) -> MailStore:
    if not options.dovecot:
        return PymapStore(data / "mail", port)
    binary = find_dovecot()
    if binary is None:
        raise DemoError("--dovecot: Dovecot is not installed (apt-get install dovecot-imapd)")
    return DovecotStore(data / "dovecot-mail", port, binary)


async def _play(
    options: Options, app: App, mailflow: InProcessDaemon, smtp_port: int, journal: Journal,
    console: Console, stop: asyncio.Event, data: Path,
) -> int:  # fmt: skip
    from mailflow.demo.scenario import Scenario, ScenarioError

    scenario = Scenario(options.lang, app, mailflow, smtp_port, journal, console)
    started = time.monotonic()
    play = asyncio.create_task(scenario.play())
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait({play, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    if not play.done():
        play.cancel()
        with contextlib.suppress(asyncio.CancelledError, ScenarioError):
            await play
        console.line(_words(options.lang, "interrupted"))
        return 130
    try:
        number = play.result()
    except ScenarioError as exc:
        console.line(f"mailflow demo: the scenario failed: {exc}")
        return 1
    scenario.summary(number, time.monotonic() - started, data)
    if options.stay:
        console.line(_interactive_hint(options.lang))
        await stop.wait()
        console.line(_words(options.lang, "stopping"))
    return 0


_TEXT = {
    "zh": {
        "ready": (
            "就绪。用邮件客户端（Thunderbird、Outlook…）登录上面任一邮箱：IMAP 与 SMTP 服务器 "
            "127.0.0.1，端口见上，连接安全性“无”，普通密码。\n"
            "试试：以张伟登录，随便写一封信寄到 coordination@demo.example，"
            "mailflow 会回复一份空白申请表（附 Word 版）。Ctrl-C 退出。"
        ),
        "stopping": "正在停止……",
        "interrupted": "已中断。",
    },
    "en": {
        "ready": (
            "Ready. Point a mail client (Thunderbird, Outlook…) at any mailbox above: IMAP and "
            "SMTP server 127.0.0.1, the ports above, connection security none, normal password.\n"
            "Try it: as Wei Zhang, mail anything to coordination@demo.example and mailflow "
            "answers with the blank request form (Word form attached). Ctrl-C stops."
        ),
        "stopping": "stopping…",
        "interrupted": "interrupted.",
    },
}


def _words(lang: str, key: str) -> str:
    return _TEXT[lang][key]


def _interactive_hint(lang: str) -> str:
    return _words(lang, "ready")
