"""The ASGI app: the dashboard at /, GraphQL at /graphql with a GraphiQL explorer served from
the package, org charts at /charts/{id}.{ext} and the dashboard's lists at /exports/{list}.xlsx.

`uvicorn server:app` serves the ledger named by CHAINORG_DATA, or the Changsha demo
when it is unset. Every page takes its scripts, styles and fonts from /static, and a
Content-Security-Policy keeps browsers from loading anything from elsewhere, so the
explorer works on an intranet with no internet access.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import json
import os
import re
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime
from importlib.resources import files
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote

import anyio
import anyio.to_thread
from graphql import GraphQLError
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.types import ExecutionResult

import access_log
from access_log import AccessLog
from exports import EXPORTS, FORMATS, XLSX_TYPE, Asked, ExportTooLarge, day_from, export, scope_from
from exposure import DEFAULT_EXPOSURE, Exposure
from graph import solver
from graph.access import ADMIN_EVERYWHERE, Caller, Forbidden, Unauthenticated
from graph.charts import DEFAULT_DEPTH, ChartFormat, RenderFailed, org_chart
from graph.compliance import DEFAULT_RULES, RuleConfig
from graph.deadline import DEADLINE, remaining
from graph.errors import ChainorgError, InvalidArgument, NotFound, StateProblem
from graph.journal import Journal
from graph.rules import clock
from graph.stores.cypher import CypherStore
from graph.stores.cypher.address import PASSWORD_VARIABLE, store_address
from graph.stores.cypher.journal import CypherJournal
from graph.stores.networkx import NetworkxStore
from graph.stores.networkx.state import State
from graph.stores.protocol import OrgStore, seen_by
from loaders import DEMO_DAY
from loaders.demo import demo_dataset
from loaders.errors import LedgerInvalid
from loaders.ledger import load_ledger
from rate import DEFAULT_RATES, RATE_LIMITED, RateLimits, RateMeter
from schema import ChainorgSchema, build_schema
from schema.context import Context
from schema.errors import TIMEOUT
from schema.limits import DEFAULT_LIMITS, Asking, Limits, asking
from tokens import GraphTokenBook, TokenBook, TokenCheck, is_loopback

STATIC = Path(str(files("schema") / "static"))
EXPLORER_PAGE = (STATIC / "graphiql.html").read_text(encoding="utf-8")
DASHBOARD_PAGE = (STATIC / "dashboard" / "index.html").read_text(encoding="utf-8")
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"
)
# The dashboard shows the org chart it fetched (with the tab's token) from a blob: URL.
DASHBOARD_SECURITY_POLICY = CONTENT_SECURITY_POLICY.replace("img-src 'self' data:", "img-src 'self' data: blob:")


MAX_BODY_BYTES = 1 << 20
LARGE_BODY_BYTES = 32 << 10  # a body this large is parsed and run off the event loop
LARGE_LANE = 4  # large requests taken in at once
BODY: ContextVar[bytes] = ContextVar("chainorg_body", default=b"")
BODY_BYTES: ContextVar[int] = ContextVar("chainorg_body_bytes", default=0)
CALLER: ContextVar[Caller] = ContextVar("chainorg_caller", default=ADMIN_EVERYWHERE)
BAD_REQUEST = "BAD_REQUEST"
UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"


def body_problem(body: bytes) -> str | None:
    """Why a POSTed body is not a GraphQL request (JSON in UTF-8, an object with a string
    `query`), or None when it is one."""
    try:
        request = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as error:
        return f"the body is not UTF-8 (byte {error.start})"
    except RecursionError:
        return "the body's JSON is nested too deeply"
    except json.JSONDecodeError as error:
        return f"the body is not JSON: {error}"
    if not isinstance(request, dict):
        return "the body must be a JSON object with a `query`"
    if not isinstance(request.get("query"), str):
        return "`query` must be a string"
    if not isinstance(request.get("variables") or {}, dict):
        return "`variables` must be an object"
    if not isinstance(request.get("operationName") or "", str):
        return "`operationName` must be a string"
    return None


def refusal(status: int, message: str, code: str = BAD_REQUEST) -> JSONResponse:
    """A GraphQL-shaped error response, for a request that never reached the schema."""
    return JSONResponse({"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}, status)


class ChainorgGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI app with our context, the offline explorer page, bodies checked
    before parsing (a bad one is a coded 400, never a 500), and a time budget per request."""

    def __init__(
        self,
        schema: ChainorgSchema,
        explorer: bool = True,
        access_log: AccessLog | None = None,
        rates: RateLimits = DEFAULT_RATES,
    ):
        super().__init__(schema, graphql_ide="graphiql" if explorer else None)
        self.access_log = access_log
        self.meter = RateMeter(rates)
        self.graphql_schema = schema._schema
        self.limits = schema.limits
        self.heavy_lane = anyio.CapacityLimiter(1)
        self.large_lane = anyio.CapacityLimiter(LARGE_LANE)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        refused = await self._transport_refusal(scope, receive) if scope["type"] == "http" else None
        if refused is not None:
            response, code = refused
            if self.access_log is not None:  # a request refused at the door is one line too
                self.access_log.write(access_log.AccessEntry(datetime.now(UTC), "-", "refused", None, None, 0.0, code))
            await response(scope, receive, send)
            return
        if scope["type"] == "http" and scope["method"] == "POST":
            receive = _replay(BODY.get())
        await super().__call__(scope, receive, send)

    async def _transport_refusal(self, scope: Scope, receive: Receive) -> tuple[Response, str] | None:
        """Why an HTTP request is refused before it reaches the schema (no token, not JSON, too
        large, malformed), or None; a POST's body is read here, once."""
        if scope["method"] == "POST" or b"query=" in scope.get("query_string", b""):
            try:  # who asks is settled before anything of the request is read
                CALLER.set(caller_of(scope))
            except Unauthenticated as error:
                return unauthenticated(str(error)), Unauthenticated.code
        if scope["method"] != "POST":
            return None
        media = Headers(scope=scope).get("content-type", "").split(";")[0].strip().lower()
        if media != "application/json":  # a form, multipart or text/plain POST: a page may send those
            message = "a request is a POST of Content-Type: application/json; nothing was run"
            return refusal(415, message, UNSUPPORTED_MEDIA_TYPE), UNSUPPORTED_MEDIA_TYPE
        body = await _read_body(receive)
        if body is None:
            return refusal(413, "the body is over 1 MB"), BAD_REQUEST
        if (problem := body_problem(body)) is not None:
            return refusal(400, problem), BAD_REQUEST
        BODY.set(body)
        BODY_BYTES.set(len(body))
        return None

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        app = request.app.state
        return Context.for_store(current_store(request), request, app.rules, journal_of(app), CALLER.get())

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return HTMLResponse(EXPLORER_PAGE, headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY})

    async def execute_single(self, **kwargs: Any) -> ExecutionResult:  # type: ignore[override]
        """Run the operation (see `_run`), and note it in the access log if there is one."""
        if self.access_log is None:
            return (await self._run(**kwargs))[0]
        arrived, started = datetime.now(UTC), time.monotonic()
        result, cost = await self._run(**kwargs)
        request = kwargs["request_data"]
        kind, name = access_log.operation_of(request.query or "", request.operation_name)
        codes = [(error.extensions or {}).get("code", "ERROR") for error in result.errors or []]
        self.access_log.write(access_log.AccessEntry(
            arrived, kwargs["context"].who, kind, name, cost, (time.monotonic() - started) * 1000,
            str(codes[0]) if codes else "ok",
        ))  # fmt: skip
        return result

    async def _run(self, **kwargs: Any) -> tuple[ExecutionResult, int | None]:
        """Run the operation within the time budget; a costly or large one off the server's loop.
        Its answer, and its cost once reckoned.

        graphql-core parses, coerces inputs and completes values in Python without yielding,
        so one large page or one 10,000-change mutation on the server's loop would hold up
        every request. Operations costing more than `Limits.heavy_cost` therefore run one at
        a time on their own event loop in a worker thread (the heavy lane), and so do
        bodies over LARGE_BODY_BYTES (the large lane, a few at once; their cost is reckoned
        off the loop too), while small cheap ones and `/healthz` go on answering.

        The budget starts when the request arrives: waiting for a lane counts in it, and a
        request still waiting when it runs out is refused without running. The deadline
        goes with the request (graph.deadline), so the writer and the planner refuse work
        that would begin too late."""
        deadline = time.monotonic() + self.limits.timeout
        DEADLINE.set(deadline)
        request = kwargs["request_data"]
        query = request.query or ""
        large = BODY_BYTES.get() > LARGE_BODY_BYTES or len(query) > LARGE_BODY_BYTES
        cost: int | None = None
        try:
            async with asyncio.timeout(self.limits.timeout):
                if large:
                    asked = await anyio.to_thread.run_sync(asking, self.graphql_schema, query, request.operation_name)
                else:
                    asked = asking(self.graphql_schema, query, request.operation_name)
                cost = asked.cost
                if (refused := self._refusal(kwargs["context"].caller, asked)) is not None:
                    return ExecutionResult(data=None, errors=[refused]), cost
                if cost > self.limits.heavy_cost:
                    lane = self.heavy_lane
                elif large:
                    lane = self.large_lane
                else:
                    return await super().execute_single(**kwargs), cost
                async with lane:  # the coroutine is made in the thread: a request refused first leaves none behind
                    return await anyio.to_thread.run_sync(lambda: asyncio.run(self._within(deadline, **kwargs))), cost
        except TimeoutError:
            message = f"the query ran past its time budget of {self.limits.timeout:g} s"
            return ExecutionResult(data=None, errors=[GraphQLError(message, extensions={"code": TIMEOUT})]), cost

    def _refusal(self, caller: Caller, asked: Asking) -> GraphQLError | None:
        """Why the caller may not run what it asks (its role, its rate), before anything runs."""
        if not caller.may(asked.role):
            message = f"this needs the {asked.role.label} role; the token {caller.name!r} is a {caller.role.label}"
            return GraphQLError(message, extensions={"code": Forbidden.code, "needs": asked.role.label})
        if caller is ADMIN_EVERYWHERE:
            return None
        wait = self.meter.take(caller.name, asked.cost)
        if wait is None:
            return None
        message = f"the token {caller.name!r} has asked more than its rate allows; try again in {wait:g} s"
        return GraphQLError(message, extensions={"code": RATE_LIMITED, "retryAfter": wait})

    async def _within(self, deadline: float, **kwargs: Any) -> ExecutionResult:
        """The operation on a lane's own loop, cut off at the request's deadline."""
        async with asyncio.timeout_at(asyncio.get_running_loop().time() + (remaining(deadline) or 0.0)):
            return await super().execute_single(**kwargs)


