"""A property of scopes (hypothesis): random queries by a token limited to one park of a
two-park state never answer with an enterprise or organization outside it, and every
count equals the same count recounted by brute force over the park's own records."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from graph.access import Boundary, Role
from graph.dataset import Dataset
from graph.durable import create_state
from graph.model import Enterprise, Status
from graph.stores.networkx.state import State
from rate import RateLimits
from tests.conftest import LiveServer
from tokens import TokenBook

PARKS = ("A", "B")
TODAY = date(2024, 1, 1)


@pytest.fixture(scope="module")
def scoped(
    tmp_path_factory: pytest.TempPathFactory, hand_dataset: Dataset
) -> Iterator[tuple[LiveServer, dict[str, str]]]:
    folder = tmp_path_factory.mktemp("scoped") / "state"
    create_state(folder, hand_dataset)
    book = TokenBook(folder / "chainorg.sqlite")
    tokens = {park: book.create(f"{park}园区", Role.PLANNER, Boundary.of(parks=[park])) for park in PARKS}
    state = State(folder, today=lambda: TODAY)
    with LiveServer(state, rates=RateLimits(0, 0)) as server:
        yield server, tokens
    state.close()


def inside(dataset: Dataset, park: str) -> list[Enterprise]:
    table = dataset.enterprises
    return [e for e in table.records(range(len(table))) if e.park == park]


def world_organizations(dataset: Dataset, park: str) -> set[str]:
    """Brute force: organizations covering an enterprise of the park, and every one above them."""
    codes = {e.credit_code for e in inside(dataset, park)}
    parent = {o.id: o.parent_id for o in dataset.organizations}
    found = {c.org_id for c in dataset.covers if c.credit_code in codes}
    found |= {e.cluster_id for e in inside(dataset, park) if e.cluster_id}
    for org in list(found):
        while parent.get(org):
            org = parent[org]  # type: ignore[assignment]
            found.add(org)
    return found


ENTERPRISE_LEAF = st.sampled_from(["creditCode", "park", "name", "formalMembers"])
ORG_LEAF = st.sampled_from(["id", "name", "kind"])


def enterprise_selection(depth: int) -> st.SearchStrategy[str]:
    nested = [st.builds(lambda s: f"organizations {{ {s} }}", organization_selection(depth - 1)),
              st.builds(lambda s: f"cluster {{ {s} }}", organization_selection(depth - 1))] if depth > 0 else []  # fmt: skip
    return st.lists(st.one_of(ENTERPRISE_LEAF, *nested), min_size=1, max_size=4).map(
        lambda parts: "creditCode park " + " ".join(f"a{n}: {p}" for n, p in enumerate(parts))
    )


def organization_selection(depth: int) -> st.SearchStrategy[str]:
    nested = []
    if depth > 0:
        inner = organization_selection(depth - 1)
        nested = [
            st.builds(lambda s: f"covers {{ {s} }}", enterprise_selection(depth - 1)),
            st.builds(lambda s: f"children {{ {s} }}", inner),
            st.builds(lambda s: f"parent {{ {s} }}", inner),
            st.just("links { sourceId targetId }"),
            st.just("members { formal probationary }"),
            st.just("history { covers { creditCode } parents { parentId } }"),
        ]
    return st.lists(st.one_of(ORG_LEAF, *nested), min_size=1, max_size=4).map(
        lambda parts: "id " + " ".join(f"o{n}: {p}" for n, p in enumerate(parts))
    )


SCOPES = st.fixed_dictionaries(
    {},
    optional={"park": st.sampled_from(["A", "B"]), "chain": st.sampled_from(["互联网", "软件"]),
              "category": st.sampled_from(["GAMES", "DATA", "NEWS", "FINANCE"])},
)  # fmt: skip
ROOTS = st.one_of(
    st.builds(
        lambda s, f: (
            "enterprises",
            (f"enterprises(filter: {{scope: $scope}}, first: {f}) {{ totalCount nodes {{ {s} }} }}"),
        ),
        enterprise_selection(2),
        st.integers(1, 10),
    ),
    st.builds(
        lambda s: ("organizations", f"organizations(first: 20) {{ totalCount nodes {{ {s} }} }}"),
        organization_selection(2),
    ),
    st.just(("coverage", "coverage(scope: $scope) { enterprises organizationCovered workCovered }")),
    st.sampled_from(["PARK", "CHAIN", "CLUSTER", "CATEGORY"]).map(
        lambda by: ("coverageBy", f"coverageBy(by: {by}, scope: $scope) {{ key coverage {{ enterprises }} }}")
    ),
    st.builds(
        lambda i, s: ("organization", f'organization(id: "{i}") {{ {s} }}'),
        st.sampled_from(["P", "C1", "C2", "B1", "J1", "B2"]),
        organization_selection(2),
    ),
    st.just(("findings", "compliance(scope: $scope) { findings(first: 100) { totalCount nodes { subjectId } } }")),
)


def walk(value: object) -> Iterator[tuple[str, object]]:
    """Every (key, value) pair in a JSON answer, at any depth."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield key, item
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)


