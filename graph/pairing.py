"""Pairing (结对): suggestions for an enterprise without its own organization, and the
one-to-one pairing of government departments with key enterprises (一对一结对指导帮扶).

Both are scored here, once, from what a store gathers; every score comes with its
reasons, so a planner can see why an option ranks where it does.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

import numpy as np
from scipy.optimize import linear_sum_assignment

from graph.changes import Change, CoverEnterprises, CreateOrganization
from graph.credit_code import normalised
from graph.errors import InvalidArgument
from graph.model import Department, Enterprise, FormationMode, Organization, OrgKind
from graph.planner import Limits, free_ids
from graph.stores.answers import DepartmentPair, Near, Neighbour, Neighbourhood, Reason
from graph.vocabulary import term

if TYPE_CHECKING:
    from graph.stores.protocol import OrgStore

# What each reason adds to a suggestion's score.
SAME_BUILDING, SAME_CLUSTER, SUPPLY_LINK, ENOUGH_MEMBERS = 3.0, 2.0, 2.0, 1.0

# What each reason adds to a department-enterprise pairing's weight.
BASE, SECTOR_MATCH, ALREADY_PAIRED, LOAD_EACH = 1.0, 3.0, 2.0, -0.25


def near_reasons(near: Near, building: str | None, cluster: str | None) -> list[Reason]:
    """The reasons `near` gives, each with the points it adds to a suggestion's score."""
    found = []
    if near.same_building:
        found.append(Reason(f"same building ({building})", SAME_BUILDING))
    if near.same_cluster:
        found.append(Reason(f"same cluster ({cluster})", SAME_CLUSTER))
    if near.supply_link:
        found.append(Reason("a supply link in the chain (上下游)", SUPPLY_LINK))
    return found


class OptionKind(StrEnum):
    JOIN = "JOIN"  # join an existing joint branch with room
    FORM = "FORM"  # form a new joint branch with named neighbours


@dataclass(frozen=True, slots=True)
class PairingOption:
    kind: OptionKind
    score: float
    reasons: list[Reason]
    joint_branch: Organization | None  # JOIN: the branch to join
    enterprises: list[Enterprise]  # FORM: the enterprises of the new branch, the one asked about first
    formal_members: int  # of the branch once joined or formed
    changes: list[Change]  # what enacts it: pass to simulate, save as a scenario or apply


MAX_SUGGESTIONS = 50


async def suggest(store: OrgStore, credit_code: str, limit: int, max_formal: int) -> list[PairingOption]:
    """Ranked options for an enterprise with no organization (`suggestions`), a new branch
    taking a free id; enterprises with `max_formal` formal members or more are no neighbours."""
    if not 1 <= limit <= MAX_SUGGESTIONS:
        raise InvalidArgument(f"limit must be from 1 to {MAX_SUGGESTIONS}, got {limit}")
    near = await store.neighbourhood(normalised(credit_code), max_formal)
    [new_id] = await free_ids(store, 1)
    return suggestions(near, Limits(), limit, new_id)


def suggestions(near: Neighbourhood, limits: Limits, limit: int, new_id: str) -> list[PairingOption]:
    """Ranked options for `near.enterprise`: join a joint branch with room, or form one with
    neighbours; best score first. `new_id` is the id a new branch would take."""
    asked = near.enterprise
    where = (asked.building, near.cluster_name or near.cluster_id)
    options = []
    for nearby in near.joint_branches:
        combined = nearby.formal_members + asked.formal_members
        if nearby.units >= limits.max_units or combined < limits.min_formal:
            continue
        reasons = near_reasons(nearby.near, *where)
        reasons.append(Reason(f"formal members together {combined} ≥ {limits.min_formal}", ENOUGH_MEMBERS))
        reasons.append(Reason(f"room for {limits.max_units - nearby.units} more of {limits.max_units} units", 0.0))
        branch = nearby.organization
        options.append(PairingOption(OptionKind.JOIN, _score(reasons), reasons, branch, [], combined,
                                     [CoverEnterprises(branch.id, (asked.credit_code,))]))  # fmt: skip
    pools = {
        "building": [n for n in near.neighbours if n.near.same_building],
        "supply": [n for n in near.neighbours if n.near.supply_link],
        "cluster": [n for n in near.neighbours if n.near.same_cluster],
    }
    formed: set[tuple[str, ...]] = set()
    for pool in pools.values():
        chosen = _neighbours_for(asked, pool, limits)
        key = tuple(sorted(n.enterprise.credit_code for n in chosen))
        if not chosen or key in formed:
            continue
        formed.add(key)
        options.append(_form(asked, chosen, near, limits, new_id))
    options.sort(key=lambda o: (-o.score, o.kind, o.joint_branch.id if o.joint_branch else ""))
    return options[:limit]


def _score(reasons: Sequence[Reason]) -> float:
    return round(sum(r.points for r in reasons), 2)


def _neighbours_for(asked: Enterprise, pool: list[Neighbour], limits: Limits) -> list[Neighbour]:
    """Neighbours for a new branch, the best by the documented score: a FORM option scores the
    mean nearness of its neighbours (each reason by the share it holds for) plus enough members,
    so this is the set of at most `max_units - 1` with enough formal members and the highest
    mean nearness (then the most members, then the fewest units); none when no set has enough.

    Neighbours of one nearness differ only by their members, so the best set takes, of each
    nearness, the ones with most members: the search is over how many of each, not over sets."""
    by_near: dict[Near, list[Neighbour]] = {}
    for neighbour in sorted(pool, key=lambda n: -n.enterprise.formal_members):
        by_near.setdefault(neighbour.near, []).append(neighbour)
    kinds = list(by_near)
    points = [_score(near_reasons(near, None, None)) for near in kinds]
    room = limits.max_units - 1
    best: tuple[float, int, int] | None = None
    chosen: list[Neighbour] = []
    for taken in _counts([len(by_near[k]) for k in kinds], room):
        units = sum(taken)
        if units == 0:
            continue
        picked = [n for kind, count in zip(kinds, taken, strict=True) for n in by_near[kind][:count]]
        members = asked.formal_members + sum(n.enterprise.formal_members for n in picked)
        if members < limits.min_formal:
            continue
        key = (round(sum(p * c for p, c in zip(points, taken, strict=True)) / units, 2), members, -units)
        if best is None or key > best:
            best, chosen = key, picked
    return chosen


