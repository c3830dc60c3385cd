"""Many servers on one graph database: acknowledged change sets per second and latency, and a
read-mostly mix, through one `chainorg serve --store` against two on one ArcadeDB.

Starts an ArcadeDB server (Bolt, `txWalFlush=2`: every commit fsynced) in a temporary folder,
loads the Changsha demo into it and serves it twice. Then, for each of 1 and 2 servers:

- writes: CLIENTS clients, spread evenly over the servers, each sending one-change sets
  (an organization's stars, each client its own organizations) as fast as they are
  answered for SECONDS: acknowledged per second, p50 and p99 latency, refusals;
- mix: the same clients sending 9 questions (a park's coverage, a page of enterprises,
  an organization's tree) to 1 change set: requests answered per second, p99.

The clients, both servers and the database share this machine's cores; under each figure,
the cores each used while it ran say which of them limits it. Refusals are counted by code.

    .venv/bin/python bench/graphdb_writes.py [--seconds 20]
"""

from __future__ import annotations

import argparse
import collections
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from arcadedb import ArcadeDB, free_port
from tests.conftest import serve  # `chainorg serve`, returned once it answers /healthz

PASSWORD = "chainorg-bench"
CLIENTS = 8
GOAL_MIX_RATIO = 1.6
SET_STARS = "mutation($id: ID!, $n: Int!) { applyChanges(changes: [{setOrganizationDetails: {orgId: $id, stars: $n}}]) { changeSet } }"
QUESTIONS = [
    '{ coverage(scope: {park: "长沙高新区"}) { enterprises organizationCovered } }',
    "{ enterprises(first: 20) { totalCount nodes { name } } }",
    '{ organization(id: "YDHL-0007") { name members { formal } children { id } } }',
]


def branches(url: str) -> list[str]:
    query = "{ organizations(first: 500) { nodes { id kind } } }"
    nodes = httpx.post(f"{url}/graphql", json={"query": query}, timeout=60).json()["data"]["organizations"]["nodes"]
    return [node["id"] for node in nodes if node["kind"] == "BRANCH"]


def cpu_seconds(pid: int) -> float:
    """The CPU time (user and system) process `pid` has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def hammer(urls: list[str], orgs: list[str], seconds: float, reads_per_write: int) -> dict[str, Any]:
    """CLIENTS threads over `urls` for `seconds`; what they got."""
    latencies: list[list[float]] = [[] for _ in range(CLIENTS)]
    writes = [0] * CLIENTS
    refused: collections.Counter[str] = collections.Counter()  # by code: the first message of each is kept
    messages: dict[str, str] = {}
    stop_at = time.monotonic() + seconds

    def client(number: int) -> None:
        url = urls[number % len(urls)]
        mine = itertools.cycle(orgs[number::CLIENTS])
        with httpx.Client(timeout=60) as http:
            for step in itertools.count():
                if time.monotonic() > stop_at:
                    return
                writing = step % (reads_per_write + 1) == reads_per_write
                if writing:
                    body = {"query": SET_STARS, "variables": {"id": next(mine), "n": step % 6}}
                else:
                    body = {"query": QUESTIONS[step % len(QUESTIONS)]}
                sent = time.perf_counter()
                answer = http.post(f"{url}/graphql", json=body).json()
                latencies[number].append(time.perf_counter() - sent)
                if answer.get("errors"):
                    code = answer["errors"][0].get("extensions", {}).get("code", "?")
                    refused[code] += 1
                    messages.setdefault(code, answer["errors"][0]["message"])
                elif writing:
                    writes[number] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = sorted(itertools.chain.from_iterable(latencies))
    return {
        "requests_per_s": len(every) / seconds,
        "writes_per_s": sum(writes) / seconds,
        "p50_ms": 1000 * statistics.median(every),
        "p99_ms": 1000 * every[int(0.99 * (len(every) - 1))],
        "refused": sum(refused.values()),
        "refusals": "; ".join(f"{code} ×{n}: {messages[code]}" for code, n in refused.items()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    seconds = parser.parse_args().seconds
    with tempfile.TemporaryDirectory() as folder, ArcadeDB(Path(folder), PASSWORD, memory="4g") as database:
        url = database.url()
        environment = {**os.environ, "CHAINORG_STORE_PASSWORD": PASSWORD}
        subprocess.run([Path(sys.executable).parent / "chainorg", "load", "--demo", "--store", url],
                       env=environment, check=True, capture_output=True)  # fmt: skip
        ports = [free_port(), free_port()]
        servers = [serve("--store", url, port=port, password=PASSWORD) for port in ports]
        try:
            urls = [f"http://127.0.0.1:{port}" for port in ports]
            orgs = branches(urls[0])
            results = {}
            for mix, reads in (("writes", 0), ("9 reads : 1 write", 9)):
                for count in (1, 2):
                    pids = [server.pid for server in servers[:count]] + [database.pid or 0]
                    used, clients, began = [cpu_seconds(pid) for pid in pids], os.times(), time.monotonic()
                    got = hammer(urls[:count], orgs, seconds, reads)
                    took, after = time.monotonic() - began, os.times()
                    cores = [(cpu_seconds(pid) - before) / took for pid, before in zip(pids, used, strict=True)]
                    clients_cores = (after.user + after.system - clients.user - clients.system) / took
                    results[mix, count] = got
                    print(f"{mix:>18}, {CLIENTS} clients over {count} server(s): "
                          f"{got['requests_per_s']:7.1f} requests/s, {got['writes_per_s']:6.1f} change sets/s, "
                          f"p50 {got['p50_ms']:6.1f} ms, p99 {got['p99_ms']:7.1f} ms, refused {got['refused']:.0f}",
                          flush=True)  # fmt: skip
                    print(f"    cores busy (of {os.cpu_count()}): server(s) {' + '.join(f'{c:.2f}' for c in cores[:-1])}, "
                          f"database {cores[-1]:.2f}, clients {clients_cores:.2f}", flush=True)  # fmt: skip
                    if got["refusals"]:
                        print(f"    refused: {got['refusals']}", flush=True)
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=30)
    write_ratio = results["writes", 2]["writes_per_s"] / results["writes", 1]["writes_per_s"]
    mix_ratio = results["9 reads : 1 write", 2]["requests_per_s"] / results["9 reads : 1 write", 1]["requests_per_s"]
    print(f"two servers against one: change sets {write_ratio:.2f}×, "
          f"read-mostly requests {mix_ratio:.2f}× (goal ≥ {GOAL_MIX_RATIO}×)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
