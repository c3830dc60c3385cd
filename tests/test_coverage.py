"""Coverage on hand-made ledgers; every expected number is worked out in the comments."""

import bisect
from collections.abc import Callable
from datetime import date

import pytest

from graph.errors import NotFound
from graph.model import Category
from graph.query import Coverage, GroupBy, Scope
from graph.stores.networkx import NetworkxStore
from tests.conftest import HEADER
from tests.conftest import credit_code as c

pytestmark = pytest.mark.anyio


def counts(enterprises: int, organized: int, worked: int, formal: int, organizations: int) -> Coverage:
    return Coverage(enterprises, organized, worked, formal, organizations)


@pytest.mark.parametrize(
    ("scope", "as_of", "expected"),
    [
        # active 1,2,3,4,5,7; organized 1,2,3,7; worked 4; formal 5+1+2+0+3+4; B1 J1 B2
        (Scope(), None, counts(6, 4, 1, 15, 3)),
        # park A: 1..5; organized 1,2,3; worked 4; formal 11; B1 J1
        (Scope(park="A"), None, counts(5, 3, 1, 11, 2)),
        # registered by then: 1,2,3,5; only B1 exists; formal 5+1+2+3
        (Scope(), date(2019, 12, 31), counts(4, 1, 0, 11, 1)),
        # 4 registered and its instructor assigned; J1 exists; 7 not yet registered
        (Scope(), date(2020, 6, 30), counts(5, 3, 1, 11, 2)),
        (Scope(building="X"), None, counts(3, 3, 0, 8, 2)),
        # 5 only (6 is a zombie)
        (Scope(category=Category.NEWS), None, counts(1, 0, 0, 3, 0)),
        (Scope(park="A", chain="软件"), None, counts(1, 0, 0, 3, 0)),
        # 5 declared, 7 through B2
        (Scope(cluster="C2"), None, counts(2, 1, 0, 7, 1)),
        # 1 via B1, 2 and 3 via J1, 4 declared
        (Scope(cluster="C1"), None, counts(4, 3, 1, 8, 2)),
        (Scope(category=Category.SOCIAL), None, counts(0, 0, 0, 0, 0)),
    ],
)
async def test_coverage(hand_store: NetworkxStore, scope: Scope, as_of: date | None, expected: Coverage) -> None:
    assert await hand_store.coverage(scope, as_of) == expected


def test_rates() -> None:
    coverage = counts(6, 4, 1, 15, 3)
    assert (coverage.uncovered, coverage.organization_rate, coverage.work_rate) == (1, 4 / 6, 5 / 6)
    assert (Coverage().organization_rate, Coverage().work_rate) == (0.0, 0.0)


@pytest.mark.parametrize(
    ("by", "expected"),
    [
        (GroupBy.PARK, {"A": counts(5, 3, 1, 11, 2), "B": counts(1, 1, 0, 4, 1)}),
        # 6 has no building but is a zombie, so there is no "" group
        (GroupBy.BUILDING, {"X": counts(3, 3, 0, 8, 2), "Y": counts(2, 0, 1, 3, 0), "Z": counts(1, 1, 0, 4, 1)}),
        (GroupBy.CLUSTER, {"C1": counts(4, 3, 1, 8, 2), "C2": counts(2, 1, 0, 7, 1)}),
        (GroupBy.CHAIN, {"互联网": counts(5, 4, 1, 12, 3), "软件": counts(1, 0, 0, 3, 0)}),
    ],
)
async def test_coverage_by(hand_store: NetworkxStore, by: GroupBy, expected: dict[str, Coverage]) -> None:
    assert {group.key: group.coverage for group in await hand_store.coverage_by(by, Scope())} == expected


async def test_groups_add_up_to_the_whole(hand_store: NetworkxStore) -> None:
    for by in GroupBy:
        groups = await hand_store.coverage_by(by, Scope(park="A"), date(2020, 12, 31))
        whole = await hand_store.coverage(Scope(park="A"), date(2020, 12, 31))
        assert sum(g.coverage.enterprises for g in groups) == whole.enterprises
        assert sum(g.coverage.organization_covered for g in groups) == whole.organization_covered


async def test_group_labels_name_clusters_and_the_missing_group(hand_store: NetworkxStore, store_of: Callable) -> None:
    labels = {g.key: g.label for g in await hand_store.coverage_by(GroupBy.CLUSTER, Scope())}
    assert labels == {"C1": "一联组", "C2": "二联组"}
    no_chain = [HEADER, [c(9), "无链企业", "A", "", "", "", "0", "", "", ""]]
    groups = await store_of({"enterprises": no_chain}).coverage_by(GroupBy.CHAIN, Scope())
    assert [(g.key, g.label, g.coverage.enterprises) for g in groups] == [("", "(none)", 1)]


