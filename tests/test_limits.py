"""Query limits: depth, aliases and cost, measured once per fragment and refused before execution."""

from __future__ import annotations

import pytest
import strawberry
from graphql import get_introspection_query
from strawberry.extensions import AddValidationRules, ValidationCache

from graph.stores.networkx import NetworkxStore
from schema import build_schema
from schema.context import Context
from schema.limits import TOO_COMPLEX, Limits, argument, cost

pytestmark = pytest.mark.anyio


@strawberry.type
class Leaf:
    n: int


@strawberry.type
class Node:
    @strawberry.field(metadata=cost(items=argument("first", 10, 100)))
    def items(self, first: int = 10) -> list[Leaf]:
        return [Leaf(n=n) for n in range(first)]

    @strawberry.field(metadata=cost(own=50))
    def heavy(self) -> int:
        return 1

    @strawberry.field
    def child(self) -> Node:
        return Node()


@strawberry.type
class Query:
    @strawberry.field
    def node(self) -> Node:
        return Node()


def tiny_schema(limits: Limits) -> strawberry.Schema:
    rule = limits.rule()
    return strawberry.Schema(Query, extensions=[lambda: AddValidationRules([rule])])


async def refusal(limits: Limits, document: str, variables: dict | None = None) -> dict:
    """The extensions of the one error `document` gets, asserting it was not executed."""
    result = await tiny_schema(limits).execute(document, variable_values=variables)
    assert result.data is None and result.errors, "the query ran"
    return result.errors[0].extensions


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("{ node { heavy } }", 1 + 1 + 50),
        ("{ node { items { n } } }", 1 + 1 + 10 * 1),  # the default count
        ("{ node { items(first: 3) { n } } }", 1 + 1 + 3 * 1),
        ("{ node { items(first: 1000) { n } } }", 1 + 1 + 100 * 1),  # capped at the largest allowed
        ("{ node { child { child { heavy } } } }", 1 + 1 + 1 + 51),
        ("{ node { ...F ...F } } fragment F on Node { heavy }", 1 + 2 * 51),  # each spread counts
    ],
)
async def test_cost_is_own_work_plus_items_times_the_selection(document: str, expected: int) -> None:
    assert await refusal(Limits(max_cost=1), document) == {"code": TOO_COMPLEX, "cost": expected, "limit": 1}


async def test_a_variable_counts_at_its_largest() -> None:
    extensions = await refusal(Limits(max_cost=1), "query ($k: Int) { node { items(first: $k) { n } } }", {"k": 2})
    assert extensions["cost"] == 1 + 1 + 100 * 1


async def test_a_query_within_the_limits_runs() -> None:
    result = await tiny_schema(Limits(max_cost=30)).execute("{ node { items(first: 3) { n } } }")
    assert result.errors is None and len(result.data["node"]["items"]) == 3


@pytest.mark.parametrize(
    ("limits", "document", "what", "value"),
    [
        (Limits(max_depth=3), "{ node { child { child { child { heavy } } } } }", "depth", 4),
        (Limits(max_aliases=2), "{ a: node { heavy } b: node { heavy } c: node { heavy } }", "aliases", 3),
        (Limits(max_aliases=2), "{ node { ...F ...F } } fragment F on Node { x: heavy y: heavy }", "aliases", 4),
    ],
)
async def test_depth_and_aliases(limits: Limits, document: str, what: str, value: int) -> None:
    assert await refusal(limits, document) == {
        "code": TOO_COMPLEX,
        what: value,
        "limit": getattr(limits, f"max_{what}"),
    }


def fan_out(levels: int, spreads: int) -> str:
    """Fragments that each spread the next one `spreads` times: tiny text, huge expansion."""
    fragments = [
        f"fragment F{i} on Node {{ child {{ {' '.join([f'...F{i + 1}'] * spreads)} }} }}" for i in range(levels)
    ]
    return "{ node { ...F0 } } " + " ".join(fragments) + f" fragment F{levels} on Node {{ heavy }}"


@pytest.mark.timeout(60)  # linear, it takes milliseconds; expanded, it would never end
async def test_a_fan_out_of_fragments_is_measured_without_expanding_it() -> None:
    document = fan_out(levels=30, spreads=3)  # 3^30 expanded fields
    extensions = await refusal(Limits(max_depth=100), document)
    assert extensions["code"] == TOO_COMPLEX and extensions["cost"] > 3**30


async def test_validation_is_cached_per_document() -> None:
    measured = []
    rule = Limits().rule()

    class Counting(rule):  # type: ignore[misc, valid-type]
        def enter_document(self, *args: object) -> object:
            measured.append(1)
            return super().enter_document(*args)

    schema = strawberry.Schema(Query, extensions=[lambda: AddValidationRules([Counting]), ValidationCache])
    for _ in range(3):
        assert (await schema.execute("{ node { heavy } }")).errors is None
    assert len(measured) == 1


async def test_graphiql_introspection_passes_the_default_limits(demo_store: NetworkxStore) -> None:
    result = await build_schema().execute(get_introspection_query(), context_value=Context.for_store(demo_store))
    assert result.errors is None


@pytest.mark.parametrize(
    "document",
    [
        "{ " + " ".join(f"a{i}: enterprises(first: 500) {{ nodes {{ coverageState }} }}" for i in range(50)) + " }",
        '{ organization(id: "GXQ") { ' + "children { " * 12 + "id" + " }" * 12 + " } }",
        (
            "{ coverageBy(by: BUILDING) { coverage { enterprises } } parks { buildings { name } coverage { uncovered } } "
            "enterprises(first: 500) { nodes { organizations { children { covers { name } } } } } }"
        ),
    ],
)
async def test_the_real_schema_refuses_heavy_documents(demo_store: NetworkxStore, document: str) -> None:
    result = await build_schema().execute(document, context_value=Context.for_store(demo_store))
    assert result.data is None
    assert {error.extensions["code"] for error in result.errors} == {TOO_COMPLEX}
