"""The configuration file: reading, validating and the typed result.

This is the only module that reads files or the environment for settings. Every error names
the key (``mailbox.port``) and says what is allowed; ``*_env`` keys pull secrets from the
environment. The department directory (people, heads, supervisors, aliases) lives here too,
because it comes from the config file and every stage consults it.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
import tomllib
import unicodedata
import zoneinfo
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from email.utils import formataddr, parseaddr
from pathlib import Path
from typing import Any

DEFAULT_CONFIG_NAME = "mailflow.toml"
LANGUAGES = ("zh", "en")
SECURITY_MODES = ("ssl", "starttls", "none")
AUTH_MODES = ("password", "xoauth2")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ConfigError(Exception):
    """A configuration problem, always naming the key at fault."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}" if key else message)
        self.key = key


# ---------------------------------------------------------------- value types


@dataclass(frozen=True)
class Duration:
    """A span of time: either absolute (``24h``, ``1 week``) or counted in working days."""

    text: str
    delta: dt.timedelta = dt.timedelta(0)
    workdays: int = 0

    @property
    def is_workdays(self) -> bool:
        return self.workdays > 0


_DURATION_UNITS: dict[str, dt.timedelta] = {
    "s": dt.timedelta(seconds=1),
    "sec": dt.timedelta(seconds=1),
    "second": dt.timedelta(seconds=1),
    "seconds": dt.timedelta(seconds=1),
    "m": dt.timedelta(minutes=1),
    "min": dt.timedelta(minutes=1),
    "minute": dt.timedelta(minutes=1),
    "minutes": dt.timedelta(minutes=1),
    "h": dt.timedelta(hours=1),
    "hour": dt.timedelta(hours=1),
    "hours": dt.timedelta(hours=1),
    "d": dt.timedelta(days=1),
    "day": dt.timedelta(days=1),
    "days": dt.timedelta(days=1),
    "w": dt.timedelta(weeks=1),
    "week": dt.timedelta(weeks=1),
    "weeks": dt.timedelta(weeks=1),
}
_WORKDAY_UNITS = ("workday", "workdays", "working day", "working days", "wd")
_DURATION_RE = re.compile(r"^\s*(\d+)\s*([a-z ]+?)\s*$")


def parse_duration(text: str, key: str) -> Duration:
    """``"24h"``, ``"30s"``, ``"1 week"``, ``"3 workdays"`` -> :class:`Duration`."""
    if not isinstance(text, str):
        raise ConfigError(key, f'expected a duration such as "24h" or "3 workdays", got {text!r}')
    match = _DURATION_RE.match(text.lower())
    if not match:
        raise ConfigError(
            key, f"{text!r} is not a duration (examples: 30s, 5m, 24h, 1 week, 3 workdays)"
        )
    amount, unit = int(match.group(1)), match.group(2).strip()
    if unit in _WORKDAY_UNITS:
        if amount < 1:
            raise ConfigError(key, "a working-day duration must be at least 1 workday")
        return Duration(text=text, workdays=amount)
    if unit not in _DURATION_UNITS:
        raise ConfigError(
            key, f"unknown unit {unit!r} in {text!r} (allowed: s, m, h, d, week(s), workday(s))"
        )
    return Duration(text=text, delta=amount * _DURATION_UNITS[unit])


_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|k|mb|m|gb|g)?\s*$", re.IGNORECASE)
_SIZE_FACTORS = {
    "b": 1,
    "k": 1024,
    "kb": 1024,
    "m": 1024**2,
    "mb": 1024**2,
    "g": 1024**3,
    "gb": 1024**3,
}