async def _read_body(receive: Receive) -> bytes | None:
    """The whole request body, or None once it passes MAX_BODY_BYTES."""
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    """A `receive` that hands the app the body already read."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def caller_of(scope: Scope) -> Caller:
    """Who a request comes from, by its Authorization header (graph.access.Unauthenticated if nobody)."""
    client = (scope.get("client") or ("", 0))[0]
    check: TokenCheck = scope["app"].state.tokens
    return check.caller(Headers(scope=scope).get("authorization"), is_loopback(client))


def unauthenticated(message: str) -> JSONResponse:
    response = refusal(401, message, Unauthenticated.code)
    response.headers["WWW-Authenticate"] = "Bearer"
    return response


def load_store(data: Path | None, encoding: str | None = None) -> OrgStore:
    """The store for a ledger path, or for the demo when `data` is None.

    The loaded data lives as long as the process, so it is moved out of the garbage
    collector's sight: collections while serving then walk only per-request objects.
    """
    if data is None:  # the demo stands on the day its figures were published
        store = NetworkxStore(demo_dataset(), clock(DEMO_DAY))
    else:
        store = NetworkxStore(load_ledger(data, encoding).dataset)
    settle()
    return store


def settle() -> None:
    """After loading: move what stays out of the garbage collector's sight, and hand the
    memory loading freed back to the system (glibc keeps freed memory otherwise)."""
    gc.collect()
    gc.freeze()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to hand back this way
        pass


def current_store(request: Request | WebSocket) -> OrgStore:
    """The store a request reads: a state's latest version (kept for the request), or the ledger's."""
    app = request.app.state
    return app.state.pinned() if app.state is not None else app.store


async def open_graph_store(url: str) -> CypherStore:
    """The Cypher store at a store URL, its password from the URL or CHAINORG_STORE_PASSWORD."""
    return await CypherStore.open(store_address(url, os.environ.get(PASSWORD_VARIABLE)))


def journal_of(app: Any) -> Journal | None:
    """The journal of what the app serves: its state's, its graph database's, none for a ledger."""
    if app.state is not None:
        return cast(Journal, app.state)
    return CypherJournal(app.store) if isinstance(app.store, CypherStore) else None


def open_state(folder: Path) -> State:
    """The state in `folder`, settled like a loaded ledger."""
    state = State(folder)
    settle()
    return state


async def dashboard(request: Request) -> HTMLResponse:
    """GET /: the dashboard (驾驶舱), a static page that asks the API; it links to the explorer
    only where the server shows one."""
    page = DASHBOARD_PAGE.replace("__EXPLORER__", "true" if request.app.state.explorer else "false")
    return HTMLResponse(page, headers={"Content-Security-Policy": DASHBOARD_SECURITY_POLICY})


def seen_store(request: Request, caller: Caller) -> OrgStore:
    """The store as `caller` sees it: its world's when it is bounded."""
    return seen_by(current_store(request), caller.boundary)


