"""Finding the action items of minutes in a mail, as written (pure).

Owns the three layouts an action item comes in and nothing of its meaning (``minutes.py``
resolves departments, owners and dates):

- a table (HTML or ``.docx``) whose header row names the columns (部门/责任部门, 负责人/责任人,
  任务/行动项/工作内容, 完成时间/截止日期/Due, 完成标准/验收标准); extra columns (序号, 状态,
  备注) are ignored;
- lines split by ``｜``, ``|``, tabs, two or more spaces or `` / ``: department, owner, task,
  due date, completion standard in that order, or in the order of a header line;
- a line ``- 产品部 刘洋：完成技术方案初稿，12月10日前，标准：方案通过评审`` (English alike:
  ``- Product, Liu Yang: draft the plan by Dec 10; standard: passes review``).

Lines count inside an action section (after ``行动项：`` / ``Action items:`` or a header line, up
to the next field label of the minutes); elsewhere (the discussion) only a line that starts with
a known department and carries its due date, so that discussion points are not taken for tasks.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from mailflow.attendees import find_department, split_department_prefix
from mailflow.config import Directory
from mailflow.form_sources import (
    ExtractedForm,
    FieldSpec,
    extract_fields,
    normalize_label,
    split_label,
)
from mailflow.meeting_times import find_dates
from mailflow.parse import ParsedMail

ACTIONS = FieldSpec(  # the label opening an action section in minutes
    "actions",
    ("行动项", "行动计划", "责任分工", "任务分工", "后续行动", "待办事项", "行动项目", "跟踪事项"),
    ("Action items", "Actions", "Action plan", "Next steps", "Follow-up actions", "Follow-ups"),
    multiline=True,
)
COLUMN_SPECS: tuple[FieldSpec, ...] = (
    FieldSpec(
        "department",
        ("部门", "责任部门", "负责部门", "承办部门", "执行部门"),
        ("Department", "Dept", "Responsible department", "Team"),
    ),
    FieldSpec(
        "owner",
        ("负责人", "责任人", "执行人", "承办人", "跟进人"),
        ("Owner", "Responsible", "Person in charge", "Responsible person", "Assignee"),
    ),
    FieldSpec(
        "task",
        ("任务", "行动项", "工作内容", "任务内容", "任务名称", "事项", "具体任务", "行动内容"),
        ("Task", "Action", "Action item", "Item", "Description"),
    ),
    FieldSpec(
        "due",
        (
            "完成时间",
            "截止日期",
            "截止时间",
            "完成日期",
            "计划完成时间",
            "时间节点",
            "截止",
            "期限",
        ),
        ("Due", "Due date", "Deadline", "Target date", "By when"),
    ),
    FieldSpec(
        "standard",
        ("完成标准", "验收标准", "交付标准", "标准", "交付物"),
        (
            "Standard",
            "Completion standard",
            "Acceptance criteria",
            "Definition of done",
            "Done when",
        ),
    ),
)
_POSITIONAL = ("department", "owner", "task", "due", "standard")
_COLUMN_OF = {  # label -> (field, rank): a lower rank is the more usual name for the column
    normalize_label(label): (spec.key, rank)
    for spec in COLUMN_SPECS
    for labels in (spec.labels_zh, spec.labels_en)
    for rank, label in enumerate(labels)
}
_ZH_SUFFIXES = sorted(
    ((normalize_label(label), spec.key) for spec in COLUMN_SPECS for label in spec.labels_zh),
    key=lambda pair: -len(pair[0]),
)
_SECTION_KEYS = frozenset(
    normalize_label(label) for label in (*ACTIONS.labels_zh, *ACTIONS.labels_en)
)
_BULLET_RE = re.compile(r"^\s*(?:\d{1,2}\s*[.、)）]|[（(]\d{1,2}[)）]|[-*•·●◆▪–—]+)\s*")
_SEPARATOR_RE = re.compile(r"\s*[｜|\t]\s*|\s{2,}|\u3000+|\s+/\s+|\s*／\s*")
_RULE_RE = re.compile(r"[-:：=\s|｜]*")  # a Markdown table's |---|---| line
_END_RE = re.compile(
    r"^(?:>|-{3,}\s*(?:原始邮件|original message)|on\s.*\swrote:$|.*写道[:：]$|_{20,}$|-- ?$"
    r"|(?:谢谢|此致|祝好|thanks|best regards|kind regards|regards)\W*$)",
    re.I,
)
_STANDARD_RE = re.compile(
    r"[，,;；。.]?\s*(?:完成标准|验收标准|交付标准|标准|standard|acceptance criteria|criteria|done when)"
    r"\s*[:：]\s*(?P<text>.+)$",
    re.I,
)
_OWNER_NOTE_RE = re.compile(
    r"[(（]\s*(?:负责人|责任人|owner)\s*[:：]\s*(?P<owner>[^)）]+)[)）]", re.I
)
_DUE_BEFORE_RE = re.compile(
    r"(?:\b(?:due(?:\s+date)?|deadline|by|before|no later than)|截止(?:日期|时间)?|完成时间|于|在)"
    r"\s*[:：]?\s*$",
    re.I,
)
_DUE_AFTER_RE = re.compile(  # "前", and a bare "完成" closing the phrase ("12月8日前完成，")
    r"^\s*(?:之前|以前|为止|前)?(?:\s*完成(?=\s*(?:[，,;；。.]|$)))?"
)
_NOTE_RE = re.compile(r"备注|说明|注|附注|notes?|remarks?|nb", re.I)
_EDGE_PUNCTUATION = " \t，,;；。.、:："


@dataclass(frozen=True)
class ActionRow:
    """One action item as written; every field may be ""."""

    department: str
    owner: str
    task: str
    due: str
    standard: str
    line: str  # the whole item as written, for messages


def find_action_rows(
    mail: ParsedMail, form: ExtractedForm | None, directory: Directory, stop_labels: frozenset[str]
) -> list[ActionRow]:
    """The action items in ``mail``: from the first table with an action header, else from the
    body's lines, else from the action and discussion fields of the minutes' table.

    ``stop_labels`` are the minutes' other field labels (normalised): one ends an action section.
    """
    for tables in _table_sources(mail, form):
        if rows := rows_from_tables(tables):
            return rows
    blocks = [(mail.text.splitlines(), False)]
    if form is not None and form.source != "text":
        blocks.append((form.values.get(ACTIONS.key, "").splitlines(), True))
        blocks.append((form.values.get("discussion", "").splitlines(), False))
    for lines, in_section in blocks:
        if rows := rows_from_lines(lines, directory, stop_labels, in_section):
            return rows
    return []


def _table_sources(mail: ParsedMail, form: ExtractedForm | None) -> Iterator[list[list[list[str]]]]:
    """The minutes' own tables, then those of each attachment and of the HTML body on their own
    (minutes typed as text may come with the action table in HTML)."""
    if form is not None:
        yield form.tables
    parts = [dataclasses.replace(mail, text="", html="", attachments=[a]) for a in mail.attachments]
    if mail.html.strip():
        parts.append(dataclasses.replace(mail, text="", attachments=[]))
    for part in parts:
        if (found := extract_fields(part, COLUMN_SPECS)) is not None:
            yield found.tables


# ---------------------------------------------------------------- tables


def header_columns(cells: Sequence[str]) -> dict[str, int] | None:
    """Column index of each action field when ``cells`` is a header row (the task and at least
    two more columns named), else None."""
    ranked: dict[str, tuple[int, int]] = {}  # field -> (rank, column)
    for index, cell in enumerate(cells):
        if found := _column_of(cell):
            key, rank = found
            ranked[key] = min(ranked.get(key, (rank, index)), (rank, index))
    columns = {key: index for key, (_, index) in ranked.items()}
    if "task" in columns and len(columns) >= 3 and {"department", "owner"} & columns.keys():
        return columns
    return None


def cut_before_action_table(text: str, tables: Sequence[Sequence[Sequence[str]]]) -> str:
    """``text`` up to an action table's header row read into it cell by cell: in a Word table,
    the action rows right under 讨论要点与共识 continue that field in the generic extractor."""
    lines = [line.strip() for line in text.split("\n")]
    for table in tables:
        for cells in table:
            wanted = [cell.strip() for cell in cells if cell.strip()]
            if not header_columns(cells):
                continue
            for start in range(len(lines) - len(wanted) + 1):
                if lines[start : start + len(wanted)] == wanted:
                    return "\n".join(lines[:start]).rstrip()
    return text


def _column_of(cell: str) -> tuple[str, int] | None:
    """(field, rank) of a header cell: a known label, or a Chinese one ending in it (计划完成时间)."""
    label = normalize_label(cell.replace("\n", " "))
    if not label or len(label) > 20:
        return None
    if label in _COLUMN_OF:
        return _COLUMN_OF[label]
    return next(((key, 100) for suffix, key in _ZH_SUFFIXES if label.endswith(suffix)), None)


def rows_from_tables(tables: Sequence[Sequence[Sequence[str]]]) -> list[ActionRow]:
    """The rows under each action header; a row too short for the columns ends the block."""
    rows: list[ActionRow] = []
    for table in tables:
        columns: dict[str, int] | None = None
        for cells in table:
            if header := header_columns(cells):
                columns = header
            elif columns is not None and len(cells) <= max(columns.values()):
                columns = None
            elif columns is not None and (row := _by_columns(cells, columns)):
                rows.append(row)
    return rows


def _by_columns(cells: Sequence[str], columns: dict[str, int]) -> ActionRow | None:
    values = {
        key: " ".join(cells[index].split()) if index < len(cells) else ""
        for key, index in columns.items()
    }
    if not any(values.get(key) for key in ("department", "owner", "task")):
        return None
    line = " | ".join(cell.strip() for cell in cells)
    return ActionRow(**{key: values.get(key, "") for key in _POSITIONAL}, line=line)


# ---------------------------------------------------------------- lines


def rows_from_lines(
    lines: Sequence[str], directory: Directory, stop_labels: frozenset[str], in_section: bool
) -> list[ActionRow]:
    """Action items in lines of text (see the module doc for what counts where)."""
    rows: list[ActionRow] = []
    columns: dict[str, int] | None = None
    for raw in lines:
        line = raw.strip()
        if _END_RE.match(line):
            break
        label, value, has_colon = split_label(line)
        if line and normalize_label(label) in _SECTION_KEYS:
            in_section, columns, line = True, None, value
        elif has_colon and normalize_label(label) in stop_labels:
            in_section, columns = False, None
            continue
        elif has_colon and _NOTE_RE.fullmatch(normalize_label(label)):
            continue  # 备注：以上任务每周一更新进度
        if not line:
            continue
        cells = _cells(line)
        if header := header_columns(cells):
            in_section, columns = True, header
            continue
        if row := _line_row(line, cells, columns, directory, strict=not in_section):
            rows.append(row)
        elif in_section and _BULLET_RE.match(line):  # an item that cannot be split: report it
            rows.append(ActionRow("", "", _BULLET_RE.sub("", line), "", "", line))
    return rows


def _cells(line: str) -> list[str]:
    body = _BULLET_RE.sub("", line).strip().strip("|｜").strip()
    return [cell.strip() for cell in _SEPARATOR_RE.split(body)]


def _line_row(
    line: str,
    cells: list[str],
    columns: dict[str, int] | None,
    directory: Directory,
    *,
    strict: bool,
) -> ActionRow | None:
    if len(cells) >= 3 and not _RULE_RE.fullmatch(line):
        if columns is not None:
            row = _by_columns(cells, columns)
        else:
            values = [*cells[:4], " ".join(cells[4:])] + [""] * (5 - len(cells))
            row = ActionRow(*values[:5], line=line)
        known = row is not None and find_department(directory, row.department) is not None
        return row if row is not None and (known or not strict) else None
    row = _prose(_BULLET_RE.sub("", line), directory)
    if row is None or (strict and not (row.due and find_department(directory, row.department))):
        return None
    return row


def _prose(body: str, directory: Directory) -> ActionRow | None:
    """``产品部 刘洋：完成技术方案初稿，12月10日前，标准：方案通过评审`` -> an ActionRow."""
    who, rest, has_colon = split_label(body)
    if not has_colon or not rest.strip() or len(who) > 40:
        return None
    standard = ""
    if match := _STANDARD_RE.search(rest):
        standard, rest = match["text"].strip(), rest[: match.start()]
    owner = ""
    if match := _OWNER_NOTE_RE.search(rest):
        owner, rest = match["owner"].strip(), rest[: match.start()] + rest[match.end() :]
    due, rest = _take_due(rest)
    department, named = _split_who(who.strip(), directory)
    task = _tidy(rest)
    return ActionRow(department, owner or named, task, due, standard, body)


def _split_who(who: str, directory: Directory) -> tuple[str, str]:
    """``产品部 刘洋`` -> ("产品部", "刘洋"); ``产品部`` -> ("产品部", ""); ``刘洋`` -> ("", "刘洋")."""
    if find_department(directory, who):
        return who, ""
    department, rest = split_department_prefix(directory, who)
    return (department.name, rest) if department else ("", who)


def _take_due(text: str) -> tuple[str, str]:
    """The due date phrase (``12月10日前``, ``by 2026-12-10``) and the text without it."""
    dates = find_dates(text)
    if not dates:
        return "", text
    span = dates[0]
    before = _DUE_BEFORE_RE.search(text[: span.start])
    after = _DUE_AFTER_RE.match(text[span.end :])  # always matches, maybe empty
    start = before.start() if before else span.start
    end = span.end + after.end()
    return text[start:end].strip(), text[:start] + " " + text[end:]


def _tidy(text: str) -> str:
    text = re.sub(r"\s*([，,;；])\s*(?:[，,;；]\s*)+", r"\1", text)
    return re.sub(r"\s{2,}", " ", text).strip(_EDGE_PUNCTUATION)
