"""Look-ahead loading on a tiny schema: one batch per selected field, plain values after it."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
import strawberry
from strawberry.dataloader import DataLoader

from schema.lookahead import loaded, prefetch

pytestmark = pytest.mark.anyio


@dataclass
class Loaders:
    calls: list[list[int]] = field(default_factory=list)
    square: DataLoader = field(init=False)
    halves: DataLoader = field(init=False)

    def __post_init__(self) -> None:
        async def square(keys: list[int]) -> list[int]:
            self.calls.append(sorted(keys))
            return [key * key for key in keys]

        async def halves(keys: list[int]) -> list[list[int]]:
            self.calls.append(sorted(keys))
            return [[key // 2] if key > 1 else [] for key in keys]

        self.square = DataLoader(load_fn=square)
        self.halves = DataLoader(load_fn=halves)


@dataclass
class Context:
    loaders: Loaders = field(default_factory=Loaders)
    lookahead: dict = field(default_factory=dict)


@strawberry.type
class Number:
    n: int
    square: int = loaded("square", "n", lambda value: value)
    halves: list[Number] = loaded("halves", "n", lambda found: [Number(n=n) for n in found])


@strawberry.type
class Query:
    @strawberry.field
    async def numbers(self, info: strawberry.Info, upto: int) -> list[Number]:
        items = [Number(n=n) for n in range(1, upto + 1)]
        await prefetch(info, items)
        return items

    @strawberry.field
    def number(self, n: int) -> Number:
        return Number(n=n)


schema = strawberry.Schema(Query)


async def run(query: str) -> tuple[dict, list[list[int]]]:
    context = Context()
    result = await schema.execute(query, context_value=context)
    assert result.errors is None, result.errors
    return result.data, context.loaders.calls


async def test_a_list_loads_each_selected_field_once_for_all_items() -> None:
    data, calls = await run("{ numbers(upto: 4) { n square } }")
    assert [item["square"] for item in data["numbers"]] == [1, 4, 9, 16]
    assert calls == [[1, 2, 3, 4]]


async def test_fields_not_selected_are_not_loaded() -> None:
    _, calls = await run("{ numbers(upto: 3) { n } }")
    assert calls == []


async def test_nested_lists_load_one_level_at_a_time() -> None:
    data, calls = await run("{ numbers(upto: 6) { halves { n square halves { n } } } }")
    assert data["numbers"][5] == {"halves": [{"n": 3, "square": 9, "halves": [{"n": 1}]}]}
    # halves of 1..6 in one batch; then the squares of the halves (their halves are known already)
    assert calls == [[1, 2, 3, 4, 5, 6], [1, 2, 3]]


@pytest.mark.parametrize(
    "query",
    [
        "{ numbers(upto: 3) { ...F } } fragment F on Number { square }",
        "{ numbers(upto: 3) { ... on Number { square } } }",
        "{ numbers(upto: 3) { a: square b: square } }",
    ],
)
async def test_fragments_and_aliases_are_seen(query: str) -> None:
    _, calls = await run(query)
    assert calls == [[1, 2, 3]]


async def test_a_single_object_still_loads_its_field() -> None:
    data, calls = await run("{ a: number(n: 5) { square } b: number(n: 6) { square } }")
    assert data == {"a": {"square": 25}, "b": {"square": 36}}
    assert calls == [[5, 6]]  # batched by the DataLoader, not looked ahead
