"""Planners' questions over HTTP on a real uvicorn server serving the demo as a state."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from graph.durable import STATE_FILE, create_state
from graph.stores.networkx.state import State
from loaders.demo import demo_dataset
from tests.conftest import LiveServer

TODAY = date(2024, 6, 1)
COVERAGE = "{ enterprises organizationCovered workCovered organizations }"
PLAN = """query($scope: ScopeInput, $method: PlanMethod!) {
  planJointBranches(scope: $scope, method: $method) {
    branches { id name place parentId formalMembers enterprises { creditCode formalMembers building { name } } }
    enterprisesCovered eligible upperBound method optimalityGap changes
    coverageBefore COVERAGE coverageAfter COVERAGE } }""".replace("COVERAGE", COVERAGE)


@pytest.fixture(scope="module")
def demo_state_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo as a state, made once; each test serves a copy of its own."""
    folder = tmp_path_factory.mktemp("planner") / "state"
    create_state(folder, demo_dataset())
    return folder / STATE_FILE


@pytest.fixture
def server(demo_state_file: Path, tmp_path: Path) -> Iterator[LiveServer]:
    """A fresh demo state served, so no test sees what another one wrote."""
    (tmp_path / "state").mkdir()
    shutil.copyfile(demo_state_file, tmp_path / "state" / STATE_FILE)
    state = State(tmp_path / "state", today=lambda: TODAY)
    try:
        with LiveServer(state) as live:  # type: ignore[arg-type]
            yield live
    finally:
        state.close()


def park(server: LiveServer) -> str:
    return server.query("{ parks { name } }")["data"]["parks"][0]["name"]


@pytest.mark.parametrize("method", ["GREEDY", "OPTIMAL", "AUTO"])
def test_a_plan_keeps_the_limits_and_its_changes_simulate_to_its_coverage(server: LiveServer, method: str) -> None:
    scope = {"park": park(server), "category": "FINANCE"}
    plan = server.query(PLAN, {"scope": scope, "method": method})["data"]["planJointBranches"]
    assert plan["branches"] and plan["enterprisesCovered"] == sum(len(b["enterprises"]) for b in plan["branches"])
    for branch in plan["branches"]:
        assert 1 <= len(branch["enterprises"]) <= 5
        assert branch["formalMembers"] == sum(e["formalMembers"] for e in branch["enterprises"]) >= 3
        assert len({e["building"]["name"] for e in branch["enterprises"]}) == 1
    assert plan["enterprisesCovered"] <= plan["upperBound"]
    if plan["method"] == "OPTIMAL":
        assert plan["optimalityGap"] == 0 and plan["upperBound"] == plan["enterprisesCovered"]
    else:
        assert plan["optimalityGap"] == pytest.approx(1 - plan["enterprisesCovered"] / plan["upperBound"])
    before, after = plan["coverageBefore"], plan["coverageAfter"]
    assert after["organizationCovered"] - before["organizationCovered"] == plan["enterprisesCovered"]
    assert after["organizations"] - before["organizations"] == len(plan["branches"])

    simulated = server.query(
        f"query($changes: [ChangeInput!]!, $scope: ScopeInput) {{ simulate(changes: $changes, scope: $scope) "
        f"{{ changes before {COVERAGE} after {COVERAGE} }} }}",
        {"changes": plan["changes"], "scope": scope},
    )["data"]["simulate"]
    assert simulated["changes"] == 2 * len(plan["branches"])
    assert (simulated["before"], simulated["after"]) == (before, after)


def test_greedy_is_never_better_than_optimal(server: LiveServer) -> None:
    scope = {"park": park(server)}
    covered = {
        method: server.query(PLAN, {"scope": scope, "method": method})["data"]["planJointBranches"]
        for method in ("GREEDY", "OPTIMAL")
    }
    assert covered["GREEDY"]["enterprisesCovered"] <= covered["OPTIMAL"]["enterprisesCovered"]
    assert covered["OPTIMAL"]["enterprisesCovered"] <= covered["GREEDY"]["upperBound"]


