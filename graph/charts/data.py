"""A chart as data for yEd, Gephi or a script: a networkx graph, GraphML, node-link JSON.

Nodes carry what the boxes show as plain attributes (GraphML has no lists or nulls:
a joint branch's enterprises are one text joined by "、", and absent values are left
out); edges carry `kind`, PART_OF for the tree and the link kind otherwise.
"""

from __future__ import annotations

import io
import json

import networkx as nx

from graph.charts.chart import Box, Chart

PART_OF = "PART_OF"
PARTNER = "PARTNER"


def chart_graph(chart: Chart) -> nx.DiGraph[str]:
    """The chart's boxes and partners as nodes (keyed by ledger id), its edges as edges.

    >>> from datetime import date
    >>> from graph.charts.chart import ChartEdge
    >>> from graph.model import OrgKind
    >>> root, branch = Box("C", None, 0, "数据党群联组", OrgKind.CLUSTER), Box("B", "C", 1, "甲党支部", OrgKind.BRANCH)
    >>> graph = chart_graph(Chart(date(2021, 7, 31), (root, branch), (ChartEdge("C", "B"),)))
    >>> sorted(graph.nodes), list(graph.edges(data="kind"))
    (['B', 'C'], [('C', 'B', 'PART_OF')])
    """
    graph: nx.DiGraph[str] = nx.DiGraph(title=chart.title, as_of=chart.as_of.isoformat(), root=chart.root.id)
    for box in chart.boxes:
        graph.add_node(box.id, **_attributes(box))
    for partner in chart.partners:
        graph.add_node(partner.id, name=partner.name, kind=PARTNER)
    for edge in chart.edges:
        graph.add_edge(edge.source, edge.target, kind=PART_OF if edge.link is None else edge.link.value)
    return graph


def _attributes(box: Box) -> dict[str, str | int | float]:
    found: dict[str, str | int | float] = {
        "name": box.name,
        "kind": box.kind.value if box.kind is not None else "MORE",
        "level": box.level,
        "members": box.members.total,
        "formal_members": box.members.formal,
        "units": box.units,
        "inactive_units": box.inactive_units,
        "below": box.below,
        "hidden": box.hidden,
    }
    if box.mark is not None:
        found["mark"] = box.mark.name
    if box.coverage is not None:
        found["enterprises"] = box.coverage.enterprises
        found["organization_rate"] = round(box.coverage.organization_rate, 6)
        found["work_rate"] = round(box.coverage.work_rate, 6)
    if box.enterprises:
        found["covered_enterprises"] = "、".join(box.enterprises)
    return found


def to_graphml(chart: Chart) -> bytes:
    buffer = io.BytesIO()
    nx.write_graphml(chart_graph(chart), buffer, encoding="utf-8", named_key_ids=True)
    return buffer.getvalue()


def to_json(chart: Chart) -> bytes:
    """networkx node-link JSON (`nx.node_link_graph(data, edges="edges")` reads it back)."""
    data = nx.node_link_data(chart_graph(chart), edges="edges")
    return json.dumps(data, ensure_ascii=False, indent=1).encode()
