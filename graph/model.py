"""The park's party organizations as typed records: nodes, edges and their enums.

Records are immutable; a store indexes them. Dates are first-class on every node and
edge (`None` means "always", so an undated record counts at any `as_of`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum


class OrgKind(StrEnum):
    """The tier or form of a party organization."""

    PARK_COMMITTEE = "PARK_COMMITTEE"  # 党工委
    CHAIN_COMMITTEE = "CHAIN_COMMITTEE"  # 行业(产业链)党委
    CLUSTER = "CLUSTER"  # 党群联组
    ALLIANCE = "ALLIANCE"  # 党建联盟
    COMMITTEE = "COMMITTEE"  # 企业党委
    GENERAL_BRANCH = "GENERAL_BRANCH"  # 党总支
    BRANCH = "BRANCH"  # 党支部
    JOINT_BRANCH = "JOINT_BRANCH"  # 联合党支部

    @property
    def rank(self) -> int:
        """Depth in the hierarchy: a parent always has a smaller rank than its child."""
        return _RANKS[self]

    @property
    def is_enterprise_level(self) -> bool:
        """True for the organizations that cover enterprises (own or joint)."""
        return self in ENTERPRISE_LEVEL


_RANKS = {
    OrgKind.PARK_COMMITTEE: 0,
    OrgKind.CHAIN_COMMITTEE: 1,
    OrgKind.CLUSTER: 2,
    OrgKind.ALLIANCE: 2,
    OrgKind.COMMITTEE: 3,
    OrgKind.GENERAL_BRANCH: 4,
    OrgKind.BRANCH: 5,
    OrgKind.JOINT_BRANCH: 5,
}

ENTERPRISE_LEVEL = frozenset({OrgKind.COMMITTEE, OrgKind.GENERAL_BRANCH, OrgKind.BRANCH, OrgKind.JOINT_BRANCH})
# An enterprise organization under one of these, directly or higher up, is attached to the park's tiers.
ATTACHING = frozenset({OrgKind.CLUSTER, OrgKind.CHAIN_COMMITTEE, OrgKind.PARK_COMMITTEE})


class FormationMode(StrEnum):
    """How an enterprise organization was formed."""

    STANDALONE = "STANDALONE"  # 单独组建
    JOINT = "JOINT"  # 联合共建
    MASS_ORGANIZATION = "MASS_ORGANIZATION"  # 群团促建
    BUSINESS_NEED = "BUSINESS_NEED"  # 业务需求组建
    BLOCKCHAIN_METHOD = "BLOCKCHAIN_METHOD"  # 区块链工作法


class Category(StrEnum):
    """Industry category of an enterprise (行业类别)."""

    NEWS = "NEWS"
    SOCIAL = "SOCIAL"
    GAMES = "GAMES"
    ECOMMERCE = "ECOMMERCE"
    FINANCE = "FINANCE"
    DATA = "DATA"
    OTHER = "OTHER"


class Status(StrEnum):
    """Operating status; only ACTIVE enterprises count in coverage."""

    ACTIVE = "ACTIVE"
    ZOMBIE = "ZOMBIE"
    CLOSED = "CLOSED"


class LinkKind(StrEnum):
    """Joint-building and pairing links between organizations, departments, enterprises."""

    CHAIN_CO_BUILD = "CHAIN_CO_BUILD"  # 产业链共建
    ASSOCIATION_HELP = "ASSOCIATION_HELP"  # 协会帮建
    PARK_JOINT = "PARK_JOINT"  # 园区联建
    PAIRING = "PAIRING"  # 结对帮扶
    ALLIANCE = "ALLIANCE"  # 联盟成员
    ALLIANCE_LEAD = "ALLIANCE_LEAD"  # 盟主单位: leads the alliance (and is a member of it)
    SUPPLY = "SUPPLY"  # 上下游


class EdgeKind(StrEnum):
    """Edge types of the graph."""

    PART_OF = "PART_OF"
    COVERS = "COVERS"
    LOCATED_IN = "LOCATED_IN"
    LINK = "LINK"
    ASSIGNED = "ASSIGNED"


@dataclass(frozen=True, slots=True)
class Park:
    name: str


@dataclass(frozen=True, slots=True)
class Building:
    """A place where enterprises sit together: a tower, incubator, business district."""

    park: str
    name: str


@dataclass(frozen=True, slots=True)
class Enterprise:
    credit_code: str
    name: str
    park: str
    building: str | None = None
    chain: str | None = None
    category: Category = Category.OTHER
    employees: int | None = None
    formal_members: int = 0
    probationary_members: int = 0
    above_scale: bool = False
    key: bool = False
    status: Status = Status.ACTIVE
    status_since: date | None = None  # when it became ZOMBIE or CLOSED; before then it was ACTIVE
    registered_on: date | None = None
    cluster_id: str | None = None  # the cluster responsible for it (行业归口), if declared


@dataclass(frozen=True, slots=True)
class Organization:
    id: str
    name: str
    kind: OrgKind
    parent_id: str | None = None
    mode: FormationMode | None = None
    established_on: date | None = None
    term_ends_on: date | None = None
    secretary: str | None = None
    stars: int | None = None
    points: int | None = None
    has_committee: bool | None = None  # a branch that has elected a branch committee (设支委会); None: not recorded
    dissolved_on: date | None = None  # 撤销: from this day it no longer exists; its records stay

    def standing_on(self, day: date) -> bool:
        """Established by `day` and not yet dissolved (undated: always established)."""
        started = self.established_on is None or self.established_on <= day
        return started and (self.dissolved_on is None or day < self.dissolved_on)


@dataclass(frozen=True, slots=True)
class Department:
    """A government department or organ party organization that pairs with enterprises."""

    id: str
    name: str
    sector: Category | None = None  # the industry category it looks after (对口行业), if any


@dataclass(frozen=True, slots=True)
class Instructor:
    """A party-building instructor (党建指导员): brings work coverage."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Covers:
    """COVERS edge: an enterprise-level organization covers an enterprise."""

    org_id: str
    credit_code: str
    since: date | None = None
    until: date | None = None  # the first day it no longer holds; None: it still does


