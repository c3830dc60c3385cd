"""The GraphQL schema: strawberry types and thin resolvers over the store."""

from __future__ import annotations

from graphql import GraphQLError
from strawberry import Schema
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.types import ExecutionContext

from schema.errors import ErrorCodes, log_unexpected
from schema.query import Query

MAX_DEPTH = 12
MAX_ALIASES = 50
MAX_TOKENS = 5000


# Built once: the limiters make new rule classes per instance, which would key every
# request differently in ValidationCache and turn the cache off.
LIMIT_RULES = [
    *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
    *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
]


class QueryLimits(AddValidationRules):
    """Rejects queries nested deeper than MAX_DEPTH or with more than MAX_ALIASES aliases."""

    def __init__(self) -> None:
        super().__init__(LIMIT_RULES)


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
            QueryLimits,
            lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        ],
    )
