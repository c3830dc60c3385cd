"""The schema built: the Query and Mutation roots, error codes, caches and the query limits."""

from __future__ import annotations

from graphql import GraphQLError, NoSchemaIntrospectionCustomRule
from strawberry import Schema
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, ParserCache, ValidationCache
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from schema.access import HiddenNames, note_roles
from schema.errors import add_codes
from schema.limits import DEFAULT_LIMITS, Limits
from schema.mutations import Mutation
from schema.planner import ScenarioMutation
from schema.query import Query

MUTATION = merge_types("Mutation", (Mutation, ScenarioMutation))
MUTATION.__strawberry_definition__.description = Mutation.__strawberry_definition__.description  # type: ignore[attr-defined]


class ChainorgSchema(Schema):
    def __init__(self, limits: Limits, **kwargs: object):
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.limits = limits

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        add_codes(errors)  # logs only the unexpected ones: the others are the client's business


def build_schema(limits: Limits = DEFAULT_LIMITS, introspection: bool = True) -> ChainorgSchema:
    """The schema with error codes, caches and the limits that keep one query from hogging the
    server; without `introspection`, a query about the schema itself is refused."""
    rules = [limits.rule(), *([] if introspection else [NoSchemaIntrospectionCustomRule])]
    schema = ChainorgSchema(
        limits,
        query=Query,
        mutation=MUTATION,
        extensions=[
            lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
            lambda: ParserCache(maxsize=256),
            lambda: ValidationCache(maxsize=256),
            lambda: AddValidationRules(rules),
            HiddenNames,
        ],
    )
    note_roles(schema)
    return schema
