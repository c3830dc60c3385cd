"""Charts in every format, checked by the tools that read them: Graphviz, Pillow, poppler, networkx."""

from __future__ import annotations

import io
import json
import re
import subprocess
from datetime import date

import anyio
import networkx as nx
import pytest
from PIL import Image

from graph.charts import Chart, ChartFormat, build_chart
from graph.charts.dot import FONT, to_dot
from graph.charts.render import RenderFailed, graphviz, render
from graph.stores.networkx import NetworkxStore
from loaders import DEMO_DAY
from loaders.demo import CHAIN_COMMITTEE_ID, CLUSTERS


@pytest.fixture(scope="module")
def chain_chart(demo_store: NetworkxStore) -> Chart:
    """The demo's chain committee: 11 clusters, 168 enterprise organizations, with links."""
    tree = anyio.run(demo_store.organization_tree, CHAIN_COMMITTEE_ID, 3, DEMO_DAY, True)
    return build_chart(tree)


def names(chart: Chart) -> list[str]:
    return [box.name for box in chart.boxes if box.kind is not None]


def test_svg_holds_every_name_as_text_in_the_cjk_font(chain_chart: Chart) -> None:
    svg = render(chain_chart, ChartFormat.SVG).decode()
    texts = "".join(re.findall(r"<text[^>]*>([^<]*)</text>", svg))
    assert len(names(chain_chart)) == 1 + 1 + len(CLUSTERS) + 168
    for name in names(chain_chart):
        assert name.replace("&", "&amp;") in texts  # a wrapped name's lines are consecutive text elements
    assert f'font-family="{FONT},' in svg


def test_png_is_a_real_picture_that_is_not_blank(chain_chart: Chart) -> None:
    picture = Image.open(io.BytesIO(render(chain_chart, ChartFormat.PNG)))
    width, height = picture.size
    assert picture.format == "PNG" and 1_000 < width < 6_000 and 1_000 < height < 6_000
    grey = picture.convert("L")
    inked = sum(count for level, count in enumerate(grey.histogram()) if level < 128)
    assert inked > width * height * 0.005  # text and lines, not an empty page
    colours = picture.convert("RGB").getcolors(maxcolors=1 << 16) or []
    assert any(r > 180 and g < 80 and b < 80 for _, (r, g, b) in colours)  # the committee's red box is drawn


def test_pdf_is_one_a4_page_with_the_names_and_an_embedded_cjk_font(chain_chart: Chart, tmp_path) -> None:
    path = tmp_path / "chart.pdf"
    path.write_bytes(render(chain_chart, ChartFormat.PDF))
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    flat = re.sub(r"\s+", "", text)
    for name in names(chain_chart):
        assert name.replace(" ", "") in flat
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    cjk = [line for line in fonts.splitlines() if "WenQuanYi" in line]
    assert cjk and all(" yes " in line for line in cjk)  # embedded (a subset)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Pages:\s+1\n", info)
    width, height = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups())
    assert sorted((width, height)) == pytest.approx([8.27 * 72, 11.69 * 72], rel=0.02)  # A4, to the point


def test_graphviz_accepts_the_dot(chain_chart: Chart) -> None:
    done = subprocess.run(["dot", "-Tcanon"], input=to_dot(chain_chart).encode(), capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode()
    assert b"warning" not in done.stderr.lower()


def test_mermaid_is_a_flowchart_whose_edges_join_declared_nodes(chain_chart: Chart) -> None:
    text = render(chain_chart, ChartFormat.MERMAID).decode()
    lines = [line.strip() for line in text.splitlines()]
    assert lines[:4] == ["---", f"title: {chain_chart.title}（{chain_chart.subtitle}）", "---", "flowchart TB"]
    nodes = re.findall(r'^\s*([np]\d+)(?:\["|\(\[")(.*?)(?:"\]|"\]\)):::(\w+)$', text, re.MULTILINE)
    declared = {node for node, _, _ in nodes}
    assert len(declared) == len(nodes) == len(chain_chart.boxes) + len(chain_chart.partners)
    edges = re.findall(r"^\s*([np]\d+) (-->|-\.->\|\"[^\"]+\"\|) ([np]\d+)$", text, re.MULTILINE)
    assert len(edges) == len(chain_chart.edges)
    assert all(source in declared and target in declared for source, _, target in edges)
    assert sum(line.startswith("subgraph ") for line in lines) == sum(line == "end" for line in lines) == len(CLUSTERS)
    assert all('"' not in label for _, label, _ in nodes)  # quotes in names are escaped


@pytest.mark.parametrize(
    ("format", "read"),
    [
        (ChartFormat.GRAPHML, lambda content: nx.read_graphml(io.BytesIO(content))),
        (ChartFormat.JSON, lambda content: nx.node_link_graph(json.loads(content), edges="edges")),
    ],
)
def test_data_formats_round_trip_through_networkx(chain_chart: Chart, format: ChartFormat, read) -> None:
    graph = read(render(chain_chart, format))
    assert set(graph.nodes) == {box.id for box in chain_chart.boxes} | {p.id for p in chain_chart.partners}
    expected = {(e.source, e.target, "PART_OF" if e.link is None else e.link.value) for e in chain_chart.edges}
    assert set(graph.edges(data="kind")) == expected
    root = graph.nodes[CHAIN_COMMITTEE_ID]
    assert (root["name"], root["members"], root["kind"]) == ("移动互联网行业(产业链)党委", 3_677, "CHAIN_COMMITTEE")
    assert graph.graph["as_of"] == DEMO_DAY.isoformat()


def test_a_missing_graphviz_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(RenderFailed, match="Graphviz is not installed"):
        graphviz("digraph { a }", ChartFormat.SVG)


def test_graphviz_past_its_time_is_stopped() -> None:
    heavy = "digraph { " + " ".join(f"n{i} -> n{(i * 7919) % 3000}" for i in range(3000)) + " }"
    with pytest.raises(RenderFailed, match="took over 0.05 s"):
        graphviz(heavy, ChartFormat.SVG, timeout=0.05)


def test_a_date_before_a_branch_existed_leaves_it_out(demo_store: NetworkxStore) -> None:
    before = anyio.run(demo_store.organization_tree, CHAIN_COMMITTEE_ID, 3, date(2019, 6, 1))
    after = anyio.run(demo_store.organization_tree, CHAIN_COMMITTEE_ID, 3, DEMO_DAY)
    assert len(before.organizations) < len(after.organizations)
    assert all(i.organization.established_on is None or i.organization.established_on <= date(2019, 6, 1)
               for i in before.organizations)  # fmt: skip
