"""GraphQL object types: thin views of graph records; relations go through DataLoaders.

Every type, field and enum value carries its description here, in plain English with
the Chinese term in brackets: the explorer's docs pane is the manual.
"""

from __future__ import annotations

from datetime import date
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Generic, TypeVar

import strawberry
from strawberry.types.enum import has_enum_definition

from graph import compliance, model, organizations, query
from graph.vocabulary import term
from schema.access import personal
from schema.context import ChainorgInfo
from schema.limits import cost
from schema.lookahead import loaded

if TYPE_CHECKING:
    from schema.compliance import Finding

TODAY = "Default: today."
AsOf = Annotated[date | None, strawberry.argument(description=f"The date asked about. {TODAY}")]
LazyFinding = Annotated["Finding", strawberry.lazy("schema.compliance")]


def described(enum: type[Enum], name: str, description: str, meanings: dict[str, str]) -> None:
    """Declare `enum` as the GraphQL enum `name` whose every value says what it means, with its Chinese term.

    strawberry marks the class itself, so annotations name the domain enum directly.
    """
    wrapped = strawberry.enum(enum, name=name, description=description)
    assert has_enum_definition(wrapped)
    for value in wrapped.__strawberry_definition__.values:
        chinese = term(enum[value.name])
        value.description = f"{meanings[value.name]} ({chinese})" if chinese else meanings[value.name]


Category = model.Category
described(
    Category,
    "Category",
    "Industry category of an enterprise (行业类别).",
    {"NEWS": "News and information.", "SOCIAL": "Social networks.", "GAMES": "Online games.",
     "ECOMMERCE": "E-commerce.", "FINANCE": "Finance and payments.", "DATA": "Data and big-data services.",
     "OTHER": "Anything else; also the category of an enterprise whose ledger row gives none."},
)  # fmt: skip
EnterpriseStatus = model.Status
described(
    EnterpriseStatus,
    "EnterpriseStatus",
    "Operating status of an enterprise (经营状态). Only ACTIVE enterprises are counted in coverage.",
    {"ACTIVE": "Registered and operating.", "ZOMBIE": "Registered but not operating.",
     "CLOSED": "Deregistered or closed."},
)  # fmt: skip
OrganizationKind = model.OrgKind
described(
    OrganizationKind,
    "OrganizationKind",
    "Tier or form of a party organization. Only enterprise-level kinds (COMMITTEE, GENERAL_BRANCH, "
    "BRANCH, JOINT_BRANCH) cover enterprises.",
    {"PARK_COMMITTEE": "The park's party working committee, the top tier.",
     "CHAIN_COMMITTEE": "Industry-chain committee, one per chain.",
     "CLUSTER": "Party-mass cluster: enterprise organizations grouped under a chain committee.",
     "ALLIANCE": "Party-building alliance of enterprise organizations.",
     "COMMITTEE": "An enterprise's party committee.", "GENERAL_BRANCH": "An enterprise's general branch.",
     "BRANCH": "An enterprise's branch.", "JOINT_BRANCH": "A joint branch covering several small enterprises."},
)  # fmt: skip
FormationMode = model.FormationMode
described(
    FormationMode,
    "FormationMode",
    "How an organization was formed (组建方式).",
    {"STANDALONE": "Formed in one enterprise.", "JOINT": "Formed jointly by several enterprises.",
     "MASS_ORGANIZATION": "Grown from a mass organization such as the trade union.",
     "BUSINESS_NEED": "Formed along a business need.", "BLOCKCHAIN_METHOD": "Formed by the 'blockchain' method."},
)  # fmt: skip
LinkKind = model.LinkKind
described(
    LinkKind,
    "LinkKind",
    "Kind of a joint-building or pairing link (共建 / 结对).",
    {"CHAIN_CO_BUILD": "Co-building along an industry chain.", "ASSOCIATION_HELP": "Helped by an association.",
     "PARK_JOINT": "Joint building within the park.", "PAIRING": "A department or organization mentors an enterprise.",
     "ALLIANCE": "Member of an alliance.", "ALLIANCE_LEAD": "Leads an alliance, and is a member of it.",
     "SUPPLY": "Upstream or downstream in the chain."},
)  # fmt: skip
CoverageState = query.CoverageState
described(
    CoverageState,
    "CoverageState",
    "How party work reaches an enterprise (两个覆盖).",
    {"ORGANIZATION": "Covered by a party organization, its own or a joint one (组织覆盖).",
     "WORK": "No organization, but a party-building instructor is assigned (工作覆盖).",
     "NONE": "Neither (未覆盖)."},
)  # fmt: skip
GroupBy = query.GroupBy
described(
    GroupBy,
    "GroupBy",
    "What to group coverage by.",
    {"PARK": "Park (园区).", "CHAIN": "Industry chain (产业链).", "CLUSTER": "Party-mass cluster (党群联组).",
     "BUILDING": "Building (楼宇).", "CATEGORY": "Industry category (行业类别)."},
)  # fmt: skip
OrganizationOrder = query.OrganizationOrder
described(
    OrganizationOrder,
    "OrganizationOrder",
    "How organizations are listed; ties keep the ledger's order.",
    {"LEDGER": "The ledger's order.", "STARS": "Most stars first; unrated last (达标创星).",
     "POINTS": "Most points first; none recorded last (积分).", "TERM_ENDS": "Soonest term end first; none last (换届)."},
)  # fmt: skip
OrganizationGrouping = query.OrganizationGrouping
described(
    OrganizationGrouping,
    "OrganizationGrouping",
    "What organizations are counted by.",
    {"KIND": "Their kind (党委 / 党总支 / 党支部 / 联合党支部) as it was on the date asked about.",
     "MODE": "Their formation mode (组建方式); an organization with none recorded counts under the key \"\"."},
)  # fmt: skip
TrendStep = query.TrendStep
described(
    TrendStep,
    "TrendStep",
    "Step between the points of a trend.",
    {"MONTH": "One month.", "QUARTER": "Three months.", "YEAR": "Twelve months."},
)

