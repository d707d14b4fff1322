"""Which handler a message goes to (pure: mail, config and a thread lookup in; a route out).

Order of questions: is it automatic mail, may the sender write to us at all, does it belong
to a case we know — In-Reply-To/References to a message we sent or recorded, else a reply
token in a sub-addressed recipient (``coordination+TOKEN@…``), else the ``[REQ-…]`` tag in
the subject — and who is writing on that case. Anything else is a new request form.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from mailflow import meetings, minutes, updates
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
    """A case, as far as routing needs to know it."""

    request_number: str
    answered_kind: str = ""  # "" when the referenced message is an inbound one
    answered_action: str = ""  # the action item (A12) the answered mail was about
    status: str = "open"
    stage: str = "responses"
    requester: str = ""
    lead_department: str = ""
    departments: tuple[str, ...] = ()  # requesting, lead and involved departments
    involved: tuple[str, ...] = field(default=())
    organizers: tuple[str, ...] = ()  # besides the lead department: requester, hosts, recorders
    actions: tuple[str, ...] = ()  # the case's action items (A12, …), done ones included


class ThreadLookup(Protocol):
    def thread_of(self, message_ids: Sequence[str]) -> Thread | None:
        """The case a message with one of these Message-IDs belongs to (first match wins)."""

    def thread_of_token(self, token: str) -> Thread | None: ...

    def thread_of_number(self, number: str) -> Thread | None: ...


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
    if failed := authentication_failure(mail, config):
        return Route("unknown_sender", reason=f"authentication failed: {failed}")
    if not config.may_submit(mail.sender.address):
        why = f"{mail.sender.address} is not in the directory or an allowed domain"
        return Route("unknown_sender", reason=why)
    thread, how = _find_thread(mail, config, lookup)
    if thread is None:
        return Route("request", reason="new mail")
    return _on_case(mail, mail.sender.address, config, thread, how)


def _find_thread(
    mail: ParsedMail, config: Config, lookup: ThreadLookup
) -> tuple[Thread | None, str]:
    referenced = [*mail.in_reply_to, *reversed(mail.references)]
    if referenced and (thread := lookup.thread_of(referenced)):
        return thread, "references"
    if config.mailbox.reply_tokens:
        for recipient in [*mail.to, *mail.cc]:
            token = config.reply_token_of(recipient.address)
            if token and (thread := lookup.thread_of_token(token)):
                return thread, "reply token"
    for number in subject_tags(mail.subject, config.organization.request_prefix):
        if thread := lookup.thread_of_number(number.upper()):
            return thread, "subject tag"
    return None, ""


def _on_case(mail: ParsedMail, sender: str, config: Config, thread: Thread, how: str) -> Route:
    """Who is writing on a known case, and what, decides what the mail can do."""
    own = {d.name for d in config.directory.departments_of(sender)}
    supervisors = {
        d.supervisor.address
        for name in thread.departments
        if (d := config.directory.department(name)) and d.supervisor
    }
    participant = (
        sender == thread.requester or bool(own & set(thread.departments)) or sender in supervisors
    )
    reason = f"threaded by {how}"
    if not participant and how == "subject tag":
        reason += ", sender not on the case"
        return Route("untrusted", thread.request_number, thread.answered_kind, reason)
    organizer = sender in thread.organizers or thread.lead_department in own
    handler = _handler_on_case(mail, organizer, sender == thread.requester, own, thread)
    return Route(handler, thread.request_number, thread.answered_kind, reason)


SIGNOFF_KINDS = frozenset({"minutes_distribution", "signoff_chaser", "signoff_unclear"})
ACCEPTANCE_KINDS = frozenset({"acceptance_request", "acceptance_chaser", "acceptance_unclear"})
REVIEW_KINDS = frozenset({"review_request", "review_reminder"})


def _handler_on_case(
    mail: ParsedMail, organizer: bool, requester: bool, own: set[str], thread: Thread
) -> str:
    """The kind of mail this is on its case: by what it answers, who wrote it, what it says."""
    if thread.answered_kind in ACCEPTANCE_KINDS or (thread.stage == "acceptance" and requester):
        return "acceptance"
    if thread.answered_kind in REVIEW_KINDS or (
        thread.stage == "review" and own & set(thread.departments)
    ):
        return "review"
    if organizer and minutes.looks_like_minutes(mail):
        return "minutes"
    if thread.answered_kind in SIGNOFF_KINDS:
        return "signoff"
    if organizer and meetings.looks_like_meeting_notice(mail):
        return "meeting_notice"
    if thread.actions and _mentions_update(mail):
        return "action_update"
    if thread.status == "open" and own & set(thread.involved):
        return "response"
    return "reply"


def _mentions_update(mail: ParsedMail) -> bool:
    """Whether the sender's own text holds a status update (``A12：已完成``, ``状态：进行中``)."""
    day = mail.date.date() if mail.date else dt.date(2000, 1, 1)  # dates are not judged here
    found, problems = updates.read_updates(mail.text, mail_date=day)
    return bool(found or problems)


_AUTH_RESULT = re.compile(r"\b(dmarc|spf|dkim)\s*=\s*([a-z]+)", re.IGNORECASE)


def authentication_failure(mail: ParsedMail, config: Config) -> str:
    """A DMARC/SPF/DKIM ``fail`` that our own server (``authserv_id``) recorded, else "".

    Authentication-Results from other servers are ignored: anyone can write one (RFC 8601).
    """
    if not config.mailbox.trust_authentication_results:
        return ""
    for value in mail.headers.get("authentication-results", []):
        authserv, _, results = value.partition(";")
        words = authserv.split()
        if not words or words[0].lower() != config.mailbox.authserv_id:
            continue
        failed = [
            f"{m.group(1).lower()}=fail"
            for m in _AUTH_RESULT.finditer(results)
            if m.group(2).lower() == "fail"
        ]
        if failed:
            return f"{', '.join(failed)} (by {words[0]})"
    return ""
