"""A province on one machine: every figure of the scale issue, at 13k, 100k and 1M enterprises.

Generates deterministic ledgers (10 parks, 2,000 buildings, 10 chains, 20 clusters,
10,000 organizations in three tiers with sub-branches under enterprise committees,
joint branches of 2-5 enterprises in one building, 2,000 instructors) and prints, per
size, each figure with its ratio to the named baseline:

- `chainorg load`, wall time, against one bare csv.DictReader pass over enterprises.csv
  (each the best of three runs);
- resident memory of `chainorg serve --data` once it answers, per enterprise;
- `chainorg serve --data`, start to first answer;
- in process (schema.execute, warm; the first, cold call in brackets), against
  `{ __typename }`: park coverage, a 121-point monthly trend, a page of 100 uncovered
  enterprises with their organizations and cluster (first page and 90% deep), a chain
  committee with children two levels deep, covers and members;
- the longest garbage-collection pause while those queries run.

    .venv/bin/python bench/scale.py [--sizes 13k,100k,1m] [--data DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import gc
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from graph.credit_code import ALPHABET, check_characters
from graph.model import OrgKind
from graph.query import CoverageState, EnterpriseFilter, OrganizationFilter, Scope
from graph.stores.networkx import NetworkxStore
from loaders.demo import demo_records
from loaders.ledger import load_ledger
from loaders.writer import write_csv_ledger
from schema import build_schema
from schema.context import Context
from schema.pagination import cursor_at

PARKS, BUILDINGS_PER_PARK, CHAINS, CLUSTERS_PER_CHAIN = 10, 200, 10, 2
# per cluster: committees with sub-branches, general branches with sub-branches, branches, joint branches
COMMITTEES, UNDER_COMMITTEE, GENERAL, UNDER_GENERAL, BRANCHES, JOINT = 10, 30, 10, 12, 40, 18
INSTRUCTORS, PER_INSTRUCTOR = 2_000, 20
CATEGORIES = ["NEWS", "SOCIAL", "GAMES", "ECOMMERCE", "FINANCE", "DATA", "OTHER"]
SIZES = {"13k": 0, "100k": 100_000, "300k": 300_000, "1m": 1_000_000}


def credit_codes(count: int, rng: np.random.Generator) -> np.ndarray:
    """`count` distinct valid credit codes: a sequence number in base 31, check character computed."""
    alphabet = np.frombuffer(ALPHABET.encode(), dtype=np.uint8)
    bodies = np.empty((count, 17), dtype=np.uint8)
    bodies[:, :8] = np.frombuffer(b"91330100", dtype=np.uint8)
    number = rng.permutation(count).astype(np.int64) + 31**6
    for position in range(16, 7, -1):
        bodies[:, position] = alphabet[number % 31]
        number //= 31
    codes = np.concatenate([bodies, check_characters(bodies)[:, None]], axis=1)
    return codes.view("S18").ravel()


def write_ledger(folder: Path, size: int, seed: int = 6) -> None:
    """A province-shaped ledger of `size` enterprises as CSV files in `folder`."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    codes = credit_codes(size, rng)
    park = rng.integers(0, PARKS, size)
    building = park * BUILDINGS_PER_PARK + rng.integers(0, BUILDINGS_PER_PARK, size)
    chain = rng.integers(0, CHAINS, size)
    status = rng.choice(["ACTIVE", "ZOMBIE", "CLOSED"], size, p=[0.97, 0.02, 0.01])
    registered = np.datetime64("2000-01-01") + rng.integers(0, 365 * 24, size).astype("timedelta64[D]")
    changed = registered + rng.integers(30, 2000, size).astype("timedelta64[D]")
    formal = np.where(rng.random(size) < 0.05, rng.integers(1, 3, size), 0)
    frame = pl.DataFrame(
        {
            "credit_code": codes.astype(str),
            "name": [f"省内{n}号网络科技有限公司" for n in range(size)],
            "park": np.char.add("园区", park.astype(str)),
            "building": np.char.add("楼宇", building.astype(str)),
            "chain": np.char.add("产业链", chain.astype(str)),
            "category": np.array(CATEGORIES)[rng.integers(0, len(CATEGORIES), size)],
            "employees": rng.integers(3, 500, size),
            "formal_members": formal,
            "probationary_members": np.where(formal > 0, rng.integers(0, 2, size), 0),
            "above_scale": np.where(rng.random(size) < 0.1, "是", "否"),
            "key": np.where(rng.random(size) < 0.01, "是", "否"),
            "status": status,
            "status_since": np.where((status != "ACTIVE") & (rng.random(size) < 0.5), changed.astype(str), ""),
            "registered_on": registered.astype(str),
        }
    )
    organizations, coverage = _organizations(rng, frame)
    frame = frame.with_columns(cluster=pl.Series(_declared_clusters(rng, chain), dtype=pl.String))
    frame.write_csv(folder / "enterprises.csv")
    pl.DataFrame(organizations, orient="row", schema=["id", "name", "kind", "parent_id", "established_on"]).write_csv(
        folder / "organizations.csv"
    )
    pl.DataFrame(coverage, orient="row", schema=["org_id", "credit_code"]).write_csv(folder / "coverage.csv")
    assigned = rng.choice(size, INSTRUCTORS * PER_INSTRUCTOR, replace=False)
    pl.DataFrame(
        {
            "id": [f"ZDY{n // PER_INSTRUCTOR:05d}" for n in range(len(assigned))],
            "name": [f"指导员{n // PER_INSTRUCTOR}" for n in range(len(assigned))],
            "credit_code": codes[assigned].astype(str),
            "since": (
                np.datetime64("2015-01-01") + rng.integers(0, 3000, len(assigned)).astype("timedelta64[D]")
            ).astype(str),
        }
    ).write_csv(folder / "instructors.csv")


