"""Shared fixtures: ledgers written to real files, the demo store, a live uvicorn server."""

from __future__ import annotations

import csv
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Self

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, sync_playwright

from access_log import AccessLog
from arcadedb import ArcadeDB
from exposure import DEFAULT_EXPOSURE, Exposure
from graph.credit_code import check_character
from graph.dataset import Dataset
from graph.durable import create_state
from graph.stores.cypher import CypherStore, StoreAddress, store_address
from graph.stores.cypher.connection import Connection
from graph.stores.cypher.load import load_dataset
from graph.stores.networkx import NetworkxStore
from graph.stores.networkx.state import State
from graph.stores.protocol import OrgStore
from loaders import DEMO_DAY
from loaders.demo import demo_dataset
from loaders.ledger import load_ledger
from loaders.tables import RawTable
from rate import DEFAULT_RATES, RateLimits
from schema.limits import DEFAULT_LIMITS, Limits
from server import create_app

Tables = dict[str, list[list[str]]]


def credit_code(number: int) -> str:
    """A valid credit code for test enterprise `number`."""
    body = f"91430100MA4L{number:05d}"
    return body + check_character(body)


def contents(dataset: Dataset) -> tuple:
    """Everything a dataset holds, as comparable values."""
    table = dataset.enterprises
    return (table.records(range(len(table))), dataset.organizations, dataset.covers, dataset.links,
            dataset.instructors, dataset.assignments, dataset.departments, dataset.past_parents,
            dataset.upgrades)  # fmt: skip


def records(table: RawTable) -> list[tuple[int, list[str]]]:
    """A raw table's (row number, cells) pairs, with "" for empty cells."""
    rows = table.cells.fill_null("").rows()
    return [(int(n), list(cells)) for n, cells in zip(table.rows.tolist(), rows, strict=True)]


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as file:
        csv.writer(file).writerows(rows)
    return path


# A hand-made ledger: two parks, two clusters, a joint branch, instructors, a zombie.
CHAINORG = str(Path(sys.executable).parent / "chainorg")  # the console script of this environment

