"""Validating a ledger into a Dataset: every row, every reference, all or nothing.

`load_ledger(path)` reads a folder of CSVs or an .xlsx workbook; `dataset_from_tables`
validates tables already in memory (the demo generator uses it too, so the demo goes
through exactly the checks a real ledger does). Columns are parsed whole (see
`loaders.columns`) and references checked as joins; only failing rows are visited one
by one, to word their errors. Any problem raises LedgerInvalid with the complete
list; no partial Dataset is ever returned.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from graph import rules
from graph.dataset import Dataset
from graph.enterprises import EnterpriseTable
from graph.model import (
    Assignment,
    Category,
    Covers,
    Department,
    FormationMode,
    Instructor,
    Link,
    LinkKind,
    Organization,
    OrgKind,
    Status,
)
from loaders import columns as parse
from loaders.cells import restored_column
from loaders.errors import LedgerInvalid, LedgerIssue
from loaders.tables import RawTable, read_tables
from loaders.vocabulary import COLUMN_NAMES, normalise

MAX_CELL_BYTES = 128 * 1024
_HYGIENE, _CLEAN = "hygiene:", "clean:"  # prefixes of `_clean_cells`' columns
_EMPTY = "required, but empty"


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    parse: parse.Parser
    required: bool = False


SCHEMA: dict[str, list[Column]] = {
    "enterprises": [
        Column("credit_code", parse.credit_code, required=True),
        Column("name", parse.text, required=True),
        Column("park", parse.text, required=True),
        Column("building", parse.text),
        Column("chain", parse.text),
        Column("category", parse.choice(Category)),
        Column("employees", parse.count(rules.MAX_EMPLOYEES)),
        Column("formal_members", parse.count(rules.MAX_MEMBERS)),
        Column("probationary_members", parse.count(rules.MAX_MEMBERS)),
        Column("above_scale", parse.flag),
        Column("key", parse.flag),
        Column("status", parse.choice(Status)),
        Column("status_since", parse.day),
        Column("registered_on", parse.day),
        Column("cluster", parse.text),
    ],
    "organizations": [
        Column("id", parse.text, required=True),
        Column("name", parse.text, required=True),
        Column("kind", parse.choice(OrgKind), required=True),
        Column("parent_id", parse.text),
        Column("mode", parse.choice(FormationMode)),
        Column("established_on", parse.day),
        Column("term_ends_on", parse.day),
        Column("secretary", parse.text),
        Column("stars", parse.count(rules.MAX_STARS)),
        Column("points", parse.count(rules.MAX_ORGANIZATION_POINTS)),
        Column("has_committee", parse.flag),
        Column("dissolved_on", parse.day),
    ],
    "coverage": [
        Column("org_id", parse.text, required=True),
        Column("credit_code", parse.credit_code, required=True),
        Column("since", parse.day),
        Column("until", parse.day),
    ],
    "links": [
        Column("source_id", parse.text, required=True),
        Column("target_id", parse.text, required=True),
        Column("kind", parse.choice(LinkKind), required=True),
        Column("since", parse.day),
        Column("until", parse.day),
    ],
    "instructors": [
        Column("id", parse.text, required=True),
        Column("name", parse.text, required=True),
        Column("credit_code", parse.credit_code, required=True),
        Column("since", parse.day),
        Column("until", parse.day),
    ],
    "departments": [
        Column("id", parse.text, required=True),
        Column("name", parse.text, required=True),
        Column("sector", parse.choice(Category)),
    ],
}
ENTERPRISE_DEFAULTS = {
    "category": Category.OTHER.value,
    "formal_members": 0,
    "probationary_members": 0,
    "above_scale": False,
    "key": False,
    "status": Status.ACTIVE.value,
}


@dataclass(frozen=True)
class LoadedLedger:
    dataset: Dataset
    warnings: list[LedgerIssue]


@dataclass(frozen=True)
class ParsedTable:
    """One table's parsed columns (all SCHEMA columns, null where absent or bad), its
    spreadsheet row numbers, and which rows have every required value."""

    table: RawTable
    frame: pl.DataFrame
    headers: Mapping[str, str]  # canonical column name -> the header the file used

    def issue(self, row: dict[str, Any], column: str | None, reason: str) -> LedgerIssue:
        value = row.get(column) if column else None
        shown = self.headers.get(column, column) if column else None
        return LedgerIssue(self.table.source, row["_row"], shown, None if value is None else str(value), reason)

    def usable(self) -> pl.DataFrame:
        return self.frame.filter(pl.col("_usable"))


def load_ledger(path: Path, encoding: str | None = None) -> LoadedLedger:
    """Read and validate the ledger at `path`, or raise LedgerInvalid listing every error."""
    return dataset_from_tables(read_tables(path, encoding), origin=str(path))


def dataset_from_tables(tables: Mapping[str, RawTable], origin: str = "ledger") -> LoadedLedger:
    if "enterprises" not in tables:
        raise LedgerInvalid([LedgerIssue(origin, None, None, None, "no enterprises table (enterprises.csv or sheet)")])
    issues: list[LedgerIssue] = []
    warnings: list[LedgerIssue] = []
    for table in tables.values():
        issues += table.issues
        warnings += table.warnings
    parsed = {name: _parse_table(table, issues, warnings) for name, table in tables.items()}
    checker = _Checker(issues, warnings)
    organizations = checker.organizations(parsed.get("organizations"))
    enterprises = checker.enterprises(parsed["enterprises"], organizations)
    departments = checker.departments(parsed.get("departments"), organizations)
    covers = checker.covers(parsed.get("coverage"), organizations, enterprises)
    links = checker.links(parsed.get("links"), organizations, {*organizations, *departments}, enterprises)
    instructors, assignments = checker.instructors(parsed.get("instructors"), enterprises)
    checker.distinct_ids(parsed, organizations, departments, instructors, enterprises)
    if issues:
        raise LedgerInvalid(sorted(issues, key=lambda i: (i.source, i.row or 0)))
    dataset = Dataset(
        enterprises=EnterpriseTable(enterprises),
        organizations=tuple(organizations.values()),
        covers=tuple(covers),
        links=tuple(links),
        instructors=tuple(instructors),
        assignments=tuple(assignments),
        departments=tuple(departments.values()),
    )
    return LoadedLedger(dataset, warnings)


def _parse_table(table: RawTable, issues: list[LedgerIssue], warnings: list[LedgerIssue]) -> ParsedTable | None:
    schema = SCHEMA[table.name]
    aliases = {
        normalise(alias): column.name
        for column in schema
        for alias in (column.name, *COLUMN_NAMES[table.name].get(column.name, ()))
    }
    position: dict[str, int] = {}
    headers: dict[str, str] = {}
    for index, header in enumerate(table.header):
        if not header:
            continue
        canonical = aliases.get(normalise(header))
        if canonical is None:
            warnings.append(LedgerIssue(table.source, _header_row(table), header, None, "unknown column, ignored"))
        elif canonical in position:
            reason = f"a second {canonical} column ({headers[canonical]})"
            issues.append(LedgerIssue(table.source, _header_row(table), header, None, reason))
        else:
            position[canonical] = index
            headers[canonical] = header
    missing = [column.name for column in schema if column.required and column.name not in position]
    if missing:
        reason = f"missing required column(s): {', '.join(missing)}"
        issues.append(LedgerIssue(table.source, _header_row(table), None, None, reason))
        return None

    cells = _clean_cells(table.cells, {name: position[name] for name in headers})
    present = [column for column in schema if column.name in headers]
    parsed = dict(zip(
        (column.name for column in present),
        pl.collect_all([column.parse(cells.lazy().select(pl.col(_CLEAN + column.name).alias(parse.CELLS)))
                        for column in present]),
        strict=True,
    ))  # fmt: skip
    usable = np.ones(len(table.rows), dtype=bool)
    for column in present:
        frame = parsed[column.name]
        empty = cells[column.name].is_null() if column.required else None
        hygiene, reasons = cells[_HYGIENE + column.name], frame[parse.REASON]
        if hygiene.null_count() == reasons.null_count() == len(reasons) and (empty is None or not empty.any()):
            continue
        reasons = hygiene.fill_null(reasons)
        if empty is not None:
            reasons = pl.select(pl.when(empty).then(pl.lit(_EMPTY)).otherwise(reasons)).to_series()
        bad = reasons.is_not_null().to_numpy()
        if column.required:
            usable &= ~bad
        raw = table.cells[str(position[column.name])].filter(bad)
        for number, value, reason in zip(table.rows[bad].tolist(), raw, reasons.filter(bad), strict=True):
            shown = None if value is None or reason == _EMPTY else _shorten(value)
            issues.append(LedgerIssue(table.source, number, headers[column.name], shown, reason))
    values = {
        column.name: parsed[column.name][parse.VALUE] if column.name in parsed else _absent(column, len(table.rows))
        for column in schema
    }
    frame = pl.DataFrame({"_row": pl.Series(table.rows, dtype=pl.Int64), "_usable": usable, **values})
    return ParsedTable(table, frame, headers)


@cache
def _value_type(column: Column) -> pl.DataType:
    """The type of what `column`'s parser makes."""
    empty = pl.LazyFrame({parse.CELLS: pl.Series([], dtype=pl.String)})
    return column.parse(empty).collect_schema()[parse.VALUE]


