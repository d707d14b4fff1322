"""Access tokens for XOAUTH2: from a command or a file, bare or token-endpoint JSON, refreshed
before they expire, fetched anew on demand, with clear errors."""

from __future__ import annotations

import json

import pytest

from mailflow import oauth
from mailflow.oauth import TokenError, TokenSource


def test_bare_token_from_a_command_is_kept_for_an_hour(tmp_path) -> None:
    counter = tmp_path / "n"
    script = tmp_path / "token.sh"
    script.write_text(f'echo x >> {counter}; echo "tok-$(wc -l < {counter})"\n', encoding="utf-8")
    source = TokenSource(command=f"sh {script}")
    assert source.token() == "tok-1"
    assert source.token() == "tok-1"  # cached
    assert source.token(fresh=True) == "tok-2"  # after the server refused it


def test_json_token_is_refreshed_before_it_expires(tmp_path, monkeypatch) -> None:
    path = tmp_path / "token.json"
    path.write_text(json.dumps({"access_token": "first", "expires_in": 900}), encoding="utf-8")
    clock = [1000.0]
    monkeypatch.setattr(oauth.time, "monotonic", lambda: clock[0])
    source = TokenSource(file=str(path))
    assert source.token() == "first"
    path.write_text(json.dumps({"access_token": "second", "expires_in": 900}), encoding="utf-8")
    clock[0] += 900 - oauth.REFRESH_MARGIN - 1
    assert source.token() == "first"  # still comfortably valid
    clock[0] += 2
    assert source.token() == "second"  # within the margin: fetched again


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("false", "exited 1"),
        ("printf ''", "no usable access token"),
        ("echo {broken", "not valid JSON"),
    ],
)
def test_clear_errors(command: str, message: str) -> None:
    with pytest.raises(TokenError, match=message):
        TokenSource(command=command).token()


def test_missing_file() -> None:
    with pytest.raises(TokenError, match="oauth_token_file"):
        TokenSource(file="/nonexistent/token").token()
