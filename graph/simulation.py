"""What-if: a change set applied as an overlay over a store, nothing written.

The changes run through the same `apply_changes` as real writes, on a `Draft` over
the store's records, so a simulation accepts and refuses exactly what a write would.
The draft is then read as an overlay: only the enterprises and organizations its
writes reach are looked at, on both sides (as the store has them, and with the
draft), and the answer is the store's own figures plus the difference. Nothing the
size of the store is copied: a simulation of a few changes on a million enterprises
looks at a few dozen records.

What a change reaches: the enterprises it writes, covers, uncovers or assigns; every
enterprise covered by an organization it moves (their cluster and the members above
them change) and by any organization covering one of those; and every organization
covering one of them, with the organizations above.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

import numpy as np

from graph.changes import (
    AddLink,
    AssignInstructor,
    Change,
    CoverEnterprises,
    CreateOrganization,
    DissolveOrganization,
    EndLink,
    MoveOrganization,
    RegisterEnterprise,
    UnassignInstructor,
    UncoverEnterprises,
    UpdateEnterprise,
    apply_changes,
)
from graph.compliance import (
    EnterpriseFacts,
    Finding,
    OrganizationFacts,
    RuleConfig,
    enterprise_finding,
    enterprise_masks,
    organization_findings,
)
from graph.credit_code import normalised
from graph.errors import InvalidArgument
from graph.model import ATTACHING, Assignment, Covers, Enterprise, Organization, OrgKind, Upgrade, as_on, holds_on
from graph.query import Coverage, CoverageGroup, Scope
from graph.records import Draft, key_of
from graph.rules import Today, asked_on, counts_on, cover_span, day_number
from graph.stores.answers import Simulation


class Side(ABC):
    """The records one side of a simulation reads. A store hands over its own side (a
    `Baseline`) and the draft's side lays the change set over it; both fetch enterprises
    in batches (`load`) and keep them, so a side costs what the simulation reaches."""

    organizations: Mapping[str, Organization]

    @abstractmethod
    def load(self, codes: Iterable[str]) -> None:
        """Fetch the enterprises `codes` name, their COVERS edges and assignments, in one batch."""

    @abstractmethod
    def enterprise(self, code: str) -> Enterprise | None: ...

    @abstractmethod
    def covers_to(self, code: str) -> list[Covers]:
        """Every COVERS edge to an enterprise, ended ones too, in ledger order."""

    @abstractmethod
    def covers_of(self, org_id: str) -> list[Covers]:
        """Every COVERS edge of an organization, ended ones too."""

    @abstractmethod
    def assignments_to(self, code: str) -> list[Assignment]: ...

    @abstractmethod
    def upgrades(self, org_id: str) -> list[Upgrade]: ...

    def ancestors(self, org_id: str) -> list[str]:
        """The organization and every organization above it."""
        found, walk = [], self.organizations.get(org_id)
        while walk is not None and walk.id not in found:
            found.append(walk.id)
            walk = self.organizations.get(walk.parent_id) if walk.parent_id else None
        return found

    def cluster_above(self, org_id: str) -> str | None:
        return next((i for i in self.ancestors(org_id) if self.organizations[i].kind is OrgKind.CLUSTER), None)

    def cluster_of(self, enterprise: Enterprise) -> str | None:
        """`rules.resolve_clusters` for one enterprise: declared, else its first covering organization's."""
        declared = self.organizations.get(enterprise.cluster_id) if enterprise.cluster_id else None
        if declared is not None and declared.kind is OrgKind.CLUSTER:
            return declared.id
        return next(
            (found for c in self.covers_to(enterprise.credit_code) if (found := self.cluster_above(c.org_id))), None
        )

    def holds(self, cover: Covers, day: int) -> bool:
        since, until = cover_span(cover, self.organizations[cover.org_id])
        return since <= day < until

    def kind_on(self, org: Organization, day: date) -> Organization:
        """The organization with the kind it had on `day`, before any later upgrade."""
        return as_on(org, self.upgrades(org.id), day)