def _absent(column: Column, rows: int) -> pl.Series:
    """A column the table lacks: nulls of the type its parser would make, without parsing."""
    return pl.repeat(None, rows, dtype=_value_type(column), eager=True)


def _clean_cells(cells: pl.DataFrame, position: Mapping[str, int]) -> pl.DataFrame:
    """Per column: its cells stripped and restored from an export's neutralising (loaders.cells), empty as null (named as the column); why a cell is
    unfit for any parser (`_HYGIENE`: oversize, control characters); and the cells a
    parser should see (`_CLEAN`: the fit ones)."""
    names = list(position)
    too_big = f"a cell over {MAX_CELL_BYTES // 1024} KB"
    quoted = cells.select(pl.col(str(position[name])).str.contains("'", literal=True).any() for name in names).row(0)

    def stripped(name: str, apostrophe: bool) -> pl.Expr:  # a column with no apostrophe has nothing to restore
        cell = pl.col(str(position[name])).str.strip_chars()
        return (restored_column(cell) if apostrophe else cell).alias(name)

    return (
        cells.lazy()
        .select(stripped(name, apostrophe) for name, apostrophe in zip(names, quoted, strict=True))
        .with_columns(pl.when(~pl.col(name).str.contains(rules.INVISIBLE)).then(pl.col(name)).alias(name) for name in names)
        .with_columns(
            pl.when(pl.col(name).str.len_bytes() > MAX_CELL_BYTES).then(pl.lit(too_big))
            .when(pl.col(name).str.contains(rules.CONTROL_CHARACTERS)).then(pl.lit(rules.CONTROL_PROBLEM))
            .alias(_HYGIENE + name)
            for name in names
        )
        .with_columns(pl.when(pl.col(_HYGIENE + name).is_null()).then(pl.col(name)).alias(_CLEAN + name) for name in names)
        .collect()
    )  # fmt: skip


