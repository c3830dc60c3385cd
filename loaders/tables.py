"""Reading a ledger's raw tables: a folder of CSV files or one .xlsx workbook.

A table comes back as text columns (null for an empty cell) with the row number a
spreadsheet shows for each data row, so every later error can point at its cell.
CSV is parsed by polars; a file polars cannot parse (a ragged row, an unterminated
quote, old Mac line ends) is read again by the standard csv module, which finds the
row to blame. Workbooks are read by calamine after a streaming look at each sheet's
XML, so a sheet too large, a zip bomb or a formula without a cached value is refused
before anything is allocated for it.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import stat
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree

import charset_normalizer
import numpy as np
import polars as pl
import python_calamine

from loaders.errors import LedgerInvalid, LedgerIssue
from loaders.vocabulary import TABLE_NAMES, normalise

_TABLE_OF = {normalise(alias): name for name, aliases in TABLE_NAMES.items() for alias in (name, *aliases)}

MAX_SHEET_ROWS = 1_048_576  # Excel's own limit
MAX_SHEET_COLUMNS = 702  # A..ZZ
MAX_SHEET_XML = 1 << 30  # bytes of one sheet's XML, uncompressed
_RARE_SHARE = 0.05  # more non-GB2312 characters than this and a "GBK" file is not trusted


@dataclass(frozen=True, eq=False)
class RawTable:
    """One table as read: header cells, then one text column per header position."""

    name: str  # the canonical table name, e.g. "enterprises"
    source: str  # what errors name: "enterprises.csv" or "ledger.xlsx[enterprises]"
    header: list[str]
    cells: pl.DataFrame  # columns "0", "1", ...: text, null where a cell is empty
    rows: np.ndarray  # the spreadsheet row number of each data row
    issues: list[LedgerIssue] = field(default_factory=list)
    warnings: list[LedgerIssue] = field(default_factory=list)


def table_name(stem: str) -> str | None:
    """The canonical table a file or sheet name stands for, if any."""
    return _TABLE_OF.get(normalise(stem))


def _refuse(source: str, reason: str) -> LedgerInvalid:
    return LedgerInvalid([LedgerIssue(source, None, None, None, reason)])


def read_tables(path: Path, encoding: str | None = None) -> dict[str, RawTable]:
    """All known tables of the ledger at `path`; unknown files and sheets are ignored.

    `encoding` forces the encoding of every CSV file instead of detecting it.
    """
    if not path.exists() and not path.is_symlink():
        raise _refuse(str(path), "no such file or folder")
    if path.is_dir():
        found = [_read_csv(file, encoding) for file in sorted(path.iterdir()) if file.suffix.lower() == ".csv"]
    elif path.suffix.lower() == ".xlsx":
        require_regular_file(path, path.name)
        found = _read_workbook(path)
    else:
        raise _refuse(str(path), "not a folder of CSV files or an .xlsx workbook")
    tables: dict[str, RawTable] = {}
    issues = []
    for table in filter(None, found):
        if table.name in tables:
            issues.append(
                LedgerIssue(
                    table.source, None, None, None, f"a second {table.name} table ({tables[table.name].source})"
                )
            )
        tables[table.name] = table
    if issues:
        raise LedgerInvalid(issues)
    return tables


def require_regular_file(path: Path, source: str) -> None:
    """Refuse, with the reason, anything that is not a readable regular file."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise _refuse(source, "a symbolic link to nothing (dangling)") from None
    except OSError as error:
        raise _refuse(source, f"cannot be read: {error.strerror or error}") from None
    if stat.S_ISDIR(mode):
        raise _refuse(source, "is a folder, not a file")
    if not stat.S_ISREG(mode):
        raise _refuse(source, "not a regular file (a FIFO, socket or device)")


# -- CSV -------------------------------------------------------------------------------


