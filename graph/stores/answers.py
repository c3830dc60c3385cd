"""The value types the store protocol answers in (graph.stores.protocol).

They are plain records: a store fills them, the domain modules (planner, pairing,
simulation) and the GraphQL layer read them. Keeping them here, apart from the code
that computes with them, lets every store and every algorithm import them without
importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from graph.compliance import Finding
from graph.model import Department, Enterprise, Organization
from graph.query import Coverage, CoverageGroup

# -- planning ------------------------------------------------------------------------


class Proximity(StrEnum):
    """How near enterprises must be to share a joint branch."""

    BUILDING = "BUILDING"  # the same building (楼宇, 众创空间, 商圈)
    PARK = "PARK"
    CLUSTER = "CLUSTER"  # the same party-mass cluster


@dataclass(frozen=True, slots=True)
class Candidates:
    """What a store gathers for the planner: the enterprises a joint branch may take (ACTIVE,
    in scope, no organization, too few formal members for their own), each with its place
    under the proximity, the cluster responsible for it and whether an instructor reaches it."""

    credit_codes: list[str]
    formal: list[int]
    places: list[str]  # the proximity class: a building, a park or a cluster, as a label
    clusters: list[str | None]
    worked: list[bool]
    unplaced: int  # eligible, but with no place under the proximity (no building recorded)

    def classes(self) -> tuple[list[list[int]], list[list[int]]]:
        """(formal members per class, candidate indexes per class), classes in order of place."""
        members: dict[str, list[int]] = {}
        for index, place in enumerate(self.places):
            members.setdefault(place, []).append(index)
        indexes = [members[place] for place in sorted(members)]
        return [[self.formal[i] for i in group] for group in indexes], indexes


# -- pairing -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reason:
    """One reason for a score, and what it adds."""

    says: str
    points: float


NEIGHBOURS_PER_KIND = 25  # neighbours of each kind of nearness a suggestion looks at (more than a branch takes)


@dataclass(frozen=True, slots=True)
class Near:
    """How an enterprise or joint branch is near the one asked about."""

    same_building: bool = False
    same_cluster: bool = False
    supply_link: bool = False


@dataclass(frozen=True, slots=True)
class JointBranchNearby:
    organization: Organization
    units: int  # enterprises it covers now
    formal_members: int
    near: Near


@dataclass(frozen=True, slots=True)
class Neighbour:
    enterprise: Enterprise
    near: Near


@dataclass(frozen=True, slots=True)
class Neighbourhood:
    """What a store gathers about an enterprise with no organization of its own: the joint
    branches near it and the enterprises near it that have no organization either."""

    enterprise: Enterprise
    cluster_id: str | None
    cluster_name: str | None
    joint_branches: list[JointBranchNearby]
    neighbours: list[Neighbour]


@dataclass(frozen=True, slots=True)
class DepartmentPair:
    department: Department
    enterprise: Enterprise
    weight: float
    reasons: list[Reason]


@dataclass(frozen=True, slots=True)
class Matching:
    """Departments paired one to one with key enterprises, out of `key_enterprises` in scope."""

    pairs: list[DepartmentPair]
    key_enterprises: int

    @property
    def total_weight(self) -> float:
        """No one-to-one pairing has more."""
        return round(sum(p.weight for p in self.pairs), 2)


# -- simulation ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Simulation:
    """A change set's effect on one day: coverage of the scope before and after, the change
    per cluster (only clusters that change), and the findings it would create or resolve."""

    day: date
    changes: int
    before: Coverage
    after: Coverage
    clusters: list[CoverageGroup]  # each group's `coverage` is the difference, after minus before
    created: list[Finding]
    resolved: list[Finding]
