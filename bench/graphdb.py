"""The Cypher store on a real graph database server (ArcadeDB, Bolt), at 300,000 enterprises.

One server, one run: the generated 300k ledger is loaded twice, by a hand-written UNWIND
batch load with the raw driver and by the store (`load_dataset`), each into a database of
its own; then each operation of the store is timed against the best hand-written Cypher
for the same answer, and the rows and bytes it brings back are set against the answer's.
Simulations are timed against the embedded store's over the same graph (no hand-written
Cypher answers one), each checked to answer the same.

    .venv/bin/python bench/graphdb.py [--size 300k] [--repeat 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from functools import partial
from pathlib import Path
from typing import Any

import neo4j

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from scale import bench_ledger

from arcadedb import ArcadeDB
from graph.access import Boundary
from graph.changes import Change, CoverEnterprises, CreateOrganization, MoveOrganization
from graph.compliance import DEFAULT_RULES
from graph.dataset import Dataset
from graph.model import Organization, OrgKind
from graph.query import CoverageState, EnterpriseFilter, GroupBy, Scope
from graph.records import record_values
from graph.stores.cypher import CypherStore, store_address
from graph.stores.cypher.connection import Connection
from graph.stores.cypher.load import load_dataset
from graph.stores.networkx import NetworkxStore
from loaders.ledger import load_ledger

PASSWORD = "chainorg-bench"
BATCH = 5_000


async def raw_load(driver: neo4j.AsyncDriver, database: str, dataset: Dataset) -> int:
    """The hand-written load: the record fields only, a unique constraint, UNWIND CREATE batches."""

    async def run(text: str, **parameters: Any) -> None:
        await driver.execute_query(text, parameters, database_=database)

    await run("CREATE CONSTRAINT raw_uid IF NOT EXISTS FOR (n:Record) REQUIRE n.uid IS UNIQUE")
    table = dataset.enterprises
    enterprises = [{**record_values(e), "uid": e.credit_code} for e in table.records(range(table.size))]
    organizations = [{**record_values(o), "uid": o.id} for o in dataset.organizations]
    instructors = [{**record_values(i), "uid": i.id} for i in dataset.instructors]
    covers = [{"a": c.org_id, "b": c.credit_code, "props": record_values(c)} for c in dataset.covers]
    assigned = [{"a": a.instructor_id, "b": a.credit_code, "props": record_values(a)} for a in dataset.assignments]
    part_of = [{"a": o.id, "b": o.parent_id, "props": {}} for o in dataset.organizations if o.parent_id]
    rows = 0
    for label, found in (("Enterprise", enterprises), ("Organization", organizations), ("Instructor", instructors)):
        for start in range(0, len(found), BATCH):
            await run(f"UNWIND $rows AS row CREATE (n:Record:{label}) SET n = row", rows=found[start : start + BATCH])
        rows += len(found)
    for kind, found in (("COVERS", covers), ("ASSIGNED", assigned), ("PART_OF", part_of)):
        text = (f"UNWIND $rows AS row MATCH (a:Record {{uid: row.a}}) MATCH (b:Record {{uid: row.b}}) "
                f"CREATE (a)-[r:{kind}]->(b) SET r = row.props")  # fmt: skip
        for start in range(0, len(found), BATCH):
            await run(text, rows=found[start : start + BATCH])
        rows += len(found)
    return rows


def best(spent: list[float]) -> str:
    return f"{statistics.median(spent) * 1000:7.0f} ms"


async def timed(work: Callable[[], Awaitable[object]], repeat: int) -> tuple[list[float], object]:
    await work()  # warm
    spent, answer = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        answer = await work()
        spent.append(time.perf_counter() - started)
    return spent, answer


class Metered:
    """Counts the rows and bytes (as JSON) the store's statements bring back."""

    def __init__(self, connection: Connection):
        self.rows = self.bytes = 0
        real = connection._execute

        async def execute(*args: Any) -> list[neo4j.Record]:
            found = await real(*args)
            self.rows += len(found)
            self.bytes += len(json.dumps([dict(r) for r in found], default=str, ensure_ascii=False).encode())
            return found

        connection._execute = execute  # type: ignore[method-assign]


def answer_bytes(answer: object) -> int:
    def plain(value: object) -> object:
        if hasattr(value, "__dataclass_fields__"):
            return asdict(value)  # type: ignore[arg-type]
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    return len(json.dumps(plain(answer), default=str, ensure_ascii=False).encode())


