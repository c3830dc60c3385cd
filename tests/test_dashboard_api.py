"""What the dashboard asks of the API beyond coverage: organizations counted by kind and mode,
alliances with their lead, organizations by stars, points and term end, the lists as
spreadsheets, and charts shown in the browser. Recounted by brute force over the demo's records."""

from __future__ import annotations

import copy
import io
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from python_calamine import CalamineWorkbook

import exports
from graph.access import Boundary, Role
from graph.dataset import Dataset
from graph.model import Category, LinkKind, Organization
from graph.query import Scope
from graph.rules import clock, counts_on, cover_span, day_number
from graph.stores.networkx import NetworkxStore
from graph.stores.networkx.state import State
from loaders import DEMO_DAY
from loaders.demo import CHAIN_COMMITTEE_ID, demo_dataset
from loaders.errors import LedgerInvalid
from loaders.ledger import load_ledger
from tests.conftest import HAND_TABLES, LiveServer
from tokens import TokenBook

SCOPES = [Scope(), Scope(park="长沙高新区"), Scope(category=Category.ECOMMERCE), Scope(chain="移动互联网")]


@pytest.fixture(scope="module")
def demo() -> Dataset:
    return demo_dataset()


@pytest.fixture(scope="module")
def server(demo: Dataset) -> Iterator[LiveServer]:
    """The demo as `chainorg serve` serves it: standing on the day its figures were published."""
    with LiveServer(NetworkxStore(demo, clock(DEMO_DAY))) as live:
        yield live


def scope_input(scope: Scope) -> dict:
    return {k: (v.value if hasattr(v, "value") else v) for k, v in
            (("park", scope.park), ("chain", scope.chain), ("category", scope.category)) if v}  # fmt: skip


def covering(dataset: Dataset, scope: Scope, day: date) -> list[Organization]:
    """Brute force: the organizations with a COVERS edge in effect on `day` to an enterprise counted then in `scope`."""
    table = dataset.enterprises
    enterprises = {e.credit_code: e for e in table.records(range(len(table)))}
    orgs = {o.id: o for o in dataset.organizations}
    found: set[str] = set()
    for cover in dataset.covers:
        org, enterprise, on = orgs[cover.org_id], enterprises[cover.credit_code], day_number(day)
        since, until = cover_span(cover, org)
        if since <= on < until and counts_on(enterprise, on) and scope.matches(enterprise, None):
            found.add(org.id)
    return [o for o in dataset.organizations if o.id in found]


@pytest.mark.parametrize("scope", SCOPES, ids=repr)
def test_organizations_counted_by_kind_and_mode_are_a_recount_and_add_up_to_coverage(
    server: LiveServer, demo: Dataset, scope: Scope
) -> None:
    query = """query($scope: ScopeInput, $asOf: Date) { coverage(scope: $scope, asOf: $asOf) { organizations }
      kinds: organizationCounts(by: KIND, scope: $scope, asOf: $asOf) { key label count }
      modes: organizationCounts(by: MODE, scope: $scope, asOf: $asOf) { key label count }
      listed: organizations(filter: {scope: $scope}) { totalCount } }"""
    for day in (DEMO_DAY, date(2020, 1, 1)):
        data = server.query(query, {"scope": scope_input(scope), "asOf": day.isoformat()})["data"]
        expected = covering(demo, scope, day)
        assert sum(c["count"] for c in data["kinds"]) == data["coverage"]["organizations"] == len(expected)
        assert sum(c["count"] for c in data["modes"]) == len(expected)
        by_kind = {c["key"]: c["count"] for c in data["kinds"]}
        assert by_kind == {k: sum(o.kind.value == k for o in expected) for k in {o.kind.value for o in expected}}
        by_mode = {c["key"]: c["count"] for c in data["modes"]}
        assert by_mode == {m: sum((o.mode.value if o.mode else "") == m for o in expected)
                           for m in {o.mode.value if o.mode else "" for o in expected}}  # fmt: skip
    labels = {c["key"]: c["label"] for c in data["kinds"] + data["modes"]}
    assert (
        labels.get("JOINT_BRANCH", "联合党支部") == "联合党支部" and labels.get("STANDALONE", "单独组建") == "单独组建"
    )
    today = server.query(query, {"scope": scope_input(scope)})["data"]  # the listing's scope is today's
    assert today["listed"]["totalCount"] == today["coverage"]["organizations"]


