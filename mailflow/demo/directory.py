"""The demo organisation: four departments, their people, mailboxes and the generated config.

Every person of the directory, the coordination mailbox and the administration archive get a
mailbox in the demo domain, all with the same password. :func:`demo_config` builds the
configuration mailflow runs with (as a dict for :func:`mailflow.config.config_from_dict`);
:func:`config_toml` writes the same settings as a TOML file, so ``mailflow -c FILE …`` works
on the demo's state while it runs and afterwards.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DOMAIN = "demo.example"
PASSWORD = "demo"
COORDINATION = f"coordination@{DOMAIN}"
ARCHIVE = f"archive@{DOMAIN}"
LANGUAGES = ("zh", "en")


@dataclass(frozen=True)
class Member:
    """One person of the demo directory, named in both languages."""

    local: str  # the part before @demo.example
    zh: str
    en: str

    @property
    def address(self) -> str:
        return f"{self.local}@{DOMAIN}"

    def name(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def formatted(self, lang: str) -> str:
        """``王芳 <wang.fang@demo.example>``, as the config and the banner write it."""
        return f"{self.name(lang)} <{self.address}>"


@dataclass(frozen=True)
class Unit:
    """A department of the demo directory."""

    key: str
    zh: str
    en: str
    head: Member
    contacts: tuple[Member, ...] = ()
    supervisor: Member | None = None
    members: tuple[Member, ...] = ()

    def name(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def people(self) -> tuple[Member, ...]:
        return (self.head, *self.contacts, *self.members)


WANG = Member("wang.fang", "王芳", "Fang Wang")  # 市场部 head: lead department, meeting host
LI = Member("li.na", "李娜", "Na Li")  # 市场部 contact: records the minutes
ZHANG = Member("zhang.wei", "张伟", "Wei Zhang")  # 市场部 member: the requester
ZHAO = Member("vp.sales", "赵总", "Director Zhao")  # supervisor of 市场部
CHEN = Member("chen.jie", "陈杰", "Jie Chen")  # 产品部 head
LIU = Member("liu.yang", "刘洋", "Yang Liu")  # 产品部 contact
SUN = Member("vp.product", "孙总", "Director Sun")  # supervisor of 产品部 and 技术支持部
HUANG = Member("huang.lei", "黄磊", "Lei Huang")  # 技术支持部 head
ZHOU = Member("zhou.min", "周敏", "Min Zhou")  # 技术支持部 contact
WU = Member("wu.jing", "吴静", "Jing Wu")  # 行政部 head
ZHENG = Member("coo", "郑总", "COO Zheng")  # supervisor of 行政部

MARKETING = Unit("marketing", "市场部", "Marketing", WANG, (LI,), ZHAO, (ZHANG,))
PRODUCT = Unit("product", "产品部", "Product", CHEN, (LIU,), SUN)
SUPPORT = Unit("support", "技术支持部", "Technical Support", HUANG, (ZHOU,), SUN)
ADMINISTRATION = Unit("administration", "行政部", "Administration", WU, (), ZHENG)
UNITS = (MARKETING, PRODUCT, SUPPORT, ADMINISTRATION)

_ALIASES = {
    "marketing": ("市场",),
    "product": ("产品",),
    "support": ("技术支持", "Support"),
    "administration": ("Admin",),
}

ORGANIZATION = {"zh": "示例集团", "en": "Example Group"}
COORDINATOR = {"zh": "跨部门协调中心", "en": "Coordination Office"}
ARCHIVE_NAME = {"zh": "行政部备案", "en": "Administration archive"}


def people() -> list[Member]:
    """Everyone in the directory, supervisors included, each once."""
    seen: dict[str, Member] = {}
    for unit in UNITS:
        for person in (*unit.people(), *([unit.supervisor] if unit.supervisor else [])):
            seen.setdefault(person.address, person)
    return list(seen.values())


def mailboxes() -> list[str]:
    """Every address that has a mailbox: the people, the coordination mailbox, the archive."""
    return [COORDINATION, ARCHIVE, *(p.address for p in people())]


def owner_of(address: str) -> str | None:
    """The mailbox that receives mail for ``address`` (``+tag`` dropped), or None if none does.

    ``coordination+TOKEN@demo.example`` (mailflow's reply tokens) lands in the coordination
    mailbox, as sub-addressing does on Dovecot, Exchange and Gmail.
    """
    local, _, domain = address.strip().strip("<>").lower().rpartition("@")
    if domain != DOMAIN:
        return None
    mailbox = f"{local.split('+', 1)[0]}@{DOMAIN}"
    return mailbox if mailbox in mailboxes() else None


def display_name(address: str, lang: str) -> str:
    """How the demo's output names ``address``: the person, the coordination centre, the archive."""
    owner = owner_of(address) or address.lower()
    if owner == COORDINATION:
        return COORDINATOR[lang]
    if owner == ARCHIVE:
        return ARCHIVE_NAME[lang]
    for person in people():
        if person.address == owner:
            return person.name(lang)
    return address


def demo_config(lang: str, *, imap_port: int, smtp_port: int) -> dict[str, Any]:
    """The mailflow configuration of the demo, as the dict a ``mailflow.toml`` would load to.

    Paths are relative to the config file's folder (the demo's data directory); deadlines are
    the product's defaults (the scenario moves the clock instead of shortening them).
    """
    departments = []
    for unit in UNITS:
        other = unit.en if lang == "zh" else unit.zh
        department: dict[str, Any] = {
            "name": unit.name(lang),
            "aliases": [other, *_ALIASES[unit.key]],
            "head": unit.head.formatted(lang),
        }
        if unit.contacts:
            department["contacts"] = [p.formatted(lang) for p in unit.contacts]
        if unit.supervisor:
            department["supervisor"] = unit.supervisor.formatted(lang)
        if unit.members:
            department["members"] = [p.formatted(lang) for p in unit.members]
        departments.append(department)
    return {
        "organization": {
            "name": ORGANIZATION[lang],
            "language": lang,
            "timezone": "Asia/Shanghai",
            "holidays": "CN",
            "allowed_domains": [DOMAIN],
            "admin_archive": ARCHIVE,
            "knowledge_base": "./knowledge-base",
        },
        "mailbox": {
            "host": "127.0.0.1",
            "port": imap_port,
            "security": "none",
            "username": COORDINATION,
            "password": PASSWORD,
            "poll_interval": "2s",  # only if the server offered no IDLE
        },
        "smtp": {
            "host": "127.0.0.1",
            "port": smtp_port,
            "security": "none",
            "from_address": COORDINATION,
            "from_name": COORDINATOR[lang],
            "timeout": "10s",
        },
        "database": {"url": "sqlite:///mailflow.db"},
        "schedule": {"tick_interval": "60s"},
        "departments": departments,
    }


def config_toml(data: dict[str, Any]) -> str:
    """``data`` (strings, numbers, lists of strings, a list of tables) as TOML text."""
    lines = [
        "# Written by `mailflow demo` on every start: the settings the demo's mailflow runs with.",
        "# Inspect the demo's state with it: mailflow -c THIS_FILE requests list",
        "",
    ]
    for section, values in data.items():
        if isinstance(values, list):
            for table in values:
                lines += [f"[[{section}]]", *_pairs(table), ""]
        else:
            lines += [f"[{section}]", *_pairs(values), ""]
    return "\n".join(lines)


def _pairs(table: dict[str, Any]) -> list[str]:
    return [f"{key} = {_value(value)}" for key, value in table.items()]


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a TOML basic string


def write_config(folder: Path, data: dict[str, Any]) -> Path:
    path = folder / "mailflow.toml"
    path.write_text(config_toml(data), encoding="utf-8")
    return path