RuleCode = compliance.RuleCode
described(
    RuleCode,
    "RuleCode",
    "A compliance rule (合规规则); thresholds come from the server's configuration (`[rules]` in chainorg.toml).",
    {code: f"{rule.summary} ({rule.term})" for code, rule in compliance.RULES.items()},
)
Severity = compliance.Severity
described(
    Severity,
    "Severity",
    "How much a finding matters.",
    {"ERROR": "Breaks a rule: put it right (违规).", "WARNING": "Should be put right (提醒).",
     "INFO": "A candidate or a reminder (提示)."},
)  # fmt: skip
Subject = compliance.Subject
described(
    Subject,
    "SubjectKind",
    "What a finding is about.",
    {"ENTERPRISE": "An enterprise, by its credit code.", "ORGANIZATION": "A party organization, by its id."},
)
Rules = Annotated[
    list[RuleCode] | None, strawberry.argument(description="Only these rules (of those enabled); default: all.")
]


@strawberry.type(description="Coverage of the ACTIVE enterprises in a scope (两个覆盖).")
class Coverage:
    enterprises: int = strawberry.field(description="ACTIVE enterprises in scope.")
    organization_covered: int = strawberry.field(
        description="Of those, covered by a party organization, own or joint (组织覆盖)."
    )
    work_covered: int = strawberry.field(
        description="Of those, not covered by an organization but with an instructor assigned (工作覆盖)."
    )
    uncovered: int = strawberry.field(description="Of those, reached in neither way.")
    organization_rate: float = strawberry.field(
        description="organizationCovered / enterprises (组织覆盖率); 0 when there are no enterprises."
    )
    work_rate: float = strawberry.field(
        description="Reached in either way: (organizationCovered + workCovered) / enterprises (工作覆盖率); "
        "it includes organization coverage."
    )
    formal_members: int = strawberry.field(
        description="Formal party members (正式党员) in all the ACTIVE enterprises in scope, covered or not. "
        "An organization's `members` counts only the enterprises it covers, so it is smaller."
    )
    organizations: int = strawberry.field(description="Enterprise-level organizations covering enterprises in scope.")

    @classmethod
    def of(cls, counts: query.Coverage) -> Coverage:
        return cls(
            enterprises=counts.enterprises,
            organization_covered=counts.organization_covered,
            work_covered=counts.work_covered,
            uncovered=counts.uncovered,
            organization_rate=counts.organization_rate,
            work_rate=counts.work_rate,
            formal_members=counts.formal_members,
            organizations=counts.organizations,
        )