def test_an_invalid_simulation_is_refused_by_name_and_writes_nothing(server: LiveServer) -> None:
    before = server.query(f"{{ coverage {COVERAGE} auditLog {{ totalCount }} scenarios {{ name }} }}")["data"]
    answer = server.query("""{ simulate(changes: [
        {createOrganization: {id: "SIM-1", name: "模拟支部", kind: JOINT_BRANCH}},
        {coverEnterprises: {orgId: "SIM-1", creditCodes: ["91430100MA4L99999X"]}}]) { changes } }""")
    [error] = answer["errors"]
    assert error["extensions"] == {"code": "NOT_FOUND", "change": 2, "field": "coverEnterprises.creditCodes[0]"}
    assert server.query(f"{{ coverage {COVERAGE} auditLog {{ totalCount }} scenarios {{ name }} }}")["data"] == before
    assert server.query('{ organization(id: "SIM-1") { id } }')["data"]["organization"] is None


def test_scenarios_are_saved_compared_and_applied_once(server: LiveServer) -> None:
    plans = {
        name: server.query(PLAN, {"scope": {"park": park(server), "category": category}, "method": "GREEDY"})
        for name, category in (("金融", "FINANCE"), ("数据", "DATA"))
    }
    for name, plan in plans.items():
        changes = plan["data"]["planJointBranches"]["changes"]
        saved = server.query(
            "mutation($name: String!, $changes: [ChangeInput!]!) { saveScenario(name: $name, changes: $changes) "
            "{ name changeCount who appliedChangeSet } }",
            {"name": name, "changes": changes},
        )["data"]["saveScenario"]
        assert saved == {"name": name, "changeCount": len(changes), "who": "anonymous", "appliedChangeSet": None}
    again = server.query('mutation { saveScenario(name: "金融", changes: [{setOrganizationDetails: '
                         '{orgId: "YDHL-0001", stars: 3}}]) { name } }')  # fmt: skip
    assert again["errors"][0]["extensions"]["code"] == "CONFLICT"
    listed = server.query("{ scenarios { name changeCount } }")["data"]["scenarios"]
    assert [s["name"] for s in listed] == sorted(plans)

    compared = server.query(f"""{{ compareScenarios(a: "金融", b: "数据") {{ a {{ name }} b {{ name }}
        aResult {{ change {{ organizationCovered }} after {COVERAGE} }}
        bResult {{ change {{ organizationCovered }} after {COVERAGE} }} bMinusA {{ organizationCovered }} }} }}""")
    result = compared["data"]["compareScenarios"]
    covered = {name: p["data"]["planJointBranches"]["enterprisesCovered"] for name, p in plans.items()}
    assert (result["a"]["name"], result["b"]["name"]) == ("金融", "数据")
    assert result["aResult"]["change"]["organizationCovered"] == covered["金融"]
    assert result["bResult"]["change"]["organizationCovered"] == covered["数据"]
    assert result["bMinusA"]["organizationCovered"] == covered["数据"] - covered["金融"]

    expected = server.query(f'{{ scenario(name: "金融") {{ simulation {{ after {COVERAGE} }} }} }}')
    log_before = server.query("{ auditLog { totalCount } }")["data"]["auditLog"]["totalCount"]
    applied = server.query('mutation { applyScenario(name: "金融") { scenario { appliedChangeSet } '
                           "receipt { changeSet changes } } }")["data"]["applyScenario"]  # fmt: skip
    assert applied["scenario"]["appliedChangeSet"] == applied["receipt"]["changeSet"]
    assert (
        server.query(f"{{ coverage {COVERAGE} }}")["data"]["coverage"]
        == (expected["data"]["scenario"]["simulation"]["after"])
    )
    log_after = server.query("{ auditLog { totalCount } }")["data"]["auditLog"]["totalCount"]
    assert log_after - log_before == applied["receipt"]["changes"]
    twice = server.query('mutation { applyScenario(name: "金融") { receipt { changeSet } } }')
    assert twice["errors"][0]["extensions"]["code"] == "CONFLICT"


