"""A chart as a Mermaid flowchart, for wikis and Markdown that draw Mermaid themselves.

Families are subgraphs as in the DOT layout; links are dashed edges labelled with
their kind. Mermaid has no entity for every character a name may hold, so quotes,
angle brackets, `#` and `&` are written as Mermaid's `#code;` escapes.
"""

from __future__ import annotations

from collections.abc import Iterator

from graph.charts.chart import Box, Chart, families
from graph.charts.dot import FILL, LIGHT_TEXT
from graph.model import OrgKind
from graph.vocabulary import term

_ESCAPES = {"#": "#35;", '"': "#quot;", "<": "#lt;", ">": "#gt;", "&": "#amp;"}


def mermaid_text(text: str) -> str:
    """`text` safe inside a quoted Mermaid label.

    >>> mermaid_text('A&B "联合"#1')
    'A#amp;B #quot;联合#quot;#35;1'
    """
    return "".join(_ESCAPES.get(char, char) for char in text)


def to_mermaid(chart: Chart) -> str:
    """The chart as `flowchart TB` text: one node per box and partner, a subgraph per framed family."""
    return "\n".join(_MermaidWriter(chart).lines()) + "\n"


class _MermaidWriter:
    def __init__(self, chart: Chart):
        self.chart = chart
        self.families = families(chart)
        self.ids = {box.id: f"n{n}" for n, box in enumerate(chart.boxes)}
        self.ids.update({p.id: f"p{n}" for n, p in enumerate(chart.partners)})

    def lines(self) -> Iterator[str]:
        chart = self.chart
        yield "---"
        yield f"title: {chart.title}（{chart.subtitle}）"
        yield "---"
        yield "flowchart TB"
        yield from self.family(chart.root, "  ")
        for partner in chart.partners:
            yield f'  {self.ids[partner.id]}(["{mermaid_text(partner.name)}"]):::partner'
        for edge in chart.edges:
            source, target = self.ids[edge.source], self.ids[edge.target]
            if edge.link is None:
                yield f"  {source} --> {target}"
            else:
                yield f'  {source} -.->|"{mermaid_text(term(edge.link) or edge.link.value)}"| {target}'
        for kind in OrgKind:
            colour = "#ffffff" if kind in LIGHT_TEXT else "#000000"
            yield f"  classDef {kind.value.lower()} fill:{FILL[kind]},color:{colour},stroke:#9e9e9e"
        yield "  classDef more fill:#ffffff,stroke:#757575,stroke-dasharray:4 3"
        yield "  classDef partner fill:#eeeeee,stroke:#9e9e9e"

    def family(self, box: Box, indent: str) -> Iterator[str]:
        family = self.families[box.id]
        framed = bool(family.framed)
        if framed:
            yield f'{indent}subgraph f{self.ids[box.id]}[" "]'
        inside = indent + "  " if framed else indent
        yield f'{inside}{self.ids[box.id]}["{self.label(box)}"]:::{self.style(box)}'
        for kid in family.framed + family.hung:
            yield from self.family(kid, inside)
        if framed:
            yield f"{indent}end"

    def label(self, box: Box) -> str:
        lines = [f"<b>{mermaid_text(box.name)}</b>", *map(mermaid_text, box.details)]
        lines += [f"· {mermaid_text(name)}" for name in box.listed]
        return "<br/>".join(lines)

    def style(self, box: Box) -> str:
        return "more" if box.kind is None else box.kind.value.lower()
