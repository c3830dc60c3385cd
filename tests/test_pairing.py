"""Pairing: the department matching against a brute-force optimum, suggestions ranked with their reasons."""

from __future__ import annotations

import random
from itertools import combinations, product

import pytest

from graph.changes import CoverEnterprises, CreateOrganization
from graph.model import Category, Department, Enterprise, Organization, OrgKind
from graph.pairing import (
    OptionKind,
    _form,
    _neighbours_for,
    pair_departments,
    pair_weight,
    suggestions,
)
from graph.planner import Limits
from graph.stores.answers import JointBranchNearby, Near, Neighbour, Neighbourhood

CATEGORIES = list(Category)


def brute_force(
    departments: list[Department], enterprises: list[Enterprise], paired: set, loads: list[int], every: bool
) -> float:
    """The best total weight over every one-to-one pairing: each of the fewer side paired with
    a distinct one of the other, or (unless `every`) with none."""

    def weight(d: Department, e: Enterprise, load: int) -> float:
        return sum(r.points for r in pair_weight(d, e, (d.id, e.credit_code) in paired, load))

    few, many = (departments, enterprises) if len(departments) <= len(enterprises) else (enterprises, departments)
    best = float("-inf")
    for chosen in product([*range(len(many)), *([] if every else [None])], repeat=len(few)):
        taken = [j for j in chosen if j is not None]
        if len(set(taken)) < len(taken):
            continue
        total = 0.0
        for i, j in enumerate(chosen):
            if j is not None:
                d, e, n = (few[i], many[j], i) if few is departments else (many[j], few[i], j)
                total += weight(d, e, loads[n])
        best = max(best, total)
    return best


@pytest.mark.parametrize("every", [False, True], ids=["best", "every department"])
@pytest.mark.parametrize("seed", range(25))
def test_the_matching_equals_the_brute_force_optimum(seed: int, every: bool) -> None:
    rng = random.Random(seed)
    departments = [Department(f"D{i}", f"部门{i}", rng.choice([None, *CATEGORIES])) for i in range(rng.randint(1, 5))]
    enterprises = [Enterprise(f"E{i}", f"企业{i}", "麓谷", category=rng.choice(CATEGORIES))
                   for i in range(rng.randint(1, 6))]  # fmt: skip
    paired = {(d.id, e.credit_code) for d in departments for e in enterprises if rng.random() < 0.2}
    loads = [rng.randint(0, 4) for _ in departments]
    pairs = pair_departments(departments, enterprises, paired, loads, every)
    if every:
        assert len(pairs) == min(len(departments), len(enterprises))
    else:
        assert all(p.weight > 0 for p in pairs)
    assert len({p.department.id for p in pairs}) == len({p.enterprise.credit_code for p in pairs}) == len(pairs)
    assert sum(p.weight for p in pairs) == pytest.approx(
        max(0.0, brute_force(departments, enterprises, paired, loads, every)) if not every else
        brute_force(departments, enterprises, paired, loads, every)
    )  # fmt: skip
    for pair in pairs:
        assert pair.weight == pytest.approx(sum(r.points for r in pair.reasons))


def test_a_sector_match_and_an_existing_pairing_win() -> None:
    finance, data = Department("D1", "金融服务中心", Category.FINANCE), Department("D2", "产业链办公室", Category.DATA)
    bank, cloud = Enterprise("E1", "银行", "麓谷", category=Category.FINANCE), Enterprise("E2", "云", "麓谷",
                                                                                     category=Category.DATA)  # fmt: skip
    pairs = pair_departments([finance, data], [cloud, bank], set(), [0, 0])
    assert {(p.department.id, p.enterprise.credit_code) for p in pairs} == {("D1", "E1"), ("D2", "E2")}
    kept = pair_departments([finance, data], [cloud, bank], {("D1", "E2"), ("D2", "E1")}, [0, 0])
    assert {(p.department.id, p.enterprise.credit_code) for p in kept} == {("D1", "E1"), ("D2", "E2")}  # 3 > 2


def enterprise(code: str, formal: int, building: str = "A座") -> Enterprise:
    return Enterprise(code, f"企业{code}", "麓谷", building=building, formal_members=formal)


