"""Joint-branch planning (联合组建): group small enterprises into joint branches.

The enterprises to place have no organization and too few formal members for one of
their own. They sit in proximity classes (a building, a park, a cluster); a branch
takes enterprises of one class, at most `max_units` of them and at least
`min_formal` formal members together. A plan covers as many enterprises as it can and,
among plans covering as many, forms the fewest branches.

Within a class, enterprises differ only by their formal members, so a branch is a
*pattern*: how many enterprises of each member count it takes. The exact planner
solves an integer programme over pattern counts per class (`scipy.optimize.milp`),
which is a set partitioning with interchangeable items and so exactly the optimum;
classes with the same member counts share their solution. The greedy planner forms branches one
at a time and proves how far it may be from the optimum with a counting bound.

>>> plan([[2, 1, 0, 0], [1, 1]], Limits(max_units=3, min_formal=3), PlanMethod.OPTIMAL).branches
[(0, 1, 3)]
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from itertools import combinations_with_replacement, product
from math import comb, prod
from typing import TYPE_CHECKING

import numpy as np

from graph import solver
from graph.changes import Change, CoverEnterprises, CreateOrganization
from graph.deadline import TimedOut, remaining
from graph.errors import ChainorgError, InvalidArgument
from graph.model import FormationMode, Organization, OrgKind
from graph.query import Coverage, Scope
from graph.stores.answers import Proximity
from graph.threads import offload

if TYPE_CHECKING:
    from graph.stores.protocol import OrgStore

MAX_OPTIMAL_VARIABLES = 200_000  # integer variables (patterns over distinct classes) OPTIMAL takes on
OPTIMAL_SECONDS = 60.0  # the solver's time limit; a proof not found by then is an error
AUTO_OPTIMAL_VARIABLES = 20_000  # AUTO solves exactly up to this size, greedily above it


class PlanMethod(StrEnum):
    GREEDY = "GREEDY"  # fast at any size; its gap to the optimum is bounded
    OPTIMAL = "OPTIMAL"  # exact; refused above MAX_OPTIMAL_VARIABLES
    AUTO = "AUTO"  # OPTIMAL up to AUTO_OPTIMAL_VARIABLES, GREEDY above


class PlanTooLarge(ChainorgError):
    """The exact planner was asked for more than it takes on: use GREEDY or AUTO, or a smaller scope."""

    code = "PLAN_TOO_LARGE"


@dataclass(frozen=True, slots=True)
class Limits:
    """What a joint branch may be: at most `max_units` enterprises, at least `min_formal` formal members."""

    max_units: int = 5
    min_formal: int = 3

    def __post_init__(self) -> None:
        if not 1 <= self.max_units <= 50:
            raise InvalidArgument(f"maxUnits must be from 1 to 50, got {self.max_units}")
        if not 1 <= self.min_formal <= 100:
            raise InvalidArgument(f"minFormalMembers must be from 1 to 100, got {self.min_formal}")


@dataclass(frozen=True, slots=True)
class Plan:
    """Branches as tuples of item indexes (into the flattened classes), and how good the plan is."""

    branches: list[tuple[int, ...]]
    covered: int
    method: PlanMethod  # GREEDY or OPTIMAL: what AUTO chose
    bound: int  # no plan covers more: the optimum (OPTIMAL) or a counting bound (GREEDY)

    @property
    def gap(self) -> float:
        """At most how much of the optimum's coverage the plan misses (0.0: it is optimal)."""
        return (self.bound - self.covered) / self.bound if self.bound else 0.0


