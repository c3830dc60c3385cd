"""The joint-branch planner: hand-worked optima, a brute-force check, greedy within its bound and limits."""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from graph import planner, solver
from graph.deadline import TimedOut
from graph.errors import InvalidArgument
from graph.planner import Limits, Plan, PlanMethod, PlanTooLarge, coverage_bound, greedy, plan


@pytest.mark.parametrize(
    ("formal", "limits", "covered", "branches"),
    [
        ([2, 1], Limits(), 2, 1),
        ([1, 1], Limits(), 0, 0),  # two formal members are not a branch
        ([2, 2, 2, 0, 0, 0], Limits(), 5, 1),  # two 2s make a branch; the third has no partner
        ([1, 1, 1, 1, 1, 1, 0, 0, 0, 0], Limits(), 10, 2),
        ([2, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0], Limits(), 10, 2),
        ([1, 1, 1, 1, 1, 1], Limits(max_units=6), 6, 1),  # as many covered with one branch as with two
        ([2, 1, 0, 0, 0, 0, 0], Limits(max_units=3), 3, 1),
        ([0, 0, 0, 0], Limits(), 0, 0),
        ([2, 2, 2, 2, 2, 2], Limits(max_units=3, min_formal=6), 6, 2),
    ],
)
def test_hand_worked_optima(formal: list[int], limits: Limits, covered: int, branches: int) -> None:
    found = plan([formal], limits, PlanMethod.OPTIMAL)
    assert (found.covered, len(found.branches), found.gap, found.method) == (covered, branches, 0.0, "OPTIMAL")
    assert_valid(found, [formal], limits)


def assert_valid(found: Plan, classes: Sequence[Sequence[int]], limits: Limits) -> None:
    """Every branch within one class, within the limits, and no enterprise in two branches."""
    owner = [c for c, formal in enumerate(classes) for _ in formal]
    flat = [f for formal in classes for f in formal]
    used = [i for branch in found.branches for i in branch]
    assert len(used) == len(set(used)) == found.covered
    for branch in found.branches:
        assert len({owner[i] for i in branch}) == 1
        assert 1 <= len(branch) <= limits.max_units
        assert sum(flat[i] for i in branch) >= limits.min_formal


def partitions(items: list[int]) -> Iterator[list[list[int]]]:
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for smaller in partitions(rest):
        yield [[first], *smaller]
        for n in range(len(smaller)):
            yield [*smaller[:n], [first, *smaller[n]], *smaller[n + 1 :]]


def brute_force(formal: list[int], limits: Limits) -> tuple[int, int]:
    """(covered, -branches) of the best plan, over every partition (a block that is no branch stays uncovered)."""
    best = (0, 0)
    for blocks in partitions(list(range(len(formal)))):
        branches = [b for b in blocks if len(b) <= limits.max_units and sum(formal[i] for i in b) >= limits.min_formal]
        best = max(best, (sum(map(len, branches)), -len(branches)))
    return best


@pytest.mark.parametrize("seed", range(40))
def test_optimal_equals_brute_force_and_greedy_never_beats_it(seed: int) -> None:
    rng = random.Random(seed)
    formal = [rng.choice([0, 0, 1, 1, 2]) for _ in range(rng.randint(1, 8))]
    limits = Limits(max_units=rng.randint(2, 5), min_formal=rng.randint(2, 4))
    optimal = plan([formal], limits, PlanMethod.OPTIMAL)
    assert (optimal.covered, -len(optimal.branches)) == brute_force(formal, limits)
    fast = plan([formal], limits, PlanMethod.GREEDY)
    assert_valid(fast, [formal], limits)
    assert fast.covered <= optimal.covered <= fast.bound
    assert fast.gap == pytest.approx((fast.bound - fast.covered) / fast.bound if fast.bound else 0.0)


@pytest.mark.parametrize("seed", range(10))
def test_greedy_keeps_the_limits_over_many_classes(seed: int) -> None:
    rng = random.Random(seed)
    classes = [[rng.choice([0, 1, 1, 2]) for _ in range(rng.randint(1, 30))] for _ in range(20)]
    limits = Limits(max_units=rng.randint(3, 6), min_formal=3)
    for method in PlanMethod:
        found = plan(classes, limits, method)
        assert_valid(found, classes, limits)
        assert found.covered <= sum(coverage_bound(formal, limits) for formal in classes)
    assert plan(classes, limits, PlanMethod.GREEDY).covered <= plan(classes, limits, PlanMethod.OPTIMAL).covered