def parse_size(value: Any, key: str) -> int:
    """``"25MB"`` or ``26214400`` -> bytes."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    match = _SIZE_RE.match(str(value)) if isinstance(value, str) else None
    if not match:
        raise ConfigError(key, f"{value!r} is not a size (examples: 25MB, 512KB, 1048576)")
    return int(float(match.group(1)) * _SIZE_FACTORS[(match.group(2) or "b").lower()])


@dataclass(frozen=True)
class Person:
    """One address from the directory, with the display name it may carry."""

    address: str
    name: str = ""

    @property
    def formatted(self) -> str:
        return formataddr((self.name, self.address)) if self.name else self.address

    @property
    def label(self) -> str:
        return self.name or self.address


def parse_person(value: Any, key: str) -> Person:
    """``"王芳 <wang.fang@example.com>"`` or a bare address -> :class:`Person`."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(key, f"expected an e-mail address, got {value!r}")
    name, address = parseaddr(value.strip())
    if not address or "@" not in address or " " in address:
        raise ConfigError(
            key, f"{value!r} is not an e-mail address (name <user@domain> or user@domain)"
        )
    return Person(address=address.lower(), name=name.strip())


def normalize_name(text: str) -> str:
    """Fold width, case and spacing, so that ``"市场 部"`` equals ``"市场部"``
    and ``"ＭＡＲＫＥＴＩＮＧ"`` equals ``"marketing"``."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).casefold()


@dataclass(frozen=True)
class Department:
    name: str
    aliases: tuple[str, ...] = ()
    head: Person | None = None
    contacts: tuple[Person, ...] = ()
    supervisor: Person | None = None
    members: tuple[Person, ...] = ()
    language: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    def people(self) -> Iterator[Person]:
        """Everyone who belongs to the department (head, contacts, members; not the supervisor)."""
        if self.head:
            yield self.head
        yield from self.contacts
        yield from self.members

    def notified(self) -> list[Person]:
        """Who receives the department's mail: the head and the contacts."""
        return unique_people([*([self.head] if self.head else []), *self.contacts])

    def head_and_supervisor(self) -> list[Person]:
        return unique_people(p for p in (self.head, self.supervisor) if p)

    def includes(self, address: str) -> bool:
        address = address.lower()
        return any(p.address == address for p in self.people())


def unique_people(people: Iterable[Person]) -> list[Person]:
    """Drop repeated addresses, keeping the first (named) occurrence."""
    seen: dict[str, Person] = {}
    for person in people:
        if person.address not in seen:
            seen[person.address] = person
    return list(seen.values())


@dataclass(frozen=True)
class Directory:
    """The departments and the people in them, looked up by address, name or alias."""

    departments: tuple[Department, ...] = ()

    def department(self, name: str) -> Department | None:
        """The department called ``name`` or one of its aliases (width/case/space-insensitive)."""
        wanted = normalize_name(name)
        for dept in self.departments:
            if any(normalize_name(n) == wanted for n in dept.names):
                return dept
        return None

    def closest_department(self, name: str) -> str | None:
        """The known department name nearest to an unknown ``name``, for "did you mean"."""
        wanted = normalize_name(name)
        candidates = {normalize_name(n): d.name for d in self.departments for n in d.names}
        if not wanted or not candidates:
            return None
        for key, dept_name in candidates.items():
            if wanted in key or key in wanted:
                return dept_name
        best = difflib.get_close_matches(wanted, list(candidates), n=1, cutoff=0.4)
        return candidates[best[0]] if best else None

    def departments_of(self, address: str) -> list[Department]:
        return [d for d in self.departments if d.includes(address)]

    def person(self, address: str) -> Person | None:
        """The directory entry for ``address`` (any role, supervisors included)."""
        address = address.lower()
        for person in self.everyone():
            if person.address == address:
                return person
        return None

    def people_named(self, name: str) -> list[Person]:
        wanted = normalize_name(name)
        return unique_people(
            p for p in self.everyone() if p.name and normalize_name(p.name) == wanted
        )

    def everyone(self) -> Iterator[Person]:
        for dept in self.departments:
            yield from dept.people()
            if dept.supervisor:
                yield dept.supervisor

    def knows(self, address: str) -> bool:
        return self.person(address) is not None


# ---------------------------------------------------------------- sections