@strawberry.type(description="Coverage of one group of a `coverageBy` question.")
class CoverageGroup:
    key: str = strawberry.field(description="The value to put in ScopeInput to drill in; empty for 'not given'.")
    label: str = strawberry.field(
        description="Display name: a cluster's name, a category's Chinese term (电商), else the key."
    )
    coverage: Coverage = strawberry.field(description="Coverage of the group.")


@strawberry.type(description="Coverage at one date of a trend.")
class TrendPoint:
    as_of: date = strawberry.field(description="The date.")
    coverage: Coverage = strawberry.field(description="Coverage as of that date.")


@strawberry.type(description="Party members (党员) in the ACTIVE enterprises an organization covers.")
class Members:
    formal: int = strawberry.field(description="Formal members (正式党员).")
    probationary: int = strawberry.field(description="Probationary members (预备党员).")
    total: int = strawberry.field(description="formal + probationary.")

    @classmethod
    def of(cls, members: model.Members) -> Members:
        return cls(formal=members.formal, probationary=members.probationary, total=members.total)


@strawberry.type(description="A building, maker space or business district where enterprises sit together (楼宇).")
class Building:
    park: str = strawberry.field(description="The park it is in.")
    name: str = strawberry.field(description="Its name, unique within the park.")


@strawberry.type(description="An industrial park (园区).")
class Park:
    name: str = strawberry.field(description="Its name, as ledgers give it; also its key in ScopeInput.")
    buildings: list[Building] = loaded(
        "buildings", "name", lambda found: [Building(park=b.park, name=b.name) for b in found],
        "Buildings of the park that have enterprises.", cost(items=200),
    )  # fmt: skip

    @strawberry.field(description=f"Coverage of the park's ACTIVE enterprises, as of a date. {TODAY}")
    async def coverage(
        self,
        info: ChainorgInfo,
        as_of: AsOf = None,
    ) -> Coverage:
        return Coverage.of(await info.context.loaders.park_coverage.load((self.name, as_of)))


@strawberry.type(description="A party-building instructor (党建指导员) assigned to enterprises: work coverage.")
class Instructor:
    id: strawberry.ID = strawberry.field(description="The instructor's id in the ledger.")
    full_name: strawberry.Private[str]

    @strawberry.field(description="Full name; null for a viewer (`extensions.hidden` says so).")
    def name(self, info: ChainorgInfo) -> str | None:
        return personal(info, self.full_name)


@strawberry.type(description="A joint-building or pairing link (共建 / 结对) between two parties.")
class Link:
    source_id: strawberry.ID = strawberry.field(description="The organization or department that builds or mentors.")
    target_id: strawberry.ID = strawberry.field(
        description="The organization or enterprise (by credit code) on the other side."
    )
    kind: LinkKind = strawberry.field(description="What kind of link.")
    since: date | None = strawberry.field(description="Since when, if known.")
    until: date | None = strawberry.field(description="The first day it no longer holds; empty while it does.")

    @classmethod
    def of(cls, link: model.Link) -> Link:
        return cls(
            source_id=strawberry.ID(link.source_id),
            target_id=strawberry.ID(link.target_id),
            kind=link.kind,
            since=link.since,
            until=link.until,
        )


