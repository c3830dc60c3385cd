"""GraphQL types of the compliance audit and the ten-day bulletin: thin views of graph.compliance."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from graph import bulletin as bulletins
from graph import compliance
from graph.query import Scope
from schema.context import ChainorgInfo
from schema.limits import cost
from schema.pagination import DEFAULT_PAGE, connection, offset_after, page_size
from schema.types import Coverage, Edge, GroupBy, PageInfo, RuleCode, Severity, Subject


@strawberry.type(description="One thing wrong or due, about one enterprise or organization.")
class Finding:
    rule: RuleCode = strawberry.field(description="The rule that found it.")
    severity: Severity = strawberry.field(description="How much it matters (configurable per rule).")
    subject_kind: Subject = strawberry.field(description="Whether it is about an enterprise or an organization.")
    subject_id: strawberry.ID = strawberry.field(description="The organization's id or the enterprise's credit code.")
    subject_name: str = strawberry.field(description="The organization's or enterprise's name.")
    message: str = strawberry.field(
        description="What is wrong, in plain Chinese words as reports print it, with the value and the threshold."
    )

    @classmethod
    def of(cls, finding: compliance.Finding) -> Finding:
        return cls(
            rule=finding.rule,
            severity=finding.severity,
            subject_kind=finding.subject,
            subject_id=strawberry.ID(finding.subject_id),
            subject_name=finding.subject_name,
            message=finding.message,
        )


@strawberry.type(description="How many findings a rule has.")
class RuleCount:
    rule: RuleCode = strawberry.field(description="The rule.")
    severity: Severity = strawberry.field(description="Its severity.")
    count: int = strawberry.field(description="Its findings; in a change, the difference (negative: fewer).")

    @classmethod
    def of(cls, count: compliance.RuleCount) -> RuleCount:
        return cls(rule=count.rule, severity=count.severity, count=count.count)


@strawberry.type(description="One page of findings.")
class FindingConnection:
    total_count: int = strawberry.field(description="Findings of the report, on every page.")
    nodes: list[Finding] = strawberry.field(
        description="This page's findings: by severity, then rule, then the ledger's order.", metadata=cost(items=1)
    )  # counted `first` times by the connection
    edges: list[Edge[Finding]] = strawberry.field(description="The same, each with its cursor.", metadata=cost(items=1))
    page_info: PageInfo = strawberry.field(description="Where this page ends.")


@strawberry.type(description="The compliance audit of a scope as of a date (应建必建, 换届, 升格 …).")
class ComplianceReport:
    as_of: date | None = strawberry.field(description="The date audited; null means today.")
    scope: strawberry.Private[Scope]
    rules: strawberry.Private[compliance.RuleConfig]

    @strawberry.field(description="Findings per enabled rule, zeros included, in report order.")
    async def counts_by_rule(self, info: ChainorgInfo) -> list[RuleCount]:
        counts = await info.context.store.compliance(self.scope, self.as_of, self.rules)
        return [RuleCount.of(count) for count in counts]

    @strawberry.field(description="The findings, a page at a time.", metadata=cost(own=5))
    async def findings(
        self,
        info: ChainorgInfo,
        first: Annotated[int, strawberry.argument(description="Page size.")] = DEFAULT_PAGE,
        after: Annotated[str | None, strawberry.argument(description="`endCursor` of the previous page.")] = None,
    ) -> FindingConnection:
        offset = offset_after(after)
        page = await info.context.store.findings(self.scope, self.as_of, self.rules, offset, page_size(first))
        return connection(FindingConnection, page, [Finding.of(f) for f in page.items])


@strawberry.type(description="A rule as this server applies it: its thresholds and severity.")
class RuleSetting:
    rule: RuleCode = strawberry.field(description="The rule.")
    term: str = strawberry.field(description="Its Chinese term.")
    enabled: bool = strawberry.field(description="Whether the server applies it.")
    severity: Severity = strawberry.field(description="The severity of its findings.")
    thresholds: list[Threshold] = strawberry.field(description="Its thresholds, as configured.")

    @classmethod
    def of(cls, setting: compliance.Setting) -> RuleSetting:
        rule = compliance.RULES[setting.code]
        return cls(
            rule=setting.code,
            term=rule.term,
            enabled=setting.enabled,
            severity=setting.severity,
            thresholds=[
                Threshold(name=name, value=int(value), meaning=rule.parameters[name][1])
                for name, value in setting.values
            ],
        )


@strawberry.type(description="One threshold of a rule.")
class Threshold:
    name: str = strawberry.field(description="Its key in `[rules.RULE]` of chainorg.toml.")
    value: int = strawberry.field(description="Its value (1 or 0 for yes or no).")
    meaning: str = strawberry.field(description="What it sets.")


@strawberry.type(description="Coverage and findings of a group on one date.")
class BulletinFigures:
    coverage: Coverage = strawberry.field(description="Coverage of its ACTIVE enterprises (两个覆盖).")
    counts_by_rule: list[RuleCount] = strawberry.field(description="Findings per enabled rule.")


@strawberry.type(description="One line of the bulletin: a park, chain or cluster (or the whole scope) at both dates.")
class BulletinRow:
    by: GroupBy | None = strawberry.field(description="PARK, CHAIN or CLUSTER; null for the whole scope.")
    key: str = strawberry.field(description="The value to put in a scope to drill into the group.")
    label: str = strawberry.field(description="The group's name.")
    current: BulletinFigures = strawberry.field(description="As of `asOf`.")
    previous: BulletinFigures = strawberry.field(description="As of `previous`.")
    organization_rate_change: float = strawberry.field(description="Organization coverage rate, now minus then.")
    work_rate_change: float = strawberry.field(description="Work coverage rate, now minus then.")
    changes_by_rule: list[RuleCount] = strawberry.field(description="Findings per rule, now minus then.")

    @classmethod
    def of(cls, row: bulletins.BulletinRow) -> BulletinRow:
        return cls(
            by=row.by,
            key=row.key,
            label=row.label,
            current=BulletinFigures(
                coverage=Coverage.of(row.current), counts_by_rule=[RuleCount.of(c) for c in row.current_counts]
            ),
            previous=BulletinFigures(
                coverage=Coverage.of(row.previous), counts_by_rule=[RuleCount.of(c) for c in row.previous_counts]
            ),
            organization_rate_change=row.organization_rate_change,
            work_rate_change=row.work_rate_change,
            changes_by_rule=[RuleCount.of(c) for c in row.changes],
        )


@strawberry.type(description="The ten-day bulletin (每旬情况通报): coverage and findings per park, chain and cluster.")
class Bulletin:
    as_of: date = strawberry.field(description="The date reported on.")
    previous: date = strawberry.field(description="The date compared with.")
    rows: list[BulletinRow] = strawberry.field(
        description="The whole scope first, then each park, chain and cluster with enterprises in it."
    )

    @classmethod
    def of(cls, bulletin: bulletins.Bulletin) -> Bulletin:
        return cls(as_of=bulletin.as_of, previous=bulletin.previous, rows=[BulletinRow.of(r) for r in bulletin.rows])