def _header_row(table: RawTable) -> int:
    return int(table.rows[0]) - 1 if len(table.rows) else 1


def _shorten(value: str, most: int = 200) -> str:
    return value if len(value) <= most else value[:most] + f"… ({len(value):,} characters)"


class _Checker:
    """Cross-row checks (duplicates, references, hierarchy); every problem goes to `issues`."""

    def __init__(self, issues: list[LedgerIssue], warnings: list[LedgerIssue]):
        self.issues = issues
        self.warnings = warnings
        self.rejected: set[str] = set()  # ids of rows that exist but were rejected: not "unknown"

    def unknown(self, key: str, known: Mapping[str, Any] | set[str]) -> bool:
        """True when nothing in the ledger has this id (a rejected row's id is not reported twice)."""
        return key not in known and key not in self.rejected

    def _unique(self, parsed: ParsedTable, keys: list[str], column: str, what: str) -> pl.DataFrame:
        """The usable rows whose key was not seen before; the others become issues.

        The keys of unusable rows (bad in some other required field) are remembered as
        rejected, so references to them are not reported a second time.
        """
        frame = parsed.frame
        if len(keys) == 1:
            self.rejected.update(frame.filter(~pl.col("_usable"))[keys[0]].drop_nulls().to_list())
        usable = parsed.usable()
        first = usable.select(pl.struct(keys).is_first_distinct()).to_series()
        if not first.all():
            firsts = usable.filter(first).select([*keys, pl.col("_row").alias("_first")])
            for row in usable.filter(~first).join(firsts, on=keys, nulls_equal=True).iter_rows(named=True):
                self.issues.append(parsed.issue(row, column, f"duplicate {what}, first at row {row['_first']}"))
        return usable.filter(first)

    def _reference_issues(
        self, parsed: ParsedTable, rows: pl.DataFrame, column: str, bad: pl.Series, reason: str
    ) -> None:
        for row in rows.filter(bad).iter_rows(named=True):
            self.issues.append(parsed.issue(row, column, reason))

    def organizations(self, parsed: ParsedTable | None) -> dict[str, Organization]:
        if parsed is None:
            return {}
        rows = list(self._unique(parsed, ["id"], "id", "organization id").iter_rows(named=True))
        found = {
            row["id"]: Organization(
                id=row["id"],
                name=row["name"],
                kind=OrgKind(row["kind"]),
                parent_id=row["parent_id"],
                mode=FormationMode(row["mode"]) if row["mode"] else None,
                established_on=row["established_on"],
                term_ends_on=row["term_ends_on"],
                secretary=row["secretary"],
                stars=row["stars"],
                points=row["points"],
                has_committee=row["has_committee"],
                dissolved_on=row["dissolved_on"],
            )
            for row in rows
        }
        for row in rows:
            org = found[row["id"]]
            self._dated(parsed, row, "established_on", "dissolved_on")
            parent = found.get(org.parent_id) if org.parent_id else None
            if org.parent_id and self.unknown(org.parent_id, found):
                self.issues.append(parsed.issue(row, "parent_id", "no organization has this id"))
            elif (
                parent is not None
                and (problem := rules.parent_problem(org.kind, parent.kind))
                or (
                    parent is not None
                    and org.established_on
                    and (problem := rules.dissolved_problem(parent, org.established_on))
                )
            ):
                self.issues.append(parsed.issue(row, "parent_id", problem))
        return found

    def distinct_ids(
        self,
        parsed: Mapping[str, ParsedTable | None],
        organizations: Mapping[str, Organization],
        departments: Mapping[str, Department],
        instructors: list[Instructor],
        enterprises: pl.DataFrame,
    ) -> None:
        """rules.id_taken: an organization's, department's or instructor's id is no enterprise's
        credit code, and an instructor's id no organization's or department's."""
        codes = set(enterprises["credit_code"].to_list()) if enterprises.height else set()
        holders = {"an enterprise": codes.__contains__}
        for table, ids in (("organizations", list(organizations)), ("departments", list(departments))):
            self._id_issues(parsed.get(table), "id", ids, holders)
        holders |= {"an organization": organizations.__contains__, "a department": departments.__contains__}
        self._id_issues(parsed.get("instructors"), "id", [i.id for i in instructors], holders)

    def _id_issues(
        self, parsed: ParsedTable | None, column: str, ids: list[str], holders: Mapping[str, Callable[[str], bool]]
    ) -> None:
        if parsed is None:
            return
        taken = {some_id: problem for some_id in ids if (problem := rules.id_taken(some_id, holders))}
        if taken:
            rows = parsed.usable().filter(pl.col(column).is_in(list(taken))).unique(column, keep="first")
            for row in rows.iter_rows(named=True):
                self.issues.append(parsed.issue(row, column, taken[row[column]]))

    def enterprises(self, parsed: ParsedTable | None, organizations: Mapping[str, Organization]) -> pl.DataFrame:
        if parsed is None:
            return pl.DataFrame()
        rows = self._unique(parsed, ["credit_code"], "credit_code", "credit code")
        kinds = pl.Series([org.kind.value for org in organizations.values()], dtype=pl.String)
        ids = pl.Series(list(organizations), dtype=pl.String)
        declared = rows["cluster"]
        kind = declared.replace_strict(ids, kinds, default=None)
        unknown = declared.is_not_null() & kind.is_null() & ~declared.is_in(list(self.rejected))
        self._reference_issues(parsed, rows, "cluster", unknown, "no organization has this id")
        for other in set(kind.drop_nulls().unique().to_list()) - {OrgKind.CLUSTER.value}:
            problem = rules.cluster_problem(OrgKind(other)) or ""
            self._reference_issues(parsed, rows, "cluster", kind == other, problem)
        return rows.with_columns(pl.col(name).fill_null(value) for name, value in ENTERPRISE_DEFAULTS.items()).drop(
            "_row", "_usable"
        )

    def departments(
        self, parsed: ParsedTable | None, organizations: Mapping[str, Organization]
    ) -> dict[str, Department]:
        found: dict[str, Department] = {}
        if parsed is None:
            return found
        for row in self._unique(parsed, ["id"], "id", "department id").iter_rows(named=True):
            if problem := rules.id_taken(row["id"], {"an organization": organizations.__contains__}):
                self.issues.append(parsed.issue(row, "id", problem))
                self.rejected.add(row["id"])
            else:
                sector = row.get("sector")
                found[row["id"]] = Department(row["id"], row["name"], Category(sector) if sector else None)
        return found

    def _known_codes(self, rows: pl.DataFrame, enterprises: pl.DataFrame) -> tuple[pl.Series, pl.Series]:
        """(known, unknown) masks of `rows`' credit codes against the enterprises table."""
        codes = enterprises.select("credit_code", _known=pl.lit(True)) if enterprises.height else None
        if codes is None:
            known = pl.repeat(False, rows.height, eager=True)
        else:
            matched = rows.select("credit_code").join(codes, on="credit_code", how="left", maintain_order="left")
            known = matched["_known"].fill_null(False)
        return known, ~known & ~rows["credit_code"].is_in(list(self.rejected))

    def covers(
        self, parsed: ParsedTable | None, organizations: Mapping[str, Organization], enterprises: pl.DataFrame
    ) -> Iterator[Covers]:
        if parsed is None:
            return iter(())
        rows = self._unique(parsed, ["org_id", "credit_code", "since"], "credit_code", "coverage row")
        kinds = rows["org_id"].replace_strict(
            list(organizations), [o.kind.value for o in organizations.values()], default=None
        )
        no_org = kinds.is_null()
        self._reference_issues(
            parsed, rows, "org_id", no_org & ~rows["org_id"].is_in(list(self.rejected)), "no organization has this id"
        )
        covering = kinds.is_in([kind.value for kind in OrgKind if rules.counts_toward_coverage(kind)])
        for kind in {*kinds.filter(~covering & ~no_org).to_list()}:
            self._reference_issues(parsed, rows, "org_id", kinds == kind, rules.cover_problem(OrgKind(kind)) or "")
        known, unknown = self._known_codes(rows, enterprises)
        self._reference_issues(parsed, rows, "credit_code", covering & unknown, "no enterprise has this credit code")
        valid = rows.filter(covering & known & self._dated_rows(parsed, rows))
        self._warn_narrow_joint_branches(parsed, valid, organizations)
        return (Covers(*row) for row in valid.select("org_id", "credit_code", "since", "until").iter_rows())

    def _warn_narrow_joint_branches(
        self, parsed: ParsedTable, covers: pl.DataFrame, organizations: Mapping[str, Organization]
    ) -> None:
        counts = dict(covers.group_by("org_id").len().iter_rows())
        for org in organizations.values():
            if org.kind is OrgKind.JOINT_BRANCH and counts.get(org.id, 0) < 2:
                reason = f"joint branch {org.id} covers {counts.get(org.id, 0)} enterprise(s); a joint branch joins 2 or more"
                self.warnings.append(LedgerIssue(parsed.table.source, None, None, None, reason))

    def links(
        self,
        parsed: ParsedTable | None,
        organizations: Mapping[str, Organization],
        endpoints: set[str],
        enterprises: pl.DataFrame,
    ) -> list[Link]:
        found: list[Link] = []
        if parsed is None:
            return found
        rows = self._unique(parsed, ["source_id", "target_id", "kind", "since"], "target_id", "link")
        ends = pl.concat([rows["source_id"], rows["target_id"]]).unique()
        codes = enterprises["credit_code"] if enterprises.height else pl.Series([], dtype=pl.String)
        known = endpoints | set(ends.filter(ends.is_in(codes.implode())).to_list())
        for row in rows.iter_rows(named=True):
            pair = (row["source_id"], row["target_id"])
            for column, end in zip(("source_id", "target_id"), pair, strict=True):
                if self.unknown(end, known):
                    self.issues.append(
                        parsed.issue(row, column, "no organization, department or enterprise has this id")
                    )
            dissolved = [
                (column, problem) for column, end in zip(("source_id", "target_id"), pair, strict=True)
                if (org := organizations.get(end)) and (problem := rules.dissolved_problem(org, row["since"] or date.min))
            ]  # fmt: skip
            kind = LinkKind(row["kind"])
            ends_problem = rules.link_problem(kind, organizations.get(pair[0]), organizations.get(pair[1]))
            if pair[0] == pair[1]:
                self.issues.append(parsed.issue(row, "target_id", "a link needs two different ends"))
            elif dissolved:
                self.issues.extend(parsed.issue(row, column, problem) for column, problem in dissolved)
            elif ends_problem and all(end in known for end in pair):
                self.issues.append(parsed.issue(row, "kind", ends_problem))
            elif all(end in known for end in pair) and self._dated(parsed, row):
                found.append(Link(pair[0], pair[1], kind, row["since"], row["until"]))
        leads = rows.filter(pl.col("kind") == LinkKind.ALLIANCE_LEAD.value)
        for (alliance,), group in leads.group_by(["target_id"], maintain_order=True):
            problem = rules.lead_problem(str(alliance), zip(group["since"], group["until"], strict=True))
            if problem:
                self.issues.append(parsed.issue(group.row(-1, named=True), "target_id", problem))
        return found

    def instructors(
        self, parsed: ParsedTable | None, enterprises: pl.DataFrame
    ) -> tuple[list[Instructor], Iterator[Assignment]]:
        if parsed is None:
            return [], iter(())
        rows = self._unique(parsed, ["id", "credit_code", "since"], "credit_code", "assignment")
        named = rows.with_columns(pl.col("name").first().over("id").alias("_first_name"))
        renamed = named["name"] != named["_first_name"]
        for row in named.filter(renamed).iter_rows(named=True):
            self.issues.append(
                parsed.issue(row, "name", f"instructor {row['id']} is named {row['_first_name']!r} elsewhere")
            )
        known, unknown = self._known_codes(rows, enterprises)
        self._reference_issues(parsed, rows, "credit_code", ~renamed & unknown, "no enterprise has this credit code")
        instructors = [
            Instructor(i, name)
            for i, name in rows.unique("id", keep="first", maintain_order=True).select("id", "name").iter_rows()
        ]
        valid = rows.filter(~renamed & known & self._dated_rows(parsed, rows)).select(
            "id", "credit_code", "since", "until"
        )
        return instructors, (Assignment(*row) for row in valid.iter_rows())

    def _dated(self, parsed: ParsedTable, row: dict[str, Any], start: str = "since", end: str = "until") -> bool:
        """Whether a row's end comes after its start (rules.span_problem); an issue when not."""
        problem = rules.span_problem(row.get(start), row.get(end))
        if problem is not None:
            self.issues.append(parsed.issue(row, end, problem))
        return problem is None

    def _dated_rows(self, parsed: ParsedTable, rows: pl.DataFrame) -> pl.Series:
        """Per row, whether its `until` comes after its `since`; issues for those where it does not."""
        backwards = (pl.col("until") <= pl.col("since")).fill_null(False)
        bad = rows.select(backwards).to_series()
        for row in rows.filter(bad).iter_rows(named=True):
            self._dated(parsed, row)
        return ~bad
