"""Template 1, 跨部门沟通协调需求申请表: reading a request form from a mail, and the blank form.

Owns what Template 1's fields are called (:data:`REQUEST_FIELDS`), how their values are read
(departments against the directory, ticked urgency boxes, dates), every problem a form can have
(reported all at once in a :class:`FormRejection`), and the blank form as ``label：`` lines and as
a Word document for the "please resend" reply. Finding fields in a mail (docx, HTML table, text)
is the generic extractor's job, in ``form_sources.py``; it is re-exported here. Pure.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
from dataclasses import dataclass, field

import docx
from docx.shared import RGBColor
from docx.table import Table

from mailflow.config import Department, Directory, normalize_name
from mailflow.form_sources import ExtractedForm, FieldSpec, extract_fields
from mailflow.parse import ParsedMail

__all__ = [
    "REQUEST_FIELDS",
    "ExtractedForm",
    "FieldSpec",
    "FormProblem",
    "FormRejection",
    "RequestForm",
    "blank_request_form_docx",
    "blank_request_form_text",
    "extract_fields",
    "field_label",
    "parse_form_date",
    "read_request_form",
    "read_urgency",
]

REQUEST_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        "requesting_department",
        ("申请部门", "发起部门", "申请单位", "需求部门", "部门"),
        ("Requesting department", "Requesting dept", "Department", "From department"),
    ),
    FieldSpec(
        "application_date",
        ("申请日期", "日期", "填表日期", "提交日期"),
        ("Date", "Application date", "Date of application", "Request date"),
    ),
    FieldSpec(
        "number",
        ("需求编号", "编号", "申请编号"),
        ("Request number", "Request No.", "Request ID", "Number", "Reference"),
    ),
    FieldSpec(
        "background",
        ("需求背景", "背景", "需求描述", "需求说明", "背景说明"),
        ("Background", "Background information", "Context", "Description"),
        multiline=True,
    ),
    FieldSpec(
        "departments",
        ("涉及部门", "参与部门", "协调部门", "相关部门"),
        ("Departments involved", "Department involved", "Involved departments", "Departments"),
        multiline=True,
    ),
    FieldSpec(
        "lead_department",
        ("牵头部门", "牵头单位"),
        ("Lead department", "Lead dept", "Leading department", "Coordinating department"),
    ),
    FieldSpec(
        "goal",
        ("期望目标", "目标", "预期目标", "期望达成目标"),
        ("Expected goal", "Goal", "Goals", "Expected outcome", "Objective"),
        multiline=True,
    ),
    FieldSpec(
        "urgency",
        ("紧急程度", "优先级", "紧急度"),
        ("Urgency", "Priority", "Urgency level"),
        multiline=True,
    ),
    FieldSpec(
        "attachments",
        ("附件材料", "附件"),
        ("Attachments", "Attachment", "Attached materials"),
        multiline=True,
    ),
    FieldSpec(
        "signed_by",
        ("发起部门负责人签字", "发起部门负责人", "负责人签字", "签字", "签名"),
        ("Signed by", "Signature", "Department head signature"),
    ),
    FieldSpec(
        "signed_date", ("日期", "签字日期", "签署日期"), ("Date", "Signature date", "Date signed")
    ),
)
_SPECS = {spec.key: spec for spec in REQUEST_FIELDS}
URGENCIES = ("urgent", "important", "normal")


@dataclass
class RequestForm:
    """A valid Template 1 form, departments resolved to their directory names."""

    requesting_department: str
    application_date: dt.date | None
    number: str  # as given; "" when blank or "（自动生成）"
    background: str
    departments: list[str]
    lead_department: str | None
    goal: str
    urgency: str  # "urgent" | "important" | "normal"
    attachments_note: str  # "" for 无 / None / N/A
    signed_by: str
    signed_date: dt.date | None
    language: str
    source: str  # "docx" | "html" | "text"


@dataclass(frozen=True)
class FormProblem:
    field: str  # a REQUEST_FIELDS key
    code: str  # missing | unknown_department | unreadable_urgency | bad_date
    value: str = ""  # what was written
    suggestion: str = ""  # the closest known department, for unknown_department


@dataclass
class FormRejection:
    """Every problem of a form, field by field, for one reply."""

    problems: list[FormProblem] = field(default_factory=list)
    language: str = "zh"
    found_any_field: bool = False


def field_label(key: str, language: str) -> str:
    """The template's own label for a field (``申请部门`` / ``Requesting department``)."""
    spec = _SPECS[key]
    return (spec.labels_zh if language == "zh" else spec.labels_en)[0]


