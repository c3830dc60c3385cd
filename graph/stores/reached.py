"""A simulation's baseline from the records a store hands over (graph.simulation.Baseline).

A store that keeps its graph in a database server gathers, in one request, what a
change set reaches (starting from the ids graph.simulation.named finds in it): the
enterprises with every COVERS and ASSIGNED edge to them, the organizations with the
ones above them, their upgrades and past parents, the links in effect and the records
the changes name; and its own figures for those organizations and for the scope. This
module serves them to graph.simulation, so the overlay is the embedded store's, run
on a few dozen records instead of the graph.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from graph.compliance import OrganizationFacts
from graph.dataset import Dataset
from graph.model import Assignment, Covers, Enterprise, Upgrade
from graph.query import Coverage, Scope
from graph.records import Draft, Records
from graph.simulation import Baseline


@dataclass(frozen=True)
class Figures:
    """The store's own figures for what it handed over, on the simulated day."""

    scope: Scope  # the scope asked, its cluster named by id
    coverage: Coverage  # of that scope
    members: dict[str, tuple[int, int]]  # formal and probationary, per organization handed over
    facts: dict[str, OrganizationFacts | None]  # None where it does not stand
    clusters: dict[str, str]  # every cluster's label, by id


class Reached(Baseline):
    """The records a store handed over, and its figures, as a simulation's baseline. An
    organization the store did not hand over is one the changes create: no members, no facts."""

    def __init__(self, dataset: Dataset, today: date, figures: Figures):
        self._records = Records.of(dataset)
        self._today = today
        self._figures = figures
        self.organizations = self._records.organizations
        self._covers_to: dict[str, list[Covers]] = {}
        self._covers_of: dict[str, list[Covers]] = {}
        for cover in dataset.covers:
            self._covers_to.setdefault(cover.credit_code, []).append(cover)
            self._covers_of.setdefault(cover.org_id, []).append(cover)
        self._assignments: dict[str, list[Assignment]] = {}
        for assignment in dataset.assignments:
            self._assignments.setdefault(assignment.credit_code, []).append(assignment)
        self._upgrades: dict[str, list[Upgrade]] = {}
        for upgrade in dataset.upgrades:
            self._upgrades.setdefault(upgrade.org_id, []).append(upgrade)

    def load(self, codes: Iterable[str]) -> None:
        """Everything was handed over at once."""

    def enterprise(self, code: str) -> Enterprise | None:
        return self._records.enterprise(code)

    def covers_to(self, code: str) -> list[Covers]:
        return self._covers_to.get(code, [])

    def covers_of(self, org_id: str) -> list[Covers]:
        return self._covers_of.get(org_id, [])

    def assignments_to(self, code: str) -> list[Assignment]:
        return self._assignments.get(code, [])

    def upgrades(self, org_id: str) -> list[Upgrade]:
        return self._upgrades.get(org_id, [])

    def draft(self) -> Draft:
        return self._records.draft(self._today)

    def scoped(self, scope: Scope) -> Scope:
        return self._figures.scope

    def coverage(self, scope: Scope, day: int) -> Coverage:
        return self._figures.coverage

    def subtree_ids(self, org_id: str) -> list[str]:
        found, walk = [], [org_id] if org_id in self.organizations else []
        kids: dict[str, list[str]] = {}
        for org in self.organizations.values():
            if org.parent_id is not None:
                kids.setdefault(org.parent_id, []).append(org.id)
        while walk:
            found.append(at := walk.pop())
            walk.extend(kids.get(at, ()))
        return found

    def cluster_label(self, key: str | None) -> str:
        return "(none)" if key is None else self._figures.clusters.get(key, key)

    def members_on(self, org_id: str, day: int) -> tuple[int, int]:
        return self._figures.members[org_id] if org_id in self.organizations else (0, 0)

    def organization_facts_on(self, org_id: str, day: int) -> OrganizationFacts | None:
        return self._figures.facts[org_id] if org_id in self.organizations else None