def plan(
    classes: Sequence[Sequence[int]],
    limits: Limits,
    method: PlanMethod = PlanMethod.AUTO,
    seconds: float = OPTIMAL_SECONDS,
) -> Plan:
    """Joint branches over proximity classes, given as the formal members of each item.

    Items are numbered across the classes in order, and a branch lists its items. An exact
    solve stops after `seconds` (the request's time left): one not proven by then is an error.

    >>> found = plan([[2, 2, 2, 0, 0, 0]], Limits(), PlanMethod.GREEDY)
    >>> found.branches, found.covered, found.bound
    ([(0, 1, 2, 3, 4)], 5, 6)
    """
    starts = np.cumsum([0, *(len(c) for c in classes)]).tolist()
    bound = sum(coverage_bound(formal, limits) for formal in classes)
    if method is not PlanMethod.GREEDY:
        size = _variables(classes, limits)
        if method is PlanMethod.OPTIMAL and size > MAX_OPTIMAL_VARIABLES:
            raise PlanTooLarge(
                f"the exact planner would solve {size:,} integer variables, more than {MAX_OPTIMAL_VARIABLES:,}: "
                "ask for GREEDY (its gap is proven) or AUTO, or plan one park or cluster at a time"
            )
        if size <= (MAX_OPTIMAL_VARIABLES if method is PlanMethod.OPTIMAL else AUTO_OPTIMAL_VARIABLES):
            branches = _optimal(classes, limits, seconds)
            found = [tuple(starts[c] + i for i in b) for c, per in enumerate(branches) for b in per]
            covered = sum(map(len, found))
            return Plan(found, covered, PlanMethod.OPTIMAL, covered)
    found = [tuple(starts[c] + i for i in b) for c, formal in enumerate(classes) for b in greedy(formal, limits)]
    return Plan(found, sum(map(len, found)), PlanMethod.GREEDY, bound)