def test_the_demo_alliance_has_its_lead_and_the_members_its_links_name(server: LiveServer, demo: Dataset) -> None:
    data = server.query("{ alliances { alliance { id kind } lead { id } members { id } } }")["data"]["alliances"]
    alliances = [o for o in demo.organizations if o.kind.value == "ALLIANCE"]
    assert [a["alliance"]["id"] for a in data] == [o.id for o in alliances] and data[0]["alliance"][
        "kind"
    ] == "ALLIANCE"
    for answer in data:
        links = [k for k in demo.links if k.target_id == answer["alliance"]["id"]]
        leads = [k.source_id for k in links if k.kind is LinkKind.ALLIANCE_LEAD]
        members = {k.source_id for k in links if k.kind in (LinkKind.ALLIANCE, LinkKind.ALLIANCE_LEAD)}
        assert answer["lead"] == {"id": leads[0]} and len(leads) == 1
        assert {m["id"] for m in answer["members"]} == members and len(answer["members"]) == len(members)
    elsewhere = server.query('{ alliances(scope: {park: "无此园区"}) { lead { id } } }')
    assert elsewhere["errors"][0]["extensions"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("order", "key"),
    [
        ("STARS", lambda o: (o.stars is None, -(o.stars or 0))),
        ("POINTS", lambda o: (o.points is None, -(o.points or 0))),
        ("TERM_ENDS", lambda o: (o.term_ends_on is None, o.term_ends_on or date.min)),
        ("LEDGER", lambda o: 0),
    ],
)
def test_organizations_in_an_order_page_by_page(
    server: LiveServer, demo: Dataset, order: str, key: Callable[[Organization], object]
) -> None:
    query = """query($order: OrganizationOrder!, $after: String, $filter: OrganizationFilter) {
      organizations(orderBy: $order, first: 70, after: $after, filter: $filter) {
        totalCount nodes { id } pageInfo { hasNextPage endCursor } } }"""
    seen: list[str] = []
    after = None
    while True:
        found = server.query(query, {"order": order, "after": after, "filter": {"minStars": 2}})["data"][
            "organizations"
        ]
        seen += [n["id"] for n in found["nodes"]]
        if not found["pageInfo"]["hasNextPage"]:
            break
        after = found["pageInfo"]["endCursor"]
    standing = [o for o in demo.organizations if o.dissolved_on is None and (o.stars or 0) >= 2]
    assert seen == [o.id for o in sorted(standing, key=key)]  # a stable sort: ties in the ledger's order
    assert len(seen) == found["totalCount"]


def test_a_term_window_and_minimum_points_are_what_the_records_say(server: LiveServer, demo: Dataset) -> None:
    start, end = DEMO_DAY, DEMO_DAY + timedelta(days=90)
    filter = {"termEndsAfter": start.isoformat(), "termEndsBefore": end.isoformat(), "minPoints": 300}
    found = server.query("query($f: OrganizationFilter) { organizations(filter: $f, orderBy: TERM_ENDS, first: 500) "
                         "{ nodes { id termEndsOn points } } }", {"f": filter})["data"]["organizations"]["nodes"]  # fmt: skip
    expected = [o for o in demo.organizations
                if o.term_ends_on and start <= o.term_ends_on <= end and (o.points or 0) >= 300]  # fmt: skip
    assert sorted(n["id"] for n in found) == sorted(o.id for o in expected) and expected
    assert [n["termEndsOn"] for n in found] == sorted(n["termEndsOn"] for n in found)


ALLIANCE_TABLES = copy.deepcopy(HAND_TABLES)
ALLIANCE_TABLES["organizations"].append(["L", "园区党建联盟", "ALLIANCE", "P", ""])


