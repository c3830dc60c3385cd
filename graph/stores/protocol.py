"""The store interface the GraphQL layer depends on.

Every method is a whole operation over a batch of keys or a scope, never a
node-by-node walk, so a server-backed store answers each in one round trip and a
page of 100 enterprises with their organizations costs one call, not 100.
Batch methods return one answer per key, in key order (None or [] where unknown).

Methods are coroutines: a store backed by a server awaits its driver, and the
embedded store runs whatever grows with the data off the event loop, so a cheap
question is answered while a heavy one runs. A question without `as_of` is asked as
of the store's `today()`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from datetime import date
from typing import Any, Protocol, cast

from graph.access import Boundary
from graph.changes import Change, Receipt
from graph.charts.tree import OrganizationTree
from graph.compliance import ComplianceGroup, Finding, RuleConfig, RuleCount
from graph.model import (
    Building,
    Department,
    Enterprise,
    Instructor,
    Link,
    LinkKind,
    Members,
    Organization,
    OrganizationHistory,
    Park,
)
from graph.organizations import Alliance
from graph.query import (
    Coverage,
    CoverageGroup,
    CoverageState,
    EnterpriseFilter,
    GroupBy,
    OrganizationCount,
    OrganizationFilter,
    OrganizationGrouping,
    OrganizationOrder,
    Page,
    Scope,
)
from graph.rules import Today
from graph.stores.answers import Candidates, Matching, Neighbourhood, Proximity, Simulation


class OrgStore(Protocol):
    today: Today
    """The day a question without a date is asked on (graph.rules.clock)."""

    async def within(self, boundary: Boundary) -> OrgStore:
        """The same store limited to the boundary's world (graph.access): every answer of the
        store it returns is computed over the world's records alone, and what lies outside
        is not there. The store itself for a boundary that limits nothing."""

    async def outside(self, ids: Collection[str]) -> set[str]:
        """Of `ids`, those naming a record of the whole graph that this bounded store's world
        leaves out (an audit entry or a scenario naming one is not shown); empty when unbounded."""

    async def summary(self) -> dict[str, int]:
        """Counts per node and edge kind."""

    async def parks(self) -> list[Park]: ...

    async def buildings(self, parks: Sequence[str]) -> list[list[Building]]: ...

    async def chains(self) -> list[str]: ...

    async def enterprises(self, credit_codes: Sequence[str]) -> list[Enterprise | None]: ...

    async def organizations(self, ids: Sequence[str]) -> list[Organization | None]: ...

    async def children(self, ids: Sequence[str]) -> list[list[Organization]]:
        """Organizations directly PART_OF each organization."""

    async def covered(self, ids: Sequence[str]) -> list[list[Enterprise]]:
        """Enterprises each organization COVERS."""

    async def covering(self, credit_codes: Sequence[str]) -> list[list[Organization]]:
        """Organizations covering each enterprise."""

    async def clusters(self, credit_codes: Sequence[str]) -> list[Organization | None]:
        """The cluster responsible for each enterprise: declared, else its organization's."""

    async def instructors(self, credit_codes: Sequence[str]) -> list[list[Instructor]]: ...

    async def histories(self, ids: Sequence[str]) -> list[OrganizationHistory | None]:
        """Each organization's kinds, parents and COVERS edges over time, ended ones included."""

    async def links(self, ids: Sequence[str]) -> list[list[Link]]:
        """LINK edges touching each organization, department or enterprise."""

    async def members(self, ids: Sequence[str]) -> list[Members]:
        """Members of the ACTIVE enterprises covered by each organization or its subtree."""

    async def coverage_states(self, credit_codes: Sequence[str], as_of: date | None = None) -> list[CoverageState]: ...

    async def find_enterprises(self, where: EnterpriseFilter, offset: int, limit: int) -> Page[Enterprise]: ...

    async def find_organizations(
        self, where: OrganizationFilter, offset: int, limit: int, order: OrganizationOrder = OrganizationOrder.LEDGER
    ) -> Page[Organization]:
        """Organizations `where` lists (graph.organizations.listed), in `order`, a page at a time."""

    async def organization_counts(
        self, by: OrganizationGrouping, scope: Scope, as_of: date | None = None
    ) -> list[OrganizationCount]:
        """The organizations `Coverage.organizations` counts for the scope, per kind (as it was
        then) or formation mode (graph.organizations.counted)."""

    async def alliances(self, scope: Scope, as_of: date | None = None) -> list[Alliance]:
        """The alliances standing then with their lead and members; with a scope, those with a
        member among the organizations covering an enterprise in it."""

    async def coverage(self, scope: Scope, as_of: date | None = None) -> Coverage: ...

    async def coverage_by(self, by: GroupBy, scope: Scope, as_of: date | None = None) -> list[CoverageGroup]: ...

    async def coverage_trend(self, scope: Scope, dates: Sequence[date]) -> list[Coverage]: ...

    async def compliance(self, scope: Scope, as_of: date | None, rules: RuleConfig) -> list[RuleCount]:
        """How many findings each enabled rule has in the scope, in report order."""

    async def findings(
        self, scope: Scope, as_of: date | None, rules: RuleConfig, offset: int, limit: int
    ) -> Page[Finding]:
        """The scope's findings in report order: by severity, rule, then the store's order of subjects."""

    async def findings_about(self, ids: Sequence[str], as_of: date | None, rules: RuleConfig) -> list[list[Finding]]:
        """Findings about each organization (by id) or enterprise (by credit code)."""

    async def compliance_by(
        self, by: GroupBy, scope: Scope, as_of: date | None, rules: RuleConfig
    ) -> list[ComplianceGroup]:
        """Counts per rule for each group of `by` with enterprises in the scope."""

    async def apply(self, changes: Sequence[Change], who: str, request_id: str | None = None) -> Receipt:
        """Apply a change set for `who`: every change in order, all or none, kept before it
        returns. ChangeRejected (nothing written) when a change breaks a rule; ReadOnly from
        a store that cannot keep changes. A `request_id` committed before is written no
        second time: the answer is the first receipt, `repeated`."""

    async def departments(self, ids: Sequence[str]) -> list[Department | None]: ...

    async def candidates(self, scope: Scope, proximity: Proximity, max_formal: int) -> Candidates:
        """The enterprises a joint branch may take today: ACTIVE, in scope, covered by no
        organization, fewer than `max_formal` formal members; each with its place."""

    async def neighbourhood(self, credit_code: str, max_formal: int) -> Neighbourhood:
        """The joint branches and the enterprises without an organization (fewer than
        `max_formal` formal members) near an enterprise that has none: same building, same
        cluster, or a supply link. NotFound for an unknown enterprise; InvalidArgument for
        one covered by an organization already."""

    async def pairings(self, scope: Scope, kinds: frozenset[LinkKind]) -> list[Link]:
        """LINK edges of `kinds` in effect today with an end in the scope (an enterprise in it,
        or an organization covering one)."""

    async def unpaired_key_enterprises(self, scope: Scope, offset: int, limit: int) -> Page[Enterprise]:
        """Key enterprises (重点企业) counted in the scope that no PAIRING link in effect reaches,
        directly or through an organization covering them."""

    async def pair_departments(self, scope: Scope, every_department: bool = False) -> Matching:
        """The one-to-one pairing of departments with the scope's key enterprises (graph.pairing)."""

    async def simulate(
        self, changes: Sequence[Change], scope: Scope, as_of: date | None, rules: RuleConfig
    ) -> Simulation:
        """What `changes` would do on `as_of` (today or later) if applied, nothing written:
        coverage before and after, the change per cluster, findings created and resolved.
        ChangeRejected exactly as `apply` would refuse the set."""

    async def organization_tree(
        self, root_id: str, depth: int, as_of: date | None = None, links: bool = False
    ) -> OrganizationTree:
        """The root and the organizations under it established by `as_of`, `depth` levels down,
        with their figures; with `links`, the LINK edges touching them. NotFound for an unknown
        root, or one not yet established."""


class Within:
    """A store seen through a boundary: every question goes to `store.within(boundary)`,
    asked on first use, inside the request's time budget."""

    def __init__(self, store: OrgStore, boundary: Boundary):
        self._store = store
        self.boundary = boundary
        self._world: OrgStore | None = None
        self.today = store.today

    async def world(self) -> OrgStore:
        """The store of the boundary's world."""
        if self._world is None:
            self._world = await self._store.within(self.boundary)
        return self._world

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        async def call(*args: Any, **kwargs: Any) -> Any:
            return await getattr(await self.world(), name)(*args, **kwargs)

        return call


def seen_by(store: OrgStore, boundary: Boundary) -> OrgStore:
    """`store` as a caller limited to `boundary` sees it: through `Within`, or itself when nothing is limited."""
    return store if boundary.everywhere else cast(OrgStore, Within(store, boundary))