def _declared_clusters(rng: np.random.Generator, chain: np.ndarray) -> list[str | None]:
    """Two thirds of enterprises declare a cluster of their chain (行业归口)."""
    cluster = chain * CLUSTERS_PER_CHAIN + rng.integers(0, CLUSTERS_PER_CHAIN, len(chain))
    declared = rng.random(len(chain)) < 0.67
    return [f"LZ{c:02d}" if d else None for c, d in zip(cluster.tolist(), declared.tolist(), strict=True)]


def _organizations(rng: np.random.Generator, frame: pl.DataFrame) -> tuple[list, list]:
    """10 park committees, 10 chain committees, 20 clusters and 9,960 enterprise organizations."""
    codes = frame["credit_code"].to_numpy()
    building = frame["building"].to_numpy()
    orgs: list[tuple] = [(f"P{p}", f"园区{p}党工委", "PARK_COMMITTEE", "", "2010-01-01") for p in range(PARKS)]
    orgs += [(f"CH{c}", f"产业链{c}党委", "CHAIN_COMMITTEE", f"P{c % PARKS}", "2019-05-20") for c in range(CHAINS)]
    coverage: list[tuple] = []
    used: set[int] = set()

    def take(candidates: np.ndarray) -> int | None:
        for row in candidates.tolist():
            if row not in used:
                used.add(row)
                return row
        return None

    order = rng.permutation(len(codes))
    cursor = iter(order.tolist())

    def fresh() -> int:
        while (row := next(cursor)) in used:
            pass
        used.add(row)
        return row

    def day() -> str:
        return str(np.datetime64("2005-01-01") + int(rng.integers(0, 365 * 19)))

    for c in range(CHAINS * CLUSTERS_PER_CHAIN):
        cluster = f"LZ{c:02d}"
        orgs.append((cluster, f"联组{c}", "CLUSTER", f"CH{c // CLUSTERS_PER_CHAIN}", "2019-07-01"))
        kinds = (
            ("COMMITTEE", COMMITTEES, UNDER_COMMITTEE),
            ("GENERAL_BRANCH", GENERAL, UNDER_GENERAL),
            ("BRANCH", BRANCHES, 0),
        )
        for kind, count, under in kinds:
            for n in range(count):
                oid, row = f"{cluster}-{kind[0]}{n}", fresh()
                orgs.append((oid, f"{oid}党组织", kind, cluster, day()))
                coverage.append((oid, codes[row]))
                for s in range(under):  # branches of the same enterprise, under its committee
                    orgs.append((f"{oid}-{s}", f"{oid}第{s}支部", "BRANCH", oid, day()))
                    coverage.append((f"{oid}-{s}", codes[row]))
        for n in range(JOINT):  # 2 to 5 small enterprises in one building
            oid, first = f"{cluster}-J{n}", fresh()
            neighbours = np.flatnonzero(building == building[first])
            members = [first, *filter(None, (take(neighbours) for _ in range(int(rng.integers(1, 5)))))]
            orgs.append((oid, f"{building[first]}第{n}联合党支部", "JOINT_BRANCH", cluster, day()))
            coverage += [(oid, codes[row]) for row in members]
    return orgs, coverage