async def measure(server: ArcadeDB, dataset: Dataset, repeat: int) -> None:
    for name in ("raw", "store"):
        server.create_database(name)
    raw_driver = neo4j.AsyncGraphDatabase.driver(f"bolt://127.0.0.1:{server.bolt_port}", auth=("root", PASSWORD))
    started = time.perf_counter()
    raw_rows = await raw_load(raw_driver, "raw", dataset)
    raw_seconds = time.perf_counter() - started
    address = store_address(server.url("store"), PASSWORD)
    connection = Connection(address)
    started = time.perf_counter()
    loaded = await load_dataset(connection, dataset)
    store_seconds = time.perf_counter() - started
    await connection.close()
    raw_rate, store_rate = raw_rows / raw_seconds, loaded.rows / store_seconds
    print(f"load, raw driver:  {raw_rows:,} rows in {raw_seconds:.1f} s = {raw_rate:,.0f} rows/s")
    print(f"load, the store:   {loaded.rows:,} rows in {store_seconds:.1f} s = {store_rate:,.0f} rows/s "
          f"(ratio {store_rate / raw_rate:.2f}; goal ≥ 0.80)")  # fmt: skip

    store = await CypherStore.open(address)
    metered = Metered(store.connection)
    g = (await store.generation()).g
    park = max((await store.parks()), key=lambda p: p.name).name
    day = store.today().toordinal()
    hand = store.connection.driver

    async def cypher(text: str, **parameters: Any) -> list[neo4j.Record]:
        records, _, _ = await hand.execute_query(text, parameters, database_="store", routing_="r")
        return records

    counted = "e.g = $g AND e.registered <= $day AND $day < e.inactive"

    def by_cluster(matched: str) -> str:
        """The same answer as coverageBy(CLUSTER), written the plain way: EXISTS per enterprise."""
        organized = "EXISTS { MATCH (:Organization)-[c:COVERS]->(e) WHERE c.from <= $day AND $day < c.to }"
        worked = "EXISTS { MATCH (:Instructor)-[a:ASSIGNED]->(e) WHERE a.from <= $day AND $day < a.to }"
        return (
            f"CALL {{ {matched} WITH e.resolved_cluster AS key, e, {organized} AS organized, {worked} AS worked "
            "WITH key, count(e) AS n, sum(CASE WHEN organized THEN 1 ELSE 0 END) AS o, "
            "sum(CASE WHEN worked AND NOT organized THEN 1 ELSE 0 END) AS w, sum(e.formal_members) AS f "
            "RETURN collect([key, n, o, w, f]) AS groups } "
            f"CALL {{ {matched} MATCH (o:Organization)-[c:COVERS]->(e) WHERE c.from <= $day AND $day < c.to "
            "WITH e.resolved_cluster AS key, count(DISTINCT o) AS n RETURN collect([key, n]) AS organizations } "
            "RETURN groups, organizations"
        )

    scoped = f"MATCH (e:Enterprise) WHERE e.park = $park AND {counted}"
    hand_written = {
        "park coverage": lambda: cypher(
            f"CALL {{ {scoped} RETURN count(e) AS enterprises, sum(e.formal_members) AS formal }} "
            f"CALL {{ {scoped} MATCH (o:Organization)-[c:COVERS]->(e) WHERE c.from <= $day AND $day < c.to "
            "RETURN count(DISTINCT e) AS organized, count(DISTINCT o) AS organizations } "
            f"CALL {{ {scoped} MATCH (:Instructor)-[a:ASSIGNED]->(e) WHERE a.from <= $day AND $day < a.to "
            "AND NOT EXISTS { MATCH (:Organization)-[c:COVERS]->(e) WHERE c.from <= $day AND $day < c.to } "
            "RETURN count(DISTINCT e) AS worked } RETURN enterprises, formal, organized, organizations, worked",
            g=g,
            day=day,
            park=park,
        ),
        "coverageBy(CLUSTER), whole graph": lambda: cypher(
            by_cluster(f"MATCH (e:Enterprise) WHERE {counted}"), g=g, day=day
        ),
        "coverageBy(CLUSTER), one park": lambda: cypher(by_cluster(scoped), g=g, day=day, park=park),
        "100 uncovered with their organizations": lambda: uncovered_by_hand(),
        "a chain committee's tree, 3 levels": lambda: tree_by_hand(),
    }

    committee = next(o.id for o in dataset.organizations if o.kind.value == "CHAIN_COMMITTEE")

    async def tree_by_hand() -> object:
        """The same tree the plain way: one statement for the organizations and their
        figures, then the coverage of the clusters under the root (EXISTS per enterprise)."""
        stands = "n.established <= $day AND $day < n.dissolved"
        live = "c.from <= $day AND $day < c.to"
        [tree] = await cypher(
            "MATCH (root:Record {uid: $root}) MATCH path = (root)<-[:PART_OF*0..3]-(o:Organization) "
            f"WHERE all(n IN nodes(path) WHERE {stands}) "
            "OPTIONAL MATCH (o)-[:PART_OF]->(up:Organization) WITH o, up.id AS parent, length(path) AS level "
            f"CALL {{ WITH o OPTIONAL MATCH (o)<-[:PART_OF]-(n:Organization) WHERE {stands} RETURN count(n) AS subs }} "
            f"CALL {{ WITH o OPTIONAL MATCH (o)-[c:COVERS]->(e:Enterprise) WHERE {live} AND e.registered <= $day "
            "WITH c, e ORDER BY c.row RETURN sum(CASE WHEN $day < e.inactive THEN 1 ELSE 0 END) AS units, "
            "sum(CASE WHEN e.inactive <= $day THEN 1 ELSE 0 END) AS gone, "
            "collect(CASE WHEN $day < e.inactive THEN e.name END)[0..6] AS names } "
            "CALL { WITH o OPTIONAL MATCH (o)<-[:PART_OF*0..]-(:Organization)-[c:COVERS]->(e:Enterprise) "
            f"WHERE {live} AND e.registered <= $day AND $day < e.inactive WITH collect(DISTINCT e) AS reached "
            "RETURN reduce(n = 0, e IN reached | n + e.formal_members) AS formal, "
            "reduce(n = 0, e IN reached | n + e.probationary_members) AS probationary } "
            "CALL { WITH o OPTIONAL MATCH (o)<-[:PART_OF*0..]-(x:Organization) WHERE x.kind = 'CLUSTER' "
            "RETURN collect(x.id) AS clusters } "
            "RETURN collect([properties(o), parent, level, subs, units, gone, names, formal, probationary, clusters]) AS tree",
            root=f"{g}/{committee}", day=day,
        )  # fmt: skip
        clusters = sorted({key for row in tree["tree"] for key in row[9]})
        matched = f"MATCH (e:Enterprise) WHERE {counted} AND e.resolved_cluster IN $clusters"
        return tree, await cypher(by_cluster(matched), g=g, day=day, clusters=clusters)

    async def uncovered_by_hand() -> object:
        none = ("MATCH (e:Enterprise) WHERE e.g = $g AND e.park = $park AND NOT EXISTS { MATCH (:Organization)-[c:COVERS]->(e) "
                "WHERE c.from <= $day AND $day < c.to } AND NOT EXISTS { MATCH (:Instructor)-[a:ASSIGNED]->(e) "
                "WHERE a.from <= $day AND $day < a.to }")  # fmt: skip
        page = await cypher(
            f"CALL {{ {none} RETURN count(e) AS total }} CALL {{ {none} WITH e ORDER BY e.row LIMIT 100 "
            "RETURN collect(e {.*}) AS page } RETURN total, page", g=g, day=day, park=park,
        )  # fmt: skip
        uids = [e["uid"] for e in page[0]["page"]]
        return await cypher(
            "UNWIND $uids AS key MATCH (e:Record {uid: key}) OPTIONAL MATCH (o:Organization)-[c:COVERS]->(e) "
            "WHERE c.from <= $day AND $day < c.to RETURN key, collect(o {.*}) AS organizations", uids=uids, day=day,
        )  # fmt: skip

    async def uncovered_page() -> object:
        page = await store.find_enterprises(EnterpriseFilter(Scope(park=park), coverage=CoverageState.NONE), 0, 100)
        return page, await store.covering([e.credit_code for e in page.items])

    through_store = {
        "park coverage": lambda: store.coverage(Scope(park=park)),
        "coverageBy(CLUSTER), whole graph": lambda: store.coverage_by(GroupBy.CLUSTER, Scope()),
        "coverageBy(CLUSTER), one park": lambda: store.coverage_by(GroupBy.CLUSTER, Scope(park=park)),
        "100 uncovered with their organizations": uncovered_page,
        "a chain committee's tree, 3 levels": lambda: store.organization_tree(committee, 3),
    }
    print(f"\n{'operation':42} {'store':>10} {'hand':>10} {'ratio':>6}  rows  bytes back / answer bytes")
    for name, work in through_store.items():
        metered.rows = metered.bytes = 0
        spent, answer = await timed(work, repeat)
        rows, sent = metered.rows // (repeat + 1), metered.bytes // (repeat + 1)
        hand_spent, _ = await timed(hand_written[name], repeat)
        ratio = statistics.median(spent) / statistics.median(hand_spent)
        print(f"{name:42} {best(spent)} {best(hand_spent)} {ratio:6.2f}  {rows:4}  {sent:,} / {answer_bytes(answer):,}")
    print("goals: each ≤ 1.25× the hand-written Cypher and under 500 ms")
    await simulations(store, metered, dataset, park, repeat)
    await bounded(store, committee, park, repeat)
    await store.close()
    await raw_driver.close()


