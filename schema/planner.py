"""Planners' questions in GraphQL: pairings, simulation, the joint-branch planner, scenarios.

Thin views of graph.pairing, graph.simulation, graph.planner and graph.scenarios.
Changes come in as `ChangeInput`s and go out in the same form (JSON), so a plan or a
suggestion can be passed straight back to `simulate`, `saveScenario` or `applyChanges`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON

from graph import model, pairing, planner, query, simulation
from graph.access import Role
from graph.changes import Change
from graph.compliance import RuleCode as Rules
from graph.scenarios import Scenario as KeptScenario
from schema.compliance import Finding
from schema.context import ChainorgInfo
from schema.inputs import ScopeInput, scope_of
from schema.limits import cost, needs
from schema.mutations import ChangeInput, ChangeReceipt, as_input, as_named
from schema.pagination import DEFAULT_PAGE, PAGE, After, First, connection, offset_after, page_size
from schema.types import AsOf, Category, Coverage, Enterprise, EnterpriseConnection, LinkKind, Organization, described

PlanMethod = planner.PlanMethod
described(
    PlanMethod, "PlanMethod", "How the joint-branch planner works.",
    {"GREEDY": "Fast at any size; its optimalityGap is a proven bound.",
     "OPTIMAL": f"Exact (an integer programme); refused above {planner.MAX_OPTIMAL_VARIABLES:,} variables.",
     "AUTO": f"OPTIMAL up to {planner.AUTO_OPTIMAL_VARIABLES:,} variables, GREEDY above."},
)  # fmt: skip
Proximity = planner.Proximity
described(
    Proximity, "Proximity", "How near enterprises must be to share a joint branch.",
    {"BUILDING": "The same building, maker space or business district (楼宇).", "PARK": "The same park.",
     "CLUSTER": "The same party-mass cluster."},
)  # fmt: skip
PairingOptionKind = pairing.OptionKind
described(
    PairingOptionKind, "PairingOptionKind", "A way for an enterprise to be covered.",
    {"JOIN": "Join an existing joint branch with room.", "FORM": "Form a new joint branch with neighbours."},
)  # fmt: skip
JOINT_BUILDING = frozenset({model.LinkKind.PAIRING, model.LinkKind.CHAIN_CO_BUILD, model.LinkKind.ASSOCIATION_HELP,
                            model.LinkKind.PARK_JOINT})  # fmt: skip
Scope = Annotated[ScopeInput | None, strawberry.argument(description="Which enterprises; default: all of them.")]
Name = Annotated[str, strawberry.argument(description="The scenario's name.")]
Changes = Annotated[list[ChangeInput], strawberry.argument(description="The changes, in order, as for applyChanges.")]


async def _simulated(
    info: ChainorgInfo, given: list[ChangeInput], scope: query.Scope, as_of: date | None
) -> tuple[list[Change], simulation.Simulation]:
    """The changes asked for, and their simulation; a rejection names the input field at fault."""
    named = [change.chosen() for change in given]
    changes = [change for _, change in named]
    with as_named(named):
        return changes, await info.context.store.simulate(changes, scope, as_of, info.context.rules)


def _as_inputs(changes: list[Change]) -> JSON:
    return JSON([as_input(change) for change in changes])


@strawberry.type(description="How coverage counts change: after minus before (negative: fewer).")
class CoverageChange:
    enterprises: int = strawberry.field(description="ACTIVE enterprises in scope.")
    organization_covered: int = strawberry.field(description="Covered by an organization (组织覆盖).")
    work_covered: int = strawberry.field(description="Reached by work alone (工作覆盖).")
    formal_members: int = strawberry.field(description="Formal members in the ACTIVE enterprises.")
    organizations: int = strawberry.field(description="Organizations covering enterprises in scope.")

    @classmethod
    def of(cls, change: query.Coverage) -> CoverageChange:
        return cls(
            enterprises=change.enterprises, organization_covered=change.organization_covered,
            work_covered=change.work_covered, formal_members=change.formal_members, organizations=change.organizations,
        )  # fmt: skip


@strawberry.type(description="A cluster whose coverage a change set changes.")
class ClusterChange:
    key: str = strawberry.field(description="The cluster's id (empty: enterprises under no cluster).")
    label: str = strawberry.field(description="Its name.")
    change: CoverageChange = strawberry.field(description="Its coverage after minus before.")


@strawberry.type(description="What a change set would do, nothing written (模拟).")
class SimulationResult:
    as_of: date = strawberry.field(description="The day asked about.")
    changes: int = strawberry.field(description="Changes simulated.")
    before: Coverage = strawberry.field(description="Coverage of the scope now.")
    after: Coverage = strawberry.field(description="Coverage of the scope with the changes.")
    change: CoverageChange = strawberry.field(description="after minus before.")
    clusters: list[ClusterChange] = strawberry.field(description="Per cluster that changes, the change.")
    created: list[Finding] = strawberry.field(description="Compliance findings the changes would create.")
    resolved: list[Finding] = strawberry.field(description="Compliance findings the changes would resolve.")

    @classmethod
    def of(cls, found: simulation.Simulation) -> SimulationResult:
        return cls(
            as_of=found.day, changes=found.changes, before=Coverage.of(found.before), after=Coverage.of(found.after),
            change=CoverageChange.of(found.after - found.before),
            clusters=[ClusterChange(key=g.key, label=g.label, change=CoverageChange.of(g.coverage))
                      for g in found.clusters],
            created=[Finding.of(f) for f in found.created], resolved=[Finding.of(f) for f in found.resolved],
        )  # fmt: skip


@strawberry.type(description="A joint branch the planner proposes (联合党支部).")
class PlannedBranch:
    id: strawberry.ID = strawberry.field(description="A proposed id, free now.")
    name: str = strawberry.field(description="A proposed name, from its place.")
    place: str = strawberry.field(description="The building, park or cluster its enterprises share.")
    parent_id: strawberry.ID | None = strawberry.field(description="The cluster most of its enterprises are under.")
    enterprises: list[Enterprise] = strawberry.field(description="Its enterprises.")
    formal_members: int = strawberry.field(description="Their formal members together.")


@strawberry.type(description="A plan of joint branches (联合组建方案); nothing is written.")
class JointBranchPlan:
    branches: list[PlannedBranch] = strawberry.field(description="The branches, by place.")
    enterprises_covered: int = strawberry.field(description="Enterprises the branches would cover.")
    eligible: int = strawberry.field(
        description="Enterprises in scope a joint branch may take: ACTIVE, no organization, too few formal members "
        "for their own."
    )
    unplaced: int = strawberry.field(description="Of those, with no place under the proximity (no building recorded).")
    upper_bound: int = strawberry.field(description="No plan covers more: proven (the optimum, or a counting bound).")
    coverage_before: Coverage = strawberry.field(description="Coverage of the scope now.")
    coverage_after: Coverage = strawberry.field(description="Coverage of the scope with the plan.")
    method: PlanMethod = strawberry.field(description="How it was made (what AUTO chose).")
    optimality_gap: float | None = strawberry.field(
        description="At most this share of the optimum's coverage is missed: 0 for OPTIMAL; for GREEDY "
        "(upperBound - enterprisesCovered) / upperBound, a proven bound."
    )
    changes: JSON = strawberry.field(
        description="The plan as ChangeInputs: pass to simulate, saveScenario or applyChanges."
    )


@strawberry.type(description="A reason for a score, and what it adds.")
class Reason:
    says: str = strawberry.field(description="The reason.")
    points: float = strawberry.field(description="What it adds to the score.")

    @classmethod
    def all(cls, reasons: list[pairing.Reason]) -> list[Reason]:
        return [cls(says=r.says, points=r.points) for r in reasons]


@strawberry.type(description="A way for an enterprise without its own organization to be covered (结对建议).")
class PairingSuggestion:
    kind: PairingOptionKind = strawberry.field(description="Join a joint branch with room, or form a new one.")
    score: float = strawberry.field(description="The sum of the reasons' points; best first.")
    reasons: list[Reason] = strawberry.field(description="Why.")
    joint_branch: Organization | None = strawberry.field(description="JOIN: the joint branch.")
    enterprises: list[Enterprise] = strawberry.field(description="FORM: the new branch's enterprises, this one first.")
    formal_members: int = strawberry.field(description="Formal members of the branch once joined or formed.")
    changes: JSON = strawberry.field(description="What enacts it, as ChangeInputs.")


@strawberry.type(description="One end of a link: an organization, a department or an enterprise.")
class LinkEnd:
    id: strawberry.ID = strawberry.field(description="Its id, or the enterprise's credit code.")
    name: str = strawberry.field(description="Its name; the id when it is not known.")
    type: str = strawberry.field(description="ORGANIZATION, DEPARTMENT or ENTERPRISE.")


@strawberry.type(description="A pairing or joint-building link in effect (结对 / 共建).")
class Pairing:
    source: LinkEnd = strawberry.field(description="Who mentors or builds.")
    target: LinkEnd = strawberry.field(description="Who is mentored or built with.")
    kind: LinkKind = strawberry.field(description="Its kind.")
    since: date | None = strawberry.field(description="Since when.")


@strawberry.type(description="A government department (部门) that pairs with enterprises.")
class Department:
    id: strawberry.ID = strawberry.field(description="Its id.")
    name: str = strawberry.field(description="Its name.")
    sector: Category | None = strawberry.field(description="The industry category it looks after (对口行业).")


@strawberry.type(description="A department paired with a key enterprise (一对一结对指导帮扶).")
class DepartmentPairing:
    department: Department = strawberry.field(description="The department.")
    enterprise: Enterprise = strawberry.field(description="The key enterprise.")
    weight: float = strawberry.field(description="How well they suit each other: the sum of the reasons.")
    reasons: list[Reason] = strawberry.field(description="The weight, explained.")


@strawberry.type(description="A maximum-weight one-to-one pairing of departments with key enterprises.")
class DepartmentMatching:
    pairs: list[DepartmentPairing] = strawberry.field(description="The pairs, in department order.")
    total_weight: float = strawberry.field(description="Their weights together: no one-to-one pairing has more.")
    key_enterprises: int = strawberry.field(description="Key enterprises in scope.")


@strawberry.type(description="A named change set kept in the state (方案).")
class Scenario:
    name: str = strawberry.field(description="Its name.")
    saved_at: datetime = strawberry.field(description="When it was saved (UTC).")
    who: str = strawberry.field(description="Who saved it.")
    change_count: int = strawberry.field(description="How many changes it holds.")
    changes: JSON = strawberry.field(description="Its changes, as ChangeInputs.")
    applied_change_set: int | None = strawberry.field(description="The change set that applied it; empty until then.")
    renumbered: list[RenumberedId] = strawberry.field(
        description="Organizations it creates whose proposed ids were taken since it was saved, with the ids "
        "they take instead; its changes (and what it simulates and applies) use those."
    )
    kept: strawberry.Private[KeptScenario]

    @classmethod
    def of(cls, kept: KeptScenario) -> Scenario:
        return cls(
            name=kept.name, saved_at=kept.saved_at, who=kept.who, change_count=len(kept.changes),
            changes=_as_inputs(kept.changes), applied_change_set=kept.applied_change_set,
            renumbered=[RenumberedId(proposed=strawberry.ID(old), now=strawberry.ID(new))
                        for old, new in kept.renumbered.items()],
            kept=kept,
        )  # fmt: skip

    @strawberry.field(description="What it would do now, nothing written.", metadata=cost(own=50))
    async def simulation(self, info: ChainorgInfo, scope: Scope = None, as_of: AsOf = None) -> SimulationResult:
        found = await info.context.store.simulate(self.kept.changes, scope_of(scope), as_of, info.context.rules)
        return SimulationResult.of(found)


@strawberry.type(description="An id a scenario proposed, taken since, and the one it takes instead.")
class RenumberedId:
    proposed: strawberry.ID = strawberry.field(description="The id it proposed.")
    now: strawberry.ID = strawberry.field(description="The id it takes instead.")


@strawberry.type(description="Two scenarios simulated side by side.")
class ScenarioComparison:
    a: Scenario = strawberry.field(description="The first.")
    b: Scenario = strawberry.field(description="The second.")
    a_result: SimulationResult = strawberry.field(description="What the first would do.")
    b_result: SimulationResult = strawberry.field(description="What the second would do.")
    b_minus_a: CoverageChange = strawberry.field(description="The second's coverage after minus the first's.")


@strawberry.type(description="A scenario applied: its changes are on disk as one change set.")
class ScenarioApplied:
    scenario: Scenario = strawberry.field(description="The scenario, with the change set that applied it.")
    receipt: ChangeReceipt = strawberry.field(description="The change set.")


def _must_build(info: ChainorgInfo) -> int:
    """Formal members from which an enterprise forms its own organization (the MUST_BUILD rule's threshold)."""
    return info.context.rules.setting(Rules.MUST_BUILD)["min_formal_members"]


async def _enterprises(info: ChainorgInfo, codes: list[str]) -> list[Enterprise]:
    found = await info.context.loaders.enterprise.load_many(codes)
    return [Enterprise.of(e) for e in found if e is not None]


@strawberry.type
class PlannerQuery:
    @strawberry.field(
        description="What a change set would do, nothing written: coverage before and after, the change per "
        "cluster, and the findings it would create or resolve. `asOf`: today or later. An invalid change is "
        "refused as applyChanges would refuse it, and nothing changes.",
        metadata={**cost(own=50), **needs(Role.PLANNER)},
    )
    async def simulate(
        self, info: ChainorgInfo, changes: Changes, scope: Scope = None, as_of: AsOf = None
    ) -> SimulationResult:
        return SimulationResult.of((await _simulated(info, changes, scope_of(scope), as_of))[1])

    @strawberry.field(
        description="Plan joint branches for the enterprises in scope with no organization and too few formal "
        "members for their own: each branch within the proximity, at most `maxUnits` enterprises, at least "
        "`minFormalMembers` formal members; as many enterprises covered as possible, then as few branches. "
        f"OPTIMAL is exact and refuses programmes of more than {planner.MAX_OPTIMAL_VARIABLES:,} variables; "
        f"AUTO is exact up to {planner.AUTO_OPTIMAL_VARIABLES:,}, greedy above. Nothing is written.",
        metadata={**cost(own=200), **needs(Role.PLANNER)},
    )
    async def plan_joint_branches(
        self,
        info: ChainorgInfo,
        scope: Scope = None,
        max_units: Annotated[int, strawberry.argument(description="Most enterprises per branch.")] = 5,
        min_formal_members: Annotated[int, strawberry.argument(description="Fewest formal members per branch.")] = 3,
        proximity: Annotated[Proximity, strawberry.argument(description="How near a branch's enterprises are.")] = (
            planner.Proximity.BUILDING
        ),
        method: Annotated[PlanMethod, strawberry.argument(description="GREEDY, OPTIMAL or AUTO.")] = (
            planner.PlanMethod.AUTO
        ),
    ) -> JointBranchPlan:
        limits = planner.Limits(max_units, min_formal_members)
        found = await planner.plan_joint_branches(
            info.context.store, scope_of(scope), limits, proximity, method, _must_build(info)
        )
        made = found.plan
        known = {
            e.credit_code: e for e in await _enterprises(info, [c for b in found.branches for c in b.credit_codes])
        }
        return JointBranchPlan(
            branches=[
                PlannedBranch(
                    id=strawberry.ID(b.id), name=b.name, place=b.place,
                    parent_id=strawberry.ID(b.parent_id) if b.parent_id else None,
                    enterprises=[known[c] for c in b.credit_codes], formal_members=b.formal_members,
                )
                for b in found.branches
            ],
            enterprises_covered=made.covered, eligible=found.eligible, unplaced=found.unplaced,
            upper_bound=made.bound, coverage_before=Coverage.of(found.before), coverage_after=Coverage.of(found.after),
            method=made.method, optimality_gap=made.gap, changes=_as_inputs(found.changes()),
        )  # fmt: skip

    @strawberry.field(
        description="Pairing and joint-building links in effect (结对 / 共建) with an end in the scope, with both "
        "sides. Default kinds: PAIRING, CHAIN_CO_BUILD, ASSOCIATION_HELP and PARK_JOINT.",
        metadata=cost(own=20, items=100),
    )
    async def pairings(
        self,
        info: ChainorgInfo,
        scope: Scope = None,
        kind: Annotated[LinkKind | None, strawberry.argument(description="Only links of this kind.")] = None,
    ) -> list[Pairing]:
        store = info.context.store
        links = await store.pairings(scope_of(scope), frozenset({kind}) if kind else JOINT_BUILDING)
        ends = sorted({end for link in links for end in (link.source_id, link.target_id)})
        orgs, departments, enterprises = (
            await store.organizations(ends), await store.departments(ends), await store.enterprises(ends)
        )  # fmt: skip
        named: dict[str, LinkEnd] = {}
        for end, org, department, enterprise in zip(ends, orgs, departments, enterprises, strict=True):
            found: Any = org or department or enterprise
            kind_of = "ORGANIZATION" if org else "DEPARTMENT" if department else "ENTERPRISE"
            named[end] = LinkEnd(id=strawberry.ID(end), name=found.name if found else end, type=kind_of)
        return [
            Pairing(source=named[k.source_id], target=named[k.target_id], kind=k.kind, since=k.since) for k in links
        ]

    @strawberry.field(
        description="Key enterprises (重点企业) in scope that no department or organization is paired with (结对), "
        "directly or through an organization covering them; a page at a time.",
        metadata=cost(items=PAGE),
    )
    async def unpaired_key_enterprises(
        self, info: ChainorgInfo, scope: Scope = None, first: First = DEFAULT_PAGE, after: After = None
    ) -> EnterpriseConnection:
        page = await info.context.store.unpaired_key_enterprises(scope_of(scope), offset_after(after), page_size(first))
        return connection(EnterpriseConnection, page, [Enterprise.of(e) for e in page.items])

    @strawberry.field(
        description="For an enterprise with no organization: ranked ways to be covered — join a joint branch "
        "with room, or form one with named neighbours — each with its score, reasons and changes.",
        metadata={**cost(own=20), **needs(Role.PLANNER)},
    )
    async def pairing_suggestions(
        self,
        info: ChainorgInfo,
        enterprise: Annotated[strawberry.ID, strawberry.argument(description="The enterprise's credit code.")],
        limit: Annotated[
            int, strawberry.argument(description=f"At most this many, 1 to {pairing.MAX_SUGGESTIONS}.")
        ] = 5,
    ) -> list[PairingSuggestion]:
        options = await pairing.suggest(info.context.store, enterprise, limit, _must_build(info))
        return [
            PairingSuggestion(
                kind=o.kind, score=o.score, reasons=Reason.all(o.reasons),
                joint_branch=Organization.of(o.joint_branch) if o.joint_branch else None,
                enterprises=[Enterprise.of(e) for e in o.enterprises], formal_members=o.formal_members,
                changes=_as_inputs(o.changes),
            )
            for o in options
        ]  # fmt: skip

    @strawberry.field(
        description="The one-to-one pairing of government departments with the scope's key enterprises "
        "(一对一结对指导帮扶) of greatest total weight, each weight explained: the department's sector against "
        "the enterprise's category, a pairing in effect, the department's load.",
        metadata={**cost(own=50), **needs(Role.PLANNER)},
    )
    async def pair_departments(
        self,
        info: ChainorgInfo,
        scope: Scope = None,
        every_department: Annotated[
            bool,
            strawberry.argument(
                description="Give every department an enterprise while there are enough, even where a pair's "
                "weight is negative; by default a pair that would lower the total is left out."
            ),
        ] = False,
    ) -> DepartmentMatching:
        matching = await info.context.store.pair_departments(scope_of(scope), every_department)
        return DepartmentMatching(
            pairs=[
                DepartmentPairing(
                    department=Department(id=strawberry.ID(p.department.id), name=p.department.name,
                                          sector=p.department.sector),
                    enterprise=Enterprise.of(p.enterprise), weight=p.weight, reasons=Reason.all(p.reasons),
                )
                for p in matching.pairs
            ],
            total_weight=matching.total_weight, key_enterprises=matching.key_enterprises,
        )  # fmt: skip

    @strawberry.field(
        description="The scenarios kept in the state, by name.", metadata={**cost(items=50), **needs(Role.PLANNER)}
    )
    async def scenarios(self, info: ChainorgInfo) -> list[Scenario]:
        state = info.context.writable()
        return [Scenario.of(s) for s in await state.scenarios(await info.context.world())]

    @strawberry.field(description="One scenario by its name.", metadata=needs(Role.PLANNER))
    async def scenario(self, info: ChainorgInfo, name: Name) -> Scenario:
        state = info.context.writable()
        return Scenario.of(await state.scenario(name, await info.context.world()))

    @strawberry.field(
        description="Two scenarios simulated side by side.", metadata={**cost(own=100), **needs(Role.PLANNER)}
    )
    async def compare_scenarios(
        self,
        info: ChainorgInfo,
        a: Annotated[str, strawberry.argument(description="The first scenario's name.")],
        b: Annotated[str, strawberry.argument(description="The second scenario's name.")],
        scope: Scope = None,
        as_of: AsOf = None,
    ) -> ScenarioComparison:
        state, store, rules = info.context.writable(), info.context.store, info.context.rules
        world = await info.context.world()
        first, second = await state.scenario(a, world), await state.scenario(b, world)
        results = [await store.simulate(s.changes, scope_of(scope), as_of, rules) for s in (first, second)]
        return ScenarioComparison(
            a=Scenario.of(first), b=Scenario.of(second),
            a_result=SimulationResult.of(results[0]), b_result=SimulationResult.of(results[1]),
            b_minus_a=CoverageChange.of(results[1].after - results[0].after),
        )  # fmt: skip


@strawberry.type
class ScenarioMutation:
    @strawberry.mutation(
        description="Keep a change set as a named scenario in the state. Its changes are checked as a write "
        "would check them (refused the same way); nothing else is written.",
        metadata=needs(Role.PLANNER),
    )
    async def save_scenario(
        self,
        info: ChainorgInfo,
        name: Name,
        changes: Changes,
        replace: Annotated[bool, strawberry.argument(description="Overwrite a scenario of that name.")] = False,
    ) -> Scenario:
        state = info.context.writable()
        chosen, _ = await _simulated(info, changes, query.Scope(), None)
        return Scenario.of(await state.save_scenario(name, chosen, info.context.who, replace))

    @strawberry.mutation(
        description="Apply a scenario: its changes as one change set, all or none, into the audit trail; once."
    )
    async def apply_scenario(self, info: ChainorgInfo, name: Name) -> ScenarioApplied:
        state = info.context.writable()
        kept, done = await state.apply_scenario(name, info.context.who, await info.context.world())
        return ScenarioApplied(scenario=Scenario.of(kept), receipt=ChangeReceipt.of(done))
