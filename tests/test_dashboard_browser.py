"""The dashboard in a real browser (Debian's Chromium driven by Playwright), against a real
server: its figures, bars and trend equal the API's answers for the same scope and date, it
asks no other host, a scoped viewer sees only its park and no personal names, and the what-if
panel shows what `simulate` answers. Screenshots are saved under build/screenshots/."""

from __future__ import annotations

import copy
import io
import re
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Request, Route, expect
from python_calamine import CalamineWorkbook

from graph.access import Boundary, Role
from graph.durable import create_state
from graph.rules import clock
from graph.stores.networkx import NetworkxStore
from graph.stores.networkx.state import State
from loaders import DEMO_DAY
from loaders.demo import demo_dataset
from loaders.ledger import load_ledger
from tests.conftest import HAND_TABLES, LiveServer
from tokens import TokenBook

SCREENSHOTS = Path(__file__).resolve().parent.parent / "build" / "screenshots"
FIGURES = "enterprises organizationCovered workCovered organizationRate workRate organizations formalMembers"
SECRETARIES = {"B1": "赵支书", "J1": "钱支书", "B2": "孙支书"}


@pytest.fixture(scope="module")
def demo_state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[State]:
    """The demo as `make run` serves it: a state standing on the day its figures were published."""
    folder = tmp_path_factory.mktemp("demo") / "state"
    create_state(folder, demo_dataset(), stands_on=DEMO_DAY)
    served = State(folder)
    yield served
    served.close()


@pytest.fixture(scope="module")
def server(demo_state: State) -> Iterator[LiveServer]:
    with LiveServer(demo_state) as live:
        yield live


class Visit:
    """A page of the dashboard whose every request is checked: one to any other host is aborted and noted."""

    def __init__(self, browser: Browser, server: LiveServer):
        self.host = urlsplit(server.url).netloc
        self.elsewhere: list[str] = []
        self.failures: list[str] = []
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        self.page: Page = self.context.new_page()
        self.page.route("**/*", self.guard)
        self.page.on("pageerror", lambda error: self.failures.append(str(error)))
        self.url = server.url

    def guard(self, route: Route, request: Request) -> None:
        if urlsplit(request.url).netloc != self.host:
            self.elsewhere.append(request.url)
            route.abort()
        else:
            route.continue_()

    def open(self, token: str | None = None) -> Page:
        self.page.goto(f"{self.url}/")
        if token:
            self.page.fill("#token", token)
            self.page.click("#token-form button[type=submit]")
        self.page.wait_for_function("() => window.dashboardDrawnAt && window.dashboardSettledAt", timeout=60_000)
        return self.page

    def option(self, chart: str) -> dict:
        return self.page.evaluate(f"() => echarts.getInstanceByDom(document.getElementById('{chart}')).getOption()")

    def close(self) -> None:
        self.context.close()
        assert self.elsewhere == [] and self.failures == []


@pytest.fixture
def visit(browser: Browser, server: LiveServer) -> Iterator[Visit]:
    opened = Visit(browser, server)
    yield opened
    opened.close()


def tenths(rate: float) -> float:
    return round(rate * 1000) / 10


def test_every_figure_bar_and_trend_point_is_the_apis_answer(visit: Visit, server: LiveServer) -> None:
    page = visit.open()
    day = DEMO_DAY.isoformat()
    assert page.input_value("#as-of") == day  # the server's today
    answer = server.query(
        f"""query($d: Date!) {{ coverage(asOf: $d) {{ {FIGURES} }}
        coverageBy(by: CLUSTER, asOf: $d) {{ label coverage {{ organizationRate workRate }} }}
        coverageTrend(from: "2020-07-31", to: $d, step: MONTH) {{ coverage {{ organizationRate }} }} }}""",
        {"d": day},
    )["data"]
    now = answer["coverage"]
    shown = {name: page.get_attribute(f'[data-figure="{name}"] .value', "data-value") for name in
             ("enterprises", "organizationCovered", "workCovered", "organizations", "formalMembers")}  # fmt: skip
    assert shown == {
        "enterprises": str(now["enterprises"]), "organizationCovered": str(now["organizationCovered"]),
        "workCovered": str(now["organizationCovered"] + now["workCovered"]),
        "organizations": str(now["organizations"]), "formalMembers": str(now["formalMembers"]),
    }  # fmt: skip
    expect(page.locator('[data-i18n="terms"]')).to_have_text("换届提醒（90天内）")  # the TERM_ENDING rule's days
    assert now["enterprises"] == 13_151 and "13,151 家" in page.inner_text('[data-figure="enterprises"] .value')
    rates = [
        page.get_attribute(f'[data-figure="{n}"] .rate', "data-rate") for n in ("organizationCovered", "workCovered")
    ]
    assert [float(r) for r in rates if r] == [now["organizationRate"], now["workRate"]]

    bars = visit.option("chart-cluster")
    groups = answer["coverageBy"]
    assert bars["xAxis"][0]["data"] == [g["label"] for g in groups]
    assert bars["series"][0]["data"] == [tenths(g["coverage"]["organizationRate"]) for g in groups]
    assert bars["series"][1]["data"] == [tenths(g["coverage"]["workRate"]) for g in groups]
    trend = visit.option("chart-trend")["series"][0]["data"]
    assert (
        trend[-1]
        == tenths(now["organizationRate"])
        == tenths(answer["coverageTrend"][-1]["coverage"]["organizationRate"])
    )
    assert len(trend) == len(answer["coverageTrend"]) == 13

    cluster_text = page.locator("#chart-cluster svg text").all_text_contents()
    assert groups[0]["label"] in cluster_text and "组织覆盖率" in cluster_text  # Chinese as text, not pictures
    assert any("党支部" in label for label in page.locator("#chart-kind svg text").all_text_contents())
    described = page.get_attribute("#chart-cluster", "aria-label") or ""  # ECharts' ARIA description
    assert "各党群联组覆盖率" in described and groups[0]["label"] in described
    expect(page.locator("#org-chart-image")).to_have_attribute("src", re.compile("^blob:"))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "dashboard-demo.png"), full_page=True)


