"""The embedded store's side of a simulation (graph.simulation.Baseline): its records
read straight from its columns and index arrays, its figures from its coverage index."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Protocol

import numpy as np

from graph.compliance import OrganizationFacts
from graph.coverage import CoverageIndex
from graph.enterprises import EnterpriseTable
from graph.model import Assignment, Covers, Enterprise, Upgrade
from graph.query import Coverage, Scope
from graph.records import Draft, Records
from graph.rules import Today
from graph.simulation import Baseline


class Columns(Protocol):
    """What the side reads of a NetworkxStore."""

    today: Today
    table: EnterpriseTable
    index: CoverageIndex

    def records(self) -> Records: ...
    def covers_lookup(self, rows: np.ndarray) -> list[list[Covers]]: ...
    def assignments_lookup(self, rows: np.ndarray) -> list[list[Assignment]]: ...
    def covers_of_organization(self, org_id: str) -> list[Covers]: ...
    def upgrades_of(self, org_id: str) -> list[Upgrade]: ...
    def subtree_ids(self, org_id: str) -> list[str]: ...
    def cluster_label(self, key: str | None) -> str: ...
    def members_on(self, org_id: str, day: int) -> tuple[int, int]: ...
    def organization_facts_on(self, org_id: str, day: int) -> OrganizationFacts | None: ...


class StoreSide(Baseline):
    """A NetworkxStore as a simulation's baseline."""

    def __init__(self, store: Columns):
        self._store = store
        self.organizations = store.records().organizations
        self._enterprises: dict[str, Enterprise | None] = {}
        self._covers: dict[str, list[Covers]] = {}
        self._assignments: dict[str, list[Assignment]] = {}

    def load(self, codes: Iterable[str]) -> None:
        store = self._store
        wanted = [code for code in codes if code not in self._enterprises]
        rows = store.table.rows_of(wanted)
        known = rows >= 0
        records = iter(store.table.records(rows[known]))
        covers = iter(store.covers_lookup(rows[known]))
        assignments = iter(store.assignments_lookup(rows[known]))
        for code, found in zip(wanted, known.tolist(), strict=True):
            self._enterprises[code] = next(records) if found else None
            self._covers[code] = next(covers) if found else []
            self._assignments[code] = next(assignments) if found else []

    def enterprise(self, code: str) -> Enterprise | None:
        self.load([code])
        return self._enterprises[code]

    def covers_to(self, code: str) -> list[Covers]:
        self.load([code])
        return self._covers[code]

    def covers_of(self, org_id: str) -> list[Covers]:
        return self._store.covers_of_organization(org_id)

    def assignments_to(self, code: str) -> list[Assignment]:
        self.load([code])
        return self._assignments[code]

    def upgrades(self, org_id: str) -> list[Upgrade]:
        return self._store.upgrades_of(org_id)

    def draft(self) -> Draft:
        return self._store.records().draft(self._store.today())

    def scoped(self, scope: Scope) -> Scope:
        return replace(scope, cluster=self._store.index.cluster_id(scope.cluster)) if scope.cluster else scope

    def coverage(self, scope: Scope, day: int) -> Coverage:
        return self._store.index.coverage(scope, day)

    def subtree_ids(self, org_id: str) -> list[str]:
        return self._store.subtree_ids(org_id)

    def cluster_label(self, key: str | None) -> str:
        return self._store.cluster_label(key)

    def members_on(self, org_id: str, day: int) -> tuple[int, int]:
        return self._store.members_on(org_id, day)

    def organization_facts_on(self, org_id: str, day: int) -> OrganizationFacts | None:
        return self._store.organization_facts_on(org_id, day)
