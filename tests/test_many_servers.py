"""Several `chainorg serve --store` processes on one real ArcadeDB database, as behind a load
balancer: a write through one is read through the other within a second, change sets that
conflict sent through both at once leave one winner and nothing half-applied, and neither a
SIGKILL of a chainorg server nor one of the database itself loses an acknowledged set or
writes one twice."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Self

import httpx
import pytest

from arcadedb import ArcadeDB
from graph.stores.cypher.connection import CONNECTION_SECONDS
from tests.conftest import CHAINORG, GRAPH_PASSWORD, HAND_TABLES, credit_code, free_port, serve_store
from tests.test_crash import every_test_organization

NAMES = iter(range(1_000))
WRITE = """mutation($id: ID!, $name: String!, $stars: Int!, $requestId: String) {
  applyChanges(requestId: $requestId, changes: [
    {createOrganization: {id: $id, name: $name, kind: BRANCH, parentId: "C1"}},
    {setOrganizationDetails: {orgId: $id, stars: $stars, secretary: $name}}
  ]) { changeSet repeated }
}"""


def load(url: str, ledger: Path) -> None:
    environment = {**os.environ, "CHAINORG_STORE_PASSWORD": GRAPH_PASSWORD}
    subprocess.run([CHAINORG, "load", str(ledger), "--store", url], env=environment, check=True, capture_output=True)


def post(url: str, query: str, variables: dict | None = None) -> dict:
    return httpx.post(f"{url}/graphql", json={"query": query, "variables": variables or {}}, timeout=60).json()


def stop(*servers: subprocess.Popen[bytes]) -> None:
    for server in servers:
        server.terminate()
    for server in servers:
        server.wait(timeout=30)


@pytest.fixture
def two_servers(graph_database: ArcadeDB, write_ledger) -> Iterator[tuple[str, str]]:
    """The hand ledger in a new database, served by two chainorg servers."""
    graph_database.create_database(name := f"many{next(NAMES)}")
    load(url := graph_database.url(name), write_ledger(HAND_TABLES))
    ports = free_port(), free_port()
    servers = [serve_store(url, port=port) for port in ports]
    try:
        yield f"http://127.0.0.1:{ports[0]}", f"http://127.0.0.1:{ports[1]}"
    finally:
        stop(*servers)


def stars_of(url: str, org_id: str) -> int | None:
    found = post(url, "query($id: ID!) { organization(id: $id) { stars } }", {"id": org_id})["data"]["organization"]
    return None if found is None else found["stars"]


def test_a_write_through_one_server_is_read_through_the_other_within_a_second(two_servers: tuple[str, str]) -> None:
    """Each server writes in turn: the writer answers with the change at once, the other
    within one second of the acknowledgement (counted to the request that first saw it)."""
    waits = []
    for stars, (writer, reader) in enumerate([two_servers, two_servers[::-1]] * 3):
        setting = 'mutation($s: Int!) { applyChanges(changes: [{setOrganizationDetails: {orgId: "B1", stars: $s}}]) { changeSet } }'
        answer = post(writer, setting, {"s": stars})
        assert answer["data"]["applyChanges"]["changeSet"], answer
        acknowledged = time.monotonic()
        assert stars_of(writer, "B1") == stars
        while True:
            asked = time.monotonic()
            if stars_of(reader, "B1") == stars:
                break
            assert asked - acknowledged < 3, "the other server never saw the change"
            time.sleep(0.02)
        waits.append(asked - acknowledged)
    assert max(waits) <= 1.0, waits
    trail = post(two_servers[0], '{ auditLog(subject: "B1", first: 0) { totalCount } }')
    assert trail["data"]["auditLog"]["totalCount"] == 6


def at_once(*calls: tuple[str, str, dict]) -> list[dict]:
    """Each (url, query, variables) sent from a thread of its own, released together."""
    answers: list[dict] = [{} for _ in calls]
    start = threading.Barrier(len(calls))

    def send(number: int, url: str, query: str, variables: dict) -> None:
        start.wait()
        answers[number] = post(url, query, variables)

    threads = [threading.Thread(target=send, args=(n, *call)) for n, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def codes(answers: list[dict]) -> list[str | None]:
    """Each answer's error code, None for an accepted one."""
    return [answer["errors"][0]["extensions"]["code"] if answer.get("errors") else None for answer in answers]


