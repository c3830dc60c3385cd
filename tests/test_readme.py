"""The README is a test: every GraphQL example in it runs, as written and in order, against
the Changsha demo served from a state (as `make run` serves it), and answers without an
error; every command-line example that ends by itself runs and exits 0; every download
(`curl -OJ`) answers a file; the ledger rows shown load."""

from __future__ import annotations

import csv
import io
import os
import re
import shlex
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from graphql import OperationDefinitionNode, parse, print_ast

from config import Config, read_config
from graph.dataset import Dataset
from graph.organizations import Alliance, alliances
from graph.stores.networkx.state import State
from loaders import DEMO_DAY
from loaders.demo import demo_dataset
from loaders.export import write_ledger
from loaders.ledger import load_ledger
from tests.conftest import CHAINORG, LiveServer, free_port, serve

README = Path(__file__).parent.parent / "README.md"
BLOCK = re.compile(r"```graphql\n(.*?)```", re.DOTALL)


def operations() -> list[tuple[int, str]]:
    """(block number, operation) for every operation of every ```graphql block, in order."""
    found = []
    for number, block in enumerate(BLOCK.findall(README.read_text(encoding="utf-8")), start=1):
        for definition in parse(block).definitions:
            assert isinstance(definition, OperationDefinitionNode)
            found.append((number, print_ast(definition)))
    return found


@pytest.fixture(scope="module")
def demo_state_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("readme") / "state"
    subprocess.run([CHAINORG, "load", "--demo", "--state", str(folder)], check=True, capture_output=True)
    state = State(folder)  # as `make run` makes and serves it
    try:
        with LiveServer(state) as server:  # type: ignore[arg-type]
            yield server
    finally:
        state.close()


def test_the_readme_has_examples() -> None:
    assert len(operations()) >= 20


def test_every_graphql_example_runs_against_the_demo(demo_state_server: LiveServer) -> None:
    failed = []
    for number, operation in operations():
        answer = demo_state_server.query(operation)
        if answer.get("errors"):
            failed.append((number, operation.splitlines()[0], answer["errors"][0]["message"]))
    assert failed == []


DOWNLOADS = re.compile(r"curl -OJ 'http://127\.0\.0\.1:8000(/[^']+)'")
LEDGER_ROWS = re.compile(r"```csv\n(.*?)```", re.DOTALL)


def alliances_of(dataset: Dataset) -> list[Alliance]:
    return alliances({o.id: o for o in dataset.organizations}, dataset.links, DEMO_DAY)


def test_every_download_example_answers_a_file(demo_state_server: LiveServer) -> None:
    """Each `curl -OJ` line, asked of the demo served as `make run` serves it: a file named for saving."""
    paths = DOWNLOADS.findall(README.read_text(encoding="utf-8"))
    assert len(paths) >= 3
    for path in paths:
        response = httpx.get(f"{demo_state_server.url}{path}", timeout=60)
        assert response.status_code == 200, (path, response.text[:200])
        assert response.headers["content-disposition"].startswith("attachment; "), path


def test_the_ledger_rows_shown_load_as_they_read(tmp_path: Path) -> None:
    """The README's ledger rows, put in the demo's links table in place of its alliance's, load,
    and name the lead and the members the README says."""
    ledger = tmp_path / "ledger"
    write_ledger(demo_dataset(), ledger)
    (block,) = LEDGER_ROWS.findall(README.read_text(encoding="utf-8"))
    shown = list(csv.reader(io.StringIO(block)))
    links = list(csv.reader((ledger / "links.csv").open(encoding="utf-8-sig")))
    kinds = links[0].index("kind")
    kept = [row for row in links[1:] if row[kinds] not in ("ALLIANCE", "ALLIANCE_LEAD")]
    columns = [links[0].index(name) for name in shown[0]]
    added = [[dict(zip(columns, row, strict=True)).get(n, "") for n in range(len(links[0]))] for row in shown[1:]]
    with (ledger / "links.csv").open("w", encoding="utf-8", newline="") as file:
        csv.writer(file).writerows([links[0], *kept, *added])
    found = alliances_of(load_ledger(ledger).dataset)
    assert [(a.lead.id if a.lead else None, [m.id for m in a.members]) for a in found] == [
        (shown[1][0], [row[0] for row in shown[1:]])
    ]


COMMANDS = re.compile(r"```sh\n(.*?)```", re.DOTALL)
# ASGI servers, downloads, set-up, graph databases: run by the tests of servers and of the
# graph database (tests/test_graph_database.py)
OTHER_PROGRAMS = ("uvicorn", "curl ", "make ", "--store", "--to-store")


def command_lines() -> list[str]:
    """Every command line of the README's shell blocks, in order, comments left out."""
    return [
        line.split("  #")[0].strip()
        for block in COMMANDS.findall(README.read_text(encoding="utf-8"))
        for line in block.splitlines()
        if line.strip() and not line.startswith("#")
    ]


def commands() -> list[str]:
    """Every `chainorg` command line of the README's shell blocks that runs without another program, in order."""
    return [
        command
        for command in command_lines()
        if command.startswith(".venv/bin/chainorg") and not any(word in command for word in OTHER_PROGRAMS)
    ]


def test_every_command_line_example_runs(tmp_path: Path) -> None:
    """In a fresh folder, in order: the demo ledger written, loaded, served, imported, exported,
    audited, charted. A `serve` line runs until it answers /healthz (on a free port), then stops."""
    ran = commands()
    assert len(ran) >= 15 and sum(" serve " in command for command in ran) >= 6
    for command in ran:
        words = shlex.split(command)
        if words[1:2] == ["serve"]:
            served = serve(*words[2:], port=free_port(), cwd=tmp_path)  # --port given last wins
            served.terminate()
            assert served.wait(timeout=30) in (0, -signal.SIGTERM), command  # uvicorn re-raises the signal
            continue
        done = subprocess.run([CHAINORG, *words[1:]], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                              env={**os.environ, "COLUMNS": "200"}, check=False)  # fmt: skip
        assert done.returncode == 0, f"{command}\n{done.stderr[-2000:]}"


def test_the_readme_configuration_is_read_as_it_is_written(tmp_path: Path) -> None:
    """The `chainorg.toml` shown is accepted, and every section and key in it takes effect."""
    [text] = re.findall(r"```toml\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    (tmp_path / "chainorg.toml").write_text(text, encoding="utf-8")
    config = read_config(tmp_path / "chainorg.toml")
    assert config.limits.max_cost == 5000
    assert config.server.request_seconds == 15 != Config().server.request_seconds
    assert (config.server.keep_alive_seconds, config.server.max_connections) == (5, 1000)
    assert config.http.cors_origins == ("https://dash.park.cn",) != Config().http.cors_origins
    assert config.rate.requests_per_minute == 600 != Config().rate.requests_per_minute
    assert (config.reconcile.merge_at, config.reconcile.precedence) == (92, ("经信局",))
    assert config.reconcile.inactive_since is not None and Config().reconcile.inactive_since is None
