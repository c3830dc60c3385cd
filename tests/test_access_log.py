"""The access log over HTTP: one JSON line per request, with who, what, cost, time and outcome,
and never a token, a query's text or a variable's value."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx
import pytest

from access_log import AccessLog
from graph.access import Role
from graph.stores.networkx.state import State
from tests.conftest import CHAINORG, LiveServer, free_port
from tokens import TokenBook

SECRET = "机密书记姓名"
NAMED_WRITE = (
    'mutation Name($s: String!) { applyChanges(changes: [{setOrganizationDetails: {orgId: "B1", secretary: $s}}]) '
    "{ changeSet } }"
)


def test_each_request_is_one_line_without_secrets(state: State, tmp_path: Path) -> None:
    path = tmp_path / "access.jsonl"
    requests_log = AccessLog(path)
    token = TokenBook(state.durable.path).create("园区管理员", Role.ADMIN)
    with LiveServer(state, requests_log=requests_log) as server:
        headers = {"Authorization": f"Bearer {token}"}
        asked = [
            ("query Parks { parks { name } }", None),
            ("{ coverage { enterprises } }", None),
            (NAMED_WRITE, {"s": SECRET}),
            ("{ nosuchfield }", None),
            ('mutation { applyChanges(changes: [{dissolveOrganization: {orgId: "NOBODY"}}]) { changeSet } }', None),
        ]  # fmt: skip
        for query, variables in asked:
            httpx.post(f"{server.url}/graphql", json={"query": query, "variables": variables}, headers=headers)
        bad = {"Authorization": "Bearer tok-not-to-be-logged"}
        assert httpx.post(f"{server.url}/graphql", json={"query": "{ parks { name } }"}, headers=bad).status_code == 401
        form = {**headers, "Content-Type": "text/plain"}
        assert httpx.post(f"{server.url}/graphql", content="{}", headers=form).status_code == 415
    requests_log.close()
    text = path.read_text(encoding="utf-8")
    assert SECRET not in text and token not in text and "tok-not-to-be-logged" not in text and "nosuchfield" not in text
    *lines, unknown_token, form_post = [json.loads(line) for line in text.splitlines()]
    assert (unknown_token["kind"], unknown_token["outcome"]) == ("refused", "UNAUTHENTICATED")
    assert (form_post["kind"], form_post["outcome"]) == ("refused", "UNSUPPORTED_MEDIA_TYPE")
    assert [(e["kind"], e["operation"], e["outcome"]) for e in lines] == [
        ("query", "Parks", "ok"),
        ("query", None, "ok"),
        ("mutation", "Name", "ok"),
        ("query", None, "GRAPHQL_VALIDATION_FAILED"),
        ("mutation", None, "NOT_FOUND"),
    ]
    assert all(e["who"] == "园区管理员" and e["ms"] >= 0 and e["at"].endswith("+00:00") for e in lines)
    assert all(isinstance(e["cost"], int) and e["cost"] > 0 for e in lines[:3])


@pytest.mark.parametrize("where", ["folder", "missing/parent/access.jsonl"])
def test_an_access_log_that_cannot_be_written_stops_serve_with_a_reason(tmp_path: Path, where: str) -> None:
    target = tmp_path if where == "folder" else tmp_path / where
    done = subprocess.run([CHAINORG, "serve", "--demo", "--port", str(free_port()), "--access-log", str(target)],
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"--access-log {target}:" in done.stderr


def test_a_full_disk_under_the_access_log_fails_no_request(state: State) -> None:
    requests_log = AccessLog(Path("/dev/full"))  # every write: no space left on device
    with LiveServer(state, requests_log=requests_log) as server:
        for _ in range(2):
            assert server.query("{ coverage { enterprises } }")["data"]["coverage"]["enterprises"] > 0
    requests_log.close()
