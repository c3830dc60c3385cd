"""Department ledgers in, one clean enterprise ledger and a report out (graph.reconciliation).

A source ledger is one CSV file (UTF-8, UTF-8 with BOM or GBK: `tables.decode`) or one
workbook (its first sheet), with English or Chinese headers and any subset of the
enterprise columns, plus `address`, `office` and `last_active_on` as evidence. The clean
ledger is checked by the ledger loader itself before it is kept: a row it refuses goes to
the report's rejected sheet with the loader's reason, so the output always loads.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import python_calamine

from graph.reconciliation import COLUMNS, Enterprise, LedgerRow, Outcome, Rejected, Settings, reconcile
from loaders.errors import LedgerInvalid, LedgerIssue
from loaders.ledger import load_ledger
from loaders.reports import Cell, write_workbook
from loaders.tables import decode, require_regular_file
from loaders.vocabulary import COLUMN_NAMES, normalise
from loaders.writer import write_csv_ledger

EVIDENCE_NAMES = {
    "address": ("地址", "注册地址", "经营地址", "办公地址"),
    "office": ("办公场所", "有无办公场所", "实际办公场所"),
    "last_active_on": ("最近经营活动日期", "最近经营日期", "最后经营活动日期"),
}
_COLUMN_OF = {
    normalise(alias): column
    for column, aliases in {**COLUMN_NAMES["enterprises"], **EVIDENCE_NAMES}.items()
    for alias in (column, *aliases)
}


@dataclass(frozen=True)
class Source:
    """A ledger to reconcile: its name in the report, its file, and whether it is the survey."""

    name: str
    path: Path
    survey: bool = False

    @classmethod
    def of(cls, given: str, survey: bool = False) -> Source:
        """`PATH`, or `NAME=PATH` to name the source (default: the file's name).

        >>> Source.of("经信局=data/economy.csv").name
        '经信局'
        """
        name, equals, path = given.partition("=")
        if equals and name.strip() and path:
            return cls(name.strip(), Path(path), survey)
        return cls(Path(given).name, Path(given), survey)


def read_source(source: Source) -> list[LedgerRow]:
    """The rows of one source ledger, each with its cells by canonical column."""
    path = source.path
    require_regular_file(path, str(path))
    if path.suffix.lower() == ".xlsx":
        sheet = python_calamine.load_workbook(str(path)).get_sheet_by_index(0)
        table = [[_text(cell) for cell in row] for row in sheet.to_python(skip_empty_area=False)]
    else:
        text, _ = decode(path.read_bytes(), str(path))
        table = list(csv.reader(io.StringIO(text)))
    if not table:
        raise LedgerInvalid([LedgerIssue(str(path), None, None, None, "empty: no header row")])
    columns = [_COLUMN_OF.get(normalise(header)) for header in table[0]]
    if "credit_code" not in columns and "name" not in columns:
        reason = "no credit code (统一社会信用代码) or name (企业名称) column: not an enterprise ledger"
        raise LedgerInvalid([LedgerIssue(str(path), 1, None, None, reason)])
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        values = {c: v.strip() for c, v in zip(columns, cells, strict=False) if c is not None and v and v.strip()}
        if values:
            rows.append(LedgerRow(source.name, source.survey, number, values))
    return rows


def _text(cell: object) -> str:
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, date):
        return cell.isoformat()[:10]
    return "" if cell is None else str(cell)


def reconcile_ledgers(
    sources: Sequence[Source],
    out: Path,
    settings: Settings,
    found_on: date,
    report: Path | None = None,
    progress: Callable[[Source, int], None] = lambda source, rows: None,
) -> Outcome:
    """Read `sources`, reconcile them, write the clean ledger to `out` (and the report)."""
    rows: list[LedgerRow] = []
    for source in sources:
        read = read_source(source)
        progress(source, len(read))
        rows += read
    outcome = reconcile(rows, [s.name for s in sources], settings, found_on)
    _write_checked(outcome, out)
    if report is not None:
        write_workbook(report, report_sheets(outcome))
    return outcome


def _write_checked(outcome: Outcome, out: Path) -> None:
    """The clean ledger, as the ledger loader accepts it: a row it refuses is moved to `rejected`."""
    for _ in range(3):
        write_csv_ledger({"enterprises": [_ledger_row(e) for e in outcome.enterprises]}, out)
        try:
            load_ledger(out)
            return
        except LedgerInvalid as invalid:
            refused = {issue.row: issue for issue in invalid.issues if issue.row is not None}
            if not refused:
                raise
            kept = []
            for number, enterprise in enumerate(outcome.enterprises, start=2):
                if (issue := refused.get(number)) is None:
                    kept.append(enterprise)
                    continue
                first = enterprise.rows[0]
                reason = f"合并后不是有效的台账行：{issue.column}：{issue.reason}"
                outcome.rejected.append(Rejected(first.source, first.row, enterprise.values.get("name", ""), reason))
            outcome.enterprises = kept
    load_ledger(out)


def _ledger_row(enterprise: Enterprise) -> dict[str, str]:
    return {column: enterprise.values.get(column, "") for column in COLUMNS}


def report_sheets(outcome: Outcome) -> list[tuple[str, Sequence[str], Sequence[Sequence[Cell]]]]:
    """The report's sheets: merged, probable matches, conflicts, zombies, rejected rows."""
    merged: list[list[Cell]] = [[e.credit_code, e.values.get("name", ""), e.values.get("park", ""), len(e.rows),
               "、".join(dict.fromkeys(r.source for r in e.rows))] for e in outcome.enterprises]  # fmt: skip
    probable: list[list[Cell]] = [[p.source, p.row, p.name, p.credit_code, p.candidate_name, p.score, p.evidence,
                 "是" if p.merged else "否"] for p in outcome.probable]  # fmt: skip
    conflicts: list[list[Cell]] = [[c.credit_code, c.field, "；".join(f"{s}：{v}" for s, v in c.values), c.winner, c.winner_source]
                 for c in outcome.conflicts]  # fmt: skip
    zombies: list[list[Cell]] = [[e.credit_code, e.values.get("name", ""), e.values.get("status_since", ""), "；".join(e.zombie_reasons)]
               for e in outcome.zombies]  # fmt: skip
    rejected: list[list[Cell]] = [[r.source, r.row, r.name, r.reason] for r in outcome.rejected]
    return [
        ("合并结果", ["统一社会信用代码", "企业名称", "园区", "来源行数", "来源"], merged),
        (
            "疑似重复",
            ["来源", "行号", "企业名称", "候选信用代码", "候选企业名称", "得分", "依据", "是否合并"],
            probable,
        ),
        ("字段冲突", ["统一社会信用代码", "字段", "各来源的值", "采用的值", "采用的来源"], conflicts),
        ("僵尸企业", ["统一社会信用代码", "企业名称", "认定日期", "依据"], zombies),
        ("拒收行", ["来源", "行号", "企业名称", "原因"], rejected),
    ]
