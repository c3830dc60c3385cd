"""Mutations over HTTP on a real uvicorn server serving a state."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from graph.dataset import Dataset
from graph.durable import create_state
from graph.stores.networkx.state import State
from tests.conftest import LiveServer, credit_code

TODAY = date(2024, 1, 1)


@pytest.fixture
def server(tmp_path: Path, hand_dataset: Dataset) -> Iterator[LiveServer]:
    create_state(tmp_path / "state", hand_dataset)
    state = State(tmp_path / "state", today=lambda: TODAY)
    with LiveServer(state) as live:  # type: ignore[arg-type]
        yield live


def test_create_an_organization_and_cover_enterprises(server: LiveServer) -> None:
    created = server.query("""mutation { createOrganization(input: {id: "J2", name: "Y楼联合党支部",
        kind: JOINT_BRANCH, parentId: "C2", establishedOn: "2023-03-01"}) { id kind establishedOn parent { id } } }""")
    assert created == {"data": {"createOrganization": {
        "id": "J2", "kind": "JOINT_BRANCH", "establishedOn": "2023-03-01", "parent": {"id": "C2"}}}}  # fmt: skip
    covered = server.query(
        """mutation($codes: [String!]!) { coverEnterprises(orgId: "J2", creditCodes: $codes, since: "2023-04-01") {
             covers { creditCode } members { formal } } }""",
        {"codes": [credit_code(5), credit_code(4).lower()]},
    )["data"]["coverEnterprises"]
    assert covered == {
        "covers": [{"creditCode": credit_code(5)}, {"creditCode": credit_code(4)}],
        "members": {"formal": 3},
    }
    coverage = server.query("""{ before: coverage(asOf: "2023-03-31") { organizationCovered }
                                 after: coverage(asOf: "2023-04-01") { organizationCovered } }""")["data"]
    assert coverage["after"]["organizationCovered"] - coverage["before"]["organizationCovered"] == 2


def test_a_rejected_change_names_its_position_and_field_and_writes_nothing(server: LiveServer) -> None:
    answer = server.query(
        """mutation($codes: [String!]!) { applyChanges(changes: [
             {createOrganization: {id: "B9", name: "企业5党支部", kind: BRANCH, parentId: "C2"}},
             {coverEnterprises: {orgId: "B9", creditCodes: $codes}}]) { changeSet } }""",
        {"codes": [credit_code(5), "91430100MA4L99999X"]},
    )
    [error] = answer["errors"]
    assert error["extensions"] == {"code": "NOT_FOUND", "change": 2, "field": "coverEnterprises.creditCodes[1]"}
    assert "no enterprise has the credit code" in error["message"]
    assert server.query('{ organization(id: "B9") { id } }')["data"]["organization"] is None
    assert server.query("{ auditLog { totalCount } }")["data"]["auditLog"]["totalCount"] == 0


def test_a_change_set_gets_a_receipt_and_an_audit_trail(server: LiveServer) -> None:
    receipt = server.query("""mutation { applyChanges(changes: [
        {upgradeOrganization: {orgId: "B1", to: GENERAL_BRANCH, on: "2023-01-01"}},
        {setOrganizationDetails: {orgId: "B1", stars: 4}}]) { changeSet who changes at } }""")["data"]["applyChanges"]
    assert (receipt["changeSet"], receipt["who"], receipt["changes"]) == (1, "anonymous", 2)
    log = server.query("""{ auditLog(subject: "B1") { totalCount nodes { changeSet position kind before after } } }""")
    entries = log["data"]["auditLog"]["nodes"]
    assert [(e["position"], e["kind"]) for e in entries] == [(1, "upgradeOrganization"), (2, "setOrganizationDetails")]
    assert [record["table"] for record in entries[0]["before"]] == ["organizations"]
    assert (entries[0]["before"][0]["kind"], entries[0]["after"][-1]["kind"]) == ("BRANCH", "GENERAL_BRANCH")
    assert {"table": "upgrades", "org_id": "B1", "before": "BRANCH", "after": "GENERAL_BRANCH", "on": "2023-01-01"} in (
        entries[0]["after"]
    )


def test_dissolved_organizations_still_answer_with_their_dates(server: LiveServer) -> None:
    server.query('mutation { dissolveOrganization(input: {orgId: "J1", on: "2023-01-01"}) { id } }')
    query = """{ organization(id: "J1") { dissolvedOn covers { creditCode }
                 history { kinds { kind until } parents { parentId until } covers { enterprise { name } until } } } }"""
    found = server.query(query)["data"]["organization"]
    assert found == {"dissolvedOn": "2023-01-01", "covers": [], "history": {
        "kinds": [{"kind": "JOINT_BRANCH", "until": "2023-01-01"}],
        "parents": [{"parentId": "C1", "until": "2023-01-01"}],
        "covers": [{"enterprise": {"name": "企业2"}, "until": "2023-01-01"},
                   {"enterprise": {"name": "企业3"}, "until": "2023-01-01"}],
    }}  # fmt: skip


@pytest.mark.parametrize(
    ("mutation", "code"),
    [
        ('mutation { moveOrganization(input: {orgId: "C1", parentId: "B1"}) { id } }', "INVALID_CHANGE"),
        ('mutation { addLink(input: {sourceId: "D1", targetId: "J1", kind: PAIRING}) { changeSet } }', "CONFLICT"),
        ('mutation { updateEnterprise(input: {creditCode: "X", status: ZOMBIE}) { name } }', "NOT_FOUND"),
        ("mutation { applyChanges(changes: []) { changeSet } }", "INVALID_CHANGE"),
        (('mutation { applyChanges(changes: [{dissolveOrganization: {orgId: "J1"}, endLink: '
          '{sourceId: "D1", targetId: "J1", kind: PAIRING}}]) { changeSet } }'), "GRAPHQL_VALIDATION_FAILED"),
    ],
)  # fmt: skip
def test_refusals_are_coded(server: LiveServer, mutation: str, code: str) -> None:
    assert server.query(mutation)["errors"][0]["extensions"]["code"] == code


def test_a_ledger_served_read_only_says_how_to_keep_changes(demo_server: LiveServer) -> None:
    answer = demo_server.query('mutation { dissolveOrganization(input: {orgId: "X"}) { id } }')
    [error] = answer["errors"]
    assert error["extensions"]["code"] == "READ_ONLY"
    assert "chainorg load LEDGER --state DIR" in error["message"]
    assert demo_server.query("{ auditLog { totalCount } }")["errors"][0]["extensions"]["code"] == "READ_ONLY"
