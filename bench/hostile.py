"""The worst planner requests a client can send, against a real server: each is bounded
before it starts (PLAN_TOO_LARGE with the size) or cut off at the time budget, and no
solve goes on after its answer.

For each request, alone and then six at once: the answers' codes and the slowest
answer's wall time; the server's peak resident memory over its memory before; and the
CPU seconds it spends in the 3 s after the last answer (goal: ~0, nothing left running).

    .venv/bin/python bench/hostile.py [--timeout 5]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

CHAINORG = str(Path(sys.executable).parent / "chainorg")
HOSTILE = {
    "AUTO, 10 formal members, 8 a branch, by building": "maxUnits: 8, minFormalMembers: 10, method: AUTO",
    "OPTIMAL, 10 formal members, 8 a branch, by park": "maxUnits: 8, minFormalMembers: 10, proximity: PARK, "
    "method: OPTIMAL",
    "OPTIMAL, 3 formal members, 20 a branch, by park": "maxUnits: 20, minFormalMembers: 3, proximity: PARK, "
    "method: OPTIMAL",
    "AUTO, 1 formal member, 50 a branch, by park": "maxUnits: 50, minFormalMembers: 1, proximity: PARK, method: AUTO",
    "OPTIMAL, 1 formal member, 50 a branch, by park": "maxUnits: 50, minFormalMembers: 1, proximity: PARK, "
    "method: OPTIMAL",
    "OPTIMAL, 6 formal members, 12 a branch, by park": "maxUnits: 12, minFormalMembers: 6, proximity: PARK, "
    "method: OPTIMAL",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def status(pid: int, field: str) -> int:
    """A /proc/PID/status field in bytes (VmRSS, VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ask(url: str, arguments: str) -> tuple[float, str]:
    query = f"{{ planJointBranches({arguments}) {{ enterprisesCovered method }} }}"
    started = time.perf_counter()
    answer = httpx.post(url, json={"query": query}, timeout=120).json()
    errors = answer.get("errors")
    code = errors[0]["extensions"].get("code", "?") if errors else f"covered {answer['data']['planJointBranches']}"
    return time.perf_counter() - started, code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=5.0, help="the server's time budget per request, seconds")
    args = parser.parse_args()
    port = free_port()
    server = subprocess.Popen([CHAINORG, "serve", "--demo", "--port", str(port), "--timeout", str(args.timeout),
                               "--no-access-log"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}/graphql"
    try:
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).raise_for_status()
                break
            except httpx.TransportError:
                time.sleep(0.1)
        print(f"chainorg serve --demo --timeout {args.timeout:g}")
        for name, arguments in HOSTILE.items():
            for at_once in (1, 6):
                rss = status(server.pid, "VmRSS")
                with ThreadPoolExecutor(at_once) as pool:
                    answers = list(pool.map(ask, [url] * at_once, [arguments] * at_once))
                peak = status(server.pid, "VmHWM")
                cpu = cpu_seconds(server.pid)
                time.sleep(3)
                after = cpu_seconds(server.pid) - cpu
                codes = sorted({code for _, code in answers})
                print(f"{name:<50} x{at_once}  slowest {max(s for s, _ in answers):6.2f} s  "
                      f"peak RSS {peak / 2**20:6.0f} MB (was {rss / 2**20:.0f})  CPU in the 3 s after {after:5.2f} s  "
                      f"{', '.join(codes)}")  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
