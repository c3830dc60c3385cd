"""The embedded store: a networkx MultiDiGraph plus a columnar coverage index.

The graph holds every node and edge of the model; relationship questions follow its
adjacency (a node's edges, never a scan). Coverage questions go to the
`CoverageIndex`, built once from the graph, because they touch every enterprise.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date

import networkx as nx
import numpy as np

from graph.coverage import CoverageIndex, CoverEdge
from graph.dataset import Dataset
from graph.model import (
    Building,
    EdgeKind,
    Enterprise,
    Instructor,
    Link,
    Members,
    Organization,
    OrgKind,
    Park,
    Status,
)
from graph.query import (
    Coverage,
    CoverageGroup,
    CoverageState,
    EnterpriseFilter,
    GroupBy,
    OrganizationFilter,
    Page,
    Scope,
)

Node = tuple[str, ...]


def enterprise_node(credit_code: str) -> Node:
    return ("enterprise", credit_code)


def organization_node(org_id: str) -> Node:
    return ("organization", org_id)


def later(first: date | None, second: date | None) -> date | None:
    """The later of two dates, where None means "always"."""
    if first is None or second is None:
        return first or second
    return max(first, second)


class NetworkxStore:
    """An in-memory OrgStore over one validated Dataset."""

    def __init__(self, dataset: Dataset):
        self.graph = nx.MultiDiGraph()
        self._dataset = dataset
        self._add_nodes(dataset)
        self._add_edges(dataset)
        self._enterprise_rows = [e.credit_code for e in dataset.enterprises]
        self._members: dict[str, Members] = {}
        self._index = self._build_index(dataset)

    # -- building ----------------------------------------------------------------

    def _add_nodes(self, dataset: Dataset) -> None:
        graph = self.graph
        for enterprise in dataset.enterprises:
            park = ("park", enterprise.park)
            graph.add_node(park, record=Park(enterprise.park))
            node = enterprise_node(enterprise.credit_code)
            graph.add_node(node, record=enterprise)
            if enterprise.building:
                building = ("building", enterprise.park, enterprise.building)
                graph.add_node(building, record=Building(enterprise.park, enterprise.building))
                graph.add_edge(building, park, key=EdgeKind.LOCATED_IN)
                graph.add_edge(node, building, key=EdgeKind.LOCATED_IN)
            else:
                graph.add_edge(node, park, key=EdgeKind.LOCATED_IN)
        for org in dataset.organizations:
            graph.add_node(organization_node(org.id), record=org)
        for department in dataset.departments:
            graph.add_node(("department", department.id), record=department)
        for instructor in dataset.instructors:
            graph.add_node(("instructor", instructor.id), record=instructor)

    def _add_edges(self, dataset: Dataset) -> None:
        graph = self.graph
        for org in dataset.organizations:
            if org.parent_id:
                graph.add_edge(organization_node(org.id), organization_node(org.parent_id), key=EdgeKind.PART_OF)
        for edge in dataset.covers:
            graph.add_edge(
                organization_node(edge.org_id), enterprise_node(edge.credit_code), key=EdgeKind.COVERS, since=edge.since
            )
        for link in dataset.links:
            graph.add_edge(self._node_of(link.source_id), self._node_of(link.target_id), key=link, kind=EdgeKind.LINK)
        for assignment in dataset.assignments:
            graph.add_edge(
                ("instructor", assignment.instructor_id),
                enterprise_node(assignment.credit_code),
                key=EdgeKind.ASSIGNED,
                since=assignment.since,
            )

    def _node_of(self, some_id: str) -> Node:
        for kind in ("organization", "department", "enterprise"):
            if (kind, some_id) in self.graph:
                return (kind, some_id)
        raise KeyError(some_id)

    def _build_index(self, dataset: Dataset) -> CoverageIndex:
        cover_edges = [
            CoverEdge(org.id, enterprise.credit_code, later(org.established_on, since))
            for org, enterprise, since in self._cover_edges()
            if org.kind.is_enterprise_level
        ]
        clusters = self.clusters(self._enterprise_rows)
        return CoverageIndex(
            dataset.enterprises,
            cluster_ids=[cluster.id if cluster else None for cluster in clusters],
            cluster_names={org.id: org.name for org in dataset.organizations if org.kind is OrgKind.CLUSTER},
            covers=cover_edges,
            assignments=[(a.credit_code, a.since) for a in dataset.assignments],
        )

    def _cover_edges(self) -> Iterator[tuple[Organization, Enterprise, date | None]]:
        for source, target, key, since in self.graph.edges(keys=True, data="since"):
            if key is EdgeKind.COVERS:
                yield self._record(source), self._record(target), since

    # -- graph walks (private) -----------------------------------------------------

    def _record(self, node: Node):
        return self.graph.nodes[node]["record"]

    def _neighbours(self, node: Node, edge: EdgeKind, incoming: bool) -> list:
        if node not in self.graph:
            return []
        edges = self.graph.in_edges(node, keys=True) if incoming else self.graph.out_edges(node, keys=True)
        return [self._record(u if incoming else v) for u, v, key in edges if key is edge]

    def _ancestor(self, org: Organization, kind: OrgKind) -> Organization | None:
        while org is not None and org.kind is not kind:
            org = self._record(organization_node(org.parent_id)) if org.parent_id else None
        return org

    def _subtree(self, org_id: str) -> Iterator[Organization]:
        stack = [self._record(organization_node(org_id))]
        while stack:
            org = stack.pop()
            yield org
            stack.extend(self._neighbours(organization_node(org.id), EdgeKind.PART_OF, incoming=True))

    # -- OrgStore ----------------------------------------------------------------

    def summary(self) -> dict[str, int]:
        return self._dataset.summary()

    def parks(self) -> list[Park]:
        return sorted((data for node, data in self.graph.nodes(data="record") if node[0] == "park"), key=lambda p: p.name)

    def buildings(self, park: str | None = None) -> list[Building]:
        found = [
            data
            for node, data in self.graph.nodes(data="record")
            if node[0] == "building" and (park is None or data.park == park)
        ]
        return sorted(found, key=lambda b: (b.park, b.name))

    def chains(self) -> list[str]:
        return sorted(key for key in self._index.columns[GroupBy.CHAIN].keys if key is not None)

    def enterprises(self, credit_codes: Sequence[str]) -> list[Enterprise | None]:
        nodes = self.graph.nodes
        return [nodes[n]["record"] if (n := enterprise_node(code)) in nodes else None for code in credit_codes]

    def organizations(self, ids: Sequence[str]) -> list[Organization | None]:
        nodes = self.graph.nodes
        return [nodes[n]["record"] if (n := organization_node(org_id)) in nodes else None for org_id in ids]

    def children(self, ids: Sequence[str]) -> list[list[Organization]]:
        return [self._neighbours(organization_node(i), EdgeKind.PART_OF, incoming=True) for i in ids]

    def covered(self, ids: Sequence[str]) -> list[list[Enterprise]]:
        return [self._neighbours(organization_node(i), EdgeKind.COVERS, incoming=False) for i in ids]

    def covering(self, credit_codes: Sequence[str]) -> list[list[Organization]]:
        return [self._neighbours(enterprise_node(c), EdgeKind.COVERS, incoming=True) for c in credit_codes]

    def clusters(self, credit_codes: Sequence[str]) -> list[Organization | None]:
        found: list[Organization | None] = []
        for enterprise, covering in zip(self.enterprises(credit_codes), self.covering(credit_codes), strict=True):
            if enterprise is not None and enterprise.cluster_id:
                found.append(self._record(organization_node(enterprise.cluster_id)))
            else:
                found.append(next(filter(None, (self._ancestor(o, OrgKind.CLUSTER) for o in covering)), None))
        return found

    def instructors(self, credit_codes: Sequence[str]) -> list[list[Instructor]]:
        return [self._neighbours(enterprise_node(c), EdgeKind.ASSIGNED, incoming=True) for c in credit_codes]

    def links(self, ids: Sequence[str]) -> list[list[Link]]:
        found = []
        for some_id in ids:
            try:
                node = self._node_of(some_id)
            except KeyError:
                found.append([])
                continue
            edges = [*self.graph.out_edges(node, keys=True), *self.graph.in_edges(node, keys=True)]
            found.append([key for _, _, key in edges if isinstance(key, Link)])
        return found

    def members(self, ids: Sequence[str]) -> list[Members]:
        return [self._members_of(org_id) for org_id in ids]

    def _members_of(self, org_id: str) -> Members:
        if org_id not in self._members:
            if organization_node(org_id) not in self.graph:
                return Members()
            enterprises = {
                e.credit_code: e
                for org in self._subtree(org_id)
                for e in self.covered([org.id])[0]
                if e.status is Status.ACTIVE
            }
            self._members[org_id] = Members(
                formal=sum(e.formal_members for e in enterprises.values()),
                probationary=sum(e.probationary_members for e in enterprises.values()),
            )
        return self._members[org_id]

    def coverage_states(self, credit_codes: Sequence[str], as_of: date | None = None) -> list[CoverageState]:
        rows = np.asarray([self._index.row_of[code] for code in credit_codes], dtype=np.int64)
        return self._index.states(rows, as_of)

    def find_enterprises(self, where: EnterpriseFilter, offset: int, limit: int) -> Page[Enterprise]:
        mask = self._index.scope_mask(where.scope)
        if where.coverage is not None:
            mask &= self._index.state_mask(where.coverage, None)
        needle = where.name_contains.casefold() if where.name_contains else None
        matches = [
            enterprise
            for enterprise in self.enterprises([self._enterprise_rows[row] for row in np.flatnonzero(mask)])
            if (where.status is None or enterprise.status is where.status)
            and (needle is None or needle in enterprise.name.casefold())
            and (where.key is None or enterprise.key is where.key)
            and (where.above_scale is None or enterprise.above_scale is where.above_scale)
            and (where.min_formal_members is None or enterprise.formal_members >= where.min_formal_members)
        ]
        return Page(matches[offset : offset + limit], len(matches), offset)

    def find_organizations(self, where: OrganizationFilter, offset: int, limit: int) -> Page[Organization]:
        needle = where.name_contains.casefold() if where.name_contains else None
        matches = [
            org
            for org in self._dataset.organizations
            if (where.kinds is None or org.kind in where.kinds)
            and (where.parent_id is None or org.parent_id == where.parent_id)
            and (needle is None or needle in org.name.casefold())
            and (
                where.term_ends_before is None
                or (org.term_ends_on is not None and org.term_ends_on <= where.term_ends_before)
            )
        ]
        return Page(matches[offset : offset + limit], len(matches), offset)

    def coverage(self, scope: Scope, as_of: date | None = None) -> Coverage:
        return self._index.coverage(scope, as_of)

    def coverage_by(self, by: GroupBy, scope: Scope, as_of: date | None = None) -> list[CoverageGroup]:
        return self._index.coverage_by(by, scope, as_of)

    def coverage_trend(self, scope: Scope, dates: Sequence[date]) -> list[Coverage]:
        return [self._index.coverage(scope, day) for day in dates]