class Baseline(Side):
    """A store's side: its records, and the figures it already has for what the
    simulation does not reach (so nothing the size of the store is recounted)."""

    @abstractmethod
    def draft(self) -> Draft:
        """A draft over the store's records as of its today, for the change set to run on."""

    @abstractmethod
    def scoped(self, scope: Scope) -> Scope:
        """The scope with its cluster named by id, as `Scope.matches` compares it."""

    @abstractmethod
    def coverage(self, scope: Scope, day: int) -> Coverage:
        """The store's coverage of a `scoped` scope on `day`."""

    @abstractmethod
    def subtree_ids(self, org_id: str) -> list[str]:
        """The organization and every organization under it now."""

    @abstractmethod
    def cluster_label(self, key: str | None) -> str:
        """A cluster's label as coverage groups show it; "(none)" for no cluster."""

    @abstractmethod
    def members_on(self, org_id: str, day: int) -> tuple[int, int]:
        """Formal and probationary members of an organization's subtree on `day`; (0, 0) for an unknown id."""

    @abstractmethod
    def organization_facts_on(self, org_id: str, day: int) -> OrganizationFacts | None:
        """The facts the compliance rules read about an organization on `day`, None when it does not stand."""


def simulated_day(as_of: date | None, today: Today) -> int:
    """The day a simulation is about: today or later (the past is history, not a plan)."""
    if as_of is not None and as_of < today():
        raise InvalidArgument(f"a simulation is about today ({today()}) or later, not {as_of}")
    return asked_on(as_of, today)


@dataclass(frozen=True)
class Named:
    """The ids a change set names, for a store to gather what it reaches before the
    overlay runs (the module docstring says what a change reaches): the enterprises and
    organizations it writes, those it moves or dissolves (whose subtrees it reaches), and
    every id it names besides, as the checks of graph.changes look them up."""

    credit_codes: frozenset[str] = frozenset()
    organizations: frozenset[str] = frozenset()
    moved: frozenset[str] = frozenset()
    others: frozenset[str] = frozenset()

    @property
    def every(self) -> frozenset[str]:
        """Every id named, whatever its part: each is looked up as any kind of record."""
        return self.credit_codes | self.organizations | self.moved | self.others


def named(changes: Sequence[Change]) -> Named:
    """What `changes` name, by the part each id plays.

    >>> found = named([MoveOrganization("B1", "C2"), CoverEnterprises("J1", (" 91430100ma4l0001x1",))])
    >>> sorted(found.moved), sorted(found.organizations), sorted(found.credit_codes), sorted(found.others)
    (['B1'], ['J1'], ['91430100MA4L0001X1'], ['C2'])
    """
    codes: set[str] = set()
    orgs: set[str] = set()
    moved: set[str] = set()
    others: set[str] = set()
    for change in changes:
        if isinstance(change, RegisterEnterprise):
            codes.add(normalised(change.enterprise.credit_code))
            others.update(filter(None, [change.enterprise.cluster_id]))
        elif isinstance(change, UpdateEnterprise):
            codes.add(normalised(change.credit_code))
            others.update(filter(None, [change.cluster_id]))
        elif isinstance(change, CreateOrganization):
            others.update(filter(None, [change.organization.id, change.organization.parent_id]))
        elif isinstance(change, (MoveOrganization, DissolveOrganization)):
            moved.add(change.org_id)
            others.update(filter(None, [getattr(change, "parent_id", None)]))
        elif isinstance(change, (CoverEnterprises, UncoverEnterprises)):
            orgs.add(change.org_id)
            codes.update(normalised(code) for code in change.credit_codes)
        elif isinstance(change, (AddLink, EndLink)):
            others.update((change.source_id, change.target_id))
        elif isinstance(change, (AssignInstructor, UnassignInstructor)):
            codes.add(normalised(change.credit_code))
            others.add(change.instructor_id)
        else:  # the organization it is about: its details or kind
            orgs.add(change.subject())
    return Named(frozenset(codes), frozenset(orgs), frozenset(moved), frozenset(others))


