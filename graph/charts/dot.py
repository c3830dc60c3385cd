"""A chart as Graphviz DOT: tiers top-down, each family framed, wide levels wrapped.

Layout, readable on A4 at a few hundred boxes:
- an organization whose children have no children of their own frames them with
  itself as the heading, in a grid of rows (no lines drawn: the frame says "part of");
- children that are themselves families hang from their parent by lines, a few frames
  to a row, further rows stacked below;
- links are dashed and coloured by kind and never move the tree (constraint=false);
- the legend sits beside the root; the font is named, so output does not depend on
  which fonts a machine has.
"""

from __future__ import annotations

import html
import math
from collections.abc import Generator, Iterator, Sequence
from functools import cache
from typing import TypeVar

from graph.charts.chart import Box, Chart, Mark, families, kinds_drawn
from graph.model import LinkKind, OrgKind
from graph.text import display_width, wrap
from graph.vocabulary import term

T = TypeVar("T")
FONT = "WenQuanYi Micro Hei"
NAME_WIDTH = 24  # columns of a name line: twelve Chinese characters
ENTERPRISE_WIDTH = 30
MOST_COLUMNS = 6
A4 = (7.9, 11.3)  # inches inside 1 cm margins
GAP = 0.15

FILL = {
    OrgKind.PARK_COMMITTEE: "#b71c1c", OrgKind.CHAIN_COMMITTEE: "#d32f2f", OrgKind.CLUSTER: "#ffcdd2",
    OrgKind.ALLIANCE: "#ffe0b2", OrgKind.COMMITTEE: "#fff3e0", OrgKind.GENERAL_BRANCH: "#fffde7",
    OrgKind.BRANCH: "#ffffff", OrgKind.JOINT_BRANCH: "#e3f2fd",
}  # fmt: skip
LIGHT_TEXT = frozenset({OrgKind.PARK_COMMITTEE, OrgKind.CHAIN_COMMITTEE})
LINK_COLOUR = {
    LinkKind.CHAIN_CO_BUILD: "#ef6c00", LinkKind.ASSOCIATION_HELP: "#2e7d32", LinkKind.PARK_JOINT: "#6a1b9a",
    LinkKind.PAIRING: "#1565c0", LinkKind.ALLIANCE: "#00838f", LinkKind.ALLIANCE_LEAD: "#004d40",
    LinkKind.SUPPLY: "#6d4c41",
}  # fmt: skip


def to_dot(chart: Chart, font: str = FONT) -> str:
    """The chart in the DOT language, every name escaped.

    >>> from datetime import date
    >>> from graph.charts.chart import Box, ChartEdge
    >>> root = Box("C", None, 0, "A&B党群联组", OrgKind.CLUSTER)
    >>> text = to_dot(Chart(date(2021, 7, 31), (root, Box("B", "C", 1, "<x>", OrgKind.BRANCH)), (ChartEdge("C", "B"),)))
    >>> "A&amp;B党群联组" in text, "&lt;x&gt;" in text, f'fontname="{FONT}"' in text
    (True, True, True)
    """
    return "\n".join(_DotWriter(chart, font).lines()) + "\n"


def quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def escaped(text: str) -> str:
    return html.escape(text, quote=False)


def _box_size(box: Box) -> tuple[float, float]:
    """Inches a box takes at the fonts `label` uses, roughly (a column of 9 pt text is 1/16 inch)."""
    lines = [*wrap(box.name, NAME_WIDTH), *box.details, *box.listed]
    return max(map(display_width, lines)) / 16 + 0.2, len(lines) * 0.16 + 0.12