async def health(request: Request) -> JSONResponse:
    """Up or not, for anyone; the counts only for a caller who may read them (of its world)."""
    try:
        caller = caller_of(request.scope)
    except Unauthenticated:
        return JSONResponse({"status": "ok"})
    return JSONResponse({"status": "ok", **await seen_store(request, caller).summary()})


CHART_STATUS = {NotFound: 404, InvalidArgument: 400, RenderFailed: 503}


def status_of(error: ChainorgError, statuses: dict[type[ChainorgError], int]) -> int:
    """The HTTP status a route answers `error` with: the first kind it is of, else 400."""
    return next((status for kind, status in statuses.items() if isinstance(error, kind)), 400)


# A chart shown in the browser runs nothing and loads nothing: it is a picture, whatever names it holds.
INLINE_CHART_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox",
    "X-Content-Type-Options": "nosniff",
}


async def chart_download(request: Request) -> Response:
    """GET /charts/{id}.{ext}?depth=&links=&asOf=&download=: the org chart, shown in the browser
    (inline), or as a file to save with `download=true`."""
    root, _, extension = request.path_params["name"].rpartition(".")
    form = ChartFormat.of_extension(extension)
    if not root or form is None:
        known = ", ".join(f".{f.extension}" for f in ChartFormat)
        return refusal(404, f"ask for /charts/{{id}}.{{ext}} with ext one of {known}", NotFound.code)
    query = request.query_params
    try:
        depth = int(query.get("depth", DEFAULT_DEPTH))
        links = query.get("links", "false").lower() in ("true", "1", "yes")
        download = query.get("download", "false").lower() in ("true", "1", "yes")
        as_of = date.fromisoformat(query["asOf"]) if "asOf" in query else None
    except ValueError:
        return refusal(400, "depth is a whole number, links true or false, asOf a date like 2021-07-31")
    try:
        caller = caller_of(request.scope)
    except Unauthenticated as error:
        return unauthenticated(str(error))
    try:
        drawn = await org_chart(seen_store(request, caller), root, form, depth, links, as_of)
    except ChainorgError as error:
        return refusal(status_of(error, CHART_STATUS), str(error), error.code)
    named = content_disposition(drawn.filename, f"{root}.{form.extension}", "attachment" if download else "inline")
    headers = {"Content-Disposition": named, **({} if download else INLINE_CHART_HEADERS)}
    return Response(drawn.content, media_type=drawn.content_type, headers=headers)


