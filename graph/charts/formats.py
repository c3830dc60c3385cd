"""The file formats a chart is exported in, and the file a chart becomes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class ChartFormat(StrEnum):
    """A picture through Graphviz (SVG, PNG, PDF), or text and data for other tools."""

    SVG = "SVG"
    PNG = "PNG"
    PDF = "PDF"
    DOT = "DOT"
    MERMAID = "MERMAID"
    GRAPHML = "GRAPHML"
    JSON = "JSON"

    @property
    def extension(self) -> str:
        return _EXTENSIONS[self]

    @property
    def content_type(self) -> str:
        return _CONTENT_TYPES[self]

    @property
    def binary(self) -> bool:
        """True where the content is not text (sent base64-encoded over GraphQL)."""
        return self in (ChartFormat.PNG, ChartFormat.PDF)

    @classmethod
    def of_extension(cls, extension: str) -> ChartFormat | None:
        return next((f for f in cls if f.extension == extension.lower()), None)


_EXTENSIONS = {
    ChartFormat.SVG: "svg", ChartFormat.PNG: "png", ChartFormat.PDF: "pdf", ChartFormat.DOT: "dot",
    ChartFormat.MERMAID: "mmd", ChartFormat.GRAPHML: "graphml", ChartFormat.JSON: "json",
}  # fmt: skip
_CONTENT_TYPES = {
    ChartFormat.SVG: "image/svg+xml",
    ChartFormat.PNG: "image/png",
    ChartFormat.PDF: "application/pdf",
    ChartFormat.DOT: "text/vnd.graphviz; charset=utf-8",
    ChartFormat.MERMAID: "text/vnd.mermaid; charset=utf-8",
    ChartFormat.GRAPHML: "application/graphml+xml",
    ChartFormat.JSON: "application/json",
}
_UNSAFE = re.compile(r'[\\/:*?"<>|\s]+')


@dataclass(frozen=True, slots=True)
class ChartFile:
    """A rendered chart: its bytes, their content type, and a file name to save them under."""

    content: bytes
    format: ChartFormat
    filename: str

    @property
    def content_type(self) -> str:
        return self.format.content_type


def chart_filename(name: str, as_of: str, format: ChartFormat) -> str:
    """A file name safe on Windows and Unix: the root's name, the date, the extension.

    >>> chart_filename("移动互联网行业(产业链)党委", "2021-07-31", ChartFormat.SVG)
    '移动互联网行业(产业链)党委_2021-07-31.svg'
    >>> chart_filename('a/b: "c"', "2021-07-31", ChartFormat.PDF)
    'a_b_c_2021-07-31.pdf'
    """
    return f"{_UNSAFE.sub('_', name).strip('._') or 'chart'}_{as_of}.{format.extension}"