HEADER = [
    "credit_code",
    "name",
    "park",
    "building",
    "chain",
    "category",
    "formal_members",
    "status",
    "registered_on",
    "cluster",
]
# n  park  bldg chain  category  formal status   registered  declared cluster   covered by / instructor
ENTERPRISES = [
    [1, "A", "X", "互联网", "GAMES", 5, "ACTIVE", "2018-01-01", ""],  # B1 (2019-06-01)
    [2, "A", "X", "互联网", "GAMES", 1, "ACTIVE", "2018-01-01", ""],  # J1 (2020-06-01)
    [3, "A", "X", "互联网", "DATA", 2, "ACTIVE", "2019-01-01", ""],  # J1
    [4, "A", "Y", "互联网", "DATA", 0, "ACTIVE", "2020-01-01", "C1"],  # instructor from 2020-03-01
    [5, "A", "Y", "软件", "NEWS", 3, "ACTIVE", "", "C2"],  # nothing (undated: always counted)
    [6, "A", "", "软件", "NEWS", 0, "ZOMBIE", "", ""],  # B2 and an instructor, but a zombie
    [7, "B", "Z", "互联网", "FINANCE", 4, "ACTIVE", "2021-01-01", ""],  # B2 (undated) and an instructor
    [8, "B", "Z", "互联网", "FINANCE", 0, "CLOSED", "", ""],  # nothing
]
HAND_TABLES = {
    "enterprises": [HEADER] + [[credit_code(n), f"企业{n}", *(str(v) for v in rest)] for n, *rest in ENTERPRISES],
    "organizations": [
        ["id", "name", "kind", "parent_id", "established_on"],
        ["P", "党工委", "PARK_COMMITTEE", "", ""],
        ["C1", "一联组", "CLUSTER", "P", ""],
        ["C2", "二联组", "CLUSTER", "P", ""],
        ["B1", "企业1党支部", "BRANCH", "C1", "2019-06-01"],
        ["J1", "X楼联合党支部", "JOINT_BRANCH", "C1", "2020-06-01"],
        ["B2", "企业7党支部", "BRANCH", "C2", ""],
    ],
    "coverage": [
        ["org_id", "credit_code"],
        *[[org, credit_code(n)] for org, n in (("B1", 1), ("J1", 2), ("J1", 3), ("B2", 6), ("B2", 7))],
    ],
    "departments": [["id", "name"], ["D1", "党群工作局"]],
    "links": [
        ["source_id", "target_id", "kind", "since"],
        ["D1", "J1", "PAIRING", "2020-07-01"],
        ["B1", "B2", "CHAIN_CO_BUILD", ""],
    ],
    "instructors": [
        ["id", "name", "credit_code", "since"],
        ["I1", "张三", credit_code(4), "2020-03-01"],
        ["I1", "张三", credit_code(6), ""],
        ["I2", "李四", credit_code(7), ""],
    ],
}


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def hand_dataset(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    """The hand-made ledger above, written as CSV and loaded through the loader."""
    folder = tmp_path_factory.mktemp("hand")
    for name, rows in HAND_TABLES.items():
        write_csv(folder / f"{name}.csv", rows)
    return load_ledger(folder).dataset


@pytest.fixture(scope="session")
def hand_store(hand_dataset: Dataset) -> NetworkxStore:
    return NetworkxStore(hand_dataset)


GRAPH_PASSWORD = "chainorg-test-password"


@pytest.fixture(scope="session")
def graph_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ArcadeDB]:
    """A real ArcadeDB server (Bolt and Cypher) on free loopback ports, for the whole session."""
    with ArcadeDB(tmp_path_factory.mktemp("arcadedb"), GRAPH_PASSWORD) as server:
        yield server


async def _load(address: StoreAddress, dataset: Dataset, stands_on: date | None) -> None:
    connection = Connection(address)
    try:
        await load_dataset(connection, dataset, stands_on)
    finally:
        await connection.close()


GraphOf = Callable[[str, Dataset, date | None], Awaitable[StoreAddress]]


@pytest.fixture(scope="session")
def graph_of(graph_database: ArcadeDB) -> GraphOf:
    """The address of a database of the server holding `dataset`, loaded through the store
    on first use; one database per name."""
    loaded: dict[str, StoreAddress] = {}

    async def address(name: str, dataset: Dataset, stands_on: date | None = None) -> StoreAddress:
        if name not in loaded:
            graph_database.create_database(name)
            found = store_address(graph_database.url(name), GRAPH_PASSWORD)
            await _load(found, dataset, stands_on)
            loaded[name] = found
        return loaded[name]

    return address


@pytest.fixture(params=["embedded", "graph"])
async def any_hand_store(
    request: pytest.FixtureRequest, hand_store: NetworkxStore, hand_dataset: Dataset,
    graph_of: GraphOf,
) -> AsyncIterator[OrgStore]:  # fmt: skip
    """The hand ledger in each store: the embedded one, and a graph database's."""
    if request.param == "embedded":
        yield hand_store
        return
    store = await CypherStore.open(await graph_of("hand", hand_dataset, None))
    yield store
    await store.close()


@pytest.fixture(params=["embedded", "graph"])
async def any_demo_store(
    request: pytest.FixtureRequest, demo_store: NetworkxStore, graph_of: GraphOf
) -> AsyncIterator[OrgStore]:
    """The demo in each store (questions to it name their dates)."""
    if request.param == "embedded":
        yield demo_store
        return
    store = await CypherStore.open(await graph_of("demo", demo_dataset(), DEMO_DAY))
    yield store
    await store.close()


@pytest.fixture
def folder(tmp_path: Path, hand_dataset: Dataset) -> Path:
    """A state made from the hand ledger."""
    create_state(tmp_path / "state", hand_dataset)
    return tmp_path / "state"