def test_a_figures_query_link_opens_the_explorer_with_that_query(visit: Visit) -> None:
    page = visit.open()
    link = page.get_attribute('.cards [data-query="headline"]', "href")
    assert link and link.startswith("/graphql#query=")
    page.goto(f"{visit.url}{link}")
    page.wait_for_selector(".graphiql-query-editor .CodeMirror")  # GraphiQL 3 draws it with CodeMirror 5
    editor = page.evaluate("() => document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.getValue()")
    assert editor.startswith("query Headline(") and "coverage(scope: $scope, asOf: $month)" in editor


def test_a_chosen_scope_and_a_rules_findings_follow_the_api(visit: Visit, server: LiveServer) -> None:
    page = visit.open()
    page.select_option("#category", "ECOMMERCE")
    page.click("#scope-form button[type=submit]")
    page.wait_for_function("() => window.dashboardSettledAt && location.hash.includes('ECOMMERCE')")
    page.wait_for_function("() => window.dashboardDrawnAt")
    answer = server.query(
        "query($d: Date) { coverage(scope: {category: ECOMMERCE}, asOf: $d) { enterprises } "
        "compliance(scope: {category: ECOMMERCE}, asOf: $d, rules: [MUST_BUILD]) { findings { totalCount } } }",
        {"d": DEMO_DAY.isoformat()},
    )["data"]
    assert page.get_attribute('[data-figure="enterprises"] .value', "data-value") == str(
        answer["coverage"]["enterprises"]
    )
    page.click('#rule-counts tr[data-rule="MUST_BUILD"]')
    total = f"{answer['compliance']['findings']['totalCount']:,}"
    expect(page.locator('[data-pager="findings"] span')).to_contain_text(total)
    expect(page.locator("#findings tbody tr").first).to_contain_text("应建未建")
    with page.expect_download() as started:
        page.click('[data-export="findings"]')
    saved = started.value
    rows = CalamineWorkbook.from_filelike(io.BytesIO(Path(saved.path()).read_bytes())).get_sheet_by_index(0).to_python()
    assert saved.suggested_filename.startswith("合规检查_") and len(rows) > 1


def test_english_on_request_and_the_org_chart_zooms(visit: Visit) -> None:
    page = visit.open()
    page.click("#language")
    expect(page.locator("h1")).to_have_text("Party-building dashboard")
    page.wait_for_function("() => window.dashboardDrawnAt")
    assert "organization rate" in page.locator("#chart-cluster svg text").all_text_contents()
    page.wait_for_function("() => document.getElementById('org-chart-image').style.transform.includes('scale')")
    scale = "() => Number(/scale\\(([0-9.]+)\\)/.exec(document.getElementById('org-chart-image').style.transform)[1])"
    fitted = page.evaluate(scale)
    assert 0 < fitted <= 1  # the whole chart in view
    page.click('[data-zoom="1.25"]')
    assert page.evaluate(scale) == pytest.approx(fitted * 1.25, rel=1e-4)
    page.click('[data-zoom="0"]')
    assert page.evaluate(scale) == pytest.approx(fitted, rel=1e-4)
    page.click("#language")  # back to Chinese for the next visit in this context
    expect(page.locator("h1")).to_have_text("非公企业党建驾驶舱")


