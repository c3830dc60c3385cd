"""The service over a real graph database server (ArcadeDB's Bolt server): `chainorg load
--store` and `chainorg serve --store` as a user runs them, answers compared with the
embedded store's over HTTP, and every way a load or a connection can go wrong."""

from __future__ import annotations

import asyncio
import os
import shlex
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import anyio
import httpx
import pytest

from arcadedb import ArcadeDB
from graph.changes import SetOrganizationDetails
from graph.durable import STATE_FILE, create_state
from graph.model import Enterprise
from graph.query import Coverage, EnterpriseFilter, Scope
from graph.rules import clock
from graph.stores.cypher import CypherStore, store_address
from graph.stores.cypher.store import GRAPH_SECONDS
from graph.stores.networkx.state import State
from loaders import DEMO_DAY
from loaders.demo import demo_dataset
from loaders.export import write_ledger as write_dataset
from tests.conftest import CHAINORG, GRAPH_PASSWORD, HAND_TABLES, free_port, serve, serve_store
from tests.test_readme import README, command_lines, operations

pytestmark = pytest.mark.anyio
NAMES = iter(range(1_000))


@pytest.fixture
def database(graph_database: ArcadeDB) -> str:
    """The store URL of a new, empty database (no password in it)."""
    name = f"t{next(NAMES)}"
    graph_database.create_database(name)
    return graph_database.url(name)


def chainorg(*words: str, password: str = GRAPH_PASSWORD, check: bool = False) -> subprocess.CompletedProcess[str]:
    """`chainorg words…` on the test database's password; with `check`, AssertionError with its stderr if it fails."""
    environment = {**os.environ, "CHAINORG_STORE_PASSWORD": password, "COLUMNS": "200"}
    done = subprocess.run([CHAINORG, *words], capture_output=True, text=True, env=environment, timeout=300, check=False)
    assert not check or done.returncode == 0, f"chainorg {shlex.join(words)}: {done.stderr}"
    return done


def coverage_of(url: str) -> Coverage:
    """The park-wide coverage the database's graph answers, asked on a loop of its own."""

    async def asked() -> Coverage:
        store = await CypherStore.open(store_address(url, GRAPH_PASSWORD))
        try:
            return await store.coverage(Scope())
        finally:
            await store.close()

    return asyncio.run(asked())


def rows_of(url: str) -> int:
    """How many chainorg nodes the database holds, every generation counted."""
    import neo4j

    address = store_address(url, GRAPH_PASSWORD)
    with neo4j.GraphDatabase.driver(address.uri, auth=(address.user, address.password)) as driver:
        records, _, _ = driver.execute_query(
            "MATCH (n) WHERE n:Record OR n:PastParent OR n:Upgrade RETURN count(n) AS n", database_=address.database
        )
    return int(records[0]["n"])


def test_a_load_refuses_to_overwrite_and_replaces_only_when_asked(database: str, write_ledger) -> None:
    loaded = chainorg("load", "--demo", "--store", database)
    assert loaded.returncode == 0, loaded.stderr
    assert "generation 1" in loaded.stdout and GRAPH_PASSWORD not in loaded.stdout + loaded.stderr
    demo = coverage_of(database)
    nodes = rows_of(database)

    again = chainorg("load", "--demo", "--store", database)
    assert again.returncode == 1 and "add --replace" in again.stderr
    assert coverage_of(database) == demo

    hand = write_ledger(HAND_TABLES)
    replaced = chainorg("load", str(hand), "--store", database, "--replace")
    assert replaced.returncode == 0, replaced.stderr
    assert "in place of generation 1" in replaced.stdout
    assert coverage_of(database) != demo
    assert rows_of(database) < nodes  # the demo's generation is gone, not kept beside


def test_an_invalid_ledger_writes_nothing(database: str, write_ledger) -> None:
    tables = {**HAND_TABLES, "enterprises": [*HAND_TABLES["enterprises"], HAND_TABLES["enterprises"][1]]}
    refused = chainorg("load", str(write_ledger(tables)), "--store", database)
    assert refused.returncode == 1 and "rejected" in refused.stderr
    assert rows_of(database) == 0


