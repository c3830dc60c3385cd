"""The compliance audit at a province's size: counts for all rules and the first page of findings.

Loads the 1M-enterprise ledger of `bench/scale.py` (generated on first use) and times, in
process on the store, each as of a date not asked before (nothing cached):

- counts for all ten rules over the whole province (goal: <= 300 ms);
- the first page of 50 findings, cold (the audit built for it) and warm (goal: <= 50 ms);
- counts in one park, and the bulletin (park, chain and cluster at two dates).

    .venv/bin/python bench/compliance.py [--size 1m] [--data DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path

from scale import ROOT, SIZES, bench_store

from graph.bulletin import bulletin
from graph.compliance import DEFAULT_RULES
from graph.query import Scope
from graph.stores.networkx import NetworkxStore

RUNS = 5


async def timed(work: Callable[[date], Awaitable[object]], first_day: date) -> list[float]:
    """Milliseconds of `work` on RUNS days never asked before."""
    spent = []
    for run in range(RUNS):
        start = time.perf_counter()
        await work(first_day + timedelta(days=run))
        spent.append((time.perf_counter() - start) * 1000)
    return spent


def line(what: str, spent: list[float], goal: float | None = None) -> None:
    best, median = min(spent), sorted(spent)[len(spent) // 2]
    verdict = f"  (goal <= {goal:g} ms: {median / goal:.2f} of it)" if goal else ""
    print(f"{what:<34} best {best:8.1f} ms   median {median:8.1f} ms{verdict}")


async def measure(store: NetworkxStore) -> None:
    everything, rules = Scope(), DEFAULT_RULES
    park = (await store.parks())[0].name
    line(
        "counts, all rules, whole scope",
        await timed(lambda d: store.compliance(everything, d, rules), date(2026, 1, 1)),
        300,
    )
    line(
        "first page of 50, cold",
        await timed(lambda d: store.findings(everything, d, rules, 0, 50), date(2026, 2, 1)),
        50,
    )
    day = date(2026, 3, 1)
    await store.findings(everything, day, rules, 0, 50)
    line("first page of 50, warm", await timed(lambda d: store.findings(everything, day, rules, 0, 50), day), 50)
    line("page of 50 at 90%, warm", await timed(lambda d: store.findings(everything, day, rules, 90_000, 50), day))
    line(f"counts, {park}", await timed(lambda d: store.compliance(Scope(park=park), d, rules), date(2026, 4, 1)))
    line("bulletin, two dates", await timed(lambda d: bulletin(store, everything, d, None, rules), date(2026, 5, 1)))
    counts = await store.compliance(everything, day, rules)
    print("findings per rule:", ", ".join(f"{c.rule} {c.count:,}" for c in counts))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1m", choices=[size for size in SIZES if SIZES[size]])
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "bench", help="where generated ledgers are kept")
    args = parser.parse_args()
    store = bench_store(args.data, args.size)
    asyncio.run(measure(store))
    return 0


if __name__ == "__main__":
    sys.exit(main())