def test_auto_solves_small_plans_exactly() -> None:
    assert plan([[2, 1, 0]], Limits(), PlanMethod.AUTO).method == "OPTIMAL"


def test_optimal_refuses_a_programme_too_large() -> None:
    classes = [[1] * n + [0] * (60 - n) + list(range(2, 30)) for n in range(10)]
    with pytest.raises(PlanTooLarge, match="GREEDY"):
        plan(classes, Limits(max_units=50, min_formal=30), PlanMethod.OPTIMAL)
    assert plan(classes, Limits(max_units=50, min_formal=30), PlanMethod.AUTO).method == "GREEDY"


@pytest.mark.parametrize("method", [PlanMethod.AUTO, PlanMethod.OPTIMAL])
def test_few_enterprises_of_many_member_counts_list_few_patterns(
    method: PlanMethod, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Eight enterprises, each of its own member count, and wide branches: 2^8 ways to choose
    among them, not the ~10^9 multisets of up to 50 member counts."""
    listed: list[int] = []
    patterns = planner._patterns

    def counted(counts: Counter[int], limits: Limits) -> list[tuple[int, ...]]:
        found = patterns(counts, limits)
        listed.append(planner._listing_cost(counts, limits))
        return found

    monkeypatch.setattr(planner, "_patterns", counted)
    found = plan([list(range(8))], Limits(max_units=50, min_formal=10), method)
    assert (found.method, found.covered, found.branches) == ("OPTIMAL", 8, [tuple(range(8))])
    assert max(listed) == 2**8 - 1


def test_an_exact_solve_past_the_request_deadline_is_a_timeout() -> None:
    with pytest.raises(TimedOut):
        plan([[0, 1, 2, 2, 1, 0]], Limits(), PlanMethod.OPTIMAL, seconds=0.0)


@pytest.mark.parametrize(("units", "formal"), [(0, 3), (51, 3), (5, 0)])
def test_limits_out_of_range_are_refused(units: int, formal: int) -> None:
    with pytest.raises(InvalidArgument):
        Limits(max_units=units, min_formal=formal)


def test_greedy_fills_branches_with_members_less_enterprises() -> None:
    assert greedy([2, 1, 0, 0, 0, 0, 0, 0], Limits()) == [[0, 1, 2, 3, 4]]


HARD = [[0] * 12_564 + [1] * 185 + [2] * 175]  # the demo park's candidates: 23,375 patterns of up to 50


def solving_processes() -> list[int]:
    """Processes the solver's fork server has forked and that are still there."""
    from multiprocessing import forkserver

    server = forkserver._forkserver._forkserver_pid  # type: ignore[attr-defined]
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line)
        except OSError:
            continue
        if server is not None and fields.get("PPid", "").strip() == str(server):
            found.append(int(status.parent.name))
    return found


def test_an_exact_solve_is_killed_when_its_time_is_up() -> None:
    """HiGHS overruns its own time limit on this programme (9.6 s for 5 s); the solve is a child
    process, killed at the deadline, so nothing goes on solving after the request's answer."""
    with pytest.raises(TimedOut, match="time budget"):
        plan(HARD, Limits(max_units=50, min_formal=1), PlanMethod.OPTIMAL, seconds=1.0)
    assert solving_processes() == []
    [programme] = [planner._programme(dict(Counter(HARD[0])), planner._patterns(Counter(HARD[0]), Limits(50, 1)))]
    with pytest.raises(solver.OutOfTime):
        solver.solve([programme], time.monotonic() + 0.5)
    assert solving_processes() == []
    [small] = solver.solve([planner._programme({2: 3}, [(2, 2)])], time.monotonic() + 30)
    assert small.status == 0 and small.x is not None and small.x.tolist() == [1.0]


def test_a_solve_waits_for_a_free_slot_within_its_time() -> None:
    """At most SOLVES_AT_ONCE children solve (each may take 4 GB); one that finds no slot free
    by its deadline is out of time, and none of it ran."""
    small = planner._programme({2: 3}, [(2, 2)])
    for _ in range(solver.SOLVES_AT_ONCE):
        assert solver._SLOTS.acquire(blocking=False)
    try:
        with pytest.raises(solver.OutOfTime):
            solver.solve([small], time.monotonic() + 0.3)
        assert solving_processes() == []
    finally:
        for _ in range(solver.SOLVES_AT_ONCE):
            solver._SLOTS.release()
    [solved] = solver.solve([small], time.monotonic() + 30)
    assert solved.status == 0