# ---------------------------------------------------------------- reading


def read_request_form(mail: ParsedMail, directory: Directory) -> RequestForm | FormRejection:
    """Template 1 from ``mail``: a :class:`RequestForm`, or every problem in a rejection."""
    form = extract_fields(mail, REQUEST_FIELDS)
    values = form.values if form else {}
    problems: list[FormProblem] = []
    requesting = _one_department(values, "requesting_department", directory, problems, True)
    application_date = _date(values, "application_date", problems)
    background = _required(values, "background", problems)
    departments = _departments(values.get("departments", ""), directory, problems)
    lead = _one_department(values, "lead_department", directory, problems, False)
    goal = _required(values, "goal", problems)
    urgency = _urgency(values.get("urgency", ""), problems)
    signed_date = _date(values, "signed_date", problems)
    if form is None or problems:
        language = form.language if form else _guess_language(mail.text, mail.subject)
        return FormRejection(problems, language, found_any_field=bool(values))
    return RequestForm(
        requesting_department=requesting or "",
        application_date=application_date,
        number=_request_number(values.get("number", "")),
        background=background,
        departments=departments,
        lead_department=lead,
        goal=goal,
        urgency=urgency,
        attachments_note=_attachments_note(values.get("attachments", "")),
        signed_by=values.get("signed_by", ""),
        signed_date=signed_date,
        language=form.language,
        source=form.source,
    )


def _required(values: dict[str, str], key: str, problems: list[FormProblem]) -> str:
    if not values.get(key):
        problems.append(FormProblem(key, "missing"))
    return values.get(key, "")


def _guess_language(*texts: str) -> str:
    """The language of the first text that has Chinese or Latin letters; Chinese by default."""
    for text in texts:
        if re.search(r"[\u3400-\u9fff]", text):
            return "zh"
        if re.search(r"[A-Za-z]", text):
            return "en"
    return "zh"


_NONE_WORDS = frozenset(
    ("无", "没有", "暂无", "无附件", "none", "n/a", "na", "nil", "no", "-", "/")
)
_AUTO_NUMBER_RE = re.compile(r"自动|系统生成|待分配|待定|auto|tbd|to be assigned", re.I)


def _means_none(value: str) -> bool:
    return normalize_name(value).strip("。.，,") in _NONE_WORDS or not value


def _attachments_note(value: str) -> str:
    return "" if _means_none(value) else value


def _request_number(value: str) -> str:
    return "" if _means_none(value) or _AUTO_NUMBER_RE.search(value) else value


# -- departments

_LIST_SPLIT_RE = re.compile(r"[、，,;；/／|\n]+")
_CONNECTOR_RE = re.compile(r"\s*(?:以及|及|和|与|&|\band\b)\s*", re.I)
_NAME_NOISE_RE = re.compile(
    r"^(?:(?:涉及|参与|相关|牵头|申请)?部门|departments?(?:\s+involved)?)\s*[:：]\s*"
    r"|(?:等部门|等|etc\.?)$"
    r"|^(?:\d{1,2}\s*[.、)）]|[-*•·])\s*"
    r"|[\"“”'‘’「」《》。.]+$|^[\"“”'‘’「」《》]+",
    re.I,
)
_BRACKETED_RE = re.compile(r"[(（\[【][^()（）\[\]【】]*[)）\]】]")


def _clean_name(text: str) -> str:
    """A department name as written, without hints in brackets, bullets, quotes, 等 or 部门:."""
    text = _BRACKETED_RE.sub("", text).strip()
    while (cleaned := _NAME_NOISE_RE.sub("", text).strip()) != text:
        text = cleaned
    return text


def _find_department(directory: Directory, name: str) -> Department | None:
    """``directory.department`` also tried without "部门"/"department" decorations."""
    variants = (
        name,
        re.sub(r"部门$", "部", name),
        re.sub(r"^the\s+|\s+(?:department|dept\.?|team)$", "", name, flags=re.I),
    )
    for variant in variants:
        if variant and (department := directory.department(variant)):
            return department
    return None