def test_the_same_id_created_through_two_servers_at_once_is_created_once(two_servers: tuple[str, str]) -> None:
    for round_number in range(4):
        org_id = f"Z{round_number}"
        sets = [(url, WRITE, {"id": org_id, "name": f"并发{side}{org_id}", "stars": side}) for side, url in
                enumerate(two_servers)]  # fmt: skip
        answers = at_once(*sets)
        assert sorted(codes(answers), key=str) == ["CONFLICT", None], answers
        winner = codes(answers).index(None)
        time.sleep(1.0)  # seen through every server within a second
        for url in two_servers:  # the winner's set whole, on both servers; nothing of the loser's
            found = post(url, "query($id: ID!) { organization(id: $id) { name stars secretary } }", {"id": org_id})
            name = f"并发{winner}{org_id}"
            assert found["data"]["organization"] == {"name": name, "stars": winner, "secretary": name}
    trail = post(two_servers[1], "{ auditLog(first: 0) { totalCount } }")
    assert trail["data"]["auditLog"]["totalCount"] == 4 * 2


def test_covering_for_an_organization_dissolved_meanwhile_is_refused(two_servers: tuple[str, str]) -> None:
    """One server dissolves a branch while the other puts an enterprise under it: either the
    cover comes first and the dissolution ends it, or the cover is refused. Never a dissolved
    organization covering an enterprise."""
    first, second = two_servers
    create = """mutation($id: ID!, $name: String!) { createOrganization(input: {id: $id, name: $name, kind: BRANCH,
        parentId: "C1", establishedOn: "2026-10-01"}) { id } }"""
    dissolve = "mutation($id: ID!, $on: Date!) { applyChanges(changes: [{dissolveOrganization: {orgId: $id, on: $on}}]) { changeSet } }"
    cover = """mutation($id: ID!, $code: String!, $since: Date!) { applyChanges(changes: [
        {coverEnterprises: {orgId: $id, creditCodes: [$code], on: $since}},
        {setOrganizationDetails: {orgId: $id, secretary: "覆盖者"}}]) { changeSet } }"""
    for round_number in range(4):
        org_id, since, until = (
            f"Q{round_number}",
            f"2026-11-{2 * round_number + 1:02}",
            f"2026-11-{2 * round_number + 2:02}",
        )
        created = post(first, create, {"id": org_id, "name": f"撤销测试{org_id}"})
        assert created.get("errors") is None, created
        dissolving, covering = (first, second) if round_number % 2 else (second, first)
        answers = at_once((dissolving, dissolve, {"id": org_id, "on": until}),
                          (covering, cover, {"id": org_id, "code": credit_code(4), "since": since}))  # fmt: skip
        assert codes(answers)[0] is None, answers  # the dissolution always stands
        assert codes(answers)[1] in (None, "INVALID_CHANGE"), answers
        time.sleep(1.0)  # seen through every server within a second
        for url in two_servers:
            found = post(url, """query($id: ID!) { organization(id: $id) { dissolvedOn secretary
                covers { name } history { covers { since until } } } }""", {"id": org_id})["data"]  # fmt: skip
            org = found["organization"]
            assert org["dissolvedOn"] == until and org["covers"] == []
            if codes(answers)[1] is None:  # covered first: the dissolution ended it, on its day
                assert org["secretary"] == "覆盖者"
                assert org["history"]["covers"] == [{"since": since, "until": until}]
            else:  # refused whole: its second change is not there either
                assert org["secretary"] is None and org["history"]["covers"] == []


class Writers:
    """Four clients writing change sets through servers, each set under a request id of its
    own and sent again, with that id, after any answer that is not a receipt (a dropped
    connection, UNAVAILABLE, TIMEOUT), until it has one."""

    def __init__(self, urls: list[str]):
        self.urls = urls
        self.acknowledged: list[str] = []
        self.answers: dict[str, int] = {}  # error code → how often
        self.slowest = 0.0  # seconds, the longest a request waited for its answer
        self.running = threading.Event()
        self.threads = [threading.Thread(target=self._write, args=(n,)) for n in range(4)]

    def __enter__(self) -> Self:
        self.running.set()
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.running.clear()
        for thread in self.threads:
            thread.join(timeout=120)

    def _write(self, client: int) -> None:
        number = 0
        with httpx.Client(timeout=30) as http:
            while self.running.is_set():
                number += 1
                org_id = f"K{client}-{number}"
                variables = {"id": org_id, "name": f"崩溃测试{org_id}", "stars": number % 6,
                             "requestId": str(uuid.uuid4())}  # fmt: skip
                deadline = time.monotonic() + 90
                while time.monotonic() < deadline:  # this set, until it has a receipt
                    url = self.urls[client % len(self.urls)]
                    sent = time.monotonic()
                    try:
                        answer = http.post(f"{url}/graphql", json={"query": WRITE, "variables": variables}).json()
                    except (httpx.TransportError, ValueError):
                        answer = {"errors": [{"extensions": {"code": "NO_ANSWER"}}]}
                    self.slowest = max(self.slowest, time.monotonic() - sent)
                    if not answer.get("errors"):
                        self.acknowledged.append(org_id)
                        break
                    code = answer["errors"][0]["extensions"]["code"]
                    self.answers[code] = self.answers.get(code, 0) + 1
                    assert code in ("NO_ANSWER", "UNAVAILABLE", "TIMEOUT"), answer
                    time.sleep(0.2)

    def wait_for(self, more: int, seconds: float = 60) -> None:
        """Until `more` sets more than now are acknowledged."""
        goal, deadline = len(self.acknowledged) + more, time.monotonic() + seconds
        while len(self.acknowledged) < goal:
            assert time.monotonic() < deadline, f"writes did not resume: {self.answers}"
            time.sleep(0.05)


