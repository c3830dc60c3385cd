"""Every GraphQL error leaves with an `extensions.code`; unexpected ones are masked.

Expected errors (ChainorgError subclasses) keep their message and code. A document
that does not parse gets GRAPHQL_PARSE_FAILED (QUERY_TOO_COMPLEX when it has more
tokens than allowed); one that does not validate, GRAPHQL_VALIDATION_FAILED, unless
the rule that refused it set a code (the query limits do). Anything else is logged
with its traceback and shown only as INTERNAL_SERVER_ERROR.
"""

from __future__ import annotations

import logging
import re

from graphql import GraphQLError, GraphQLSyntaxError

from graph.errors import ChainorgError
from schema.limits import TOO_COMPLEX

log = logging.getLogger("chainorg.graphql")

PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
INTERNAL = "INTERNAL_SERVER_ERROR"
TIMEOUT = "TIMEOUT"
_TOO_MANY_TOKENS = re.compile(r"Document contains more than (\d+) tokens")


def add_codes(errors: list[GraphQLError]) -> None:
    """Give each error its code, in place; mask and log the unexpected ones. Idempotent."""
    for error in errors:
        if error.extensions and "code" in error.extensions:
            continue
        original = error.original_error
        if original is not None and not isinstance(original, (ChainorgError, GraphQLError)):
            log.error("unexpected error in %s", error.path, exc_info=original)
            error.message = "Internal server error"
            error.extensions = {"code": INTERNAL}
            continue
        extensions: dict[str, object] = {"code": _code(error)}
        if isinstance(original, ChainorgError):
            extensions.update(original.extensions())
        if tokens := _TOO_MANY_TOKENS.search(error.message):
            extensions["limit"] = int(tokens.group(1))
        error.extensions = {**extensions, **(error.extensions or {})}


def _code(error: GraphQLError) -> str:
    if isinstance(error.original_error, ChainorgError):
        return error.original_error.code
    if isinstance(error, GraphQLSyntaxError):
        return TOO_COMPLEX if _TOO_MANY_TOKENS.search(error.message) else PARSE_FAILED
    return VALIDATION_FAILED
