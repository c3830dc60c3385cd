"""The current records of a state, and drafts of change sets over them.

`Records` holds every record by its key, history included (an ended edge stays with
its `until`). A `Draft` is a copy-on-write view: the changes of one change set write
into the draft, never into the records, so a rejected set leaves nothing behind and
an accepted one is merged whole. Every write is kept in order, with what the record
was before, for the durable state and the audit trail.
"""

from __future__ import annotations

import types
import typing
from collections import ChainMap
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from enum import Enum
from operator import attrgetter
from typing import Any, TypeVar

from graph.dataset import Dataset
from graph.enterprises import EnterpriseTable
from graph.model import Assignment, Covers, Department, Enterprise, Instructor, Link, Organization, PartOf, Upgrade

Record = Enterprise | Organization | Covers | Link | Instructor | Assignment | Department | PartOf | Upgrade
R = TypeVar("R", Enterprise, Organization, Covers, Link, Instructor, Assignment, Department, PartOf, Upgrade)


# Each ledger table: the fields that identify a record, and (for edges) the fields of what
# it joins, which have one edge in effect at a time.
KEYS: dict[str, tuple[str, ...]] = {
    "enterprises": ("credit_code",), "organizations": ("id",), "coverage": ("org_id", "credit_code", "since"),
    "links": ("source_id", "target_id", "kind", "since"), "instructors": ("id",),
    "assignments": ("instructor_id", "credit_code", "since"), "departments": ("id",),
    "part_of": ("org_id", "until"), "upgrades": ("org_id", "on"),
}  # fmt: skip
ENDS: dict[str, tuple[str, ...]] = {
    "coverage": ("org_id", "credit_code"), "links": ("source_id", "target_id", "kind"),
    "assignments": ("instructor_id", "credit_code"),
}  # fmt: skip


def stored_value(value: Any) -> Any:
    """A field as a store keeps it: enums as their value, dates as ISO text."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    return value


def field_type(hint: Any) -> Any:
    """A field's type without its `| None`."""
    union = isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union
    return next(arg for arg in typing.get_args(hint) if arg is not type(None)) if union else hint


def value_reader(hint: Any) -> Callable[[Any], Any]:
    """Turns a stored value back into a field of type `hint`."""
    kind = field_type(hint)
    if kind is date:
        return lambda value: None if value is None else date.fromisoformat(value)
    if isinstance(kind, type) and issubclass(kind, Enum):
        return lambda value: None if value is None else kind(value)
    if kind is bool:
        return lambda value: None if value is None else bool(value)
    return lambda value: value


def record_values(record: Record) -> dict[str, Any]:
    """A record's fields as a store keeps them (`stored_value`)."""
    return {f.name: stored_value(getattr(record, f.name)) for f in fields(record)}


def restored(kind: type[R], values: Mapping[str, Any]) -> R:
    """A record of `kind` from the values `record_values` kept (absent ones as None)."""
    return kind(**{name: read(values.get(name)) for name, read in _readers(kind)})


_READERS: dict[type, tuple[tuple[str, Callable[[Any], Any]], ...]] = {}


def _readers(kind: type) -> tuple[tuple[str, Callable[[Any], Any]], ...]:
    """Each field of a record kind with its `value_reader`, worked out once per kind."""
    found = _READERS.get(kind)
    if found is None:
        hints = typing.get_type_hints(kind)
        found = _READERS[kind] = tuple((f.name, value_reader(hints[f.name])) for f in fields(kind))
    return found


def key_of(table: str, record: Any) -> Hashable:
    """The key of a record of `table`: its one identifying field, or a tuple of them."""
    return attrgetter(*KEYS[table])(record)


def _enterprise(changed: Mapping[str, Enterprise], table: EnterpriseTable, credit_code: str) -> Enterprise | None:
    """An enterprise as changed, else as its table has it."""
    found = changed.get(credit_code)
    if found is not None:
        return found
    row = int(table.rows_of([credit_code])[0])
    return table.records([row])[0] if row >= 0 else None


def id_holders(records: Records | Draft) -> dict[str, Callable[[str], bool]]:
    """What may hold an id an edge can name, as `rules.id_taken` asks: organizations,
    departments, instructors and enterprises' credit codes."""
    return {
        "an organization": records.organizations.__contains__, "a department": records.departments.__contains__,
        "an instructor": records.instructors.__contains__, "an enterprise": lambda code: records.enterprise(code) is not None,
    }  # fmt: skip


def _ends(table: str, record: Any) -> tuple[str, ...]:
    return attrgetter(*ENDS[table])(record)


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
        def keyed(table: str, records: tuple[Any, ...]) -> dict[Any, Any]:
            return {key_of(table, record): record for record in records}

        def open_edges(table: str, records: tuple[Any, ...]) -> dict[tuple[str, ...], Hashable | None]:
            return {_ends(table, edge): key_of(table, edge) for edge in records if edge.until is None}

        return cls(
            table=dataset.enterprises,
            organizations=keyed("organizations", dataset.organizations),
            covers=keyed("coverage", dataset.covers),
            links=keyed("links", dataset.links),
            instructors=keyed("instructors", dataset.instructors),
            assignments=keyed("assignments", dataset.assignments),
            departments=keyed("departments", dataset.departments),
            past_parents=keyed("part_of", dataset.past_parents),
            upgrades=keyed("upgrades", dataset.upgrades),
            open_covers=open_edges("coverage", dataset.covers),
            open_links=open_edges("links", dataset.links),
            open_assignments=open_edges("assignments", dataset.assignments),
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

    def enterprise(self, credit_code: str) -> Enterprise | None:
        return _enterprise(self.enterprise_changes, self.table, credit_code)


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
        return _enterprise(self.enterprise_changes, self.records.table, credit_code)

    # -- writes ------------------------------------------------------------------

    def put(self, table: str, record: Record) -> None:
        """Write `record` into the ledger table `table` under its key, remembering what was there."""
        key = key_of(table, record)
        rows: ChainMap[Any, Any] = getattr(self, _FIELDS[table])
        # an enterprise not changed since the state was opened is in the columns, not in `rows`
        before = self.enterprise(str(key)) if table == "enterprises" else rows.get(key)
        self.writes.append(Write(table, before, record))
        rows[key] = record
        if table in _OPEN:
            ended = isinstance(record, (Covers, Link, Assignment)) and record.until is not None
            getattr(self, _OPEN[table])[_ends(table, record)] = None if ended else key

    def open_edge(self, table: str, ends: tuple[str, ...]) -> Any:
        """The record of the edge in effect between `ends` in `table`, None when there is none."""
        key = getattr(self, _OPEN[table]).get(ends)
        return None if key is None else getattr(self, _FIELDS[table])[key]

    def open_edges(self, table: str, touching: str, ends: tuple[str, ...]) -> list[Any]:
        """Edges in effect in `table` whose field named in `ends` (`org_id`, say) is `touching`:
        an end is matched by what it is, never by an id that happens to be equal."""
        rows = getattr(self, _FIELDS[table])
        positions = [ENDS[table].index(name) for name in ends]
        return [
            rows[key]
            for joined, key in getattr(self, _OPEN[table]).items()
            if key is not None and any(joined[at] == touching for at in positions)
        ]

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
_OPEN = {"coverage": "open_covers", "links": "open_links", "assignments": "open_assignments"}