@pytest.fixture
def state(folder: Path) -> Iterator[State]:
    """The hand ledger's state served, on 2024-01-01."""
    served = State(folder, today=lambda: date(2024, 1, 1))
    yield served
    served.close()


@pytest.fixture
def write_ledger(tmp_path: Path) -> Callable[..., Path]:
    """Write tables (header row first) as CSV files into a fresh folder; returns the folder."""
    counter = iter(range(1_000))

    def write(tables: Tables, encoding: str = "utf-8") -> Path:
        folder = tmp_path / f"ledger{next(counter)}"
        folder.mkdir()
        for name, rows in tables.items():
            write_csv(folder / f"{name}.csv", rows, encoding)
        return folder

    return write


@pytest.fixture
def store_of(write_ledger: Callable[..., Path]) -> Callable[[Tables], NetworkxStore]:
    """A store loaded through the real ledger loader from tables written to disk."""
    return lambda tables: NetworkxStore(load_ledger(write_ledger(tables)).dataset)


@pytest.fixture(scope="session")
def demo_store() -> NetworkxStore:
    return NetworkxStore(demo_dataset())


def serve_state(folder: Path, port: int) -> subprocess.Popen[bytes]:
    """`chainorg serve --state` on `port`, returned once it answers."""
    return serve("--state", str(folder), port=port)


def serve(*options: str, port: int, cwd: Path | None = None, password: str | None = None) -> subprocess.Popen[bytes]:
    """`chainorg serve` with `options` on `port` (in folder `cwd`, the graph database's
    `password` in its environment), returned once it answers; AssertionError with its message
    if it stops first (a port another program holds, say). Its stderr goes to a file, never a
    pipe a long run could fill."""
    environment = {**os.environ, "CHAINORG_STORE_PASSWORD": password} if password else None
    with tempfile.TemporaryFile() as errors:  # the server keeps its own descriptor of it
        server = subprocess.Popen([CHAINORG, "serve", *options, "--port", str(port), "--no-access-log"],
                                  stdout=subprocess.DEVNULL, stderr=errors, cwd=cwd, env=environment)  # fmt: skip
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    return server
            except httpx.TransportError:
                if server.poll() is not None:
                    errors.seek(0)
                    raise AssertionError(f"the server did not start: {errors.read().decode()}") from None
                time.sleep(0.05)


def serve_store(url: str, *options: str, port: int) -> subprocess.Popen[bytes]:
    """`chainorg serve --store url` with `options` on `port`, on the test database's password."""
    return serve("--store", url, *options, port=port, password=GRAPH_PASSWORD)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LiveServer:
    """A real uvicorn server on a free loopback port, run in a thread."""

    def __init__(
        self,
        store: OrgStore,
        limits: Limits = DEFAULT_LIMITS,
        exposure: Exposure = DEFAULT_EXPOSURE,
        requests_log: AccessLog | None = None,
        rates: RateLimits = DEFAULT_RATES,
    ):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        app = create_app(store, limits, exposure=exposure, requests_log=requests_log, rates=rates)
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def query(self, query: str, variables: dict | None = None) -> dict:
        response = httpx.post(f"{self.url}/graphql", json={"query": query, "variables": variables or {}}, timeout=30)
        response.raise_for_status()
        return response.json()

    def ask(self, query: str, token: str | None = None, variables: dict | None = None) -> dict:
        """The answer to `query` sent with `token` (none: anonymous), whatever its HTTP status."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        body = {"query": query, "variables": variables or {}}
        return httpx.post(f"{self.url}/graphql", json=body, headers=headers, timeout=30).json()


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium driven by Playwright (no browser is downloaded), for one module's tests:
    Playwright's sync API keeps an event loop of its own while it runs."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def demo_server(demo_store: NetworkxStore) -> Iterator[LiveServer]:
    with LiveServer(demo_store) as server:
        yield server
