"""The explorer with a token, in a real browser (Debian's Chromium driven by Playwright):
the token pasted is kept for the tab only, sent on every request, and the bar shows whose it is;
the page asks nothing of any other host."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import Browser, Request, Route, expect

from graph.access import Boundary, Role
from graph.stores.networkx.state import State
from tests.conftest import LiveServer
from tokens import TokenBook


def test_a_pasted_token_is_sent_on_every_request_and_kept_for_the_tab_only(browser: Browser, state: State) -> None:
    token = TokenBook(state.durable.path).create("A-planner", Role.PLANNER, Boundary.of(parks=["A"]))
    with LiveServer(state) as server:
        host = urlsplit(server.url).netloc
        elsewhere: list[str] = []
        sent: list[str | None] = []

        def guard(route: Route, request: Request) -> None:
            if urlsplit(request.url).netloc != host:
                elsewhere.append(request.url)
                route.abort()
                return
            if urlsplit(request.url).path == "/graphql" and request.method == "POST":
                sent.append(request.headers.get("authorization"))
            route.continue_()

        context = browser.new_context()
        page = context.new_page()
        page.route("**/*", guard)
        page.goto(f"{server.url}/graphql")
        page.wait_for_selector(".graphiql-container")
        status = page.locator("#token-status")
        expect(status).to_contain_text("token")  # no token yet: the server asks for one
        page.fill("#token", token)
        page.click("#token-form button[type=submit]")
        expect(status).to_contain_text("A-planner · planner · parks A")
        page.wait_for_timeout(500)  # GraphiQL asks for the schema again with the token
        assert f"Bearer {token}" in sent and sent[-1] == f"Bearer {token}"
        assert page.evaluate("sessionStorage.getItem('chainorg-token')") == token
        stored = page.evaluate("Object.values(localStorage).join(' ')")  # GraphiQL keeps its tabs there
        assert token not in stored and page.input_value("#token") == ""

        other = browser.new_context().new_page()  # another tab's storage: no token there
        other.goto(f"{server.url}/graphql")
        assert other.evaluate("sessionStorage.getItem('chainorg-token')") is None

        page.click("#token-forget")
        expect(status).not_to_contain_text("A-planner")
        assert page.evaluate("sessionStorage.getItem('chainorg-token')") is None
        assert elsewhere == []
        context.close()