async def simulations(store: CypherStore, metered: Metered, dataset: Dataset, park: str, repeat: int) -> None:
    """Simulations over the store beside the embedded store's over the same graph: what
    crosses the wire is the records the changes reach, not the graph."""
    page = await store.find_enterprises(EnterpriseFilter(Scope(park=park), coverage=CoverageState.NONE), 0, 4)
    branch = next(o for o in dataset.organizations if o.kind is OrgKind.BRANCH and o.dissolved_on is None)
    other = next(o.id for o in dataset.organizations if o.kind is OrgKind.CLUSTER and o.id != branch.parent_id)
    cluster = next(o.id for o in dataset.organizations if o.kind is OrgKind.CLUSTER)
    new = Organization("BENCH-J1", "联合党支部", OrgKind.JOINT_BRANCH, parent_id=cluster)
    change_sets: dict[str, list[Change]] = {
        "a new joint branch of 4": [CreateOrganization(new), CoverEnterprises(new.id, tuple(e.credit_code for e in page.items))],
        "a branch moved to another cluster": [MoveOrganization(branch.id, other)],
    }  # fmt: skip
    embedded = NetworkxStore(dataset, today=store.today)
    print(
        f"\n{'simulation, whole graph':42} {'store':>10} {'embedded':>10} {'ratio':>6}  rows  bytes back / answer bytes"
    )
    for name, changes in change_sets.items():
        metered.rows = metered.bytes = 0
        spent, answer = await timed(partial(store.simulate, changes, Scope(), None, DEFAULT_RULES), repeat)
        assert answer == await embedded.simulate(changes, Scope(), None, DEFAULT_RULES), name
        rows, sent = metered.rows // (repeat + 1), metered.bytes // (repeat + 1)
        local, _ = await timed(partial(embedded.simulate, changes, Scope(), None, DEFAULT_RULES), repeat)
        ratio = statistics.median(spent) / statistics.median(local)
        print(f"{name:42} {best(spent)} {best(local)} {ratio:6.2f}  {rows:4}  {sent:,} / {answer_bytes(answer):,}")