@pytest.mark.parametrize(
    ("links", "reason"),
    [
        ([["B1", "B2", "ALLIANCE", ""]], "runs to a party-building alliance"),
        ([["D1", "L", "ALLIANCE", ""]], "runs from an enterprise's party organization"),
        (
            [["B1", "L", "盟主单位", "2020-01-01"], ["B2", "L", "ALLIANCE_LEAD", "2021-01-01"]],
            "two leads (盟主单位) at once",
        ),
    ],
)
def test_the_ledger_refuses_alliance_links_that_break_the_rules(
    write_ledger: Callable[..., Path], links: list[list[str]], reason: str
) -> None:
    tables = copy.deepcopy(ALLIANCE_TABLES)
    tables["links"] += links
    with pytest.raises(LedgerInvalid) as caught:
        load_ledger(write_ledger(tables))
    assert any(reason in issue.reason for issue in caught.value.issues)


def test_mutations_apply_the_same_alliance_rules_and_the_disk_keeps_the_lead(
    write_ledger: Callable[..., Path], tmp_path: Path
) -> None:
    from graph.durable import create_state

    create_state(tmp_path / "state", load_ledger(write_ledger(ALLIANCE_TABLES)).dataset)
    add = "mutation($s: ID!, $t: ID!, $k: LinkKind!) { addLink(input: {sourceId: $s, targetId: $t, kind: $k}) { changeSet } }"
    ask = "{ alliances { alliance { id } lead { id } members { id } } }"
    served = State(tmp_path / "state", today=lambda: date(2024, 1, 1))
    with LiveServer(served) as server:
        refused = server.query(add, {"s": "B1", "t": "B2", "k": "ALLIANCE"})
        assert refused["errors"][0]["extensions"]["code"] == "INVALID_CHANGE"
        assert "runs to a party-building alliance" in refused["errors"][0]["message"]
        assert "errors" not in server.query(add, {"s": "B1", "t": "L", "k": "ALLIANCE_LEAD"})
        assert "errors" not in server.query(add, {"s": "J1", "t": "L", "k": "ALLIANCE"})
        second = server.query(add, {"s": "B2", "t": "L", "k": "ALLIANCE_LEAD"})
        assert second["errors"][0]["extensions"]["code"] == "CONFLICT"
        before = server.query(ask)["data"]
    served.close()
    assert before == {
        "alliances": [{"alliance": {"id": "L"}, "lead": {"id": "B1"}, "members": [{"id": "B1"}, {"id": "J1"}]}]
    }
    reopened = State(tmp_path / "state", today=lambda: date(2024, 1, 1))
    with LiveServer(reopened) as server:
        assert server.query(ask)["data"] == before
    reopened.close()


def sheet_rows(content: bytes) -> list[list[object]]:
    workbook = CalamineWorkbook.from_filelike(io.BytesIO(content))
    return workbook.get_sheet_by_index(0).to_python()