@dataclass(frozen=True)
class OrganizationConfig:
    name: str = "mailflow"
    language: str = "zh"
    timezone: str = "Asia/Shanghai"
    holidays: str = "CN"
    extra_holidays: tuple[dt.date, ...] = ()
    extra_workdays: tuple[dt.date, ...] = ()
    allowed_domains: tuple[str, ...] = ()
    admin_archive: str = ""
    knowledge_base: Path = Path("knowledge-base")
    request_prefix: str = "REQ"
    admin: str = ""  # the operator: daily failure digest (defaults to admin_archive)

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


@dataclass(frozen=True)
class MailboxConfig:
    host: str = "localhost"
    port: int = 993
    security: str = "ssl"
    username: str = ""
    password: str = field(default="", repr=False)
    folder: str = "INBOX"
    processed_folder: str = "mailflow/processed"
    failed_folder: str = "mailflow/failed"
    poll_interval: Duration = Duration("30s", dt.timedelta(seconds=30))
    idle_renew: Duration = Duration("5m", dt.timedelta(minutes=5))
    ca_file: str = ""
    auth: str = "password"
    oauth_token_command: str = ""
    oauth_token_file: str = ""
    max_message_size: int = 25 * 1024 * 1024
    max_attachment_size: int = 10 * 1024 * 1024
    max_attachments: int = 20
    reply_tokens: bool = True  # Reply-To: coordination+TOKEN@… on mail about a case
    trust_authentication_results: bool = False  # act on our own server's DMARC/SPF/DKIM verdicts
    authserv_id: str = ""  # the authserv-id our own server writes into Authentication-Results


@dataclass(frozen=True)
class SmtpConfig:
    host: str = "localhost"
    port: int = 587
    security: str = "starttls"
    username: str = ""
    password: str = field(default="", repr=False)
    from_address: str = "coordination@example.com"
    from_name: str = "跨部门协调中心"
    ca_file: str = ""
    auth: str = "password"
    oauth_token_command: str = ""
    oauth_token_file: str = ""
    timeout: Duration = Duration("30s", dt.timedelta(seconds=30))
    connections: int = 2  # SMTP connections a batch is sent over (mail still completes in order)


@dataclass(frozen=True)
class DatabaseConfig:
    url: str = "sqlite:///mailflow.db"


@dataclass(frozen=True)
class DeadlinesConfig:
    workday_end: dt.time = dt.time(18, 0)
    urgent: Duration = Duration("24h", dt.timedelta(hours=24))
    important: Duration = Duration("3 workdays", workdays=3)
    normal: Duration = Duration("1 week", dt.timedelta(weeks=1))
    escalate_after: Duration = Duration("1 workday", workdays=1)
    minutes_due: Duration = Duration("1 workday", workdays=1)
    confirm_within: Duration = Duration("1 workday", workdays=1)
    review_within: Duration = Duration("3 workdays", workdays=3)

    def for_urgency(self, urgency: str) -> Duration:
        return {"urgent": self.urgent, "important": self.important, "normal": self.normal}[urgency]


@dataclass(frozen=True)
class ScheduleConfig:
    weekly_status_day: int = 0  # Monday
    weekly_status_time: dt.time = dt.time(9, 0)
    tick_interval: Duration = Duration("60s", dt.timedelta(seconds=60))


@dataclass(frozen=True)
class MetricsConfig:
    listen: str = ""  # "127.0.0.1:9464" serves Prometheus /metrics from `mailflow run`


