"""The API over HTTP from a real uvicorn server on the demo."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from collections.abc import Awaitable
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from graph.stores.networkx import NetworkxStore
from loaders import demo
from schema.limits import Limits
from tests.conftest import HAND_TABLES, LiveServer, free_port, write_csv

COVERAGE_FIELDS = (
    "enterprises organizationCovered workCovered uncovered organizationRate workRate formalMembers organizations"
)


def test_explorer_page_is_html_that_loads_only_from_this_server(demo_server: LiveServer) -> None:
    page = httpx.get(f"{demo_server.url}/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    references = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert len(references) >= 5
    for reference in references:
        assert reference.startswith(("/static/", "data:")), reference
        if reference.startswith("/static/"):
            asset = httpx.get(f"{demo_server.url}{reference}")
            assert asset.status_code == 200, reference
            assert not re.search(r"@import|url\(\s*['\"]?https?:", asset.text), reference


def test_the_front_page_is_the_dashboard_linking_the_explorer(demo_server: LiveServer) -> None:
    response = httpx.get(demo_server.url)
    assert response.status_code == 200 and '<a id="explorer-link" href="/graphql"' in response.text


def test_health_reports_counts(demo_server: LiveServer) -> None:
    assert httpx.get(f"{demo_server.url}/healthz").json()["organizations.CLUSTER"] == 11


def test_coverage_of_the_park(demo_server: LiveServer) -> None:
    data = demo_server.query(f'{{ coverage(scope: {{park: "{demo.PARK}"}}) {{ {COVERAGE_FIELDS} }} }}')["data"]
    coverage = data["coverage"]
    assert (coverage["enterprises"], coverage["organizations"]) == (13_151, 168)
    # counted again by brute force over the demo's records: every date in it is in the past
    dataset, today = demo.demo_dataset(), date.today()
    active = {
        e.credit_code for e in dataset.enterprises.records(range(len(dataset.enterprises))) if e.status == "ACTIVE"
    }
    established = {org.id: org.established_on or date.min for org in dataset.organizations}
    covered = {
        c.credit_code for c in dataset.covers if max(established[c.org_id], c.since or date.min) <= today
    } & active
    worked = {a.credit_code for a in dataset.assignments if (a.since or date.min) <= today} & active - covered
    assert (coverage["organizationCovered"], coverage["workCovered"]) == (len(covered), len(worked))
    assert coverage["uncovered"] == len(active) - len(covered) - len(worked)


def test_coverage_by_cluster_and_as_of_a_date(demo_server: LiveServer) -> None:
    query = """query ($asOf: Date) { coverageBy(by: CLUSTER, scope: {chain: "移动互联网"}, asOf: $asOf) {
        key label coverage { organizations } } }"""
    now = demo_server.query(query)["data"]["coverageBy"]
    before = demo_server.query(query, {"asOf": "2018-12-31"})["data"]["coverageBy"]
    assert len(now) == 11 and all(group["label"].endswith("党群联组") for group in now)
    assert sum(g["coverage"]["organizations"] for g in now) - sum(g["coverage"]["organizations"] for g in before) == 98


def test_coverage_trend(demo_server: LiveServer) -> None:
    points = demo_server.query(
        '{ coverageTrend(from: "2019-01-01", to: "2021-07-31", step: YEAR) { asOf coverage { organizations } } }'
    )["data"]["coverageTrend"]
    assert [p["asOf"] for p in points] == ["2019-01-01", "2020-01-01", "2021-01-01", "2021-07-31"]
    organizations = [p["coverage"]["organizations"] for p in points]
    assert organizations == sorted(organizations) and organizations[-1] == 168


def test_browsing_the_tiers(demo_server: LiveServer) -> None:
    data = demo_server.query(
        f"""{{ organization(id: "{demo.CHAIN_COMMITTEE_ID}") {{
            name kind parent {{ kind }} members {{ total formal probationary }}
            children {{ kind children {{ id covers {{ creditCode cluster {{ id }} organizations {{ id }} }} }} }} }} }}"""
    )["data"]["organization"]
    assert (data["kind"], data["parent"]["kind"], data["members"]["total"]) == (
        "CHAIN_COMMITTEE",
        "PARK_COMMITTEE",
        3_677,
    )
    dataset = demo.demo_dataset()  # brute force: the enterprises covered anywhere under the committee
    parent = {org.id: org.parent_id for org in dataset.organizations}

    def under(org_id: str | None) -> bool:
        while org_id is not None and org_id != demo.CHAIN_COMMITTEE_ID:
            org_id = parent[org_id]
        return org_id is not None

    rows = dataset.enterprises.records(range(len(dataset.enterprises)))
    by_code = {e.credit_code: e for e in rows if e.status == "ACTIVE"}
    codes = {c.credit_code for c in dataset.covers if under(c.org_id) and c.credit_code in by_code}
    assert data["members"]["formal"] == sum(by_code[code].formal_members for code in codes)
    assert data["members"]["probationary"] == sum(by_code[code].probationary_members for code in codes)
    clusters = [child for child in data["children"] if child["kind"] == "CLUSTER"]
    assert sum(len(cluster["children"]) for cluster in clusters) == 168
    enterprise = clusters[0]["children"][0]["covers"][0]
    assert enterprise["organizations"] == [{"id": clusters[0]["children"][0]["id"]}]


def test_an_enterprise_with_its_organization_and_building(demo_server: LiveServer) -> None:
    page = demo_server.query('{ enterprises(first: 1, filter: {nameContains: "映客"}) { nodes { creditCode } } }')
    code = page["data"]["enterprises"]["nodes"][0]["creditCode"]
    found = demo_server.query(
        f'{{ enterprise(creditCode: "{code.lower()}") {{ name category coverageState organizations {{ name kind }} }} }}'
    )["data"]["enterprise"]
    assert found == {"name": "映客互娱", "category": "SOCIAL", "coverageState": "ORGANIZATION",
                     "organizations": [{"name": "映客互娱党支部", "kind": "BRANCH"}]}  # fmt: skip
    assert demo_server.query('{ enterprise(creditCode: "nope") { name } }')["data"] == {"enterprise": None}


def test_paging_through_enterprises_with_cursors(demo_server: LiveServer) -> None:
    query = """query ($after: String) { enterprises(first: 100, after: $after, filter: {coverage: ORGANIZATION}) {
        totalCount nodes { creditCode } pageInfo { hasNextPage endCursor } } }"""
    seen, after = [], None
    while True:
        page = demo_server.query(query, {"after": after})["data"]["enterprises"]
        seen += [node["creditCode"] for node in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == page["totalCount"] > 100


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ('{ coverage(scope: {park: "火星园区"}) { enterprises } }', "NOT_FOUND"),
        ('{ coverage(scope: {cluster: "nope"}) { enterprises } }', "NOT_FOUND"),
        ('{ coverageTrend(from: "2021-01-01", to: "2020-01-01", step: MONTH) { asOf } }', "BAD_USER_INPUT"),
        ("{ enterprises(first: 5000) { totalCount } }", "BAD_USER_INPUT"),
        ('{ enterprises(after: "garbage") { totalCount } }', "BAD_USER_INPUT"),
        ("{ coverage { nonsense } }", "GRAPHQL_VALIDATION_FAILED"),
        ('{ coverage(asOf: "July") { enterprises } }', "GRAPHQL_VALIDATION_FAILED"),
        ('{ coverageTrend(from: "9999-11-15", to: "9999-12-31", step: QUARTER) { asOf } }', "BAD_USER_INPUT"),
    ],
)
def test_errors_carry_a_code(demo_server: LiveServer, query: str, code: str) -> None:
    errors = demo_server.query(query)["errors"]
    assert [error["extensions"]["code"] for error in errors] == [code]
    assert errors[0]["message"]


def uvicorn_server_app(data: Path, port: int, **streams: Any) -> subprocess.Popen[str]:
    """`uvicorn server:app` as an operator starts it, serving `data` through CHAINORG_DATA."""
    uvicorn = Path(sys.executable).parent / "uvicorn"
    env = {**os.environ, "CHAINORG_DATA": str(data)}
    command = [uvicorn, "server:app", "--port", str(port)]
    return subprocess.Popen(command, env=env, cwd=Path(__file__).parent.parent, text=True, **streams)


def test_uvicorn_serves_server_app_from_chainorg_data(tmp_path: Path) -> None:
    for name, rows in HAND_TABLES.items():
        write_csv(tmp_path / f"{name}.csv", rows)
    port = free_port()
    process = uvicorn_server_app(tmp_path, port, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz").json()
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline and process.poll() is None, "uvicorn did not start"
                time.sleep(0.1)
        assert (health["enterprises"], health["organizations"]) == (8, 6)
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.parametrize(
    ("ledger", "reason"),
    [
        (None, "no such file or folder"),
        ({"enterprises": [["credit_code", "name"], ["x", "y"]]}, "missing required column(s): park"),
        ({**HAND_TABLES, "organizations": [*HAND_TABLES["organizations"], *HAND_TABLES["organizations"][1:3]]},
         "(and 1 more; `chainorg load` lists them all)"),
    ],
)  # fmt: skip
def test_a_bad_chainorg_data_is_one_clear_line(tmp_path: Path, ledger: dict[str, list[list[str]]] | None,
                                               reason: str) -> None:  # fmt: skip
    data = tmp_path / "ledger"
    for name, rows in (ledger or {}).items():
        data.mkdir(exist_ok=True)
        write_csv(data / f"{name}.csv", rows)
    process = uvicorn_server_app(data, free_port(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, stderr = process.communicate(timeout=60)
    errors = [line for line in stderr.splitlines() if line.startswith("ERROR:")]
    assert process.returncode != 0
    assert "Traceback" not in stderr
    assert errors[0].startswith(f"ERROR:    CHAINORG_DATA={data} cannot be served: ")
    assert errors[0].endswith(reason)
    assert errors[1:] == ["ERROR:    Application startup failed. Exiting."]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'"just a string"', "a JSON object"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        ('{"query": "{ __typename }"}'.encode("utf-16"), "not UTF-8"),
        (b'{"query": ', "not JSON"),
        (b'{"query": 5}', "`query` must be a string"),
        (b'{"query": "{ __typename }", "variables": [1]}', "`variables` must be an object"),
        (b'[{"query": "{ __typename }"}]', "a JSON object"),
    ],
)
def test_a_malformed_body_is_a_coded_400(demo_server: LiveServer, body: bytes, reason: str) -> None:
    response = httpx.post(f"{demo_server.url}/graphql", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST" and reason in error["message"]


def test_a_body_over_a_megabyte_is_refused(demo_server: LiveServer) -> None:
    response = httpx.post(f"{demo_server.url}/graphql", json={"query": "{ __typename }", "pad": "x" * (1 << 20)})
    assert response.status_code == 413 and response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("{ coverage { ", "GRAPHQL_PARSE_FAILED"),
        ("{ __typename \u0000 }", "GRAPHQL_PARSE_FAILED"),
        ("{ " + "__typename " * 6000 + "}", "QUERY_TOO_COMPLEX"),
    ],
)
def test_documents_that_do_not_parse_carry_a_code(demo_server: LiveServer, query: str, code: str) -> None:
    [error] = demo_server.query(query)["errors"]
    assert error["extensions"]["code"] == code


def test_a_query_past_its_time_budget_is_a_timeout(demo_store: NetworkxStore) -> None:
    with LiveServer(demo_store, Limits(timeout=0.000_001)) as server:
        [error] = server.query("{ coverageBy(by: BUILDING) { key } }")["errors"]
    assert error["extensions"]["code"] == "TIMEOUT" and "time budget" in error["message"]


@pytest.mark.anyio
async def test_waiting_for_the_heavy_lane_counts_in_the_budget(demo_store: NetworkxStore) -> None:
    """Twenty heavy queries need seconds one after another; with a 0.5 s budget the ones
    still queued when it runs out are refused then, not run late."""
    fields = "creditCode name building { name } organizations { id name kind } cluster { id name } coverageState"
    heavy = {"query": f"{{ enterprises(first: 500) {{ nodes {{ {fields} }} }} }}"}
    with LiveServer(demo_store, Limits(timeout=0.5)) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:

            async def ask() -> dict:
                return (await client.post("/graphql", json=heavy)).json()

            answered = await asyncio.gather(*(ask() for _ in range(20)))
    codes = [answer["errors"][0]["extensions"]["code"] for answer in answered if answer.get("errors")]
    assert codes and set(codes) == {"TIMEOUT"}, codes  # each given the budget anew, all 20 would run


@pytest.mark.anyio
async def test_a_cheap_request_is_answered_while_the_heaviest_allowed_ones_run(demo_server: LiveServer) -> None:
    fields = "creditCode name category employees status building { name } organizations { id name kind } " \
             "cluster { id name } instructors { id name } coverageState"  # fmt: skip
    heavy = f"{{ enterprises(first: 500) {{ nodes {{ {fields} }} }} }}"
    cheap_query = f'{{ coverage(scope: {{park: "{demo.PARK}"}}) {{ enterprises }} }}'
    async with httpx.AsyncClient(base_url=demo_server.url, timeout=60) as client:

        async def timed(request: Awaitable[httpx.Response]) -> tuple[float, float]:
            """Seconds the request took, and when it was answered."""
            start = time.perf_counter()
            (await request).raise_for_status()
            return time.perf_counter() - start, time.perf_counter()

        began = time.perf_counter()
        heavies = [asyncio.create_task(timed(client.post("/graphql", json={"query": heavy}))) for _ in range(8)]
        cheap = []
        while not all(task.done() for task in heavies):  # cheap questions for as long as the heavy ones run
            cheap.append(await timed(client.get("/healthz")))
            cheap.append(await timed(client.post("/graphql", json={"query": cheap_query})))
        answered = [await task for task in heavies]
    last_heavy = max(at for _, at in answered)  # they run one at a time: until then one is running
    during = [spent for spent, at in cheap if at < last_heavy]
    assert len(during) >= 8, f"{len(during)} cheap questions answered while the heavy ones ran"
    # on the loop with them, a cheap question would wait most of the time they take together
    assert max(during) < (last_heavy - began) / 4, (sorted(during), last_heavy - began)
