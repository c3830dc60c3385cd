"""GraphQL object types: thin views of graph records; relations go through DataLoaders."""

from __future__ import annotations

from datetime import date

import strawberry

from graph import model, query
from schema.context import ChainorgInfo
from schema.lookahead import loaded

Category = strawberry.enum(model.Category, name="Category", description="Industry category (行业类别).")
EnterpriseStatus = strawberry.enum(model.Status, name="EnterpriseStatus", description="Only ACTIVE ones are counted.")
OrganizationKind = strawberry.enum(
    model.OrgKind, name="OrganizationKind", description="Tier or form of an organization."
)
FormationMode = strawberry.enum(model.FormationMode, name="FormationMode", description="How it was formed (组建方式).")
LinkKind = strawberry.enum(model.LinkKind, name="LinkKind", description="Joint-building or pairing link kind.")
CoverageState = strawberry.enum(query.CoverageState, name="CoverageState", description="两个覆盖 state.")
GroupBy = strawberry.enum(query.GroupBy, name="GroupBy")
TrendStep = strawberry.enum(query.TrendStep, name="TrendStep")


@strawberry.type(description="Coverage of the ACTIVE enterprises in a scope (两个覆盖).")
class Coverage:
    enterprises: int = strawberry.field(description="ACTIVE enterprises in scope.")
    organization_covered: int = strawberry.field(description="Of those, covered by an organization (own or joint).")
    work_covered: int = strawberry.field(description="Not organization-covered, but an instructor is assigned.")
    uncovered: int
    organization_rate: float = strawberry.field(description="organizationCovered / enterprises (0 when none).")
    work_rate: float = strawberry.field(description="(organizationCovered + workCovered) / enterprises.")
    formal_members: int = strawberry.field(description="Formal members in the enterprises in scope.")
    organizations: int = strawberry.field(description="Enterprise-level organizations covering them.")

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


@strawberry.type
class CoverageGroup:
    key: str = strawberry.field(description="Value to put in ScopeInput to drill in; empty for 'not given'.")
    label: str = strawberry.field(description="Display name: the cluster's name for CLUSTER, else the key.")
    coverage: Coverage


@strawberry.type
class TrendPoint:
    as_of: date
    coverage: Coverage


@strawberry.type
class Members:
    formal: int
    probationary: int
    total: int

    @classmethod
    def of(cls, members: model.Members) -> Members:
        return cls(formal=members.formal, probationary=members.probationary, total=members.total)


@strawberry.type
class Building:
    park: str
    name: str


@strawberry.type
class Park:
    name: str

    @strawberry.field
    async def buildings(self, info: ChainorgInfo) -> list[Building]:
        return [Building(park=b.park, name=b.name) for b in await info.context.store.buildings(self.name)]

    @strawberry.field(description="Coverage of this park, as of a date (default: today).")
    async def coverage(self, info: ChainorgInfo, as_of: date | None = None) -> Coverage:
        return Coverage.of(await info.context.store.coverage(query.Scope(park=self.name), as_of))


@strawberry.type
class Instructor:
    id: strawberry.ID
    name: str


@strawberry.type
class Link:
    source_id: strawberry.ID
    target_id: strawberry.ID
    kind: LinkKind
    since: date | None

    @classmethod
    def of(cls, link: model.Link) -> Link:
        return cls(
            source_id=strawberry.ID(link.source_id),
            target_id=strawberry.ID(link.target_id),
            kind=link.kind,
            since=link.since,
        )


@strawberry.type(description="A party organization of any tier.")
class Organization:
    id: strawberry.ID
    name: str
    kind: OrganizationKind
    mode: FormationMode | None
    established_on: date | None
    term_ends_on: date | None
    secretary: str | None
    stars: int | None
    points: int | None
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
            secretary=org.secretary,
            stars=org.stars,
            points=org.points,
            parent_id=org.parent_id,
        )

    parent: Organization | None = loaded("organization", "parent_id", lambda org: Organization.of(org))
    children: list[Organization] = loaded(
        "children", "id", lambda orgs: [Organization.of(o) for o in orgs], "Organizations directly part of this one."
    )
    covers: list[Enterprise] = loaded(
        "covered",
        "id",
        lambda found: [Enterprise.of(e) for e in found],
        "Enterprises this organization covers directly.",
    )
    members: Members = loaded(
        "members", "id", lambda members: Members.of(members),
        "Members of the ACTIVE enterprises covered by it or any organization under it.",
    )  # fmt: skip
    links: list[Link] = loaded(
        "links", "id", lambda links: [Link.of(link) for link in links], "Joint-building and pairing links."
    )


@strawberry.type(description="An enterprise in the park.")
class Enterprise:
    credit_code: str = strawberry.field(description="统一社会信用代码 (GB 32100-2015).")
    name: str
    park: str
    chain: str | None
    category: Category
    employees: int | None
    formal_members: int
    probationary_members: int
    above_scale: bool
    key: bool
    status: EnterpriseStatus = strawberry.field(description="Status in the ledger (经营状态).")
    status_since: date | None = strawberry.field(
        description="When it became ZOMBIE or CLOSED (状态变更日期); ACTIVE before."
    )
    registered_on: date | None
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

    @strawberry.field
    def building(self) -> Building | None:
        return Building(park=self.park, name=self.building_name) if self.building_name else None

    organizations: list[Organization] = loaded(
        "covering", "credit_code", lambda orgs: [Organization.of(o) for o in orgs],
        "Organizations covering this enterprise (its own or joint ones).",
    )  # fmt: skip
    cluster: Organization | None = loaded(
        "cluster", "credit_code", lambda cluster: Organization.of(cluster) if cluster else None,
        "The cluster responsible for it: declared in the ledger, else its organization's.",
    )  # fmt: skip
    instructors: list[Instructor] = loaded(
        "instructors", "credit_code", lambda found: [Instructor(id=strawberry.ID(i.id), name=i.name) for i in found]
    )

    @strawberry.field(description="How party work reaches it, as of a date (default: today).")
    async def coverage_state(self, info: ChainorgInfo, as_of: date | None = None) -> CoverageState:
        if as_of is None:
            return await info.context.loaders.coverage_state.load(self.credit_code)
        return (await info.context.store.coverage_states([self.credit_code], as_of))[0]


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class EnterpriseConnection:
    total_count: int
    nodes: list[Enterprise]
    page_info: PageInfo


@strawberry.type
class OrganizationConnection:
    total_count: int
    nodes: list[Organization]
    page_info: PageInfo
