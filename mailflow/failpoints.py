"""Named crash points for the fault tests: SIGKILL this process at a chosen step.

``MAILFLOW_FAILPOINTS="ingest.after_commit"`` (comma-separated names) makes :func:`hit` kill
the process the first time that point is reached, exactly as an operator's ``kill -9`` or a
power cut would, so the tests can prove that a restart loses and duplicates nothing. Unset,
:func:`hit` costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

ENV = "MAILFLOW_FAILPOINTS"


def hit(name: str) -> None:
    armed = os.environ.get(ENV)
    if armed and name in armed.split(","):
        os.kill(os.getpid(), signal.SIGKILL)
