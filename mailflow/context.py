"""What every handler and sweep is given: configuration, directory, calendar, renderer, clock."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from mailflow.calendar import WorkCalendar
from mailflow.config import Config, Directory
from mailflow.render import Renderer


@dataclass(frozen=True)
class Context:
    config: Config
    calendar: WorkCalendar
    renderer: Renderer
    now: dt.datetime  # aware; handlers and sweeps never read the clock themselves

    @classmethod
    def build(cls, config: Config, now: dt.datetime) -> Context:
        return cls(
            config=config,
            calendar=WorkCalendar.from_config(config),
            renderer=Renderer(config.organization.timezone),
            now=now,
        )

    @property
    def directory(self) -> Directory:
        return self.config.directory

    def at(self, now: dt.datetime) -> Context:
        return dataclasses.replace(self, now=now)