# -- measuring ----------------------------------------------------------------------


def bench_ledger(data: Path, size: str) -> Path:
    """The folder of the generated ledger of `size`, written on first use under `data`."""
    folder = data / size
    if not (folder / "enterprises.csv").exists():
        print(f"generating {size} in {folder} ...", flush=True)
        write_ledger(folder, SIZES[size])
    return folder


def bench_store(data: Path, size: str) -> NetworkxStore:
    """The generated ledger of `size`, loaded into a store."""
    folder = bench_ledger(data, size)
    started = time.perf_counter()
    store = NetworkxStore(load_ledger(folder).dataset)
    print(f"{size}: loaded in {time.perf_counter() - started:.1f} s; {store.table.size:,} enterprises")
    return store


def best_of(runs: int, work: Callable[[], object]) -> float:
    """The shortest of `runs` timings of `work`: the least disturbed by a noisy machine."""
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        timings.append(time.perf_counter() - start)
    return min(timings)


def dictreader_seconds(path: Path) -> float:
    def read() -> None:
        with path.open(encoding="utf-8", newline="") as file:
            for _ in csv.DictReader(file):
                pass

    return best_of(3, read)


def chainorg(*args: str) -> list[str]:
    return [str(Path(sys.executable).parent / "chainorg"), *args]


def load_seconds(folder: Path) -> float:
    return best_of(3, lambda: subprocess.run(chainorg("load", str(folder)), check=True, stdout=subprocess.DEVNULL))