def test_the_planners_proposal_for_a_building_is_simulated_as_simulate_answers(
    visit: Visit, server: LiveServer
) -> None:
    plan = server.query('{ planJointBranches(scope: {park: "长沙高新区"}) { branches { place } } }')
    building = plan["data"]["planJointBranches"]["branches"][0]["place"].split(" ", 1)[-1]  # "park building"
    page = visit.open()
    page.select_option("#park", "长沙高新区")
    page.click("#scope-form button[type=submit]")
    page.wait_for_function("() => window.dashboardSettledAt && location.hash.includes('park')")
    page.fill("#plan-building", building)
    page.click("#simulate-plan")
    page.wait_for_function("() => window.dashboard.changes && window.dashboard.answers.simulate")
    changes = page.evaluate("() => window.dashboard.changes")
    simulated = server.query("query($c: [ChangeInput!]!) { simulate(changes: $c, scope: {park: \"长沙高新区\"}) "
                             "{ after { organizationCovered } } }", {"c": changes})["data"]["simulate"]  # fmt: skip
    after = page.locator('#before-after tr[data-figure="organizationCovered"] td').nth(2)
    assert after.inner_text() == f"{simulated['after']['organizationCovered']:,}"
    expect(page.locator("#plan-summary")).to_contain_text("联合党支部")


def test_the_what_if_panel_shows_what_simulate_answers_and_saves_the_scenario(visit: Visit, server: LiveServer) -> None:
    page = visit.open()
    boxes = page.locator("#uncovered tbody input[type=checkbox]")
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.click("#simulate-picked")
    page.wait_for_selector('#before-after tr[data-figure="organizationCovered"]')
    changes = page.evaluate("() => window.dashboard.changes")
    assert [next(iter(c)) for c in changes] == ["createOrganization", "coverEnterprises"]
    simulated = server.query(f"query($c: [ChangeInput!]!) {{ simulate(changes: $c) {{ before {{ {FIGURES} }} after {{ {FIGURES} }} }} }}",
                             {"c": changes})["data"]["simulate"]  # fmt: skip
    row = page.locator('#before-after tr[data-figure="organizationCovered"] td')
    assert row.nth(1).inner_text() == f"{simulated['before']['organizationCovered']:,}"
    assert row.nth(2).inner_text() == f"{simulated['after']['organizationCovered']:,}"
    assert simulated["after"]["organizationCovered"] == simulated["before"]["organizationCovered"] + 2
    page.fill("#scenario-name", "两家联建")
    page.click("#scenario-form button[type=submit]")
    expect(page.locator("#scenario-status")).to_contain_text("两家联建")
    kept = server.query('{ scenario(name: "两家联建") { changeCount } }')["data"]["scenario"]
    assert kept == {"changeCount": 2}


@pytest.fixture
def park_b(tmp_path: Path, write_ledger: Callable[..., Path]) -> Iterator[State]:
    """The hand ledger with secretaries named and terms ending soon, as a state on 2024-01-01."""
    tables = copy.deepcopy(HAND_TABLES)
    organizations = tables["organizations"]
    organizations[0] += ["secretary", "term_ends_on"]
    for row in organizations[1:]:
        row += [SECRETARIES.get(row[0], ""), "2024-02-01" if row[0] in SECRETARIES else ""]
    create_state(tmp_path / "state", load_ledger(write_ledger(tables)).dataset)
    served = State(tmp_path / "state", today=lambda: date(2024, 1, 1))
    yield served
    served.close()


def test_a_scoped_viewer_sees_its_park_only_and_no_names(browser: Browser, park_b: State) -> None:
    book = TokenBook(park_b.durable.path)
    viewer = book.create("B-viewer", Role.VIEWER, Boundary.of(parks=["B"]))
    editor = book.create("B-editor", Role.EDITOR, Boundary.of(parks=["B"]))
    with LiveServer(park_b) as server:
        visit = Visit(browser, server)
        page = visit.open(viewer)
        expect(page.locator("#who")).to_contain_text("B-viewer · viewer")
        assert page.locator("#park option").all_text_contents() == ["全部", "B"]
        own = server.ask(f"{{ coverage {{ {FIGURES} }} }}", viewer)["data"]["coverage"]
        assert page.get_attribute('[data-figure="enterprises"] .value', "data-value") == str(own["enterprises"])
        expect(page.locator("#terms tbody tr")).to_have_count(1)  # B2's term ends within 90 days
        text = page.inner_text("body")
        assert not any(name in text for name in SECRETARIES.values())
        assert not any(f"企业{n}" in text for n in range(1, 7))  # park A's enterprises
        assert page.locator("#what-if").is_hidden()  # a viewer may not simulate
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "dashboard-park-b-viewer.png"), full_page=True)
        visit.close()

        visit = Visit(browser, server)  # an editor of the same park: the secretary is shown
        page = visit.open(editor)
        expect(page.locator("#terms tbody")).to_contain_text(SECRETARIES["B2"])
        assert page.locator("#what-if").is_visible()
        visit.close()


def test_a_store_without_a_state_serves_the_dashboard_too(browser: Browser) -> None:
    with LiveServer(NetworkxStore(demo_dataset(), clock(DEMO_DAY))) as server:
        visit = Visit(browser, server)
        page = visit.open()
        assert page.get_attribute('[data-figure="enterprises"] .value', "data-value") == "13151"
        visit.close()
