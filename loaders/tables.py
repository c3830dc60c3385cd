"""Reading a ledger's raw tables: a folder of CSV files or one .xlsx workbook.

Cells come back as text with the row number a spreadsheet shows, so every later
error can point at the exact cell. CSV encodings (UTF-8, UTF-8 with BOM, GBK) are
detected, not asked for.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import charset_normalizer
import openpyxl

from loaders.errors import LedgerInvalid, LedgerIssue
from loaders.vocabulary import TABLE_NAMES, normalise

_TABLE_OF = {normalise(alias): name for name, aliases in TABLE_NAMES.items() for alias in (name, *aliases)}


@dataclass(frozen=True)
class RawTable:
    """One table as read: header cells and data rows of text cells."""

    name: str  # the canonical table name, e.g. "enterprises"
    source: str  # what errors name: "enterprises.csv" or "ledger.xlsx[enterprises]"
    header: list[str]
    rows: list[tuple[int, list[str]]] = field(default_factory=list)


def table_name(stem: str) -> str | None:
    """The canonical table a file or sheet name stands for, if any."""
    return _TABLE_OF.get(normalise(stem))


def read_tables(path: Path) -> dict[str, RawTable]:
    """All known tables of the ledger at `path`; unknown files and sheets are ignored."""
    if path.is_dir():
        found = [_read_csv(file) for file in sorted(path.iterdir()) if file.suffix.lower() == ".csv"]
    elif path.suffix.lower() == ".xlsx" and path.is_file():
        found = _read_workbook(path)
    else:
        raise LedgerInvalid([LedgerIssue(str(path), None, None, None, "not a folder of CSV files or an .xlsx workbook")])
    tables: dict[str, RawTable] = {}
    issues = []
    for table in filter(None, found):
        if table.name in tables:
            issues.append(
                LedgerIssue(table.source, None, None, None, f"a second {table.name} table ({tables[table.name].source})")
            )
        tables[table.name] = table
    if issues:
        raise LedgerInvalid(issues)
    return tables


def decode(raw: bytes, source: str) -> str:
    """Text of a CSV file: UTF-8 (with or without BOM), UTF-16 with BOM, or GBK/GB18030.

    Mainland offices save GBK when not UTF-8, and short GBK files fool statistical
    detectors, so GB18030 (a superset of GBK) is tried strictly before the detector.
    """
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if raw.startswith(bom):
            return _strict(raw, encoding, source)
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            pass
    best = charset_normalizer.from_bytes(raw).best()
    if best is None:
        raise LedgerInvalid([LedgerIssue(source, None, None, None, "cannot tell the encoding: save as UTF-8 or GBK")])
    return str(best)


def _strict(raw: bytes, encoding: str, source: str) -> str:
    try:
        return raw.decode(encoding).removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        reason = f"not valid {encoding.upper()} at byte {error.start} despite its byte-order mark"
        raise LedgerInvalid([LedgerIssue(source, None, None, None, reason)]) from None


def _read_csv(file: Path) -> RawTable | None:
    name = table_name(file.stem)
    if name is None:
        return None
    text = decode(file.read_bytes(), file.name)
    records = csv.reader(io.StringIO(text, newline=""))
    return _table(name, file.name, enumerate(records, start=1))


def _read_workbook(path: Path) -> list[RawTable | None]:
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a damaged file
        raise LedgerInvalid([LedgerIssue(path.name, None, None, None, f"cannot open the workbook: {error}")]) from None
    try:
        tables = []
        for sheet in workbook.worksheets:
            name = table_name(sheet.title)
            if name is None:
                continue
            start = sheet.min_row or 1
            rows = ([_cell_text(cell) for cell in row] for row in sheet.iter_rows(values_only=True))
            tables.append(_table(name, f"{path.name}[{sheet.title}]", enumerate(rows, start=start)))
        return tables
    finally:
        workbook.close()


def _table(name: str, source: str, numbered_rows: Iterable[tuple[int, list[str]]]) -> RawTable:
    header: list[str] | None = None
    rows = []
    for number, cells in numbered_rows:
        if not any(cell.strip() for cell in cells):
            continue
        if header is None:
            header = [cell.strip() for cell in cells]
        else:
            rows.append((number, cells))
    return RawTable(name, source, header or [], rows)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def table_from_records(name: str, records: list[dict[str, str]]) -> RawTable:
    """A table from rows already in memory, numbered as a spreadsheet would show them."""
    header = columns_of(records)
    rows = [(number, [record.get(column, "") for column in header]) for number, record in enumerate(records, start=2)]
    return RawTable(name, f"{name}.csv", header, rows)


def columns_of(records: list[dict[str, str]]) -> list[str]:
    """Every column any record has, in order of first appearance."""
    return list(dict.fromkeys(column for record in records for column in record))
