"""Org charts: the demo's chain committee (11 clusters, 168 organizations) in every format,
and a park committee of the 1M-enterprise ledger at depth 5 (bounded by the chart limits).

Times `org_chart` end to end on the store (the tree asked of the store, what fits chosen,
the format written; Graphviz for SVG, PNG and PDF), median of RUNS after one warm-up.

    .venv/bin/python bench/charts.py [--skip-1m] [--data DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

from scale import ROOT, bench_store

from graph.charts import ChartFormat, build_chart, org_chart
from graph.stores.networkx import NetworkxStore
from loaders import DEMO_DAY
from loaders.demo import CHAIN_COMMITTEE_ID, demo_dataset

RUNS = 5
SVG_GOAL_MS = 1_000


async def timed(store: NetworkxStore, root: str, format: ChartFormat, depth: int) -> tuple[float, int]:
    """Median milliseconds and the size in bytes of the chart."""
    drawn = await org_chart(store, root, format, depth, as_of=DEMO_DAY)
    spent = []
    for _ in range(RUNS):
        start = time.perf_counter()
        drawn = await org_chart(store, root, format, depth, as_of=DEMO_DAY)
        spent.append((time.perf_counter() - start) * 1000)
    return sorted(spent)[RUNS // 2], len(drawn.content)


async def measure(store: NetworkxStore, root: str, depth: int, label: str) -> None:
    tree = await store.organization_tree(root, depth, DEMO_DAY)
    chart = build_chart(tree)
    counted = [box for box in chart.boxes if box.kind is None]
    print(f"{label}: {len(tree.organizations):,} organizations in the tree; "
          f"{len(chart.boxes) - len(counted)} drawn, {chart.hidden:,} counted in {len(counted)} '+ N' boxes")  # fmt: skip
    for format in ChartFormat:
        median, size = await timed(store, root, format, depth)
        goal = f"  (goal <= {SVG_GOAL_MS} ms: {median / SVG_GOAL_MS:.2f} of it)" if format is ChartFormat.SVG else ""
        print(f"  {format:<8} median {median:8.1f} ms  {size:>10,} bytes{goal}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-1m", action="store_true", help="only the demo")
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "bench", help="where generated ledgers are kept")
    args = parser.parse_args()
    asyncio.run(measure(NetworkxStore(demo_dataset()), CHAIN_COMMITTEE_ID, 3, "demo chain committee, depth 3"))
    if args.skip_1m:
        return 0
    store = bench_store(args.data, "1m")
    asyncio.run(measure(store, "P0", 5, "1m park committee P0, depth 5"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
