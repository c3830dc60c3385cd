"""Opaque cursors over stably ordered results."""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

import strawberry

from graph.errors import InvalidArgument
from graph.query import Page
from schema.limits import argument
from schema.types import Edge, PageInfo

MAX_PAGE = 500
DEFAULT_PAGE = 50
PAGE = argument("first", DEFAULT_PAGE, MAX_PAGE)  # a connection's items, for the cost limit
First = Annotated[int, strawberry.argument(description=f"Page size, 0 to {MAX_PAGE}.")]
After = Annotated[str | None, strawberry.argument(description="`endCursor` of the previous page; none for the first.")]


def offset_after(cursor: str | None) -> int:
    """The offset of the item following `cursor` (0 without one)."""
    if cursor is None:
        return 0
    try:
        prefix, number = base64.urlsafe_b64decode(cursor.encode()).decode().split(":")
        if prefix != "offset" or int(number) < 0:
            raise ValueError(cursor)
    except (ValueError, UnicodeDecodeError):
        raise InvalidArgument(f"not a cursor from this API: {cursor!r}") from None
    return int(number) + 1


def page_size(first: int) -> int:
    if not 0 <= first <= MAX_PAGE:
        raise InvalidArgument(f"first must be between 0 and {MAX_PAGE}, got {first}")
    return first


def cursor_at(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def page_info(page: Page[Any]) -> PageInfo:
    end = cursor_at(page.offset + len(page.items) - 1) if page.items else None
    start = cursor_at(page.offset) if page.items else None
    return PageInfo(has_next_page=page.has_next, end_cursor=end, has_previous_page=page.offset > 0, start_cursor=start)


C = TypeVar("C")


def connection(kind: Callable[..., C], page: Page[Any], nodes: Sequence[Any]) -> C:
    """A page as a connection: `nodes`, the same as `edges` with their cursors, `pageInfo`, `totalCount`."""
    edges = [Edge(cursor=cursor_at(page.offset + n), node=node) for n, node in enumerate(nodes)]
    return kind(total_count=page.total, nodes=list(nodes), edges=edges, page_info=page_info(page))
