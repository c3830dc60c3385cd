"""What a server takes and shows, over HTTP: a write only from a JSON POST, pages of other
origins kept out unless named, and a production server with no explorer and no
introspection."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from config import read_config
from exposure import Exposure
from graph.errors import ConfigInvalid
from graph.stores.networkx.state import State
from tests.conftest import LiveServer, free_port, serve

WRITE = 'mutation { applyChanges(changes: [{setOrganizationDetails: {orgId: "B1", stars: 5}}]) { changeSet } }'
BODY = json.dumps({"query": WRITE})


@pytest.fixture
def server(state: State) -> LiveServer:
    with LiveServer(state) as live:
        yield live  # type: ignore[misc]


def written(server: LiveServer) -> int:
    return server.query("{ auditLog { totalCount } }")["data"]["auditLog"]["totalCount"]


@pytest.mark.parametrize(
    "request_kwargs",
    [
        {"content": BODY, "headers": {"content-type": "text/plain"}},  # what a page may POST to any host
        {"data": {"query": WRITE}},  # a form
        {"files": {"operations": (None, BODY), "map": (None, "{}")}},  # multipart
        {"content": BODY},  # no content type at all
    ],
    ids=["text/plain", "form", "multipart", "none"],
)
def test_a_write_runs_only_from_a_json_post(server: LiveServer, request_kwargs: dict) -> None:
    response = httpx.post(f"{server.url}/graphql", **request_kwargs)
    assert response.status_code == 415
    assert response.json()["errors"][0]["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert written(server) == 0
    json_post = httpx.post(
        f"{server.url}/graphql", content=BODY, headers={"content-type": "application/json; charset=utf-8"}
    )
    assert json_post.json()["data"]["applyChanges"]["changeSet"] == 1 and written(server) == 1


def test_a_get_never_writes(server: LiveServer) -> None:
    response = httpx.get(f"{server.url}/graphql", params={"query": WRITE})
    assert response.status_code in (400, 405) and written(server) == 0
    assert httpx.get(f"{server.url}/graphql", params={"query": "{ __typename }"}).json() == {
        "data": {"__typename": "Query"}
    }


def preflight(server: LiveServer, origin: str) -> httpx.Response:
    return httpx.options(f"{server.url}/graphql", headers={
        "Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type",
    })  # fmt: skip


def test_no_other_origin_is_allowed_by_default(server: LiveServer) -> None:
    assert "access-control-allow-origin" not in preflight(server, "https://dash.park.cn").headers
    answered = httpx.post(f"{server.url}/graphql", json={"query": "{ __typename }"}, headers={"Origin": "https://x.cn"})
    assert "access-control-allow-origin" not in answered.headers


def test_a_named_origin_is_allowed_and_no_other(state: State) -> None:
    with LiveServer(state, exposure=Exposure(cors_origins=("https://dash.park.cn",))) as server:
        allowed = preflight(server, "https://dash.park.cn")
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://dash.park.cn"
        assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
        refused = preflight(server, "https://evil.example")
        assert refused.status_code == 400 and "access-control-allow-origin" not in refused.headers


def test_without_the_explorer_there_is_no_page_and_no_introspection(state: State) -> None:
    with LiveServer(state, exposure=Exposure(explorer=False)) as server:
        page = httpx.get(f"{server.url}/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 404
        assert httpx.get(f"{server.url}/static/graphiql.html").status_code == 404
        dashboard = httpx.get(f"{server.url}/")  # the dashboard stays, its links to the explorer hidden
        assert 'data-explorer="false"' in dashboard.text
        assert httpx.get(f"{server.url}/static/dashboard/dashboard.js").status_code == 200
        for query in ("{ __schema { types { name } } }", '{ __type(name: "Organization") { fields { name } } }'):
            answer = server.query(query)
            assert answer.get("data") is None and answer["errors"]
            assert all("introspection" in error["message"].lower() for error in answer["errors"])
        assert server.query('{ organization(id: "B1") { name __typename } }')["data"] == {
            "organization": {"name": "企业1党支部", "__typename": "Organization"}
        }
    with LiveServer(state) as server:  # the default keeps both for the explorer
        assert httpx.get(f"{server.url}/graphql", headers={"Accept": "text/html"}).status_code == 200
        assert "errors" not in server.query("{ __schema { queryType { name } } }")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[http]\ncors_origins = ['*']", "http.cors_origins: '*' is not an origin"),
        ("[http]\ncors_origins = ['https://a.cn/']", "http.cors_origins: 'https://a.cn/' is not an origin"),
        ("[http]\ncors_origins = 'https://a.cn'", "http.cors_origins: must be a list"),
        ("[http]\nexplorer = 'no'", "http.explorer: must be true or false"),
        ("[http]\nexplore = false", "http.explore: no such setting"),
    ],
)
def test_a_bad_http_section_is_refused_with_its_key(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "chainorg.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigInvalid, match=message.replace("*", r"\*").replace(".", r"\.")):
        read_config(tmp_path / "chainorg.toml")


def test_the_serve_flags_reach_the_server() -> None:
    port = free_port()
    server = serve("--demo", "--no-explorer", "--cors-origin", "https://dash.park.cn", port=port)
    url = f"http://127.0.0.1:{port}"
    try:
        assert httpx.get(f"{url}/graphql", headers={"Accept": "text/html"}).status_code == 404
        allowed = httpx.options(f"{url}/graphql", headers={"Origin": "https://dash.park.cn",
                                                           "Access-Control-Request-Method": "POST"})  # fmt: skip
        assert allowed.headers["access-control-allow-origin"] == "https://dash.park.cn"
    finally:
        server.terminate()
        server.wait(timeout=30)
