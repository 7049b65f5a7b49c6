"""Excel exports (openpyxl) of reports and bulletins: one row per unit or platform, plus how it was counted.

Cells carry text that platforms and users wrote (titles, unit names). A text cell that starts like a
formula (``=``, ``+``, ``-``, ``@``, tab, CR) is written as a string cell with Excel's quote prefix,
so ``=HYPERLINK("http://…?leak="&B2, …)`` in a title shows as text and never runs (formula injection).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from gateway.services.bulletin import Bulletin
from gateway.services.reports import DEFINITIONS, Report, ReportRow, ratio

HEADERS = ["单位/平台", "受理量", "按时签收率", "按时响应率", "按时办结率", "超期件", "退回件", "重办件", "重复投诉",
           "响应率", "解决率", "满意率", "综合得分", "督办件", "督办按时率",
           "终结办理", "诉求不合理", "三级终审", "甄别无过错", "办结通报率"]  # the last five: issue 16
BOLD, FILL = Font(bold=True), PatternFill("solid", fgColor="DDE7F3")
RATE_COLUMNS = frozenset({2, 3, 4, 9, 10, 11, 14, 19})  # the HEADERS that are percentages


def cell_texts(values: list[Any]) -> list[Any]:
    """``row_values`` for a page or a stored document: percentages as text, a missing figure as —."""
    shown: list[Any] = []
    for index, value in enumerate(values):
        if value is None:
            shown.append("—")
        elif index in RATE_COLUMNS:
            shown.append(f"{value * 100:.1f}%")
        else:
            shown.append(value)
    return shown


def row_values(row: ReportRow, weights: dict[str, float]) -> list[Any]:
    """One report row as spreadsheet cells (rates as fractions, formatted as percentages)."""
    rates = row.rates(weights)
    composite = rates["composite"]
    return [row.label, row.received, rates["sign"], rates["response_on_time"], rates["resolution_on_time"],
            row.overdue, row.returns, row.rework, row.repeat, rates["response"], rates["resolution"],
            rates["satisfaction"], None if composite is None else round(composite, 2), row.supervised,
            rates["orders_on_time"], row.terminated, row.unreasonable, row.final_reviewed, row.no_fault,
            ratio(*row.notified)]


def _sheet(sheet: Worksheet, title: str, report: Report) -> None:
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append([f"统计期间：{report.start:%Y-%m-%d} 至 {report.end:%Y-%m-%d}（按工单下发时间）"])
    sheet.append(HEADERS)
    for cell in sheet[3]:
        cell.font, cell.fill = BOLD, FILL
    for row in [*report.rows, report.total]:
        sheet.append(row_values(row, report.weights))
    for cells in sheet.iter_rows(min_row=4, max_row=sheet.max_row):
        for cell in (cells[i] for i in sorted(RATE_COLUMNS)):
            cell.number_format = "0.0%"
        if cells[0].value == "合计":
            for cell in cells:
                cell.font = BOLD
    for index, width in enumerate([22, 8, 11, 11, 11, 8, 8, 8, 9, 9, 9, 9, 9, 8, 11, 9, 10, 9, 10, 11], start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "B4"


def _notes(book: Workbook, weights: dict[str, float], lines: Iterable[str] = ()) -> None:
    notes = book.create_sheet("口径说明")
    notes.column_dimensions["A"].width = 110
    for line in DEFINITIONS:  # Chinese, plain text: what a person reads beside the figures
        notes.append([line])
    notes.append([f"综合得分权重：响应率 {weights.get('response', 0)}，解决率 {weights.get('resolution', 0)}，"
                  f"满意率 {weights.get('satisfaction', 0)}"])
    for line in lines:
        notes.append([line])
    for cells in notes.iter_rows():
        cells[0].alignment = Alignment(wrap_text=True)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def as_text(book: Workbook) -> None:
    """Every string cell that Excel would read as a formula becomes a quoted string cell."""
    for sheet in book.worksheets:
        for cells in sheet.iter_rows():
            for cell in cells:
                if isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS):
                    cell.data_type = "s"  # openpyxl had made it a formula ("f")
                    cell.quotePrefix = True  # and Excel keeps it text even when the cell is edited


def _bytes(book: Workbook) -> bytes:
    as_text(book)  # last, over every sheet: no writer can forget it
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def report_workbook(by_unit: Report, by_platform: Report) -> bytes:
    """报表.xlsx: per unit, per platform, and the definitions."""
    book = Workbook()
    first = book.active
    assert first is not None
    first.title = "按承办单位"
    _sheet(first, "诉求办理情况统计（按承办单位）", by_unit)
    _sheet(book.create_sheet("按平台"), "诉求办理情况统计（按平台）", by_platform)
    _notes(book, by_unit.weights)
    return _bytes(book)


def bulletin_workbook(bulletin: Bulletin, *, titles: bool = True) -> bytes:
    """通报.xlsx: the bulletin's tables, the ranking and the tickets overdue now (``titles`` False: without the
    tickets' titles, for a workbook that leaves the dashboard by email)."""
    book = Workbook()
    first = book.active
    assert first is not None
    first.title = "按承办单位"
    _sheet(first, bulletin.title, bulletin.by_unit)
    _sheet(book.create_sheet("按平台"), bulletin.title + "（按平台）", bulletin.by_platform)
    rank = book.create_sheet("综合排名")
    rank.append(["名次", "承办单位", "综合得分", "受理量", "超期件"])
    for place, (row, score) in enumerate(bulletin.ranking, start=1):
        rank.append([place, row.label, round(score, 2), row.received, row.overdue])
    late = book.create_sheet("当前超期工单")
    late.append(["平台", "平台单号", *(["标题"] if titles else []), "承办单位", "超期环节", "期限", "已超时(小时)"])
    for item in bulletin.overdue_now:
        late.append([item["platform"], item["external_id"], *([item["title"]] if titles else []), item["unit"] or "",
                     item["timer"], item["due_at"].strftime("%Y-%m-%d %H:%M"), item["hours_over"]])
    for sheet in (rank, late):
        for cell in sheet[1]:
            cell.font, cell.fill = BOLD, FILL
    _notes(book, bulletin.by_unit.weights)
    return _bytes(book)