def test_a_replace_killed_part_way_leaves_the_previous_graph_answering(
    database: str, write_ledger, graph_database: ArcadeDB
) -> None:
    chainorg("load", str(write_ledger(HAND_TABLES)), "--store", database, check=True)
    before = coverage_of(database)
    environment = {**os.environ, "CHAINORG_STORE_PASSWORD": GRAPH_PASSWORD}
    loading = subprocess.Popen([CHAINORG, "load", "--demo", "--store", database, "--replace"], env=environment,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 60
    while rows_of(database) < 3_000:  # part of the demo's enterprises written under the new generation
        assert loading.poll() is None and time.monotonic() < deadline, "the load ended before it could be killed"
        time.sleep(0.05)
    loading.send_signal(signal.SIGKILL)
    loading.wait()
    assert coverage_of(database) == before  # the half-written generation is never seen

    finished = chainorg("load", "--demo", "--store", database, "--replace")
    assert finished.returncode == 0, finished.stderr
    graph_database.create_database(fresh := f"fresh{next(NAMES)}")
    chainorg("load", "--demo", "--store", graph_database.url(fresh), check=True)
    assert rows_of(database) == rows_of(graph_database.url(fresh))  # the partial generation was cleared


@pytest.mark.parametrize(
    ("url", "password", "says"),
    [
        ("bolt://root@127.0.0.1:{closed}/neo4j", GRAPH_PASSWORD, "cannot reach the graph database"),
        ("bolt://root@127.0.0.1:{bolt}/neo4j", "not-the-password", "wrong user or password"),
        ("bolt://root@127.0.0.1:{bolt}/nowhere", GRAPH_PASSWORD, "has no database 'nowhere'"),
        ("bolt://root@127.0.0.1:{bolt}/neo4j", "", "no password: put it in CHAINORG_STORE_PASSWORD"),
        ("http://127.0.0.1:{bolt}/neo4j", GRAPH_PASSWORD, "the scheme must be one of"),
    ],
)
@pytest.mark.parametrize("command", ["load", "serve", "to-store", "audit-log"])
def test_what_goes_wrong_with_a_database_is_one_line(
    graph_database: ArcadeDB, url: str, password: str, says: str, command: str, tmp_path: Path
) -> None:
    """Each command that reaches a database says what is wrong in one line (a server's log may
    say more before it), never the password, and exits 1."""
    address = url.format(closed=free_port(), bolt=graph_database.bolt_port)
    if command == "to-store":
        create_state(tmp_path / "state", demo_dataset(), DEMO_DAY)
    words = {
        "load": ["load", "--demo", "--store", address],
        "serve": ["serve", "--store", address, "--port", str(free_port())],
        "to-store": ["load", "--state", str(tmp_path / "state"), "--to-store", address],
        "audit-log": ["audit-log", "--store", address],
    }[command]
    done = chainorg(*words, password=password)
    assert done.returncode == 1
    said = done.stderr.strip().splitlines()
    assert says in said[-1] and "Traceback" not in done.stderr
    assert command == "serve" or len(said) == 1, done.stderr
    assert (password or "@@") not in done.stderr


@pytest.fixture(scope="module")
def servers(graph_database: ArcadeDB, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The demo served twice, as `make run` and `make run-graph` serve it: a state, and the graph database."""
    name = "served_demo"
    graph_database.create_database(name)
    url = graph_database.url(name)
    chainorg("load", "--demo", "--store", url, check=True)
    folder = tmp_path_factory.mktemp("served") / "state"
    subprocess.run([CHAINORG, "load", "--demo", "--state", str(folder)], check=True, capture_output=True)
    ports = free_port(), free_port()
    embedded = serve("--state", str(folder), port=ports[0])
    graph = serve_store(url, port=ports[1])
    try:
        yield f"http://127.0.0.1:{ports[0]}", f"http://127.0.0.1:{ports[1]}"
    finally:
        for process in (embedded, graph):
            process.terminate()
            process.wait(timeout=30)


def ask(url: str, query: str) -> dict:
    return httpx.post(f"{url}/graphql", json={"query": query}, timeout=60).json()


def timeless(answer: object) -> object:
    """An answer with the moments things were kept (`at`, `savedAt`) left out, since two servers
    keep the same change a few milliseconds apart, and its errors as messages and codes."""
    if isinstance(answer, dict):  # of sibling fields failing alike, which is reported depends on which ran first
        errors = {(e["message"], e.get("extensions", {}).get("code")) for e in answer.get("errors") or []}
        kept = {key: "…" if key in ("at", "savedAt") else timeless(value) for key, value in answer.items()}
        return kept | {"errors": sorted(errors)} if errors else kept
    if isinstance(answer, list):
        return [timeless(item) for item in answer]
    return answer


def test_the_readme_examples_answer_the_same_over_the_graph_database(servers: tuple[str, str]) -> None:
    """Every README operation, in order, answers over the graph database as over a state:
    questions, changes, the audit trail and scenarios alike."""
    state, graph = servers
    same, different = [], []
    for number, operation in operations():
        if timeless(ask(graph, operation)) == timeless(ask(state, operation)):
            same.append(number)
        else:
            different.append((number, operation.splitlines()[0]))
    assert different == []
    assert len(same) == len(operations())


async def test_values_are_parameters_never_cypher(database: str, write_ledger) -> None:
    """Names that would break a query formatted into the text are kept and read back as written."""
    hostile = ["') DETACH DELETE n //", "a\"b\\'c", "x} RETURN 1 //", "企业 $g {uid: '0/'}"]
    tables = {**HAND_TABLES, "enterprises": [list(row) for row in HAND_TABLES["enterprises"]]}
    header = tables["enterprises"][0]
    for row, name in zip(tables["enterprises"][1:], hostile, strict=False):
        row[header.index("name")] = name
    chainorg("load", str(write_ledger(tables)), "--store", database, check=True)
    store = await CypherStore.open(store_address(database, GRAPH_PASSWORD))
    try:
        codes = [row[header.index("credit_code")] for row in tables["enterprises"][1 : len(hostile) + 1]]
        found = await store.enterprises(codes)
        assert [e.name for e in found if isinstance(e, Enterprise)] == hostile
        assert (await store.find_enterprises(EnterpriseFilter(name_contains=hostile[0]), 0, 10)).total == 1
        assert (await store.summary())["enterprises"] == len(tables["enterprises"]) - 1
    finally:
        await store.close()


def test_the_readme_names_what_the_cypher_store_relies_on() -> None:
    text = README.read_text(encoding="utf-8")
    for feature in ("UNWIND", "EXISTS", "CALL {", "IS UNIQUE", "CHAINORG_STORE_PASSWORD", "neo4j://"):
        assert feature in text, feature


def test_the_readme_graph_database_commands_run(database: str, write_ledger, tmp_path: Path) -> None:
    """The README's `--store` and `--to-store` lines, in order, against a database of the test
    server (the URL, the ledger folder and a demo state put in for the README's); a serve runs
    until it answers."""
    readme_url = "bolt://neo4j@db.park.internal:7687/chainorg"
    ledger = str(write_ledger(HAND_TABLES))
    state = tmp_path / "state"
    chainorg("load", "--demo", "--state", str(state), check=True)
    lines = [
        line for line in command_lines() if any(word in line for word in ("--store", "--to-store", "CHAINORG_STORE="))
    ]
    assert len(lines) >= 6
    for line in lines:
        words = shlex.split(
            line.replace(readme_url, database).replace("data/park", ledger).replace("state/park", str(state))
        )
        if words[0].startswith("CHAINORG_STORE="):  # the ASGI app, under uvicorn
            words = [words[0].split("=", 1)[1]]
            if "neo4j://" in line:
                continue  # the routing form needs a Neo4j cluster
        if "serve" in words:
            served = serve(*words[words.index("serve") + 1 :], port=free_port(), password=GRAPH_PASSWORD)
            served.terminate()
            assert served.wait(timeout=30) in (0, -signal.SIGTERM), line
            continue
        assert chainorg(*words[1:]).returncode == 0, line


def test_an_asgi_server_serves_the_database_named_by_chainorg_store(database: str) -> None:
    chainorg("load", "--demo", "--store", database, check=True)
    port = free_port()
    environment = {**os.environ, "CHAINORG_STORE": database, "CHAINORG_STORE_PASSWORD": GRAPH_PASSWORD}
    uvicorn = Path(CHAINORG).with_name("uvicorn")
    server = subprocess.Popen([str(uvicorn), "server:app", "--port", str(port)], env=environment,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = ask(f"http://127.0.0.1:{port}", "{ coverage { enterprises } }")
                break
            except httpx.TransportError:
                assert server.poll() is None and time.monotonic() < deadline
                time.sleep(0.2)
        assert answer["data"]["coverage"]["enterprises"] == coverage_of(database).enterprises
    finally:
        server.terminate()
        server.wait(timeout=30)
    environment["CHAINORG_STORE_PASSWORD"] = "wrong-password"
    refused = subprocess.run([str(uvicorn), "server:app", "--port", str(free_port())], env=environment,
                             capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert refused.returncode != 0 and "CHAINORG_STORE cannot be served" in refused.stderr
    assert "Traceback" not in refused.stderr and "wrong-password" not in refused.stderr


async def test_a_store_serving_follows_a_replace_within_a_second(database: str, write_ledger) -> None:
    environment = {**os.environ, "CHAINORG_STORE_PASSWORD": GRAPH_PASSWORD}
    await anyio.run_process([CHAINORG, "load", "--demo", "--store", database], env=environment)
    store = await CypherStore.open(store_address(database, GRAPH_PASSWORD))
    try:
        demo = await store.coverage(Scope())
        hand = str(write_ledger(HAND_TABLES))
        await anyio.run_process([CHAINORG, "load", hand, "--store", database, "--replace"], env=environment)
        await anyio.sleep(GRAPH_SECONDS + 0.2)
        replaced = await store.coverage(Scope())
        assert replaced != demo
        assert (await store.summary())["enterprises"] == len(HAND_TABLES["enterprises"]) - 1
    finally:
        await store.close()


def plain(answer: dict) -> dict:
    """An answer with its errors as messages and codes: which of two sibling fields failing
    alike is reported depends on which resolver ran first."""
    errors = {e if isinstance(e, tuple) else (e["message"], e.get("extensions", {}).get("code"))
              for e in answer.get("errors") or []}  # fmt: skip  # `timeless` reduces them alike
    return {"data": answer.get("data"), "errors": sorted(errors)}


def test_a_token_limited_to_a_park_gets_the_same_answers_over_the_graph_database(
    graph_database: ArcadeDB, tmp_path: Path
) -> None:
    """The demo spread over two parks, served from a state and from the database to editors
    limited to one park: every README operation, changes and scenarios too, answers alike,
    and nothing of the other park shows."""
    dataset = demo_dataset()
    table = dataset.enterprises
    spread = [replace(e, park="岳麓园区") if row % 2 else e for row, e in enumerate(table.records(range(len(table))))]
    ledger = tmp_path / "ledger"
    write_dataset(replace(dataset, enterprises=table.updated(spread)), ledger)
    graph_database.create_database(name := f"parks{next(NAMES)}")
    chainorg("load", str(ledger), "--store", (url := graph_database.url(name)), check=True)
    chainorg("load", str(ledger), "--state", str(state := tmp_path / "state"), check=True)
    limited = ["--anonymous", "editor", "--anonymous-park", "岳麓园区"]
    ports = free_port(), free_port()
    servers = [serve("--state", str(state), *limited, port=ports[0]), serve_store(url, *limited, port=ports[1])]
    try:
        embedded, graph = (f"http://127.0.0.1:{port}" for port in ports)
        answered = 0
        for _, operation in operations():
            over_graph = plain(timeless(ask(graph, operation)))
            assert over_graph == plain(timeless(ask(embedded, operation))), operation.splitlines()[0]
            answered += not over_graph["errors"]
        assert answered >= 8
        parks = ask(graph, "{ parks { name } coverage { enterprises } }")["data"]
        assert parks == {"parks": [{"name": "岳麓园区"}], "coverage": {"enterprises": parks["coverage"]["enterprises"]}}
        assert 0 < parks["coverage"]["enterprises"] < len(table)
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)


def test_the_database_exports_the_ledger_it_was_loaded_from(graph_database: ArcadeDB, tmp_path: Path) -> None:
    """`chainorg export --store` writes the files an export of the loaded ledger writes, byte for byte."""
    written = write_dataset(demo_dataset(), tmp_path / "ledger")
    graph_database.create_database(name := f"export{next(NAMES)}")
    chainorg("load", str(tmp_path / "ledger"), "--store", (url := graph_database.url(name)), check=True)
    done = chainorg("export", "--store", url, "--out", str(tmp_path / "exported"))
    assert done.returncode == 0, done.stderr
    for path in written:
        assert (tmp_path / "exported" / path.name).read_bytes() == path.read_bytes(), path.name
    assert "give --state DIR or --store URL" in chainorg("export", "--out", str(tmp_path / "x")).stderr


def test_tokens_kept_in_the_database_reach_every_server_on_it(graph_database: ArcadeDB) -> None:
    """A token made with `token create --store` lets a request in through either of two
    servers on the database; revoked, both refuse it within two seconds."""
    graph_database.create_database(name := f"tokens{next(NAMES)}")
    url = graph_database.url(name)
    chainorg("load", "--demo", "--store", url, check=True)
    made = chainorg("token", "create", "--store", url, "--role", "viewer", "--name", "看板", "--park", "长沙高新区")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert chainorg("token", "create", "--store", url, "--role", "viewer", "--name", "看板").returncode == 1
    ports = free_port(), free_port()
    os.environ["CHAINORG_STORE_PASSWORD"] = GRAPH_PASSWORD
    try:
        servers = [serve_store(url, port=port) for port in ports]
    finally:
        del os.environ["CHAINORG_STORE_PASSWORD"]
    query = {"query": "{ coverage { enterprises } }"}
    try:
        for port in ports:
            answer = httpx.post(f"http://127.0.0.1:{port}/graphql", json=query,
                                headers={"Authorization": f"Bearer {token}"}, timeout=30).json()  # fmt: skip
            assert answer["data"]["coverage"]["enterprises"] > 0
            anonymous = httpx.post(f"http://127.0.0.1:{port}/graphql", json=query, timeout=30).json()
            assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert chainorg("token", "revoke", "--store", url, "看板").returncode == 0
        deadline = time.monotonic() + 2.5
        refused: set[int] = set()
        while refused != set(ports) and time.monotonic() < deadline:
            for port in ports:
                answer = httpx.post(f"http://127.0.0.1:{port}/graphql", json=query,
                                    headers={"Authorization": f"Bearer {token}"}, timeout=30).json()  # fmt: skip
                if answer.get("errors") and "revoked" in answer["errors"][0]["message"]:
                    refused.add(port)
            time.sleep(0.1)
        assert refused == set(ports)
        servers[0].terminate()  # a server started afresh reads the revocation from the database
        servers[0].wait(timeout=30)
        servers[0] = serve_store(url, port=(port := free_port()))
        for headers in ({"Authorization": f"Bearer {token}"}, {}):
            answer = httpx.post(f"http://127.0.0.1:{port}/graphql", json=query, headers=headers, timeout=30).json()
            assert answer["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        listed = chainorg("token", "list", "--store", url)
        assert "看板" in listed.stdout and "revoked" in listed.stdout and token not in listed.stdout
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)


def refused_for_now(answer: dict) -> bool:
    """Whether an answer is a refusal that says to ask again (the database busy, a time budget
    run out), not an answer about the graph."""
    codes = {error.get("extensions", {}).get("code") for error in answer.get("errors") or []}
    return bool(codes & {"UNAVAILABLE", "TIMEOUT"})


def test_a_state_moved_into_the_database_answers_and_remembers_the_same(
    graph_database: ArcadeDB, tmp_path: Path
) -> None:
    """A demo state changed by every README operation and holding two tokens (one revoked),
    copied with `load --state DIR --to-store URL`: every README operation, run again through
    both (so changes are numbered on from the same change set and requestIds answered as
    repeats), answers the same; the audit trails are one file, the exported ledgers the same
    files, the tokens the same tokens; a second copy is refused unless --replace."""
    folder = tmp_path / "state"
    chainorg("load", "--demo", "--state", str(folder), check=True)
    made = chainorg("token", "create", "--state", str(folder), "--role", "admin", "--name", "规划员", check=True)
    token = made.stdout.strip()
    revoked = chainorg("token", "create", "--state", str(folder), "--role", "viewer", "--name", "旧看板", check=True)
    chainorg("token", "revoke", "--state", str(folder), "旧看板", check=True)

    def ask_as(url: str, query: str, secret: str = token) -> dict:
        headers = {"Authorization": f"Bearer {secret}"}
        return httpx.post(f"{url}/graphql", json={"query": query}, headers=headers, timeout=60).json()

    port = free_port()
    state = serve("--state", str(folder), port=port)
    try:
        for _, operation in operations():  # the state's history: changes, scenarios, request ids
            ask_as(f"http://127.0.0.1:{port}", operation)
    finally:
        state.terminate()
        state.wait(timeout=30)
    graph_database.create_database(name := f"moved{next(NAMES)}")
    url = graph_database.url(name)
    copied = chainorg("load", "--state", str(folder), "--to-store", url)
    assert copied.returncode == 0, copied.stderr
    assert "copied 2 token(s)" in copied.stdout
    again = chainorg("load", "--state", str(folder), "--to-store", url)
    assert again.returncode == 1 and "规划员" in again.stderr
    assert chainorg("load", "--state", str(folder), "--to-store", url, "--replace").returncode == 0
    assert chainorg("load", "--demo", "--to-store", url).returncode == 1

    trails = [chainorg("audit-log", *where, check=True).stdout
              for where in (("--state", str(folder)), ("--store", url))]  # fmt: skip
    assert trails[0] == trails[1] and trails[0].count("\n") > 5
    for where, out in ((("--state", str(folder)), "from_state"), (("--store", url), "from_store")):
        chainorg("export", *where, "--out", str(tmp_path / out), check=True)
    exported = sorted(path.name for path in (tmp_path / "from_state").iterdir())
    assert exported and all(
        (tmp_path / "from_state" / file).read_bytes() == (tmp_path / "from_store" / file).read_bytes()
        for file in exported
    )
    tokens = [chainorg("token", "list", *where, check=True).stdout for where in (("--state", str(folder)),
                                                                                 ("--store", url))]  # fmt: skip
    assert tokens[0] == tokens[1]

    ports = free_port(), free_port()
    served = [serve("--state", str(folder), port=ports[0]), serve_store(url, port=ports[1])]
    try:
        urls = [f"http://127.0.0.1:{p}" for p in ports]
        different = []
        for number, operation in operations():
            answers = [timeless(ask_as(each, operation)) for each in urls]
            if answers[0] != answers[1] and not operation.startswith("mutation") and any(map(refused_for_now, answers)):
                answers = [timeless(ask_as(each, operation)) for each in urls]  # a question, asked again once
            if answers[0] != answers[1]:
                different.append((number, operation.splitlines()[0], answers))
        assert different == []
        fresh = ('mutation { applyChanges(changes: [{createOrganization: {id: "YDHL-J98", name: "新联合党支部", '
                 'kind: JOINT_BRANCH, parentId: "YDHL-LZ08"}}]) { changeSet repeated } }')  # fmt: skip
        receipts = [ask_as(each, fresh)["data"]["applyChanges"] for each in urls]
        assert receipts[0] == receipts[1] == {"changeSet": receipts[0]["changeSet"], "repeated": False}
        for each in urls:
            answer = ask_as(each, "{ coverage { enterprises } }", secret=revoked.stdout.strip())
            assert "revoked" in answer["errors"][0]["message"]
    finally:
        for server in served:
            server.terminate()
            server.wait(timeout=30)


def test_a_state_of_an_older_schema_moves_with_its_audit_counted_as_now(
    graph_database: ArcadeDB, tmp_path: Path
) -> None:
    """A state of schema 1 (audit positions from 0) copied into a database: the copy is of the
    state as opened now, so both trails read the same, counted from 1. Copied again without
    --replace, it is refused."""
    folder = tmp_path / "state"
    create_state(folder, demo_dataset(), DEMO_DAY)
    state = State(folder, clock(DEMO_DAY))
    try:
        asyncio.run(state.apply([SetOrganizationDetails("YDHL-0007", stars=4)] * 2, "规划员"))
    finally:
        state.close()
    with sqlite3.connect(folder / STATE_FILE) as old:  # back to how schema 1 left it
        old.execute("UPDATE audit SET position = position - 1")
        old.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    old.close()
    graph_database.create_database(name := f"older{next(NAMES)}")
    url = graph_database.url(name)
    chainorg("load", "--state", str(folder), "--to-store", url, check=True)
    trails = [chainorg("audit-log", *where, check=True).stdout.splitlines()
              for where in (("--state", str(folder)), ("--store", url))]  # fmt: skip
    assert trails[0] == trails[1]
    assert [line.split("\t")[3] for line in trails[1][1:]] == ["1", "2"]
    again = chainorg("load", "--state", str(folder), "--to-store", url)  # no tokens: the graph itself refuses
    assert again.returncode == 1 and "holds a chainorg graph already" in again.stderr
