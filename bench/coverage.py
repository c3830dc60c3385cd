"""Requests/s and latency of the GraphQL server on the demo, at 8 concurrent clients.

Starts `chainorg serve --demo` on a free loopback port and measures, in one run,
(a) `{ __typename }` (the cost of a GraphQL request itself) and (b) the park's
coverage. Prints both and the ratio b/a. Goals: ratio >= 0.5 and p99 of (b) < 25 ms.

    .venv/bin/python bench/coverage.py [--clients 8] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

QUERIES = {
    "typename": "{ __typename }",
    "coverage": '{ coverage(scope: {park: "长沙高新区"}) { enterprises organizationCovered workCovered uncovered '
    "organizationRate workRate formalMembers organizations } }",
}


async def hammer(url: str, query: str, clients: int, seconds: float) -> list[float]:
    """Latencies (s) of requests sent by `clients` looping clients for `seconds`."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                response = await http.post(url, json={"query": query})
                latencies.append(time.perf_counter() - start)
                if response.status_code != 200 or "errors" in response.json():
                    raise RuntimeError(response.text)

    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies


def report(name: str, latencies: list[float], seconds: float) -> float:
    ordered = sorted(latencies)
    rate = len(ordered) / seconds
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    print(f"{name:>9}: {rate:8.0f} req/s   p50 {p50:6.2f} ms   p99 {p99:6.2f} ms   ({len(ordered)} requests)")
    return rate


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()

    port = free_port()
    chainorg = str(Path(sys.executable).parent / "chainorg")
    server = subprocess.Popen([chainorg, "serve", "--demo", "--port", str(port), "--no-access-log"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}/graphql"
    try:
        while True:
            try:
                httpx.post(url, json={"query": "{ __typename }"})
                break
            except httpx.ConnectError:
                if server.poll() is not None:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.2)
        print(f"demo server on port {port}; {args.clients} clients, {args.seconds:.0f} s per query")
        rates = {}
        for name, query in QUERIES.items():
            asyncio.run(hammer(url, query, args.clients, 1.0))  # warm-up
            rates[name] = report(name, asyncio.run(hammer(url, query, args.clients, args.seconds)), args.seconds)
        print(f"    ratio: coverage / typename = {rates['coverage'] / rates['typename']:.2f}  (goal >= 0.5)")
    finally:
        server.terminate()
        server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
