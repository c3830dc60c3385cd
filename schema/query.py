"""The Query root: each resolver is one store call."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any

import strawberry

from graph.access import Role
from graph.bulletin import bulletin
from graph.calendar import MAX_POINTS, trend_dates
from graph.charts import DEFAULT_DEPTH, MAX_DEPTH, org_chart
from graph.credit_code import normalised
from graph.errors import ChainorgError
from graph.model import Category
from schema.access import me
from schema.audit import audit_log
from schema.charts import Chart, ChartFormat
from schema.compliance import Bulletin, ComplianceReport, RuleSetting
from schema.context import ChainorgInfo
from schema.inputs import EnterpriseFilter, OrganizationFilter, ScopeInput, scope_of
from schema.limits import cost, needs, parse_day
from schema.lookahead import prefetch
from schema.pagination import DEFAULT_PAGE, PAGE, After, First, connection, offset_after, page_size
from schema.planner import PlannerQuery
from schema.types import (
    TODAY,
    Alliance,
    AsOf,
    Coverage,
    CoverageGroup,
    Enterprise,
    EnterpriseConnection,
    GroupBy,
    Organization,
    OrganizationConnection,
    OrganizationCount,
    OrganizationGrouping,
    OrganizationOrder,
    Park,
    Rules,
    TrendPoint,
    TrendStep,
)

Scope = Annotated[
    ScopeInput | None, strawberry.argument(description="Which enterprises to count; default: all of them.")
]
# Typical number of groups per grouping, for the cost limit (a province: 2,000 buildings).
GROUPS = {GroupBy.PARK: 20, GroupBy.CHAIN: 20, GroupBy.CLUSTER: 50, GroupBy.BUILDING: 2_000,
          GroupBy.CATEGORY: len(Category)}  # fmt: skip


def trend_points(arguments: Mapping[str, Any]) -> int:
    """How many points a trend's literal arguments ask for; the most allowed when not literal."""
    start, end, step = parse_day(arguments.get("from")), parse_day(arguments.get("to")), arguments.get("step")
    if start is None or end is None or not isinstance(step, str) or step not in TrendStep.__members__:
        return MAX_POINTS
    try:
        return len(trend_dates(start, end, TrendStep.__members__[step].months))
    except ChainorgError:
        return 0  # refused when it runs


def groups(arguments: Mapping[str, Any]) -> int:
    """How many groups a grouping's literal `by` gives; the most when it is a variable."""
    by = arguments.get("by")
    return (
        GROUPS[GroupBy.__members__[by]] if isinstance(by, str) and by in GroupBy.__members__ else max(GROUPS.values())
    )


