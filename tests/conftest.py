"""Shared fixtures: ledgers written to real files, the demo store, a live uvicorn server."""

from __future__ import annotations

import csv
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from graph.credit_code import check_character
from graph.networkx_store import NetworkxStore
from graph.store import OrgStore
from loaders.demo import demo_dataset
from loaders.ledger import load_ledger
from server import create_app

Tables = dict[str, list[list[str]]]


def credit_code(number: int) -> str:
    """A valid credit code for test enterprise `number`."""
    body = f"91430100MA4L{number:05d}"
    return body + check_character(body)


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as file:
        csv.writer(file).writerows(rows)
    return path


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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LiveServer:
    """A real uvicorn server on a free loopback port, run in a thread."""

    def __init__(self, store: OrgStore):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(create_app(store), host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
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


@pytest.fixture(scope="session")
def demo_server(demo_store: NetworkxStore) -> Iterator[LiveServer]:
    with LiveServer(demo_store) as server:
        yield server
