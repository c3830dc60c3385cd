"""Department ledgers in, one clean enterprise ledger and a report out (graph.reconciliation).

A source ledger is one CSV file (UTF-8, UTF-8 with BOM or GBK: `tables.decode`) or one
workbook (its first sheet), with English or Chinese headers and any subset of the
enterprise columns, plus `address`, `office` and `last_active_on` as evidence. The clean
ledger is checked by the ledger loader itself before it is kept: a row it refuses goes to
the report's rejected sheet with the loader's reason, so the output always loads.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import python_calamine

from graph.reconciliation import ALL as READ
from graph.reconciliation import Outcome, Rejected, reconcile, rows_frame
from graph.reconciliation_rules import COLUMNS, Settings
from loaders.cells import neutralised_column
from loaders.errors import LedgerInvalid, LedgerIssue
from loaders.ledger import load_ledger
from loaders.reports import Cell, write_workbook
from loaders.tables import decode, require_regular_file
from loaders.vocabulary import COLUMN_NAMES, normalise

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


def read_source(source: Source) -> pl.DataFrame:
    """The rows of one source ledger (`graph.reconciliation.rows_frame`)."""
    path = source.path
    require_regular_file(path, str(path))
    if path.suffix.lower() == ".xlsx":
        sheet = python_calamine.load_workbook(str(path)).get_sheet_by_index(0)
        table = [[_text(cell) for cell in row] for row in sheet.to_python(skip_empty_area=False)]
        header, body = (table[0], table[1:]) if table else ([], [])
        columns: list[Sequence[str | None]] = list(zip(*body, strict=True)) if body else [[] for _ in header]
        numbers = list(range(2, len(body) + 2))
    else:
        text, _ = decode(path.read_bytes(), str(path))
        frame = pl.read_csv(io.StringIO(text), infer_schema=False, has_header=True, truncate_ragged_lines=True)
        header, columns = frame.columns, [frame[c].to_list() for c in frame.columns]
        numbers = list(range(2, frame.height + 2))
    known = [_COLUMN_OF.get(normalise(name)) for name in header]
    if "credit_code" not in known and "name" not in known:
        reason = "no credit code (统一社会信用代码) or name (企业名称) column: not an enterprise ledger"
        raise LedgerInvalid([LedgerIssue(str(path), 1, None, None, reason)])
    cells = {column: list(values) for column, values in zip(known, columns, strict=True) if column in READ}
    frame = rows_frame(cells, source.name, source.survey, numbers)
    return frame.filter(pl.any_horizontal(pl.col(c).is_not_null() for c in cells))


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
    progress: Callable[[str], None] = lambda done: None,
) -> Outcome:
    """Read `sources`, reconcile them, write the clean ledger to `out` (and the report);
    `progress` is told each step done (STEPS after one per source)."""
    frames = []
    for source in sources:
        frames.append(read_source(source))
        progress(f"read {source.name}: {frames[-1].height:,} rows")
    outcome = reconcile(pl.concat(frames), [s.name for s in sources], settings, found_on)
    progress(f"reconciled: {outcome.ledger.height:,} enterprises")
    _write_checked(outcome, out)
    progress(f"clean ledger written and checked: {out}")
    if report is not None:
        write_workbook(report, report_sheets(outcome))
    progress("report written" if report is not None else "no report asked for")
    return outcome


STEPS = 3  # steps after reading: the rounds, the clean ledger, the report


def _write_checked(outcome: Outcome, out: Path) -> None:
    """The clean ledger, as the ledger loader accepts it: a row it refuses is moved to `rejected`."""
    for _ in range(3):
        out.mkdir(parents=True, exist_ok=True)
        outcome.ledger.with_columns(neutralised_column(pl.col(c)) for c in COLUMNS).write_csv(
            out / "enterprises.csv", include_bom=True
        )
        try:
            load_ledger(out)
            return
        except LedgerInvalid as invalid:
            refused = {issue.row - 2: issue for issue in invalid.issues if issue.row is not None}
            if not refused:
                raise
            for at, issue in sorted(refused.items()):
                code, name = outcome.ledger["credit_code"][at], outcome.ledger["name"][at]
                reason = f"合并后不是有效的台账行：{issue.column}：{issue.reason}"
                outcome.rejected.append(Rejected("（合并结果）", at + 2, name or code, reason))
            keep = np.ones(outcome.ledger.height, dtype=bool)
            keep[list(refused)] = False
            outcome.ledger = outcome.ledger.filter(pl.Series(keep))
            outcome.merged = outcome.merged.filter(pl.col("credit_code").is_in(outcome.ledger["credit_code"].implode()))
    load_ledger(out)


def report_sheets(outcome: Outcome) -> list[tuple[str, Sequence[str], Sequence[Sequence[Cell]]]]:
    """The report's sheets: merged, probable matches, conflicts, zombies, rejected rows."""
    merged: list[list[Cell]] = [  # the enterprises two rows or more made; the clean ledger has them all
        [c, n or "", p or "", r, s] for c, n, p, r, s in outcome.merged.filter(pl.col("rows") > 1).iter_rows()
    ]
    probable: list[list[Cell]] = [[p.source, p.row, p.name, p.credit_code, p.candidate_name, p.score, p.evidence,
                                   "是" if p.merged else "否"] for p in outcome.probable]  # fmt: skip
    conflicts: list[list[Cell]] = [[c.credit_code, c.field, "；".join(f"{s}：{v}" for s, v in c.values), c.winner,
                                    c.winner_source] for c in outcome.conflicts]  # fmt: skip
    zombies: list[list[Cell]] = [[z.credit_code, z.name, z.since, "；".join(z.reasons)] for z in outcome.zombies]
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