def _split_names(value: str, directory: Directory) -> list[str]:
    """Split on 、，,;；/ and line breaks, then on 和/及/以及/and unless the piece is known."""
    names: list[str] = []
    for chunk in _LIST_SPLIT_RE.split(_BRACKETED_RE.sub("", value)):
        chunk = _clean_name(chunk)
        if chunk and _find_department(directory, chunk) is None:
            names.extend(part for p in _CONNECTOR_RE.split(chunk) if (part := _clean_name(p)))
        elif chunk:
            names.append(chunk)
    return names


def _departments(value: str, directory: Directory, problems: list[FormProblem]) -> list[str]:
    found: list[str] = []
    unknown: dict[str, str] = {}
    for name in _split_names(value, directory):
        department = _find_department(directory, name)
        if department is None:
            unknown.setdefault(normalize_name(name), name)
        elif department.name not in found:
            found.append(department.name)
    for name in unknown.values():
        suggestion = directory.closest_department(name) or ""
        problems.append(FormProblem("departments", "unknown_department", name, suggestion))
    if not found and not unknown:
        problems.append(FormProblem("departments", "missing"))
    return found


def _one_department(
    values: dict[str, str],
    key: str,
    directory: Directory,
    problems: list[FormProblem],
    required: bool,
) -> str | None:
    name = _clean_name(values.get(key, "").split("\n", 1)[0])
    if not name or _means_none(name):
        if required:
            problems.append(FormProblem(key, "missing"))
        return None
    department = _find_department(directory, name)
    if department is None:
        suggestion = directory.closest_department(name) or ""
        problems.append(FormProblem(key, "unknown_department", name, suggestion))
        return None
    return department.name


# -- urgency

_URGENCY_TOKEN_RE = re.compile(
    r"(?P<ticked>[☑☒■√✓✔✅]|[\[(]\s*[x✓√✔]\s*[\])])"
    r"|(?P<unticked>[□☐◻]|[\[(]\s*[\])])"
    r"|(?P<urgent>紧急|特急|urgent)"
    r"|(?P<important>重要|important)"
    r"|(?P<normal>常规|一般|normal|routine|regular)"
)


