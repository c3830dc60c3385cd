"""A validated, self-consistent set of records: what a store is built from."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from graph.enterprises import Dimension, EnterpriseTable
from graph.model import Assignment, Covers, Department, Instructor, Link, Organization, OrgKind, PartOf, Upgrade
from graph.rules import resolve_clusters


@dataclass(frozen=True, eq=False)
class Dataset:
    """Enterprises as columns; the graph's other records as typed values."""

    enterprises: EnterpriseTable
    organizations: tuple[Organization, ...] = ()
    covers: tuple[Covers, ...] = ()
    links: tuple[Link, ...] = ()
    instructors: tuple[Instructor, ...] = ()
    assignments: tuple[Assignment, ...] = ()
    departments: tuple[Department, ...] = ()
    past_parents: tuple[PartOf, ...] = ()  # PART_OF edges that ended when an organization moved
    upgrades: tuple[Upgrade, ...] = ()

    def summary(self) -> dict[str, int]:
        """Counts per node and edge kind, as `chainorg load` prints them."""
        table = self.enterprises
        return summary(
            len(table.park.keys) - 1, len(table.buildings()), len(table), [org.kind for org in self.organizations],
            len(self.departments), len(self.instructors), len(self.covers), len(self.links), len(self.assignments),
        )  # fmt: skip


def summary(
    parks: int, buildings: int, enterprises: int, kinds: Iterable[OrgKind], departments: int, instructors: int,
    covers: int, links: int, assignments: int,
) -> dict[str, int]:  # fmt: skip
    """A graph's counts per node and edge kind, in the order `summary` shows them."""
    counted = Counter(kinds)
    return {
        "parks": parks, "buildings": buildings, "enterprises": enterprises, "organizations": counted.total(),
        **{f"organizations.{kind.value}": n for kind, n in sorted(counted.items())},
        "departments": departments, "instructors": instructors, "covers": covers, "links": links,
        "assignments": assignments,
    }  # fmt: skip


def resolved_clusters(
    dataset: Dataset, edge_org: np.ndarray | None = None, edge_row: np.ndarray | None = None
) -> Dimension:
    """Each enterprise's cluster (rules.resolve_clusters) as codes over the CLUSTER
    organizations' ids. `edge_org` and `edge_row` (each COVERS edge's organization index
    and enterprise row) are worked out when not given."""
    orgs = dataset.organizations
    index = {org.id: i for i, org in enumerate(orgs)}
    if edge_org is None or edge_row is None:
        edge_org = np.array([index[c.org_id] for c in dataset.covers], dtype=np.int64)
        edge_row = dataset.enterprises.rows_of([c.credit_code for c in dataset.covers])
    cluster_ids = [o.id for o in orgs if o.kind is OrgKind.CLUSTER]
    code_of = {cid: n for n, cid in enumerate(cluster_ids, start=1)}
    above = np.zeros(len(orgs), dtype=np.int64)  # the CLUSTER each organization is part of, 0 for none
    for i, org in enumerate(orgs):
        walk: Organization | None = org
        while walk is not None and walk.kind is not OrgKind.CLUSTER:
            walk = orgs[index[walk.parent_id]] if walk.parent_id else None
        above[i] = code_of[walk.id] if walk is not None else 0
    declared_column = dataset.enterprises.declared_cluster
    declared = np.array([0 if key is None else code_of.get(key, 0) for key in declared_column.keys], dtype=np.int64)
    codes = resolve_clusters(declared[declared_column.codes], edge_row, above[edge_org])
    return Dimension([None, *cluster_ids], codes.astype(np.int16 if len(cluster_ids) < 32_000 else np.int32))