def matches(enterprise: Enterprise, scope: dict[str, str]) -> bool:
    return all(getattr(enterprise, field) == value for field, value in scope.items())


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(park=st.sampled_from(PARKS), roots=st.lists(ROOTS, min_size=1, max_size=3), scope=SCOPES)
def test_random_queries_stay_inside_the_scope_and_count_right(
    scoped: tuple[LiveServer, dict[str, str]],
    hand_dataset: Dataset,
    park: str,
    roots: list[tuple[str, str]],
    scope: dict[str, str],
) -> None:
    server, tokens = scoped
    body = " ".join(f"r{n}: {text}" for n, (_, text) in enumerate(roots))
    declared = "($scope: ScopeInput)" if "$scope" in body else ""
    answer = server.ask(f"query Q{declared} {{ {body} }}", tokens[park], {"scope": scope} if declared else {})
    world_chains = {e.chain for e in inside(hand_dataset, park)}
    absent = {"park": scope.get("park", park) != park, "chain": scope.get("chain") not in world_chains | {None}}
    absent = {k: gone and bool(declared) for k, gone in absent.items()}
    assume(not any(e["extensions"]["code"] == "QUERY_TOO_COMPLEX" for e in answer.get("errors", [])))
    if "errors" in answer:  # a scope naming a park or chain outside: not there, as an unknown one
        assert any(absent.values()), answer
        unknown = server.ask("query Q($scope: ScopeInput) { coverage(scope: $scope) { enterprises } }", tokens[park],
                             {"scope": {"park": "无此园区"}})  # fmt: skip
        for error in answer["errors"]:
            assert error["extensions"]["code"] == "NOT_FOUND"
            named = next(scope[k] for k, gone in absent.items() if gone and scope[k] in error["message"])
            expected = unknown["errors"][0]["message"].replace("无此园区", named)
            assert error["message"] in (expected, expected.replace("park", "chain")), error
        return
    codes_inside = {e.credit_code for e in inside(hand_dataset, park)}
    every_code = {e.credit_code for e in hand_dataset.enterprises.records(range(len(hand_dataset.enterprises)))}
    organizations = world_organizations(hand_dataset, park)
    for key, value in walk(answer["data"]):
        if key in ("creditCode", "subjectId", "sourceId", "targetId") and value in every_code:
            assert value in codes_inside, (key, value)
        if key == "park":
            assert value == park
        if key in ("id", "parentId", "subjectId", "sourceId", "targetId") and isinstance(value, str):
            assert value in organizations | codes_inside | {"D1"}, (key, value)
    chosen = [e for e in inside(hand_dataset, park) if matches(e, scope)]
    active = [e for e in chosen if e.status is Status.ACTIVE and (e.registered_on is None or e.registered_on <= TODAY)]
    for n, (root, _) in enumerate(roots):
        found = answer["data"][f"r{n}"]
        if root == "enterprises":
            assert found["totalCount"] == len(chosen)
        elif root == "organizations":
            assert found["totalCount"] == len(organizations)
        elif root == "coverage":
            assert found["enterprises"] == len(active)
        elif root == "coverageBy":
            assert sum(group["coverage"]["enterprises"] for group in found) == len(active)
        elif root == "findings":
            assert found["findings"]["totalCount"] == len(found["findings"]["nodes"])


def test_the_brute_force_worlds_leave_records_out(hand_dataset: Dataset) -> None:
    """The oracle above would prove little if a park's world held every record."""
    assert all(len(inside(hand_dataset, park)) < len(hand_dataset.enterprises) for park in PARKS)
    assert world_organizations(hand_dataset, "B") < {o.id for o in hand_dataset.organizations}
