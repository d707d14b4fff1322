"""Request numbers and lookups of cases shared by handlers, sweeps and the CLI."""

from __future__ import annotations

import re

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mailflow.models import Counter, Request


def next_value(session: Session, name: str) -> int:
    """Increment the counter ``name`` atomically (row lock on PostgreSQL, write lock on SQLite)."""
    value = session.scalar(
        update(Counter)
        .where(Counter.name == name)
        .values(value=Counter.value + 1)
        .returning(Counter.value)
    )
    if value is not None:
        return value
    try:
        with session.begin_nested():
            session.execute(insert(Counter).values(name=name, value=1))
        return 1
    except IntegrityError:  # created concurrently: increment the row that now exists
        return next_value(session, name)


def is_valid_number(number: str, prefix: str) -> bool:
    return re.fullmatch(rf"{re.escape(prefix)}-\d{{4}}-\d{{4,}}", number) is not None


def allocate_number(session: Session, prefix: str, year: int, wanted: str = "") -> str:
    """``wanted`` when it is well-formed and unused, else the next free ``PREFIX-YEAR-NNNN``."""
    wanted = wanted.strip().upper()
    if wanted and is_valid_number(wanted, prefix) and find_request(session, wanted) is None:
        return wanted
    while True:
        number = f"{prefix}-{year}-{next_value(session, f'{prefix}-{year}'):04d}"
        if find_request(session, number) is None:
            return number


def find_request(session: Session, number: str) -> Request | None:
    return session.scalar(select(Request).where(Request.number == number.upper()))
