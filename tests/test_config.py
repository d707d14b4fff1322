"""Config loading: every key of config.example.toml, secrets from the environment, errors naming keys."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from mailflow.config import ConfigError, config_from_dict, load_config, parse_duration, parse_size

EXAMPLE = Path(__file__).resolve().parents[1] / "config.example.toml"


def test_example_config_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILFLOW_IMAP_PASSWORD", "imap-secret")
    monkeypatch.setenv("MAILFLOW_SMTP_PASSWORD", "smtp-secret")
    config = load_config(EXAMPLE)
    assert config.mailbox.password == "imap-secret"
    assert config.smtp.password == "smtp-secret"
    assert config.organization.language == "zh"
    assert config.deadlines.important.workdays == 3
    assert config.deadlines.urgent.delta == dt.timedelta(hours=24)
    assert config.deadlines.normal.delta == dt.timedelta(weeks=1)
    assert config.schedule.weekly_status_day == 0
    assert config.schedule.weekly_status_time == dt.time(9, 0)
    assert config.mailbox.max_message_size == 25 * 1024 * 1024
    assert config.database.url == f"sqlite:///{EXAMPLE.parent / 'mailflow.db'}"
    marketing = config.directory.department("marketing")
    assert marketing is not None and marketing.name == "市场部"
    assert marketing.head is not None and marketing.head.name == "王芳"
    assert marketing.head.address == "wang.fang@example.com"
    assert [p.address for p in marketing.notified()] == [
        "wang.fang@example.com",
        "li.na@example.com",
    ]
    assert config.directory.people_named("陈杰")[0].address == "chen.jie@example.com"
    assert config.directory.department("ＭＡＲＫＥＴＩＮＧ") is marketing
    assert config.directory.closest_department("市场营销部") == "市场部"


def test_every_example_key_is_accepted() -> None:
    """The example documents every key: each must be known to the loader (no 'unknown key')."""
    import tomllib

    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["mailbox"]["password"] = data["mailbox"].pop("password_env") and "x"
    data["smtp"]["password"] = data["smtp"].pop("password_env") and "x"
    config_from_dict(data)


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"mailbox": {"prot": 993}}, "mailbox.prot"),
        ({"mailbox": {"security": "tls"}}, "mailbox.security"),
        ({"mailbox": {"port": 0}}, "mailbox.port"),
        ({"deadlines": {"urgent": "soon"}}, "deadlines.urgent"),
        ({"deadlines": {"workday_end": "25:00"}}, "deadlines.workday_end"),
        ({"organization": {"timezone": "Mars/Olympus"}}, "organization.timezone"),
        ({"organization": {"language": "fr"}}, "organization.language"),
        ({"organization": {"extra_holidays": ["2027-02-30"]}}, "organization.extra_holidays[0]"),
        ({"organization": {"holidays": "XX"}}, "organization.holidays"),
        ({"schedule": {"weekly_status": "someday"}}, "schedule.weekly_status"),
        ({"departments": [{"name": "A", "head": "not an address"}]}, "departments[0].head"),
        (
            {"departments": [{"name": "A", "head": "a@x.com", "colour": "red"}]},
            "departments[0].colour",
        ),
        ({"departments": [{"name": "A"}]}, "departments[0].head"),
        ({"mailbox": {"password_env": "MAILFLOW_TEST_UNSET_VARIABLE"}}, "mailbox.password_env"),
        ({"database": {"url": "mysql://x"}}, "database.url"),
        ({"surprise": {}}, "surprise"),
    ],
)
def test_errors_name_the_key(data: dict, key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config_from_dict(data)
    assert caught.value.key == key
    assert str(caught.value).startswith(f"{key}: ")


def test_duplicate_department_alias_is_refused() -> None:
    with pytest.raises(ConfigError, match="already used"):
        config_from_dict(
            {
                "departments": [
                    {"name": "市场部", "aliases": ["Marketing"], "head": "a@x.com"},
                    {"name": "Marketing", "head": "b@x.com"},
                ]
            }
        )


def test_durations_and_sizes() -> None:
    assert parse_duration("3 workdays", "k").workdays == 3
    assert parse_duration("1 workday", "k").workdays == 1
    assert parse_duration("90s", "k").delta == dt.timedelta(seconds=90)
    assert parse_duration("2 weeks", "k").delta == dt.timedelta(weeks=2)
    assert parse_size("25MB", "k") == 25 * 1024 * 1024
    assert parse_size(1000, "k") == 1000
    with pytest.raises(ConfigError):
        parse_size("lots", "k")


def test_missing_file_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[mailbox\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)


def test_own_address_and_submitters() -> None:
    config = config_from_dict(
        {
            "organization": {"allowed_domains": ["example.com"]},
            "smtp": {"from_address": "Coordination@Example.com"},
            "departments": [{"name": "A", "head": "a@partner.org"}],
        }
    )
    assert config.is_own_address("coordination@example.com")
    assert config.is_own_address("coordination+abc123@example.com")
    assert not config.is_own_address("coordinator@example.com")
    assert config.may_submit("anyone@example.com")
    assert config.may_submit("A@partner.org")
    assert not config.may_submit("stranger@elsewhere.net")
