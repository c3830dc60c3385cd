"""An org chart as boxes and edges: what to draw of an organization tree, before any format.

The tree a store answers may hold thousands of organizations; a chart stays readable
and cheap to lay out by drawing at most `ChartLimits.children` boxes under a parent
and `ChartLimits.boxes` in all. Whatever does not fit is drawn as one box per parent
that counts it ("+ 42 个党支部"), so every organization is accounted for.

>>> from datetime import date
>>> from graph.charts.tree import OrganizationTree, TreeOrganization
>>> from graph.model import Members, Organization, OrgKind
>>> cluster = TreeOrganization(Organization("C", "数据党群联组", OrgKind.CLUSTER), 0, Members(9), suborganizations=3)
>>> branches = [
...     TreeOrganization(Organization(f"B{n}", f"企业{n}党支部", OrgKind.BRANCH, parent_id="C"), 1, Members(3), units=1)
...     for n in range(3)
... ]
>>> chart = build_chart(OrganizationTree(date(2021, 7, 31), (cluster, *branches)), ChartLimits(children=2))
>>> [box.name for box in chart.boxes]
['数据党群联组', '企业0党支部', '企业1党支部', '+ 1 个党支部']
>>> chart.boxes[-1].hidden, chart.hidden
(1, 1)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from graph.charts.tree import OrganizationTree, TreeOrganization
from graph.model import LinkKind, Members, OrgKind
from graph.query import Coverage
from graph.vocabulary import term


class Mark(StrEnum):
    """How an enterprise organization covers its enterprises; its box shows the symbol."""

    COVERING = "●"  # every enterprise it covers is ACTIVE
    PARTLY = "◐"  # some of them are ZOMBIE or CLOSED
    EMPTY = "○"  # it covers no ACTIVE enterprise

    @property
    def meaning(self) -> str:
        return {"COVERING": "覆盖的企业均在营", "PARTLY": "部分覆盖企业已停业或注销", "EMPTY": "未覆盖在营企业"}[
            self.name
        ]


@dataclass(frozen=True, slots=True)
class ChartLimits:
    """The most a chart draws: boxes under one parent, organization boxes in all, link partners."""

    children: int = 30
    boxes: int = 300
    partners: int = 40


DEFAULT_CHART_LIMITS = ChartLimits()


@dataclass(frozen=True, slots=True)
class Box:
    """One box: an organization, or (`kind` None) a parent's children beyond the limits, `hidden`
    counting them and the organizations of the tree under them.

    `below` counts organizations under it that the chart leaves out (the depth ends there).
    """

    id: str
    parent: str | None
    level: int
    name: str
    kind: OrgKind | None = None
    members: Members = field(default_factory=Members)
    units: int = 0
    inactive_units: int = 0
    coverage: Coverage | None = None
    enterprises: tuple[str, ...] = ()
    below: int = 0
    hidden: int = 0

    @property
    def mark(self) -> Mark | None:
        """The coverage mark of an enterprise organization; None for the tiers above them."""
        if self.kind is None or not self.kind.is_enterprise_level:
            return None
        if not self.units:
            return Mark.EMPTY
        return Mark.PARTLY if self.inactive_units else Mark.COVERING

    @property
    def details(self) -> list[str]:
        """The lines under the name: kind, members and the coverage mark with the enterprises
        covered ("党支部 · 党员 15 · ● 1 家"); above the enterprise tier, the coverage rate."""
        members = f"党员 {self.members.total:,}"
        if self.kind is None:
            return [members]
        lines = [f"{term(self.kind)} · {members}"]
        if (mark := self.mark) is not None:
            gone = f" · {self.inactive_units} 家停业" if self.inactive_units else ""
            lines[0] += f" · {mark} {self.units} 家{gone}"
        elif self.coverage is not None and self.coverage.enterprises:
            rate = self.coverage.organization_rate
            lines.append(f"组织覆盖 {rate:.1%}（{self.coverage.organization_covered:,}/{self.coverage.enterprises:,}）")
        if self.below:
            lines.append(f"下设 {self.below} 个组织未展开")
        return lines

    @property
    def listed(self) -> list[str]:
        """A joint branch's enterprises, with how many more it covers than are named."""
        more = self.units - len(self.enterprises)
        return [*self.enterprises, *([f"… 另 {more} 家"] if more > 0 and self.enterprises else [])]


@dataclass(frozen=True, slots=True)
class Partner:
    """A link's far end outside the tree: a department, an enterprise, another organization."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class ChartEdge:
    """PART_OF from a parent box to its child (`link` None), or a joint-building or pairing link."""

    source: str
    target: str
    link: LinkKind | None = None


@dataclass(frozen=True, slots=True)
class Chart:
    """What to draw: boxes (parents before children), partners, edges, as of a date."""

    as_of: date
    boxes: tuple[Box, ...]
    edges: tuple[ChartEdge, ...]
    partners: tuple[Partner, ...] = ()

    @property
    def root(self) -> Box:
        return self.boxes[0]

    @property
    def title(self) -> str:
        return f"{self.root.name}组织架构图"

    @property
    def subtitle(self) -> str:
        return f"截至 {self.as_of.isoformat()}"

    @property
    def hidden(self) -> int:
        """Organizations of the tree drawn only as a count."""
        return sum(box.hidden for box in self.boxes)

    def children(self) -> dict[str, list[Box]]:
        """Each parent's boxes, in drawing order."""
        found: dict[str, list[Box]] = {}
        for box in self.boxes:
            if box.parent is not None:
                found.setdefault(box.parent, []).append(box)
        return found


@dataclass(frozen=True, slots=True)
class Family:
    """A box's children as drawn: `framed` with it (the childless ones, except under the root,
    which is never framed) and `hung` from it by lines (those with children of their own)."""

    framed: list[Box]
    hung: list[Box]


