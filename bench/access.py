"""What scopes and tokens cost, on the province-sized ledger (1M enterprises, 10 parks).

Asks the same questions (a park's coverage, a page of 100, a 121-month trend) through the
schema in process, as an unscoped admin and as a viewer whose token is limited to that
park, whose every answer is computed over the park's own world. Prints the warm median of
each and the ratio scoped/unscoped (goal: ≤ 1.1), the first scoped request after a change
(when the world is built), and the token check per request (goal: ≤ 0.1 ms) with 1,000
tokens in the book.

    .venv/bin/python bench/access.py [--size 1m] [--repeat 60]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scale import bench_store
from graph.access import ADMIN_EVERYWHERE, Boundary, Caller, Role
from graph.stores.networkx import NetworkxStore
from schema import build_schema
from schema.context import Context
from tokens import TokenBook, TokenCheck


def questions(park: str) -> dict[str, str]:
    scope = f'scope: {{park: "{park}"}}'
    return {
        "park coverage": f"{{ coverage({scope}) {{ enterprises organizationCovered workCovered formalMembers organizations }} }}",
        "page of 100": f"{{ enterprises(first: 100, filter: {{{scope}}}) {{ totalCount nodes {{ creditCode name organizations {{ id }} }} }} }}",
        "trend, 121 months": f'{{ coverageTrend({scope}, from: "2015-01-01", to: "2025-01-01", step: MONTH) {{ coverage {{ enterprises organizationCovered }} }} }}',
    }  # fmt: skip


class Asker:
    def __init__(self, store: NetworkxStore):
        self.store = store
        self.schema = build_schema()
        self.loop = asyncio.new_event_loop()

    def run(self, query: str, caller: Caller) -> float:
        start = time.perf_counter()
        context = Context.for_store(self.store, caller=caller)
        result = self.loop.run_until_complete(self.schema.execute(query, context_value=context))
        if result.errors:
            raise RuntimeError(result.errors)
        return time.perf_counter() - start


def token_check_microseconds(tokens: int = 1_000, checks: int = 100_000) -> float:
    with tempfile.TemporaryDirectory() as folder:
        book = TokenBook(Path(folder) / "tokens.sqlite")
        made = [book.create(f"token-{n}", Role.VIEWER, Boundary.of(parks=["园区1"])) for n in range(tokens)]
        check = TokenCheck(book)
        headers = [f"Bearer {made[n % tokens]}" for n in range(checks)]
        start = time.perf_counter()
        for header in headers:
            check.caller(header)
        return (time.perf_counter() - start) / checks * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1m", help="13k, 100k, 300k or 1m (bench/scale.py's ledgers)")
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "bench")
    parser.add_argument("--repeat", type=int, default=60)
    args = parser.parse_args()
    store = bench_store(args.data, args.size)
    park = store.table.park.keys[1]
    assert park is not None
    viewer = Caller("园区查看", Role.VIEWER, Boundary.of(parks=[park]))
    asker = Asker(store)
    first = time.perf_counter()
    asker.run(questions(park)["park coverage"], viewer)
    built = time.perf_counter() - first
    world = store.bounded(viewer.boundary)
    print(f"{park}: {len(world.table):,} of {len(store.table):,} enterprises in its world; "
          f"first scoped request (world built) {built:.2f} s")  # fmt: skip
    worst = 0.0
    for name, query in questions(park).items():
        pairs = [(asker.run(query, ADMIN_EVERYWHERE), asker.run(query, viewer)) for _ in range(args.repeat)]
        admin = statistics.median(a for a, _ in pairs)  # interleaved, so a noisy spell hits both alike
        scoped = statistics.median(v for _, v in pairs)
        worst = max(worst, scoped / admin)
        print(f"{name:>18}: admin {admin * 1000:7.2f} ms   park viewer {scoped * 1000:7.2f} ms   "
              f"ratio {scoped / admin:.2f}")  # fmt: skip
    print(f"worst ratio scoped/unscoped: {worst:.2f} (goal ≤ 1.1)")
    print(f"token check: {token_check_microseconds():.2f} µs per request (goal ≤ 100 µs), 1,000 tokens")
    return 0


if __name__ == "__main__":
    sys.exit(main())