class _Drafted(Side):
    """The store's records with a draft's writes over them."""

    def __init__(self, base: Side, draft: Draft):
        self._base = base
        self.organizations = draft.organizations
        self._draft = draft
        covers: dict[object, Covers] = {}
        assignments: dict[object, Assignment] = {}
        self._upgraded: dict[str, list[Upgrade]] = {}
        for write in draft.writes:
            if isinstance(write.after, Covers):
                covers[key_of("coverage", write.after)] = write.after
            elif isinstance(write.after, Assignment):
                assignments[key_of("assignments", write.after)] = write.after
            elif isinstance(write.after, Upgrade):
                self._upgraded.setdefault(write.after.org_id, []).append(write.after)
        self._written_covers, self._written_assignments = covers, assignments
        self._new_covers: dict[str, list[Covers]] = {}
        self._new_covers_of: dict[str, list[Covers]] = {}
        for key, cover in covers.items():
            if key not in draft.records.covers:
                self._new_covers.setdefault(cover.credit_code, []).append(cover)
                self._new_covers_of.setdefault(cover.org_id, []).append(cover)
        self._new_assignments: dict[str, list[Assignment]] = {}
        for key, assignment in assignments.items():
            if key not in draft.records.assignments:
                self._new_assignments.setdefault(assignment.credit_code, []).append(assignment)

    def load(self, codes: Iterable[str]) -> None:
        self._base.load(codes)

    def enterprise(self, code: str) -> Enterprise | None:
        changed = self._draft.enterprise_changes.get(code)
        return changed if changed is not None else self._base.enterprise(code)

    def covers_to(self, code: str) -> list[Covers]:
        written = self._written_covers
        kept = [written.get(key_of("coverage", c), c) for c in self._base.covers_to(code)]
        return kept + self._new_covers.get(code, [])

    def covers_of(self, org_id: str) -> list[Covers]:
        written = self._written_covers
        kept = [written.get(key_of("coverage", c), c) for c in self._base.covers_of(org_id)]
        return kept + self._new_covers_of.get(org_id, [])

    def assignments_to(self, code: str) -> list[Assignment]:
        written = self._written_assignments
        kept = [written.get(key_of("assignments", a), a) for a in self._base.assignments_to(code)]
        return kept + self._new_assignments.get(code, [])

    def upgrades(self, org_id: str) -> list[Upgrade]:
        return [*self._base.upgrades(org_id), *self._upgraded.get(org_id, [])]


@dataclass(frozen=True, slots=True)
class _Row:
    """One enterprise as a side sees it on the day."""

    enterprise: Enterprise
    counted: bool
    organized: bool  # a COVERS edge holds, whatever its status
    own: bool  # ... from an organization that is not a joint branch
    worked: bool  # an instructor's assignment holds
    cluster: str | None
    in_scope: bool
    covering: tuple[str, ...]  # organizations whose edge holds


def _rows(side: Side, codes: Iterable[str], day: int, scope: Scope) -> dict[str, _Row]:
    on = date.fromordinal(day)
    found = {}
    side.load(codes)
    for code in codes:
        enterprise = side.enterprise(code)
        if enterprise is None:
            continue
        holding = [c for c in side.covers_to(code) if side.holds(c, day)]
        cluster = side.cluster_of(enterprise)
        found[code] = _Row(
            enterprise,
            counts_on(enterprise, day),
            bool(holding),
            any(side.organizations[c.org_id].kind is not OrgKind.JOINT_BRANCH for c in holding),
            any(holds_on(a.since, a.until, on) for a in side.assignments_to(code)),
            cluster,
            scope.matches(enterprise, cluster),
            tuple(c.org_id for c in holding),
        )
    return found


