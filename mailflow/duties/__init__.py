"""The time-based duties, one module per stage; ``mailflow.sweeps`` runs them in order."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from mailflow.context import Context
from mailflow.outbox import Mail, enqueue

Duty = Callable[[Session, Context], int]
REMINDER_HOUR = 9  # reminders for the next working day go out from 09:00 local


def queued(session: Session, ctx: Context, mail: Mail) -> int:
    """1 when the mail was queued now, 0 when its dedupe key was queued before."""
    return 1 if enqueue(session, ctx, mail) else 0