@strawberry.type(description="Questions about the park's party organizations and the enterprises they reach.")
class Query(PlannerQuery):
    @strawberry.field(description=f"Coverage of a scope's ACTIVE enterprises, as of a date (两个覆盖). {TODAY}",
                      metadata=cost(own=10))  # fmt: skip
    async def coverage(self, info: ChainorgInfo, scope: Scope = None, as_of: AsOf = None) -> Coverage:
        return Coverage.of(await info.context.store.coverage(scope_of(scope), as_of))

    @strawberry.field(
        description=f"Coverage per park, chain, cluster, building or category within a scope, as of a date. {TODAY} "
        "Only groups with enterprises in scope are listed.",
        metadata=cost(own=10, items=groups),
    )
    async def coverage_by(
        self,
        info: ChainorgInfo,
        by: Annotated[GroupBy, strawberry.argument(description="What to group by.")],
        scope: Scope = None,
        as_of: AsOf = None,
    ) -> list[CoverageGroup]:
        groups = await info.context.store.coverage_by(by, scope_of(scope), as_of)
        return [CoverageGroup(key=g.key, label=g.label, coverage=Coverage.of(g.coverage)) for g in groups]

    @strawberry.field(description="The day a question without `asOf` is asked about: the server's today.")
    def today(self, info: ChainorgInfo) -> date:
        return info.context.store.today()

    @strawberry.field(
        description=f"Organizations counted by kind or formation mode (组建方式), as of a date. {TODAY} The "
        "organizations are those `coverage.organizations` counts for the scope: the counts add up to it.",
        metadata=cost(own=10, items=10),
    )
    async def organization_counts(
        self,
        info: ChainorgInfo,
        by: Annotated[OrganizationGrouping, strawberry.argument(description="What to count by.")],
        scope: Scope = None,
        as_of: AsOf = None,
    ) -> list[OrganizationCount]:
        counts = await info.context.store.organization_counts(by, scope_of(scope), as_of)
        return [OrganizationCount(key=c.key, label=c.label, count=c.count) for c in counts]

    @strawberry.field(
        description=f"Party-building alliances (党建联盟) standing on a date, with their lead (盟主单位) and "
        f"members. {TODAY} With a scope: those with a member covering an enterprise in it.",
        metadata=cost(own=10, items=5),
    )
    async def alliances(self, info: ChainorgInfo, scope: Scope = None, as_of: AsOf = None) -> list[Alliance]:
        return [Alliance.of(a) for a in await info.context.store.alliances(scope_of(scope), as_of)]

    @strawberry.field(
        description=f"Coverage at `from`, at every step after it, and at `to` (at most {MAX_POINTS} points).",
        metadata=cost(own=10, items=trend_points),
    )
    async def coverage_trend(
        self,
        info: ChainorgInfo,
        start: Annotated[date, strawberry.argument(name="from", description="The first date.")],
        to: Annotated[date, strawberry.argument(description="The last date.")],
        step: Annotated[TrendStep, strawberry.argument(description="The step between points.")],
        scope: Scope = None,
    ) -> list[TrendPoint]:
        dates = trend_dates(start, to, step.months)
        points = await info.context.store.coverage_trend(scope_of(scope), dates)
        return [TrendPoint(as_of=day, coverage=Coverage.of(c)) for day, c in zip(dates, points, strict=True)]

    @strawberry.field(description="One organization by its id; null when there is none.")
    async def organization(
        self, info: ChainorgInfo, id: Annotated[strawberry.ID, strawberry.argument(description="Its ledger id.")]
    ) -> Organization | None:
        found = await info.context.loaders.organization.load(id)
        return Organization.of(found) if found else None

    @strawberry.field(description="One enterprise by its credit code; null when there is none.")
    async def enterprise(
        self,
        info: ChainorgInfo,
        credit_code: Annotated[str, strawberry.argument(description="统一社会信用代码; case and spaces are ignored.")],
    ) -> Enterprise | None:
        found = await info.context.loaders.enterprise.load(normalised(credit_code))
        return Enterprise.of(found) if found else None

    @strawberry.field(
        description="Organizations filtered, in ledger order or by stars, points or term end, a page at a time.",
        metadata=cost(items=PAGE),
    )
    async def organizations(
        self,
        info: ChainorgInfo,
        filter: Annotated[OrganizationFilter | None, strawberry.argument(description="Default: every one.")] = None,
        first: First = DEFAULT_PAGE,
        after: After = None,
        order_by: Annotated[
            OrganizationOrder, strawberry.argument(description="The order; ties keep the ledger's.")
        ] = OrganizationOrder.LEDGER,
    ) -> OrganizationConnection:
        where = (filter or OrganizationFilter()).to_filter()
        page = await info.context.store.find_organizations(where, offset_after(after), page_size(first), order_by)
        nodes = [Organization.of(o) for o in page.items]
        await prefetch(info, nodes, ("nodes",))
        return connection(OrganizationConnection, page, nodes)

    @strawberry.field(description="Enterprises in ledger order, filtered, a page at a time.", metadata=cost(items=PAGE))
    async def enterprises(
        self,
        info: ChainorgInfo,
        filter: Annotated[EnterpriseFilter | None, strawberry.argument(description="Default: every one.")] = None,
        first: First = DEFAULT_PAGE,
        after: After = None,
    ) -> EnterpriseConnection:
        where = (filter or EnterpriseFilter()).to_filter()
        page = await info.context.store.find_enterprises(where, offset_after(after), page_size(first))
        nodes = [Enterprise.of(e) for e in page.items]
        await prefetch(info, nodes, ("nodes",))
        return connection(EnterpriseConnection, page, nodes)

    @strawberry.field(description="Every park with enterprises, by name.", metadata=cost(items=20))
    async def parks(self, info: ChainorgInfo) -> list[Park]:
        parks = [Park(name=park.name) for park in await info.context.store.parks()]
        await prefetch(info, parks)
        return parks

    @strawberry.field(description="The industry chains enterprises belong to (产业链).", metadata=cost(items=20))
    async def chains(self, info: ChainorgInfo) -> list[str]:
        return await info.context.store.chains()

    @strawberry.field(
        description=f"The compliance audit of a scope as of a date: counts per rule and the findings. {TODAY}",
        metadata=cost(own=20),
    )
    def compliance(
        self, info: ChainorgInfo, scope: Scope = None, as_of: AsOf = None, rules: Rules = None
    ) -> ComplianceReport:
        return ComplianceReport(
            as_of=as_of, scope=scope_of(scope), rules=info.context.rules.only(None if rules is None else tuple(rules))
        )

    @strawberry.field(
        description="The ten-day bulletin (每旬情况通报): per park, chain and cluster, coverage and findings per "
        "rule at two dates, with the change. `asOf` defaults to today, `previous` to ten days before it.",
        metadata=cost(own=200),
    )
    async def bulletin(
        self,
        info: ChainorgInfo,
        scope: Scope = None,
        as_of: AsOf = None,
        previous: Annotated[date | None, strawberry.argument(description="The date to compare with.")] = None,
    ) -> Bulletin:
        found = await bulletin(info.context.store, scope_of(scope), as_of, previous, info.context.rules)
        return Bulletin.of(found)

    @strawberry.field(
        description=f"An org chart (组织架构图) of `root` and the tiers under it, as of a date. {TODAY} Boxes show "
        "name, kind, members and a coverage mark; joint branches list their enterprises; a parent with more "
        "children than fit shows the rest as one counted box. Also at GET /charts/{id}.{svg|png|pdf|dot|mmd|"
        "graphml|json}?depth=&links=&asOf=.",
        metadata=cost(own=100),
    )
    async def org_chart(
        self,
        info: ChainorgInfo,
        root_id: Annotated[
            strawberry.ID, strawberry.argument(name="root", description="Id of the organization at the top.")
        ],  # `root` itself is strawberry's name for the parent value
        format: Annotated[ChartFormat, strawberry.argument(description="The file format.")],
        depth: Annotated[int, strawberry.argument(description=f"Tiers under the root, 0 to {MAX_DEPTH}.")] = (
            DEFAULT_DEPTH
        ),
        links: Annotated[bool, strawberry.argument(description="Draw joint-building and pairing links.")] = False,
        as_of: AsOf = None,
    ) -> Chart:
        return Chart.of(await org_chart(info.context.store, root_id, format, depth, links, as_of))

    me = strawberry.field(resolver=me, description="The token this request came with: name, role, scope.")

    audit_log = strawberry.field(
        resolver=audit_log,
        description="The audit trail (审计日志): who changed what and when, each change's records before and "
        "after, oldest first. Only a server that keeps changes (`chainorg serve --state`) has one. A scoped "
        "token sees the entries that name nothing outside its scope.",
        metadata={**cost(items=PAGE), **needs(Role.EDITOR)},
    )

    @strawberry.field(description="The compliance rules as this server applies them.", metadata=cost(items=10))
    def rules(self, info: ChainorgInfo) -> list[RuleSetting]:
        return [RuleSetting.of(setting) for setting in info.context.rules.settings]