@dataclass(frozen=True, slots=True)
class Link:
    """LINK edge between organizations, departments and enterprises."""

    source_id: str
    target_id: str
    kind: LinkKind
    since: date | None = None
    until: date | None = None


@dataclass(frozen=True, slots=True)
class Assignment:
    """ASSIGNED edge: an instructor is assigned to an enterprise."""

    instructor_id: str
    credit_code: str
    since: date | None = None
    until: date | None = None


@dataclass(frozen=True, slots=True)
class PartOf:
    """A PART_OF edge that has ended: the organization was under `parent_id` until it moved
    or was dissolved. The edge in effect now is the organization's `parent_id`."""

    org_id: str
    parent_id: str
    since: date | None
    until: date


@dataclass(frozen=True, slots=True)
class Upgrade:
    """升格: the organization was a `before` until `on`, and an `after` from then on."""

    org_id: str
    before: OrgKind
    after: OrgKind
    on: date


@dataclass(frozen=True, slots=True)
class KindSpan:
    kind: OrgKind
    since: date | None
    until: date | None


@dataclass(frozen=True, slots=True)
class ParentSpan:
    parent_id: str
    since: date | None
    until: date | None


@dataclass(frozen=True, slots=True)
class OrganizationHistory:
    """An organization's past as well as its present: each kind it had, each parent it was
    under and each enterprise it covered, with when (`until` None: it still holds)."""

    kinds: tuple[KindSpan, ...] = ()
    parents: tuple[ParentSpan, ...] = ()
    covers: tuple[Covers, ...] = ()

    @classmethod
    def of(
        cls, org: Organization, upgrades: Sequence[Upgrade], past_parents: Sequence[PartOf], covers: Sequence[Covers]
    ) -> OrganizationHistory:
        """The history of `org` from its upgrades and ended PART_OF edges (any order): a kind
        lasts until the next upgrade, a parent until the move, the last of each until now
        or until it was dissolved."""
        upgrades = sorted(upgrades, key=lambda u: u.on)
        starts = [org.established_on, *(u.on for u in upgrades)]
        kinds = zip([*(u.before for u in upgrades), org.kind], starts, [*starts[1:], org.dissolved_on], strict=True)
        past = sorted(past_parents, key=lambda p: p.until)
        parents = [ParentSpan(p.parent_id, p.since, p.until) for p in past]
        if org.parent_id is not None:
            parents.append(ParentSpan(org.parent_id, past[-1].until if past else org.established_on, org.dissolved_on))
        return cls(tuple(KindSpan(*kind) for kind in kinds), tuple(parents), tuple(covers))


def as_on(org: Organization, upgrades: Sequence[Upgrade], day: date) -> Organization:
    """The organization with the kind it had on `day`: before the first of its upgrades after then.

    >>> org = Organization("B1", "支部", OrgKind.GENERAL_BRANCH)
    >>> as_on(org, [Upgrade("B1", OrgKind.BRANCH, OrgKind.GENERAL_BRANCH, date(2023, 1, 1))], date(2022, 6, 1)).kind
    <OrgKind.BRANCH: 'BRANCH'>
    """
    later = sorted((u for u in upgrades if u.on > day), key=lambda u: u.on)
    return replace(org, kind=later[0].before) if later else org


def holds_on(since: date | None, until: date | None, day: date) -> bool:
    """Whether a record dated [since, until) is in effect on `day` (undated ends are open)."""
    return (since is None or since <= day) and (until is None or day < until)


@dataclass(frozen=True, slots=True)
class Members:
    """Party members counted over a set of enterprises."""

    formal: int = 0
    probationary: int = 0

    @property
    def total(self) -> int:
        return self.formal + self.probationary
