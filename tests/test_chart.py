"""What a chart draws of an organization tree: limits, counts, order, links."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date

import pytest

from graph.charts.chart import Box, ChartLimits, Mark, build_chart
from graph.charts.tree import OrganizationTree, TreeOrganization
from graph.model import Link, LinkKind, Members, Organization, OrgKind
from graph.query import Coverage

AS_OF = date(2021, 7, 31)


def org(
    org_id: str, kind: OrgKind, parent: str | None, level: int, members: int = 0, **facts: object
) -> TreeOrganization:
    organization = Organization(org_id, f"{org_id}名", kind, parent_id=parent)
    return TreeOrganization(organization, level, Members(members), **facts)  # type: ignore[arg-type]


def park(chains: int, clusters: int, branches: int) -> OrganizationTree:
    """A park committee over `chains` chain committees, each over `clusters` clusters of `branches` branches."""
    items = [org("P", OrgKind.PARK_COMMITTEE, None, 0, suborganizations=chains)]
    for c in range(chains):
        items.append(org(f"C{c}", OrgKind.CHAIN_COMMITTEE, "P", 1, suborganizations=clusters))
        for k in range(clusters):
            items.append(org(f"C{c}K{k}", OrgKind.CLUSTER, f"C{c}", 2, suborganizations=branches))
            items += [org(f"C{c}K{k}B{b}", OrgKind.BRANCH, f"C{c}K{k}", 3, b, units=1) for b in range(branches)]
    levels = {item.id: item.level for item in items}
    return OrganizationTree(AS_OF, tuple(sorted(items, key=lambda item: levels[item.id])))


@pytest.mark.parametrize(
    ("limits", "drawn", "collapsed"),
    [
        (ChartLimits(children=50, boxes=1_000), 1 + 3 + 12 + 120, 0),
        (ChartLimits(children=4, boxes=1_000), 1 + 3 + 12 + 12 * 4, 12),  # each cluster: 4 and "+ 6"
        (ChartLimits(children=50, boxes=100), 1 + 3 + 12, 12),  # the branch level does not fit: one box per cluster
        (ChartLimits(children=2, boxes=10), 1 + 2, 3),  # a third chain, and the clusters, counted with all under
    ],
)
def test_every_organization_is_drawn_or_counted(limits: ChartLimits, drawn: int, collapsed: int) -> None:
    tree = park(3, 4, 10)
    chart = build_chart(tree, limits)
    organizations = [box for box in chart.boxes if box.kind is not None]
    counted = [box for box in chart.boxes if box.kind is None]
    assert (len(organizations), len(counted)) == (drawn, collapsed)
    assert len(chart.boxes) <= limits.boxes
    assert len(organizations) + chart.hidden == len(tree.organizations)
    assert all(len([b for b in chart.boxes if b.parent == box.id]) <= limits.children + 1 for box in chart.boxes)


def test_a_collapsed_box_counts_members_and_names_the_kind() -> None:
    chart = build_chart(park(1, 1, 10), ChartLimits(children=4))
    more = chart.boxes[-1]
    assert more.kind is None and more.parent == "C0K0"
    assert more.name == "+ 6 个党支部"
    assert more.members.total == sum(range(6))  # the six smallest are the ones counted
    assert [box.members.total for box in chart.boxes if box.parent == "C0K0"][:4] == [9, 8, 7, 6]


def test_boxes_follow_their_parent_depth_first_joint_branches_last() -> None:
    items = (
        org("K", OrgKind.CLUSTER, None, 0),
        org("J", OrgKind.JOINT_BRANCH, "K", 1, 20),
        org("B", OrgKind.BRANCH, "K", 1, 5),
        org("G", OrgKind.GENERAL_BRANCH, "K", 1, 1),
        org("S", OrgKind.BRANCH, "G", 2, 1),
    )
    chart = build_chart(OrganizationTree(AS_OF, items))
    assert [box.id for box in chart.boxes] == ["K", "G", "S", "B", "J"]
    assert [(e.source, e.target) for e in chart.edges] == [("K", "G"), ("G", "S"), ("K", "B"), ("K", "J")]


def test_the_depth_cut_is_said_on_the_box() -> None:
    items = (org("K", OrgKind.CLUSTER, None, 0), org("C", OrgKind.COMMITTEE, "K", 1, 10, units=1, suborganizations=3))
    box = build_chart(OrganizationTree(AS_OF, items)).boxes[1]
    assert box.below == 3 and "下设 3 个组织未展开" in box.details


@pytest.mark.parametrize(
    ("units", "inactive", "mark", "line"),
    [
        (1, 0, Mark.COVERING, "党支部 · 党员 5 · ● 1 家"),
        (2, 1, Mark.PARTLY, "党支部 · 党员 5 · ◐ 2 家 · 1 家停业"),
        (0, 1, Mark.EMPTY, "党支部 · 党员 5 · ○ 0 家 · 1 家停业"),
    ],
)
def test_the_coverage_mark(units: int, inactive: int, mark: Mark, line: str) -> None:
    box = Box("B", None, 0, "甲党支部", OrgKind.BRANCH, Members(5), units, inactive)
    assert box.mark is mark and box.details == [line]


def test_tiers_above_show_their_coverage_rate() -> None:
    box = Box("K", None, 0, "数据党群联组", OrgKind.CLUSTER, Members(40), coverage=Coverage(200, 30, 10))
    assert box.mark is None
    assert box.details == ["党群联组 · 党员 40", "组织覆盖 15.0%（30/200）"]


def test_a_joint_branch_lists_its_enterprises_and_how_many_more() -> None:
    box = Box("J", None, 0, "联合党支部", OrgKind.JOINT_BRANCH, units=8, enterprises=("甲公司", "乙公司"))
    assert box.listed == ["甲公司", "乙公司", "… 另 6 家"]


def test_links_reach_drawn_boxes_and_partners_the_busiest_first() -> None:
    items = (org("K", OrgKind.CLUSTER, None, 0), org("A", OrgKind.BRANCH, "K", 1), org("B", OrgKind.BRANCH, "K", 1))
    links = (
        Link("D1", "A", LinkKind.PAIRING),
        Link("D2", "A", LinkKind.PAIRING),
        Link("D2", "B", LinkKind.PAIRING),
        Link("A", "B", LinkKind.CHAIN_CO_BUILD),
        Link("X", "Y", LinkKind.SUPPLY),  # touches nothing drawn
    )
    tree = OrganizationTree(AS_OF, items, links, {"D1": "一局", "D2": "二局"})
    chart = build_chart(tree, ChartLimits(partners=1))
    assert [(p.id, p.name) for p in chart.partners] == [("D2", "二局")]
    assert {(e.source, e.target, e.link) for e in chart.edges if e.link} == {
        ("D2", "A", LinkKind.PAIRING), ("D2", "B", LinkKind.PAIRING), ("A", "B", LinkKind.CHAIN_CO_BUILD),
    }  # fmt: skip


LEGEND = """
from graph.charts.chart import Box, kinds_drawn
from graph.model import OrgKind
kinds = [OrgKind.JOINT_BRANCH, OrgKind.BRANCH, OrgKind.GENERAL_BRANCH, OrgKind.CLUSTER, OrgKind.COMMITTEE]
print(" ".join(k.value for k in kinds_drawn([Box(k.value, None, 1, k.value, k) for k in kinds])))
"""


def test_a_legend_lists_kinds_in_the_same_order_in_every_process() -> None:
    """Kinds of one tier (a branch, a joint branch) come in their declared order, whatever the hash seed."""
    orders = {
        subprocess.run(
            [sys.executable, "-c", LEGEND], env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True, text=True, check=True,
        ).stdout.strip()
        for seed in ("1", "2", "3", "4", "5", "6")
    }  # fmt: skip
    assert len(orders) == 1
    [order] = orders
    assert order.split()[-2:] == ["BRANCH", "JOINT_BRANCH"]  # one tier, as OrgKind declares them