def content_disposition(filename: str, fallback: str, disposition: str = "attachment") -> str:
    """A file named `filename` (RFC 6266: UTF-8, percent-encoded), with an ASCII name for old
    clients; `disposition` "inline" to show it in the browser, "attachment" to save it.

    >>> print(content_disposition("党委_2021-07-31.svg", "GXQ.svg"))
    attachment; filename="GXQ.svg"; filename*=UTF-8''%E5%85%9A%E5%A7%94_2021-07-31.svg
    """
    plain = re.sub(r"[^A-Za-z0-9._-]+", "_", fallback)
    return f"{disposition}; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"


EXPORT_STATUS = {NotFound: 404, InvalidArgument: 400, ExportTooLarge: 413}


async def list_export(request: Request) -> Response:
    """GET /exports/{list}.{xlsx|csv}?park=&chain=&cluster=&building=&category=&asOf=&previous=:
    one of the dashboard's lists as a spreadsheet, of the caller's world (exports.py)."""
    name, _, form = request.path_params["name"].rpartition(".")
    if name not in EXPORTS or form not in FORMATS:
        known = ", ".join(f"{n}.xlsx" for n in EXPORTS)
        return refusal(404, f"ask for /exports/{{list}}.xlsx (or .csv), the list one of {known}", NotFound.code)
    try:
        caller = caller_of(request.scope)
    except Unauthenticated as error:
        return unauthenticated(str(error))
    store, app = seen_store(request, caller), request.app.state
    try:
        query = request.query_params
        asked = Asked(scope_from(query), day_from(query, "asOf"), day_from(query, "previous"), app.rules, store.today())
        content, filename = await asyncio.wait_for(export(store, name, form, asked), app.limits.timeout)
    except TimeoutError:
        return refusal(503, f"the export took longer than {app.limits.timeout:g} s: narrow the scope", TIMEOUT)
    except ChainorgError as error:
        return refusal(status_of(error, EXPORT_STATUS), str(error), error.code)
    media = XLSX_TYPE if form == "xlsx" else "text/csv; charset=utf-8"
    return Response(content, media_type=media, headers={
        "Content-Disposition": content_disposition(filename, f"{name}.{form}"),
    })  # fmt: skip


