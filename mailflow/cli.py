"""The ``mailflow`` command: parses arguments and calls the functions the daemon uses.

Exit codes: 0 success, 1 a failure (one line on stderr), 2 a bad config or bad arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from mailflow import demo, reports, status
from mailflow.app import App
from mailflow.config import ConfigError, load_config
from mailflow.sender import DrainReport


class CommandError(Exception):
    """A failure to report on one line and exit 1."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mailflow", description="Cross-department coordination run entirely over e-mail."
    )
    parser.add_argument(
        "-c", "--config", help="config file (default: $MAILFLOW_CONFIG, else ./mailflow.toml)"
    )
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="the daemon: watch the mailbox, process, send, schedule")
    run.add_argument("--once", action="store_true", help="process what is waiting, send, and exit")
    commands.add_parser("check", help="validate the config and test IMAP, SMTP and the database")
    commands.add_parser(
        "status", help="instances, mailbox connection, outbox backlog, failures, next duties"
    )
    tick = commands.add_parser(
        "tick", help="run every time-based duty (chasers, escalations, …) and send"
    )
    tick.add_argument(
        "--at", type=_moment, help="as of this moment (ISO 8601, e.g. 2026-12-01T10:00+08:00)"
    )
    preview = commands.add_parser("preview", help="print what tick would send, without sending")
    preview.add_argument("--at", type=_moment, help="as of this moment (ISO 8601); default now")

    action_commands = commands.add_parser("actions", help="the action tracker").add_subparsers(
        dest="actions_command", required=True, metavar="ACTION"
    )
    action_listing = action_commands.add_parser(
        "list", help="action items, their owners, due dates, status"
    )
    action_listing.add_argument("--overdue", action="store_true", help="only overdue items")
    action_listing.add_argument("--request", default="", help="only this request (REQ-…)")
    action_listing.add_argument(
        "--at", type=_moment, help="overdue as of this moment (default now)"
    )
    report_commands = commands.add_parser("report", help="reports without mailing").add_subparsers(
        dest="report_command", required=True, metavar="REPORT"
    )
    weekly = report_commands.add_parser("weekly", help="write a request's tracker as .xlsx")
    weekly.add_argument("--request", required=True, help="request number (REQ-…)")
    weekly.add_argument("--out", required=True, help="the .xlsx file to write")

    database = commands.add_parser("db", help="database schema")
    database_commands = database.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    database_commands.add_parser("upgrade", help="create or migrate the schema")

    requests = commands.add_parser("requests", help="coordination requests (cases)")
    requests_commands = requests.add_subparsers(
        dest="requests_command", required=True, metavar="ACTION"
    )
    listing = requests_commands.add_parser(
        "list", help="open requests, their stage and who is late"
    )
    listing.add_argument(
        "--status",
        choices=("open", "closed", "all"),
        default="open",
        help="which requests (default open)",
    )
    listing.add_argument(
        "--all", action="store_const", const="all", dest="status", help="= --status all"
    )
    listing.add_argument(
        "--late", action="store_true", help="only requests with late departments or items"
    )
    listing.add_argument(
        "--department", default="", help="only requests this department takes part in"
    )
    listing.add_argument("--at", type=_moment, help="who is late as of this moment (default now)")
    show = requests_commands.add_parser("show", help="the whole record of one request")
    show.add_argument("number", help="request number, e.g. REQ-2026-0001")
    show.add_argument("--format", choices=("text", "md", "html"), default="text")

    demo.add_arguments(
        commands.add_parser(
            "demo",
            help="a local sandbox: mail servers, a demo directory and mailflow (no config file)",
            description="Start, on 127.0.0.1, an SMTP and an IMAP server with a mailbox for "
            "every person of a demo directory, and mailflow on SQLite against them. "
            "Reads no config file.",
        )
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(args.verbose)
    if args.command == "demo":  # self-contained: generates its own config
        try:
            return demo.main(args)
        except KeyboardInterrupt:
            return 130
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"mailflow: bad config: {exc}", file=sys.stderr)
        return 2
    app = App(config)
    try:
        return _dispatch(app, args)
    except CommandError as exc:
        print(f"mailflow: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        app.close()


def _dispatch(app: App, args: argparse.Namespace) -> int:
    if args.command == "check":
        return _check(app)
    app.upgrade()
    if args.command == "db":
        print("database schema is up to date")
        return 0
    if args.command == "run":
        return _run(app, once=args.once)
    if args.command == "status":
        ctx = app.context.at(app.clock())
        with app.sessions() as session:
            print(status.report(status.health(session, ctx), ctx))
        return 0
    if args.command == "tick":
        print(app.run_duties(_localised(app, args.at)))
        print(asyncio.run(_drain(app)))
        return 0
    if args.command == "preview":
        print(_preview(app, _localised(app, args.at) or app.clock()))
        return 0
    if args.command == "requests":
        with app.sessions() as session:
            if args.requests_command == "list":
                now = _localised(app, args.at) or app.clock()
                listing = reports.request_list(
                    session,
                    app.context.at(now),
                    status=args.status,
                    late_only=args.late,
                    department=args.department,
                )
                print(listing)
            else:
                record = reports.request_record(session, app.context, args.number, args.format)
                if record is None:
                    raise CommandError(f"no request {args.number}")
                print(record)
        return 0
    if args.command == "actions":
        now = _localised(app, args.at) or app.clock()
        with app.sessions() as session:
            print(
                reports.action_list(
                    session, app.context.at(now), overdue_only=args.overdue, number=args.request
                )
            )
        return 0
    if args.command == "report":
        with app.sessions() as session:
            workbook = reports.weekly_report(session, app.context.at(app.clock()), args.request)
        if workbook is None:
            raise CommandError(f"no request {args.request}")
        Path(args.out).write_bytes(workbook)
        print(f"wrote {args.out}")
        return 0
    raise CommandError(f"unknown command {args.command}")


def _run(app: App, *, once: bool) -> int:
    if once:
        from mailflow.daemon import once as run_once

        print(run_once(app))
        return 0
    from mailflow.daemon import serve

    asyncio.run(serve(app))
    return 0


async def _drain(app: App) -> DrainReport:
    try:
        return await app.sender.drain()
    finally:
        await app.sender.close()


def _moment(text: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 time (2026-12-01T10:00+08:00)"
        ) from None


def _localised(app: App, moment: dt.datetime | None) -> dt.datetime | None:
    """A time without a zone is read in the organisation's time zone."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=app.config.organization.tz)
    return moment


def _preview(app: App, at: dt.datetime) -> str:
    rows = app.preview_duties(at)
    if not rows:
        return f"nothing would be sent as of {at.isoformat(timespec='minutes')}"
    lines = [f"{len(rows)} mail(s) would be sent as of {at.isoformat(timespec='minutes')}:"]
    for row in rows:
        cc = f" cc {', '.join(row.cc_addrs)}" if row.cc_addrs else ""
        lines.append(
            f"- {row.kind} to {', '.join(row.to_addrs)}{cc}: {row.subject}  [{row.dedupe_key}]"
        )
    return "\n".join(lines)


def _check(app: App) -> int:
    checks = {
        "config": lambda: f"{app.config.path}: {len(app.config.directory.departments)} departments",
        "database": lambda: _check_database(app),
        "imap": lambda: app.watcher().check(),
        "smtp": lambda: asyncio.run(app.sender.check()),
    }
    failures = 0
    for name, check in checks.items():
        try:
            print(f"ok    {name}: {check()}")
        except Exception as exc:
            failures += 1
            print(f"FAIL  {name}: {exc}")
    return 1 if failures else 0


def _check_database(app: App) -> str:
    app.upgrade()
    with app.sessions() as session:
        session.connection()
    return f"{app.engine.url.render_as_string(hide_password=True)} (schema up to date)"


def _setup_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity == 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
