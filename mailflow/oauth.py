"""OAuth 2.0 access tokens for XOAUTH2 logins (Microsoft 365, Gmail), refreshed before expiry.

The token comes from ``oauth_token_command`` (run through the shell; prints the token) or
``oauth_token_file`` (written by whatever refreshes it). Either may give the bare token, or the
JSON a token endpoint returns (``{"access_token": …, "expires_in": 3599}``); a bare token is
assumed to live an hour. A token is fetched again when less than ``REFRESH_MARGIN`` of its
life is left, and on demand after the server refused it.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import threading
import time
from pathlib import Path

ASSUMED_LIFETIME = 3600.0
REFRESH_MARGIN = 300.0
COMMAND_TIMEOUT = 60.0


class TokenError(Exception):
    """The access token could not be obtained (the command failed, the file is missing)."""


class TokenSource:
    def __init__(self, *, command: str = "", file: str = "") -> None:
        if not command and not file:
            raise ValueError("an OAuth token source needs a command or a file")
        self.command = command
        self.file = file
        self._token = ""
        self._expires = 0.0
        self._lock = threading.Lock()

    def token(self, *, fresh: bool = False) -> str:
        """A valid access token; ``fresh=True`` after the server refused the last one."""
        with self._lock:
            if fresh or not self._token or time.monotonic() > self._expires - REFRESH_MARGIN:
                self._token, lifetime = _parse(self._fetch())
                self._expires = time.monotonic() + lifetime
            return self._token

    def _fetch(self) -> str:
        if self.command:
            try:
                done = subprocess.run(
                    shlex.split(self.command),
                    capture_output=True,
                    text=True,
                    timeout=COMMAND_TIMEOUT,
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise TokenError(f"oauth_token_command failed: {exc}") from exc
            if done.returncode != 0:
                raise TokenError(
                    f"oauth_token_command exited {done.returncode}: {done.stderr.strip()[:200]}"
                )
            return done.stdout
        try:
            return Path(self.file).read_text(encoding="utf-8")
        except OSError as exc:
            raise TokenError(f"oauth_token_file: {exc}") from exc


def _parse(output: str) -> tuple[str, float]:
    text = output.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise TokenError(f"token output is not valid JSON: {exc}") from exc
        token = str(data.get("access_token", "")).strip()
        lifetime = float(data.get("expires_in", ASSUMED_LIFETIME))
    else:
        token, lifetime = text, ASSUMED_LIFETIME
    if not token or any(ch.isspace() for ch in token):
        raise TokenError("the token source gave no usable access token")
    return token, lifetime