class _DotWriter:
    def __init__(self, chart: Chart, font: str):
        self.chart = chart
        self.font = font
        self.families = families(chart)
        self.node_ids = {box.id: f"n{n}" for n, box in enumerate(chart.boxes)}
        self.node_ids.update({p.id: f"p{n}" for n, p in enumerate(chart.partners)})
        self.frames = 0

    def lines(self) -> Iterator[str]:
        chart, font = self.chart, quoted(self.font)
        title = f'<B>{escaped(chart.title)}</B><BR/><FONT POINT-SIZE="11">{escaped(chart.subtitle)}</FONT>'
        # Graphviz 2.4x cannot always route spline edges that ignore the ranks through frames
        # ("triangulation failed"), so a chart with links draws its lines as curves.
        splines = " splines=curved" if any(edge.link for edge in chart.edges) else ""
        yield "digraph chart {"
        yield (
            f'  graph [charset="UTF-8" fontname={font} fontsize=18 label=<{title}> labelloc=t labeljust=c '
            f"rankdir=TB newrank=true nodesep=0.08 ranksep=0.14 pad=0.25 outputorder=edgesfirst{splines}]"
        )
        yield f'  node [fontname={font} fontsize=9 shape=box style="rounded,filled" margin="0.07,0.04" penwidth=0.8]'
        yield '  edge [color="#8d8d8d" arrowhead=none penwidth=0.9]'
        yield from self.family(chart.root, "  ")
        yield from self.partners()
        for edge in chart.edges:
            if edge.link is not None:
                yield (
                    f"  {self.node_ids[edge.source]} -> {self.node_ids[edge.target]} "
                    f'[style=dashed color="{LINK_COLOUR[edge.link]}" constraint=false arrowhead=vee arrowsize=0.5 '
                    f"tooltip={quoted(term(edge.link) or edge.link.value)}]"
                )
        yield from self.legend()
        yield "}"

    # -- boxes -------------------------------------------------------------------

    def node(self, box: Box, indent: str) -> str:
        kind = box.kind
        if kind is None:
            style = 'style="rounded,dashed" fillcolor="#ffffff" color="#757575"'
        else:
            text = ' fontcolor="#ffffff"' if kind in LIGHT_TEXT else ""
            style = f'fillcolor="{FILL[kind]}"{text}'
        return f"{indent}{self.node_ids[box.id]} [id={quoted('org:' + box.id)} {style} label=<{self.label(box)}>]"

    def label(self, box: Box) -> str:
        size = 12 if box.level == 0 else 10 if box.kind is not None and not box.kind.is_enterprise_level else 9
        name = "<BR/>".join(escaped(line) for line in wrap(box.name, NAME_WIDTH * (2 if box.level == 0 else 1)))
        rows = [f'<FONT POINT-SIZE="{size}"><B>{name}</B></FONT>']
        rows += [f'<FONT POINT-SIZE="7.5">{escaped(line)}</FONT>' for line in box.details]
        listed = [escaped(f"· {line}") for name in box.listed for line in wrap(name, ENTERPRISE_WIDTH)]
        if listed:
            rows.append('<FONT POINT-SIZE="7">' + "".join(f'{line}<BR ALIGN="LEFT"/>' for line in listed) + "</FONT>")
        return "<BR/>".join(rows)

    # -- families ----------------------------------------------------------------

    def family(self, box: Box, indent: str) -> Iterator[str]:
        """The box, framed with its childless children if it has any, and the families hung below it."""
        family = self.families[box.id]
        inside = indent
        if family.framed:
            self.frames += 1
            colour = "#e57373" if box.kind is OrgKind.CLUSTER else "#bdbdbd"
            yield (
                f'{indent}subgraph cluster_{self.frames} {{ label="" style="rounded,filled" '
                f'color="{colour}" fillcolor="#fffafa" margin=4'
            )
            inside = indent + "  "
        yield self.node(box, inside)
        rows = self.grid(family.framed)
        for row in rows:
            yield from (self.node(leaf, inside) for leaf in row)
        above = yield from self.stacked([box.id], [[leaf.id for leaf in row] for row in rows], inside)
        for number, band in enumerate(self.bands(family.hung)):
            weight = "" if number == 0 else " [weight=0]"  # the parent centres over its first row
            for kid in band:
                yield from self.family(kid, inside)
                yield f"{inside}{self.node_ids[box.id]} -> {self.node_ids[kid.id]}{weight}"
            yield f"{inside}{{ rank=same; {' '.join(self.node_ids[kid.id] for kid in band)} }}"
            if above != [box.id]:
                yield from (f"{inside}{self.node_ids[a]} -> {self.node_ids[band[0].id]} [style=invis]" for a in above)
            above = [self.bottom(kid).id for kid in band]
        if family.framed:
            yield f"{indent}}}"

    def stacked(self, above: list[str], rows: list[list[str]], indent: str) -> Generator[str, None, list[str]]:
        """Invisible edges keeping each row under the one before, column under column; returns the last row."""
        for row in rows:
            sources = above[: len(row)] if len(above) >= len(row) else [above[0]] * len(row)
            for source, target in zip(sources, row, strict=True):
                yield f"{indent}{self.node_ids[source]} -> {self.node_ids[target]} [style=invis]"
            above = row
        return above

    @staticmethod
    def grid(items: Sequence[T]) -> list[Sequence[T]]:
        """Items in rows, a little taller than wide (boxes are wider than tall)."""
        columns = max(1, min(MOST_COLUMNS, round(math.sqrt(len(items) * 0.6))))
        return [items[start : start + columns] for start in range(0, len(items), columns)]

    def bands(self, hung: Sequence[Box]) -> list[Sequence[Box]]:
        """Families side by side in rows, as many to a row as lets the whole fit A4 portrait largest."""
        if not hung:
            return []
        sizes = [self.size(kid) for kid in hung]

        def scale(per_row: int) -> float:
            rows = [sizes[start : start + per_row] for start in range(0, len(sizes), per_row)]
            width = max(sum(w for w, _ in row) for row in rows)
            height = sum(max(h for _, h in row) for row in rows)
            return min(A4[0] / width, A4[1] / height)

        per_row = max(range(1, len(hung) + 1), key=scale)
        return [hung[start : start + per_row] for start in range(0, len(hung), per_row)]

    @cache  # noqa: B019 - one writer per chart
    def size(self, box: Box) -> tuple[float, float]:
        """Inches a family takes, roughly: boxes from their lines of text, frames from their grids."""
        family = self.families[box.id]
        width, height = _box_size(box)
        for row in self.grid(family.framed):
            width = max(width, sum(_box_size(leaf)[0] + GAP for leaf in row))
            height += max(_box_size(leaf)[1] for leaf in row) + GAP
        for band in self.bands(family.hung):
            width = max(width, sum(self.size(kid)[0] + GAP for kid in band))
            height += max(self.size(kid)[1] for kid in band) + GAP * 2
        return width, height

    def bottom(self, box: Box) -> Box:
        """A box on the lowest row of `box`'s family, for stacking what comes under it."""
        family = self.families[box.id]
        if family.hung:
            return self.bottom(self.bands(family.hung)[-1][0])
        return self.grid(family.framed)[-1][0] if family.framed else box

    # -- partners and legend -------------------------------------------------------

    def partners(self) -> Iterator[str]:
        """Link partners framed in rows under the whole chart."""
        partners = self.chart.partners
        if not partners:
            return
        yield '  subgraph cluster_partners { label="共建、结对单位" fontsize=10 style="rounded,dashed" color="#9e9e9e" margin=6'
        for partner in partners:
            name = "<BR/>".join(escaped(line) for line in wrap(partner.name, NAME_WIDTH))
            yield (
                f"    {self.node_ids[partner.id]} [id={quoted('partner:' + partner.id)} shape=box "
                f'style="rounded,filled" fillcolor="#eeeeee" label=<{name}>]'
            )
        rows = [[partner.id for partner in row] for row in self.grid(partners)]
        yield from self.stacked([self.bottom(self.chart.root).id], rows, "    ")
        yield "  }"

    def legend(self) -> Iterator[str]:
        chart = self.chart
        rows = [f'<TR><TD COLSPAN="2" ALIGN="LEFT"><B>图例</B>（{escaped(chart.subtitle)}）</TD></TR>']
        for kind in kinds_drawn(chart.boxes):
            rows.append(
                f'<TR><TD BGCOLOR="{FILL[kind]}" BORDER="1" WIDTH="18"> </TD><TD ALIGN="LEFT">{term(kind)}</TD></TR>'
            )
        for mark in Mark:
            rows.append(f'<TR><TD>{mark.value}</TD><TD ALIGN="LEFT">{mark.meaning}</TD></TR>')
        if any(box.kind is None for box in chart.boxes):
            rows.append('<TR><TD>+ N</TD><TD ALIGN="LEFT">超出图幅、未逐一画出的组织</TD></TR>')
        rows.append('<TR><TD>□</TD><TD ALIGN="LEFT">框内为所属组织</TD></TR>')
        for link in sorted({edge.link for edge in chart.edges if edge.link is not None}):
            colour = LINK_COLOUR[link]
            rows.append(f'<TR><TD><FONT COLOR="{colour}">- - -</FONT></TD><TD ALIGN="LEFT">{term(link)}</TD></TR>')
        table = (
            '<TABLE BORDER="1" COLOR="#bdbdbd" CELLBORDER="0" CELLSPACING="2" CELLPADDING="2">'
            + "".join(rows)
            + "</TABLE>"
        )
        yield f'  legend [shape=plaintext style="" fontsize=8 label=<{table}>]'
        yield f"  {{ rank=same; {self.node_ids[chart.root.id]}; legend }}"
