"""Tokens, roles and scopes over HTTP on a real server: who may see and change what.

The hand state has two parks: A (enterprises 1–6) and B (7, 8). B2 covers 6 in A and 7 in
B, so B2, its cluster C2 and the park committee P are in both parks' worlds; B1 and J1
are A's alone.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from graphql import GraphQLObjectType

from graph.access import Boundary, Role
from graph.stores.networkx.state import State
from rate import RateLimits
from schema import build_schema
from tests.conftest import CHAINORG, LiveServer, credit_code, free_port
from tokens import TokenBook

CODE = {n: credit_code(n) for n in range(1, 9)}
NEW_CODE = credit_code(20)

# Every root field: a query that reaches its resolver, and the least role that may run it.
QUERIES: dict[str, tuple[str, Role]] = {
    "coverage": ("{ coverage { enterprises } }", Role.VIEWER),
    "coverageBy": ("{ coverageBy(by: PARK) { key } }", Role.VIEWER),
    "coverageTrend": ('{ coverageTrend(from: "2023-01-01", to: "2024-01-01", step: QUARTER) { date } }', Role.VIEWER),
    "organization": ('{ organization(id: "B1") { id } }', Role.VIEWER),
    "enterprise": (f'{{ enterprise(creditCode: "{CODE[1]}") {{ name }} }}', Role.VIEWER),
    "organizations": ("{ organizations { totalCount } }", Role.VIEWER),
    "enterprises": ("{ enterprises { totalCount } }", Role.VIEWER),
    "parks": ("{ parks { name } }", Role.VIEWER),
    "chains": ("{ chains }", Role.VIEWER),
    "compliance": ("{ compliance { countsByRule { count } } }", Role.VIEWER),
    "bulletin": ("{ bulletin { rows { label } } }", Role.VIEWER),
    "orgChart": ('{ orgChart(root: "P", format: JSON) { filename } }', Role.VIEWER),
    "rules": ("{ rules { rule } }", Role.VIEWER),
    "me": ("{ me { name role } }", Role.VIEWER),
    "today": ("{ today }", Role.VIEWER),
    "organizationCounts": ("{ organizationCounts(by: MODE) { count } }", Role.VIEWER),
    "alliances": ("{ alliances { members { id } } }", Role.VIEWER),
    "pairings": ("{ pairings { kind } }", Role.VIEWER),
    "unpairedKeyEnterprises": ("{ unpairedKeyEnterprises { totalCount } }", Role.VIEWER),
    "simulate": (
        '{ simulate(changes: [{setOrganizationDetails: {orgId: "B1", stars: 3}}]) { changes } }',
        Role.PLANNER,
    ),
    "planJointBranches": ("{ planJointBranches { enterprisesCovered } }", Role.PLANNER),
    "pairingSuggestions": (f'{{ pairingSuggestions(enterprise: "{CODE[5]}") {{ score }} }}', Role.PLANNER),
    "pairDepartments": ("{ pairDepartments { totalWeight } }", Role.PLANNER),
    "scenarios": ("{ scenarios { name } }", Role.PLANNER),
    "scenario": ('{ scenario(name: "无") { name } }', Role.PLANNER),
    "compareScenarios": ('{ compareScenarios(a: "无", b: "无") { bMinusA { enterprises } } }', Role.PLANNER),
    "auditLog": ("{ auditLog { totalCount } }", Role.EDITOR),
}
MUTATIONS: dict[str, tuple[str, Role]] = {
    "saveScenario": (('mutation { saveScenario(name: "s", changes: [{setOrganizationDetails: {orgId: "B1", stars: 2}}],'
                     " replace: true) { name } }"), Role.PLANNER),
    "applyScenario": ('mutation { applyScenario(name: "无") { receipt { changeSet } } }', Role.EDITOR),
    "applyChanges": (('mutation { applyChanges(changes: [{setOrganizationDetails: {orgId: "B1", stars: 1}}]) '
                     "{ changeSet } }"), Role.EDITOR),
    "createOrganization": (('mutation { createOrganization(input: {id: "N1", name: "新支部", kind: BRANCH, '
                           'parentId: "C1"}) { id } }'), Role.EDITOR),
    "coverEnterprises": (f'mutation {{ coverEnterprises(orgId: "J1", creditCodes: ["{CODE[5]}"]) {{ id }} }}',
                         Role.EDITOR),
    "uncoverEnterprises": ((f'mutation {{ uncoverEnterprises(input: {{orgId: "J1", creditCodes: ["{CODE[5]}"]}}) '
                           "{ id } }"), Role.EDITOR),
    "setOrganizationDetails": ('mutation { setOrganizationDetails(input: {orgId: "B1", points: 9}) { id } }',
                               Role.EDITOR),
    "moveOrganization": ('mutation { moveOrganization(input: {orgId: "B1", parentId: "C2"}) { id } }', Role.EDITOR),
    "upgradeOrganization": ('mutation { upgradeOrganization(input: {orgId: "B1", to: GENERAL_BRANCH}) { id } }',
                            Role.EDITOR),
    "dissolveOrganization": ('mutation { dissolveOrganization(input: {orgId: "NOBODY"}) { id } }', Role.EDITOR),
    "registerEnterprise": ((f'mutation {{ registerEnterprise(input: {{creditCode: "{NEW_CODE}", name: "新企业", '
                           'park: "A"}) { creditCode } }'), Role.EDITOR),
    "updateEnterprise": ((f'mutation {{ updateEnterprise(input: {{creditCode: "{CODE[5]}", employees: 12}}) '
                         "{ creditCode } }"), Role.EDITOR),
    "addLink": ('mutation { addLink(input: {sourceId: "D1", targetId: "B1", kind: PAIRING}) { changeSet } }',
                Role.EDITOR),
    "endLink": ('mutation { endLink(input: {sourceId: "B1", targetId: "B2", kind: CHAIN_CO_BUILD}) { changeSet } }',
                Role.EDITOR),
    "assignInstructor": ((f'mutation {{ assignInstructor(input: {{instructorId: "I9", creditCode: "{CODE[5]}", '
                         'name: "王五"}) { changeSet } }'), Role.EDITOR),
    "unassignInstructor": ((f'mutation {{ unassignInstructor(input: {{instructorId: "I1", creditCode: "{CODE[4]}"}}) '
                           "{ changeSet } }"), Role.EDITOR),
}  # fmt: skip
OPERATIONS = {**QUERIES, **MUTATIONS}


@dataclass
class Tokens:
    """One token per role (every scope), and park-scoped ones."""

    by_role: dict[Role, str]
    viewer_a: str
    planner_a: str
    editor_a: str
    editor_b: str
    viewer_b: str


@pytest.fixture
def tokens(state: State) -> Tokens:
    book = TokenBook(state.durable.path)
    a, b = Boundary.of(parks=["A"]), Boundary.of(parks=["B"])
    return Tokens(
        by_role={role: book.create(f"全部-{role.label}", role) for role in Role},
        viewer_a=book.create("A-viewer", Role.VIEWER, a), planner_a=book.create("A-planner", Role.PLANNER, a),
        editor_a=book.create("A-editor", Role.EDITOR, a), editor_b=book.create("B-editor", Role.EDITOR, b),
        viewer_b=book.create("B-viewer", Role.VIEWER, b),
    )  # fmt: skip


@pytest.fixture
def server(state: State, tokens: Tokens) -> Iterator[LiveServer]:
    with LiveServer(state) as live:
        yield live


def codes(answer: dict) -> list[str]:
    return [str((error.get("extensions") or {}).get("code")) for error in answer.get("errors") or []]


def audit_total(server: LiveServer, tokens: Tokens) -> int:
    return server.ask("{ auditLog { totalCount } }", tokens.by_role[Role.ADMIN])["data"]["auditLog"]["totalCount"]


def test_every_root_field_has_a_role_in_the_matrix() -> None:
    schema = build_schema()._schema
    roots = [schema.query_type, schema.mutation_type]
    fields = {name for root in roots if isinstance(root, GraphQLObjectType) for name in root.fields}
    assert fields == set(OPERATIONS)


@pytest.mark.parametrize("role", list(Role), ids=lambda role: role.label)
def test_each_role_runs_what_it_may_and_is_refused_the_rest(server: LiveServer, tokens: Tokens, role: Role) -> None:
    """Every operation by every role: FORBIDDEN exactly when the role is below the operation's,
    and a refused mutation writes nothing."""
    for name, (query, needed) in OPERATIONS.items():
        before = audit_total(server, tokens)
        answer = server.ask(query, tokens.by_role[role])
        if role >= needed:
            assert "FORBIDDEN" not in codes(answer) and "UNAUTHENTICATED" not in codes(answer), (name, answer)
        else:
            assert codes(answer) == ["FORBIDDEN"], (name, answer)
            assert answer["data"] is None and answer["errors"][0]["extensions"]["needs"] == needed.label
            assert audit_total(server, tokens) == before, name


def test_one_forbidden_field_refuses_the_whole_document(server: LiveServer, tokens: Tokens) -> None:
    """A planner field hidden in a fragment, behind an alias, next to a viewer field: nothing runs."""
    query = """query { coverage { enterprises } ...Plan }
      fragment Plan on Query { p: planJointBranches { enterprisesCovered } }"""
    answer = server.ask(query, tokens.by_role[Role.VIEWER])
    assert codes(answer) == ["FORBIDDEN"] and answer["data"] is None
    assert "errors" not in server.ask(query, tokens.by_role[Role.PLANNER])


def test_the_operation_that_runs_is_the_one_checked(server: LiveServer, tokens: Tokens) -> None:
    document = 'query Read { parks { name } } mutation Write { setOrganizationDetails(input: {orgId: "B1", points: 1}) { id } }'
    viewer = {"Authorization": f"Bearer {tokens.by_role[Role.VIEWER]}"}
    read = httpx.post(f"{server.url}/graphql", json={"query": document, "operationName": "Read"}, headers=viewer)
    write = httpx.post(f"{server.url}/graphql", json={"query": document, "operationName": "Write"}, headers=viewer)
    assert read.json()["data"]["parks"] and codes(write.json()) == ["FORBIDDEN"]


def test_personal_names_are_hidden_from_viewers_with_a_reason(server: LiveServer, tokens: Tokens) -> None:
    server.ask('mutation { setOrganizationDetails(input: {orgId: "B1", secretary: "赵书记"}) { id } }',
               tokens.by_role[Role.EDITOR])  # fmt: skip
    query = f"""{{ o: organization(id: "B1") {{ ...Who }} enterprise(creditCode: "{CODE[4]}") {{
        instructors {{ id name }} }} }}  fragment Who on Organization {{ boss: secretary }}"""
    seen = server.ask(query, tokens.by_role[Role.VIEWER])
    assert seen["data"]["o"]["boss"] is None and seen["data"]["enterprise"]["instructors"] == [
        {"id": "I1", "name": None}
    ]
    hidden = seen["extensions"]["hidden"]
    assert hidden["code"] == "PERSONAL_DATA_HIDDEN" and set(hidden["paths"]) == {
        "o.boss",
        "enterprise.instructors.0.name",
    }
    planned = server.ask(query, tokens.by_role[Role.PLANNER])
    assert (
        planned["data"]["o"]["boss"] == "赵书记" and planned["data"]["enterprise"]["instructors"][0]["name"] == "张三"
    )
    assert "hidden" not in (planned.get("extensions") or {})


def test_anonymous_requests_are_refused_once_a_token_exists(server: LiveServer) -> None:
    response = httpx.post(f"{server.url}/graphql", json={"query": "{ parks { name } }"})
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
    assert codes(response.json()) == ["UNAUTHENTICATED"]
    assert codes(server.ask("{ parks { name } }", "chainorg_" + "x" * 43)) == ["UNAUTHENTICATED"]
    chart = httpx.get(f"{server.url}/charts/P.json")
    assert chart.status_code == 401 and httpx.get(f"{server.url}/healthz").json() == {"status": "ok"}


def test_who_is_the_tokens_name(server: LiveServer, tokens: Tokens) -> None:
    done = server.ask('mutation { applyChanges(changes: [{setOrganizationDetails: {orgId: "J1", stars: 5}}]) '
                      "{ who } }", tokens.editor_a)  # fmt: skip
    assert done["data"]["applyChanges"]["who"] == "A-editor"
    log = server.ask('{ auditLog(subject: "J1") { nodes { who } } }', tokens.by_role[Role.ADMIN])
    assert [n["who"] for n in log["data"]["auditLog"]["nodes"]] == ["A-editor"]


def test_a_revoked_token_is_refused_within_two_seconds_and_an_expired_one_is_refused(
    state: State, tokens: Tokens, server: LiveServer
) -> None:
    book = TokenBook(state.durable.path)
    assert server.ask("{ me { name } }", tokens.viewer_a)["data"]["me"]["name"] == "A-viewer"
    book.revoke("A-viewer")
    revoked = time.monotonic()
    while codes(server.ask("{ me { name } }", tokens.viewer_a)) != ["UNAUTHENTICATED"]:
        assert time.monotonic() - revoked < 2.0, "the revoked token still works"
        time.sleep(0.05)
    fresh = book.create("新人", Role.VIEWER, expires=datetime.now(UTC) + timedelta(seconds=2.5))
    made = time.monotonic()
    while "errors" in server.ask("{ me { name } }", fresh):
        assert time.monotonic() - made < 2.0, "a new token did not take effect"
        time.sleep(0.05)
    time.sleep(max(0.0, 2.6 - (time.monotonic() - made)))
    answer = server.ask("{ me { name } }", fresh)
    assert codes(answer) == ["UNAUTHENTICATED"] and "expired" in answer["errors"][0]["message"]


def test_a_token_over_its_rate_is_refused_with_the_wait(state: State, tokens: Tokens) -> None:
    with LiveServer(state, rates=RateLimits(requests_per_minute=3, cost_per_minute=0)) as server:
        answers = [server.ask("{ parks { name } }", tokens.viewer_a) for _ in range(4)]
        assert [codes(a) for a in answers] == [[], [], [], ["RATE_LIMITED"]]
        assert 0 < answers[3]["errors"][0]["extensions"]["retryAfter"] <= 20
        assert codes(server.ask("{ parks { name } }", tokens.viewer_b)) == []  # each token has its own


# -- scopes -----------------------------------------------------------------------


def test_a_scoped_token_sees_its_parks_world_only(server: LiveServer, tokens: Tokens) -> None:
    query = f"""{{ parks {{ name }} chains enterprises {{ totalCount nodes {{ creditCode park }} }}
      organizations {{ totalCount nodes {{ id }} }} coverage {{ enterprises organizationCovered organizations }}
      b1: organization(id: "B1") {{ id }} e7: enterprise(creditCode: "{CODE[7]}") {{ name }}
      e1: enterprise(creditCode: "{CODE[1]}") {{ name }} }}"""
    a = server.ask(query, tokens.viewer_a)["data"]
    b = server.ask(query, tokens.viewer_b)["data"]
    assert [p["name"] for p in a["parks"]] == ["A"] and [p["name"] for p in b["parks"]] == ["B"]
    assert a["enterprises"]["totalCount"] == 6 and {n["park"] for n in a["enterprises"]["nodes"]} == {"A"}
    assert b["enterprises"]["totalCount"] == 2 and {n["park"] for n in b["enterprises"]["nodes"]} == {"B"}
    assert {n["id"] for n in a["organizations"]["nodes"]} == {"P", "C1", "C2", "B1", "J1", "B2"}
    assert {n["id"] for n in b["organizations"]["nodes"]} == {"P", "C2", "B2"} and b["organizations"]["totalCount"] == 3
    assert b["b1"] is None and b["e1"] is None and a["e7"] is None and a["b1"] == {"id": "B1"}
    everything = server.ask(query, tokens.by_role[Role.VIEWER])["data"]
    for field in ("enterprises", "organizationCovered"):  # the parks' worlds add up to the whole
        assert a["coverage"][field] + b["coverage"][field] == everything["coverage"][field]


def test_a_joint_branch_across_two_parks_seen_from_each(server: LiveServer, tokens: Tokens) -> None:
    query = """{ organization(id: "B2") { covers { creditCode } members { formal }
        history { covers { creditCode } } parent { id children { id } } links { targetId } } }"""
    a = server.ask(query, tokens.viewer_a)["data"]["organization"]
    b = server.ask(query, tokens.viewer_b)["data"]["organization"]
    assert [e["creditCode"] for e in a["covers"]] == [CODE[6]] and [e["creditCode"] for e in b["covers"]] == [CODE[7]]
    assert a["members"]["formal"] == 0 and b["members"]["formal"] == 4  # 6 is a zombie; 7 has four
    assert [c["creditCode"] for c in b["history"]["covers"]] == [CODE[7]]
    assert b["parent"] == {"id": "C2", "children": [{"id": "B2"}]} and b["links"] == []  # B1 is A's alone
    assert [link["targetId"] for link in a["links"]] == ["B2"]


def test_charts_and_findings_stay_inside(server: LiveServer, tokens: Tokens) -> None:
    chart = server.ask('{ orgChart(root: "P", format: MERMAID, depth: 4) { content } }', tokens.viewer_b)
    content = chart["data"]["orgChart"]["content"]
    assert "企业7党支部" in content and "X楼联合党支部" not in content and "一联组" not in content
    headers = {"Authorization": f"Bearer {tokens.viewer_b}"}
    assert httpx.get(f"{server.url}/charts/J1.json", headers=headers).status_code == 404
    missing = httpx.get(f"{server.url}/charts/NOBODY.json", headers=headers)
    assert (
        missing.json()["errors"][0]["message"].replace("NOBODY", "J1")
        == httpx.get(f"{server.url}/charts/J1.json", headers=headers).json()["errors"][0]["message"]
    )
    findings = server.ask("{ compliance { findings(first: 100) { totalCount nodes { subjectId } } } }", tokens.viewer_b)
    report = findings["data"]["compliance"]["findings"]
    assert {n["subjectId"] for n in report["nodes"]} <= {"P", "C2", "B2", CODE[7], CODE[8]}
    assert report["totalCount"] == len(report["nodes"])


def test_writes_outside_the_scope_are_refused_and_write_nothing(server: LiveServer, tokens: Tokens) -> None:
    before = audit_total(server, tokens)
    outside = server.ask('mutation { setOrganizationDetails(input: {orgId: "B1", stars: 1}) { id } }', tokens.editor_b)
    missing = server.ask('mutation { setOrganizationDetails(input: {orgId: "ZZ", stars: 1}) { id } }', tokens.editor_b)
    assert codes(outside) == codes(missing) == ["NOT_FOUND"]
    assert outside["errors"][0]["message"].replace("B1", "ZZ") == missing["errors"][0]["message"]
    shared = server.ask('mutation { setOrganizationDetails(input: {orgId: "B2", stars: 1}) { id } }', tokens.editor_b)
    moved_out = server.ask(f'mutation {{ updateEnterprise(input: {{creditCode: "{CODE[7]}", park: "A"}}) '
                           "{ creditCode } }", tokens.editor_b)  # fmt: skip
    parentless = server.ask('mutation { createOrganization(input: {id: "T1", name: "顶", kind: CLUSTER}) { id } }',
                            tokens.editor_b)  # fmt: skip
    assert codes(shared) == codes(moved_out) == codes(parentless) == ["FORBIDDEN"]
    taken = server.ask('mutation { createOrganization(input: {id: "J1", name: "重名", kind: BRANCH, parentId: "C2"})'
                       " { id } }", tokens.editor_b)  # fmt: skip
    assert codes(taken) == ["CONFLICT"] and "J1" not in taken["errors"][0]["message"]
    assert "organization" not in taken["errors"][0]["message"]
    assert audit_total(server, tokens) == before
    inside = server.ask(f'mutation {{ updateEnterprise(input: {{creditCode: "{CODE[7]}", employees: 40}}) '
                        "{ creditCode } }", tokens.editor_b)  # fmt: skip
    assert "errors" not in inside and audit_total(server, tokens) == before + 1


def test_the_audit_trail_and_scenarios_of_a_scope(server: LiveServer, tokens: Tokens) -> None:
    server.ask('mutation { setOrganizationDetails(input: {orgId: "J1", stars: 4}) { id } }', tokens.editor_a)
    server.ask(f'mutation {{ updateEnterprise(input: {{creditCode: "{CODE[7]}", employees: 9}}) {{ creditCode }} }}',
               tokens.editor_b)  # fmt: skip
    log = "{ auditLog { totalCount nodes { subject who } } }"
    a, b = (server.ask(log, t)["data"]["auditLog"] for t in (tokens.editor_a, tokens.editor_b))
    assert a == {"totalCount": 1, "nodes": [{"subject": "J1", "who": "A-editor"}]}
    assert b == {"totalCount": 1, "nodes": [{"subject": CODE[7], "who": "B-editor"}]}
    assert server.ask(log, tokens.by_role[Role.ADMIN])["data"]["auditLog"]["totalCount"] == 2
    saved = server.ask('mutation { saveScenario(name: "A计划", changes: [{setOrganizationDetails: {orgId: "J1", '
                       "points: 3}}]) { name } }", tokens.planner_a)  # fmt: skip
    assert "errors" not in saved
    seen = server.ask("{ scenarios { name } }", tokens.editor_b)["data"]["scenarios"]
    assert seen == [] and codes(server.ask('{ scenario(name: "A计划") { name } }', tokens.editor_b)) == ["NOT_FOUND"]
    assert codes(server.ask('mutation { applyScenario(name: "A计划") { scenario { name } } }', tokens.editor_b)) == [
        "NOT_FOUND"
    ]


def test_introspection_reveals_no_data_and_says_what_each_role_needs(server: LiveServer, tokens: Tokens) -> None:
    answer = server.ask('{ __type(name: "Query") { fields { name description } } }', tokens.viewer_b)
    described = {f["name"]: f["description"] for f in answer["data"]["__type"]["fields"]}
    assert described["planJointBranches"].endswith("Needs the planner role.")
    assert "Needs" not in described["coverage"] and "企业1" not in str(answer)


def test_the_explorer_page_carries_the_token_box(server: LiveServer) -> None:
    page = httpx.get(f"{server.url}/graphql", headers={"Accept": "text/html"})
    script = httpx.get(f"{server.url}/static/explorer.js").text
    assert page.status_code == 200 and 'id="token"' in page.text
    assert "sessionStorage" in script and "Authorization" in script and "localStorage" not in script


def test_a_batch_of_operations_is_refused_whole(server: LiveServer, tokens: Tokens) -> None:
    """A JSON array of operations (batching, which some servers check per first item) runs nothing."""
    before = audit_total(server, tokens)
    write = {"query": 'mutation { setOrganizationDetails(input: {orgId: "B1", stars: 1}) { id } }'}
    batch = [{"query": "{ parks { name } }"}, write]
    for token in (tokens.by_role[Role.VIEWER], tokens.by_role[Role.EDITOR]):
        response = httpx.post(f"{server.url}/graphql", json=batch, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 400 and codes(response.json()) == ["BAD_REQUEST"]
    assert audit_total(server, tokens) == before


def test_a_server_on_loopback_without_tokens_says_it_lets_this_machine_in(folder: Path) -> None:
    port = free_port()
    process = subprocess.Popen([CHAINORG, "serve", "--state", str(folder), "--port", str(port)],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    try:
        assert process.stdout is not None
        said = [process.stdout.readline() for _ in range(2)]
        assert any("no tokens yet: requests from this machine act as admin" in line for line in said), said
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_scoped_retry_with_the_same_request_id_writes_once(server: LiveServer, tokens: Tokens) -> None:
    before = audit_total(server, tokens)
    query = ('mutation { applyChanges(requestId: "b-1", changes: [{createOrganization: {id: "NB1", name: "新支部", '
             'kind: BRANCH, parentId: "C2"}}]) { changeSet repeated } }')  # fmt: skip
    first, again = (server.ask(query, tokens.editor_b)["data"]["applyChanges"] for _ in range(2))
    assert (first["repeated"], again) == (False, {"changeSet": first["changeSet"], "repeated": True})
    assert audit_total(server, tokens) == before + 1
    seen = server.ask('{ organization(id: "NB1") { id parent { id } } }', tokens.viewer_b)["data"]["organization"]
    assert seen == {"id": "NB1", "parent": {"id": "C2"}}  # it covers nothing: its parent's world holds it


def test_planning_pairing_and_bulletin_answers_are_computed_over_the_scope(state: State, tokens: Tokens) -> None:
    planner_b = TokenBook(state.durable.path).create("B-planner", Role.PLANNER, Boundary.of(parks=["B"]))
    with LiveServer(state) as server:
        query = f"""{{ coverage {{ enterprises organizationCovered }}
          simulate(changes: [{{updateEnterprise: {{creditCode: "{CODE[7]}", employees: 5}}}}]) {{
            before {{ enterprises organizationCovered }} }}
          planJointBranches {{ eligible enterprisesCovered coverageBefore {{ enterprises }} }}
          pairings {{ source {{ id }} target {{ id }} }} unpairedKeyEnterprises {{ totalCount }}
          bulletin {{ rows {{ key current {{ coverage {{ enterprises }} }} }} }} }}"""
        b = server.ask(query, planner_b)["data"]
        whole = server.ask(query, tokens.by_role[Role.PLANNER])["data"]
        assert b["simulate"]["before"] == b["coverage"] != whole["coverage"]
        assert b["planJointBranches"]["coverageBefore"]["enterprises"] == b["coverage"]["enterprises"]
        assert b["pairings"] == [] and whole["pairings"]  # D1 pairs with J1, which is A's alone
        assert {row["key"] for row in b["bulletin"]["rows"]} <= {"", "B", "互联网", "C2"}
        assert all(
            row["current"]["coverage"]["enterprises"] <= b["coverage"]["enterprises"] for row in b["bulletin"]["rows"]
        )
        suggestion = server.ask(f'{{ pairingSuggestions(enterprise: "{CODE[5]}") {{ score }} }}', planner_b)
        unknown = server.ask(f'{{ pairingSuggestions(enterprise: "{credit_code(30)}") {{ score }} }}', planner_b)
        assert codes(suggestion) == codes(unknown) == ["NOT_FOUND"]
        assert suggestion["errors"][0]["message"].replace(CODE[5], credit_code(30)) == unknown["errors"][0]["message"]


def test_a_scoped_audit_trail_read_a_chunk_at_a_time_counts_the_same(
    server: LiveServer, tokens: Tokens, monkeypatch: pytest.MonkeyPatch
) -> None:
    for stars in (1, 2, 3):
        server.ask(
            f'mutation {{ setOrganizationDetails(input: {{orgId: "J1", stars: {stars}}}) {{ id }} }}', tokens.editor_a
        )
        server.ask(f'mutation {{ updateEnterprise(input: {{creditCode: "{CODE[7]}", employees: {stars}}}) '
                   "{ creditCode } }", tokens.editor_b)  # fmt: skip
    query = "{ auditLog(first: 2) { totalCount nodes { subject } } }"
    whole = server.ask(query, tokens.editor_a)["data"]["auditLog"]
    monkeypatch.setattr("graph.journal.AUDIT_CHUNK", 1)
    assert server.ask(query, tokens.editor_a)["data"]["auditLog"] == whole
    assert whole == {"totalCount": 3, "nodes": [{"subject": "J1"}, {"subject": "J1"}]}


def test_scoped_writes_are_on_disk_every_answer_the_same_after_a_restart(folder: Path) -> None:
    """The disk is the truth: what scoped editors wrote, every token sees the same after a restart."""
    book = TokenBook(folder / "chainorg.sqlite")
    editor_a, viewer_b = (
        book.create("A编辑", Role.EDITOR, Boundary.of(parks=["A"])),
        book.create("B看", Role.VIEWER, Boundary.of(parks=["B"])),
    )
    admin = book.create("管理员", Role.ADMIN)
    asked = [
        "{ coverage { enterprises organizationCovered organizations } organizations { totalCount nodes { id name } } }",
        '{ organization(id: "B2") { covers { creditCode } members { formal } } }',
        f'{{ enterprise(creditCode: "{CODE[3]}") {{ employees organizations {{ id }} }} }}',
    ]
    writes = [
        'mutation { createOrganization(input: {id: "NA1", name: "新支部", kind: BRANCH, parentId: "C1"}) { id } }',
        f'mutation {{ coverEnterprises(orgId: "NA1", creditCodes: ["{CODE[5]}"]) {{ id }} }}',
        f'mutation {{ updateEnterprise(input: {{creditCode: "{CODE[3]}", employees: 77}}) {{ creditCode }} }}',
    ]
    answers = []
    for _ in range(2):
        state = State(folder, today=lambda: date(2024, 1, 1))
        try:
            with LiveServer(state) as server:
                for write in writes if not answers else []:
                    assert "errors" not in server.ask(write, editor_a), write
                answers.append([server.ask(q, t) for q in asked for t in (editor_a, viewer_b, admin)])
                answers[-1] += [
                    server.ask("{ auditLog { totalCount nodes { subject who } } }", t) for t in (editor_a, admin)
                ]
        finally:
            state.close()
    assert answers[0] == answers[1] and "errors" not in str(answers[0])