def _coverage(rows: Iterable[_Row], organizations: int = 0) -> Coverage:
    counted = [r for r in rows if r.counted and r.in_scope]
    return Coverage(
        len(counted),
        sum(r.organized for r in counted),
        sum(r.worked and not r.organized for r in counted),
        sum(r.enterprise.formal_members for r in counted),
        organizations,
    )


def _counting(rows: Mapping[str, _Row], orgs: Iterable[str]) -> dict[str, set[str | None]]:
    """Per organization: the clusters of the counted enterprises in scope its edges reach."""
    found: dict[str, set[str | None]] = {org: set() for org in orgs}
    for row in rows.values():
        if row.counted and row.in_scope:
            for org in row.covering:
                if org in found:
                    found[org].add(row.cluster)
    return found


def _members(side: Side, rows: Mapping[str, _Row]) -> dict[str, tuple[int, int]]:
    """Formal and probationary members each organization gets from `rows` (its subtree's ACTIVE enterprises)."""
    found: dict[str, tuple[int, int]] = {}
    for row in rows.values():
        if not row.counted:
            continue
        above = {a for org in row.covering for a in side.ancestors(org)}
        for org in above:
            formal, probationary = found.get(org, (0, 0))
            found[org] = (formal + row.enterprise.formal_members, probationary + row.enterprise.probationary_members)
    return found


def simulate(base: Baseline, changes: Sequence[Change], scope: Scope, day: int, rules: RuleConfig) -> Simulation:
    """The effect of `changes` on `day` (today or later), nothing written; ChangeRejected as a write would."""
    draft = apply_changes(base.draft(), changes)
    before_side, after_side = base, _Drafted(base, draft)
    codes, orgs = _reach(base, draft, before_side, after_side)
    reached = sorted(codes)  # findings come out in one order, whatever the process
    scope = base.scoped(scope)
    coverage_before = base.coverage(scope, day)
    before, after = _rows(before_side, reached, day, scope), _rows(after_side, reached, day, scope)

    counting = _counting(before, orgs), _counting(after, orgs)
    organizations = sum(map(bool, counting[1].values())) - sum(map(bool, counting[0].values()))
    difference = _coverage(after.values(), organizations) - _coverage(before.values())
    clusters = _cluster_differences(base, before, after, counting)
    created, resolved = _findings(base, (before_side, after_side), (before, after), orgs, day, rules)
    return Simulation(
        date.fromordinal(day), len(changes), coverage_before, coverage_before + difference, clusters, created, resolved
    )


def _reach(base: Baseline, draft: Draft, before: Side, after: Side) -> tuple[set[str], set[str]]:
    """The enterprises (credit codes) and organizations (ids) the draft's writes reach: see the module docstring."""
    codes: set[str] = set()
    orgs: set[str] = set()
    for write in draft.writes:
        record = write.after
        if write.table in ("enterprises", "coverage", "assignments"):
            codes.add(record.credit_code)  # type: ignore[union-attr]
        elif write.table == "organizations":
            orgs.add(record.id)  # type: ignore[union-attr]
            was = write.before
            if isinstance(was, Organization) and (was.parent_id, was.dissolved_on) != (
                record.parent_id,  # type: ignore[union-attr]
                record.dissolved_on,  # type: ignore[union-attr]
            ):
                for moved in base.subtree_ids(was.id):
                    orgs.add(moved)
                    codes.update(c.credit_code for c in before.covers_of(moved))
    for side in (before, after):
        for code in list(codes):
            orgs.update(c.org_id for c in side.covers_to(code))
    for side in (before, after):
        for org in list(orgs):
            codes.update(c.credit_code for c in side.covers_of(org))
    return codes, orgs