@strawberry.type(description="A kind an organization had, and when (升格 ends one and begins the next).")
class KindSpan:
    kind: OrganizationKind = strawberry.field(description="The kind.")
    since: date | None = strawberry.field(description="From when; empty: since it was established, undated.")
    until: date | None = strawberry.field(description="The first day it no longer was; empty: it still is.")


@strawberry.type(description="An organization an organization was part of (PART_OF), and when.")
class ParentSpan:
    parent_id: strawberry.ID = strawberry.field(description="The parent's id.")
    since: date | None = strawberry.field(description="From when; empty: undated.")
    until: date | None = strawberry.field(description="The first day it no longer was; empty: it still is.")


@strawberry.type(description="An enterprise an organization covered (COVERS), and when.")
class CoverSpan:
    credit_code: str = strawberry.field(description="The enterprise's credit code.")
    since: date | None = strawberry.field(description="From when, as recorded; empty: undated.")
    until: date | None = strawberry.field(description="The first day it no longer did; empty: it still does.")

    @strawberry.field(description="The enterprise.", metadata=cost(own=1))
    async def enterprise(self, info: ChainorgInfo) -> Enterprise | None:
        found = await info.context.loaders.enterprise.load(self.credit_code)
        return Enterprise.of(found) if found else None


@strawberry.type(description="An organization's past and present (历史沿革): kinds, parents, coverage.")
class OrganizationHistory:
    kinds: list[KindSpan] = strawberry.field(description="Each kind it had, oldest first.")
    parents: list[ParentSpan] = strawberry.field(description="Each organization it was part of, oldest first.")
    covers: list[CoverSpan] = strawberry.field(description="Every enterprise it covered, ended coverage included.")

    @classmethod
    def of(cls, history: model.OrganizationHistory) -> OrganizationHistory:
        return cls(
            kinds=[KindSpan(kind=k.kind, since=k.since, until=k.until) for k in history.kinds],
            parents=[ParentSpan(parent_id=strawberry.ID(p.parent_id), since=p.since, until=p.until)
                     for p in history.parents],
            covers=[CoverSpan(credit_code=c.credit_code, since=c.since, until=c.until) for c in history.covers],
        )  # fmt: skip


@strawberry.type(description="A party organization of any tier (党组织).")
class Organization:
    id: strawberry.ID = strawberry.field(description="Its id in the ledger (组织编号).")
    name: str = strawberry.field(description="Its name (组织名称).")
    kind: OrganizationKind = strawberry.field(description="Its tier or form (组织类别).")
    mode: FormationMode | None = strawberry.field(description="How it was formed (组建方式), if recorded.")
    established_on: date | None = strawberry.field(
        description="When it was established (成立日期); it covers nothing before."
    )
    term_ends_on: date | None = strawberry.field(description="When its committee's term ends (届满日期).")
    secretary_name: strawberry.Private[str | None]
    stars: int | None = strawberry.field(description="Star rating, 0 to 5 (星级).")
    points: int | None = strawberry.field(description="Points of the rating scheme (积分).")
    dissolved_on: date | None = strawberry.field(
        description="When it was dissolved (撤销日期); it covers nothing from then, and its records stay."
    )
    parent_id: strawberry.Private[str | None]

    @classmethod
    def of(cls, org: model.Organization) -> Organization:
        return cls(
            id=strawberry.ID(org.id),
            name=org.name,
            kind=org.kind,
            mode=org.mode,
            established_on=org.established_on,
            term_ends_on=org.term_ends_on,
            secretary_name=org.secretary,
            stars=org.stars,
            points=org.points,
            dissolved_on=org.dissolved_on,
            parent_id=org.parent_id,
        )

    @strawberry.field(description="Its secretary (书记); null for a viewer (`extensions.hidden` says so).")
    def secretary(self, info: ChainorgInfo) -> str | None:
        return personal(info, self.secretary_name)

    parent: Organization | None = loaded(
        "organization", "parent_id", lambda org: Organization.of(org), "The organization it is part of."
    )
    children: list[Organization] = loaded(
        "children", "id", lambda orgs: [Organization.of(o) for o in orgs],
        "Organizations directly part of this one.", cost(items=20),
    )  # fmt: skip
    covers: list[Enterprise] = loaded(
        "covered", "id", lambda found: [Enterprise.of(e) for e in found],
        "Enterprises this organization covers directly.", cost(items=5),
    )  # fmt: skip
    members: Members = loaded(
        "members", "id", lambda members: Members.of(members),
        "Party members of the ACTIVE enterprises covered by it or by any organization under it, each "
        "enterprise counted once, as of today.",
    )  # fmt: skip
    links: list[Link] = loaded(
        "links", "id", lambda links: [Link.of(link) for link in links],
        "Its joint-building and pairing links in effect today, either way.", cost(items=10),
    )  # fmt: skip
    history: OrganizationHistory = loaded(
        "history", "id", lambda history: OrganizationHistory.of(history),
        "Its past and present: each kind it had (升格), each parent it was under, each enterprise it "
        "covered, with the dates; what changes ended stays here.", cost(items=20),
    )  # fmt: skip

    @strawberry.field(description=f"What the compliance audit finds about it, as of a date. {TODAY}")
    async def findings(self, info: ChainorgInfo, as_of: AsOf = None, rules: Rules = None) -> list[LazyFinding]:
        return await findings_about(info, self.id, as_of, rules)