@pytest.mark.parametrize(
    ("scope", "message"),
    [
        (Scope(park="C"), "unknown park 'C'"),
        (Scope(cluster="C9"), "unknown cluster"),
        (Scope(building="Q"), "building"),
    ],
)
async def test_unknown_scope_values_are_errors_not_zeros(hand_store: NetworkxStore, scope: Scope, message: str) -> None:
    with pytest.raises(NotFound, match=message):
        await hand_store.coverage(scope)


async def test_trend_counts_each_date_in_the_order_given(hand_store: NetworkxStore) -> None:
    dates = [date(2020, 6, 30), date(2019, 12, 31), date(2019, 1, 1), date(2020, 6, 30)]
    # as in test_coverage: mid-2020 1..5 registered, J1 and 4's instructor there; end of 2019 only B1;
    # on 2019-01-01: 1, 2, 3 (registered that very day) and the undated 5; no organization yet
    mid_2020, end_2019, start_2019 = counts(5, 3, 1, 11, 2), counts(4, 1, 0, 11, 1), counts(4, 0, 0, 11, 0)
    assert await hand_store.coverage_trend(Scope(), dates) == [mid_2020, end_2019, start_2019, mid_2020]


def fuzhou_tables() -> dict[str, list[list[str]]]:
    """561 enterprises; 220 own branches and 48 joint branches (19 of 5, 29 of 4) cover 431."""
    enterprises = [["credit_code", "name", "park"]] + [[c(n), f"福州企业{n}", "福州"] for n in range(561)]
    organizations = [["id", "name", "kind"]]
    coverage = [["org_id", "credit_code"]]
    covered = iter(range(561))
    for n in range(220):
        organizations.append([f"B{n}", f"支部{n}", "BRANCH"])
        coverage.append([f"B{n}", c(next(covered))])
    for n in range(48):
        organizations.append([f"J{n}", f"联合支部{n}", "JOINT_BRANCH"])
        coverage += [[f"J{n}", c(next(covered))] for _ in range(5 if n < 19 else 4)]
    return {"enterprises": enterprises, "organizations": organizations, "coverage": coverage}


async def test_fuzhou_268_organizations_cover_76_8_percent_of_561(store_of: Callable) -> None:
    coverage = await store_of(fuzhou_tables()).coverage(Scope(park="福州"))
    assert (coverage.enterprises, coverage.organizations, coverage.organization_covered) == (561, 268, 431)
    assert round(coverage.organization_rate * 100, 1) == 76.8


async def test_a_status_counts_from_its_date_and_no_date_means_today(store_of: Callable) -> None:
    """Closed since 2021-01-01: active before then. Without asOf, the question is about today."""
    header = ["credit_code", "name", "park", "status", "status_since", "registered_on"]
    tables = {
        "enterprises": [
            header,
            [c(1), "甲", "A", "CLOSED", "2021-01-01", "2019-01-01"],
            [c(2), "乙", "A", "ZOMBIE", "", ""],
        ],
        "organizations": [["id", "name", "kind", "established_on"], ["B1", "甲支部", "BRANCH", "2020-01-01"]],
        "coverage": [["org_id", "credit_code"], ["B1", c(1)]],
    }
    store = store_of(tables)
    assert await store.coverage(Scope(), date(2020, 12, 31)) == counts(1, 1, 0, 0, 1)
    assert await store.coverage(Scope(), date(2021, 1, 1)) == counts(0, 0, 0, 0, 0)
    assert await store.coverage_trend(Scope(), [date(2019, 6, 1), date(2020, 6, 1), date(2021, 6, 1)]) == [
        counts(1, 0, 0, 0, 0), counts(1, 1, 0, 0, 1), counts(0, 0, 0, 0, 0),
    ]  # fmt: skip
    store.today = lambda: date(2020, 6, 1)
    assert await store.coverage(Scope()) == counts(1, 1, 0, 0, 1)
    store.today = lambda: date(2019, 6, 1)  # B1 is not established yet
    assert await store.coverage(Scope()) == counts(1, 0, 0, 0, 0)


@pytest.mark.parametrize("by", [None, *GroupBy])
def test_group_timelines_answer_what_coverage_by_counts_on_every_day(
    by: GroupBy | None, demo_store: NetworkxStore
) -> None:
    """The timelines a graph database keeps (graph.coverage.GroupTimeline), held to the counts
    on each day of the grid and the days between, before and after."""
    index = demo_store.index
    timelines = index.group_timelines(by)
    days = index.grid.days.tolist()
    for day in sorted({days[0] - 1, *days[::37], *(d + 1 for d in days[::53]), days[-1] + 400}):
        found = {}
        for timeline in timelines:
            values = timeline.values[bisect.bisect_right(timeline.days, day) - 1]
            if values[0]:
                found[timeline.key or ""] = Coverage(*values)
        if by is None:
            assert found.get("", Coverage()) == index.coverage(Scope(), day)
        else:
            assert found == {g.key: g.coverage for g in index.coverage_by(by, Scope(), day)}, day
