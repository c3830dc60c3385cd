"""Names that look like formulas go into every export as text, and load back as themselves."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from graph.changes import RegisterEnterprise, SetOrganizationDetails, apply_changes
from graph.dataset import Dataset
from graph.model import Enterprise
from graph.records import Records
from loaders.export import WORKBOOK, write_ledger
from loaders.ledger import load_ledger
from loaders.reports import write_csv, write_xlsx
from tests.conftest import contents, credit_code

HOSTILE = ['=HYPERLINK("http://example.invalid","点我")', "+1+1", "-2+3", "@SUM(A1:A9)", "'=quoted", "=1", "''@x"]
FORMULA_START = tuple("=+-@\t\r")


@pytest.fixture
def hostile(hand_dataset: Dataset) -> Dataset:
    records = Records.of(hand_dataset)
    changes = [RegisterEnterprise(Enterprise(credit_code(20 + n), name, "A")) for n, name in enumerate(HOSTILE)]
    changes.append(SetOrganizationDetails("B1", name=HOSTILE[0], secretary=HOSTILE[3]))
    apply_changes(records.draft(date(2024, 1, 1)), changes).merge()
    return records.dataset()


def csv_cells(folder: Path) -> list[str]:
    cells = []
    for path in folder.glob("*.csv"):
        with path.open(encoding="utf-8-sig", newline="") as file:
            cells += [cell for row in csv.reader(file) for cell in row]
    return cells


def test_a_csv_ledger_holds_no_formula_and_loads_back_as_itself(tmp_path: Path, hostile: Dataset) -> None:
    write_ledger(hostile, tmp_path / "out")
    cells = csv_cells(tmp_path / "out")
    assert not [cell for cell in cells if cell.startswith(FORMULA_START)]
    assert contents(load_ledger(tmp_path / "out").dataset)[:2] == contents(hostile)[:2]


def test_a_workbook_ledger_holds_no_formula_and_loads_back_as_itself(tmp_path: Path, hostile: Dataset) -> None:
    write_ledger(hostile, tmp_path / "out", xlsx=True)
    book = openpyxl.load_workbook(tmp_path / "out" / WORKBOOK)
    kinds = {cell.data_type for sheet in book.worksheets for row in sheet.iter_rows() for cell in row}
    assert "f" not in kinds
    assert contents(load_ledger(tmp_path / "out" / WORKBOOK).dataset)[:2] == contents(hostile)[:2]


def test_reports_write_text_as_text(tmp_path: Path) -> None:
    rows: list[list[str | int | float]] = [[name, -1, 0.5] for name in HOSTILE]
    write_xlsx(tmp_path / "r.xlsx", "报表", ["名称", "数", "率"], rows)
    write_csv(tmp_path / "r.csv", ["名称", "数", "率"], rows)
    sheet = openpyxl.load_workbook(tmp_path / "r.xlsx").worksheets[0]
    assert [row[0].data_type for row in sheet.iter_rows(min_row=2)] == ["s"] * len(HOSTILE)
    assert [row[1].value for row in sheet.iter_rows(min_row=2)] == [-1] * len(HOSTILE)  # numbers stay numbers
    with (tmp_path / "r.csv").open(encoding="utf-8-sig", newline="") as file:
        names = [row[0] for row in csv.reader(file)][1:]
    assert len(names) == len(HOSTILE) and not [name for name in names if name.startswith(FORMULA_START)]
