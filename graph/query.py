"""Value types for the questions a store answers: scopes, filters, groupings, pages.

A scope is a value the store understands, so every backend applies it the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Generic, TypeVar

from graph.model import Category, Enterprise, OrgKind, Status

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Scope:
    """Which enterprises a question is about; set fields combine with AND."""

    park: str | None = None
    chain: str | None = None
    cluster: str | None = None
    building: str | None = None
    category: Category | None = None

    def matches(self, enterprise: Enterprise, cluster_id: str | None) -> bool:
        """Whether an enterprise, under the cluster `cluster_id`, is in the scope (`cluster` given as an id).

        >>> Scope(park="麓谷").matches(Enterprise("X", "甲", park="麓谷"), None)
        True
        """
        return (
            (self.park is None or enterprise.park == self.park)
            and (self.chain is None or enterprise.chain == self.chain)
            and (self.cluster is None or cluster_id == self.cluster)
            and (self.building is None or enterprise.building == self.building)
            and (self.category is None or enterprise.category is self.category)
        )


class GroupBy(StrEnum):
    PARK = "PARK"
    CHAIN = "CHAIN"
    CLUSTER = "CLUSTER"
    BUILDING = "BUILDING"
    CATEGORY = "CATEGORY"


class TrendStep(StrEnum):
    MONTH = "MONTH"
    QUARTER = "QUARTER"
    YEAR = "YEAR"

    @property
    def months(self) -> int:
        return {"MONTH": 1, "QUARTER": 3, "YEAR": 12}[self.value]


class CoverageState(StrEnum):
    """How an enterprise is reached by party work (两个覆盖)."""

    ORGANIZATION = "ORGANIZATION"  # covered by its own or a joint organization
    WORK = "WORK"  # no organization, but an instructor is assigned
    NONE = "NONE"


@dataclass(frozen=True, slots=True)
class Coverage:
    """Coverage counts of the ACTIVE enterprises in a scope."""

    enterprises: int = 0
    organization_covered: int = 0
    work_covered: int = 0
    formal_members: int = 0
    organizations: int = 0

    def __add__(self, other: Coverage) -> Coverage:
        """Counts of two disjoint sets of enterprises (an organization reaching both counts twice)."""
        return Coverage(
            self.enterprises + other.enterprises,
            self.organization_covered + other.organization_covered,
            self.work_covered + other.work_covered,
            self.formal_members + other.formal_members,
            self.organizations + other.organizations,
        )

    def __sub__(self, other: Coverage) -> Coverage:
        """The change from `other` to these counts, field by field (negative: fewer)."""
        return Coverage(
            self.enterprises - other.enterprises,
            self.organization_covered - other.organization_covered,
            self.work_covered - other.work_covered,
            self.formal_members - other.formal_members,
            self.organizations - other.organizations,
        )

    @property
    def uncovered(self) -> int:
        return self.enterprises - self.organization_covered - self.work_covered

    @property
    def organization_rate(self) -> float:
        return self.organization_covered / self.enterprises if self.enterprises else 0.0

    @property
    def work_rate(self) -> float:
        reached = self.organization_covered + self.work_covered
        return reached / self.enterprises if self.enterprises else 0.0


@dataclass(frozen=True, slots=True)
class CoverageGroup:
    """Coverage of one group; `key` is the value to put in a Scope to drill into it."""

    key: str
    label: str
    coverage: Coverage


@dataclass(frozen=True, slots=True)
class EnterpriseFilter:
    scope: Scope = Scope()
    status: Status | None = None
    coverage: CoverageState | None = None
    name_contains: str | None = None
    key: bool | None = None
    above_scale: bool | None = None
    min_formal_members: int | None = None


@dataclass(frozen=True, slots=True)
class OrganizationFilter:
    """Which organizations to list; set fields combine with AND. `scope`: those covering an
    enterprise counted in it today (enterprise-level organizations only)."""

    kinds: frozenset[OrgKind] | None = None
    parent_id: str | None = None
    name_contains: str | None = None
    term_ends_before: date | None = None
    term_ends_after: date | None = None
    min_stars: int | None = None
    min_points: int | None = None
    scope: Scope | None = None


class OrganizationOrder(StrEnum):
    """How a list of organizations is ordered; ties keep the ledger's order."""

    LEDGER = "LEDGER"
    STARS = "STARS"  # most stars first (达标创星), unrated last
    POINTS = "POINTS"  # most points first (积分), none last
    TERM_ENDS = "TERM_ENDS"  # soonest term end first (换届), none last


class OrganizationGrouping(StrEnum):
    """What organizations are counted by."""

    KIND = "KIND"
    MODE = "MODE"  # 组建方式


@dataclass(frozen=True, slots=True)
class OrganizationCount:
    """How many organizations one kind or formation mode has; `key` "" for none recorded."""

    key: str
    label: str
    count: int


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a longer, stably ordered result."""

    items: list[T]
    total: int
    offset: int

    @property
    def has_next(self) -> bool:
        return self.offset + len(self.items) < self.total