@strawberry.type(description="An enterprise in a park (企业).")
class Enterprise:
    credit_code: str = strawberry.field(description="Unified social credit code (统一社会信用代码, GB 32100-2015).")
    name: str = strawberry.field(description="Registered name (企业名称).")
    park: str = strawberry.field(description="The park it is in (园区).")
    chain: str | None = strawberry.field(description="The industry chain it belongs to (产业链).")
    category: Category = strawberry.field(description="Industry category (行业类别).")
    employees: int | None = strawberry.field(description="Employees (从业人数), if recorded.")
    formal_members: int = strawberry.field(description="Formal party members (正式党员).")
    probationary_members: int = strawberry.field(description="Probationary party members (预备党员).")
    above_scale: bool = strawberry.field(description="Above designated size (规上企业).")
    key: bool = strawberry.field(description="A key enterprise (重点企业).")
    status: EnterpriseStatus = strawberry.field(description="Status in the ledger (经营状态).")
    status_since: date | None = strawberry.field(
        description="When it became ZOMBIE or CLOSED (状态变更日期); it counts as ACTIVE before. "
        "Empty: the status holds at every date."
    )
    registered_on: date | None = strawberry.field(description="Registration date (注册日期); it is not counted before.")
    building_name: strawberry.Private[str | None]

    @classmethod
    def of(cls, enterprise: model.Enterprise) -> Enterprise:
        return cls(
            credit_code=enterprise.credit_code,
            name=enterprise.name,
            park=enterprise.park,
            chain=enterprise.chain,
            category=enterprise.category,
            employees=enterprise.employees,
            formal_members=enterprise.formal_members,
            probationary_members=enterprise.probationary_members,
            above_scale=enterprise.above_scale,
            key=enterprise.key,
            status=enterprise.status,
            status_since=enterprise.status_since,
            registered_on=enterprise.registered_on,
            building_name=enterprise.building,
        )

    @strawberry.field(description="The building it sits in (楼宇), if recorded.")
    def building(self) -> Building | None:
        return Building(park=self.park, name=self.building_name) if self.building_name else None

    organizations: list[Organization] = loaded(
        "covering", "credit_code", lambda orgs: [Organization.of(o) for o in orgs],
        "Organizations covering it, its own or joint ones.", cost(items=2),
    )  # fmt: skip
    cluster: Organization | None = loaded(
        "cluster", "credit_code", lambda cluster: Organization.of(cluster) if cluster else None,
        "The cluster responsible for it (党群联组): declared in the ledger, else its organization's.",
    )  # fmt: skip
    instructors: list[Instructor] = loaded(
        "instructors", "credit_code", lambda found: [Instructor(id=strawberry.ID(i.id), full_name=i.name) for i in found],
        "Party-building instructors assigned to it (党建指导员).", cost(items=2),
    )  # fmt: skip

    @strawberry.field(description=f"How party work reaches it, as of a date (两个覆盖). {TODAY}")
    async def coverage_state(
        self,
        info: ChainorgInfo,
        as_of: AsOf = None,
    ) -> CoverageState:
        return await info.context.loaders.coverage_state.load((self.credit_code, as_of))

    @strawberry.field(description=f"What the compliance audit finds about it, as of a date. {TODAY}")
    async def findings(self, info: ChainorgInfo, as_of: AsOf = None, rules: Rules = None) -> list[LazyFinding]:
        return await findings_about(info, self.credit_code, as_of, rules)


