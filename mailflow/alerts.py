"""Mail to the operator about mailflow itself (a login that keeps failing), at most once a day."""

from __future__ import annotations

from sqlalchemy.orm import Session

from mailflow.config import Person
from mailflow.context import Context
from mailflow.outbox import Mail, enqueue, once_a_day


def login_failure(session: Session, ctx: Context, service: str, detail: str) -> None:
    """The mailbox or the SMTP server refuses mailflow's login (wrong password, expired token)."""
    admin = ctx.config.organization.admin
    if not admin:
        return
    settings = ctx.config.mailbox if service == "IMAP" else ctx.config.smtp
    enqueue(
        session,
        ctx,
        Mail(
            kind="login_failure",
            dedupe_key=once_a_day(f"login_failure.{service}", admin, ctx),
            to=[Person(admin)],
            language=ctx.config.organization.language,
            context={
                "service": service,
                "detail": detail,
                "host": f"{settings.host}:{settings.port}",
                "username": settings.username,
                "auth": settings.auth,
            },
        ),
    )
