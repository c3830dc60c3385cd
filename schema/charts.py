"""The org chart over GraphQL: a thin view of graph.charts."""

from __future__ import annotations

import base64

import strawberry

from graph import charts
from schema.types import described

ChartFormat = charts.ChartFormat
described(
    ChartFormat,
    "ChartFormat",
    "The file format of an org chart.",
    {"SVG": "A picture that scales, with names as text (image/svg+xml).",
     "PNG": "A picture in pixels (image/png); `content` is base64.",
     "PDF": "One A4 page, with the CJK font embedded (application/pdf); `content` is base64.",
     "DOT": "Graphviz source, to restyle and draw yourself.",
     "MERMAID": "A Mermaid flowchart, for Markdown and wikis that draw Mermaid.",
     "GRAPHML": "GraphML for yEd or Gephi: the boxes as nodes with their figures, tree and links as edges.",
     "JSON": "networkx node-link JSON of the same graph, for scripts."},
)  # fmt: skip


@strawberry.type(description="An org chart as a file: its content, the content type and a name to save it under.")
class Chart:
    content_type: str = strawberry.field(description="The MIME type, e.g. image/svg+xml.")
    filename: str = strawberry.field(description="A file name: the root organization's name, the date, the extension.")
    content: str = strawberry.field(description="The file: text for SVG, DOT, MERMAID, GRAPHML and JSON; base64 "
                                    "for PNG and PDF (see `base64`).")  # fmt: skip
    base64: bool = strawberry.field(description="Whether `content` is base64-encoded bytes.")

    @classmethod
    def of(cls, drawn: charts.ChartFile) -> Chart:
        binary = drawn.format.binary
        content = base64.b64encode(drawn.content).decode() if binary else drawn.content.decode()
        return cls(content_type=drawn.content_type, filename=drawn.filename, content=content, base64=binary)
