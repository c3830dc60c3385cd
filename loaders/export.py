"""Writing a state as a ledger that `chainorg load` accepts: CSV files or one workbook.

Each record becomes a row of its ledger table with its dates, so history that the
ledger format can say (an edge's `until`, an organization's `dissolved_on`) goes
along, and loading the export answers every coverage question as the state does.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
from openpyxl import Workbook

from graph.changes import describe
from graph.dataset import Dataset
from graph.durable import enterprise_columns
from loaders.cells import neutralised_column

WORKBOOK = "ledger.xlsx"


def ledger_tables(dataset: Dataset) -> dict[str, pl.DataFrame]:
    """The ledger's tables, by name, as text columns (empty where there is no value), each
    cell neutralised against formula injection (the loader restores it)."""
    enterprises = pl.from_arrow(enterprise_columns(dataset.enterprises))
    assert isinstance(enterprises, pl.DataFrame)
    names = {i.id: i.name for i in dataset.instructors}
    instructors = [  # the ledger has one row per assignment, with the instructor's id and name
        {"id": a.instructor_id, "name": names[a.instructor_id], "credit_code": a.credit_code,
         "since": describe(a.since), "until": describe(a.until)}
        for a in dataset.assignments
    ]  # fmt: skip
    tables = {
        "enterprises": enterprises,
        "organizations": _frame([describe(o) for o in dataset.organizations]),
        "coverage": _frame([describe(c) for c in dataset.covers]),
        "links": _frame([describe(link) for link in dataset.links]),
        "instructors": _frame(instructors),
        "departments": _frame([describe(d) for d in dataset.departments]),
    }
    return {
        name: frame.select(neutralised_column(pl.all().cast(pl.String)))
        for name, frame in tables.items()
        if frame.width
    }


def _frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    return pl.DataFrame(rows, infer_schema_length=None) if rows else pl.DataFrame()


def write_ledger(dataset: Dataset, folder: Path, xlsx: bool = False, workbook: str = WORKBOOK) -> list[Path]:
    """The ledger in `folder`: one UTF-8 CSV per table, or with `xlsx` one workbook (named
    `workbook`) with a sheet per table. Returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    tables = ledger_tables(dataset)
    if not xlsx:
        written = []
        for name, frame in tables.items():
            path = folder / f"{name}.csv"
            frame.write_csv(path, include_bom=True)
            written.append(path)
        return written
    book = Workbook(write_only=True)
    for name, frame in tables.items():
        sheet = book.create_sheet(name)
        sheet.append(frame.columns)
        for row in frame.iter_rows():
            sheet.append(list(row))
    path = folder / workbook
    book.save(path)
    return [path]
