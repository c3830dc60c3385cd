"""GraphQL input types and their conversion to graph query values."""

from __future__ import annotations

from datetime import date

import strawberry

from graph import query
from schema.types import Category, CoverageState, EnterpriseStatus, OrganizationKind


@strawberry.input(description="Which enterprises a question is about; set fields combine with AND.")
class ScopeInput:
    park: str | None = None
    chain: str | None = None
    cluster: strawberry.ID | None = None
    building: str | None = None
    category: Category | None = None

    def to_scope(self) -> query.Scope:
        return query.Scope(
            park=self.park, chain=self.chain, cluster=self.cluster, building=self.building, category=self.category
        )


def scope_of(scope: ScopeInput | None) -> query.Scope:
    return scope.to_scope() if scope else query.Scope()


@strawberry.input
class EnterpriseFilter:
    scope: ScopeInput | None = None
    status: EnterpriseStatus | None = None
    coverage: CoverageState | None = strawberry.field(default=None, description="Coverage state as of now.")
    name_contains: str | None = None
    key: bool | None = None
    above_scale: bool | None = None
    min_formal_members: int | None = None

    def to_filter(self) -> query.EnterpriseFilter:
        return query.EnterpriseFilter(
            scope=scope_of(self.scope),
            status=self.status,
            coverage=self.coverage,
            name_contains=self.name_contains,
            key=self.key,
            above_scale=self.above_scale,
            min_formal_members=self.min_formal_members,
        )


@strawberry.input
class OrganizationFilter:
    kinds: list[OrganizationKind] | None = None
    parent_id: strawberry.ID | None = None
    name_contains: str | None = None
    term_ends_before: date | None = strawberry.field(default=None, description="Terms ending on or before this date.")

    def to_filter(self) -> query.OrganizationFilter:
        return query.OrganizationFilter(
            kinds=frozenset(self.kinds) if self.kinds else None,
            parent_id=self.parent_id,
            name_contains=self.name_contains,
            term_ends_before=self.term_ends_before,
        )
