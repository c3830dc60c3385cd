"""Validating a ledger into a Dataset: every row, every reference, all or nothing.

`load_ledger(path)` reads a folder of CSVs or an .xlsx workbook; `dataset_from_tables`
validates tables already in memory (the demo generator uses it too, so the demo goes
through exactly the checks a real ledger does). Any problem raises LedgerInvalid with
the complete list; no partial Dataset is ever returned.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graph.dataset import Dataset
from graph.model import (
    Assignment,
    Category,
    Covers,
    Department,
    Enterprise,
    FormationMode,
    Instructor,
    Link,
    LinkKind,
    Organization,
    OrgKind,
    Status,
)
from loaders import fields
from loaders.errors import LedgerInvalid, LedgerIssue
from loaders.tables import RawTable, read_tables
from loaders.vocabulary import COLUMN_NAMES, normalise


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    parse: Callable[[str], Any]
    required: bool = False


SCHEMA: dict[str, list[Column]] = {
    "enterprises": [
        Column("credit_code", fields.credit_code, required=True),
        Column("name", fields.text, required=True),
        Column("park", fields.text, required=True),
        Column("building", fields.text),
        Column("chain", fields.text),
        Column("category", fields.choice(Category)),
        Column("employees", fields.count),
        Column("formal_members", fields.count),
        Column("probationary_members", fields.count),
        Column("above_scale", fields.flag),
        Column("key", fields.flag),
        Column("status", fields.choice(Status)),
        Column("registered_on", fields.day),
        Column("cluster", fields.text),
    ],
    "organizations": [
        Column("id", fields.text, required=True),
        Column("name", fields.text, required=True),
        Column("kind", fields.choice(OrgKind), required=True),
        Column("parent_id", fields.text),
        Column("mode", fields.choice(FormationMode)),
        Column("established_on", fields.day),
        Column("term_ends_on", fields.day),
        Column("secretary", fields.text),
        Column("stars", fields.stars),
        Column("points", fields.count),
    ],
    "coverage": [
        Column("org_id", fields.text, required=True),
        Column("credit_code", fields.credit_code, required=True),
        Column("since", fields.day),
    ],
    "links": [
        Column("source_id", fields.text, required=True),
        Column("target_id", fields.text, required=True),
        Column("kind", fields.choice(LinkKind), required=True),
        Column("since", fields.day),
    ],
    "instructors": [
        Column("id", fields.text, required=True),
        Column("name", fields.text, required=True),
        Column("credit_code", fields.credit_code, required=True),
        Column("since", fields.day),
    ],
    "departments": [
        Column("id", fields.text, required=True),
        Column("name", fields.text, required=True),
    ],
}


@dataclass(frozen=True)
class LoadedLedger:
    dataset: Dataset
    warnings: list[LedgerIssue]


@dataclass(frozen=True, slots=True)
class Row:
    """One parsed row: values by canonical column name, None where the cell is empty."""

    table: RawTable
    number: int
    values: dict[str, Any]
    headers: Mapping[str, str]  # canonical column name -> the header the file used

    def __getitem__(self, column: str) -> Any:
        return self.values.get(column)

    def issue(self, column: str | None, reason: str) -> LedgerIssue:
        shown = self.headers.get(column, column) if column else None
        value = self.values.get(column)
        return LedgerIssue(self.table.source, self.number, shown, None if value is None else str(value), reason)


def load_ledger(path: Path) -> LoadedLedger:
    """Read and validate the ledger at `path`, or raise LedgerInvalid listing every error."""
    return dataset_from_tables(read_tables(path), origin=str(path))


def dataset_from_tables(tables: Mapping[str, RawTable], origin: str = "ledger") -> LoadedLedger:
    if "enterprises" not in tables:
        raise LedgerInvalid([LedgerIssue(origin, None, None, None, "no enterprises table (enterprises.csv or sheet)")])
    issues: list[LedgerIssue] = []
    warnings: list[LedgerIssue] = []
    rows = {name: _parse_table(table, issues, warnings) for name, table in tables.items()}
    checker = _Checker(issues)
    organizations = checker.organizations(rows.get("organizations", []))
    enterprises = checker.enterprises(rows.get("enterprises", []), organizations)
    departments = checker.departments(rows.get("departments", []), organizations)
    covers = checker.covers(rows.get("coverage", []), organizations, enterprises)
    endpoints = {*organizations, *departments, *enterprises}
    links = checker.links(rows.get("links", []), endpoints)
    instructors, assignments = checker.instructors(rows.get("instructors", []), enterprises)
    if issues:
        raise LedgerInvalid(sorted(issues, key=lambda i: (i.source, i.row or 0)))
    dataset = Dataset(
        enterprises=tuple(enterprises.values()),
        organizations=tuple(organizations.values()),
        covers=tuple(covers),
        links=tuple(links),
        instructors=tuple(instructors.values()),
        assignments=tuple(assignments),
        departments=tuple(departments.values()),
    )
    return LoadedLedger(dataset, warnings)


def _parse_table(table: RawTable, issues: list[LedgerIssue], warnings: list[LedgerIssue]) -> list[Row]:
    columns = SCHEMA[table.name]
    aliases = {
        normalise(alias): column.name
        for column in columns
        for alias in (column.name, *COLUMN_NAMES[table.name].get(column.name, ()))
    }
    position: dict[str, int] = {}
    headers: dict[str, str] = {}
    for index, header in enumerate(table.header):
        canonical = aliases.get(normalise(header))
        if canonical is None:
            warnings.append(LedgerIssue(table.source, 1, header, None, "unknown column, ignored"))
        elif canonical in position:
            issues.append(LedgerIssue(table.source, 1, header, None, f"a second {canonical} column ({headers[canonical]})"))
        else:
            position[canonical] = index
            headers[canonical] = header
    missing = [c.name for c in columns if c.required and c.name not in position]
    if missing:
        issues.append(LedgerIssue(table.source, 1, None, None, f"missing required column(s): {', '.join(missing)}"))
        return []

    parsed = []
    width = len(table.header)
    for number, cells in table.rows:
        if any(cell.strip() for cell in cells[width:]):
            issues.append(LedgerIssue(table.source, number, None, None, f"{len(cells)} cells, the header has {width}"))
        values: dict[str, Any] = {}
        for column in columns:
            if column.name not in position:
                continue
            index = position[column.name]
            raw = cells[index] if index < len(cells) else ""
            if not raw.strip():
                if column.required:
                    issues.append(LedgerIssue(table.source, number, headers[column.name], None, "required, but empty"))
                continue
            try:
                values[column.name] = column.parse(raw)
            except fields.FieldError as error:
                issues.append(LedgerIssue(table.source, number, headers[column.name], raw, str(error)))
        parsed.append(Row(table, number, values, headers))
    return parsed


class _Checker:
    """Cross-row checks (duplicates, references, hierarchy); every problem goes to `issues`."""

    def __init__(self, issues: list[LedgerIssue]):
        self.issues = issues
        self.rejected: set[str] = set()  # ids of rows that exist but were rejected: not "unknown"

    def unknown(self, key: str, known: Mapping[str, Any] | set[str]) -> bool:
        """True when nothing in the ledger has this id (a rejected row's id is not reported twice)."""
        return key not in known and key not in self.rejected

    def _unique(self, rows: list[Row], key: Callable[[Row], Any], column: str, what: str) -> Iterator[Row]:
        """The rows with all fields and a key not seen before; the others become issues."""
        first_row: dict[Any, int] = {}
        for row in rows:
            if any(row[c.name] is None for c in SCHEMA[row.table.name] if c.required):
                if isinstance(key(row), str):
                    self.rejected.add(key(row))
                continue  # already reported as empty or unparseable
            seen = first_row.setdefault(key(row), row.number)
            if seen != row.number:
                self.issues.append(row.issue(column, f"duplicate {what}, first at row {seen}"))
                continue
            yield row

    def organizations(self, rows: list[Row]) -> dict[str, Organization]:
        accepted = [
            (
                row,
                Organization(
                    id=row["id"],
                    name=row["name"],
                    kind=row["kind"],
                    parent_id=row["parent_id"],
                    mode=row["mode"],
                    established_on=row["established_on"],
                    term_ends_on=row["term_ends_on"],
                    secretary=row["secretary"],
                    stars=row["stars"],
                    points=row["points"],
                ),
            )
            for row in self._unique(rows, lambda r: r["id"], "id", "organization id")
        ]
        found = {org.id: org for _, org in accepted}
        for row, org in accepted:
            parent = found.get(org.parent_id) if org.parent_id else None
            if org.parent_id and self.unknown(org.parent_id, found):
                self.issues.append(row.issue("parent_id", "no organization has this id"))
            elif parent is not None and parent.kind.rank >= org.kind.rank:
                self.issues.append(row.issue("parent_id", f"a {org.kind.value} cannot be part of a {parent.kind.value}"))
        return found

    def enterprises(self, rows: list[Row], organizations: Mapping[str, Organization]) -> dict[str, Enterprise]:
        found = {}
        for row in self._unique(rows, lambda r: r["credit_code"], "credit_code", "credit code"):
            cluster = organizations.get(row["cluster"]) if row["cluster"] else None
            if row["cluster"] and self.unknown(row["cluster"], organizations):
                self.issues.append(row.issue("cluster", "no organization has this id"))
            elif cluster is not None and cluster.kind is not OrgKind.CLUSTER:
                self.issues.append(row.issue("cluster", f"names a {cluster.kind.value}, not a CLUSTER"))
            found[row["credit_code"]] = Enterprise(
                credit_code=row["credit_code"],
                name=row["name"],
                park=row["park"],
                building=row["building"],
                chain=row["chain"],
                category=row["category"] or Category.OTHER,
                employees=row["employees"],
                formal_members=row["formal_members"] or 0,
                probationary_members=row["probationary_members"] or 0,
                above_scale=bool(row["above_scale"]),
                key=bool(row["key"]),
                status=row["status"] or Status.ACTIVE,
                registered_on=row["registered_on"],
                cluster_id=row["cluster"],
            )
        return found

    def departments(self, rows: list[Row], organizations: Mapping[str, Organization]) -> dict[str, Department]:
        found = {}
        for row in self._unique(rows, lambda r: r["id"], "id", "department id"):
            if row["id"] in organizations:
                self.issues.append(row.issue("id", "an organization has this id too; ids must be distinct"))
                self.rejected.add(row["id"])
            else:
                found[row["id"]] = Department(row["id"], row["name"])
        return found

    def covers(
        self, rows: list[Row], organizations: Mapping[str, Organization], enterprises: Mapping[str, Enterprise]
    ) -> list[Covers]:
        found = []
        for row in self._unique(rows, lambda r: (r["org_id"], r["credit_code"]), "credit_code", "coverage row"):
            org = organizations.get(row["org_id"])
            if self.unknown(row["org_id"], organizations):
                self.issues.append(row.issue("org_id", "no organization has this id"))
            elif org is not None and not org.kind.is_enterprise_level:
                self.issues.append(row.issue("org_id", f"a {org.kind.value} does not cover enterprises directly"))
            elif self.unknown(row["credit_code"], enterprises):
                self.issues.append(row.issue("credit_code", "no enterprise has this credit code"))
            elif org is not None and row["credit_code"] in enterprises:
                found.append(Covers(org.id, row["credit_code"], row["since"]))
        return found

    def links(self, rows: list[Row], endpoints: set[str]) -> list[Link]:
        found = []
        key = lambda r: (r["source_id"], r["target_id"], r["kind"])  # noqa: E731
        for row in self._unique(rows, key, "target_id", "link"):
            ends = (row["source_id"], row["target_id"])
            for column, end in zip(("source_id", "target_id"), ends, strict=True):
                if self.unknown(end, endpoints):
                    self.issues.append(row.issue(column, "no organization, department or enterprise has this id"))
            if ends[0] == ends[1]:
                self.issues.append(row.issue("target_id", "a link needs two different ends"))
            elif all(end in endpoints for end in ends):
                found.append(Link(row["source_id"], row["target_id"], row["kind"], row["since"]))
        return found

    def instructors(
        self, rows: list[Row], enterprises: Mapping[str, Enterprise]
    ) -> tuple[dict[str, Instructor], list[Assignment]]:
        instructors: dict[str, Instructor] = {}
        assignments = []
        for row in self._unique(rows, lambda r: (r["id"], r["credit_code"]), "credit_code", "assignment"):
            known = instructors.setdefault(row["id"], Instructor(row["id"], row["name"]))
            if known.name != row["name"]:
                self.issues.append(row.issue("name", f"instructor {row['id']} is named {known.name!r} elsewhere"))
            elif self.unknown(row["credit_code"], enterprises):
                self.issues.append(row.issue("credit_code", "no enterprise has this credit code"))
            elif row["credit_code"] in enterprises:
                assignments.append(Assignment(row["id"], row["credit_code"], row["since"]))
        return instructors, assignments