def _cluster_differences(
    base: Baseline,
    before: Mapping[str, _Row],
    after: Mapping[str, _Row],
    counting: tuple[dict[str, set[str | None]], dict[str, set[str | None]]],
) -> list[CoverageGroup]:
    keys = {r.cluster for side in (before, after) for r in side.values()}
    found = []
    for key in sorted(keys, key=lambda k: k or ""):
        organizations = [sum(key in clusters for clusters in side.values()) for side in counting]
        change = _coverage((r for r in after.values() if r.cluster == key), organizations[1]) - _coverage(
            (r for r in before.values() if r.cluster == key), organizations[0]
        )
        if change != Coverage():
            found.append(CoverageGroup(key or "", base.cluster_label(key), change))
    return found


def _findings(
    base: Baseline,
    sides: tuple[Side, Side],
    rows: tuple[Mapping[str, _Row], Mapping[str, _Row]],
    orgs: set[str],
    day: int,
    rules: RuleConfig,
) -> tuple[list[Finding], list[Finding]]:
    """The findings about what the changes reach, on each side: (created, resolved). `orgs` are
    the organizations the changes reach (those written among them); the ones above them
    only gain or lose members."""
    members = [_members(side, side_rows) for side, side_rows in zip(sides, rows, strict=True)]
    found = []
    for side, side_rows, side_members in zip(sides, rows, members, strict=True):
        findings = _enterprise_findings(list(side_rows.values()), rules)
        for org_id in sorted(orgs | set(members[0]) | set(members[1])):
            now, was = side_members.get(org_id, (0, 0)), members[0].get(org_id, (0, 0))
            change = (now[0] - was[0], now[1] - was[1])
            if org_id in orgs:
                facts = _organization_facts(base, side, org_id, side_rows, change, day)
            elif (facts := base.organization_facts_on(org_id, day)) is not None:
                facts = replace(facts, formal=facts.formal + change[0], members=facts.members + sum(change))
            if facts is not None:
                findings += organization_findings(facts, rules, date.fromordinal(day))
        found.append({(f.rule, f.subject_id): f for f in findings})
    before, after = found
    created = [f for key, f in after.items() if key not in before]
    resolved = [f for key, f in before.items() if key not in after]
    return created, resolved


def _enterprise_findings(rows: list[_Row], rules: RuleConfig) -> list[Finding]:
    enterprises = [r.enterprise for r in rows]
    facts = EnterpriseFacts(
        active=np.array([r.counted for r in rows], dtype=bool),
        formal=np.array([e.formal_members for e in enterprises], dtype=np.int64),
        employees=np.array([-1 if e.employees is None else e.employees for e in enterprises], dtype=np.int64),
        above_scale=np.array([e.above_scale for e in enterprises], dtype=bool),
        own_organization=np.array([r.own for r in rows], dtype=bool),
        organization_covered=np.array([r.organized for r in rows], dtype=bool),
    )
    return [
        enterprise_finding(code, rules, rows[i].enterprise, rows[i].own, rows[i].organized)
        for code, mask in enterprise_masks(facts, rules).items()
        for i in np.flatnonzero(mask).tolist()
    ]


def _organization_facts(
    base: Baseline,
    side: Side,
    org_id: str,
    rows: Mapping[str, _Row],
    change: tuple[int, int],
    day: int,
) -> OrganizationFacts | None:
    """The facts of an organization the changes reach, on one side: its edges as the side
    has them, its members as the store counts them plus `change` (formal, probationary)."""
    org = side.organizations.get(org_id)
    on = date.fromordinal(day)
    if org is None or not org.standing_on(on):
        return None
    formal, probationary = base.members_on(org_id, day)
    formal, probationary = formal + change[0], probationary + change[1]
    covered = [rows[c.credit_code] for c in side.covers_of(org_id) if c.credit_code in rows and side.holds(c, day)]
    live = [r for r in covered if day_number(r.enterprise.registered_on) <= day]
    inactive = tuple((r.enterprise.name, r.enterprise.status) for r in live if not r.counted)
    attached = any(side.organizations[a].kind in ATTACHING for a in side.ancestors(org_id)[1:])
    return OrganizationFacts(side.kind_on(org, on), formal, formal + probationary, len(live), inactive, attached)