def coverage_bound(formal: Sequence[int], limits: Limits) -> int:
    """No plan covers more of a class than this: each branch needs `min_formal` of the
    class's formal members and holds at most `max_units`, and there are only so many items.

    >>> coverage_bound([2, 2, 1, 0, 0, 0, 0, 0], Limits())
    5
    """
    return min(len(formal), limits.max_units * (sum(formal) // limits.min_formal))


def greedy(formal: Sequence[int], limits: Limits) -> list[list[int]]:
    """Branches of one class, greedily: each new branch starts from the item with the most
    formal members and completes with the item that just suffices (else the next largest);
    the rest fill the branches with the fewest units; if nothing is left over, branches
    that fit together merge.

    >>> greedy([2, 1, 1, 1, 0, 0], Limits(max_units=5, min_formal=3))
    [[0, 1, 2, 3, 4]]
    >>> greedy([2, 1, 2, 1, 1, 1, 0], Limits(max_units=5, min_formal=3))
    [[0, 1, 4, 6], [2, 3, 5]]
    """
    buckets: dict[int, list[int]] = {}
    for item in reversed(range(len(formal))):
        buckets.setdefault(formal[item], []).append(item)  # a bucket pops its earliest item first
    values = sorted((v for v in buckets if v > 0), reverse=True)

    def take(members: int) -> int:
        items = buckets[members]
        item = items.pop()
        if not items:
            values.remove(members)
        return item

    branches: list[list[int]] = []
    while values:
        branch = [take(values[0])]
        need = limits.min_formal - formal[branch[0]]
        while need > 0 and values and len(branch) < limits.max_units:
            enough = [v for v in values if v >= need]
            branch.append(take(enough[-1] if enough else values[0]))
            need -= formal[branch[-1]]
        if need > 0:  # too few members left for another branch: these fill the branches formed
            buckets.setdefault(0, []).extend(branch)
            break
        branches.append(branch)
    spare = sorted((item for items in buckets.values() for item in items), key=lambda i: (-formal[i], i))
    for item in spare:
        room = [b for b in branches if len(b) < limits.max_units]
        if not room:
            break
        min(room, key=len).append(item)
    else:
        branches = _merged(branches, limits.max_units)
    return [sorted(b) for b in branches]


def _merged(branches: list[list[int]], max_units: int) -> list[list[int]]:
    """Branches put together where they fit (first fit, largest first): fewer branches, as many units."""
    merged: list[list[int]] = []
    for branch in sorted(branches, key=len, reverse=True):
        fits = next((m for m in merged if len(m) + len(branch) <= max_units), None)
        if fits is None:
            merged.append(list(branch))
        else:
            fits.extend(branch)
    return merged


def _patterns(counts: Counter[int], limits: Limits) -> list[tuple[int, ...]]:
    """Every branch a class allows, as a multiset of member counts. Listed the cheaper of two
    ways, so the work is `_listing_cost`, never more: as multisets of at most `max_units`
    member counts, or as how many of each member count the class's items allow."""
    kinds = sorted(counts)
    most = [min(counts[k], limits.max_units) for k in kinds]
    if comb(limits.max_units + len(kinds), len(kinds)) <= prod(m + 1 for m in most):
        listed: Iterable[tuple[int, ...]] = (
            pattern
            for size in range(1, limits.max_units + 1)
            for pattern in combinations_with_replacement(kinds, size)
            if all(pattern.count(k) <= counts[k] for k in set(pattern))
        )
    else:
        listed = (
            tuple(k for k, n in zip(kinds, taken, strict=True) for _ in range(n))
            for taken in product(*(range(m + 1) for m in most))
            if 1 <= sum(taken) <= limits.max_units
        )
    return sorted((p for p in listed if sum(p) >= limits.min_formal), key=lambda p: (len(p), p))


def _listing_cost(counts: Counter[int], limits: Limits) -> int:
    """How many candidates `_patterns` looks at for a class: known before any is listed."""
    kinds = sorted(counts)
    most = [min(counts[k], limits.max_units) for k in kinds]
    return min(comb(limits.max_units + len(kinds), len(kinds)), prod(m + 1 for m in most)) - 1


def _variables(classes: Sequence[Sequence[int]], limits: Limits) -> int:
    """How many integer variables the exact programme has: patterns over the distinct classes.

    Counted by listing them only where the listing's cost, known beforehand, is small
    enough: above it, that cost stands for the size (the programme is refused or left to
    GREEDY without anything being listed)."""
    signatures = {tuple(sorted(Counter(formal).items())) for formal in classes}
    bounds = [_listing_cost(Counter(dict(s)), limits) for s in signatures]
    if sum(bounds) > MAX_OPTIMAL_VARIABLES:
        return sum(bounds)
    return sum(len(_patterns(Counter(dict(signature)), limits)) for signature in signatures)


def _optimal(classes: Sequence[Sequence[int]], limits: Limits, seconds: float) -> list[list[list[int]]]:
    """The optimum per class. Classes with the same member counts share one solution, and
    each is an integer programme of how many branches of each pattern to form within the
    class's items of each member count (the classes are independent, so one programme each).
    The programmes are solved together in one child process, proven within `seconds`."""
    signatures = sorted({tuple(sorted(Counter(formal).items())) for formal in classes})
    listed = {signature: _patterns(Counter(dict(signature)), limits) for signature in signatures}
    posed = [signature for signature in signatures if listed[signature]]
    results = _solved([_programme(dict(signature), listed[signature]) for signature in posed], seconds)
    solution: dict[tuple[tuple[int, int], ...], list[tuple[tuple[int, ...], int]]] = {s: [] for s in signatures}
    for signature, result in zip(posed, results, strict=True):
        assert result.x is not None  # _solved refused any programme without a solution
        chosen = np.rint(result.x).astype(np.int64).tolist()
        solution[signature] = [(p, n) for p, n in zip(listed[signature], chosen, strict=True) if n]
    found = []
    for formal in classes:
        by_kind: dict[int, list[int]] = {}
        for item, members in enumerate(formal):
            by_kind.setdefault(members, []).append(item)
        per = []
        for pattern, times in solution[tuple(sorted(Counter(formal).items()))]:
            for _ in range(times):
                per.append(sorted(by_kind[members].pop() for members in pattern))
        found.append(per)
    return found


def _programme(counts: dict[int, int], patterns: list[tuple[int, ...]]) -> solver.Programme:
    """How many branches of each pattern to form within a class's items of each member count,
    covering the most enterprises and, among plans covering as many, forming fewest branches."""
    kinds = sorted(counts)
    weight = 1 + sum(counts.values())  # one more enterprise covered outweighs any number of branches saved
    return solver.Programme(
        cost=np.array([-(len(p) * weight - 1) for p in patterns], dtype=np.float64),
        matrix=np.array([[p.count(kind) for p in patterns] for kind in kinds], dtype=np.float64),
        upper=np.array([counts[k] for k in kinds], dtype=np.float64),
    )


def _solved(programmes: list[solver.Programme], seconds: float) -> list[solver.Solved]:
    """Each programme's proven optimum within `seconds` (the request's time left when under
    OPTIMAL_SECONDS: then running out is TimedOut, else the plan is too large)."""
    request_bound = seconds < OPTIMAL_SECONDS
    try:
        results = solver.solve(programmes, time.monotonic() + seconds) if programmes else []
    except solver.OutOfTime:
        if request_bound:
            raise TimedOut("the request's time budget ran out before the exact planner had its proof") from None
        raise PlanTooLarge(
            f"the exact planner found no proven optimum within {OPTIMAL_SECONDS:g} s; ask for GREEDY or AUTO"
        ) from None
    except solver.OutOfMemory:
        raise PlanTooLarge(
            f"the exact planner needed more than {solver.MEMORY_BYTES >> 30} GB; ask for GREEDY or AUTO"
        ) from None
    for result in results:
        if result.status == 1 and request_bound:  # the request's time ran out, not the solver's
            raise TimedOut("the request's time budget ran out before the exact planner had its proof")
        if result.status != 0 or result.x is None:
            raise PlanTooLarge(f"the exact planner found no proven optimum ({result.message}); ask for GREEDY or AUTO")
    return results


# -- a plan for a store's enterprises ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlannedBranch:
    """A joint branch the plan would form: its id and name (proposals), place, parent and enterprises."""

    id: str
    name: str
    place: str
    parent_id: str | None  # the cluster most of its enterprises are under
    credit_codes: list[str]
    formal_members: int

    def changes(self) -> list[Change]:
        branch = Organization(self.id, self.name, OrgKind.JOINT_BRANCH, parent_id=self.parent_id,
                              mode=FormationMode.JOINT)  # fmt: skip
        return [CreateOrganization(branch), CoverEnterprises(self.id, tuple(self.credit_codes))]


@dataclass(frozen=True, slots=True)
class JointBranchPlan:
    branches: list[PlannedBranch]
    plan: Plan
    before: Coverage
    after: Coverage
    eligible: int  # enterprises a joint branch may take in the scope
    unplaced: int  # of those, with no place under the proximity

    def changes(self) -> list[Change]:
        """The plan as one change set: a creation and a covering per branch."""
        return [change for branch in self.branches for change in branch.changes()]


PLANNED_ID = "JB-PLAN-{:05d}"


async def plan_joint_branches(
    store: OrgStore, scope: Scope, limits: Limits, proximity: Proximity, method: PlanMethod, max_formal: int
) -> JointBranchPlan:
    """Plan joint branches for the scope's enterprises with no organization and fewer than
    `max_formal` formal members (the rule for one's own organization); nothing is written."""
    found = await store.candidates(scope, proximity, max_formal)
    formal, indexes = found.classes()
    left = remaining()
    made = await offload(plan, formal, limits, method, OPTIMAL_SECONDS if left is None else min(left, OPTIMAL_SECONDS))
    flat = [i for group in indexes for i in group]
    members = [[flat[i] for i in branch] for branch in made.branches]
    ids = await free_ids(store, len(members))
    per_place: Counter[str] = Counter(found.places[m[0]] for m in members)
    numbered: Counter[str] = Counter()
    branches = []
    for org_id, chosen in zip(ids, members, strict=True):
        place = found.places[chosen[0]]
        numbered[place] += 1
        name = f"{place}联合党支部" if per_place[place] == 1 else f"{place}第{numbered[place]}联合党支部"
        clusters = Counter(c for i in chosen if (c := found.clusters[i]) is not None)
        parent = clusters.most_common(1)[0][0] if clusters else None
        codes = [found.credit_codes[i] for i in chosen]
        branches.append(PlannedBranch(org_id, name, place, parent, codes, sum(found.formal[i] for i in chosen)))
    before = await store.coverage(scope)
    worked = sum(found.worked[i] for chosen in members for i in chosen)
    after = replace(
        before,
        organization_covered=before.organization_covered + made.covered,
        work_covered=before.work_covered - worked,
        organizations=before.organizations + len(branches),
    )
    return JointBranchPlan(branches, made, before, after, len(found.credit_codes) + found.unplaced, found.unplaced)


async def free_ids(store: OrgStore, count: int) -> list[str]:
    """`count` ids of the planned-branch form that no organization has."""
    free: list[str] = []
    start = 1
    while len(free) < count:
        wanted = [PLANNED_ID.format(n) for n in range(start, start + count - len(free) + 16)]
        taken = await store.organizations(wanted)
        free += [i for i, org in zip(wanted, taken, strict=True) if org is None][: count - len(free)]
        start += len(wanted)
    return free
