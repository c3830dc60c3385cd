"""Reports handed round as spreadsheets: findings and bulletins as CSV or Excel, Chinese headers.

Excel files are written with openpyxl: a bold, frozen header row and columns as wide as
their text (a Chinese character counts twice), so a report opens ready to read.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from graph.bulletin import Bulletin
from graph.compliance import RULES, Finding, RuleCode
from graph.model import Organization
from graph.organizations import Alliance
from graph.query import CoverageGroup
from graph.text import display_width
from graph.vocabulary import term
from loaders.cells import neutralised

Cell = str | int | float
SEVERITY_NAMES = {"ERROR": "违规", "WARNING": "提醒", "INFO": "提示"}
SUBJECT_NAMES = {"ENTERPRISE": "企业", "ORGANIZATION": "党组织"}
GROUPING_NAMES = {"PARK": "园区", "CHAIN": "产业链", "CLUSTER": "党群联组", "BUILDING": "楼宇", "CATEGORY": "行业"}
FINDING_HEADERS = ["规则", "规则名称", "严重程度", "对象类型", "对象编号", "对象名称", "说明"]
MAX_WIDTH = 80
WIDTH_ROWS = 1_000  # rows a column's width is fitted to
RATE = "覆盖率"  # a column of coverage rates (fractions) and their changes


def finding_rows(findings: Sequence[Finding]) -> list[list[Cell]]:
    return [
        [f.rule.value, RULES[f.rule].term, SEVERITY_NAMES[f.severity], SUBJECT_NAMES[f.subject],
         f.subject_id, f.subject_name, f.message]
        for f in findings
    ]  # fmt: skip


def coverage_rows(groups: Sequence[CoverageGroup]) -> list[list[Cell]]:
    """Each group's key, label and coverage counts and rates (两个覆盖)."""
    return [
        [g.key, g.label, c.enterprises, c.organization_covered, c.work_covered, c.uncovered,
         round(c.organization_rate, 4), round(c.work_rate, 4), c.formal_members, c.organizations]
        for g in groups
        for c in (g.coverage,)
    ]  # fmt: skip


def organization_rows(orgs: Sequence[Organization]) -> list[list[Cell]]:
    """Each organization's id, name, kind, mode, parent, dates, stars and points (no personal names)."""
    return [
        [o.id, o.name, term(o.kind) or o.kind.value, (term(o.mode) or o.mode.value) if o.mode else "",
         o.parent_id or "", _day(o.established_on), _day(o.term_ends_on),
         "" if o.stars is None else o.stars, "" if o.points is None else o.points]
        for o in orgs
    ]  # fmt: skip


def alliance_rows(alliances: Sequence[Alliance]) -> list[list[Cell]]:
    """Each alliance's id, name, lead (盟主单位), member count and members' names."""
    return [
        [a.alliance.id, a.alliance.name, a.lead.name if a.lead else "", len(a.members),
         "、".join(m.name for m in a.members)]
        for a in alliances
    ]  # fmt: skip


def _day(day: date | None) -> str:
    return day.isoformat() if day else ""


def bulletin_table(bulletin: Bulletin) -> tuple[list[str], list[list[Cell]]]:
    """The bulletin as headers and rows: each group's coverage and findings per rule at both dates."""
    then, now = bulletin.previous.isoformat(), bulletin.as_of.isoformat()
    codes: list[RuleCode] = [count.rule for count in bulletin.rows[0].current_counts] if bulletin.rows else []
    headers = ["维度", "编号", "名称", f"企业数({now})"]
    for measure in ("组织覆盖率", "工作覆盖率"):
        headers += [f"{measure}({then})", f"{measure}({now})", f"{measure}变化"]
    for code in codes:
        headers += [f"{RULES[code].term}({then})", f"{RULES[code].term}({now})", f"{RULES[code].term}变化"]
    rows: list[list[Cell]] = []
    for row in bulletin.rows:
        cells: list[Cell] = [GROUPING_NAMES[row.by] if row.by else "合计", row.key, row.label if row.by else "全部"]
        cells.append(row.current.enterprises)
        cells += [round(row.previous.organization_rate, 4), round(row.current.organization_rate, 4),
                  round(row.organization_rate_change, 4)]  # fmt: skip
        cells += [round(row.previous.work_rate, 4), round(row.current.work_rate, 4), round(row.work_rate_change, 4)]
        for before, after, change in zip(row.previous_counts, row.current_counts, row.changes, strict=True):
            cells += [before.count, after.count, change.count]
        rows.append(cells)
    return headers, rows


def safe(rows: Sequence[Sequence[Cell]]) -> list[list[Cell]]:
    """Every text cell neutralised: no name becomes a formula (loaders.cells)."""
    return [[neutralised(cell) if isinstance(cell, str) else cell for cell in row] for row in rows]


def write_csv(path: Path, headers: Sequence[str], rows: Sequence[Sequence[Cell]]) -> None:
    """UTF-8 with a BOM, which Excel opens as such."""
    with path.open("w", encoding="utf-8-sig", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(headers)
        writer.writerows(safe(rows))


def write_xlsx(path: Path, title: str, headers: Sequence[str], rows: Sequence[Sequence[Cell]]) -> None:
    write_workbook(path, [(title, headers, rows)])


def write_workbook(path: Path, sheets: Sequence[tuple[str, Sequence[str], Sequence[Sequence[Cell]]]]) -> None:
    """One sheet per (title, headers, rows), each with a bold frozen header and columns fitted
    to the first WIDTH_ROWS rows; written as a stream, so a sheet of a million rows costs its rows."""
    workbook = Workbook(write_only=True)
    for title, headers, given in sheets:
        sheet = workbook.create_sheet(title)
        rows = safe(given)
        sheet.freeze_panes = "A2"
        for index, header in enumerate(headers):
            widest = max([display_width(header), *(display_width(str(row[index])) for row in rows[:WIDTH_ROWS])])
            sheet.column_dimensions[get_column_letter(index + 1)].width = min(widest + 2, MAX_WIDTH)
        bold = []
        for header in headers:
            cell = WriteOnlyCell(sheet, value=header)
            cell.font = Font(bold=True)
            bold.append(cell)
        sheet.append(bold)
        rates = {index for index, header in enumerate(headers) if RATE in header}
        for row in rows:
            if rates:  # a fraction shown as the charts show it: 1.6%
                row = [_percent(sheet, value) if index in rates else value for index, value in enumerate(row)]
            sheet.append(row)
    workbook.save(path)


def _percent(sheet: Any, value: Cell) -> Any:  # openpyxl types WriteOnlyCell as a function
    cell = WriteOnlyCell(sheet, value=value)
    cell.number_format = "0.0%"
    return cell
