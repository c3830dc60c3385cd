"""orgChart over GraphQL and GET /charts/{id}.{ext}, from a real uvicorn server on the demo."""

from __future__ import annotations

import base64
from urllib.parse import unquote

import httpx
import pytest

from graph.charts import ChartFormat
from loaders.demo import CHAIN_COMMITTEE_ID, CLUSTERS
from tests.conftest import LiveServer

CHART = """query($root: ID!, $format: ChartFormat!, $depth: Int, $asOf: Date) {
  orgChart(root: $root, format: $format, depth: $depth, asOf: $asOf) { contentType filename content base64 }
}"""


@pytest.mark.parametrize("format", list(ChartFormat))
def test_org_chart_in_every_format(demo_server: LiveServer, format: ChartFormat) -> None:
    found = demo_server.query(CHART, {"root": CHAIN_COMMITTEE_ID, "format": format.name, "asOf": "2021-07-31"})
    chart = found["data"]["orgChart"]
    assert chart["contentType"] == format.content_type
    assert chart["filename"] == f"移动互联网行业(产业链)党委_2021-07-31.{format.extension}"
    assert chart["base64"] is format.binary
    content = base64.b64decode(chart["content"]) if format.binary else chart["content"].encode()
    starts = {ChartFormat.PNG: b"\x89PNG", ChartFormat.PDF: b"%PDF", ChartFormat.DOT: b"digraph",
              ChartFormat.MERMAID: b"---", ChartFormat.JSON: b"{", ChartFormat.GRAPHML: b"<?xml"}  # fmt: skip
    assert content.startswith(starts.get(format, b"<?xml"))
    if not format.binary:
        assert all(name in chart["content"] for name, _ in CLUSTERS)


@pytest.mark.parametrize(
    ("variables", "code"),
    [
        ({"root": "NO-SUCH", "format": "SVG"}, "NOT_FOUND"),
        ({"root": CHAIN_COMMITTEE_ID, "format": "SVG", "depth": 9}, "BAD_USER_INPUT"),
        ({"root": CHAIN_COMMITTEE_ID, "format": "SVG", "asOf": "2019-01-01"}, "NOT_FOUND"),  # not yet established
        ({"root": CHAIN_COMMITTEE_ID, "format": "GIF"}, "GRAPHQL_VALIDATION_FAILED"),
    ],
)
def test_org_chart_errors_carry_a_code(demo_server: LiveServer, variables: dict, code: str) -> None:
    response = httpx.post(f"{demo_server.url}/graphql", json={"query": CHART, "variables": variables}, timeout=30)
    assert response.json()["errors"][0]["extensions"]["code"] == code


@pytest.mark.parametrize("format", list(ChartFormat))
def test_the_download_route_names_the_file_and_its_type(demo_server: LiveServer, format: ChartFormat) -> None:
    url = f"{demo_server.url}/charts/{CHAIN_COMMITTEE_ID}.{format.extension}?depth=2&asOf=2021-07-31&links=true&download=true"
    response = httpx.get(url, timeout=60)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == format.content_type.split(";")[0]
    disposition = response.headers["content-disposition"]
    assert disposition.startswith(f'attachment; filename="{CHAIN_COMMITTEE_ID}.{format.extension}"; ')
    assert unquote(disposition.split("''", 1)[1]) == f"移动互联网行业(产业链)党委_2021-07-31.{format.extension}"


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/charts/NO-SUCH.svg", 404, "NOT_FOUND"),
        (f"/charts/{CHAIN_COMMITTEE_ID}.gif", 404, "NOT_FOUND"),
        (f"/charts/{CHAIN_COMMITTEE_ID}.svg?depth=deep", 400, "BAD_REQUEST"),
        (f"/charts/{CHAIN_COMMITTEE_ID}.svg?depth=7", 400, "BAD_USER_INPUT"),
        (f"/charts/{CHAIN_COMMITTEE_ID}.svg?asOf=July", 400, "BAD_REQUEST"),
    ],
)
def test_the_download_route_refuses_clearly(demo_server: LiveServer, path: str, status: int, code: str) -> None:
    response = httpx.get(f"{demo_server.url}{path}", timeout=30)
    assert response.status_code == status
    assert response.json()["errors"][0]["extensions"]["code"] == code
