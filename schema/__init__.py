"""The GraphQL schema: strawberry types and thin resolvers over the store."""

from __future__ import annotations

from graphql import GraphQLError
from strawberry import Schema
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, ParserCache, QueryDepthLimiter, ValidationCache
from strawberry.types import ExecutionContext

from schema.errors import ErrorCodes, log_unexpected
from schema.query import Query

MAX_DEPTH = 12
MAX_ALIASES = 50
MAX_TOKENS = 5000


class ChainorgSchema(Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        log_unexpected(errors)  # expected errors are the client's business, not the log's


def build_schema() -> Schema:
    """The schema with error codes, caches and limits that keep one query from hogging the server."""
    return ChainorgSchema(
        query=Query,
        extensions=[
            ErrorCodes,
            lambda: ParserCache(maxsize=256),
            lambda: ValidationCache(maxsize=256),
            lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
            lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
            lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        ],
    )
