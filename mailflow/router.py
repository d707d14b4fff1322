"""Which handler a message goes to (pure: mail, config and a thread lookup in; a route out).

Order of questions: is it automatic mail, is the sender allowed to write to us at all, does it
belong to a case we know (In-Reply-To/References to a message we sent or recorded, else the
``[REQ-…]`` tag in the subject), and otherwise it is a new request form.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from mailflow.config import Config
from mailflow.parse import ParsedMail


@dataclass(frozen=True)
class Route:
    handler: str  # a key of mailflow.handlers.HANDLERS
    request_number: str = ""
    answered_kind: str = ""  # the kind of our mail this one answers, when threaded
    reason: str = ""


@dataclass(frozen=True)
class Thread:
    request_number: str
    answered_kind: str  # "" when the referenced message is an inbound one


class ThreadLookup(Protocol):
    def thread_of(self, message_ids: Sequence[str]) -> Thread | None:
        """The case a message with one of these Message-IDs belongs to (newest reference first)."""

    def request_exists(self, number: str) -> bool: ...


def subject_tags(subject: str, prefix: str) -> list[str]:
    """``[REQ-2026-0001]`` tags in a subject, in order."""
    return re.findall(rf"\[\s*({re.escape(prefix)}-\d{{4}}-\d{{3,}})\s*\]", subject, re.IGNORECASE)


def route(mail: ParsedMail, config: Config, lookup: ThreadLookup) -> Route:
    if mail.automatic:
        return Route("automatic", reason=mail.automatic)
    if mail.sender is None:
        return Route("unknown_sender", reason="no usable From address")
    if config.is_own_address(mail.sender.address):
        return Route("automatic", reason="sent from mailflow's own address")
    if not config.may_submit(mail.sender.address):
        return Route(
            "unknown_sender",
            reason=f"{mail.sender.address} is not in the directory or an allowed domain",
        )
    referenced = [*reversed(mail.references), *mail.in_reply_to]
    if referenced and (thread := lookup.thread_of(referenced)):
        return Route(
            "reply",
            thread.request_number,
            thread.answered_kind,
            "threaded by References/In-Reply-To",
        )
    for number in subject_tags(mail.subject, config.organization.request_prefix):
        number = number.upper()
        if lookup.request_exists(number):
            return Route("reply", number, "", "subject tag")
    return Route("request", reason="new mail")