def serve_figures(folder: Path) -> tuple[float, int]:
    """(seconds from start to the first answer, resident bytes then) of `chainorg serve --data`."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    start = time.perf_counter()
    server = subprocess.Popen(chainorg("serve", "--data", str(folder), "--port", str(port), "--no-access-log"),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        while True:
            try:
                httpx.post(
                    f"http://127.0.0.1:{port}/graphql", json={"query": "{ coverage { enterprises } }"}
                ).raise_for_status()
                break
            except httpx.TransportError:
                if server.poll() is not None:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.05)
        elapsed = time.perf_counter() - start
        time.sleep(2)  # "once served": after the allocator has returned what loading freed
        rss = next(
            int(line.split()[1]) * 1024
            for line in Path(f"/proc/{server.pid}/status").read_text().splitlines()
            if line.startswith("VmRSS")
        )
        return elapsed, rss
    finally:
        server.terminate()
        server.wait(timeout=30)


class InProcess:
    """Executes queries through the schema on one store, timing each."""

    def __init__(self, store: NetworkxStore):
        self.store = store
        self.schema = build_schema()
        self.loop = asyncio.new_event_loop()

    def run(self, query: str) -> float:
        start = time.perf_counter()
        result = self.loop.run_until_complete(self.schema.execute(query, context_value=Context.for_store(self.store)))
        elapsed = time.perf_counter() - start
        if result.errors:
            raise RuntimeError(result.errors)
        return elapsed

    def timed(self, query: str, repeat: int = 30) -> tuple[float, float]:
        """(median warm seconds, first cold seconds)."""
        cold = self.run(query)
        return statistics.median(self.run(query) for _ in range(repeat)), cold


def queries(store: NetworkxStore) -> dict[str, str]:
    park = store.table.park.keys[1]
    committees = OrganizationFilter(kinds=frozenset({OrgKind.CHAIN_COMMITTEE}))
    chain_committee = asyncio.run(store.find_organizations(committees, 0, 1)).items[0].id
    uncovered_filter = EnterpriseFilter(scope=Scope(park=park), coverage=CoverageState.NONE)
    uncovered = asyncio.run(store.find_enterprises(uncovered_filter, 0, 0)).total
    page = "nodes { creditCode name organizations { id name } cluster { name } } pageInfo { endCursor }"
    deep = cursor_at(int(uncovered * 0.9) - 1)
    return {
        "park coverage": f'{{ coverage(scope: {{park: "{park}"}}) {{ enterprises organizationCovered workCovered uncovered organizationRate workRate formalMembers organizations }} }}',
        "trend, 121 months": f'{{ coverageTrend(scope: {{park: "{park}"}}, from: "2015-01-01", to: "2025-01-01", step: MONTH) {{ asOf coverage {{ enterprises organizationCovered }} }} }}',
        "page, first": f'{{ enterprises(first: 100, filter: {{coverage: NONE, scope: {{park: "{park}"}}}}) {{ totalCount {page} }} }}',
        "page, 90% deep": f'{{ enterprises(first: 100, after: "{deep}", filter: {{coverage: NONE, scope: {{park: "{park}"}}}}) {{ totalCount {page} }} }}',
        "chain committee tree": f'{{ organization(id: "{chain_committee}") {{ name members {{ total }} children {{ id name members {{ formal probationary total }} children {{ id name kind members {{ total }} covers {{ creditCode name }} }} }} }} }}',
    }


def gc_pauses(process: InProcess, mix: list[str], seconds: float) -> list[float]:
    pauses: list[float] = []
    began: list[float] = []

    def watch(phase: str, info: dict) -> None:
        if phase == "start":
            began.append(time.perf_counter())
        elif began:
            pauses.append(time.perf_counter() - began.pop())

    gc.callbacks.append(watch)
    try:
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            for query in mix:
                process.run(query)
    finally:
        gc.callbacks.remove(watch)
    return pauses


def measure(label: str, folder: Path) -> None:
    enterprises = pl.scan_csv(folder / "enterprises.csv", infer_schema=False).select(pl.len()).collect().item()
    print(f"\n== {label}: {enterprises:,} enterprises ({folder}) ==")
    baseline = dictreader_seconds(folder / "enterprises.csv")
    loading = load_seconds(folder)
    print(
        f"chainorg load            {loading:8.2f} s   csv.DictReader pass {baseline:.2f} s   ratio {loading / baseline:5.2f}  (goal <= 1.5)"
    )
    started, rss = serve_figures(folder)
    print(f"serve, start to answer   {started:8.2f} s   (goal <= 10 s)")
    print(
        f"resident memory          {rss / 2**20:8.0f} MB  {rss / enterprises / 1024:.3f} KB per enterprise  (goal <= 0.5 KB)"
    )

    store = NetworkxStore(load_ledger(folder).dataset)
    gc.collect()
    gc.freeze()
    process = InProcess(store)
    typename, _ = process.timed("{ __typename }", 200)
    print(f"{{ __typename }}          {typename * 1000:8.3f} ms  (baseline)")
    goals = {
        "park coverage": 2,
        "trend, 121 months": 30,
        "page, first": 15,
        "page, 90% deep": 15,
        "chain committee tree": 20,
    }
    mix = queries(store)
    for name, query in mix.items():
        warm, cold = process.timed(query)
        print(
            f"{name:<24} {warm * 1000:8.3f} ms  ({cold * 1000:.1f} ms cold)  {warm / typename:7.1f}x __typename  (goal <= {goals[name]} ms)"
        )
    pauses = gc_pauses(process, list(mix.values()), 5.0)
    longest = max(pauses, default=0.0)
    print(f"gc pauses over 5 s       {len(pauses)} pauses, longest {longest * 1000:.2f} ms  (goal: none over 50 ms)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="13k,100k,1m", help="comma-separated: 13k (the demo), 100k, 300k, 1m")
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "bench", help="where generated ledgers are kept")
    args = parser.parse_args()
    for label in args.sizes.split(","):
        folder = args.data / label
        if not (folder / "enterprises.csv").exists():
            print(f"generating {label} in {folder} ...", flush=True)
            if SIZES[label]:
                write_ledger(folder, SIZES[label])
            else:
                write_csv_ledger(demo_records(), folder)
        measure(label, folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