def families(chart: Chart) -> dict[str, Family]:
    """Each box's family; a box without children has an empty one."""
    children = chart.children()
    found = {}
    for box in chart.boxes:
        kids = children.get(box.id, [])
        if box.parent is None:
            found[box.id] = Family([], kids)
        else:
            found[box.id] = Family([k for k in kids if k.id not in children], [k for k in kids if k.id in children])
    return found


def build_chart(tree: OrganizationTree, limits: ChartLimits = DEFAULT_CHART_LIMITS) -> Chart:
    """The chart of `tree` within `limits`: level by level, siblings in `_drawing_order`."""
    under: dict[str, list[TreeOrganization]] = {}
    for item in tree.organizations[1:]:
        under.setdefault(item.organization.parent_id or "", []).append(item)
    for items in under.values():
        items.sort(key=_drawing_order)

    drawn: list[TreeOrganization] = [tree.root]
    collapsed: list[Box] = []
    frontier = [tree.root]
    while frontier:
        families = [(parent, under[parent.id]) for parent in frontier if parent.id in under]
        wanted = sum(min(len(kids), limits.children) + (len(kids) > limits.children) for _, kids in families)
        # room is kept for one counted box per family of the next level, should that not fit
        later = sum(kid.id in under for _, kids in families for kid in kids[: limits.children])
        if len(drawn) + len(collapsed) + wanted + later > limits.boxes:
            collapsed += [_collapsed(parent, kids, under) for parent, kids in families]
            break
        frontier = []
        for parent, kids in families:
            frontier += kids[: limits.children]
            if len(kids) > limits.children:
                collapsed.append(_collapsed(parent, kids[limits.children :], under))
        drawn += frontier

    parents = {item.organization.parent_id for item in drawn[1:]} | {box.parent for box in collapsed}
    boxes = [
        _box(item, None if n == 0 else item.organization.parent_id, item.id in parents) for n, item in enumerate(drawn)
    ]
    boxes = _in_drawing_order(boxes + collapsed)
    edges = [ChartEdge(box.parent, box.id) for box in boxes if box.parent is not None]
    partners, links = _links(tree, {box.id for box in boxes}, limits.partners)
    return Chart(tree.as_of, tuple(boxes), tuple(edges + links), tuple(partners))


def _drawing_order(item: TreeOrganization) -> tuple[int, bool, int]:
    """Higher tiers first, joint branches after the others of their tier (their boxes are taller), larger first."""
    kind = item.organization.kind
    return kind.rank, kind is OrgKind.JOINT_BRANCH, -item.members.total


def _box(item: TreeOrganization, parent: str | None, children_drawn: bool) -> Box:
    org = item.organization
    return Box(
        id=org.id,
        parent=parent,
        level=item.level,
        name=org.name,
        kind=org.kind,
        members=item.members,
        units=item.units,
        inactive_units=item.inactive_units,
        coverage=item.coverage,
        enterprises=item.enterprises,
        below=0 if children_drawn else item.suborganizations,
    )


def _collapsed(
    parent: TreeOrganization, hidden: list[TreeOrganization], under: dict[str, list[TreeOrganization]]
) -> Box:
    """One box for `hidden` (a parent's children beyond the limits), counting them and everything under them."""
    below, stack = 0, [item.id for item in hidden]
    while stack:
        kids = under.get(stack.pop(), [])
        below += len(kids)
        stack += [kid.id for kid in kids]
    kinds = {item.organization.kind for item in hidden}
    noun = f"个{term(kinds.pop())}" if len(kinds) == 1 else "个组织"
    return Box(
        id=f"{parent.id}/+{len(hidden)}",
        parent=parent.id,
        level=parent.level + 1,
        name=f"+ {len(hidden)} {noun}",
        members=Members(sum(i.members.formal for i in hidden), sum(i.members.probationary for i in hidden)),
        hidden=len(hidden) + below,
    )


def _in_drawing_order(boxes: list[Box]) -> list[Box]:
    """Depth-first from the root, so each parent's boxes follow it and a collapsed box ends its siblings."""
    under: dict[str | None, list[Box]] = {}
    for box in boxes:
        under.setdefault(box.parent, []).append(box)
    ordered: list[Box] = []
    stack = list(reversed(under[None]))
    while stack:
        box = stack.pop()
        ordered.append(box)
        stack += reversed(under.get(box.id, []))
    return ordered


def _links(tree: OrganizationTree, drawn: set[str], most: int) -> tuple[list[Partner], list[ChartEdge]]:
    """Links with a drawn box at one end; far ends outside the tree become partners, the busiest first."""
    touching = [link for link in tree.links if link.source_id in drawn or link.target_id in drawn]
    outside = [end for link in touching for end in (link.source_id, link.target_id) if end not in drawn]
    busiest = [end for end, _ in sorted(Counter(outside).items(), key=lambda pair: (-pair[1], pair[0]))[:most]]
    partners = [Partner(end, tree.names.get(end, end)) for end in busiest]
    ends = drawn | set(busiest)
    edges = {
        ChartEdge(link.source_id, link.target_id, link.kind): None
        for link in touching
        if link.source_id in ends and link.target_id in ends
    }
    return partners, list(edges)


def kinds_drawn(boxes: Iterable[Box]) -> list[OrgKind]:
    """The organization kinds among `boxes`, top tier first, kinds of one tier in their
    declared order (for a legend, the same in every process)."""
    declared = list(OrgKind)
    return sorted(
        {box.kind for box in boxes if box.kind is not None}, key=lambda kind: (kind.rank, declared.index(kind))
    )
