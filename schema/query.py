"""The Query root: each resolver is one store call."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from graph.calendar import trend_dates
from schema.context import ChainorgInfo
from schema.inputs import EnterpriseFilter, OrganizationFilter, ScopeInput, scope_of
from schema.lookahead import prefetch
from schema.pagination import offset_after, page_info, page_size
from schema.types import (
    Coverage,
    CoverageGroup,
    Enterprise,
    EnterpriseConnection,
    GroupBy,
    Organization,
    OrganizationConnection,
    Park,
    TrendPoint,
    TrendStep,
)


@strawberry.type
class Query:
    @strawberry.field(description="Coverage of a scope, as of a date (default: today).")
    async def coverage(
        self, info: ChainorgInfo, scope: ScopeInput | None = None, as_of: date | None = None
    ) -> Coverage:
        return Coverage.of(await info.context.store.coverage(scope_of(scope), as_of))

    @strawberry.field(
        description="Coverage per park, chain, cluster, building or category within a scope, as of a date (default: today)."
    )
    async def coverage_by(
        self, info: ChainorgInfo, by: GroupBy, scope: ScopeInput | None = None, as_of: date | None = None
    ) -> list[CoverageGroup]:
        groups = await info.context.store.coverage_by(by, scope_of(scope), as_of)
        return [CoverageGroup(key=g.key, label=g.label, coverage=Coverage.of(g.coverage)) for g in groups]

    @strawberry.field(description="Coverage at `from`, every step after it, and at `to`.")
    async def coverage_trend(
        self,
        info: ChainorgInfo,
        start: Annotated[date, strawberry.argument(name="from")],
        to: date,
        step: TrendStep,
        scope: ScopeInput | None = None,
    ) -> list[TrendPoint]:
        dates = trend_dates(start, to, step.months)
        points = await info.context.store.coverage_trend(scope_of(scope), dates)
        return [TrendPoint(as_of=day, coverage=Coverage.of(c)) for day, c in zip(dates, points, strict=True)]

    @strawberry.field
    async def organization(self, info: ChainorgInfo, id: strawberry.ID) -> Organization | None:
        found = await info.context.loaders.organization.load(id)
        return Organization.of(found) if found else None

    @strawberry.field
    async def enterprise(self, info: ChainorgInfo, credit_code: str) -> Enterprise | None:
        found = await info.context.loaders.enterprise.load(credit_code.strip().upper())
        return Enterprise.of(found) if found else None

    @strawberry.field(description="Organizations in ledger order, filtered, a page at a time.")
    async def organizations(
        self, info: ChainorgInfo, filter: OrganizationFilter | None = None, first: int = 50, after: str | None = None
    ) -> OrganizationConnection:
        where = (filter or OrganizationFilter()).to_filter()
        page = await info.context.store.find_organizations(where, offset_after(after), page_size(first))
        nodes = [Organization.of(o) for o in page.items]
        await prefetch(info, nodes, ("nodes",))
        return OrganizationConnection(total_count=page.total, nodes=nodes, page_info=page_info(page))

    @strawberry.field(description="Enterprises in ledger order, filtered, a page at a time.")
    async def enterprises(
        self, info: ChainorgInfo, filter: EnterpriseFilter | None = None, first: int = 50, after: str | None = None
    ) -> EnterpriseConnection:
        where = (filter or EnterpriseFilter()).to_filter()
        page = await info.context.store.find_enterprises(where, offset_after(after), page_size(first))
        nodes = [Enterprise.of(e) for e in page.items]
        await prefetch(info, nodes, ("nodes",))
        return EnterpriseConnection(total_count=page.total, nodes=nodes, page_info=page_info(page))

    @strawberry.field
    async def parks(self, info: ChainorgInfo) -> list[Park]:
        return [Park(name=park.name) for park in await info.context.store.parks()]

    @strawberry.field(description="The industry chains enterprises belong to.")
    async def chains(self, info: ChainorgInfo) -> list[str]:
        return await info.context.store.chains()