def assert_every_acknowledged_set_once(url: str, acknowledged: list[str]) -> None:
    """Every acknowledged set there, whole; no other; the audit trail holding each change once."""
    present, total, changes = every_test_organization(url)
    assert total == len(present) == len(set(acknowledged)) == len(acknowledged)
    assert set(present) == set(acknowledged)
    for org_id, node in present.items():
        number = int(org_id.split("-")[1])
        assert (node["stars"], node["secretary"]) == (number % 6, f"崩溃测试{org_id}")
    assert changes == 2 * len(present)


def test_sigkill_of_a_server_loses_nothing_another_server_acknowledged(graph_database: ArcadeDB, write_ledger) -> None:
    """Four clients write through two servers; one server is killed at a random moment and
    started again, three times. Its clients send their set again through it with the same
    request id, so a set the killed server committed but could not acknowledge is answered
    `repeated`, not written twice."""
    graph_database.create_database(name := f"kill{next(NAMES)}")
    load(url := graph_database.url(name), write_ledger(HAND_TABLES))
    ports = [free_port(), free_port()]
    servers = [serve_store(url, port=port) for port in ports]
    chance = random.Random(20261203)
    try:
        with Writers([f"http://127.0.0.1:{port}" for port in ports]) as writers:
            for _ in range(3):
                writers.wait_for(8)
                time.sleep(chance.uniform(0.0, 0.5))
                victim = chance.randrange(2)
                os.kill(servers[victim].pid, signal.SIGKILL)
                servers[victim].wait()
                writers.wait_for(4)  # the other server goes on taking writes meanwhile
                servers[victim] = serve_store(url, port=ports[victim])
            writers.wait_for(8)
        assert writers.answers.get("NO_ANSWER"), "no client noticed a server die"
        assert_every_acknowledged_set_once(f"http://127.0.0.1:{ports[0]}", writers.acknowledged)
    finally:
        stop(*servers)


def test_sigkill_of_the_database_mid_write_loses_nothing_acknowledged(tmp_path: Path, write_ledger) -> None:
    """The database server itself is killed while four clients write through two servers,
    then started again on its files: the writes in flight wait or are refused, the servers
    take writes again once it is back, and the graph holds every acknowledged set once. A
    set sent while it is down is refused in bounded time, UNAVAILABLE, and written once
    when sent again with its request id."""
    database = ArcadeDB(tmp_path / "arcadedb", GRAPH_PASSWORD).start()
    servers: list[subprocess.Popen[bytes]] = []
    try:
        load(url := database.url(), write_ledger(HAND_TABLES))
        ports = [free_port(), free_port()]
        servers = [serve_store(url, port=port) for port in ports]
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        with Writers(urls) as writers:
            writers.wait_for(12)
            database.kill()
            time.sleep(3)
            database.start()
            writers.wait_for(12)
        assert writers.slowest > 2, "no write was in flight while the database was down"
        assert_every_acknowledged_set_once(urls[1], writers.acknowledged)

        database.kill()
        variables = {"id": "KD-1", "name": "崩溃测试KD-1", "stars": 1, "requestId": str(uuid.uuid4())}
        sent = time.monotonic()
        refused = post(urls[0], WRITE, variables)
        assert time.monotonic() - sent < 2 * CONNECTION_SECONDS + 5
        assert codes([refused]) == ["UNAVAILABLE"], refused
        database.start()
        again = post(urls[0], WRITE, variables)
        assert again["data"]["applyChanges"]["repeated"] is False, again
        assert_every_acknowledged_set_once(urls[1], [*writers.acknowledged, "KD-1"])
    finally:
        stop(*servers)
        database.stop()