@dataclass(frozen=True)
class Config:
    organization: OrganizationConfig
    mailbox: MailboxConfig
    smtp: SmtpConfig
    database: DatabaseConfig
    deadlines: DeadlinesConfig
    schedule: ScheduleConfig
    directory: Directory
    metrics: MetricsConfig = MetricsConfig()
    path: Path | None = None

    @property
    def mail_domain(self) -> str:
        return self.smtp.from_address.rpartition("@")[2] or "localhost"

    def language_of(self, address: str) -> str:
        """The language to write to ``address`` in: its department's, else the organisation's."""
        for dept in self.directory.departments_of(address):
            if dept.language:
                return dept.language
        return self.organization.language

    def department_language(self, department: Department) -> str:
        """The language of a department's mail: its own, else the organisation's."""
        return department.language or self.organization.language

    def is_own_address(self, address: str) -> bool:
        """True for the coordination address itself and its ``+token`` sub-addresses."""
        local, _, domain = address.lower().partition("@")
        own_local, _, own_domain = self.smtp.from_address.lower().partition("@")
        mailbox_user = self.mailbox.username.lower()
        return (domain == own_domain and local.split("+", 1)[0] == own_local) or (
            bool(mailbox_user) and address.lower() == mailbox_user
        )

    def reply_token_of(self, address: str) -> str:
        """``TOKEN`` of ``coordination+TOKEN@domain`` (our sub-address), else ""."""
        local, _, domain = address.lower().partition("@")
        own_local, _, own_domain = self.smtp.from_address.lower().partition("@")
        base, plus, token = local.partition("+")
        return token if plus and base == own_local and domain == own_domain else ""

    def reply_address(self, token: str) -> str:
        local, _, domain = self.smtp.from_address.partition("@")
        return f"{local}+{token}@{domain}"

    def may_submit(self, address: str) -> bool:
        """Known staff, or anyone in an allowed domain."""
        if self.directory.knows(address):
            return True
        domain = address.lower().rpartition("@")[2]
        return domain in self.organization.allowed_domains


# ---------------------------------------------------------------- loading


def resolve_config_path(explicit: str | os.PathLike[str] | None) -> Path:
    """``-c PATH``, else ``$MAILFLOW_CONFIG``, else ``./mailflow.toml``."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("MAILFLOW_CONFIG")
    return Path(env) if env else Path(DEFAULT_CONFIG_NAME)


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Read and validate the config file; raises :class:`ConfigError` naming the key at fault."""
    config_path = resolve_config_path(path)
    try:
        data = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            "", f"config file {config_path} not found (use -c PATH or $MAILFLOW_CONFIG)"
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError("", f"{config_path} is not valid TOML: {exc}") from None
    return config_from_dict(data, path=config_path)


def config_from_dict(data: dict[str, Any], path: Path | None = None) -> Config:
    reader = _Reader(data, "")
    reader.only(
        "organization",
        "mailbox",
        "smtp",
        "database",
        "deadlines",
        "schedule",
        "departments",
        "metrics",
    )
    base = path.parent if path else Path.cwd()
    config = Config(
        organization=_organization(reader.section("organization"), base),
        mailbox=_mailbox(reader.section("mailbox")),
        smtp=_smtp(reader.section("smtp")),
        database=_database(reader.section("database"), base),
        deadlines=_deadlines(reader.section("deadlines")),
        schedule=_schedule(reader.section("schedule")),
        directory=_directory(reader.list_of_tables("departments")),
        metrics=_metrics(reader.section("metrics")),
        path=path,
    )
    _check_cross_references(config)
    return config