async def findings_about(
    info: ChainorgInfo, subject: str, as_of: date | None, rules: list[RuleCode] | None
) -> list[LazyFinding]:
    from schema.compliance import Finding  # the module imports this one

    asked = (as_of, None if rules is None else tuple(rules))
    return [Finding.of(f) for f in await info.context.loaders.findings.load((subject, asked))]


@strawberry.type(description="Where a page starts and ends, to ask for the next one.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="Whether more items follow.")
    end_cursor: str | None = strawberry.field(description="Pass as `after` for the next page; null when empty.")
    has_previous_page: bool = strawberry.field(description="Whether items come before this page.")
    start_cursor: str | None = strawberry.field(description="The cursor of this page's first item; null when empty.")


N = TypeVar("N")


@strawberry.type(description="An item of a page with its cursor, as Relay's connection convention has it.")
class Edge(Generic[N]):
    cursor: str = strawberry.field(description="Pass as `after` to go on after this item.")
    node: N = strawberry.field(description="The item.")


@strawberry.type(description="One page of enterprises.")
class EnterpriseConnection:
    total_count: int = strawberry.field(description="Enterprises matching the filter, on every page.")
    nodes: list[Enterprise] = strawberry.field(
        description="This page's enterprises, in ledger order.", metadata=cost(items=1)
    )  # counted `first` times by the connection
    edges: list[Edge[Enterprise]] = strawberry.field(
        description="The same, each with its cursor.", metadata=cost(items=1)
    )
    page_info: PageInfo = strawberry.field(description="Where this page ends.")


@strawberry.type(description="How many organizations one kind or formation mode has.")
class OrganizationCount:
    key: str = strawberry.field(description="The kind's or mode's name (BRANCH, JOINT …); \"\" for none recorded.")
    label: str = strawberry.field(description="Its Chinese term (党支部, 联合共建 …).")
    count: int = strawberry.field(description="Organizations of it.")


@strawberry.type(description="A party-building alliance (党建联盟) with its lead (盟主单位) and members.")
class Alliance:
    alliance: Organization = strawberry.field(description="The alliance itself (kind ALLIANCE).")
    lead: Organization | None = strawberry.field(description="Its lead (盟主单位); null when none is recorded.")
    members: list[Organization] = strawberry.field(
        description="Its member organizations, the lead among them, in ledger order.", metadata=cost(items=20)
    )

    @classmethod
    def of(cls, found: organizations.Alliance) -> Alliance:
        return cls(
            alliance=Organization.of(found.alliance),
            lead=Organization.of(found.lead) if found.lead else None,
            members=[Organization.of(m) for m in found.members],
        )


@strawberry.type(description="One page of organizations.")
class OrganizationConnection:
    total_count: int = strawberry.field(description="Organizations matching the filter, on every page.")
    nodes: list[Organization] = strawberry.field(
        description="This page's organizations, in the order asked for (the ledger's by default).",
        metadata=cost(items=1),
    )  # counted `first` times by the connection
    edges: list[Edge[Organization]] = strawberry.field(
        description="The same, each with its cursor.", metadata=cost(items=1)
    )
    page_info: PageInfo = strawberry.field(description="Where this page ends.")
