"""Org charts (组织架构图): a subtree of organizations drawn as a picture or exported as data.

`org_chart` is the one entry point the API, the download route and the CLI share: the
store answers the tree in one operation, `build_chart` decides what fits, and
`render` writes the format off the event loop.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from graph.charts.chart import DEFAULT_CHART_LIMITS, Chart, ChartLimits, build_chart
from graph.charts.formats import ChartFile, ChartFormat, chart_filename
from graph.charts.render import RenderFailed, render
from graph.charts.tree import MAX_DEPTH, OrganizationTree
from graph.errors import InvalidArgument
from graph.threads import offload

if TYPE_CHECKING:
    from graph.stores.protocol import OrgStore

DEFAULT_DEPTH = 3

__all__ = [
    "DEFAULT_DEPTH", "MAX_DEPTH", "Chart", "ChartFile", "ChartFormat", "ChartLimits", "OrganizationTree",
    "RenderFailed", "build_chart", "org_chart",
]  # fmt: skip


async def org_chart(
    store: OrgStore,
    root_id: str,
    format: ChartFormat,
    depth: int = DEFAULT_DEPTH,
    links: bool = False,
    as_of: date | None = None,
    limits: ChartLimits = DEFAULT_CHART_LIMITS,
) -> ChartFile:
    """The chart of `root_id` and `depth` levels under it, as of a date, in `format`."""
    if not 0 <= depth <= MAX_DEPTH:
        raise InvalidArgument(f"depth must be from 0 to {MAX_DEPTH} (the tiers below a park committee), not {depth}")
    tree = await store.organization_tree(root_id, depth, as_of, links)
    chart = build_chart(tree, limits)
    content = await offload(render, chart, format)
    return ChartFile(content, format, chart_filename(chart.root.name, chart.as_of.isoformat(), format))
