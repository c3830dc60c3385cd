"""Findings and bulletins written as spreadsheets, read back with another library."""

import codecs
import csv
import io
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from graph.bulletin import bulletin
from graph.compliance import DEFAULT_RULES
from graph.query import Scope
from graph.stores.networkx import NetworkxStore
from loaders.reports import FINDING_HEADERS, bulletin_table, finding_rows, write_csv, write_xlsx

pytestmark = pytest.mark.anyio
DAY = date(2021, 7, 31)


async def test_findings_reopen_from_xlsx_with_the_same_rows(demo_store: NetworkxStore, tmp_path: Path) -> None:
    findings = (await demo_store.findings(Scope(), DAY, DEFAULT_RULES, 0, 400)).items
    rows = finding_rows(findings)
    path = tmp_path / "audit.xlsx"
    write_xlsx(path, "合规检查", FINDING_HEADERS, rows)
    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("合规检查").to_python()
    assert sheet[0] == FINDING_HEADERS
    assert sheet[1:] == rows
    layout = openpyxl.load_workbook(path).active
    assert layout is not None and layout.freeze_panes == "A2" and layout["A1"].font.bold
    message_width = layout.column_dimensions["G"].width
    assert 40 < message_width <= 82  # as wide as the longest message, within reason


async def test_the_bulletin_as_csv(demo_store: NetworkxStore, tmp_path: Path) -> None:
    headers, rows = bulletin_table(await bulletin(demo_store, Scope(), DAY, None, DEFAULT_RULES))
    write_csv(tmp_path / "bulletin.csv", headers, rows)
    raw = (tmp_path / "bulletin.csv").read_bytes()
    assert raw.startswith(codecs.BOM_UTF8)  # so Excel reads it as UTF-8
    read = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert read == [headers, *([str(cell) for cell in row] for row in rows)]
    assert headers[3] == "企业数(2021-07-31)" and "应建未建变化" in headers
    assert rows[0][:3] == ["合计", "", "全部"]


async def test_a_bulletin_workbook_shows_rates_as_percentages(demo_store: NetworkxStore, tmp_path: Path) -> None:
    headers, rows = bulletin_table(await bulletin(demo_store, Scope(), DAY, None, DEFAULT_RULES))
    write_xlsx(tmp_path / "bulletin.xlsx", "情况通报", headers, rows)
    sheet = openpyxl.load_workbook(tmp_path / "bulletin.xlsx").worksheets[0]
    rate = headers.index(f"组织覆盖率({DAY.isoformat()})") + 1
    cell = sheet.cell(row=2, column=rate)
    assert cell.number_format == "0.0%" and cell.value == rows[0][rate - 1]  # the fraction, shown as a percentage
    assert sheet.cell(row=2, column=4).number_format == "General"  # counts stay counts