async def bounded(store: CypherStore, committee: str, park: str, repeat: int) -> None:
    """A token limited to one park: its world gathered once, then each question with the
    boundary's conditions, beside the same question asked of that park as a scope."""
    started = time.perf_counter()
    view = await store.within(Boundary.of(parks=[park]))
    print(f"\na token limited to {park}: its world in {(time.perf_counter() - started) * 1000:.0f} ms "
          f"({(await view.summary())['enterprises']:,} enterprises)")  # fmt: skip
    print(f"{'operation':42} {'bounded':>10} {'scoped':>10} {'ratio':>6}")
    asked = {
        "coverage": (lambda: view.coverage(Scope()), lambda: store.coverage(Scope(park=park))),
        "coverageBy(CLUSTER)": (lambda: view.coverage_by(GroupBy.CLUSTER, Scope()),
                                lambda: store.coverage_by(GroupBy.CLUSTER, Scope(park=park))),
        "100 uncovered": (lambda: view.find_enterprises(EnterpriseFilter(coverage=CoverageState.NONE), 0, 100),
                          lambda: store.find_enterprises(EnterpriseFilter(Scope(park=park), coverage=CoverageState.NONE), 0, 100)),
        "a chain committee's tree, 3 levels": (lambda: view.organization_tree(committee, 3),
                                               lambda: store.organization_tree(committee, 3)),
    }  # fmt: skip
    for name, (inside, scoped) in asked.items():
        spent, _ = await timed(inside, repeat)
        whole, _ = await timed(scoped, repeat)
        print(f"{name:42} {best(spent)} {best(whole)} {statistics.median(spent) / statistics.median(whole):6.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="300k", help="a generated ledger of bench/scale.py: 13k, 100k, 300k, 1m")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--data", type=Path, default=Path("data/bench"))
    args = parser.parse_args()
    dataset = load_ledger(bench_ledger(args.data, args.size)).dataset
    with tempfile.TemporaryDirectory() as folder, ArcadeDB(Path(folder), PASSWORD, memory="4g") as server:
        print(f"ArcadeDB on bolt port {server.bolt_port}; {dataset.enterprises.size:,} enterprises")
        asyncio.run(measure(server, dataset, args.repeat))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
