"""``mailflow demo``: the whole product on one machine, with nothing else to install or configure.

One process serves, on 127.0.0.1 only, an SMTP server (aiosmtpd) and an IMAP server (pymap, or
the system's Dovecot with ``--dovecot``) holding a mailbox for every person of a demo directory
of four departments, the coordination mailbox and the administration archive; and it runs
mailflow on SQLite against them, exactly as ``mailflow run`` would run against a real mailbox.
No config file is read: the demo generates its own (and writes it to the data folder).

* ``mailflow demo`` prints the accounts and waits, so that a person can play every role from a
  mail client (Thunderbird, Outlook) until Ctrl-C;
* ``mailflow demo --scenario`` plays a whole case by itself (:mod:`mailflow.demo.scenario`)
  and prints every mail, then leaves the state for inspection.

Modules: :mod:`~mailflow.demo.directory` (people, mailboxes, the generated config),
:mod:`~mailflow.demo.servers` (SMTP, IMAP, the delivery journal), :mod:`~mailflow.demo.runner`
(start, run, stop), :mod:`~mailflow.demo.scenario` (the case), :mod:`~mailflow.demo.console`
(what is printed).
"""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["add_arguments", "main"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``mailflow demo``."""
    parser.add_argument(
        "--scenario",
        action="store_true",
        help="play a whole case by itself, print every mail, keep the state for inspection",
    )
    parser.add_argument(
        "--lang", choices=("zh", "en"), default="zh", help="language of the demo (default zh)"
    )
    parser.add_argument(
        "--data",
        metavar="DIR",
        type=Path,
        help="keep the state (SQLite database, mailboxes, knowledge base) in DIR between runs; "
        "default: a temporary folder, removed at exit (kept after --scenario)",
    )
    parser.add_argument(
        "--imap-port",
        type=_port,
        default=1143,
        metavar="PORT",
        help="IMAP port (default 1143; another free one when taken; 0: any free port)",
    )
    parser.add_argument(
        "--smtp-port",
        type=_port,
        default=2525,
        metavar="PORT",
        help="SMTP port (default 2525; another free one when taken; 0: any free port)",
    )
    parser.add_argument(
        "--dovecot",
        action="store_true",
        help="serve the mailboxes with the installed Dovecot instead of pymap",
    )
    parser.add_argument(
        "--stay",
        action="store_true",
        help="with --scenario: keep serving the mailboxes afterwards, until Ctrl-C",
    )


def main(args: argparse.Namespace) -> int:
    """Run ``mailflow demo`` with the parsed ``args``; returns the exit code."""
    from mailflow.demo.runner import Options, run

    return run(
        Options(
            scenario=args.scenario,
            lang=args.lang,
            data=args.data,
            imap_port=args.imap_port,
            smtp_port=args.smtp_port,
            dovecot=args.dovecot,
            stay=args.stay,
        )
    )


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0-65535)")
    return port