def decode(raw: bytes, source: str, encoding: str | None = None) -> tuple[str, list[LedgerIssue]]:
    """Text of a CSV file and any warning: UTF-8 (with or without BOM), UTF-16 with BOM,
    or GBK/GB18030; anything else is refused naming the encoding it looks like.

    Short GBK files fool statistical detectors, so GB18030 (a superset of GBK) is tried
    strictly first; Big5, Shift-JIS or Windows-1252 bytes often decode as GB18030 too,
    but then into rare characters outside GB2312, which gives them away.
    """
    if encoding is not None:
        try:
            return raw.decode(encoding).removeprefix("\ufeff"), []
        except (UnicodeDecodeError, LookupError) as error:
            raise _refuse(source, f"cannot be read as {encoding}: {error}") from None
    for bom, name in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if raw.startswith(bom):
            try:
                return raw.decode(name).removeprefix("\ufeff"), []
            except UnicodeDecodeError as error:
                reason = f"not valid {name.upper()} at byte {error.start} despite its byte-order mark"
                raise _refuse(source, reason) from None
    try:
        return raw.decode("utf-8"), []
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("gb18030")
    except UnicodeDecodeError:
        raise _refuse(source, _foreign(_guess_encoding(raw))) from None
    if _rare_share(text) <= _RARE_SHARE:
        return text, []
    guess = _guess_encoding(raw)
    if guess in (None, "gb18030", "gbk", "gb2312"):
        warning = LedgerIssue(
            source, None, None, None, "read as GBK, but many characters are rare ones: check the text"
        )
        return text, [warning]
    raise _refuse(source, _foreign(guess))


def _rare_share(text: str) -> float:
    """The share of non-ASCII characters outside GB2312, the characters offices type."""
    ascii_length = len(text.encode("ascii", "ignore"))
    non_ascii = len(text) - ascii_length
    if not non_ascii:
        return 0.0
    common = (len(text.encode("gb2312", "ignore")) - ascii_length) // 2
    return 1 - common / non_ascii


def _guess_encoding(raw: bytes) -> str | None:
    best = charset_normalizer.from_bytes(raw[: 1 << 20]).best()
    return codecs.lookup(best.encoding).name if best is not None else None


def _foreign(guess: str | None) -> str:
    looks = f"it looks like {guess}" if guess else "the encoding cannot be told"
    return f"not UTF-8, UTF-16 or GBK: {looks}; save it as UTF-8, or name the encoding with --encoding"


def _read_csv(file: Path, encoding: str | None) -> RawTable | None:
    name = table_name(file.stem)
    if name is None:
        return None
    require_regular_file(file, file.name)
    raw = file.read_bytes()
    parse_again = True
    if encoding is None and not raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return _table(name, file.name, _polars_csv(raw), 1)  # UTF-8, checked by polars
        except pl.exceptions.PolarsError as error:
            parse_again = "utf-8" in str(error).lower()  # not UTF-8: decode, then polars again
    text, warnings = decode(raw, file.name, encoding)
    if parse_again:
        try:
            return _table(name, file.name, _polars_csv(text.encode("utf-8")), 1, warnings)
        except pl.exceptions.PolarsError:
            pass
    return _read_csv_strictly(name, file.name, text, warnings)


def _polars_csv(data: bytes) -> pl.DataFrame:
    """Every cell of UTF-8 CSV bytes as text, header included; an empty file is an empty frame."""
    try:
        return pl.read_csv(data, has_header=False, infer_schema=False)
    except pl.exceptions.NoDataError:
        return pl.DataFrame()


def _read_csv_strictly(name: str, source: str, text: str, warnings: list[LedgerIssue]) -> RawTable:
    """The slow path, for a file polars refused: the csv module, record by record."""
    previous = csv.field_size_limit(1 << 30)
    records: list[list[str]] = []
    try:
        reader = csv.reader(io.StringIO(text, newline=""), strict=True)
        try:
            records.extend(reader)
        except csv.Error as error:
            opened = len(records) + 1
            if "eof" in str(error).lower() or "end of data" in str(error).lower():
                reason = "a quoted cell opens in this row and is never closed"
            else:
                reason = f"not valid CSV: {error}"
            raise LedgerInvalid([LedgerIssue(source, opened, None, None, reason)]) from None
    finally:
        csv.field_size_limit(previous)
    width = max((len(record) for record in records), default=0)
    columns = {str(i): [r[i] if i < len(r) and r[i] != "" else None for r in records] for i in range(width)}
    return _table(name, source, pl.DataFrame(columns, schema={c: pl.String for c in columns}), 1, warnings=warnings)


