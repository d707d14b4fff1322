"""Jinja2 templates for outgoing mail: subject, text and HTML in the recipient's language.

A mail kind is ``templates/<lang>/<kind>.subject.j2`` plus either one ``<kind>.body.j2``,
rendered twice — as text, and as HTML in an autoescaping environment — through the block
macros of ``templates/_blocks.j2``, or a hand-written ``<kind>.txt.j2`` and ``<kind>.html.j2``
pair. Filters format dates, spans and urgencies the way a careful colleague writes them.
"""

from __future__ import annotations

import functools
import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from mailflow import phrases


@functools.cache
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
        self.env = self._environment(
            jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False)
        )
        self.html_env = self._environment(True)  # for the single-source .body.j2 templates

    def _environment(self, autoescape: bool | Callable[[str | None], bool]) -> jinja2.Environment:
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(templates_dir()),
            autoescape=autoescape,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,  # templates ship with the package: no stat() per mail
        )
        for phrase in phrases.FILTERS:
            env.filters[phrase.__name__] = self._filter(phrase)
        return env

    def _filter(self, phrase: Callable[..., Any]) -> Callable[..., Any]:
        @jinja2.pass_context
        def apply(ctx: jinja2.runtime.Context, *args: Any) -> Any:
            return phrase(phrases.Phrasing(ctx["lang"], self.tz), *args)

        return apply

    def render(self, kind: str, language: str, context: dict[str, Any]) -> Rendered:
        values = {"lang": language, **context}
        subject = self.env.get_template(f"{language}/{kind}.subject.j2").render(values)
        body = f"{language}/{kind}.body.j2"
        if _single_source(body):
            text = self.env.get_template(body).render({**values, "fmt": "text"})
            html = self.html_env.get_template(body).render({**values, "fmt": "html"})
        else:
            text = self.env.get_template(f"{language}/{kind}.txt.j2").render(values)
            html = self.env.get_template(f"{language}/{kind}.html.j2").render(values)
        return Rendered(subject=" ".join(subject.split()), text=_tidy(text), html=html)

    def render_document(self, name: str, language: str, context: dict[str, Any]) -> str:
        """A standalone document (``templates/<lang>/<name>``), e.g. the case record."""
        return self.env.get_template(f"{language}/{name}").render({"lang": language, **context})


@functools.cache
def _single_source(name: str) -> bool:
    """Whether a kind is written as one ``.body.j2`` (else a ``.txt.j2`` + ``.html.j2`` pair)."""
    return (templates_dir() / name).exists()


def _tidy(text: str) -> str:
    """Text mail: no trailing spaces, at most one blank line in a row, one final newline."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"
