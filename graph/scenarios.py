"""Scenarios (方案): named change sets kept in a state, to simulate, compare and apply later.

A scenario is kept as its changes (each `describe`d, with its kind) in the state's
SQLite file, so it survives a restart and travels with the state. Saving one checks
its changes as a write would, against the records of the day; applying one goes
through the state's write path, all or nothing, into the audit trail.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, is_dataclass
from dataclasses import replace as dataclass_replace
from datetime import UTC, datetime
from enum import Enum
from itertools import count
from pathlib import Path
from typing import Any

from graph.changes import Change, CreateOrganization, describe, restore
from graph.errors import ChainorgError, InvalidArgument, NotFound

MAX_NAME = 200

SCHEMA = """
CREATE TABLE IF NOT EXISTS scenarios (
    name TEXT PRIMARY KEY,
    saved_at TEXT NOT NULL,
    who TEXT NOT NULL,
    changes TEXT NOT NULL,
    applied_change_set INTEGER
)
"""


class ScenarioExists(ChainorgError):
    """A scenario of that name is kept already (save it with `replace` to overwrite it)."""

    code = "CONFLICT"


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    saved_at: datetime
    who: str
    changes: list[Change]
    applied_change_set: int | None  # the change set that applied it, once it is applied
    renumbered: dict[str, str] = field(default_factory=dict)  # ids it creates that were taken since: their new ids


def renumbered(changes: Sequence[Change], taken: Callable[[str], bool]) -> tuple[list[Change], dict[str, str]]:
    """The changes with each organization they create under an id that is `taken` now given
    a free one (`ID-2`, `ID-3` …), and every change naming it following it; and what moved.

    A plan proposes ids when it is made; another plan applied since may have used them.

    >>> from graph.changes import CoverEnterprises, CreateOrganization
    >>> from graph.model import Organization, OrgKind
    >>> plan = [CreateOrganization(Organization("J1", "联合党支部", OrgKind.JOINT_BRANCH, "C1")),
    ...         CoverEnterprises("J1", ("91430100MA4L0001X1",))]
    >>> changes, moved = renumbered(plan, {"J1"}.__contains__)
    >>> moved, changes[1].org_id
    ({'J1': 'J1-2'}, 'J1-2')
    """
    named = {c.organization.id for c in changes if isinstance(c, CreateOrganization)}
    moved: dict[str, str] = {}
    for old in [c.organization.id for c in changes if isinstance(c, CreateOrganization) and taken(c.organization.id)]:
        new = next(f"{old}-{n}" for n in count(2) if not taken(f"{old}-{n}") and f"{old}-{n}" not in named)
        moved[old] = new
        named.add(new)
    return ([_renamed(c, moved) for c in changes] if moved else list(changes)), moved


def _renamed(value: Any, moved: dict[str, str]) -> Any:
    """`value` with every id in `moved` replaced, in its fields and its records' fields."""
    if isinstance(value, str) and not isinstance(value, Enum):
        return moved.get(value, value)
    if isinstance(value, tuple):
        return tuple(_renamed(item, moved) for item in value)
    if is_dataclass(value) and not isinstance(value, type):
        return dataclass_replace(value, **{f.name: _renamed(getattr(value, f.name), moved) for f in fields(value)})
    return value


@contextmanager
def _connected(path: Path) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA busy_timeout=10000")
        connection.execute(SCHEMA)
        yield connection
    finally:
        connection.close()


def checked_name(name: str) -> str:
    """A scenario's name without spaces around it; InvalidArgument when empty or too long."""
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise InvalidArgument(f"a scenario's name must have 1 to {MAX_NAME} characters, got {len(name)}")
    return name


def save(path: Path, name: str, changes: Sequence[Change], who: str, replace: bool = False) -> Scenario:
    """Keep `changes` as the scenario `name`; ScenarioExists if there is one and not `replace`."""
    name = checked_name(name)
    kept = changes_text(changes)
    at = datetime.now(UTC)
    with _connected(path) as connection:
        verb = "INSERT OR REPLACE" if replace else "INSERT"
        try:
            connection.execute(f"{verb} INTO scenarios VALUES (?, ?, ?, ?, NULL)", (name, at.isoformat(), who, kept))
        except sqlite3.IntegrityError:
            raise ScenarioExists(f"a scenario named {name!r} is kept already; save with replace: true") from None
    return Scenario(name, at, who, list(changes), None)


def changes_text(changes: Sequence[Change]) -> str:
    """A scenario's changes as they are kept: JSON, each change `describe`d with its kind."""
    return json.dumps([{"kind": c.kind, "change": describe(c)} for c in changes], ensure_ascii=False)


def scenario_of(name: str, at: str, who: str, kept: str, applied: int | None) -> Scenario:
    """A scenario from what is kept of it (`changes_text`, its moment as ISO text)."""
    changes = [restore(item["kind"], item["change"]) for item in json.loads(kept)]
    return Scenario(name, datetime.fromisoformat(at), who, changes, applied)


def listed(path: Path) -> list[Scenario]:
    """Every scenario, by name."""
    with _connected(path) as connection:
        return [scenario_of(*row) for row in connection.execute("SELECT * FROM scenarios ORDER BY name")]


def named(path: Path, name: str) -> Scenario:
    """The scenario `name`; NotFound when there is none."""
    with _connected(path) as connection:
        row = connection.execute("SELECT * FROM scenarios WHERE name = ?", (name.strip(),)).fetchone()
    if row is None:
        raise NotFound(f"no scenario is named {name!r}")
    return scenario_of(*row)


def mark_applied(path: Path, name: str, change_set: int) -> Scenario:
    with _connected(path) as connection:
        connection.execute("UPDATE scenarios SET applied_change_set = ? WHERE name = ?", (change_set, name))
    return named(path, name)