def _table(
    name: str,
    source: str,
    frame: pl.DataFrame,
    first_row: int,
    warnings: Sequence[LedgerIssue] = (),
) -> RawTable:
    """A table from rows of text cells read from `first_row` on: the first non-blank row
    is the header; blank rows are dropped, keeping every other row's true number."""
    frame = frame.rename({old: str(i) for i, old in enumerate(frame.columns)})
    numbers = np.arange(first_row, first_row + frame.height)
    if frame.width:
        filled = frame.select(pl.any_horizontal(pl.all().str.strip_chars().fill_null("") != "")).to_series()
        kept = filled.to_numpy()
        frame, numbers = frame.filter(filled), numbers[kept]
    if frame.height == 0:
        return RawTable(name, source, [], pl.DataFrame(), np.empty(0, np.int64), warnings=list(warnings))
    header = [(cell or "").strip() for cell in frame.row(0)]
    body, numbers = frame.slice(1), numbers[1:]
    while header and not header[-1]:  # empty trailing header cells: columns nobody named
        header.pop()
    issues = []
    if body.width > len(header):
        extra = body.select(pl.any_horizontal(pl.col(body.columns[len(header) :]).str.strip_chars() != "")).to_series()
        cells = body.select(pl.sum_horizontal(pl.all().is_not_null())).to_series()
        for number, count in zip(
            numbers[extra.fill_null(False).to_numpy()].tolist(), cells.filter(extra).to_list(), strict=True
        ):
            issues.append(LedgerIssue(source, number, None, None, f"{count} cells, the header has {len(header)}"))
        body = body.select(body.columns[: len(header)])
    for i in range(body.width, len(header)):
        body = body.with_columns(pl.lit(None, dtype=pl.String).alias(str(i)))
    return RawTable(name, source, header, body, numbers, issues, list(warnings))


# -- workbooks -------------------------------------------------------------------------


def _read_workbook(path: Path) -> list[RawTable | None]:
    try:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
        parts = _sheet_parts(path)
    except Exception as error:  # noqa: BLE001 - a damaged file raises many kinds, each reported alike
        raise _refuse(path.name, f"cannot open the workbook: {error}") from None
    tables: list[RawTable | None] = []
    try:
        for meta in workbook.sheets_metadata:
            name = table_name(meta.name)
            if name is None:
                continue
            source = f"{path.name}[{meta.name}]"
            _check_sheet_xml(path, parts.get(meta.name), source)
            warnings = []
            if meta.visible != python_calamine.SheetVisibleEnum.Visible:
                warnings.append(LedgerIssue(source, None, None, None, "a hidden sheet; it was read like the others"))
            tables.append(_sheet_table(name, source, workbook.get_sheet_by_name(meta.name), warnings))
    finally:
        workbook.close()
    return tables


def _sheet_parts(path: Path) -> dict[str, str]:
    """The zip member holding each sheet's XML, by sheet name."""
    relation = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    with zipfile.ZipFile(path) as archive:
        book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels}
    parts = {}
    for sheet in book.iter("{http://schemas.openxmlformats.org/spreadsheetml/2006/main}sheet"):
        target = targets.get(sheet.get(relation), "")
        member = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
        parts[sheet.get("name", "")] = member
    return parts


_DIMENSION = re.compile(rb'<dimension ref="[A-Z]*\d*:?([A-Z]+)(\d+)"')
_ROW = re.compile(rb'<row r="(\d+)"')
_WIDE_CELL = re.compile(rb'<c r="[A-Z]{3}')
_FORMULA_CELL = re.compile(
    rb'<c r="([A-Z]+\d+)"(?:[^>/]|/(?!>))*>((?:(?!</c>).)*?<f[ >/](?:(?!</c>).)*?)</c>', re.DOTALL
)


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _check_sheet_xml(path: Path, member: str | None, source: str) -> None:
    """Refuse a sheet beyond the size bounds, streaming its XML in bounded memory; a
    sheet with formulas is then read once more, whole, for formula cells without a
    saved value."""
    if member is None:
        return
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
        if info.file_size > MAX_SHEET_XML:
            raise _refuse(source, f"the sheet's XML is {info.file_size:,} bytes; the limit is {MAX_SHEET_XML:,}")
        seen, tail, last_row, formulas = 0, b"", 0, False
        with archive.open(member) as stream:
            while chunk := stream.read(1 << 22):
                seen += len(chunk)
                if seen > MAX_SHEET_XML:
                    raise _refuse(source, f"the sheet's XML is over {MAX_SHEET_XML:,} bytes uncompressed")
                window = tail + chunk
                first_chunk = seen == len(chunk)
                if first_chunk and (declared := _DIMENSION.search(window)):
                    rows, columns = int(declared.group(2)), _column_number(declared.group(1))
                    if rows > MAX_SHEET_ROWS or columns > MAX_SHEET_COLUMNS:
                        raise _too_large(source, f"declares {rows:,} rows and {columns:,} columns")
                if _WIDE_CELL.search(window):
                    raise _too_large(source, "has cells beyond column ZZ")
                if rows_seen := _ROW.findall(window[-(1 << 16) :]):
                    last_row = max(last_row, int(rows_seen[-1]))
                    if last_row > MAX_SHEET_ROWS:
                        raise _too_large(source, f"has a row {last_row:,}")
                formulas = formulas or b"<f" in window
                tail = window[-64:]
        if formulas:
            _check_formulas(archive, member, source)


