"""Every GraphQL error leaves with an `extensions.code`; unexpected ones are masked.

Expected errors (ChainorgError subclasses) keep their message and code; query
syntax or validation errors get GRAPHQL_VALIDATION_FAILED; anything else is logged
with its traceback and shown only as INTERNAL_SERVER_ERROR.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from graph.errors import ChainorgError

log = logging.getLogger("chainorg.graphql")

VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
INTERNAL = "INTERNAL_SERVER_ERROR"


def is_unexpected(error: GraphQLError) -> bool:
    original = error.original_error
    return original is not None and not isinstance(original, (ChainorgError, GraphQLError))


def with_code(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    if is_unexpected(error):
        return GraphQLError(
            "Internal server error",
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": INTERNAL},
        )
    code = original.code if isinstance(original, ChainorgError) else VALIDATION_FAILED
    error.extensions = {"code": code, **(error.extensions or {})}  # a code set where the error arose stays
    return error


class ErrorCodes(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [with_code(error) for error in result.errors]


def log_unexpected(errors: list[GraphQLError]) -> None:
    for error in errors:
        if is_unexpected(error):
            log.error("unexpected error in %s", error.path, exc_info=error.original_error)
