"""The GraphQL schema: strawberry types and thin resolvers over the store.

The package itself is light: `build_schema` and `ChainorgSchema` (in `schema.build`)
are imported when first used, so a command that needs only `schema.limits` (every
`chainorg` command reading its configuration) does not pay for strawberry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from schema.build import ChainorgSchema, build_schema

__all__ = ["ChainorgSchema", "build_schema"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from schema import build

        return getattr(build, name)
    raise AttributeError(f"module 'schema' has no attribute {name!r}")