def test_each_export_holds_the_rows_the_api_answers(server: LiveServer) -> None:
    scope = "park=长沙高新区&category=ECOMMERCE"
    day = DEMO_DAY.isoformat()
    counts = server.query('query($d: Date) { compliance(scope: {park: "长沙高新区", category: ECOMMERCE}, asOf: $d) '
                          "{ findings { totalCount } } }", {"d": day})["data"]["compliance"]["findings"]["totalCount"]  # fmt: skip
    findings = httpx.get(f"{server.url}/exports/findings.xlsx?{scope}&asOf={day}", timeout=60)
    assert findings.status_code == 200 and findings.headers["content-type"] == exports.XLSX_TYPE
    assert "attachment" in findings.headers["content-disposition"]
    assert len(sheet_rows(findings.content)) == counts + 1 and counts > 0
    groups = server.query(
        "query($d: Date) { coverageBy(by: CLUSTER, asOf: $d) { key coverage { enterprises } } }", {"d": day}
    )
    by_cluster = sheet_rows(httpx.get(f"{server.url}/exports/coverage-by-cluster.xlsx?asOf={day}", timeout=60).content)
    assert [(str(r[0]), int(r[2])) for r in by_cluster[1:]] == [
        (g["key"], g["coverage"]["enterprises"]) for g in groups["data"]["coverageBy"]
    ]
    window = {"termEndsAfter": day, "termEndsBefore": (DEMO_DAY + timedelta(days=90)).isoformat()}
    terms = server.query("query($f: OrganizationFilter) { organizations(orderBy: TERM_ENDS, filter: $f) { nodes { id } } }",
                         {"f": window})  # fmt: skip
    listed = sheet_rows(httpx.get(f"{server.url}/exports/terms.xlsx?asOf={day}", timeout=60).content)
    assert [r[0] for r in listed[1:]] == [n["id"] for n in terms["data"]["organizations"]["nodes"]]
    alliances = server.query("{ alliances { alliance { id } lead { name } members { id } } }")["data"]["alliances"]
    sheet = sheet_rows(httpx.get(f"{server.url}/exports/alliances.xlsx", timeout=60).content)
    assert [(r[0], r[2], int(r[3])) for r in sheet[1:]] == [
        (a["alliance"]["id"], a["lead"]["name"], len(a["members"])) for a in alliances
    ]
    as_csv = httpx.get(f"{server.url}/exports/bulletin.csv?asOf={day}&previous=2021-07-21", timeout=60)
    assert as_csv.status_code == 200 and as_csv.content.startswith(b"\xef\xbb\xbf")  # a BOM: Excel reads UTF-8


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/exports/everything.xlsx", 404, "NOT_FOUND"),
        ("/exports/findings.pdf", 404, "NOT_FOUND"),
        ("/exports/findings.xlsx?asOf=July", 400, "BAD_USER_INPUT"),
        ("/exports/findings.xlsx?category=TOYS", 400, "BAD_USER_INPUT"),
        ("/exports/findings.xlsx?park=无此园区", 404, "NOT_FOUND"),
    ],
)
def test_an_export_asked_wrongly_is_refused_with_its_code(
    server: LiveServer, path: str, status: int, code: str
) -> None:
    response = httpx.get(f"{server.url}{path}", timeout=30)
    assert response.status_code == status and response.json()["errors"][0]["extensions"]["code"] == code


def test_an_export_too_long_is_refused_not_cut(server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exports, "MAX_EXPORT_ROWS", 10)
    response = httpx.get(f"{server.url}/exports/findings.xlsx", timeout=30)
    assert response.status_code == 413 and response.json()["errors"][0]["extensions"]["code"] == "EXPORT_TOO_LARGE"


def test_a_scoped_token_exports_its_world_only(state: State) -> None:
    book = TokenBook(state.durable.path)
    viewer_b = book.create("B-viewer", Role.VIEWER, Boundary.of(parks=["B"]))
    with LiveServer(state) as server:
        assert httpx.get(f"{server.url}/exports/coverage-by-park.xlsx", timeout=30).status_code == 401
        answer = httpx.get(f"{server.url}/exports/coverage-by-park.xlsx",
                           headers={"Authorization": f"Bearer {viewer_b}"}, timeout=30)  # fmt: skip
        assert [row[0] for row in sheet_rows(answer.content)[1:]] == ["B"]


def test_a_chart_is_shown_in_the_browser_unless_a_download_is_asked(server: LiveServer) -> None:
    shown = httpx.get(f"{server.url}/charts/{CHAIN_COMMITTEE_ID}.svg?depth=1", timeout=60)
    assert shown.headers["content-disposition"].startswith("inline; ")
    assert (
        "sandbox" in shown.headers["content-security-policy"] and shown.headers["x-content-type-options"] == "nosniff"
    )
    saved = httpx.get(f"{server.url}/charts/{CHAIN_COMMITTEE_ID}.svg?depth=1&download=true", timeout=60)
    assert saved.headers["content-disposition"].startswith("attachment; ") and saved.content == shown.content


def test_the_dashboard_is_the_front_page_and_names_only_this_server(server: LiveServer) -> None:
    page = httpx.get(f"{server.url}/", timeout=30)
    assert page.status_code == 200 and 'lang="zh-CN"' in page.text and 'data-explorer="true"' in page.text
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy and "blob:" in policy
    assert "http://" not in page.text and "https://" not in page.text
    for script in ("/static/dashboard/echarts.min.js", "/static/dashboard/dashboard.js"):
        body = httpx.get(f"{server.url}{script}", timeout=30)
        assert body.status_code == 200 and script in page.text
    vendored = httpx.get(f"{server.url}/static/dashboard/echarts.min.js", timeout=30).text
    assert 'version="6.1.0"' in vendored  # the pinned release (LICENSES.txt beside it names the build)
