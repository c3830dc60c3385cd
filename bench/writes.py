"""Writes on the 1M-enterprise state: acknowledged mutations per second, a 1,000-change batch,
restart to first answer.

Makes a state from the ledger of bench/scale.py (on first use, under data/bench/1m-state),
copies it, and serves the copy with `chainorg serve --state` as a subprocess:

- restart: from starting the process to the first answer of `{ coverage { enterprises } }`;
- 8 concurrent clients, each sending single-change mutations (setting an organization's
  stars, creating a branch under a cluster, covering an uncovered enterprise by a new
  branch: a third each) as fast as they are answered for DURATION seconds: acknowledged
  per second and the p50 / p99 latency;
- one `applyChanges` of 1,000 changes (250 new joint branches, 250 coverings of 3
  enterprises each, 500 detail changes), median of 3;
- the first coverage answer after the writes (the store of the new version is built then);
- the write path alone, in process: State.apply from CLIENTS tasks, without HTTP or GraphQL.

The clients run on the same machine as the server and share its cores.

    .venv/bin/python bench/writes.py [--size 1m] [--data DIR] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from scale import ROOT, bench_ledger

from graph.changes import CreateOrganization
from graph.durable import STATE_FILE, create_state
from graph.model import Organization, OrgKind
from graph.stores.networkx.state import State
from loaders.ledger import load_ledger

CLIENTS = 8
GOALS = {"per_second": 300, "p99_ms": 50, "batch_s": 1.0, "restart_s": 10.0}
SET_STARS = "mutation($id: ID!, $n: Int!) { setOrganizationDetails(input: {orgId: $id, stars: $n}) { id } }"
CREATE = 'mutation($id: ID!, $name: String!) { createOrganization(input: {id: $id, name: $name, kind: BRANCH, parentId: "LZ01"}) { id } }'
COVER = "mutation($changes: [ChangeInput!]!) { applyChanges(changes: $changes) { changeSet } }"


def state_of(data: Path, size: str) -> Path:
    """A fresh copy of the bench state (made from the bench ledger on first use)."""
    made = data / f"{size}-state"
    if not (made / STATE_FILE).exists():
        started = time.perf_counter()
        create_state(made, load_ledger(bench_ledger(data, size)).dataset)
        print(f"made the {size} state in {time.perf_counter() - started:.1f} s")
    copy = data / f"{size}-state-bench"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(made, copy)
    return copy


def serve(folder: Path, port: int) -> tuple[subprocess.Popen[bytes], float]:
    """The server and the seconds from its start to its first coverage answer."""
    started = time.perf_counter()
    chainorg = Path(sys.executable).parent / "chainorg"
    server = subprocess.Popen([chainorg, "serve", "--state", str(folder), "--port", str(port), "--no-access-log"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    while True:
        try:
            answer = httpx.post(f"http://127.0.0.1:{port}/graphql", json={"query": "{ coverage { enterprises } }"})
            if answer.status_code == 200 and answer.json()["data"]:
                return server, time.perf_counter() - started
        except httpx.TransportError:
            if server.poll() is not None:
                raise RuntimeError("the server stopped") from None
            time.sleep(0.05)


def uncovered(url: str, count: int) -> list[str]:
    query = """query($first: Int!, $after: String) { enterprises(filter: {coverage: NONE}, first: $first, after: $after) {
                 nodes { creditCode } pageInfo { endCursor } } }"""
    found: list[str] = []
    after = None
    while len(found) < count:
        answer = httpx.post(f"{url}/graphql", json={"query": query, "variables": {"first": 500, "after": after}})
        page = answer.json()["data"]["enterprises"]
        found += [node["creditCode"] for node in page["nodes"]]
        after = page["pageInfo"]["endCursor"]
    return found[:count]


def clients(url: str, seconds: float, codes: list[str]) -> tuple[int, list[float]]:
    """Acknowledged mutations and each one's latency (ms) from CLIENTS clients, each a thread
    with its own connection sending its next mutation once the last is answered, over `seconds`."""
    latencies: list[float] = []
    refused: list[str] = []
    stop = time.perf_counter() + seconds

    def client(number: int) -> None:
        sent = 0
        with httpx.Client(base_url=url, timeout=60) as http:
            while time.perf_counter() < stop:
                sent += 1
                kind = sent % 3
                if kind == 0:
                    body = {"query": SET_STARS, "variables": {"id": f"LZ{1 + number:02d}", "n": sent % 6}}
                elif kind == 1:
                    body = {"query": CREATE, "variables": {"id": f"W{number}-{sent}", "name": f"支部W{number}-{sent}"}}
                else:
                    cover = {
                        "orgId": f"W{number}-{sent - 1}",
                        "creditCodes": [codes.pop()],
                    }  # the branch made just before
                    body = {"query": COVER, "variables": {"changes": [{"coverEnterprises": cover}]}}
                start = time.perf_counter()
                answer = http.post("/graphql", json=body).json()
                if answer.get("errors"):
                    refused.append(answer["errors"][0]["message"])
                    continue
                latencies.append((time.perf_counter() - start) * 1000)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if refused:
        print(f"  {len(refused)} mutations refused, the first: {refused[0]}")
    return len(latencies), latencies


def batch(codes: list[str], tag: str) -> list[dict]:
    changes: list[dict] = []
    for n in range(250):
        org_id = f"B{tag}-{n}"
        changes.append(
            {"createOrganization": {"id": org_id, "name": f"联合党支部{n}", "kind": "JOINT_BRANCH", "parentId": "LZ02"}}
        )
        changes.append({"coverEnterprises": {"orgId": org_id, "creditCodes": codes[3 * n : 3 * n + 3]}})
        changes.append({"setOrganizationDetails": {"orgId": org_id, "stars": n % 6}})
        changes.append({"setOrganizationDetails": {"orgId": org_id, "secretary": f"书记{n}"}})
    return changes


def measure(port: int, seconds: float) -> dict[str, float]:
    url = f"http://127.0.0.1:{port}"
    codes = uncovered(url, 30_000)
    batch_codes, codes = codes[:7_500], codes[7_500:]
    acknowledged, latencies = clients(url, seconds, codes)
    latencies.sort()
    took = []
    for run in range(3):
        changes = batch(batch_codes[run * 750 : run * 750 + 750], str(run))
        started = time.perf_counter()
        answer = httpx.post(
            f"{url}/graphql", json={"query": COVER, "variables": {"changes": changes}}, timeout=60
        ).json()
        took.append(time.perf_counter() - started)
        assert not answer.get("errors"), answer["errors"]
    started = time.perf_counter()
    httpx.post(f"{url}/graphql", json={"query": "{ coverage { organizationCovered } }"}, timeout=60).raise_for_status()
    first_read = time.perf_counter() - started
    return {
        "per_second": acknowledged / seconds,
        "p50_ms": latencies[len(latencies) // 2],
        "p99_ms": latencies[int(len(latencies) * 0.99)],
        "batch_s": statistics.median(took),
        "first_read_s": first_read,
        "acknowledged": acknowledged,
    }


async def in_process(folder: Path, seconds: float) -> tuple[float, float]:
    """The write path alone (State.apply, no HTTP or GraphQL): change sets per second and p99 ms."""
    state = State(folder)
    latencies: list[float] = []
    stop = time.perf_counter() + seconds

    async def client(number: int) -> None:
        sent = 0
        while time.perf_counter() < stop:
            sent += 1
            org = Organization(f"P{number}-{sent}", "支部", OrgKind.BRANCH, parent_id="LZ03")
            start = time.perf_counter()
            await state.apply([CreateOrganization(org)], "bench")
            latencies.append((time.perf_counter() - start) * 1000)

    try:
        await asyncio.gather(*(client(n) for n in range(CLIENTS)))
    finally:
        state.close()
    latencies.sort()
    return len(latencies) / seconds, latencies[int(len(latencies) * 0.99)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="1m")
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "bench")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    folder = state_of(args.data, args.size)
    server, restart = serve(folder, args.port)
    try:
        figures = measure(args.port, args.seconds)
    finally:
        server.terminate()
        server.wait()
    server, restart_after = serve(folder, args.port)
    server.terminate()
    server.wait()
    alone, alone_p99 = asyncio.run(in_process(folder, args.seconds / 2))
    print(f"{args.size} state, {CLIENTS} clients for {args.seconds:g} s ({figures['acknowledged']:,} acknowledged):")
    print(f"  acknowledged mutations  {figures['per_second']:8.0f} /s   goal >= {GOALS['per_second']}  "
          f"({figures['per_second'] / GOALS['per_second']:.2f}x)")  # fmt: skip
    print(f"  latency p50 / p99       {figures['p50_ms']:6.1f} / {figures['p99_ms']:.1f} ms   goal p99 <= "
          f"{GOALS['p99_ms']} ms ({figures['p99_ms'] / GOALS['p99_ms']:.2f} of it)")  # fmt: skip
    print(f"  1,000-change batch      {figures['batch_s'] * 1000:8.0f} ms   goal <= {GOALS['batch_s'] * 1000:.0f} ms "
          f"({figures['batch_s'] / GOALS['batch_s']:.2f} of it)")  # fmt: skip
    print(f"  restart to first answer {restart:8.1f} s    goal <= {GOALS['restart_s']:.0f} s "
          f"({restart / GOALS['restart_s']:.2f} of it); after the writes: {restart_after:.1f} s")  # fmt: skip
    print(f"  first read after writes {figures['first_read_s'] * 1000:8.0f} ms (the new version's store is built)")
    print(
        f"  the write path alone    {alone:8.0f} /s, p99 {alone_p99:.1f} ms (State.apply in process, {CLIENTS} tasks)"
    )
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
