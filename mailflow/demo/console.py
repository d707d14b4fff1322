"""What the demo prints: the banner with every account, one line per mail, stage headings.

A mail line reads ``MM-DD HH:MM  from → to (cc …)  [kind] subject``: the time is the mail's
``Date`` in the organisation's time zone (mail that a time-shifted duty run sends carries that
moment), people are shown by their directory names, mailflow's own mail is marked with its kind.
"""

from __future__ import annotations

import datetime as dt
import sys
import zoneinfo
from email.utils import getaddresses, parsedate_to_datetime
from typing import TextIO

from mailflow.demo import directory
from mailflow.demo.servers import Delivered

MAX_NAMES = 4

_WORDS = {
    "zh": {
        "title": "mailflow 演示",
        "state": "数据目录",
        "temporary": "退出时删除；用 --data DIR 保留",
        "kept": "保留",
        "imap": "IMAP",
        "smtp": "SMTP",
        "login": "用户名＝完整邮箱地址，所有邮箱密码：",
        "no_tls": "无 TLS",
        "smtp_note": "只投递 @{domain} 的邮箱，其他域名拒收（550）；AUTH 可选",
        "coordination": "协调邮箱（mailflow 监听，IDLE）",
        "archive": "行政部备案邮箱（mailflow 所发每封邮件密送一份）",
        "departments": "部门与人员（每人一个邮箱）",
        "head": "负责人",
        "contacts": "对接人",
        "supervisor": "分管领导",
        "members": "成员",
        "config": "配置文件",
        "config_hint": "随时查看：mailflow -c {path} requests list",
    },
    "en": {
        "title": "mailflow demo",
        "state": "data folder",
        "temporary": "removed at exit; --data DIR keeps it",
        "kept": "kept",
        "imap": "IMAP",
        "smtp": "SMTP",
        "login": "user name = the full address, password of every mailbox:",
        "no_tls": "no TLS",
        "smtp_note": "delivers to @{domain} mailboxes only, other domains refused (550); AUTH optional",
        "coordination": "coordination mailbox (mailflow watches it with IDLE)",
        "archive": "administration archive (BCC of every mail mailflow sends)",
        "departments": "departments and people (one mailbox each)",
        "head": "head",
        "contacts": "contacts",
        "supervisor": "supervisor",
        "members": "members",
        "config": "config file",
        "config_hint": "inspect any time: mailflow -c {path} requests list",
    },
}


class Console:
    """Prints to ``out`` (stdout), flushing every line so that a pipe sees progress live."""

    def __init__(self, lang: str, timezone: str = "Asia/Shanghai", out: TextIO | None = None):
        self.lang = lang
        self.words = _WORDS[lang]
        self.tz = zoneinfo.ZoneInfo(timezone)
        self.out = out or sys.stdout
        reconfigure = getattr(self.out, "reconfigure", None)
        if reconfigure is not None and "utf" not in (getattr(self.out, "encoding", "") or ""):
            reconfigure(errors="replace")  # a terminal without UTF-8 shows "?", never crashes

    def line(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def banner(
        self, *, store: str, imap_port: int, smtp_port: int, data: str, kept: bool, config: str,
        notes: list[str],
    ) -> None:  # fmt: skip
        w, lang = self.words, self.lang
        self.line(f"{w['title']} — 127.0.0.1")
        self.line(f"  {w['state']}: {data} ({w['kept'] if kept else w['temporary']})")
        self.line(f"  {w['imap']}: 127.0.0.1:{imap_port} ({store}, {w['no_tls']})")
        self.line(
            f"  {w['smtp']}: 127.0.0.1:{smtp_port} (aiosmtpd, {w['no_tls']}; "
            f"{w['smtp_note'].format(domain=directory.DOMAIN)})"
        )
        self.line(f"  {w['login']} {directory.PASSWORD}")
        for note in notes:
            self.line(f"  ! {note}")
        self.line(f"  {w['coordination']}: {directory.COORDINATION}")
        self.line(f"  {w['archive']}: {directory.ARCHIVE}")
        self.line(f"  {w['departments']}:")
        for unit in directory.UNITS:
            parts = [f"{w['head']} {unit.head.formatted(lang)}"]
            if unit.contacts:
                contacts = ", ".join(p.formatted(lang) for p in unit.contacts)
                parts.append(f"{w['contacts']} {contacts}")
            if unit.members:
                parts.append(f"{w['members']} {', '.join(p.formatted(lang) for p in unit.members)}")
            if unit.supervisor:
                parts.append(f"{w['supervisor']} {unit.supervisor.formatted(lang)}")
            self.line(f"    {unit.name(lang)}: {'; '.join(parts)}")
        self.line(f"  {w['config']}: {config}")
        self.line(f"    {w['config_hint'].format(path=config)}")

    def mail(self, entry: Delivered) -> None:
        self.line("  " + self.mail_line(entry))

    def mail_line(self, entry: Delivered) -> str:
        message = entry.message
        when = _date(message.get("Date"), entry.at).astimezone(self.tz)
        sender = self._names(message.get_all("From", []), entry.mail_from)
        to = self._names(message.get_all("To", []), "")
        cc = self._names(message.get_all("Cc", []), "")
        if not to and not cc:  # e.g. the archive's copy of a BCC-only mail
            to = ", ".join(directory.display_name(m, self.lang) for m in entry.mailboxes)
        recipients = to + (f" (cc {cc})" if cc else "")
        kind = f"[{entry.kind}] " if entry.kind else ""
        subject = " ".join(str(message.get("Subject", "")).split())
        return f"{when:%m-%d %H:%M}  {sender} → {recipients}  {kind}{subject}"

    def _names(self, headers: list[str], fallback: str) -> str:
        addresses = [a for _, a in getaddresses([str(h) for h in headers]) if a]
        if not addresses and fallback:
            addresses = [fallback]
        names = list(dict.fromkeys(directory.display_name(a, self.lang) for a in addresses))
        shown = ", ".join(names[:MAX_NAMES])
        return shown + (f" +{len(names) - MAX_NAMES}" if len(names) > MAX_NAMES else "")


def _date(value: object, fallback: dt.datetime) -> dt.datetime:
    try:
        moment = parsedate_to_datetime(str(value)) if value else fallback
    except (TypeError, ValueError):
        return fallback
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
