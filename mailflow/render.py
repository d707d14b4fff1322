"""Jinja2 templates for outgoing mail: subject, text and HTML in the recipient's language.

Templates live in ``templates/<lang>/<kind>.{subject,txt,html}.j2``; HTML is autoescaped.
Filters format dates, urgencies and stages the way a careful colleague would write them.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

LABELS: dict[str, dict[str, dict[str, str]]] = {
    "zh": {
        "urgency": {"urgent": "紧急", "important": "重要", "normal": "常规"},
        "weekday": dict(zip("0123456", "一二三四五六日", strict=True)),
    },
    "en": {
        "urgency": {"urgent": "Urgent", "important": "Important", "normal": "Normal"},
        "weekday": dict(
            zip("0123456", ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"), strict=True)
        ),
    },
}


def templates_dir() -> Path:
    """``mailflow/templates`` when installed, ``<checkout>/templates`` when run from source."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "templates", here.parent / "templates"):
        if (candidate / "zh").is_dir():
            return candidate
    raise FileNotFoundError("mailflow's mail templates are missing (templates/zh, templates/en)")


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


class Renderer:
    def __init__(self, timezone: str) -> None:
        self.tz = zoneinfo.ZoneInfo(timezone)
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(templates_dir()),
            autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.env.filters["when"] = self._when
        self.env.filters["day"] = self._day
        self.env.filters["urgency"] = self._urgency
        self.env.filters["span"] = self._span

    def render(self, kind: str, language: str, context: dict[str, Any]) -> Rendered:
        values = {"lang": language, **context}
        subject = self.env.get_template(f"{language}/{kind}.subject.j2").render(values)
        return Rendered(
            subject=" ".join(subject.split()),
            text=self.env.get_template(f"{language}/{kind}.txt.j2").render(values).strip() + "\n",
            html=self.env.get_template(f"{language}/{kind}.html.j2").render(values),
        )

    def render_document(self, name: str, language: str, context: dict[str, Any]) -> str:
        """A standalone document (``templates/<lang>/<name>``), e.g. the case record."""
        return self.env.get_template(f"{language}/{name}").render({"lang": language, **context})

    @jinja2.pass_context
    def _when(self, ctx: jinja2.runtime.Context, moment: dt.datetime | None) -> str:
        if moment is None:
            return ""
        local = moment.astimezone(self.tz)
        weekday = LABELS[ctx["lang"]]["weekday"][str(local.weekday())]
        if ctx["lang"] == "zh":
            return f"{local.year}年{local.month}月{local.day}日（周{weekday}）{local:%H:%M}"
        return f"{weekday} {local.day} {local:%b %Y}, {local:%H:%M}"

    @jinja2.pass_context
    def _day(self, ctx: jinja2.runtime.Context, day: dt.date | None) -> str:
        if day is None:
            return ""
        weekday = LABELS[ctx["lang"]]["weekday"][str(day.weekday())]
        if ctx["lang"] == "zh":
            return f"{day.year}年{day.month}月{day.day}日（周{weekday}）"
        return f"{weekday} {day.day} {day:%b %Y}"

    @jinja2.pass_context
    def _span(self, ctx: jinja2.runtime.Context, span: dt.timedelta) -> str:
        """A length of time as people say it: 3小时 / 2天5小时 / 3 hours / 2 days 5 hours."""
        minutes = max(0, int(span.total_seconds() // 60))
        days, hours, minutes = minutes // 1440, minutes % 1440 // 60, minutes % 60
        zh = ctx["lang"] == "zh"
        parts = (
            [(days, "天", "day"), (hours, "小时", "hour")]
            if days or hours
            else [(minutes, "分钟", "minute")]
        )
        words = [
            f"{n}{zh_unit}" if zh else f"{n} {en_unit}{'s' if n != 1 else ''}"
            for n, zh_unit, en_unit in parts
            if n or len(parts) == 1
        ]
        return ("" if zh else " ").join(words)

    @jinja2.pass_context
    def _urgency(self, ctx: jinja2.runtime.Context, urgency: str) -> str:
        return LABELS[ctx["lang"]]["urgency"].get(urgency, urgency)