def accountability_workbook(figures: dict[str, Any]) -> bytes:
    """年度问责情况.xlsx (002 四(二): 纳入部门实绩考核): approved measures per unit, per person, and the records."""
    measures: dict[str, str] = figures["measure_labels"]
    causes: dict[str, str] = figures["cause_labels"]
    book = Workbook()
    first = book.active
    assert first is not None
    first.title = "按责任单位"
    first.append([f"{figures['year']}年度问责情况（纳入部门实绩考核，{figures['article']}）"])
    first["A1"].font = Font(bold=True, size=13)
    first.append(["仅计已批准的问责；扣分为年度绩效考核扣除的分值（000 责任追究制度 三）"])
    first.append(["责任单位", "问责次数", "涉及人数", "扣分合计", *measures.values(), *causes.values()])
    for row in [*figures["rows"], figures["total"]]:
        first.append([row["unit"], row["records"], row["persons"], row["points"],
                      *(row["measures"][k] for k in measures), *(row["causes"][k] for k in causes)])
    for cell in first[3]:
        cell.font, cell.fill = BOLD, FILL
    first.column_dimensions["A"].width = 22
    first.freeze_panes = "B4"
    people = book.create_sheet("按责任人")
    people.append(["责任单位", "责任人", "身份", "事由", "措施", "扣分", "批准时间", "记录编号"])
    for p in figures["people"]:
        people.append([p["unit"], p["person"], p["person_role"], p["cause"], p["measures"], p["points"],
                       (p["decided_at"] or "")[:16].replace("T", " "), p["id"]])
    records = book.create_sheet("问责记录")
    records.append(["编号", "责任单位", "责任人", "事由", "依据", "措施", "扣分", "事实", "关联工单", "提出人",
                    "批准人"])
    for r in figures["records"]:
        tickets = "；".join(f"{t['external_id']} {t['title']}" for t in r["tickets"])
        records.append([r["id"], r["unit"], r["person"] or "", r["cause_label"], r["article"],
                        "、".join(r["measure_labels"]), r["points"], r["facts"], tickets, r["proposed_by"],
                        r["decided_by"] or ""])
    for sheet in (people, records):
        for cell in sheet[1]:
            cell.font, cell.fill = BOLD, FILL
    return _bytes(book)


def document_workbook(document: dict[str, Any]) -> bytes:
    """A stored bulletin (``gateway.services.bulletins``) as a workbook: its paragraphs, then each section's table."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = str(document.get("sheet") or "通报")[:31]
    sheet.append([document["title"]])
    sheet["A1"].font = Font(bold=True, size=13)
    for line in document.get("paragraphs", []):
        sheet.append([line])
    for section in document.get("sections", []):
        sheet.append([])
        sheet.append([section["heading"]])
        sheet.cell(row=sheet.max_row, column=1).font = BOLD
        sheet.append(section["headers"])
        for cell in sheet[sheet.max_row]:
            cell.font, cell.fill = BOLD, FILL
        for row in section["rows"]:
            sheet.append(row)
        if not section["rows"]:
            sheet.append([section.get("empty") or "无"])
    for index in range(1, 8):
        sheet.column_dimensions[get_column_letter(index)].width = 22 if index == 1 else 14
    notes = book.create_sheet("说明")
    notes.column_dimensions["A"].width = 110
    for line in document.get("notes", []):
        notes.append([line])
    return _bytes(book)