class _Reader:
    """Typed access to one TOML table that names ``prefix.key`` in every error."""

    def __init__(self, table: dict[str, Any], prefix: str) -> None:
        self.table = table
        self.prefix = prefix

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def only(self, *allowed: str) -> None:
        for name in self.table:
            if name not in allowed:
                raise ConfigError(
                    self.key(name), f"unknown key (allowed here: {', '.join(allowed)})"
                )

    def section(self, name: str) -> _Reader:
        value = self.table.get(name, {})
        if not isinstance(value, dict):
            raise ConfigError(self.key(name), "expected a table ([section])")
        return _Reader(value, self.key(name))

    def list_of_tables(self, name: str) -> list[_Reader]:
        value = self.table.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise ConfigError(self.key(name), "expected an array of tables ([[departments]])")
        return [_Reader(v, f"{self.key(name)}[{i}]") for i, v in enumerate(value)]

    def string(self, name: str, default: str, choices: tuple[str, ...] = ()) -> str:
        value = self.table.get(name, default)
        if not isinstance(value, str):
            raise ConfigError(self.key(name), f"expected a string, got {value!r}")
        if choices and value not in choices:
            raise ConfigError(
                self.key(name), f"{value!r} is not allowed (one of: {', '.join(choices)})"
            )
        return value

    def secret(self, name: str) -> str:
        """``name`` itself, or the environment variable named by ``name_env``."""
        env_key = f"{name}_env"
        if env_key in self.table:
            var = self.string(env_key, "")
            if var not in os.environ:
                raise ConfigError(self.key(env_key), f"environment variable {var!r} is not set")
            return os.environ[var]
        return self.string(name, "")

    def integer(self, name: str, default: int, low: int = 0, high: int = 2**31) -> int:
        value = self.table.get(name, default)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise ConfigError(
                self.key(name), f"expected a whole number from {low} to {high}, got {value!r}"
            )
        return value

    def boolean(self, name: str, default: bool) -> bool:
        value = self.table.get(name, default)
        if not isinstance(value, bool):
            raise ConfigError(self.key(name), f"expected true or false, got {value!r}")
        return value

    def duration(self, name: str, default: Duration) -> Duration:
        return parse_duration(self.table[name], self.key(name)) if name in self.table else default

    def size(self, name: str, default: int) -> int:
        return parse_size(self.table[name], self.key(name)) if name in self.table else default

    def strings(self, name: str) -> tuple[str, ...]:
        value = self.table.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(self.key(name), "expected a list of strings")
        return tuple(value)

    def dates(self, name: str) -> tuple[dt.date, ...]:
        result = []
        for i, value in enumerate(self.table.get(name, [])):
            if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
                result.append(value)
                continue
            try:
                result.append(dt.date.fromisoformat(str(value)))
            except ValueError:
                raise ConfigError(
                    f"{self.key(name)}[{i}]", f"{value!r} is not a date (YYYY-MM-DD)"
                ) from None
        return tuple(result)

    def clock(self, name: str, default: dt.time) -> dt.time:
        if name not in self.table:
            return default
        return _parse_clock(self.table[name], self.key(name))


def _parse_clock(value: Any, key: str) -> dt.time:
    if isinstance(value, dt.time):
        return value
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", str(value).strip())
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise ConfigError(key, f"{value!r} is not a time of day (HH:MM, e.g. 18:00)")
    return dt.time(int(match.group(1)), int(match.group(2)))


def _organization(r: _Reader, base: Path) -> OrganizationConfig:
    r.only(
        "name", "language", "timezone", "holidays", "extra_holidays", "extra_workdays",
        "allowed_domains", "admin_archive", "knowledge_base", "request_prefix", "admin",
    )  # fmt: skip
    timezone = r.string("timezone", "Asia/Shanghai")
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            r.key("timezone"), f"unknown time zone {timezone!r} (e.g. Asia/Shanghai)"
        ) from None
    country = r.string("holidays", "CN")
    if country:
        import holidays as holidays_lib

        if country.upper() not in holidays_lib.list_supported_countries():
            raise ConfigError(
                r.key("holidays"),
                f'{country!r} is not a supported country code (e.g. CN, or "" for none)',
            )
    archive = r.string("admin_archive", "")
    if archive:
        archive = parse_person(archive, r.key("admin_archive")).address
    admin = r.string("admin", "")
    admin = parse_person(admin, r.key("admin")).address if admin else archive
    prefix = r.string("request_prefix", "REQ")
    if not re.fullmatch(r"[A-Z][A-Z0-9]{0,9}", prefix):
        raise ConfigError(
            r.key("request_prefix"), "use 1-10 capital letters or digits, starting with a letter"
        )
    knowledge_base = Path(r.string("knowledge_base", "./knowledge-base"))
    return OrganizationConfig(
        name=r.string("name", "mailflow"),
        language=r.string("language", "zh", LANGUAGES),
        timezone=timezone,
        holidays=country.upper(),
        extra_holidays=r.dates("extra_holidays"),
        extra_workdays=r.dates("extra_workdays"),
        allowed_domains=tuple(d.lower().lstrip("@") for d in r.strings("allowed_domains")),
        admin_archive=archive,
        knowledge_base=knowledge_base if knowledge_base.is_absolute() else base / knowledge_base,
        request_prefix=prefix,
        admin=admin,
    )


