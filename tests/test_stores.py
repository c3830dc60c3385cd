import asyncio
import inspect
import itertools
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from arcadedb import ArcadeDB
from graph.access import Boundary
from graph.changes import (
    AddLink,
    AssignInstructor,
    Change,
    CoverEnterprises,
    CreateOrganization,
    DissolveOrganization,
    EndLink,
    MoveOrganization,
    Receipt,
    RegisterEnterprise,
    SetOrganizationDetails,
    UncoverEnterprises,
    UpdateEnterprise,
    UpgradeOrganization,
)
from graph.charts.tree import MAX_DEPTH
from graph.compliance import DEFAULT_RULES, RuleConfig
from graph.dataset import Dataset
from graph.durable import create_state
from graph.errors import ChainorgError, NotFound
from graph.model import Category, Enterprise, Link, LinkKind, Members, Organization, OrgKind, Status
from graph.query import (
    CoverageState,
    EnterpriseFilter,
    GroupBy,
    OrganizationFilter,
    OrganizationGrouping,
    OrganizationOrder,
    Scope,
)
from graph.rules import clock
from graph.stores.answers import Proximity
from graph.stores.cypher import CypherStore, queries
from graph.stores.cypher.address import store_address
from graph.stores.cypher.connection import Connection
from graph.stores.cypher.load import load_dataset
from graph.stores.cypher.store import GRAPH_SECONDS
from graph.stores.networkx import NetworkxStore
from graph.stores.networkx.state import State
from graph.stores.protocol import OrgStore
from loaders import DEMO_DAY
from loaders.demo import demo_dataset
from tests.conftest import GRAPH_PASSWORD, GraphOf, contents
from tests.conftest import credit_code as c

pytestmark = pytest.mark.anyio


def ids(records: list) -> list[str]:
    return [getattr(r, "id", None) or r.credit_code for r in records]


PROTOCOL = [name for name, member in vars(OrgStore).items() if inspect.isfunction(member) and not name.startswith("_")]


@pytest.mark.parametrize("store", [NetworkxStore, CypherStore])
@pytest.mark.parametrize("name", PROTOCOL)
def test_every_store_method_is_a_coroutine_with_the_protocols_signature(store: type, name: str) -> None:
    implemented = getattr(store, name)
    assert inspect.iscoroutinefunction(implemented)
    assert (
        inspect.signature(implemented).parameters.keys() == inspect.signature(getattr(OrgStore, name)).parameters.keys()
    )


