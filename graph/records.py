"""The current records of a state, and drafts of change sets over them.

`Records` holds every record by its key, history included (an ended edge stays with
its `until`). A `Draft` is a copy-on-write view: the changes of one change set write
into the draft, never into the records, so a rejected set leaves nothing behind and
an accepted one is merged whole. Every write is kept in order, with what the record
was before, for the durable state and the audit trail.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from graph.dataset import Dataset
from graph.enterprises import EnterpriseTable
from graph.model import Assignment, Covers, Department, Enterprise, Instructor, Link, Organization, PartOf, Upgrade

Record = Enterprise | Organization | Covers | Link | Instructor | Assignment | Department | PartOf | Upgrade


def cover_key(cover: Covers) -> tuple[str, str, date | None]:
    return (cover.org_id, cover.credit_code, cover.since)


def link_key(link: Link) -> tuple[str, str, str, date | None]:
    return (link.source_id, link.target_id, link.kind.value, link.since)


def assignment_key(assignment: Assignment) -> tuple[str, str, date | None]:
    return (assignment.instructor_id, assignment.credit_code, assignment.since)


@dataclass(frozen=True, slots=True)
class Write:
    """One record written: into `table` (a ledger table's name), `before` None when new."""

    table: str
    before: Record | None
    after: Record


@dataclass
class Records:
    """Every record of a state; enterprise changes wait in `enterprise_changes` until the
    next snapshot folds them into the columns."""

    table: EnterpriseTable
    organizations: dict[str, Organization] = field(default_factory=dict)
    covers: dict[tuple[str, str, date | None], Covers] = field(default_factory=dict)
    links: dict[tuple[str, str, str, date | None], Link] = field(default_factory=dict)
    instructors: dict[str, Instructor] = field(default_factory=dict)
    assignments: dict[tuple[str, str, date | None], Assignment] = field(default_factory=dict)
    departments: dict[str, Department] = field(default_factory=dict)
    past_parents: dict[tuple[str, date], PartOf] = field(default_factory=dict)
    upgrades: dict[tuple[str, date], Upgrade] = field(default_factory=dict)
    enterprise_changes: dict[str, Enterprise] = field(default_factory=dict)
    # the key of the edge in effect between two ends, None once it has ended
    open_covers: dict[tuple[str, ...], Hashable | None] = field(default_factory=dict)
    open_links: dict[tuple[str, ...], Hashable | None] = field(default_factory=dict)
    open_assignments: dict[tuple[str, ...], Hashable | None] = field(default_factory=dict)

    @classmethod
    def of(cls, dataset: Dataset) -> Records:
        return cls(
            table=dataset.enterprises,
            organizations={o.id: o for o in dataset.organizations},
            covers={cover_key(c): c for c in dataset.covers},
            links={link_key(link): link for link in dataset.links},
            instructors={i.id: i for i in dataset.instructors},
            assignments={assignment_key(a): a for a in dataset.assignments},
            departments={d.id: d for d in dataset.departments},
            past_parents={(p.org_id, p.until): p for p in dataset.past_parents},
            upgrades={(u.org_id, u.on): u for u in dataset.upgrades},
            open_covers={_ends("coverage", c): cover_key(c) for c in dataset.covers if c.until is None},
            open_links={_ends("links", link): link_key(link) for link in dataset.links if link.until is None},
            open_assignments={
                _ends("assignments", a): assignment_key(a) for a in dataset.assignments if a.until is None
            },
        )

    def dataset(self) -> Dataset:
        """An immutable snapshot of the records as they are now."""
        if self.enterprise_changes:
            self.table = self.table.updated(list(self.enterprise_changes.values()))
            self.enterprise_changes = {}
        return Dataset(
            enterprises=self.table,
            organizations=tuple(self.organizations.values()),
            covers=tuple(self.covers.values()),
            links=tuple(self.links.values()),
            instructors=tuple(self.instructors.values()),
            assignments=tuple(self.assignments.values()),
            departments=tuple(self.departments.values()),
            past_parents=tuple(self.past_parents.values()),
            upgrades=tuple(self.upgrades.values()),
        )

    def draft(self, today: date) -> Draft:
        return Draft(self, today)


class Draft:
    """A change set being applied: reads see the records and this draft's writes; writes
    go to the draft alone. `layered` drafts see the ones under them (a group commit)."""

    def __init__(self, records: Records, today: date, under: Draft | None = None):
        self.records = records
        self.today = today
        self.writes: list[Write] = []
        self.marks: list[int] = []  # where each change's writes begin
        base: Any = under if under is not None else records

        def layer(name: str) -> ChainMap[Any, Any]:
            below = getattr(base, name)
            return ChainMap({}, *below.maps) if isinstance(below, ChainMap) else ChainMap({}, below)

        self.organizations = layer("organizations")
        self.covers = layer("covers")
        self.links = layer("links")
        self.instructors = layer("instructors")
        self.assignments = layer("assignments")
        self.departments = layer("departments")
        self.past_parents = layer("past_parents")
        self.upgrades = layer("upgrades")
        self.enterprise_changes = layer("enterprise_changes")
        self.open_covers = layer("open_covers")
        self.open_links = layer("open_links")
        self.open_assignments = layer("open_assignments")

    def layered(self) -> Draft:
        """A draft over this one: the next change set of a group sees this one's writes."""
        return Draft(self.records, self.today, under=self)

    # -- reads -------------------------------------------------------------------

    def enterprise(self, credit_code: str) -> Enterprise | None:
        changed = self.enterprise_changes.get(credit_code)
        if changed is not None:
            return changed
        row = int(self.records.table.rows_of([credit_code])[0])
        return self.records.table.records([row])[0] if row >= 0 else None

    # -- writes ------------------------------------------------------------------

    def put(self, table: str, key: Hashable, record: Record) -> None:
        """Write `record` under `key` into the ledger table `table`, remembering what was there."""
        rows: ChainMap[Any, Any] = getattr(self, _FIELDS[table])
        self.writes.append(Write(table, rows.get(key), record))
        rows[key] = record
        if table in _OPEN:
            ended = isinstance(record, (Covers, Link, Assignment)) and record.until is not None
            getattr(self, _OPEN[table])[_ends(table, record)] = None if ended else key

    def open_edge(self, table: str, ends: tuple[str, ...]) -> Any:
        """The record of the edge in effect between `ends` in `table`, None when there is none."""
        key = getattr(self, _OPEN[table]).get(ends)
        return None if key is None else getattr(self, _FIELDS[table])[key]

    def open_edges(self, table: str, touching: str) -> list[Any]:
        """Edges in effect in `table` with `touching` at either end."""
        rows = getattr(self, _FIELDS[table])
        return [rows[key] for ends, key in getattr(self, _OPEN[table]).items() if key is not None and touching in ends]

    def put_enterprise(self, record: Enterprise) -> None:
        self.put("enterprises", record.credit_code, record)

    def put_organization(self, record: Organization) -> None:
        self.put("organizations", record.id, record)

    def put_edge(self, table: str, record: Covers | Link | Assignment) -> None:
        """Write a COVERS, LINK or ASSIGNED edge into `table` under its key."""
        self.put(table, _EDGE_KEYS[table](record), record)

    def merge(self) -> None:
        """Fold this draft (and the drafts under it) into the records."""
        for name in [*_FIELDS.values(), *_OPEN.values()]:
            rows: ChainMap[Any, Any] = getattr(self, name)
            target = getattr(self.records, name)
            for layer in reversed(rows.maps[:-1]):
                target.update(layer)


_FIELDS = {
    "enterprises": "enterprise_changes",
    "organizations": "organizations",
    "coverage": "covers",
    "links": "links",
    "instructors": "instructors",
    "assignments": "assignments",
    "departments": "departments",
    "part_of": "past_parents",
    "upgrades": "upgrades",
}
_EDGE_KEYS: dict[str, Callable[[Any], Hashable]] = {
    "coverage": cover_key, "links": link_key, "assignments": assignment_key,
}  # fmt: skip
_OPEN = {"coverage": "open_covers", "links": "open_links", "assignments": "open_assignments"}


def _ends(table: str, record: Any) -> tuple[str, ...]:
    """What an edge joins: the same ends have one edge in effect at a time."""
    if table == "coverage":
        return (record.org_id, record.credit_code)
    if table == "links":
        return (record.source_id, record.target_id, record.kind.value)
    return (record.instructor_id, record.credit_code)