def read_urgency(text: str) -> str | None:
    """Read "urgent", "important" or "normal" from ticked boxes or the word alone; else None.

    When the text holds any box, each ticked box counts for the nearest level word (the one
    after it on a tie); unticked boxes count for nothing. Exactly one level must result.
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    tokens = [(m.start(), m.end(), m.lastgroup or "") for m in _URGENCY_TOKEN_RE.finditer(text)]
    words = [token for token in tokens if token[2] in URGENCIES]
    if len(words) == len(tokens):
        levels = {kind for _, _, kind in words}
    else:
        levels = {_nearest_word(t[0], t[1], words) for t in tokens if t[2] == "ticked"}
        levels.discard("")
    return levels.pop() if len(levels) == 1 else None


def _nearest_word(start: int, end: int, words: list[tuple[int, int, str]]) -> str:
    def distance(word: tuple[int, int, str]) -> tuple[int, int]:
        return (word[0] - end, 0) if word[0] >= end else (start - word[1], 1)

    return min(words, key=distance)[2] if words else ""


def _urgency(value: str, problems: list[FormProblem]) -> str:
    if not value:
        problems.append(FormProblem("urgency", "missing"))
        return ""
    urgency = read_urgency(value)
    if urgency is None:
        problems.append(FormProblem("urgency", "unreadable_urgency", value))
    return urgency or ""


# -- dates

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH = rf"(?P<m>{'|'.join(_MONTHS)})[a-z]*\.?"
_DATE_RES = (
    re.compile(r"(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})"),
    re.compile(rf"\b(?P<d>\d{{1,2}})(?:st|nd|rd|th)?[\s-]+{_MONTH},?[\s-]+(?P<y>\d{{4}})\b"),
    re.compile(rf"\b{_MONTH}\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y>\d{{4}})\b"),
)
_BLANK_DATE_RE = re.compile(r"[\s年月日_/.\-ymd]*")


def parse_form_date(text: str) -> dt.date | None:
    """2026-11-20, 2026/11/20, 2026.11.20, 2026年11月20日, 20 Nov 2026, Nov 20, 2026 -> date."""
    text = unicodedata.normalize("NFKC", text).casefold()
    for regex in _DATE_RES:
        if match := regex.search(text):
            month = match["m"]
            number = int(month) if month.isdigit() else _MONTHS.index(month[:3]) + 1
            try:
                return dt.date(int(match["y"]), number, int(match["d"]))
            except ValueError:
                return None
    return None


def _date(values: dict[str, str], key: str, problems: list[FormProblem]) -> dt.date | None:
    value = values.get(key, "")
    if _BLANK_DATE_RE.fullmatch(value.casefold()):
        return None
    date = parse_form_date(value)
    if date is None:
        problems.append(FormProblem(key, "bad_date", value))
    return date


# ---------------------------------------------------------------- the blank form

_TITLE = {"zh": "跨部门沟通协调需求申请表", "en": "Cross-Department Coordination Request Form"}
_URGENCY_OPTIONS = {
    "zh": "□紧急（24小时内响应）□重要（3个工作日内响应）□常规（1周内响应）",
    "en": "□ Urgent (response within 24 hours) □ Important (within 3 working days) "
    "□ Normal (within 1 week)",
}
_HINTS = {
    "zh": {
        "number": "（自动生成，可留空）",
        "background": "（简要说明沟通协调的起因、当前问题等，示例：为提升客户满意度，"
        "需协调客服部与技术部优化售后响应流程）",
        "departments": "（列出所有需参与的部门，示例：客服部、技术部、运营部）",
        "lead_department": "（可选，留空则由申请部门牵头）",
        "goal": "（具体、可衡量，示例：建立“48小时问题闭环机制”，客户投诉处理时长缩短30%）",
        "urgency": _URGENCY_OPTIONS["zh"],
        "attachments": "（如流程图、数据报表等，无则填“无”）",
    },
    "en": {
        "number": "(assigned automatically when left blank)",
        "background": "(briefly state why coordination is needed and the current problem, e.g. "
        "to raise customer satisfaction, Customer Service and Technology must speed up "
        "after-sales responses)",
        "departments": "(list every department that must take part, e.g. Customer Service, "
        "Technology, Operations)",
        "lead_department": "(optional; the requesting department leads when left blank)",
        "goal": "(specific and measurable, e.g. a 48-hour issue closing routine, complaint "
        "handling time down 30%)",
        "urgency": _URGENCY_OPTIONS["en"],
        "attachments": '(e.g. flow charts, data reports; write "None" if there are none)',
    },
}
_LABEL_HINTS = {"zh": {"urgency": "（勾选）"}, "en": {"urgency": " (tick one)"}}
_PAIR_ROWS = (("requesting_department", "application_date"), ("signed_by", "signed_date"))
_WIDE_ROWS = (
    "number",
    "background",
    "departments",
    "lead_department",
    "goal",
    "urgency",
    "attachments",
)
_HINT_COLOR = RGBColor(0x80, 0x80, 0x80)


def blank_request_form_text(language: str) -> str:
    """The form as ``label：`` lines with the template's hints, ready to copy and fill in."""
    colon = "：" if language == "zh" else ": "
    lines = []
    for spec in REQUEST_FIELDS:
        label = field_label(spec.key, language) + _LABEL_HINTS[language].get(spec.key, "")
        lines.append(f"{label}{colon}{_HINTS[language].get(spec.key, '')}".rstrip())
    return "\n".join(lines) + "\n"


def blank_request_form_docx(language: str) -> bytes:
    """Template 1 as a Word table: two label/value pairs on the first and last rows, merged cells
    for the long fields, the urgency options with □ boxes."""
    document = docx.Document()
    document.core_properties.title = _TITLE[language]
    document.add_heading(_TITLE[language], level=1)
    table = document.add_table(rows=0, cols=4)
    table.style = "Table Grid"
    _pair_row(table, language, *_PAIR_ROWS[0])
    for key in _WIDE_ROWS:
        cells = table.add_row().cells
        cells[0].text = field_label(key, language)
        value = cells[1].merge(cells[3])
        hint = _HINTS[language].get(key, "")
        value.text = hint
        if hint and key != "urgency":
            value.paragraphs[0].runs[0].font.color.rgb = _HINT_COLOR
    _pair_row(table, language, *_PAIR_ROWS[1])
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _pair_row(table: Table, language: str, first: str, second: str) -> None:
    cells = table.add_row().cells
    cells[0].text = field_label(first, language)
    cells[2].text = field_label(second, language)
