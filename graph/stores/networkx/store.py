"""The embedded store: organizations as a networkx graph, enterprises as columns.

The graph holds what is a graph: organizations and their PART_OF tree, departments,
instructors, parks and buildings, and LINK edges. The million enterprises live in an
`EnterpriseTable`; COVERS and ASSIGNED edges are index arrays into it, and coverage
questions go to a `CoverageIndex` built once. Work that grows with the data runs in a
worker thread, off the event loop.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import date

import networkx as nx
import numpy as np

from graph.access import Boundary, World, world_of
from graph.adjacency import Adjacency
from graph.changes import Change, Receipt
from graph.charts.tree import NAMES_PER_BRANCH, OrganizationTree, TreeOrganization, standing_root
from graph.compliance import (
    Audit,
    ComplianceGroup,
    EnterpriseFacts,
    Finding,
    OrganizationFacts,
    RuleConfig,
    RuleCount,
)
from graph.coverage import assignment_spans, cover_spans, coverage_index
from graph.dataset import Dataset
from graph.errors import InvalidArgument, NotFound, ReadOnly
from graph.memo import memo
from graph.model import (
    Assignment,
    Building,
    Covers,
    Department,
    EdgeKind,
    Enterprise,
    Instructor,
    Link,
    LinkKind,
    Members,
    Organization,
    OrganizationHistory,
    OrgKind,
    Park,
    PartOf,
    Status,
    Upgrade,
    as_on,
    holds_on,
)
from graph.organizations import Alliance, alliances, attached, counted, listed, ordered
from graph.pairing import pair_departments
from graph.query import (
    Coverage,
    CoverageGroup,
    CoverageState,
    EnterpriseFilter,
    GroupBy,
    OrganizationCount,
    OrganizationFilter,
    OrganizationGrouping,
    OrganizationOrder,
    Page,
    Scope,
)
from graph.records import Records
from graph.rules import (
    NEVER,
    STATUSES,
    Today,
    asked_on,
    counted_at,
    day_number,
)
from graph.simulation import simulate, simulated_day
from graph.stores.answers import (
    NEIGHBOURS_PER_KIND,
    Candidates,
    JointBranchNearby,
    Matching,
    Near,
    Neighbour,
    Neighbourhood,
    Proximity,
    Simulation,
)
from graph.stores.networkx.overlay import StoreSide
from graph.threads import offload

Node = tuple[str, ...]


def organization_node(org_id: str) -> Node:
    return ("organization", org_id)


def _dissolved_by(org: Organization, day: date) -> bool:
    return org.dissolved_on is not None and org.dissolved_on <= day


class NetworkxStore:
    """An in-memory OrgStore over one validated Dataset."""

    def __init__(self, dataset: Dataset, today: Today = date.today):
        self.today = today
        self.world: World | None = None  # the world this store holds, when it is a bounded one
        self.whole: NetworkxStore | None = None  # and the store it was bounded from
        self._worlds: dict[Boundary, NetworkxStore] = {}
        self._worlds_lock = threading.Lock()
        self._department_ids = {d.id for d in dataset.departments}
        self._instructor_ids = {i.id for i in dataset.instructors}
        self.dataset = dataset
        self.table = table = dataset.enterprises
        self._summary = dataset.summary()
        self._organizations = dataset.organizations
        self._org_index = {org.id: i for i, org in enumerate(dataset.organizations)}
        self._parent = np.array(
            [self._org_index.get(o.parent_id, -1) if o.parent_id else -1 for o in dataset.organizations], dtype=np.int64
        )
        self._kids: list[list[int]] = [[] for _ in dataset.organizations]
        for child, parent in enumerate(self._parent.tolist()):
            if parent >= 0:
                self._kids[parent].append(child)
        self._parks = sorted(key for key in table.park.keys if key is not None)
        self._buildings = [Building(park, name) for park, name in table.buildings()]
        self.graph = self._build_graph(dataset)

        covers, orgs = dataset.covers, dataset.organizations
        self._covers = covers
        self._established = np.array([day_number(o.established_on) for o in orgs], dtype=np.int64)
        self._dissolved = np.array([day_number(o.dissolved_on, NEVER) for o in orgs], dtype=np.int64)
        edges = cover_spans(dataset)
        self.edge_org, self.edge_row, self.edge_since, self.edge_until = (
            edges.owner,
            edges.row,
            edges.since,
            edges.until,
        )
        self._edges_of = Adjacency(self.edge_org, np.arange(len(self.edge_org)))
        self._edges_to = Adjacency(self.edge_row, np.arange(len(self.edge_org)))

        self._assignments = dataset.assignments
        self._instructor_list = list(dataset.instructors)
        assigned = assignment_spans(dataset)
        self._assigned = Adjacency(assigned.row, np.arange(len(dataset.assignments)))
        self._assigned_spans = assigned

        self.index = coverage_index(dataset, edges, assigned)
        self._cluster = self.index.dimensions[GroupBy.CLUSTER][0]
        joint = np.array([o.kind is OrgKind.JOINT_BRANCH for o in orgs], dtype=bool)
        self._own_edges = self.index.edges.picked(~joint[self.edge_org])
        self._attached = np.array(attached(orgs), dtype=bool)
        self._past_parents: dict[int, list[PartOf]] = {}
        for past in dataset.past_parents:
            self._past_parents.setdefault(self._org_index[past.org_id], []).append(past)
        self._upgrades: dict[str, list[Upgrade]] = {}
        for upgrade in sorted(dataset.upgrades, key=lambda u: u.on):
            self._upgrades.setdefault(upgrade.org_id, []).append(upgrade)

    # -- building ----------------------------------------------------------------

    def _build_graph(self, dataset: Dataset) -> nx.MultiDiGraph[Node]:
        graph: nx.MultiDiGraph[Node] = nx.MultiDiGraph()
        for park in self._parks:
            graph.add_node(("park", park), record=Park(park))
        for building in self._buildings:
            graph.add_node(("building", building.park, building.name), record=building)
            graph.add_edge(("building", building.park, building.name), ("park", building.park), key=EdgeKind.LOCATED_IN)
        for org in dataset.organizations:
            graph.add_node(organization_node(org.id), record=org)
        for department in dataset.departments:
            graph.add_node(("department", department.id), record=department)
        for instructor in dataset.instructors:
            graph.add_node(("instructor", instructor.id), record=instructor)
        for org in dataset.organizations:
            if org.parent_id:
                graph.add_edge(organization_node(org.id), organization_node(org.parent_id), key=EdgeKind.PART_OF)
        for link in dataset.links:
            graph.add_edge(self._node_of(graph, link.source_id), self._node_of(graph, link.target_id), key=link)
        return graph

    def _node_of(self, graph: nx.MultiDiGraph[Node], some_id: str) -> Node:
        """The node an id names: an organization, a department, else an enterprise."""
        for kind in ("organization", "department"):
            if (kind, some_id) in graph:
                return (kind, some_id)
        return ("enterprise", some_id)

    # -- helpers -----------------------------------------------------------------

    def _records(self, found: list[np.ndarray]) -> list[list[Enterprise]]:
        flat = self.table.records(np.concatenate(found) if found else np.empty(0, np.int64))
        lists, start = [], 0
        for rows in found:
            lists.append(flat[start : start + len(rows)])
            start += len(rows)
        return lists

    @memo(4)
    def _live_covers(self, day: int) -> tuple[np.ndarray, np.ndarray]:
        """Masks over the COVERS edges: in effect on `day` (edge and enterprise), and of
        those, the ones to an enterprise no longer ACTIVE."""
        rows = self.edge_row
        live = (self.table.registered[rows] <= day) & (self.edge_since <= day) & (day < self.edge_until)
        return live, live & (self.index.inactive[rows] <= self.index.grid.position(day))

    @memo(4)
    def _parents(self, day: int) -> np.ndarray:
        """Each organization's parent (its index, -1 for none) on `day`: the PART_OF edge then in effect."""
        if not self._past_parents:
            return self._parent
        parents, on = self._parent.copy(), date.fromordinal(day)
        for org, past in self._past_parents.items():
            held = [p for p in past if holds_on(p.since, p.until, on)]
            if held:
                parents[org] = self._org_index[held[0].parent_id]
        return parents

    def _kind_on(self, org: Organization, day: date) -> Organization:
        """The organization as it was on `day`: its kind before any upgrade after then."""
        return as_on(org, self._upgrades.get(org.id, ()), day)

    @memo(4)
    def _subtree(self, day: int) -> tuple[np.ndarray, np.ndarray]:
        """(organization, row) pairs, distinct: each enterprise registered by `day` that a COVERS
        edge in effect reaches, for its organization and every organization above it."""
        table = self.table
        live, _ = self._live_covers(day)
        org, row = self.edge_org[live], self.edge_row[live]
        pairs, parents = [], self._parents(day)
        while org.size:
            pairs.append(org * table.size + row)
            parent = parents[org]
            org, row = parent[parent >= 0], row[parent >= 0]
        unique = np.unique(np.concatenate(pairs)) if pairs else np.empty(0, np.int64)
        size = max(table.size, 1)
        return unique // size, unique % size

    @memo(4)
    def _members_at(self, day: int) -> tuple[np.ndarray, np.ndarray]:
        """Formal and probationary members per organization, over the ACTIVE enterprises of its subtree."""
        owner, row = self._subtree(day)
        active = self.index.inactive[row] > self.index.grid.position(day)
        owner, row, size = owner[active], row[active], len(self._organizations)
        formal = np.bincount(owner, weights=self.table.formal[row], minlength=size).astype(np.int64)
        probationary = np.bincount(owner, weights=self.table.probationary[row], minlength=size).astype(np.int64)
        return formal, probationary

    # -- simulation (graph.stores.networkx.overlay reads these) --------------------

    def bounded(self, boundary: Boundary) -> NetworkxStore:
        """The store of the boundary's world (graph.access), built on first use and kept with
        this store (one build at a time; a state's next version starts afresh)."""
        if boundary.everywhere:
            return self
        with self._worlds_lock:
            if (found := self._worlds.get(boundary)) is None:
                world = world_of(self.dataset, boundary)
                found = NetworkxStore(world.dataset, self.today)
                found.world, found.whole = world, self
                self._worlds[boundary] = found
            return found

    def known(self, ids: Collection[str]) -> set[str]:
        """Of `ids`, those naming a record here: an organization, department, instructor or enterprise."""
        ids = list(ids)
        named = {i for i in ids if i in self._org_index or i in self._department_ids or i in self._instructor_ids}
        rows = self.table.rows_of(ids)
        return named | {i for i, row in zip(ids, rows.tolist(), strict=True) if row >= 0}

    def left_out(self, ids: Collection[str]) -> set[str]:
        """Of `ids`, those naming a record of the whole graph that this bounded store's world leaves out."""
        return set() if self.whole is None else self.whole.known(ids) - self.known(ids)

    @memo(1)
    def records(self) -> Records:
        """The records of this store's dataset, for drafts of change sets (built when first asked)."""
        return Records.of(self.dataset)

    def subtree_ids(self, org_id: str) -> list[str]:
        """The organization and every organization under it now."""
        found, index = [], self._org_index.get(org_id)
        stack = [] if index is None else [index]
        while stack:
            at = stack.pop()
            found.append(self._organizations[at].id)
            stack.extend(self._kids[at])
        return found

    def covers_lookup(self, rows: np.ndarray) -> list[list[Covers]]:
        """Every COVERS edge to each enterprise row, ended ones too, in ledger order."""
        return [[self._covers[e] for e in edges.tolist()] for edges in self._edges_to.lookup(rows)]

    def assignments_lookup(self, rows: np.ndarray) -> list[list[Assignment]]:
        """Every assignment to each enterprise row, ended ones too."""
        return [[self._assignments[e] for e in found.tolist()] for found in self._assigned.lookup(rows)]

    def covers_of_organization(self, org_id: str) -> list[Covers]:
        """Every COVERS edge of an organization, ended ones too."""
        index = self._org_index.get(org_id)
        return [] if index is None else [self._covers[e] for e in self._edges_of.lookup([index])[0].tolist()]

    def upgrades_of(self, org_id: str) -> list[Upgrade]:
        return self._upgrades.get(org_id, [])

    def cluster_label(self, key: str | None) -> str:
        return self.index.group(GroupBy.CLUSTER, self._cluster.code(key) or 0)[1] if key else "(none)"

    def members_on(self, org_id: str, day: int) -> tuple[int, int]:
        """Formal and probationary members of an organization's subtree on `day`; (0, 0) for an unknown id."""
        index = self._org_index.get(org_id)
        if index is None:
            return 0, 0
        formal, probationary = self._members_at(day)
        return int(formal[index]), int(probationary[index])

    def organization_facts_on(self, org_id: str, day: int) -> OrganizationFacts | None:
        index = self._org_index.get(org_id)
        return None if index is None else self._organization_facts(day)[index]

    # -- pairing and planning ----------------------------------------------------

    def _candidates(self, scope: Scope, proximity: Proximity, day: int, max_formal: int) -> Candidates:
        table, index = self.table, self.index
        position = index.grid.position(day)
        eligible = counted_at(index.registered, index.inactive, position) & ~index.organized_at(position)
        eligible &= table.formal < max_formal
        mask = index.scope_mask(scope)
        if mask is not None:
            eligible &= mask
        dimension = {Proximity.BUILDING: table.building, Proximity.PARK: table.park, Proximity.CLUSTER: self._cluster}
        codes, keys = dimension[proximity].codes, dimension[proximity].keys
        rows = np.flatnonzero(eligible & (codes != 0))  # code 0: no building, park or cluster recorded
        if proximity is Proximity.BUILDING:
            parks = table.park.keys
            places = [f"{parks[p]} {keys[b]}" for p, b in zip(table.park.codes[rows].tolist(), codes[rows].tolist(),
                                                             strict=True)]  # fmt: skip
        else:
            places = [self.cluster_label(keys[c]) if proximity is Proximity.CLUSTER else str(keys[c])
                      for c in codes[rows].tolist()]  # fmt: skip
        clusters = self._cluster.keys
        return Candidates(
            [code.decode() for code in table.codes[rows].tolist()], table.formal[rows].tolist(), places,
            [clusters[c] for c in self._cluster.codes[rows].tolist()],
            index.assignments.reaching(rows, position).tolist(),
            int(np.count_nonzero(eligible)) - len(rows),
        )  # fmt: skip

    def _paired_rows(self, day: int) -> tuple[np.ndarray, dict[str, set[int]]]:
        """Rows a PAIRING link in effect reaches (the enterprise, or an organization covering it),
        and per department or organization, the rows it is paired with."""
        on, live = date.fromordinal(day), self._live_covers(day)[0]
        paired = np.zeros(self.table.size, dtype=bool)
        by_mentor: dict[str, set[int]] = {}
        for link in self.dataset.links:
            if link.kind is not LinkKind.PAIRING or not holds_on(link.since, link.until, on):
                continue
            for mentor, other in ((link.source_id, link.target_id), (link.target_id, link.source_id)):
                org = self._org_index.get(other)
                if org is not None:
                    edges = self._edges_of.lookup([org])[0]
                    rows = self.edge_row[edges[live[edges]]]
                else:
                    rows = self.table.rows_of([other])
                    rows = rows[rows >= 0]
                paired[rows] = True
                by_mentor.setdefault(mentor, set()).update(rows.tolist())
        return paired, by_mentor

    def _key_enterprises(self, scope: Scope, day: int) -> np.ndarray:
        """Mask of the key enterprises (重点企业) counted in the scope on `day`."""
        index = self.index
        found = self.table.key & counted_at(index.registered, index.inactive, index.grid.position(day))
        mask = index.scope_mask(scope)
        return found if mask is None else found & mask

    def _unpaired_key(self, scope: Scope, offset: int, limit: int) -> Page[Enterprise]:
        day = day_number(self.today())
        rows = np.flatnonzero(self._key_enterprises(scope, day) & ~self._paired_rows(day)[0])
        return Page(self.table.records(rows[offset : offset + limit]), len(rows), offset)

    def _pair_departments(self, scope: Scope, every_department: bool) -> Matching:
        day = day_number(self.today())
        rows = np.flatnonzero(self._key_enterprises(scope, day))
        _, by_mentor = self._paired_rows(day)
        departments = list(self.dataset.departments)
        enterprises = self.table.records(rows)
        paired = {(d.id, e.credit_code) for d in departments for e, row in zip(enterprises, rows.tolist(), strict=True)
                  if row in by_mentor.get(d.id, ())}  # fmt: skip
        loads = [len(by_mentor.get(d.id, ())) for d in departments]
        return Matching(pair_departments(departments, enterprises, paired, loads, every_department), len(rows))

    def _pairings(self, scope: Scope, kinds: frozenset[LinkKind]) -> list[Link]:
        on = self.today()
        links = [k for k in self.dataset.links if k.kind in kinds and holds_on(k.since, k.until, on)]
        mask = self.index.scope_mask(scope)
        if mask is None:
            return links
        owner, row = self._subtree(day_number(on))
        orgs = {self._organizations[i].id for i in np.unique(owner[mask[row]]).tolist()}
        codes = {link_end for link in links for link_end in (link.source_id, link.target_id)} - orgs
        rows = self.table.rows_of(sorted(codes))
        in_scope = {c for c, r in zip(sorted(codes), rows.tolist(), strict=True) if r >= 0 and mask[r]}
        return [k for k in links if {k.source_id, k.target_id} & (orgs | in_scope)]

    def _neighbourhood(self, credit_code: str, max_formal: int) -> Neighbourhood:
        table, day = self.table, day_number(self.today())
        row = int(table.rows_of([credit_code])[0])
        if row < 0:
            raise NotFound(f"no enterprise has the credit code {credit_code!r}")
        asked = table.records([row])[0]
        live, _ = self._live_covers(day)
        holding = [e for e in self._edges_to.lookup([row])[0].tolist() if live[e]]
        covering = [self._organizations[int(self.edge_org[e])] for e in holding]
        if covering:
            names = ", ".join(f"{o.name} ({o.id})" for o in covering)
            raise InvalidArgument(f"{asked.name} is covered by {names} already; suggestions are for one that is not")
        position = self.index.grid.position(day)
        cluster = int(self._cluster.codes[row])
        same_building = (table.building.codes == table.building.codes[row]) & (
            table.park.codes == table.park.codes[row]
        )
        if asked.building is None:
            same_building[:] = False
        same_cluster = (self._cluster.codes == cluster) if cluster else np.zeros(table.size, dtype=bool)
        supply = np.zeros(table.size, dtype=bool)
        partners = [k.target_id if k.source_id == asked.credit_code else k.source_id for k in self.dataset.links
                    if k.kind is LinkKind.SUPPLY and asked.credit_code in (k.source_id, k.target_id)
                    and holds_on(k.since, k.until, self.today())]  # fmt: skip
        supply_rows = table.rows_of(partners)
        supply[supply_rows[supply_rows >= 0]] = True
        near = same_building | same_cluster | supply
        near[row] = False
        rows = np.flatnonzero(near)
        flags = {r: Near(bool(same_building[r]), bool(same_cluster[r]), bool(supply[r])) for r in rows.tolist()}
        counted = counted_at(self.index.registered[rows], self.index.inactive[rows], position)
        organized = self.index.organized_at(position)[rows]
        free = rows[counted & ~organized & (table.formal[rows] < max_formal)]
        # of each kind of nearness, the ones with most members: all a best option can take
        kind = same_building[free] * 4 + same_cluster[free] * 2 + supply[free]
        order = np.lexsort((-table.formal[free].astype(np.int64), kind))
        first = np.searchsorted(kind[order], kind[order], side="left")
        free = free[np.sort(order[np.arange(len(order)) - first < NEIGHBOURS_PER_KIND])]
        neighbours = [Neighbour(e, flags[r]) for e, r in zip(table.records(free), free.tolist(), strict=True)]
        formal, _ = self._members_at(day)
        joint: dict[int, Near] = {}
        edges = np.flatnonzero(live & near[self.edge_row])
        for org, r in zip(self.edge_org[edges].tolist(), self.edge_row[edges].tolist(), strict=True):
            if self._organizations[org].kind is OrgKind.JOINT_BRANCH:
                was, now = joint.get(org, Near()), flags[r]
                joint[org] = Near(was.same_building or now.same_building, was.same_cluster or now.same_cluster,
                                  was.supply_link or now.supply_link)  # fmt: skip
        units = np.bincount(self.edge_org[live], minlength=len(self._organizations))
        cluster_id = self._cluster.keys[cluster] if cluster else None
        return Neighbourhood(
            asked, cluster_id, self.cluster_label(cluster_id) if cluster_id else None,
            [JointBranchNearby(self._organizations[o], int(units[o]), int(formal[o]), n) for o, n in joint.items()],
            neighbours,
        )  # fmt: skip

    # -- compliance --------------------------------------------------------------

    @memo(4)
    def _enterprise_facts(self, day: int) -> EnterpriseFacts:
        table, index = self.table, self.index
        position = index.grid.position(day)
        return EnterpriseFacts(
            active=counted_at(index.registered, index.inactive, position),
            formal=table.formal,
            employees=table.employees,
            above_scale=table.above_scale,
            own_organization=self._own_edges.reached(table.size, position),
            organization_covered=index.organized_at(position),
        )

    @memo(4)
    def _organization_facts(self, day: int) -> list[OrganizationFacts | None]:
        """Facts per organization, None for one not yet established on `day`."""
        formal, probationary = self._members_at(day)
        live, gone = self._live_covers(day)
        units = np.bincount(self.edge_org[live], minlength=len(self._organizations))
        inactive: dict[int, list[tuple[str, Status]]] = {}
        for org, enterprise in zip(self.edge_org[gone].tolist(), self.table.records(self.edge_row[gone]), strict=True):
            inactive.setdefault(org, []).append((enterprise.name, enterprise.status))
        on = date.fromordinal(day)
        columns = zip(
            self._organizations, formal.tolist(), (formal + probationary).tolist(), units.tolist(),
            self._attached.tolist(), self._standing(day), strict=True,
        )  # fmt: skip
        upgraded = self._upgrades
        return [
            OrganizationFacts(
                self._kind_on(org, on) if org.id in upgraded else org, formal, members, units,
                tuple(inactive.get(i, ())), attached,
            )
            if standing
            else None
            for i, (org, formal, members, units, attached, standing) in enumerate(columns)
        ]  # fmt: skip

    def _standing(self, day: int) -> list[bool]:
        """Per organization: established by `day` and not yet dissolved."""
        return ((self._established <= day) & (day < self._dissolved)).tolist()

    @memo(8)  # a report pages through one audit
    def _audit(self, scope: Scope, day: int, rules: RuleConfig) -> Audit:
        mask = self.index.scope_mask(scope)
        facts = self._organization_facts(day)
        if mask is None:
            chosen = [f for f in facts if f is not None]
        else:
            owner, row = self._subtree(day)
            in_scope = np.unique(owner[mask[row]]).tolist()
            chosen = [f for i in in_scope if (f := facts[i]) is not None]
        return Audit(rules, date.fromordinal(day), self._enterprise_facts(day), mask, chosen)

    def _compliance_by(self, by: GroupBy, scope: Scope, day: int, rules: RuleConfig) -> list[ComplianceGroup]:
        """Counts per rule for each group of `by` with enterprises in scope; an organization's
        findings count in every group its subtree covers an enterprise of."""
        audit = self._audit(scope, day, rules)
        dimension = self.index.dimensions[by][0]
        codes, groups = dimension.codes, len(dimension.keys)
        mask = self.index.scope_mask(scope)
        present = np.bincount(codes if mask is None else codes[mask], minlength=groups)
        owner, row = self._subtree(day)
        counts = {}
        for code in audit.order:
            if code in audit.masks:
                counts[code] = np.bincount(codes[audit.masks[code]], minlength=groups)
                continue
            flagged = np.zeros(len(self._organizations), dtype=bool)
            flagged[[self._org_index[f.subject_id] for f in audit.by_rule.get(code, [])]] = True
            picked = flagged[owner] if mask is None else flagged[owner] & mask[row]
            pairs = np.unique(owner[picked].astype(np.int64) * groups + codes[row[picked]])
            counts[code] = np.bincount(pairs % groups, minlength=groups)
        severities = {s.code: s.severity for s in rules.enabled()}
        found = []
        for group in np.flatnonzero(present).tolist():
            key, label = self.index.group(by, group)
            tally = [RuleCount(code, severities[code], int(counts[code][group])) for code in audit.order]
            found.append(ComplianceGroup(key, label, tally))
        return sorted(found, key=lambda group: group.key)

    # -- charts ------------------------------------------------------------------

    def _organization_tree(self, root_id: str, depth: int, day: int, with_links: bool) -> OrganizationTree:
        orgs, on = self._organizations, date.fromordinal(day)
        root = self._org_index.get(root_id, -1)
        standing_root(orgs[root] if root >= 0 else None, root_id, on)
        standing = self._standing(day)
        kids = self._kids_on(day)
        levels = [[root]]
        while len(levels) <= depth and (below := [k for i in levels[-1] for k in kids[i] if standing[k]]):
            levels.append(below)

        formal, probationary = self._members_at(day)
        live, gone = self._live_covers(day)
        active_units = np.bincount(self.edge_org[live & ~gone], minlength=len(orgs)).tolist()
        inactive_units = np.bincount(self.edge_org[gone], minlength=len(orgs)).tolist()
        coverage = self._coverage_above_clusters(day)
        joint = [i for level in levels for i in level if orgs[i].kind is OrgKind.JOINT_BRANCH]
        named: dict[int, list[str]] = {}
        for org, edges in zip(joint, self._edges_of.lookup(joint), strict=True):
            rows = self.edge_row[edges[live[edges] & ~gone[edges]]][:NAMES_PER_BRANCH]
            named[org] = self.table.names_of(rows)
        parents = self._parents(day).tolist()
        found = tuple(
            TreeOrganization(
                replace(self._kind_on(orgs[i], on), parent_id=orgs[parents[i]].id if parents[i] >= 0 else None),
                level,
                Members(int(formal[i]), int(probationary[i])),
                active_units[i],
                inactive_units[i],
                coverage.get(i),
                tuple(named.get(i, ())),
                sum(standing[k] for k in kids[i]),
            )
            for level, members in enumerate(levels)
            for i in members
        )
        if not with_links:
            return OrganizationTree(on, found)
        links, names = self._links_of({orgs[i].id for level in levels for i in level}, day)
        return OrganizationTree(on, found, links, names)

    def _kids_on(self, day: int) -> list[list[int]]:
        """Each organization's children on `day`, by index."""
        if not self._past_parents:
            return self._kids
        kids: list[list[int]] = [[] for _ in self._organizations]
        for child, parent in enumerate(self._parents(day).tolist()):
            if parent >= 0:
                kids[parent].append(child)
        return kids

    def _coverage_above_clusters(self, day: int) -> dict[int, Coverage]:
        """Per organization with clusters in its subtree on `day`: coverage of what those clusters are responsible for."""
        found: dict[int, Coverage] = {}
        parents = self._parents(day)
        for group in self.index.coverage_by(GroupBy.CLUSTER, Scope(), day):
            walk = self._org_index.get(group.key, -1)
            while walk >= 0:
                found[walk] = found[walk] + group.coverage if walk in found else group.coverage
                walk = int(parents[walk])
        return found

    def _links_of(self, ids: set[str], day: int) -> tuple[tuple[Link, ...], dict[str, str]]:
        """LINK edges in effect on `day` touching the organizations `ids`, and the names of their other ends."""
        graph, found = self.graph, set()
        for org_id in ids:
            node = organization_node(org_id)
            for _, _, key in (*graph.out_edges(node, keys=True), *graph.in_edges(node, keys=True)):
                if isinstance(key, Link) and holds_on(key.since, key.until, date.fromordinal(day)):
                    found.add(key)
        links = tuple(sorted(found, key=lambda link: (link.source_id, link.target_id, link.kind)))
        ends = sorted({end for link in links for end in (link.source_id, link.target_id)} - ids)
        names = {}
        for end in ends:
            node = self._node_of(graph, end)
            if node in graph:
                names[end] = graph.nodes[node]["record"].name
        enterprises = [end for end in ends if end not in names]
        rows = self.table.rows_of(enterprises)
        names.update(
            zip((e for e, r in zip(enterprises, rows, strict=True) if r >= 0), self.table.names_of(rows[rows >= 0]))
        )
        return links, names

    def _find_enterprises(self, where: EnterpriseFilter, offset: int, limit: int) -> Page[Enterprise]:
        matching = self._matching(where, day_number(self.today()))
        total = self.table.size if matching is None else len(matching)
        rows = np.arange(offset, min(offset + limit, total)) if matching is None else matching[offset : offset + limit]
        return Page(self.table.records(rows), total, offset)

    @memo(8)  # a listing pages through one filter
    def _matching(self, where: EnterpriseFilter, day: int) -> np.ndarray | None:
        """The rows matching `where` as of `day`, in ledger order; None when it matches all.

        Kept for the last few filters, so the next page of a listing costs a slice."""
        table = self.table
        conditions = [self.index.scope_mask(where.scope)]
        if where.status is not None:
            conditions.append(table.status == STATUSES.index(where.status))
        if where.coverage is not None:
            conditions.append(self.index.state_mask(where.coverage, day))
        if where.name_contains:
            conditions.append(table.name_contains(where.name_contains))
        if where.key is not None:
            conditions.append(table.key == where.key)
        if where.above_scale is not None:
            conditions.append(table.above_scale == where.above_scale)
        if where.min_formal_members is not None:
            conditions.append(table.formal >= where.min_formal_members)
        masks = [mask for mask in conditions if mask is not None]
        if not masks:
            return None
        return np.flatnonzero(np.logical_and.reduce(masks)).astype(np.int32)

    def _find_organizations(
        self, where: OrganizationFilter, offset: int, limit: int, order: OrganizationOrder
    ) -> Page[Organization]:
        today = self.today()
        among: Sequence[Organization] = self._organizations
        if where.scope is not None:
            among = [among[i] for i in self.index.organizations_in(where.scope, day_number(today)).tolist()]
        matches = ordered([org for org in among if listed(org, where, today)], order)
        return Page(matches[offset : offset + limit], len(matches), offset)

    def _organization_counts(self, by: OrganizationGrouping, scope: Scope, day: int) -> list[OrganizationCount]:
        on, orgs = date.fromordinal(day), self._organizations
        return counted((self._kind_on(orgs[i], on) for i in self.index.organizations_in(scope, day).tolist()), by)

    def _alliances(self, scope: Scope, day: int) -> list[Alliance]:
        found = alliances({org.id: org for org in self._organizations}, self.dataset.links, date.fromordinal(day))
        if scope == Scope():
            return found
        inside = {self._organizations[i].id for i in self.index.organizations_in(scope, day).tolist()}
        return [a for a in found if any(m.id in inside for m in a.members)]

    # -- OrgStore ----------------------------------------------------------------

    async def within(self, boundary: Boundary) -> NetworkxStore:
        if boundary.everywhere:
            return self
        built = self._worlds.get(boundary)  # a world built already is answered on the loop
        return built if built is not None else await offload(self.bounded, boundary)

    async def outside(self, ids: Collection[str]) -> set[str]:
        return await offload(self.left_out, ids)

    async def summary(self) -> dict[str, int]:
        return dict(self._summary)

    async def parks(self) -> list[Park]:
        return [Park(name) for name in self._parks]

    async def buildings(self, parks: Sequence[str]) -> list[list[Building]]:
        return [[b for b in self._buildings if b.park == park] for park in parks]

    async def chains(self) -> list[str]:
        return sorted(key for key in self.table.chain.keys if key is not None)

    async def enterprises(self, credit_codes: Sequence[str]) -> list[Enterprise | None]:
        rows = self.table.rows_of(credit_codes)
        found = iter(self.table.records(rows[rows >= 0]))
        return [next(found) if row >= 0 else None for row in rows.tolist()]

    async def organizations(self, ids: Sequence[str]) -> list[Organization | None]:
        return [self._organizations[i] if (i := self._org_index.get(org_id)) is not None else None for org_id in ids]

    async def children(self, ids: Sequence[str]) -> list[list[Organization]]:
        graph, today = self.graph, self.today()
        return [
            [
                record
                for child, _, key in graph.in_edges(node, keys=True)
                if key is EdgeKind.PART_OF and not _dissolved_by(record := graph.nodes[child]["record"], today)
            ]
            if (node := organization_node(i)) in graph
            else []
            for i in ids
        ]

    def _holding_today(self, edges: list[np.ndarray]) -> list[np.ndarray]:
        """Of each list of COVERS edges, those in effect today."""
        today = day_number(self.today())
        return [found[(self.edge_since[found] <= today) & (today < self.edge_until[found])] for found in edges]

    async def covered(self, ids: Sequence[str]) -> list[list[Enterprise]]:
        edges = self._holding_today(self._edges_of.lookup([self._org_index.get(i, -1) for i in ids]))
        return self._records([self.edge_row[found] for found in edges])

    async def covering(self, credit_codes: Sequence[str]) -> list[list[Organization]]:
        edges = self._holding_today(self._edges_to.lookup(self.table.rows_of(credit_codes)))
        return [[self._organizations[i] for i in self.edge_org[found].tolist()] for found in edges]

    async def clusters(self, credit_codes: Sequence[str]) -> list[Organization | None]:
        keys = self._cluster.keys
        found: list[Organization | None] = []
        for row in self.table.rows_of(credit_codes).tolist():
            key = keys[self._cluster.codes[row]] if row >= 0 else None
            found.append(self._organizations[self._org_index[key]] if key else None)
        return found

    async def instructors(self, credit_codes: Sequence[str]) -> list[list[Instructor]]:
        spans, today = self._assigned_spans, day_number(self.today())
        found = self._assigned.lookup(self.table.rows_of(credit_codes))
        held = [edges[(spans.since[edges] <= today) & (today < spans.until[edges])] for edges in found]
        return [[self._instructor_list[int(i)] for i in spans.owner[edges]] for edges in held]

    async def histories(self, ids: Sequence[str]) -> list[OrganizationHistory | None]:
        indexes = [self._org_index.get(some_id) for some_id in ids]
        edges = self._edges_of.lookup([-1 if i is None else i for i in indexes])
        return [
            None
            if i is None
            else OrganizationHistory.of(
                org := self._organizations[i], self._upgrades.get(org.id, []), self._past_parents.get(i, []),
                [self._covers[e] for e in found.tolist()],
            )
            for i, found in zip(indexes, edges, strict=True)
        ]  # fmt: skip

    async def links(self, ids: Sequence[str]) -> list[list[Link]]:
        found: list[list[Link]] = []
        for some_id in ids:
            node = self._node_of(self.graph, some_id)
            if node not in self.graph:
                found.append([])
                continue
            edges = [*self.graph.out_edges(node, keys=True), *self.graph.in_edges(node, keys=True)]
            today = self.today()
            found.append(
                [key for _, _, key in edges if isinstance(key, Link) and (key.until is None or today < key.until)]
            )
        return found

    async def members(self, ids: Sequence[str]) -> list[Members]:
        formal, probationary = self._members_at(day_number(self.today()))
        indexes = [self._org_index.get(i) for i in ids]
        return [Members() if i is None else Members(int(formal[i]), int(probationary[i])) for i in indexes]

    async def coverage_states(self, credit_codes: Sequence[str], as_of: date | None = None) -> list[CoverageState]:
        rows = self.table.rows_of(credit_codes)
        states = self.index.states(np.maximum(rows, 0), asked_on(as_of, self.today))
        return [state if row >= 0 else CoverageState.NONE for state, row in zip(states, rows.tolist(), strict=True)]

    async def find_enterprises(self, where: EnterpriseFilter, offset: int, limit: int) -> Page[Enterprise]:
        return await offload(self._find_enterprises, where, offset, limit)

    async def find_organizations(
        self, where: OrganizationFilter, offset: int, limit: int, order: OrganizationOrder = OrganizationOrder.LEDGER
    ) -> Page[Organization]:
        return await offload(self._find_organizations, where, offset, limit, order)

    async def organization_counts(
        self, by: OrganizationGrouping, scope: Scope, as_of: date | None = None
    ) -> list[OrganizationCount]:
        return await offload(self._organization_counts, by, scope, asked_on(as_of, self.today))

    async def alliances(self, scope: Scope, as_of: date | None = None) -> list[Alliance]:
        return await offload(self._alliances, scope, asked_on(as_of, self.today))

    async def coverage(self, scope: Scope, as_of: date | None = None) -> Coverage:
        return await offload(self.index.coverage, scope, asked_on(as_of, self.today))

    async def coverage_by(self, by: GroupBy, scope: Scope, as_of: date | None = None) -> list[CoverageGroup]:
        return await offload(self.index.coverage_by, by, scope, asked_on(as_of, self.today))

    async def coverage_trend(self, scope: Scope, dates: Sequence[date]) -> list[Coverage]:
        return await offload(self.index.trend, scope, [day_number(day) for day in dates])

    async def compliance(self, scope: Scope, as_of: date | None, rules: RuleConfig) -> list[RuleCount]:
        return (await offload(self._audit, scope, asked_on(as_of, self.today), rules)).counts()

    async def findings(
        self, scope: Scope, as_of: date | None, rules: RuleConfig, offset: int, limit: int
    ) -> Page[Finding]:
        audit = await offload(self._audit, scope, asked_on(as_of, self.today), rules)
        return Page(audit.page(offset, limit, self.table.records), audit.total(), offset)

    async def findings_about(self, ids: Sequence[str], as_of: date | None, rules: RuleConfig) -> list[list[Finding]]:
        audit = await offload(self._audit, Scope(), asked_on(as_of, self.today), rules)
        codes = [i for i in ids if i not in self._org_index]
        rows = self.table.rows_of(codes)
        records = iter(self.table.records(rows[rows >= 0]))
        about = {
            code: audit.about_enterprise(row, next(records))
            for code, row in zip(codes, rows.tolist(), strict=True)
            if row >= 0
        }
        return [audit.by_subject.get(i, []) if i in self._org_index else about.get(i, []) for i in ids]

    async def apply(self, changes: Sequence[Change], who: str, request_id: str | None = None) -> Receipt:
        """A store over one Dataset keeps no changes: serve a state for that."""
        raise ReadOnly

    async def candidates(self, scope: Scope, proximity: Proximity, max_formal: int) -> Candidates:
        return await offload(self._candidates, scope, proximity, day_number(self.today()), max_formal)

    async def neighbourhood(self, credit_code: str, max_formal: int) -> Neighbourhood:
        return await offload(self._neighbourhood, credit_code, max_formal)

    async def departments(self, ids: Sequence[str]) -> list[Department | None]:
        known = {d.id: d for d in self.dataset.departments}
        return [known.get(i) for i in ids]

    async def pairings(self, scope: Scope, kinds: frozenset[LinkKind]) -> list[Link]:
        return await offload(self._pairings, scope, kinds)

    async def unpaired_key_enterprises(self, scope: Scope, offset: int, limit: int) -> Page[Enterprise]:
        return await offload(self._unpaired_key, scope, offset, limit)

    async def pair_departments(self, scope: Scope, every_department: bool = False) -> Matching:
        return await offload(self._pair_departments, scope, every_department)

    async def simulate(
        self, changes: Sequence[Change], scope: Scope, as_of: date | None, rules: RuleConfig
    ) -> Simulation:
        day = simulated_day(as_of, self.today)
        return await offload(simulate, StoreSide(self), changes, scope, day, rules)

    async def organization_tree(
        self, root_id: str, depth: int, as_of: date | None = None, links: bool = False
    ) -> OrganizationTree:
        return await offload(self._organization_tree, root_id, depth, asked_on(as_of, self.today), links)

    async def compliance_by(
        self, by: GroupBy, scope: Scope, as_of: date | None, rules: RuleConfig
    ) -> list[ComplianceGroup]:
        return await offload(self._compliance_by, by, scope, asked_on(as_of, self.today), rules)
