"""GraphQL input types and their conversion to graph query values."""

from __future__ import annotations

from datetime import date

import strawberry

from graph import query
from schema.types import Category, CoverageState, EnterpriseStatus, OrganizationKind


@strawberry.input(description="Which enterprises a question is about; set fields combine with AND.")
class ScopeInput:
    park: str | None = strawberry.field(default=None, description="A park's name (园区).")
    chain: str | None = strawberry.field(default=None, description="An industry chain (产业链).")
    cluster: strawberry.ID | None = strawberry.field(
        default=None, description="A party-mass cluster (党群联组), by its id or its exact name."
    )
    building: str | None = strawberry.field(default=None, description="A building's name (楼宇).")
    category: Category | None = strawberry.field(default=None, description="An industry category (行业类别).")

    def to_scope(self) -> query.Scope:
        return query.Scope(
            park=self.park, chain=self.chain, cluster=self.cluster, building=self.building, category=self.category
        )


def scope_of(scope: ScopeInput | None) -> query.Scope:
    return scope.to_scope() if scope else query.Scope()


@strawberry.input(description="Which enterprises to list; set fields combine with AND.")
class EnterpriseFilter:
    scope: ScopeInput | None = strawberry.field(default=None, description="Where they are.")
    status: EnterpriseStatus | None = strawberry.field(default=None, description="Their status in the ledger.")
    coverage: CoverageState | None = strawberry.field(
        default=None, description="How party work reaches them, as of today (两个覆盖)."
    )
    name_contains: str | None = strawberry.field(default=None, description="Part of the name, any case.")
    key: bool | None = strawberry.field(default=None, description="Key enterprises (重点企业) only, or none of them.")
    above_scale: bool | None = strawberry.field(default=None, description="Above designated size (规上) or not.")
    min_formal_members: int | None = strawberry.field(
        default=None, description="At least this many formal party members (正式党员)."
    )

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


@strawberry.input(description="Which organizations to list; set fields combine with AND.")
class OrganizationFilter:
    kinds: list[OrganizationKind] | None = strawberry.field(default=None, description="Any of these kinds.")
    parent_id: strawberry.ID | None = strawberry.field(default=None, description="Directly part of this one.")
    name_contains: str | None = strawberry.field(default=None, description="Part of the name, any case.")
    term_ends_before: date | None = strawberry.field(default=None, description="Terms ending on or before this date.")
    term_ends_after: date | None = strawberry.field(
        default=None, description="Terms ending on or after this date (with `termEndsBefore`: 换届提醒 for a window)."
    )
    min_stars: int | None = strawberry.field(default=None, description="At least this many stars (星级); unrated: 0.")
    min_points: int | None = strawberry.field(default=None, description="At least this many points (积分); none: 0.")
    scope: ScopeInput | None = strawberry.field(
        default=None,
        description="Only enterprise-level organizations covering an enterprise in this scope today "
        "(those `coverage.organizations` counts).",
    )

    def to_filter(self) -> query.OrganizationFilter:
        return query.OrganizationFilter(
            kinds=frozenset(self.kinds) if self.kinds else None,
            parent_id=self.parent_id,
            name_contains=self.name_contains,
            term_ends_before=self.term_ends_before,
            term_ends_after=self.term_ends_after,
            min_stars=self.min_stars,
            min_points=self.min_points,
            scope=scope_of(self.scope) if self.scope is not None else None,
        )