def test_pairing_questions(server: LiveServer) -> None:
    pairings = server.query("{ pairings(kind: PAIRING) { source { id name type } target { type } kind since } }")
    found = pairings["data"]["pairings"]
    assert found and {p["kind"] for p in found} == {"PAIRING"}
    assert {p["source"]["type"] for p in found} == {"DEPARTMENT"} and all(p["source"]["name"] for p in found)

    unpaired = server.query("{ unpairedKeyEnterprises(first: 5) { totalCount nodes { key } } }")
    assert unpaired["data"]["unpairedKeyEnterprises"]["totalCount"] > 0
    assert all(n["key"] for n in unpaired["data"]["unpairedKeyEnterprises"]["nodes"])

    matching = server.query("""{ pairDepartments { totalWeight keyEnterprises
        pairs { department { id sector } enterprise { creditCode category key } weight reasons { says points } } } }""")
    every = server.query("{ pairDepartments(everyDepartment: true) { totalWeight pairs { weight } } }")
    pairs = matching["data"]["pairDepartments"]["pairs"]
    departments = len(demo_dataset().departments)
    assert len(every["data"]["pairDepartments"]["pairs"]) == departments
    assert 0 < len({p["enterprise"]["creditCode"] for p in pairs}) == len(pairs) <= departments
    assert all(p["weight"] > 0 for p in pairs)
    assert matching["data"]["pairDepartments"]["totalWeight"] >= every["data"]["pairDepartments"]["totalWeight"]
    assert matching["data"]["pairDepartments"]["keyEnterprises"] >= len(pairs)
    assert matching["data"]["pairDepartments"]["totalWeight"] == pytest.approx(sum(p["weight"] for p in pairs))
    for pair in pairs:
        assert pair["weight"] == pytest.approx(sum(r["points"] for r in pair["reasons"]))
        assert pair["enterprise"]["key"]

    plan = server.query(PLAN, {"scope": {"park": park(server)}, "method": "GREEDY"})["data"]["planJointBranches"]
    code = plan["branches"][0]["enterprises"][0]["creditCode"]
    suggested = server.query(
        "query($code: ID!) { pairingSuggestions(enterprise: $code, limit: 3) { kind score reasons { says points } "
        "jointBranch { id } enterprises { creditCode } formalMembers changes } }",
        {"code": code},
    )["data"]["pairingSuggestions"]
    assert 1 <= len(suggested) <= 3
    assert [s["score"] for s in suggested] == sorted((s["score"] for s in suggested), reverse=True)
    for option in suggested:
        assert option["formalMembers"] >= 3
        assert option["score"] == pytest.approx(sum(r["points"] for r in option["reasons"]))
        simulated = server.query(
            "query($changes: [ChangeInput!]!) { simulate(changes: $changes) { change { organizationCovered } } }",
            {"changes": option["changes"]},
        )["data"]["simulate"]
        assert simulated["change"]["organizationCovered"] == (
            1 if option["kind"] == "JOIN" else len(option["enterprises"])
        )


def test_suggestions_for_a_covered_enterprise_are_refused(server: LiveServer) -> None:
    code = server.query('{ organization(id: "YDHL-0001") { covers { creditCode } } }')
    covered = code["data"]["organization"]["covers"][0]["creditCode"]
    answer = server.query("query($c: ID!) { pairingSuggestions(enterprise: $c) { kind } }", {"c": covered})
    assert answer["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "covered by" in answer["errors"][0]["message"]
    too_many = server.query("query($c: ID!) { pairingSuggestions(enterprise: $c, limit: 51) { kind } }", {"c": covered})
    assert "limit must be from 1 to 50" in too_many["errors"][0]["message"]


def test_scenarios_need_a_state(demo_server: LiveServer) -> None:
    answer = demo_server.query('mutation { saveScenario(name: "x", changes: [{setOrganizationDetails: '
                               '{orgId: "YDHL-0001", stars: 3}}]) { name } }')  # fmt: skip
    assert answer["errors"][0]["extensions"]["code"] == "READ_ONLY"