def _mailbox(r: _Reader) -> MailboxConfig:
    r.only(
        "host", "port", "security", "username", "password", "password_env", "folder",
        "processed_folder", "failed_folder", "poll_interval", "idle_renew", "ca_file", "auth",
        "oauth_token_command", "oauth_token_file", "max_message_size", "max_attachment_size", "max_attachments",
        "reply_tokens", "trust_authentication_results", "authserv_id",
    )  # fmt: skip
    security = r.string("security", "ssl", SECURITY_MODES)
    return MailboxConfig(
        host=r.string("host", "localhost"),
        port=r.integer("port", 993 if security == "ssl" else 143, 1, 65535),
        security=security,
        username=r.string("username", ""),
        password=r.secret("password"),
        folder=r.string("folder", "INBOX"),
        processed_folder=r.string("processed_folder", "mailflow/processed"),
        failed_folder=r.string("failed_folder", "mailflow/failed"),
        poll_interval=r.duration("poll_interval", MailboxConfig.poll_interval),
        idle_renew=r.duration("idle_renew", MailboxConfig.idle_renew),
        ca_file=r.string("ca_file", ""),
        auth=r.string("auth", "password", AUTH_MODES),
        oauth_token_command=r.string("oauth_token_command", ""),
        oauth_token_file=r.string("oauth_token_file", ""),
        max_message_size=r.size("max_message_size", MailboxConfig.max_message_size),
        max_attachment_size=r.size("max_attachment_size", MailboxConfig.max_attachment_size),
        max_attachments=r.integer("max_attachments", MailboxConfig.max_attachments, 0, 1000),
        reply_tokens=r.boolean("reply_tokens", True),
        trust_authentication_results=_trust(r),
        authserv_id=r.string("authserv_id", "").strip().lower(),
    )


def _trust(r: _Reader) -> bool:
    trust = r.boolean("trust_authentication_results", False)
    if trust and not r.string("authserv_id", "").strip():
        raise ConfigError(
            r.key("authserv_id"),
            "needed with trust_authentication_results: the authserv-id your own server writes "
            "(e.g. mx.example.com), so that other servers' Authentication-Results are ignored",
        )
    return trust


def _smtp(r: _Reader) -> SmtpConfig:
    r.only(
        "host", "port", "security", "username", "password", "password_env", "from_address",
        "from_name", "ca_file", "auth", "oauth_token_command", "oauth_token_file", "timeout",
        "connections",
    )  # fmt: skip
    security = r.string("security", "starttls", SECURITY_MODES)
    default_port = {"ssl": 465, "starttls": 587, "none": 25}[security]
    return SmtpConfig(
        host=r.string("host", "localhost"),
        port=r.integer("port", default_port, 1, 65535),
        security=security,
        username=r.string("username", ""),
        password=r.secret("password"),
        from_address=parse_person(
            r.string("from_address", "coordination@example.com"), r.key("from_address")
        ).address,
        from_name=r.string("from_name", "跨部门协调中心"),
        ca_file=r.string("ca_file", ""),
        auth=r.string("auth", "password", AUTH_MODES),
        oauth_token_command=r.string("oauth_token_command", ""),
        oauth_token_file=r.string("oauth_token_file", ""),
        timeout=r.duration("timeout", SmtpConfig.timeout),
        connections=r.integer("connections", SmtpConfig.connections, 1, 8),
    )


def _database(r: _Reader, base: Path) -> DatabaseConfig:
    r.only("url", "url_env")
    url = r.secret("url") or "sqlite:///mailflow.db"
    if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", url):
        raise ConfigError(
            r.key("url"), "expected sqlite:///PATH or postgresql+psycopg://user@host/db"
        )
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        relative = url.removeprefix("sqlite:///")
        if relative and relative != ":memory:":
            url = f"sqlite:///{base / relative}"
    return DatabaseConfig(url=url)