def _counts(most: list[int], room: int) -> Iterator[tuple[int, ...]]:
    """Every way to take up to `most[i]` of each kind, `room` in all at most.

    >>> sorted(_counts([2, 1], 2))
    [(0, 0), (0, 1), (1, 0), (1, 1), (2, 0)]
    """
    if not most:
        yield ()
        return
    for first in range(min(most[0], room) + 1):
        for rest in _counts(most[1:], room - first):
            yield (first, *rest)


def _form(
    asked: Enterprise, chosen: list[Neighbour], near: Neighbourhood, limits: Limits, new_id: str
) -> PairingOption:
    enterprises = [asked, *(n.enterprise for n in chosen)]
    members = sum(e.formal_members for e in enterprises)
    reasons = []
    for kind, test, points in (
        ("same building", lambda n: n.near.same_building, SAME_BUILDING),
        ("same cluster", lambda n: n.near.same_cluster, SAME_CLUSTER),
        ("a supply link in the chain (上下游)", lambda n: n.near.supply_link, SUPPLY_LINK),
    ):
        sharing = [n.enterprise.name for n in chosen if test(n)]
        if sharing:  # scored by the share of neighbours it holds for
            reasons.append(Reason(f"{kind}: {', '.join(sharing)}", round(points * len(sharing) / len(chosen), 2)))
    reasons.append(Reason(f"formal members together {members} ≥ {limits.min_formal}", ENOUGH_MEMBERS))
    place = asked.building or near.cluster_name or asked.park
    branch = Organization(new_id, f"{place}联合党支部", OrgKind.JOINT_BRANCH, parent_id=near.cluster_id,
                          mode=FormationMode.JOINT)  # fmt: skip
    changes: list[Change] = [
        CreateOrganization(branch),
        CoverEnterprises(new_id, tuple(e.credit_code for e in enterprises)),
    ]
    return PairingOption(OptionKind.FORM, _score(reasons), reasons, None, enterprises, members, changes)


# -- departments and key enterprises ------------------------------------------------


def pair_weight(department: Department, enterprise: Enterprise, paired: bool, load: int) -> list[Reason]:
    """Why a department suits a key enterprise, reason by reason; the weight is their sum.

    >>> from graph.model import Category
    >>> d = Department("D1", "金融服务中心", Category.FINANCE)
    >>> [r.points for r in pair_weight(d, Enterprise("X", "甲", "麓谷", category=Category.FINANCE), False, 2)]
    [1.0, 3.0, -0.5]
    """
    reasons = [Reason("a department may mentor any key enterprise", BASE)]
    if department.sector is not None and department.sector is enterprise.category:
        reasons.append(Reason(f"its sector is the enterprise's category ({term(department.sector)})", SECTOR_MATCH))
    if paired:
        reasons.append(Reason("it is paired with the enterprise already (结对)", ALREADY_PAIRED))
    if load:
        reasons.append(Reason(f"it mentors {load} already", LOAD_EACH * load))
    return reasons


def pair_departments(
    departments: Sequence[Department],
    enterprises: Sequence[Enterprise],
    paired: set[tuple[str, str]],
    loads: Sequence[int],
    every_department: bool = False,
) -> list[DepartmentPair]:
    """The one-to-one pairing of departments with key enterprises of greatest total weight;
    `paired` holds (department id, credit code) pairs in effect, `loads` each department's
    pairings now. Pairs come in department order.

    A maximum-weight matching takes no pair whose weight is not positive: it would lower
    the total (or leave it as it is). With `every_department`, each department gets an
    enterprise while there are enough, the best total among such pairings, negative
    weights included (`scipy.optimize.linear_sum_assignment` over the weights as they are).

    >>> from graph.model import Category
    >>> busy = [Department("D1", "甲局", Category.FINANCE), Department("D2", "乙局", None)]
    >>> firms = [Enterprise("X", "甲", "麓谷", category=Category.FINANCE)]
    >>> [p.department.id for p in pair_departments(busy, firms, set(), [0, 9])]
    ['D1']
    >>> [(p.department.id, p.weight) for p in pair_departments(busy, firms * 2, set(), [0, 9], every_department=True)]
    [('D1', 4.0), ('D2', -1.25)]
    """
    if not departments or not enterprises:
        return []
    reasons = [
        [pair_weight(d, e, (d.id, e.credit_code) in paired, load) for e in enterprises]
        for d, load in zip(departments, loads, strict=True)
    ]
    weights = np.array([[_score(r) for r in row] for row in reasons])
    # below zero, a pair is worth no pair: the assignment then costs nothing to leave out
    rows, columns = linear_sum_assignment(weights if every_department else np.maximum(weights, 0), maximize=True)
    return [
        DepartmentPair(departments[r], enterprises[c], float(weights[r, c]), reasons[r][c])
        for r, c in zip(rows.tolist(), columns.tolist(), strict=True)
        if every_department or weights[r, c] > 0
    ]