class StartupRefused(Exception):
    """The app cannot start, for a reason its message gives in full."""


class OneLineStartupFailure:
    """Reports a `StartupRefused` as its message alone, where Starlette would send a traceback."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        held: list[Message] = []

        async def hold_failure(message: Message) -> None:
            if message["type"] == "lifespan.startup.failed":
                held.append(message)
            else:
                await send(message)

        try:
            await self.app(scope, receive, hold_failure)
        except StartupRefused as refused:
            await send({"type": "lifespan.startup.failed", "message": str(refused)})
        except BaseException:
            for message in held:
                await send(message)
            raise


def create_app(
    store: OrgStore | State | None = None,
    limits: Limits = DEFAULT_LIMITS,
    rules: RuleConfig = DEFAULT_RULES,
    exposure: Exposure = DEFAULT_EXPOSURE,
    requests_log: AccessLog | None = None,
    tokens: TokenCheck | None = None,
    rates: RateLimits = DEFAULT_RATES,
) -> Starlette:
    """The app over a read-only `store` or a `State` that takes changes, with query `limits`,
    compliance `rules`, what it `exposure` shows, and an access log of its requests (one JSON
    line each) if given; without a store, one is opened at
    start-up: the graph database at CHAINORG_STORE (a store URL), else the state in
    CHAINORG_STATE, else the ledger in CHAINORG_DATA, else the demo.

    `tokens` checks who requests come from; by default the tokens kept in the state (or in
    the tokens file CHAINORG_TOKENS names), with anonymous requests from loopback acting as
    admin while there are none. `rates` limit each token's requests and cost per minute."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        graph = None
        if store is None:
            folder, data = os.environ.get("CHAINORG_STATE"), os.environ.get("CHAINORG_DATA")
            url = os.environ.get("CHAINORG_STORE")
            if url:
                try:
                    app.state.store = graph = await open_graph_store(url)
                except ChainorgError as error:  # unreachable, refusing, or holding no graph
                    raise StartupRefused(f"CHAINORG_STORE cannot be served: {error}") from None
            try:
                if folder and graph is None:
                    app.state.state = open_state(Path(folder))
                elif graph is None:
                    app.state.store = load_store(Path(data) if data else None)
            except StateProblem as error:
                raise StartupRefused(f"CHAINORG_STATE={folder} cannot be served: {error}") from None
            except LedgerInvalid as error:
                raise StartupRefused(f"CHAINORG_DATA={data} cannot be served: {error.first_line()}") from None
        if app.state.tokens is None:
            app.state.tokens = default_tokens(app.state.state)
        app.state.tokens.start()
        threading.Thread(target=solver.start, name="chainorg-solver-start", daemon=True).start()
        try:
            yield
        finally:
            app.state.tokens.stop()
            if app.state.state is not None:
                app.state.state.close()
            if graph is not None:
                await graph.close()

    schema = build_schema(limits, introspection=exposure.explorer)
    graphql = ChainorgGraphQL(schema, exposure.explorer, requests_log, rates)
    dashboard_files = Mount("/static/dashboard", StaticFiles(directory=STATIC / "dashboard"), name="dashboard")
    explorer_files = [Mount("/static", StaticFiles(directory=STATIC), name="static")] if exposure.explorer else []
    cross_origin = []
    if exposure.cors_origins:  # pages of these origins may call the API; of any other, not
        cross_origin.append(Middleware(
            CORSMiddleware, allow_origins=list(exposure.cors_origins), allow_methods=["GET", "POST"],
            allow_headers=["content-type", "authorization"], max_age=600,
        ))  # fmt: skip
    app = Starlette(
        routes=[
            Route("/", dashboard),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/healthz", health),
            Route("/charts/{name}", chart_download),
            Route("/exports/{name}", list_export),
            dashboard_files,
            *explorer_files,
        ],
        middleware=[Middleware(OneLineStartupFailure), *cross_origin, Middleware(GZipMiddleware, minimum_size=2048)],
        lifespan=lifespan,
    )
    app.state.store = store if not isinstance(store, State) else None
    app.state.state = store if isinstance(store, State) else None
    app.state.rules = rules
    app.state.limits = limits
    app.state.explorer = exposure.explorer
    app.state.tokens = tokens if tokens is not None or store is None else default_tokens(app.state.state)
    return app


def default_tokens(state: State | None) -> TokenCheck:
    """The tokens of the file CHAINORG_TOKENS names, else of the state served, else of the
    graph database served (CHAINORG_STORE), else none."""
    named, url = os.environ.get("CHAINORG_TOKENS"), os.environ.get("CHAINORG_STORE")
    if named:
        return TokenCheck(TokenBook(Path(named)))
    if state is None and url:
        return TokenCheck(GraphTokenBook(store_address(url, os.environ.get(PASSWORD_VARIABLE))))
    return TokenCheck(TokenBook(state.durable.path) if state is not None else None)


app = create_app()
