"""Kill the real server with SIGKILL while clients write; every acknowledged change set must
be there after a restart, and no change set only in part."""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest

from graph.dataset import Dataset
from graph.durable import create_state
from tests.conftest import CHAINORG, free_port, serve_state

CLIENTS, ROUNDS = 4, 4
MUTATION = """mutation($id: ID!, $name: String!, $stars: Int!) {
  applyChanges(changes: [
    {createOrganization: {id: $id, name: $name, kind: BRANCH, parentId: "C1"}},
    {setOrganizationDetails: {orgId: $id, stars: $stars, secretary: $name}}
  ]) { changeSet }
}"""


def write_until_refused(url: str, client: int, acknowledged: list[str], counter: list[int]) -> None:
    """Send change sets one after another until the server is gone; note each acknowledged one."""
    with httpx.Client(timeout=10) as http:
        while True:
            counter[0] += 1
            org_id = f"K{client}-{counter[0]}"
            variables = {"id": org_id, "name": f"崩溃测试{org_id}", "stars": counter[0] % 6}
            try:
                answer = http.post(f"{url}/graphql", json={"query": MUTATION, "variables": variables}).json()
            except (httpx.TransportError, ValueError):
                return
            if answer.get("errors") is None and answer["data"]["applyChanges"]["changeSet"]:
                acknowledged.append(org_id)


def test_sigkill_loses_no_acknowledged_change_and_leaves_no_part_of_one(tmp_path: Path, hand_dataset: Dataset) -> None:
    folder = tmp_path / "state"
    create_state(folder, hand_dataset)
    acknowledged: list[str] = []
    counters = [[0] for _ in range(CLIENTS)]
    chance = random.Random(20261123)
    for _ in range(ROUNDS):
        port = free_port()
        server, url = serve_state(folder, port), f"http://127.0.0.1:{port}"
        clients = [
            threading.Thread(target=write_until_refused, args=(url, n, acknowledged, counters[n]))
            for n in range(CLIENTS)
        ]
        for client in clients:
            client.start()
        time.sleep(chance.uniform(0.3, 1.2))
        os.kill(server.pid, signal.SIGKILL)
        server.wait()
        for client in clients:
            client.join(timeout=30)
    assert len(acknowledged) > 10 * ROUNDS, "too few writes got through to test anything"

    port = free_port()
    server, url = serve_state(folder, port), f"http://127.0.0.1:{port}"
    try:
        present, total, changes = every_test_organization(url)
    finally:
        server.kill()
        server.wait()
    assert total == len(present)
    assert set(acknowledged) <= set(present)
    for org_id, node in present.items():  # both changes of every set, or the set is not there at all
        client, number = org_id[1:].split("-")
        assert (node["stars"], node["secretary"]) == (int(number) % 6, f"崩溃测试{org_id}")
    assert changes == 2 * len(present)


def every_test_organization(url: str) -> tuple[dict[str, dict], int, int]:
    """The organizations the clients made, by id; their count; the changes in the audit trail."""
    query = """query($after: String) {
      organizations(filter: {nameContains: "崩溃测试"}, first: 500, after: $after) {
        totalCount nodes { id stars secretary } pageInfo { hasNextPage endCursor } }
      auditLog(first: 0) { totalCount } }"""
    present: dict[str, dict] = {}
    after = None
    while True:
        found = httpx.post(f"{url}/graphql", json={"query": query, "variables": {"after": after}}, timeout=30).json()
        page = found["data"]["organizations"]
        present.update((node["id"], node) for node in page["nodes"])
        if not page["pageInfo"]["hasNextPage"]:
            return present, page["totalCount"], found["data"]["auditLog"]["totalCount"]
        after = page["pageInfo"]["endCursor"]


@pytest.fixture(autouse=True)
def _needs_the_console_script() -> None:
    if not Path(CHAINORG).exists():
        pytest.fail(f"{CHAINORG} is missing: install the package (make test does)")
