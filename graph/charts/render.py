"""Turning a chart into the bytes of a format; pictures are drawn by Graphviz's `dot`.

`dot` runs as a child process, at most RENDERERS at once and each for at most
`timeout` seconds, so a chart can neither hang the server nor crowd it out; the
number of boxes is already bounded by `ChartLimits`. Text is laid out with the CJK
font named in the DOT; an SVG also lists common Chinese fonts after it for viewers
without that one.
"""

from __future__ import annotations

import shutil
import subprocess
import threading

from graph.charts.chart import Chart
from graph.charts.data import to_graphml, to_json
from graph.charts.dot import A4, FONT, to_dot
from graph.charts.formats import ChartFormat
from graph.charts.mermaid import to_mermaid
from graph.errors import ChainorgError

RENDERERS = 2
RENDER_TIMEOUT = 20.0
SVG_FONTS = f"{FONT},Noto Sans CJK SC,Source Han Sans SC,Microsoft YaHei,PingFang SC,sans-serif"
PNG_DPI = 110
A4_PAGE = (8.27, 11.69)
_running = threading.BoundedSemaphore(RENDERERS)


class RenderFailed(ChainorgError):
    """Graphviz is missing, busy past the time limit, took too long, or refused the chart."""

    code = "RENDER_FAILED"


def render(chart: Chart, format: ChartFormat, timeout: float = RENDER_TIMEOUT) -> bytes:
    """The chart in `format`; blocking, so call it from a worker thread."""
    match format:
        case ChartFormat.DOT:
            return to_dot(chart).encode()
        case ChartFormat.MERMAID:
            return to_mermaid(chart).encode()
        case ChartFormat.GRAPHML:
            return to_graphml(chart)
        case ChartFormat.JSON:
            return to_json(chart)
    drawn = graphviz(to_dot(chart), format, timeout)
    if format is ChartFormat.SVG:
        drawn = drawn.replace(f'font-family="{FONT}"'.encode(), f'font-family="{SVG_FONTS}"'.encode())
    return drawn


def graphviz(dot: str, format: ChartFormat, timeout: float = RENDER_TIMEOUT) -> bytes:
    """`dot` drawn by Graphviz in SVG, PNG or PDF (a PDF fits one A4 page, turned to suit)."""
    program = shutil.which("dot")
    if program is None:
        raise RenderFailed(
            "Graphviz is not installed here (Debian package graphviz), so SVG, PNG and PDF cannot be drawn; "
            "DOT, MERMAID, GRAPHML and JSON need no renderer"
        )
    if not _running.acquire(timeout=timeout):
        raise RenderFailed(f"every renderer stayed busy for {timeout:g} s; try again shortly")
    try:
        options = _FORMAT_OPTIONS[format]
        if format is ChartFormat.PDF:
            options = [*options, *_a4_options(_run([program, "-Tplain"], dot, timeout))]
        return _run([program, *options], dot, timeout)
    finally:
        _running.release()


def _run(command: list[str], dot: str, timeout: float) -> bytes:
    try:
        done = subprocess.run(command, input=dot.encode(), capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise RenderFailed(f"Graphviz took over {timeout:g} s to draw the chart; ask for less depth") from None
    if done.returncode != 0:
        problem = done.stderr.decode(errors="replace").strip().splitlines()
        raise RenderFailed(f"Graphviz refused the chart: {problem[0] if problem else f'exit {done.returncode}'}")
    return done.stdout


_FORMAT_OPTIONS = {
    ChartFormat.SVG: ["-Tsvg"],
    ChartFormat.PNG: ["-Tpng:cairo", f"-Gdpi={PNG_DPI}"],
    ChartFormat.PDF: ["-Tpdf:cairo"],
}


def _a4_options(plain: bytes) -> list[str]:
    """Options that draw a layout (`-Tplain`) on exactly one A4 page, scaled to fit inside 1 cm
    margins, never enlarged, landscape when it is wider than tall. Graphviz scales the pad with
    the drawing to fit `size`, so the pad is chosen in layout inches."""
    width, height = (float(value) for value in plain.split(b"\n", 1)[0].split()[2:4])
    wide = width > height
    room = (A4[1], A4[0]) if wide else A4
    page = (A4_PAGE[1], A4_PAGE[0]) if wide else A4_PAGE
    scale = min(room[0] / width, room[1] / height, 1.0)
    pad = [(side / scale - drawn) / 2 for side, drawn in zip(page, (width, height), strict=True)]
    return ["-Gmargin=0", f"-Gsize={page[0]},{page[1]}", f"-Gpad={pad[0]:.4f},{pad[1]:.4f}"]
