"""The store interface the GraphQL layer depends on.

Every method is a whole operation over a batch of keys or a scope, never a
node-by-node walk, so a server-backed store answers each in one round trip and a
page of 100 enterprises with their organizations costs one call, not 100.
Batch methods return one answer per key, in key order (None or [] where unknown).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Protocol, runtime_checkable

from graph.model import Building, Enterprise, Instructor, Link, Members, Organization, Park
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


@runtime_checkable
class OrgStore(Protocol):
    def summary(self) -> dict[str, int]:
        """Counts per node and edge kind."""

    def parks(self) -> list[Park]: ...

    def buildings(self, park: str | None = None) -> list[Building]: ...

    def chains(self) -> list[str]: ...

    def enterprises(self, credit_codes: Sequence[str]) -> list[Enterprise | None]: ...

    def organizations(self, ids: Sequence[str]) -> list[Organization | None]: ...

    def children(self, ids: Sequence[str]) -> list[list[Organization]]:
        """Organizations directly PART_OF each organization."""

    def covered(self, ids: Sequence[str]) -> list[list[Enterprise]]:
        """Enterprises each organization COVERS."""

    def covering(self, credit_codes: Sequence[str]) -> list[list[Organization]]:
        """Organizations covering each enterprise."""

    def clusters(self, credit_codes: Sequence[str]) -> list[Organization | None]:
        """The cluster responsible for each enterprise: declared, else its organization's."""

    def instructors(self, credit_codes: Sequence[str]) -> list[list[Instructor]]: ...

    def links(self, ids: Sequence[str]) -> list[list[Link]]:
        """LINK edges touching each organization, department or enterprise."""

    def members(self, ids: Sequence[str]) -> list[Members]:
        """Members of the ACTIVE enterprises covered by each organization or its subtree."""

    def coverage_states(self, credit_codes: Sequence[str], as_of: date | None = None) -> list[CoverageState]: ...

    def find_enterprises(self, where: EnterpriseFilter, offset: int, limit: int) -> Page[Enterprise]: ...

    def find_organizations(self, where: OrganizationFilter, offset: int, limit: int) -> Page[Organization]: ...

    def coverage(self, scope: Scope, as_of: date | None = None) -> Coverage: ...

    def coverage_by(self, by: GroupBy, scope: Scope, as_of: date | None = None) -> list[CoverageGroup]: ...

    def coverage_trend(self, scope: Scope, dates: Sequence[date]) -> list[Coverage]: ...
