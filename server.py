"""The ASGI app: GraphQL at /graphql with a GraphiQL explorer served from the package.

`uvicorn server:app` serves the ledger named by CHAINORG_DATA, or the Changsha demo
when it is unset. Every page takes its scripts, styles and fonts from /static, and a
Content-Security-Policy keeps browsers from loading anything from elsewhere, so the
explorer works on an intranet with no internet access.
"""

from __future__ import annotations

import gc
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from strawberry.asgi import GraphQL

from graph.networkx_store import NetworkxStore
from graph.store import OrgStore
from loaders.demo import demo_dataset
from loaders.ledger import load_ledger
from schema import build_schema
from schema.context import Context

STATIC = Path(str(files("schema") / "static"))
EXPLORER_PAGE = (STATIC / "graphiql.html").read_text(encoding="utf-8")
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"
)


class ChainorgGraphQL(GraphQL):
    """Strawberry's ASGI app with our context and the offline explorer page."""

    async def get_context(self, request: Request, response: Response) -> Context:
        return Context.for_store(request.app.state.store, request)

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return HTMLResponse(EXPLORER_PAGE, headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY})


def load_store(data: Path | None, encoding: str | None = None) -> OrgStore:
    """The store for a ledger path, or for the demo when `data` is None.

    The loaded data lives as long as the process, so it is moved out of the garbage
    collector's sight: collections while serving then walk only per-request objects.
    """
    store = NetworkxStore(load_ledger(data, encoding).dataset if data else demo_dataset())
    gc.collect()
    gc.freeze()
    return store


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok", **await request.app.state.store.summary()})


def create_app(store: OrgStore | None = None) -> Starlette:
    """The app over `store`; without one, the store is loaded at start-up (CHAINORG_DATA or demo)."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if store is None:
            data = os.environ.get("CHAINORG_DATA")
            app.state.store = load_store(Path(data) if data else None)
        yield

    graphql = ChainorgGraphQL(build_schema())
    app = Starlette(
        routes=[
            Route("/", lambda request: RedirectResponse("/graphql")),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/healthz", health),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        middleware=[Middleware(GZipMiddleware, minimum_size=2048)],
        lifespan=lifespan,
    )
    app.state.store = store
    return app


app = create_app()