def _deadlines(r: _Reader) -> DeadlinesConfig:
    names = (
        "urgent", "important", "normal", "escalate_after", "minutes_due", "confirm_within",
        "review_within",
    )  # fmt: skip
    r.only("workday_end", *names)
    defaults = DeadlinesConfig()
    values = {name: r.duration(name, getattr(defaults, name)) for name in names}
    return DeadlinesConfig(workday_end=r.clock("workday_end", defaults.workday_end), **values)


def _schedule(r: _Reader) -> ScheduleConfig:
    r.only("weekly_status", "tick_interval")
    text = r.string("weekly_status", "mon 09:00").strip().lower()
    day, _, clock = text.partition(" ")
    if day[:3] not in WEEKDAYS or not clock:
        raise ConfigError(
            r.key("weekly_status"), f'{text!r} is not a weekday and time (e.g. "mon 09:00")'
        )
    return ScheduleConfig(
        weekly_status_day=WEEKDAYS.index(day[:3]),
        weekly_status_time=_parse_clock(clock, r.key("weekly_status")),
        tick_interval=r.duration("tick_interval", ScheduleConfig.tick_interval),
    )


def _metrics(r: _Reader) -> MetricsConfig:
    r.only("listen")
    listen = r.string("listen", "")
    if listen and not re.fullmatch(r"[\w.\-\[\]:]*:\d{1,5}", listen):
        raise ConfigError(r.key("listen"), f"{listen!r} is not host:port (e.g. 127.0.0.1:9464)")
    return MetricsConfig(listen=listen)


def _directory(tables: list[_Reader]) -> Directory:
    departments = []
    for r in tables:
        r.only("name", "aliases", "head", "contacts", "supervisor", "members", "language")
        name = r.string("name", "").strip()
        if not name:
            raise ConfigError(r.key("name"), "every department needs a name")
        head = r.table.get("head")
        supervisor = r.table.get("supervisor")
        language = r.string("language", "") or None
        if language and language not in LANGUAGES:
            raise ConfigError(r.key("language"), f"{language!r} is not allowed (one of: zh, en)")
        departments.append(
            Department(
                name=name,
                aliases=tuple(a.strip() for a in r.strings("aliases") if a.strip()),
                head=parse_person(head, r.key("head")) if head else None,
                contacts=tuple(
                    parse_person(v, f"{r.key('contacts')}[{i}]")
                    for i, v in enumerate(r.strings("contacts"))
                ),
                supervisor=parse_person(supervisor, r.key("supervisor")) if supervisor else None,
                members=tuple(
                    parse_person(v, f"{r.key('members')}[{i}]")
                    for i, v in enumerate(r.strings("members"))
                ),
                language=language,
            )
        )
    return Directory(departments=tuple(departments))


def _check_cross_references(config: Config) -> None:
    for section, settings in (("mailbox", config.mailbox), ("smtp", config.smtp)):
        if settings.auth != "xoauth2":
            continue
        if not (settings.oauth_token_command or settings.oauth_token_file):
            raise ConfigError(
                f"{section}.oauth_token_command",
                'auth = "xoauth2" needs oauth_token_command or oauth_token_file (where the access token comes from)',
            )
        if not settings.username:
            raise ConfigError(
                f"{section}.username", 'auth = "xoauth2" needs the account\'s username'
            )
    seen: dict[str, str] = {}
    for i, dept in enumerate(config.directory.departments):
        for name in dept.names:
            key = normalize_name(name)
            if key in seen:
                raise ConfigError(
                    f"departments[{i}]",
                    f"the name or alias {name!r} is already used by {seen[key]!r}",
                )
            seen[key] = dept.name
        if dept.head is None and not dept.contacts:
            raise ConfigError(
                f"departments[{i}].head", f"{dept.name!r} needs a head or at least one contact"
            )
