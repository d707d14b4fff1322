"""Who is meant by the people written in a notice or minutes (pure).

Owns turning "王芳（主持人）、陈杰（决策人）、产品部、li.na@example.com、赵敏 <zhao.min@example.com>"
into directory people with their meeting roles, for meeting notices, minutes and action-item
owners alike. A name must match exactly one person in the directory (a department hint such as
``张伟（产品部）`` or ``产品部：张伟`` narrows it); a department stands for its head; an address is
taken as written. Nothing is guessed: an unknown name is reported with the closest directory name,
a name shared by several people with the candidates.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import parseaddr

from mailflow.config import Department, Directory, Person, normalize_name

ROLES = ("host", "recorder", "decision_maker", "executor", "attendee")  # most specific first
_ROLE_WORDS = {
    "host": ("主持人", "主持", "会议主持", "host", "chair", "chairperson", "moderator"),
    "decision_maker": ("决策人", "决策者", "决策", "decision-maker", "decision maker", "decider"),
    "executor": ("执行人", "执行者", "执行", "executor", "implementer"),
    "recorder": (
        "记录人", "记录员", "记录", "纪要人", "recorder", "minute taker", "minutes taker",
        "note taker", "notetaker", "secretary",
    ),
    "attendee": ("参会人", "参会", "参会人员", "attendee", "participant"),
}  # fmt: skip
_ROLE_BY_WORD = {
    normalize_name(word): role for role, words in _ROLE_WORDS.items() for word in words
}
_GROUP_SPLIT_RE = re.compile(r"[\n;；]+")
_ITEM_SEPARATORS = "、，,/／"
_OPEN, _CLOSE = "(（[［【<《", ")）]］】>》"
_BRACKET_RE = re.compile(r"[(（\[［【]([^()（）\[\]［］【】]*)[)）\]］】]")
_CONNECTOR_RE = re.compile(r"\s*(?:以及|和|及|与|&|\band\b)\s*", re.I)
_INNER_SPLIT_RE = re.compile(r"[,，、/／;；\s]+")
_NOISE_RE = re.compile(r"^(?:\d{1,2}\s*[.、)）]|[-*•·●])\s*|[。.;；,，]+$")
_TITLE_RE = re.compile(
    r"(?:经理|总监|主任|部长|主管|老师|先生|女士|同事|同学)$|^(?:mr|mrs|ms|dr)\.?\s+", re.I
)
_ADDR = r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
_ADDRESS_RE = re.compile(rf"[^<>@]*<\s*{_ADDR}\s*>|{_ADDR}")  # 名字 <address>, or an address
_QUOTES = "\"'“”‘’「」"
_NONE_WORDS = frozenset(("无", "暂无", "待定", "none", "n/a", "na", "tbd", "-", "/"))


@dataclass(frozen=True)
class Attendee:
    """A person at a meeting, in one role, with the department they came for ("" if unknown)."""

    person: Person
    role: str  # "host" | "decision_maker" | "executor" | "recorder" | "attendee"
    department: str = ""


@dataclass(frozen=True)
class Unresolved:
    """A name that found no one, or more than one person."""

    code: str  # "unknown_attendee" | "ambiguous_attendee"
    value: str  # as written
    suggestion: str = ""  # the closest directory name, or the candidates' addresses


def role_of(text: str) -> str | None:
    """The role a word names (主持人, Decision-maker, 记录员 …), else None."""
    return _ROLE_BY_WORD.get(normalize_name(text).strip(":："))


def find_department(directory: Directory, name: str) -> Department | None:
    """The department called ``name``, also tried without "部门" / "department" decoration."""
    variants = (
        name,
        re.sub(r"部门$", "部", name),
        re.sub(r"^the\s+|\s+(?:department|dept\.?|team)$", "", name, flags=re.I),
    )
    for variant in variants:
        if variant.strip() and (department := directory.department(variant)):
            return department
    return None


def department_person(department: Department) -> Person:
    """Who stands for a department: its head, else its first contact."""
    return department.head or department.notified()[0]


def split_department_prefix(directory: Directory, text: str) -> tuple[Department | None, str]:
    """``产品部刘洋`` / ``Product, Liu Yang`` -> (产品部, "刘洋"); (None, text) without a prefix."""
    text = unicodedata.normalize("NFKC", text).strip()
    names = sorted(
        ((n, d) for d in directory.departments for n in d.names), key=lambda p: -len(p[0])
    )
    for name, department in names:
        pattern = r"\s*".join(map(re.escape, re.sub(r"\s+", "", name)))
        match = re.match(rf"{pattern}(?![A-Za-z])", text, re.I)
        if match and (rest := text[match.end() :].strip(" \t,，、:：/／-")):
            return department, rest
    return None, text


def merge_attendees(attendees: Iterable[Attendee]) -> list[Attendee]:
    """One entry per address, in first-seen order, with the most specific role and the first
    department and display name known."""
    merged: dict[str, Attendee] = {}
    for new in attendees:
        old = merged.get(new.person.address)
        if old is None:
            merged[new.person.address] = new
            continue
        merged[new.person.address] = Attendee(
            old.person if old.person.name else new.person,
            min(old.role, new.role, key=ROLES.index),
            old.department or new.department,
        )
    return list(merged.values())


def read_attendees(
    text: str, directory: Directory, role: str = "attendee"
) -> tuple[list[Attendee], list[Unresolved]]:
    """Every person in a list; lines and ``;`` separate groups, which may open with a
    department or a role (``产品部：刘洋、赵敏``, ``决策人：陈杰``)."""
    found: list[Attendee] = []
    problems: list[Unresolved] = []
    for group in _GROUP_SPLIT_RE.split(text):
        group_role, hint, rest = _group_prefix(group, directory, role)
        for item in _split_items(rest):
            result = read_person(item, directory, role=group_role, department=hint)
            if isinstance(result, Unresolved):
                if result not in problems:
                    problems.append(result)
            elif result is not None:
                found.extend(result)
    return merge_attendees(found), problems


def read_person(
    text: str, directory: Directory, *, role: str = "attendee", department: str = ""
) -> list[Attendee] | Unresolved | None:
    """The people one entry names (two for "王芳和李娜"); None for a blank entry."""
    text = _clean(text)
    role, department, text = _annotations(text, directory, role, department)
    if not text or normalize_name(text) in _NONE_WORDS:
        return None
    if _ADDRESS_RE.fullmatch(text):
        return [_by_address(text, directory, role, department)]
    if dept := find_department(directory, text):
        return [Attendee(department_person(dept), role, dept.name)]
    result = _by_name(text, directory, role, department)
    if isinstance(result, Unresolved) and result.code == "unknown_attendee":
        return _by_parts(text, directory, role, department) or result
    return result


def _group_prefix(group: str, directory: Directory, role: str) -> tuple[str, str, str]:
    """(role, department hint, the rest) of a group that may begin with ``部门：`` or ``角色：``."""
    group = unicodedata.normalize("NFKC", group)
    head, colon, rest = group.partition(":")
    if colon and "@" not in head:
        if group_role := role_of(head):
            return group_role, "", rest
        if (department := find_department(directory, _clean(head))) and rest.strip():
            return role, department.name, rest
    return role, "", group


def _split_items(text: str) -> list[str]:
    """Split at 、，,/ outside brackets, quotes and ``<address>``."""
    items, depth, start, quoted = [], 0, 0, False
    for i, char in enumerate(text):
        if char == '"':
            quoted = not quoted
        elif char in _OPEN:
            depth += 1
        elif char in _CLOSE:
            depth = max(0, depth - 1)
        elif char in _ITEM_SEPARATORS and depth == 0 and not quoted:
            items.append(text[start:i])
            start = i + 1
    items.append(text[start:])
    return [item for item in (i.strip() for i in items) if item]


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).strip()
    if len(text) > 1 and text[0] in _QUOTES and text[-1] in _QUOTES:
        text = text[1:-1].strip()
    while (cleaned := _NOISE_RE.sub("", text).strip()) != text:
        text = cleaned
    return text


def _annotations(
    text: str, directory: Directory, role: str, department: str
) -> tuple[str, str, str]:
    """Roles and departments in brackets (``王芳（市场部经理，主持人）``) or before a colon
    (``记录人：李娜``) are taken out of the name; other bracketed words (titles) are dropped."""
    head, colon, rest = text.partition(":")
    if colon and "@" not in head and (prefix_role := role_of(head)):
        role, text = prefix_role, rest.strip()
    for inner in _BRACKET_RE.findall(text):
        for word in filter(None, _INNER_SPLIT_RE.split(inner)):
            if word_role := role_of(word):
                role = word_role if word_role != "attendee" else role
            elif dept := _department_in(directory, word):
                department = dept.name
        inner_role = role_of(inner)  # "Decision maker": a role of several words
        if inner_role and inner_role != "attendee":
            role = inner_role
    return role, department, _BRACKET_RE.sub("", text).strip()


def _department_in(directory: Directory, word: str) -> Department | None:
    """The department a bracketed word names or starts with (市场部, 市场部经理)."""
    return find_department(directory, word) or split_department_prefix(directory, word)[0]


def _by_address(text: str, directory: Directory, role: str, department: str) -> Attendee:
    name, address = parseaddr(text)
    address = address.lower()
    person = directory.person(address) or Person(address, name.strip())
    if not person.name and name.strip():
        person = Person(address, name.strip())
    return Attendee(person, role, _department_of(directory, person, department))


def _by_name(
    text: str, directory: Directory, role: str, department: str
) -> list[Attendee] | Unresolved:
    candidates = directory.people_named(text)
    if not candidates and (untitled := _TITLE_RE.sub("", text).strip()) != text and untitled:
        candidates = directory.people_named(untitled)
    if not candidates:
        prefix, rest = split_department_prefix(directory, text)
        if prefix is not None:
            department = prefix.name
            candidates = directory.people_named(rest)
    if department and len(candidates) > 1:
        hinted = [p for p in candidates if _in_department(directory, p, department)]
        candidates = hinted or candidates
    if len(candidates) == 1:
        person = candidates[0]
        return [Attendee(person, role, _department_of(directory, person, department))]
    if candidates:
        return Unresolved("ambiguous_attendee", text, ", ".join(_written(p) for p in candidates))
    return Unresolved("unknown_attendee", text, _closest_name(directory, text))


def _by_parts(text: str, directory: Directory, role: str, department: str) -> list[Attendee] | None:
    """ "王芳和李娜" / "Wang Fang and Li Na": several people joined by 和/及/and, if every part
    is someone."""
    parts = [p for p in _CONNECTOR_RE.split(text) if p.strip()]
    if len(parts) < 2:
        return None
    found: list[Attendee] = []
    for part in parts:
        result = read_person(part, directory, role=role, department=department)
        if not isinstance(result, list):
            return None
        found.extend(result)
    return found


def _written(person: Person) -> str:
    return f"{person.name} <{person.address}>" if person.name else person.address


def _in_department(directory: Directory, person: Person, department: str) -> bool:
    dept = directory.department(department)
    return dept is not None and (dept.includes(person.address) or dept.supervisor == person)


def _department_of(directory: Directory, person: Person, hint: str) -> str:
    """The hinted department when the person belongs to it, else their only department."""
    if hint and _in_department(directory, person, hint):
        return hint
    departments = directory.departments_of(person.address)
    return departments[0].name if len(departments) == 1 else ""


def _closest_name(directory: Directory, text: str) -> str:
    """The directory name (person or department) nearest to ``text``, for "did you mean"."""
    names: dict[str, str] = {}
    for person in directory.everyone():
        if person.name:
            names.setdefault(normalize_name(person.name), person.name)
    for dept in directory.departments:
        for name in dept.names:
            names.setdefault(normalize_name(name), dept.name)
    best = difflib.get_close_matches(normalize_name(text), list(names), n=1, cutoff=0.5)
    return names[best[0]] if best else ""
