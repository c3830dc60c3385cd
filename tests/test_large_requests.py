"""A large request is parsed, checked and run off the server's event loop: while a
10,000-change set is taken in, a cheap question is still answered at once."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx

from graph.stores.networkx.state import State
from tests.conftest import LiveServer

APPLY = "mutation($changes: [ChangeInput!]!) { applyChanges(changes: $changes) { changeSet changes } }"


def test_a_large_change_set_leaves_the_loop_answering(state: State) -> None:
    changes = [{"setOrganizationDetails": {"orgId": "B1", "stars": n % 6}} for n in range(10_000)]
    with LiveServer(state) as server:
        answers: list[dict] = []
        writing = threading.Thread(target=lambda: answers.append(server.query(APPLY, {"changes": changes})))
        started = time.monotonic()
        writing.start()
        waits = []
        with httpx.Client(base_url=server.url, timeout=60) as client:
            while writing.is_alive():
                asked = time.monotonic()
                assert client.post("/graphql", json={"query": "{ __typename }"}).json() == {
                    "data": {"__typename": "Query"}
                }
                waits.append(time.monotonic() - asked)
        took = time.monotonic() - started
        writing.join()
    assert answers[0]["data"]["applyChanges"]["changes"] == 10_000
    assert asyncio.run(state.organization("B1")).stars == 9_999 % 6  # type: ignore[union-attr]
    assert len(waits) >= 5 and max(waits) < took / 4, (max(waits), took, len(waits))
