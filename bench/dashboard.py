"""The dashboard in the browser: time from navigation to the last chart drawn, the bytes of the
first view and the slowest API call the page makes, on the demo and at 1M enterprises.

Serves each with `chainorg serve` (the demo as `make run` does; the 1M ledger of
bench/scale.py with `--data`), opens the page in Debian's Chromium through Playwright, first
cold (the server's first page since it started), then warm (the median of `--repeat` loads).
Goals: the last chart drawn within 1.5 s on the demo and 3 s at 1M. A screenshot of each is
saved under build/screenshots/.

    .venv/bin/python bench/dashboard.py [--sizes demo,1m] [--repeat 5]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scale import bench_ledger

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = ROOT / "build" / "screenshots"
GOALS = {"demo": 1.5, "1m": 3.0}

MEASURE = """() => {
  const entries = [performance.getEntriesByType("navigation")[0], ...performance.getEntriesByType("resource")];
  return {
    drawn: window.dashboardDrawnAt, settled: window.dashboardSettledAt,
    bytes: entries.reduce((sum, e) => sum + (e.transferSize || 0), 0),
    requests: entries.length, timings: window.dashboard.timings,
  };
}"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(options: list[str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    command = [str(Path(sys.executable).parent / "chainorg"), "serve", *options, "--port", str(port), "--no-access-log"]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url, started = f"http://127.0.0.1:{port}", time.monotonic()
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                print(f"  served in {time.monotonic() - started:.1f} s", flush=True)
                return server, url
        except httpx.TransportError:
            if server.poll() is not None:
                raise SystemExit(f"the server did not start: {server.stderr.read().decode() if server.stderr else ''}")
            time.sleep(0.2)


def visit(page: Page, url: str) -> dict:
    page.goto(f"{url}/", wait_until="commit")
    page.wait_for_function("() => window.dashboardDrawnAt && window.dashboardSettledAt", timeout=120_000)
    return page.evaluate(MEASURE)


def measure(size: str, options: list[str], repeat: int) -> None:
    server, url = serve(options)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            cold = visit(page, url)
            page.wait_for_timeout(1500)
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"dashboard-{size}.png"), full_page=True)
            warm = []
            for _ in range(repeat):
                fresh = context.new_page()  # a new page: the browser's cache as a returning user has it
                warm.append(visit(fresh, url))
                fresh.close()
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"  cold: last chart drawn {cold['drawn'] / 1000:.2f} s, every panel {cold['settled'] / 1000:.2f} s, "
          f"{cold['bytes'] / 1024:,.0f} KiB in {cold['requests']} requests; slowest call {slowest(cold)}")  # fmt: skip
    drawn = statistics.median(v["drawn"] for v in warm) / 1000
    settled = statistics.median(v["settled"] for v in warm) / 1000
    goal = GOALS.get(size)
    verdict = "" if goal is None else f" (goal ≤ {goal} s: {'met' if drawn <= goal else 'MISSED'})"
    print(f"  warm, median of {repeat}: last chart drawn {drawn:.2f} s{verdict}, every panel {settled:.2f} s, "
          f"slowest call {slowest(warm[-1])}")  # fmt: skip


def slowest(visited: dict) -> str:
    """The page's slowest API call: its name in the page and its milliseconds."""
    name, ms = max(visited["timings"].items(), key=lambda item: item[1])
    return f"{name} {ms:.0f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="demo,1m", help="demo and any of bench/scale.py's sizes: 13k, 100k, 300k, 1m"
    )
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "bench")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    for size in args.sizes.split(","):
        print(f"{size}:", flush=True)
        options = [] if size == "demo" else ["--data", str(bench_ledger(args.data, size))]
        measure(size, options, args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