def _too_large(source: str, what: str) -> LedgerInvalid:
    limit = f"{MAX_SHEET_ROWS:,} rows and {MAX_SHEET_COLUMNS} columns (A to ZZ)"
    return _refuse(source, f"the sheet {what}; the limit is {limit}")


def _check_formulas(archive: zipfile.ZipFile, member: str, source: str) -> None:
    xml = archive.read(member)
    issues = []
    for match in _FORMULA_CELL.finditer(xml):
        body = match.group(2)
        if b"<v>" not in body or re.search(rb"<v>\s*</v>", body):
            cell = match.group(1).decode()
            row = int(re.sub(r"[A-Z]", "", cell))
            issues.append(
                LedgerIssue(
                    source, row, cell, None, "a formula with no saved value: open and save it in Excel, or paste values"
                )
            )
    if issues:
        raise LedgerInvalid(issues)


def _sheet_table(name: str, source: str, sheet: python_calamine.CalamineSheet, warnings: list[LedgerIssue]) -> RawTable:
    values = sheet.to_python()
    first_row, first_column = sheet.start or (0, 0)
    merged = [span for span in (sheet.merged_cell_ranges or []) if span[0] != span[1]]
    for (top, left), (bottom, right) in merged:
        value = values[top - first_row][left - first_column]
        for cells in values[top - first_row : bottom - first_row + 1]:
            cells[left - first_column : right - first_column + 1] = [value] * (right - left + 1)
    if merged:
        spans = ", ".join(f"{_cell_name(*a)}:{_cell_name(*b)}" for a, b in merged[:5])
        more = f" and {len(merged) - 5} more" if len(merged) > 5 else ""
        reason = f"merged cells {spans}{more}: each gave its top-left value to every cell it spans"
        warnings.append(LedgerIssue(source, None, None, None, reason))
    width = max((len(row) for row in values), default=0)
    columns = {str(i): _column_text([row[i] if i < len(row) else "" for row in values]) for i in range(width)}
    frame = pl.DataFrame(columns, schema={c: pl.String for c in columns})
    return _table(name, source, frame, first_row + 1, warnings)


def _cell_name(row: int, column: int) -> str:
    letters = ""
    column += 1
    while column:
        column, remainder = divmod(column - 1, 26)
        letters = chr(65 + remainder) + letters
    return f"{letters}{row + 1}"


def _column_text(values: list[object]) -> list[str | None]:
    """A sheet column as text: text cells as they are, numbers, dates and flags spelled as a ledger would."""
    if all(type(value) is str for value in values):
        return [value or None for value in values]  # type: ignore[misc]
    return [_cell_text(value) for value in values]


def _cell_text(value: object) -> str | None:
    if value is None or value == "":
        return None
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
    columns = {str(i): [record.get(column) or None for record in records] for i, column in enumerate(header)}
    frame = pl.DataFrame(columns, schema={c: pl.String for c in columns})
    return RawTable(name, f"{name}.csv", header, frame, np.arange(2, 2 + len(records)))


def columns_of(records: list[dict[str, str]]) -> list[str]:
    """Every column any record has, in order of first appearance."""
    return list(dict.fromkeys(column for record in records for column in record))
