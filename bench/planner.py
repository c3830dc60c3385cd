"""The planner and the simulation, measured.

- greedy on 10,000 eligible enterprises: the algorithm alone (generated buildings of
  1 to 40 enterprises with 0, 1 or 2 formal members), and `plan_joint_branches` end to
  end on the 1M state for the park whose eligible enterprises are nearest 10,000;
  the exact planner on the same, for comparison;
- 50 random instances of at most 200 enterprises: greedy's coverage over the exact
  optimum, average and worst;
- a simulation on the 1M state (bench/writes.py makes it): a new joint branch covering
  4 enterprises and a details change; median of 20 after a warm-up, and the memory a
  simulation allocates (tracemalloc peak) against what the state's store holds.

    .venv/bin/python bench/planner.py [--data DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
import tracemalloc
from collections.abc import Callable
from functools import partial
from pathlib import Path

from scale import ROOT
from writes import state_of

from graph.changes import Change, CoverEnterprises, CreateOrganization, SetOrganizationDetails
from graph.compliance import DEFAULT_RULES
from graph.model import Category, Organization, OrgKind
from graph.planner import Limits, Plan, PlanMethod, Proximity, plan, plan_joint_branches
from graph.query import Scope
from graph.stores.networkx.state import State

ELIGIBLE = 10_000
INSTANCES = 50


def generated(total: int, rng: random.Random) -> list[list[int]]:
    """Buildings of 1 to 40 enterprises, `total` in all, each with 0, 1 or 2 formal members."""
    classes, left = [], total
    while left:
        size = min(left, rng.randint(1, 40))
        classes.append([rng.choice([0, 0, 1, 1, 2]) for _ in range(size)])
        left -= size
    return classes


def timed(work: Callable[[], Plan], runs: int = 3) -> tuple[float, Plan]:
    best, result = float("inf"), work()
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - started)
    return best, result


def algorithm() -> None:
    classes = generated(ELIGIBLE, random.Random(11))
    for method in (PlanMethod.GREEDY, PlanMethod.OPTIMAL):
        seconds, made = timed(partial(plan, classes, Limits(), method))
        print(f"{method.value:8} {ELIGIBLE:,} eligible in {len(classes):,} buildings: {seconds * 1000:7.1f} ms, "
              f"covers {made.covered:,} in {len(made.branches):,} branches, gap bound {made.gap:.4f}")  # fmt: skip


def ratios() -> None:
    rng, found = random.Random(5), []
    for _ in range(INSTANCES):
        classes = generated(rng.randint(20, 200), rng)
        limits = Limits(max_units=rng.randint(3, 6), min_formal=3)
        greedy, optimal = plan(classes, limits, PlanMethod.GREEDY), plan(classes, limits, PlanMethod.OPTIMAL)
        assert greedy.covered <= optimal.covered
        found.append(greedy.covered / optimal.covered if optimal.covered else 1.0)
    print(f"greedy / optimal over {INSTANCES} instances of <= 200: average {statistics.mean(found):.4f}, "
          f"worst {min(found):.4f} (goal: average >= 0.99)")  # fmt: skip


async def on_the_state(data: Path) -> None:
    folder = state_of(data, "1m")
    started = time.perf_counter()
    state = State(folder)
    store = state.store()
    print(f"1m state opened in {time.perf_counter() - started:.1f} s: {store.table.size:,} enterprises")
    try:
        scopes = [Scope(park=p.name, category=c) for p in await store.parks() for c in Category]
        counts = [len((await store.candidates(s, Proximity.BUILDING, 3)).credit_codes) for s in scopes]
        eligible, scope = min(zip(counts, scopes, strict=True), key=lambda found: abs(found[0] - ELIGIBLE))
        for method in PlanMethod:
            started = time.perf_counter()
            made = await plan_joint_branches(store, scope, Limits(), Proximity.BUILDING, method, 3)
            print(f"plan_joint_branches {method.value:8} end to end, {scope.park} {scope.category} ({eligible:,} "
                  f"eligible): {time.perf_counter() - started:.2f} s, covers {made.plan.covered:,} in "
                  f"{len(made.branches):,} branches ({made.plan.method.value})")  # fmt: skip

        free = (await store.candidates(scope, Proximity.BUILDING, 3)).credit_codes[:4]
        cluster = next(o.id for o in store.dataset.organizations if o.kind is OrgKind.CLUSTER)
        branch = Organization("BENCH-J1", "模拟联合党支部", OrgKind.JOINT_BRANCH, parent_id=cluster)
        changes: list[Change] = [CreateOrganization(branch), CoverEnterprises("BENCH-J1", tuple(free)),
                                 SetOrganizationDetails(cluster, stars=4)]  # fmt: skip
        started = time.perf_counter()
        first = await store.simulate(changes, Scope(), None, DEFAULT_RULES)
        print(f"simulation, first (records indexed, audit built): {(time.perf_counter() - started) * 1000:.0f} ms")
        times = []
        for _ in range(20):
            started = time.perf_counter()
            result = await store.simulate(changes, Scope(), None, DEFAULT_RULES)
            times.append(time.perf_counter() - started)
        assert result == first and result.after.organization_covered == result.before.organization_covered + 4
        tracemalloc.start()
        await store.simulate(changes, Scope(), None, DEFAULT_RULES)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        resident = int(Path("/proc/self/status").read_text().split("VmRSS:")[1].split()[0]) * 1024
        print(f"simulation on the 1m state: median {statistics.median(times) * 1000:.1f} ms, "
              f"p90 {sorted(times)[17] * 1000:.1f} ms (goal <= 50 ms); allocates {peak / 1e6:.2f} MB at peak, "
              f"the process holding the state is {resident / 1e6:.0f} MB")  # fmt: skip
    finally:
        state.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "bench")
    arguments = parser.parse_args()
    algorithm()
    ratios()
    asyncio.run(on_the_state(arguments.data))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