async def test_work_that_grows_with_the_data_runs_off_the_event_loop(
    hand_store: NetworkxStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a slow grouping runs in its worker thread, the loop still answers a cheap call."""
    started = threading.Event()
    real = hand_store.index.coverage_by

    def slow(*args: object) -> object:
        started.set()
        time.sleep(0.5)
        return real(*args)

    monkeypatch.setattr(hand_store.index, "coverage_by", slow)
    heavy = asyncio.create_task(hand_store.coverage_by(GroupBy.BUILDING, Scope()))
    while not started.is_set():
        await asyncio.sleep(0.005)
    assert [p.name for p in await hand_store.parks()] == ["A", "B"]
    assert not heavy.done()  # answered while the grouping still sleeps in its thread
    assert {g.key for g in await heavy} == {"X", "Y", "Z"}


async def test_batch_lookups_answer_in_key_order_with_none_for_unknown(any_hand_store: OrgStore) -> None:
    assert [o and o.id for o in await any_hand_store.organizations(["J1", "nope", "P"])] == ["J1", None, "P"]
    assert [e and e.name for e in await any_hand_store.enterprises([c(2), c(99)])] == ["企业2", None]


async def test_relations(any_hand_store: OrgStore) -> None:
    assert [ids(children) for children in await any_hand_store.children(["P", "C1", "B1", "nope"])] == [
        ["C1", "C2"], ["B1", "J1"], [], [],
    ]  # fmt: skip
    assert [ids(found) for found in await any_hand_store.covered(["J1", "C1"])] == [[c(2), c(3)], []]
    assert [ids(found) for found in await any_hand_store.covering([c(1), c(5)])] == [["B1"], []]
    assert [ids(found) for found in await any_hand_store.instructors([c(6), c(1)])] == [["I1"], []]


async def test_clusters_declared_or_through_the_covering_organization(any_hand_store: OrgStore) -> None:
    # 4 and 5 declare theirs; 2 is covered by J1 in C1; 7 by B2 in C2; 8 has neither
    clusters = await any_hand_store.clusters([c(4), c(5), c(2), c(7), c(8)])
    assert [cluster and cluster.id for cluster in clusters] == ["C1", "C2", "C1", "C2", None]


async def test_members_count_the_active_enterprises_of_a_subtree(any_hand_store: OrgStore) -> None:
    # C1 covers 1 (5) through B1 and 2 (1), 3 (2) through J1; B2's zombie 6 does not count
    assert await any_hand_store.members(["C1", "J1", "B2", "P", "nope"]) == [
        Members(8), Members(3), Members(4), Members(12), Members(0),
    ]  # fmt: skip


async def test_links_touch_both_ends(any_hand_store: OrgStore) -> None:
    pairing = Link("D1", "J1", LinkKind.PAIRING, date(2020, 7, 1))
    co_build = Link("B1", "B2", LinkKind.CHAIN_CO_BUILD, None)
    assert await any_hand_store.links(["J1", "B2", "D1", "C1", "nope"]) == [[pairing], [co_build], [pairing], [], []]


async def test_coverage_states(any_hand_store: OrgStore) -> None:
    codes = [c(1), c(2), c(4), c(5), c(7)]
    assert await any_hand_store.coverage_states(codes) == [
        CoverageState.ORGANIZATION, CoverageState.ORGANIZATION, CoverageState.WORK, CoverageState.NONE,
        CoverageState.ORGANIZATION,
    ]  # fmt: skip
    assert (await any_hand_store.coverage_states(codes, date(2020, 1, 31)))[:3] == [
        CoverageState.ORGANIZATION, CoverageState.NONE, CoverageState.NONE,
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (EnterpriseFilter(), list(range(1, 9))),
        (EnterpriseFilter(scope=Scope(park="A", building="Y")), [4, 5]),
        (EnterpriseFilter(status=Status.ACTIVE, scope=Scope(park="B")), [7]),
        (EnterpriseFilter(coverage=CoverageState.NONE), [5, 8]),
        (EnterpriseFilter(coverage=CoverageState.WORK), [4]),
        (EnterpriseFilter(min_formal_members=3), [1, 5, 7]),
        (EnterpriseFilter(name_contains="业7"), [7]),
    ],
)
async def test_find_enterprises(any_hand_store: OrgStore, where: EnterpriseFilter, expected: list[int]) -> None:
    page = await any_hand_store.find_enterprises(where, 0, 100)
    assert ids(page.items) == [c(n) for n in expected]
    assert page.total == len(expected)


async def test_pages_of_enterprises(any_hand_store: OrgStore) -> None:
    pages = [await any_hand_store.find_enterprises(EnterpriseFilter(), offset, 3) for offset in (0, 3, 6)]
    assert [ids(p.items) for p in pages] == [[c(1), c(2), c(3)], [c(4), c(5), c(6)], [c(7), c(8)]]
    assert [(p.total, p.has_next) for p in pages] == [(8, True), (8, True), (8, False)]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (OrganizationFilter(kinds=frozenset({OrgKind.BRANCH, OrgKind.JOINT_BRANCH})), ["B1", "J1", "B2"]),
        (OrganizationFilter(parent_id="C1"), ["B1", "J1"]),
        (OrganizationFilter(name_contains="联合"), ["J1"]),
        (OrganizationFilter(term_ends_before=date(2030, 1, 1)), []),
    ],
)
async def test_find_organizations(any_hand_store: OrgStore, where: OrganizationFilter, expected: list[str]) -> None:
    assert ids((await any_hand_store.find_organizations(where, 0, 50)).items) == expected


async def test_terms_ending_soon_on_the_demo(demo_store: NetworkxStore) -> None:
    soon = await demo_store.find_organizations(OrganizationFilter(term_ends_before=date(2021, 12, 31)), 0, 500)
    assert soon.total > 0
    assert all(date(2021, 7, 31) < org.term_ends_on <= date(2021, 12, 31) for org in soon.items)


async def test_parks_buildings_chains(any_hand_store: OrgStore) -> None:
    assert [p.name for p in await any_hand_store.parks()] == ["A", "B"]
    found = await any_hand_store.buildings(["A", "B", "nowhere"])
    assert [[(b.park, b.name) for b in buildings] for buildings in found] == [
        [("A", "X"), ("A", "Y")],
        [("B", "Z")],
        [],
    ]
    assert await any_hand_store.chains() == ["互联网", "软件"]


async def test_summary_counts_every_kind(any_hand_store: OrgStore) -> None:
    summary = await any_hand_store.summary()
    assert (summary["enterprises"], summary["organizations"], summary["covers"], summary["assignments"]) == (8, 6, 5, 3)
    assert summary["organizations.CLUSTER"] == 2


async def test_organization_tree_figures_as_of_a_date(any_hand_store: OrgStore) -> None:
    tree = await any_hand_store.organization_tree("P", 2, date(2021, 7, 31), links=True)
    found = {item.id: item for item in tree.organizations}
    assert [item.id for item in tree.organizations] == ["P", "C1", "C2", "B1", "J1", "B2"]
    assert [found[i].level for i in ("P", "C1", "B2")] == [0, 1, 2]
    assert {i: found[i].members.total for i in found} == {"P": 12, "C1": 8, "C2": 4, "B1": 5, "J1": 3, "B2": 4}
    assert (found["B2"].units, found["B2"].inactive_units) == (1, 1)  # enterprise 6 is a zombie
    assert found["J1"].enterprises == ("企业2", "企业3") and found["B1"].enterprises == ()
    assert {i: found[i].suborganizations for i in ("P", "C1", "C2", "B1")} == {"P": 2, "C1": 2, "C2": 1, "B1": 0}
    by_cluster = {
        g.key: g.coverage for g in await any_hand_store.coverage_by(GroupBy.CLUSTER, Scope(), date(2021, 7, 31))
    }
    assert found["C1"].coverage == by_cluster["C1"] and found["P"].coverage == by_cluster["C1"] + by_cluster["C2"]
    assert found["B1"].coverage is None
    assert set(tree.links) == {
        Link("D1", "J1", LinkKind.PAIRING, date(2020, 7, 1)),
        Link("B1", "B2", LinkKind.CHAIN_CO_BUILD),
    }
    assert tree.names == {"D1": "党群工作局"}


async def test_organization_tree_leaves_out_what_did_not_exist_yet(any_hand_store: OrgStore) -> None:
    before = await any_hand_store.organization_tree("C1", 3, date(2020, 5, 31))
    assert [item.id for item in before.organizations] == ["C1", "B1"]  # J1 was established on 2020-06-01
    tree = await any_hand_store.organization_tree("C1", 3, date(2020, 6, 15), links=True)
    assert [item.id for item in tree.organizations] == ["C1", "B1", "J1"]
    assert tree.links == (Link("B1", "B2", LinkKind.CHAIN_CO_BUILD),)  # the pairing with D1 starts 2020-07-01
    assert tree.names == {"B2": "企业7党支部"}  # an organization outside the tree is named too


async def test_organization_tree_depth_and_unknown_roots(any_hand_store: OrgStore) -> None:
    assert [item.id for item in (await any_hand_store.organization_tree("P", 0)).organizations] == ["P"]
    with pytest.raises(NotFound, match="no organization has the id 'X'"):
        await any_hand_store.organization_tree("X", 2)
    with pytest.raises(NotFound, match="established on 2020-06-01, after 2020-01-01"):
        await any_hand_store.organization_tree("J1", 2, date(2020, 1, 1))


async def test_a_store_over_a_ledger_keeps_no_changes(hand_store: NetworkxStore) -> None:
    from graph.changes import SetOrganizationDetails
    from graph.errors import ReadOnly

    with pytest.raises(ReadOnly, match="chainorg serve --state DIR"):
        await hand_store.apply([SetOrganizationDetails("B1", stars=1)], "anonymous")


# -- the same answers from both stores over the demo -------------------------------------


@pytest.fixture(scope="module")
def demo_embedded() -> NetworkxStore:
    return NetworkxStore(demo_dataset(), clock(DEMO_DAY))


@pytest.fixture
async def demo_graph(graph_of: GraphOf) -> AsyncIterator[CypherStore]:
    store = await CypherStore.open(await graph_of("demo", demo_dataset(), DEMO_DAY))
    yield store
    await store.close()


async def answers(store: OrgStore, method: str, *args: object) -> object:
    """What a store answers, or the error it raises (its class and message)."""
    try:
        return await getattr(store, method)(*args)
    except ChainorgError as error:
        return type(error).__name__, str(error)


def demo_scopes(store: NetworkxStore) -> list[Scope]:
    dataset = store.dataset
    clusters = [o for o in dataset.organizations if o.kind is OrgKind.CLUSTER]
    building = store.table.buildings()[0][1]
    return [
        Scope(), *(Scope(park=park) for park in store.table.park.keys if park), Scope(cluster=clusters[0].id),
        Scope(cluster=clusters[1].name), Scope(building=building), *(Scope(category=k) for k in Category),
        Scope(park="无此园区"), Scope(cluster="') DETACH DELETE n //"), Scope(chain=r"x\'\"y"),
    ]  # fmt: skip


async def test_coverage_is_the_same_from_both_stores(demo_embedded: NetworkxStore, demo_graph: CypherStore) -> None:
    days = [date(2019, 12, 31), date(2020, 7, 1), DEMO_DAY, date(2030, 1, 1)]
    for scope in demo_scopes(demo_embedded):
        assert await answers(demo_graph, "coverage", scope) == await answers(demo_embedded, "coverage", scope), scope
        trend = await answers(demo_graph, "coverage_trend", scope, days)
        assert trend == await answers(demo_embedded, "coverage_trend", scope, days), scope
        for by in GroupBy:
            asked = ("coverage_by", by, scope, date(2020, 7, 1))
            assert await answers(demo_graph, *asked) == await answers(demo_embedded, *asked), (scope, by)


@pytest.mark.parametrize(
    "where",
    [
        EnterpriseFilter(), EnterpriseFilter(coverage=CoverageState.ORGANIZATION), EnterpriseFilter(coverage=CoverageState.WORK),
        EnterpriseFilter(coverage=CoverageState.NONE, scope=Scope(park="麓谷")), EnterpriseFilter(status=Status.ZOMBIE),
        EnterpriseFilter(name_contains="科技", key=True), EnterpriseFilter(above_scale=True, min_formal_members=3),
        EnterpriseFilter(scope=Scope(category=Category.FINANCE), coverage=CoverageState.NONE),
    ],
)  # fmt: skip
async def test_pages_of_enterprises_are_the_same_from_both_stores(
    demo_embedded: NetworkxStore, demo_graph: CypherStore, where: EnterpriseFilter
) -> None:
    for offset, limit in ((0, 100), (150, 7), (10**6, 10)):
        asked = ("find_enterprises", where, offset, limit)
        assert await answers(demo_graph, *asked) == await answers(demo_embedded, *asked), (offset, limit)


async def test_lookups_are_the_same_from_both_stores(demo_embedded: NetworkxStore, demo_graph: CypherStore) -> None:
    dataset = demo_embedded.dataset
    codes = [*(c.credit_code for c in dataset.covers[:60]), *(a.credit_code for a in dataset.assignments[:40]),
             *np.char.decode(demo_embedded.table.codes[:40], "ascii").tolist(), "91430100MA4L0000X0"]  # fmt: skip
    ids = [*(o.id for o in dataset.organizations), *(d.id for d in dataset.departments), "无此组织"]
    for method, keys in [
        ("enterprises", codes), ("covering", codes), ("clusters", codes), ("instructors", codes),
        ("coverage_states", codes), ("links", codes), ("organizations", ids), ("children", ids), ("covered", ids),
        ("members", ids), ("links", ids), ("departments", ids), ("histories", ids),
    ]:  # fmt: skip
        assert await answers(demo_graph, method, keys) == await answers(demo_embedded, method, keys), method
    assert await demo_graph.summary() == await demo_embedded.summary()
    assert await demo_graph.parks() == await demo_embedded.parks()
    assert await demo_graph.chains() == await demo_embedded.chains()
    parks = [p.name for p in await demo_embedded.parks()]
    assert await demo_graph.buildings(parks) == await demo_embedded.buildings(parks)


@pytest.mark.parametrize("order", list(OrganizationOrder))
async def test_lists_of_organizations_are_the_same_from_both_stores(
    demo_embedded: NetworkxStore, demo_graph: CypherStore, order: OrganizationOrder
) -> None:
    for where in [
        OrganizationFilter(), OrganizationFilter(kinds=frozenset({OrgKind.BRANCH, OrgKind.JOINT_BRANCH})),
        OrganizationFilter(scope=Scope(park="麓谷"), min_stars=3), OrganizationFilter(name_contains="联合", term_ends_after=DEMO_DAY),
        OrganizationFilter(parent_id=demo_embedded.dataset.organizations[0].id),
    ]:  # fmt: skip
        asked = ("find_organizations", where, 5, 20, order)
        assert await answers(demo_graph, *asked) == await answers(demo_embedded, *asked), where


# -- over a graph with a past: moves (one back again), an upgrade, a dissolution ----------

HISTORY = [
    MoveOrganization("YDHL-0006", "YDHL-LZ05", date(2020, 9, 1)),
    MoveOrganization("YDHL-0006", "YDHL-LZ02", date(2021, 3, 1)),
    MoveOrganization("YDHL-0012", "YDHL-LZ03", date(2021, 1, 10)),
    UpgradeOrganization("YDHL-0009", OrgKind.GENERAL_BRANCH, date(2021, 2, 1)),
    DissolveOrganization("YDHL-0025", date(2021, 5, 1)),
]
HISTORY_DAYS = [date(2020, 1, 1), date(2020, 10, 1), date(2021, 2, 15), date(2021, 4, 1), DEMO_DAY]


@pytest.fixture(scope="module")
def history_dataset(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    """The demo after HISTORY, applied through a state: past parents and upgrades to answer from."""
    folder = tmp_path_factory.mktemp("history") / "state"
    create_state(folder, demo_dataset(), DEMO_DAY)
    state = State(folder, clock(DEMO_DAY))
    try:
        for change in HISTORY:
            asyncio.run(state.apply([change], "planner"))
        dataset = state.store().dataset
    finally:
        state.close()
    assert (len(dataset.past_parents), len(dataset.upgrades)) == (3, 1)
    return dataset


@pytest.fixture
async def history_stores(
    history_dataset: Dataset, graph_of: GraphOf
) -> AsyncIterator[tuple[NetworkxStore, CypherStore]]:
    graph = await CypherStore.open(await graph_of("history", history_dataset, DEMO_DAY))
    yield NetworkxStore(history_dataset, clock(DEMO_DAY)), graph
    await graph.close()


@pytest.mark.parametrize("depth", [1, MAX_DEPTH])
async def test_org_trees_are_the_same_from_both_stores(
    history_stores: tuple[NetworkxStore, CypherStore], depth: int
) -> None:
    """Every organization's tree on days before, between and after the moves, with links."""
    embedded, graph = history_stores
    roots = [org.id for org in embedded.dataset.organizations] + ["无此组织", "') DETACH DELETE n //"]
    for day in HISTORY_DAYS:
        for root in roots if day == DEMO_DAY else roots[::5]:
            asked = ("organization_tree", root, depth, day, True)
            assert await answers(graph, *asked) == await answers(embedded, *asked), (root, day)
    moved = await graph.organization_tree("YDHL-LZ05", 1, date(2020, 10, 1))
    assert "YDHL-0006" in [item.id for item in moved.organizations]  # the move is seen in its span only
    upgraded = await graph.organization_tree("YDHL-0009", 0, date(2021, 1, 1))
    assert upgraded.root.organization.kind is OrgKind.BRANCH


async def test_members_and_children_after_moves_are_the_same_from_both_stores(
    history_stores: tuple[NetworkxStore, CypherStore],
) -> None:
    embedded, graph = history_stores
    keys = [org.id for org in embedded.dataset.organizations]
    for method in ("members", "children", "organizations", "histories"):
        assert await answers(graph, method, keys) == await answers(embedded, method, keys), method
    for day in HISTORY_DAYS:
        asked = ("coverage_by", GroupBy.CLUSTER, Scope(), day)
        assert await answers(graph, *asked) == await answers(embedded, *asked), day


async def test_organization_counts_and_alliances_are_the_same_from_both_stores(
    history_stores: tuple[NetworkxStore, CypherStore],
) -> None:
    embedded, graph = history_stores
    for day in HISTORY_DAYS:
        for scope in demo_scopes(embedded)[:: 1 if day == DEMO_DAY else 3]:
            for asked in [("organization_counts", by, scope, day) for by in OrganizationGrouping] + [
                ("alliances", scope, day)
            ]:
                assert await answers(graph, *asked) == await answers(embedded, *asked), (asked, day)
    [alliance] = await graph.alliances(Scope(), DEMO_DAY)  # the demo's 14 members but the one dissolved
    assert (alliance.lead is not None, len(alliance.members), "YDHL-0025" in ids(alliance.members)) == (True, 13, False)
    days = [date(2021, 1, 31), date(2021, 2, 1)]  # the upgrade's eve and day
    before, after = [{c.key: c.count for c in await graph.organization_counts(OrganizationGrouping.KIND, Scope(), day)}
                     for day in days]  # fmt: skip
    assert after["GENERAL_BRANCH"] == before["GENERAL_BRANCH"] + 1


RULE_CONFIGS = [
    DEFAULT_RULES,
    RuleConfig.from_mapping({"MUST_BUILD": {"min_formal_members": 1, "min_employees": 10, "above_scale": False},
                             "UNCOVERED_JOINABLE": {"max_formal_members": 5}, "JOINT_TOO_WIDE": {"max_units": 1},
                             "OVERSIZE_BRANCH": {"max_members": 3}, "TERM_ENDING": {"within_days": 400}}),
    RuleConfig.from_mapping({"MUST_BUILD": {"enabled": False}, "ORPHAN": {"severity": "ERROR"}}),
]  # fmt: skip


@pytest.mark.parametrize("rules", RULE_CONFIGS, ids=["default", "strict", "some-off"])
async def test_compliance_is_the_same_from_both_stores(
    history_stores: tuple[NetworkxStore, CypherStore], rules: RuleConfig
) -> None:
    """Counts, pages, findings by subject and by group, over a graph with a past, on days around its changes."""
    embedded, graph = history_stores
    subjects = [org.id for org in embedded.dataset.organizations]
    subjects += np.char.decode(embedded.table.codes[::7], "ascii").tolist() + ["无此企业"]
    for day in HISTORY_DAYS if rules is DEFAULT_RULES else [date(2021, 2, 15), DEMO_DAY]:
        for scope in demo_scopes(embedded)[:: 4 if day != DEMO_DAY else 1]:
            for asked in [("compliance", scope, day, rules), ("findings", scope, day, rules, 0, 15),
                          ("findings", scope, day, rules, 40, 300)]:  # fmt: skip
                assert await answers(graph, *asked) == await answers(embedded, *asked), (asked, day)
        asked = ("findings_about", subjects, day, rules)
        assert await answers(graph, *asked) == await answers(embedded, *asked), day
    for by in GroupBy:
        for scope in (Scope(), Scope(park="麓谷")):
            asked = ("compliance_by", by, scope, DEMO_DAY, rules)
            assert await answers(graph, *asked) == await answers(embedded, *asked), (by, scope)
    if rules is not DEFAULT_RULES:
        return
    whole = await graph.findings(Scope(), DEMO_DAY, rules, 0, 100_000)
    pieces = [(await graph.findings(Scope(), DEMO_DAY, rules, n, 97)).items for n in range(0, whole.total, 97)]
    assert [f for piece in pieces for f in piece] == whole.items and whole.total > 100


async def test_pairing_is_the_same_from_both_stores(history_stores: tuple[NetworkxStore, CypherStore]) -> None:
    """Links in effect by kind and scope, unpaired key enterprises page by page, and the department pairing."""
    embedded, graph = history_stores
    for scope in demo_scopes(embedded):
        for kinds in [
            frozenset(LinkKind),
            frozenset({LinkKind.PAIRING}),
            frozenset({LinkKind.CHAIN_CO_BUILD, LinkKind.SUPPLY}),
        ]:
            asked = ("pairings", scope, kinds)
            assert await answers(graph, *asked) == await answers(embedded, *asked), asked
        for asked in [("unpaired_key_enterprises", scope, 0, 10), ("unpaired_key_enterprises", scope, 7, 1000),
                      ("pair_departments", scope, False), ("pair_departments", scope, True)]:  # fmt: skip
            assert await answers(graph, *asked) == await answers(embedded, *asked), asked
    paired = await graph.pairings(Scope(), frozenset({LinkKind.PAIRING}))
    unpaired = await graph.unpaired_key_enterprises(Scope(), 0, 10)
    assert paired and 0 < unpaired.total < (await graph.summary())["enterprises"]


@pytest.mark.parametrize("proximity", list(Proximity))
async def test_planner_candidates_are_the_same_from_both_stores(
    history_stores: tuple[NetworkxStore, CypherStore], proximity: Proximity
) -> None:
    embedded, graph = history_stores
    for scope in demo_scopes(embedded):
        for max_formal in (3, 1, 0):
            asked = ("candidates", scope, proximity, max_formal)
            assert await answers(graph, *asked) == await answers(embedded, *asked), asked
    found = await graph.candidates(Scope(), proximity, 3)
    assert len(found.credit_codes) > 100 and any(found.worked)


async def test_pairing_suggestions_gather_the_same_neighbourhood_from_both_stores(
    history_stores: tuple[NetworkxStore, CypherStore],
) -> None:
    """For uncovered enterprises, covered ones (refused) and an unknown code."""
    embedded, graph = history_stores
    codes = np.char.decode(embedded.table.codes[::293], "ascii").tolist() + ["91430100MA4L0000X0"]
    for code in codes:
        for max_formal in (3, 50):
            asked = ("neighbourhood", code, max_formal)
            assert await answers(graph, *asked) == await answers(embedded, *asked), asked
    found = [await answers(graph, "neighbourhood", code, 3) for code in codes]
    near = [n for n in found if not isinstance(n, tuple)]
    assert near and any(n.joint_branches for n in near) and any(n.neighbours for n in near)


def simulated_change_sets(store: NetworkxStore, free: list[str]) -> dict[str, list[Change]]:
    """Change sets of every kind over the history graph, good ones and ones a write refuses."""
    dataset = store.dataset
    orgs = {o.id: o for o in dataset.organizations}
    branch = next(o for o in dataset.organizations if o.kind is OrgKind.BRANCH and o.dissolved_on is None)
    joint = next(o for o in dataset.organizations if o.kind is OrgKind.JOINT_BRANCH and o.dissolved_on is None)
    clusters = [o for o in dataset.organizations if o.kind is OrgKind.CLUSTER]
    other = next(c for c in clusters if c.id != branch.parent_id)
    covered = next(c for c in dataset.covers if c.org_id == joint.id and c.until is None).credit_code
    link = next(link for link in dataset.links if link.until is None and link.source_id in orgs)
    new = Organization("SIM-J1", "模拟联合党支部", OrgKind.JOINT_BRANCH, parent_id=clusters[0].id)
    later = date(DEMO_DAY.year + 1, 1, 1)
    return {
        "new joint branch": [CreateOrganization(new), CoverEnterprises("SIM-J1", tuple(free[:4]))],
        "uncover": [UncoverEnterprises(joint.id, (covered,))],
        "dissolve": [DissolveOrganization(joint.id)],
        "move": [MoveOrganization(branch.id, other.id)],
        "move a moved one back": [MoveOrganization("YDHL-0006", "YDHL-LZ05")],
        "move a cluster": [MoveOrganization(clusters[0].id, "GXQ")],
        "upgrade and details": [
            UpgradeOrganization(branch.id, OrgKind.GENERAL_BRANCH),
            SetOrganizationDetails(joint.id, term_ends_on=later),
        ],
        "enterprise closes": [UpdateEnterprise(covered, status=Status.CLOSED, status_on=DEMO_DAY)],
        "members grow": [UpdateEnterprise(free[4], formal_members=40, employees=80, cluster_id=other.id)],
        "register and cover": [
            RegisterEnterprise(Enterprise("91430100MA4L9999XC", "模拟企业", "长沙高新区", formal_members=5)),
            CoverEnterprises(joint.id, ("91430100ma4l9999xc",)),
        ],
        "instructor": [AssignInstructor("SIM-I", free[5], name="王五"), AssignInstructor("ZDY-01", free[6])],
        "joins a joint branch": [CoverEnterprises(joint.id, (free[6],))],
        "links": [EndLink(link.source_id, link.target_id, link.kind), AddLink("BM-DQ", free[0], LinkKind.PAIRING)],
        "later": [DissolveOrganization(branch.id, later), CoverEnterprises(joint.id, (free[1],), later)],
        # refused, with the same code and message
        "dissolve a cluster": [DissolveOrganization(clusters[1].id)],
        "taken id": [CreateOrganization(Organization(covered, "重名", OrgKind.BRANCH, parent_id=other.id))],
        "a department's id": [CreateOrganization(Organization("BM-DQ", "重名", OrgKind.BRANCH, parent_id=other.id))],
        "covered already": [CoverEnterprises(joint.id, (covered,))],
        "not covered": [UncoverEnterprises(joint.id, (free[0],))],
        "wrong parent": [MoveOrganization(branch.id, joint.id)],
        "unknown": [SetOrganizationDetails("无此组织", stars=1)],
        "no such link": [EndLink("BM-DQ", free[0], LinkKind.PAIRING)],
        "another name": [AssignInstructor("ZDY-01", free[2], name="别人")],
        "a dissolved one": [CoverEnterprises("YDHL-0025", (free[3],))],
    }


@pytest.mark.parametrize("scope", [Scope(), Scope(park="长沙高新区"), Scope(cluster="YDHL-LZ02")])
async def test_simulations_are_the_same_from_both_stores(
    history_stores: tuple[NetworkxStore, CypherStore], scope: Scope
) -> None:
    """Every kind of change, on today and a later day, answered or refused alike."""
    embedded, graph = history_stores
    page = await embedded.find_enterprises(EnterpriseFilter(status=Status.ACTIVE, coverage=CoverageState.NONE), 0, 7)
    free = [e.credit_code for e in page.items]
    refused = 0
    for case, changes in simulated_change_sets(embedded, free).items():
        for day in (None, date(DEMO_DAY.year + 2, 1, 1)):
            asked = ("simulate", changes, scope, day, DEFAULT_RULES)
            found = await answers(graph, *asked)
            assert found == await answers(embedded, *asked), (case, day)
            refused += isinstance(found, tuple)
    assert refused >= 20


# -- a token limited to parks or chains: its world, enforced by the database -------------


@pytest.fixture(scope="module")
def split_dataset(history_dataset: Dataset) -> Dataset:
    """The history graph with its enterprises spread over two parks and two chains (some in
    none), so a boundary leaves some out and organizations reach both sides."""
    table = history_dataset.enterprises
    moved = [
        replace(
            e,
            park="岳麓园区" if row % 2 else e.park,
            chain=None if row % 7 == 0 else "软件" if row % 3 == 0 else e.chain,
        )
        for row, e in enumerate(table.records(range(len(table))))
    ]
    return replace(history_dataset, enterprises=table.updated(moved))


BOUNDARIES = [
    Boundary.of(parks=["岳麓园区"]),
    Boundary.of(chains=["软件"]),
    Boundary.of(parks=["长沙高新区"], chains=["移动互联网"]),
    Boundary.of(parks=["岳麓园区"], chains=["软件", "移动互联网"]),
    Boundary.of(parks=["无此园区"]),
]


@pytest.fixture(params=BOUNDARIES, ids=lambda b: b.describe())
async def bounded_stores(
    request: pytest.FixtureRequest, split_dataset: Dataset, graph_of: GraphOf
) -> AsyncIterator[tuple[OrgStore, OrgStore]]:
    graph = await CypherStore.open(await graph_of("split", split_dataset, DEMO_DAY))
    embedded = NetworkxStore(split_dataset, clock(DEMO_DAY))
    yield await embedded.within(request.param), await graph.within(request.param)
    await graph.close()


def questions(dataset: Dataset) -> list[tuple[object, ...]]:
    """A question of every kind the store answers, about every organization and a sample of
    enterprises (both sides of the boundary), on days around the graph's history."""
    table = dataset.enterprises
    codes = np.char.decode(table.codes[::97], "ascii").tolist() + ["91430100MA4L0000X0"]
    orgs = [o.id for o in dataset.organizations] + ["无此组织"]
    ends = orgs + [d.id for d in dataset.departments] + codes[:20]
    clusters = [o.id for o in dataset.organizations if o.kind is OrgKind.CLUSTER]
    scopes = [Scope(), Scope(park="岳麓园区"), Scope(chain="软件"), Scope(cluster=clusters[0]),
              Scope(cluster=clusters[3]), Scope(category=Category.DATA)]  # fmt: skip
    asked: list[tuple[object, ...]] = [
        ("summary",), ("parks",), ("buildings", ["长沙高新区", "岳麓园区"]), ("chains",),
        ("enterprises", codes), ("organizations", orgs), ("children", orgs), ("covered", orgs),
        ("covering", codes), ("clusters", codes), ("instructors", codes), ("links", ends), ("histories", orgs),
        ("departments", [d.id for d in dataset.departments]), ("members", orgs), ("outside", ends + ["ZDY-01"]),
        ("find_organizations", OrganizationFilter(), 0, 500), ("find_organizations", OrganizationFilter(
            kinds=frozenset({OrgKind.BRANCH}), scope=Scope(park="岳麓园区")), 0, 500),
        ("organization_counts", OrganizationGrouping.KIND, Scope()), ("organization_counts", OrganizationGrouping.MODE,
         Scope(chain="软件")), ("alliances", Scope()), ("pairings", Scope(), frozenset(LinkKind)),
        ("pairings", Scope(park="岳麓园区"), frozenset({LinkKind.PAIRING})), ("unpaired_key_enterprises", Scope(), 0, 50),
        ("pair_departments", Scope()), ("pair_departments", Scope(), True),
        *(("candidates", Scope(), proximity, 50) for proximity in Proximity),
        *(("neighbourhood", code, 50) for code in codes[::5]),
    ]  # fmt: skip
    for day in HISTORY_DAYS[1::2]:
        asked += [("coverage_states", codes, day), ("coverage_trend", Scope(), HISTORY_DAYS)]
        for scope in scopes:
            asked += [
                ("coverage", scope, day),
                *(("coverage_by", by, scope, day) for by in GroupBy),
                ("find_enterprises", EnterpriseFilter(scope=scope, coverage=CoverageState.NONE), 0, 30),
                ("compliance", scope, day, DEFAULT_RULES),
                ("findings", scope, day, DEFAULT_RULES, 0, 400),
                ("compliance_by", GroupBy.CLUSTER, scope, day, DEFAULT_RULES),
            ]
        asked += [("findings_about", orgs + codes, day, DEFAULT_RULES)]
        asked += [("organization_tree", org, MAX_DEPTH, day, True) for org in orgs]
    return asked


async def test_a_bounded_token_gets_the_same_answers_from_both_stores(
    bounded_stores: tuple[OrgStore, OrgStore], split_dataset: Dataset
) -> None:
    """Every question, asked by a token limited to parks or chains, answers the same from the
    graph database as from the embedded store's world (graph.access.world_of)."""
    embedded, graph = bounded_stores
    for question in questions(split_dataset):
        assert await answers(graph, *question) == await answers(embedded, *question), question[:2]


async def test_a_bounded_token_simulates_the_same_over_both_stores(
    bounded_stores: tuple[OrgStore, OrgStore], split_dataset: Dataset
) -> None:
    embedded, graph = bounded_stores
    whole = NetworkxStore(split_dataset, clock(DEMO_DAY))
    page = await whole.find_enterprises(EnterpriseFilter(status=Status.ACTIVE, coverage=CoverageState.NONE), 0, 7)
    for case, changes in simulated_change_sets(whole, [e.credit_code for e in page.items]).items():
        asked = ("simulate", changes, Scope(), None, DEFAULT_RULES)
        assert await answers(graph, *asked) == await answers(embedded, *asked), case


async def test_the_graph_read_back_whole_is_the_dataset_loaded(
    history_stores: tuple[NetworkxStore, CypherStore],
) -> None:
    """What `chainorg export --store` reads: every record, history included, in ledger order."""
    embedded, graph = history_stores
    assert contents(await graph.dataset()) == contents(embedded.dataset)


# -- change sets written into the graph database ------------------------------------------


@pytest.fixture
async def written_stores(
    history_dataset: Dataset, graph_database: ArcadeDB, tmp_path: Path
) -> AsyncIterator[tuple[State, CypherStore]]:
    """The history graph as a state and in a database of its own, each to write into."""
    create_state(tmp_path / "state", history_dataset, DEMO_DAY)
    state = State(tmp_path / "state", clock(DEMO_DAY))
    name = f"writes{next(WRITTEN_DATABASES)}"
    graph_database.create_database(name)
    address = store_address(graph_database.url(name), GRAPH_PASSWORD)
    connection = Connection(address)
    await load_dataset(connection, history_dataset, DEMO_DAY)
    await connection.close()
    graph = await CypherStore.open(address)
    yield state, graph
    await graph.close()
    state.close()


WRITTEN_DATABASES = itertools.count()


def applied_answer(answer: object) -> object:
    """A receipt as both stores give it, but for the moment it was kept."""
    return replace(answer, at=None) if isinstance(answer, Receipt) else answer


async def test_change_sets_are_written_the_same_into_both_stores(written_stores: tuple[State, CypherStore]) -> None:
    """Every kind of change, one set after another, through a state and into the database:
    each accepted or refused alike; after each, the records read back are the state's, and
    at the end every question answers the same, from this store and from a new one."""
    state, graph = written_stores
    first = state.store()
    page = await first.find_enterprises(EnterpriseFilter(status=Status.ACTIVE, coverage=CoverageState.NONE), 0, 7)
    refused = 0
    for case, changes in simulated_change_sets(first, [e.credit_code for e in page.items]).items():
        found = applied_answer(await answers(graph, "apply", changes, "planner"))
        assert found == applied_answer(await answers(state, "apply", changes, "planner")), case
        refused += isinstance(found, tuple)
        assert contents(await graph.dataset()) == contents(state.store().dataset), case
        for scope in (Scope(), Scope(park="长沙高新区")):
            for by in (None, *GroupBy):
                asked = ("coverage", scope, DEMO_DAY) if by is None else ("coverage_by", by, scope, DEMO_DAY)
                assert await answers(graph, *asked) == await answers(state.store(), *asked), (case, asked)
    assert refused >= 10
    embedded = state.store()
    reopened = await CypherStore.open(graph.connection.address)
    try:
        for question in questions(embedded.dataset):
            expected = await answers(embedded, *question)
            assert await answers(graph, *question) == expected, question[:2]
            assert await answers(reopened, *question) == expected, question[:2]
    finally:
        await reopened.close()


async def test_a_question_asked_again_is_answered_without_the_database_until_the_graph_changes(
    written_stores: tuple[State, CypherStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Asked again, a question reads nothing from the database; a change set written through
    another store on the database (another server) is answered within GRAPH_SECONDS, and one
    written through this store at once."""
    _, graph = written_stores
    other = await CypherStore.open(graph.connection.address)
    statements: list[str] = []
    read = graph.connection.read

    async def counted(text: str, **parameters: object) -> list:
        if text != queries.SERVED:  # the graph's counter, read twice a second
            statements.append(text)
        return await read(text, **parameters)

    monkeypatch.setattr(graph.connection, "read", counted)
    try:
        first = await graph.coverage(Scope())
        read_once = len(statements)
        assert await graph.coverage(Scope()) == first and len(statements) == read_once
        [active, closing] = (await graph.find_enterprises(EnterpriseFilter(status=Status.ACTIVE), 0, 2)).items
        await other.apply([UpdateEnterprise(active.credit_code, status=Status.CLOSED, status_on=DEMO_DAY)], "planner")
        await asyncio.sleep(GRAPH_SECONDS + 0.1)
        assert (await graph.coverage(Scope())).enterprises == first.enterprises - 1
        await graph.apply([UpdateEnterprise(closing.credit_code, status=Status.CLOSED, status_on=DEMO_DAY)], "planner")
        assert (await graph.coverage(Scope())).enterprises == first.enterprises - 2
    finally:
        await other.close()


async def test_a_change_set_committed_while_the_counter_was_being_read_is_seen_at_once(
    written_stores: tuple[State, CypherStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reading of the graph's counter begun before this store's change set and ended after it
    is not trusted: the next question reads the graph as written, not a kept answer."""
    _, graph = written_stores
    first = await graph.coverage(Scope())
    [active] = (await graph.find_enterprises(EnterpriseFilter(status=Status.ACTIVE), 0, 1)).items
    read, committed = graph.connection.read, asyncio.Event()

    async def held(text: str, **parameters: object) -> list:
        found = await read(text, **parameters)
        if text == queries.SERVED:  # read before the change set, answered after it
            await committed.wait()
        return found

    monkeypatch.setattr(graph.connection, "read", held)
    graph._read_at = -GRAPH_SECONDS  # the next question reads the counter
    asking = asyncio.create_task(graph.coverage(Scope()))
    await asyncio.sleep(0.2)
    await graph.apply([UpdateEnterprise(active.credit_code, status=Status.CLOSED, status_on=DEMO_DAY)], "planner")
    committed.set()
    await asking
    assert (await graph.coverage(Scope())).enterprises == first.enterprises - 1
