"""Template 3 (跨部门协作行动跟踪表) as an .xlsx workbook, read back with openpyxl."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from mailflow.tracker_xlsx import TrackerRow, tracker_workbook

GENERATED = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
RED = "FFFF0000"
HEADER_ROW = 3

ROWS = (
    TrackerRow(
        request="REQ-2026-0001",
        action="A12",
        department="物流部",
        owner="张伟",
        task="华东仓备货",
        due=dt.date(2026, 12, 5),
        standard="入库单签字",
        status="进行中",
        last_update="2026-12-03 已完成方案初稿，待评审",
        overdue=True,
        note="",
    ),
    TrackerRow(
        request="REQ-2026-0001",
        action="A13",
        department="市场部",
        owner="李娜",
        task="宣传物料定稿",
        due=None,
        standard="终稿邮件确认",
        status="未开始",
        last_update="",
        overdue=False,
        note='=HYPERLINK("http://example.com")\x07',
    ),
)


def sheet_of(data: bytes) -> Worksheet:
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    assert len(workbook.worksheets) == 1
    return workbook.worksheets[0]


def workbook_bytes(language: str = "zh", rows: tuple[TrackerRow, ...] = ROWS) -> bytes:
    return tracker_workbook(
        rows, language=language, title="REQ-2026-0001 新品上市物流方案", generated_at=GENERATED
    )


def header(sheet: Worksheet) -> list[str]:
    return [cell.value for cell in sheet[HEADER_ROW]]


def test_chinese_sheet_title_and_columns() -> None:
    sheet = sheet_of(workbook_bytes("zh"))
    assert sheet.title == "跨部门协作行动跟踪表"
    assert sheet["A1"].value == "REQ-2026-0001 新品上市物流方案"
    assert sheet["A1"].font.b
    assert "2026-12-07 09:00" in sheet["A2"].value
    assert "逾期 1 项" in sheet["A2"].value
    assert header(sheet) == [
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
    ]


def test_english_sheet_title_and_columns() -> None:
    sheet = sheet_of(workbook_bytes("en"))
    assert sheet.title == "Action tracker"
    assert header(sheet) == [
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
    ]
    assert [sheet["J4"].value, sheet["J5"].value] == ["Yes", "No"]


def test_values_and_dates() -> None:
    sheet = sheet_of(workbook_bytes())
    values = [list(row) for row in sheet.iter_rows(min_row=HEADER_ROW + 1, values_only=True)]
    assert values[0] == [
        "REQ-2026-0001",
        "A12",
        "物流部",
        "张伟",
        "华东仓备货",
        dt.datetime(2026, 12, 5),
        "入库单签字",
        "进行中",
        "2026-12-03 已完成方案初稿，待评审",
        "是",
        None,
    ]
    assert values[1][5] is None
    assert values[1][9] == "否"
    due = sheet["F4"]
    assert due.is_date
    assert due.number_format == "yyyy-mm-dd"


def test_dates_are_stored_as_excel_serial_numbers() -> None:
    with zipfile.ZipFile(io.BytesIO(workbook_bytes())) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    serial = (dt.date(2026, 12, 5) - dt.date(1899, 12, 30)).days
    assert re.search(rf'<c r="F4" s="\d+" t="n"><v>{serial}</v></c>', xml)


def test_text_from_mail_is_never_a_formula() -> None:
    note = sheet_of(workbook_bytes())["K5"]
    assert note.data_type == "s"
    assert note.value == '=HYPERLINK("http://example.com")'  # the control character removed


def test_overdue_rows_are_red() -> None:
    sheet = sheet_of(workbook_bytes())
    assert all(cell.font.color.rgb == RED for cell in sheet[HEADER_ROW + 1])
    assert all(
        cell.font.color is None or cell.font.color.rgb != RED for cell in sheet[HEADER_ROW + 2]
    )


def test_header_layout() -> None:
    sheet = sheet_of(workbook_bytes())
    assert sheet.freeze_panes == f"A{HEADER_ROW + 1}"
    assert sheet.auto_filter.ref == f"A{HEADER_ROW}:K{HEADER_ROW + len(ROWS)}"
    header_cell = sheet["A3"]
    assert header_cell.font.b
    assert header_cell.fill.fgColor.rgb == "FF1F4E78"
    assert sheet.column_dimensions["E"].width > sheet.column_dimensions["B"].width
    assert {str(merged) for merged in sheet.merged_cells.ranges} == {"A1:K1", "A2:K2"}


def test_empty_tracker() -> None:
    sheet = sheet_of(workbook_bytes(rows=()))
    assert sheet.max_row == HEADER_ROW
    assert sheet.auto_filter.ref == "A3:K3"


def test_unknown_language() -> None:
    with pytest.raises(ValueError, match="fr"):
        workbook_bytes("fr")


def test_twenty_thousand_rows() -> None:
    rows = tuple(
        TrackerRow(
            request=f"REQ-2026-{k // 10:04d}",
            action=f"A{k}",
            department="物流部",
            owner="张伟",
            task="华东仓备货" * 4,
            due=dt.date(2026, 12, 1) + dt.timedelta(days=k % 60),
            standard="入库单签字",
            status="进行中",
            last_update="2026-12-03 已完成方案初稿，待评审",
            overdue=k % 4 == 0,
            note="",
        )
        for k in range(20_000)
    )
    workbook = openpyxl.load_workbook(io.BytesIO(workbook_bytes(rows=rows)), read_only=True)
    sheet = workbook.worksheets[0]
    assert sum(1 for _ in sheet.iter_rows(min_row=HEADER_ROW + 1)) == 20_000
    workbook.close()