def test_suggestions_rank_joining_and_forming_with_their_reasons() -> None:
    asked = enterprise("E0", 1)
    roomy = Organization("J1", "A座联合党支部", OrgKind.JOINT_BRANCH, parent_id="C1")
    full = Organization("J2", "满员联合党支部", OrgKind.JOINT_BRANCH, parent_id="C1")
    near = Neighbourhood(
        asked, "C1", "数字金融党群联组",
        [JointBranchNearby(roomy, 3, 4, Near(same_building=True, same_cluster=True)),
         JointBranchNearby(full, 5, 9, Near(same_cluster=True))],
        [Neighbour(enterprise("E1", 2), Near(same_building=True)), Neighbour(enterprise("E2", 1), Near(supply_link=True)),
         Neighbour(enterprise("E3", 1, "B座"), Near(supply_link=True))],
    )  # fmt: skip
    options = suggestions(near, Limits(), 5, "JB-NEW")
    assert [o.kind for o in options] == [OptionKind.JOIN, OptionKind.FORM, OptionKind.FORM]
    join = options[0]
    assert join.joint_branch == roomy and join.formal_members == 5 and join.score == 6.0  # building, cluster, members
    assert join.changes == [CoverEnterprises("J1", ("E0",))]  # the full branch is no option
    building = next(o for o in options if o.kind is OptionKind.FORM and "E1" in [e.credit_code for e in o.enterprises])
    assert [e.credit_code for e in building.enterprises] == ["E0", "E1"] and building.formal_members == 3
    assert isinstance(building.changes[0], CreateOrganization) and building.changes[0].organization.parent_id == "C1"
    assert building.changes[1] == CoverEnterprises("JB-NEW", ("E0", "E1"))
    assert [o.score for o in options] == sorted((o.score for o in options), reverse=True)
    assert suggestions(near, Limits(), 1, "JB-NEW") == options[:1]


def best_form_by_brute_force(asked: Enterprise, pool: list[Neighbour], limits: Limits) -> tuple[float, int, int] | None:
    """The best (score, members, -units) of forming a branch with any set of the pool's neighbours."""
    best = None
    for size in range(1, limits.max_units):
        for chosen in combinations(pool, size):
            members = asked.formal_members + sum(n.enterprise.formal_members for n in chosen)
            if members >= limits.min_formal:
                option = _form(asked, list(chosen), Neighbourhood(asked, "C1", "联组", [], list(pool)), limits, "JB")
                key = (option.score, members, -size)
                best = key if best is None or key > best else best
    return best


@pytest.mark.parametrize("seed", range(30))
def test_a_new_branch_takes_the_best_neighbours_by_the_score(seed: int) -> None:
    rng = random.Random(seed)
    asked = enterprise("E0", rng.randint(0, 2))
    pool = [Neighbour(enterprise(f"E{n}", rng.choice([0, 0, 0, 1, 2])),
                      Near(*(rng.random() < 0.5 for _ in range(3)))) for n in range(1, rng.randint(2, 10))]  # fmt: skip
    limits = Limits(max_units=rng.randint(2, 5))
    chosen = _neighbours_for(asked, pool, limits)
    expected = best_form_by_brute_force(asked, pool, limits)
    if expected is None:
        assert chosen == []
    else:
        option = _form(asked, chosen, Neighbourhood(asked, "C1", "联组", [], pool), limits, "JB")
        assert (option.score, option.formal_members, -len(chosen)) == expected


def test_many_members_less_neighbours_do_not_crowd_out_forming_a_branch() -> None:
    """2 formal members, fifteen same-building neighbours: the 0-member ones are nearer (the
    same cluster too), but only those with members make a branch of enough."""
    asked = enterprise("E0", 2)
    crowd = [Neighbour(enterprise(f"Z{n}", 0), Near(same_building=True, same_cluster=True)) for n in range(12)]
    members = [Neighbour(enterprise(f"M{n}", 1), Near(same_building=True)) for n in range(3)]
    near = Neighbourhood(asked, "C1", "联组", [], [*crowd, *members])
    [form] = [o for o in suggestions(near, Limits(), 5, "JB-NEW") if o.kind is OptionKind.FORM][:1]
    assert form.formal_members >= 3 and any(e.credit_code.startswith("M") for e in form.enterprises)
