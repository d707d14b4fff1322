"""Template 3, 跨部门协作行动跟踪表, as an .xlsx workbook (the weekly status mail's attachment).

One sheet: a title row, a line saying when it was made and how many items are overdue, the
header row of Template 3's columns in the recipient's language (frozen, with an autofilter),
then one row per action item: due dates as real Excel dates, overdue rows in red.

Pure (bytes out, nothing read or written elsewhere) and streaming: openpyxl's write-only mode
writes each row as it comes, and every cell takes one of a few named styles, so 20,000 rows
take a few seconds and little memory. Text from mail is stored as text, never as a formula, with
the characters XML cannot carry removed and cut to Excel's limit for one cell.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

__all__ = ["TrackerRow", "tracker_workbook"]


@dataclass(frozen=True)
class TrackerRow:
    request: str  # 需求编号
    action: str  # 行动项编号
    department: str  # 责任部门
    owner: str  # 负责人
    task: str  # 任务内容
    due: dt.date | None  # 计划完成时间
    standard: str  # 完成标准
    status: str  # 当前状态, already translated ("进行中")
    last_update: str  # 最近更新
    overdue: bool  # 是否逾期
    note: str  # 备注


SHEET_TITLES = {"zh": "跨部门协作行动跟踪表", "en": "Action tracker"}
COLUMNS = {
    "zh": (
        "需求编号",
        "行动项编号",
        "责任部门",
        "负责人",
        "任务内容",
        "计划完成时间",
        "完成标准",
        "当前状态",
        "最近更新",
        "是否逾期",
        "备注",
    ),
    "en": (
        "Request number",
        "Action item",
        "Responsible department",
        "Owner",
        "Task",
        "Planned completion",
        "Completion standard",
        "Current status",
        "Last update",
        "Overdue",
        "Notes",
    ),
}
_WIDTHS = (16, 11, 16, 12, 40, 14, 30, 11, 36, 10, 30)
_WRAPPED = frozenset({4, 6, 8, 10})  # long text: task, standard, last update, note
_DATE_COLUMN = 5
_OVERDUE_WORDS = {"zh": ("否", "是"), "en": ("No", "Yes")}
_SUMMARY = {
    "zh": "生成时间：{at:%Y-%m-%d %H:%M}　共 {rows} 项，逾期 {overdue} 项",
    "en": "Generated {at:%Y-%m-%d %H:%M} · {rows} items, {overdue} overdue",
}
_TITLE_ROW, _SUMMARY_ROW, _HEADER_ROW = 1, 2, 3
_MAX_CELL_TEXT = 32_767  # Excel's limit for the text of one cell

_RED = "FFFF0000"
_THIN = Side(style="thin", color="FFBFBFBF")
_GRID = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_TOP = Alignment(vertical="top")
_TOP_WRAPPED = Alignment(vertical="top", wrap_text=True)


def _body_style(name: str, *, red: bool, wrap: bool = False, date: bool = False) -> NamedStyle:
    return NamedStyle(
        name=name,
        font=Font(color=_RED) if red else Font(),
        border=_GRID,
        alignment=_TOP_WRAPPED if wrap else _TOP,
        number_format="yyyy-mm-dd" if date else "General",
    )


def _styles() -> tuple[NamedStyle, ...]:
    """The workbook's named styles (made per workbook: a style belongs to one)."""
    return (
        NamedStyle(name="mailflow title", font=Font(bold=True, size=14)),
        NamedStyle(name="mailflow summary", font=Font(size=9, color="FF595959")),
        NamedStyle(
            name="mailflow header",
            font=Font(bold=True, color="FFFFFFFF"),
            fill=PatternFill("solid", fgColor="FF1F4E78"),
            border=_GRID,
            alignment=Alignment(horizontal="center", vertical="center", wrap_text=True),
        ),
        _body_style("mailflow text", red=False),
        _body_style("mailflow wrapped", red=False, wrap=True),
        _body_style("mailflow date", red=False, date=True),
        _body_style("mailflow overdue text", red=True),
        _body_style("mailflow overdue wrapped", red=True, wrap=True),
        _body_style("mailflow overdue date", red=True, date=True),
    )


def _cell_style(column: int, overdue: bool) -> str:
    kind = "date" if column == _DATE_COLUMN else "wrapped" if column in _WRAPPED else "text"
    return f"mailflow {'overdue ' if overdue else ''}{kind}"


def tracker_workbook(
    rows: Sequence[TrackerRow], *, language: str, title: str, generated_at: dt.datetime
) -> bytes:
    """Template 3 for ``rows`` as the bytes of an .xlsx file, headed by ``title``."""
    if language not in COLUMNS:
        raise ValueError(f"unsupported language {language!r}: expected one of {sorted(COLUMNS)}")
    workbook = Workbook(write_only=True)
    for style in _styles():
        workbook.add_named_style(style)
    sheet = workbook.create_sheet(SHEET_TITLES[language])
    _lay_out(sheet, len(rows))
    overdue = sum(row.overdue for row in rows)
    summary = _SUMMARY[language].format(at=generated_at, rows=len(rows), overdue=overdue)
    sheet.append([_cell(sheet, title, "mailflow title")])
    sheet.append([_cell(sheet, summary, "mailflow summary")])
    sheet.append([_cell(sheet, label, "mailflow header") for label in COLUMNS[language]])
    yes_no = _OVERDUE_WORDS[language]
    for row in rows:
        sheet.append(list(_row_cells(sheet, row, yes_no)))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _lay_out(sheet: WriteOnlyWorksheet, row_count: int) -> None:
    """What a write-only sheet needs before its first row: widths, frozen header, filter."""
    last_column = get_column_letter(len(_WIDTHS))
    for column, width in enumerate(_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.freeze_panes = f"A{_HEADER_ROW + 1}"
    sheet.merged_cells.add(f"A{_TITLE_ROW}:{last_column}{_TITLE_ROW}")
    sheet.merged_cells.add(f"A{_SUMMARY_ROW}:{last_column}{_SUMMARY_ROW}")
    sheet.auto_filter.ref = f"A{_HEADER_ROW}:{last_column}{_HEADER_ROW + row_count}"
    sheet.print_title_rows = f"{_HEADER_ROW}:{_HEADER_ROW}"
    sheet.page_setup.orientation = "landscape"


def _row_cells(
    sheet: WriteOnlyWorksheet, row: TrackerRow, yes_no: tuple[str, str]
) -> Iterator[WriteOnlyCell]:
    values = (
        row.request,
        row.action,
        row.department,
        row.owner,
        row.task,
        row.due,
        row.standard,
        row.status,
        row.last_update,
        yes_no[row.overdue],
        row.note,
    )
    for column, value in enumerate(values):
        yield _cell(sheet, value, _cell_style(column, row.overdue))


def _cell(sheet: WriteOnlyWorksheet, value: str | dt.date | None, style: str) -> WriteOnlyCell:
    """A styled cell; text stays text even when it starts with "=" (no formula from mail)."""
    if not isinstance(value, str):
        cell = WriteOnlyCell(sheet, value)
    else:
        cell = WriteOnlyCell(sheet, ILLEGAL_CHARACTERS_RE.sub("", value)[:_MAX_CELL_TEXT])
        cell.data_type = "s"
    cell.style = style
    return cell
